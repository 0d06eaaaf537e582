// nn.Module bookkeeping (names, modes, state dicts, dtype moves) and every layer's forward
// against a plain JS float64 reference; initialisers' ranges, statistics and reproducibility.
import { beforeEach, describe, expect, it } from 'vitest';
import { manualSeed, memory, nn, noGrad, type Tensor, tensor, testing, tidy } from '../src/index.js';

const { assertClose } = testing;
const f64 = { dtype: 'float64' as const };
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

beforeEach(() => manualSeed(1));

class Block extends nn.Module {
  readonly norm = this.registerModule('norm', new nn.RMSNorm(4, f64));
  readonly ff = this.registerModule('ff', new nn.MLP(4, 8, f64));
  forward(x: Tensor): Tensor {
    return this.ff.forward(this.norm.forward(x)).add(x);
  }
}

class Net extends nn.Module {
  readonly embed = this.registerModule('embed', new nn.Embedding(10, 4, f64));
  readonly block = this.registerModule('block', new Block());
  readonly drop = this.registerModule('drop', new nn.Dropout(0.1));
  readonly scale = this.registerParameter('scale', tensor([1, 1, 1, 1], f64));
  forward(ids: Tensor): Tensor {
    return this.drop.forward(this.block.forward(this.embed.forward(ids))).mul(this.scale);
  }
}

describe('Module', () => {
  it('lists parameters by dotted name, children and modules', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'embed.weight',
      'block.norm.weight',
      'block.ff.fc1.weight',
      'block.ff.fc1.bias',
      'block.ff.fc2.weight',
      'block.ff.fc2.bias',
    ]);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.numParameters()).toBe(4 + 40 + 4 + 32 + 8 + 32 + 4);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['embed', 'block', 'drop']);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '',
      'embed',
      'block',
      'block.norm',
      'block.ff',
      'block.ff.fc1',
      'block.ff.fc2',
      'drop',
    ]);
  });

  it('train/eval reach every descendant', () => {
    const net = new Net().eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends nn.Module {
      constructor(name: string, twice: boolean) {
        super();
        this.registerParameter(name, tensor([1], f64));
        if (twice) this.registerModule(name, new nn.Linear(1, 1));
      }
      forward(): void {}
    }
    expect(() => new Bad('a.b', false)).toThrow(/parameter name "a.b" must be non-empty and contain no '.'/);
    expect(() => new Bad('a', true)).toThrow(/'a' is already registered/);
    class NonLeaf extends nn.Module {
      constructor() {
        super();
        const w = tensor([1, 2], f64);
        w.requiresGrad = true;
        this.registerParameter('w', w.mul(2));
      }
      forward(): void {}
    }
    expect(() => new NonLeaf()).toThrow(/parameter 'w' must be a leaf tensor; pass t.detach\(\)/);
  });

  it('stateDict round trip into a fresh module reproduces the output', () => {
    const a = new Net().eval();
    manualSeed(99);
    const b = new Net().eval();
    const ids = tensor([1, 5, 9], { dtype: 'int32' });
    expect(arr(b.forward(ids))).not.toEqual(arr(a.forward(ids)));
    b.loadStateDict(a.stateDict());
    expect(arr(b.forward(ids))).toEqual(arr(a.forward(ids)));
    // loaded values are copies: changing a afterwards leaves b alone
    a.scale.view[0] = 5;
    expect(b.scale.view[0]).toBe(1);
  });

  it('strict loading names missing, unexpected and mis-shaped keys and changes nothing', () => {
    const net = new Net();
    const before = arr(net.block.ff.fc1.weight);
    const sd = { ...net.stateDict() };
    delete sd['block.norm.weight'];
    expect(() => net.loadStateDict(sd)).toThrow(/missing key\(s\) 'block.norm.weight'/);
    expect(() => net.loadStateDict({ ...net.stateDict(), extra: tensor([1]) })).toThrow(
      /unexpected key\(s\) 'extra'/,
    );
    const wrong: Record<string, Tensor> = {
      ...net.stateDict(),
      'block.ff.fc1.weight': tensor(new Array(32).fill(0), { shape: [4, 8], ...f64 }),
    };
    wrong['block.ff.fc1.bias'] = tensor(new Array(8).fill(3), f64);
    expect(() => net.loadStateDict(wrong)).toThrow(
      /'block.ff.fc1.weight' has shape \[4, 8\] in the state dict but \[8, 4\] in the module/,
    );
    expect(arr(net.block.ff.fc1.weight)).toEqual(before);
    expect(arr(net.block.ff.fc1.bias!)).not.toContain(3);
    expect(() => net.loadStateDict({ ...net.stateDict(), scale: [1, 2, 3, 4] as never })).toThrow(
      /'scale' is not a Tensor/,
    );
    const res = net.loadStateDict({ scale: tensor([2, 2, 2, 2], { dtype: 'float32' }) }, { strict: false });
    expect(res.unexpectedKeys).toEqual([]);
    expect(res.missingKeys).toHaveLength(6);
    expect(arr(net.scale)).toEqual([2, 2, 2, 2]); // converted from float32
  });

  it('buffers are saved, loaded and converted but not trained', () => {
    class WithBuffer extends nn.Module {
      readonly lin = this.registerModule('lin', new nn.Linear(2, 2));
      stats = this.registerBuffer('stats', tensor([0, 0], { dtype: 'float32' }));
      forward(): void {}
    }
    const m = new WithBuffer();
    expect(Object.keys(m.stateDict())).toEqual(['lin.weight', 'lin.bias', 'stats']);
    expect(m.parameters()).toHaveLength(2);
    expect(m.stats.requiresGrad).toBe(false);
    m.loadStateDict({ ...m.stateDict(), stats: tensor([3, 4], f64) });
    expect(arr(m.stats)).toEqual([3, 4]);
    m.to('float64');
    expect(m.stats.dtype).toBe('float64');
    expect(m.stats.requiresGrad).toBe(false);
    expect(m.namedBuffers()[0][1]).toBe(m.stats);
  });

  it('to(dtype) converts every parameter, keeps fields and tying in sync', () => {
    class Tied extends nn.Module {
      readonly a = this.registerModule('a', new nn.Linear(3, 3));
      readonly b = this.registerModule('b', new nn.Linear(3, 3));
      constructor() {
        super();
        this.b.replaceParameter('weight', this.a.weight);
      }
      forward(): void {}
    }
    const m = new Tied();
    expect(m.b.weight).toBe(m.a.weight);
    expect(m.parameters()).toHaveLength(3); // shared weight listed once
    expect(() => m.a.replaceParameter('weight', tensor([1]))).toThrow(/'weight' is \[3, 3\], got \[1\]/);
    expect(() => m.a.replaceParameter('nope', tensor([1]))).toThrow(/no parameter 'nope'/);
    const w32 = arr(m.a.weight);
    m.to('float64');
    expect(m.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad && p.isLeaf)).toBe(true);
    expect(m.a.weight).toBe(m.b.weight);
    expect(m.stateDict()['a.weight']).toBe(m.a.weight);
    expect(arr(m.a.weight)).toEqual(w32);
  });
});

describe('layers vs JS references', () => {
  it('Linear: y = x W^T + b, PyTorch init bounds', () => {
    const lin = new nn.Linear(3, 2, f64);
    const bound = 1 / Math.sqrt(3);
    expect(arr(lin.weight).every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(arr(lin.bias!).every((v) => Math.abs(v) <= bound)).toBe(true);
    const x = tensor(
      [
        [1, 2, 3],
        [-1, 0.5, 2],
      ],
      f64,
    );
    const [W, b] = [lin.weight.toArray() as number[][], arr(lin.bias!)];
    const want = (x.toArray() as number[][]).map((row) =>
      W.map((w, o) => w.reduce((s, v, i) => s + v * row[i], b[o])),
    );
    assertClose('Linear', tensor(want, f64), lin.forward(x));
    expect(new nn.Linear(3, 2, { bias: false }).bias).toBeNull();
    expect(() => new nn.Linear(0, 2)).toThrow(/inFeatures must be a positive integer, got 0/);
  });

  it('SwiGLU: down(silu(gate x) * up x)', () => {
    const ff = new nn.SwiGLU(3, 5, f64);
    const x = tensor([[0.5, -1, 2]], f64);
    const lin = (l: nn.Linear, v: number[]): number[] =>
      (l.weight.toArray() as number[][]).map((w) => w.reduce((s, wi, i) => s + wi * v[i], 0));
    const xv = arr(x);
    const g = lin(ff.gate, xv);
    const u = lin(ff.up, xv);
    const h = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
    assertClose('SwiGLU', tensor([lin(ff.down, h)], f64), ff.forward(x));
    expect(ff.namedParameters().map(([n]) => n)).toEqual(['gate.weight', 'up.weight', 'down.weight']);
  });

  it('MLP with relu; norms and conv modules match the functional ops', () => {
    const mlp = new nn.MLP(2, 3, { activation: 'relu', ...f64 });
    const x = tensor([[1, -2]], f64);
    const h = (mlp.fc1.weight.toArray() as number[][]).map((w, o) =>
      Math.max(0, w[0] * 1 + w[1] * -2 + arr(mlp.fc1.bias!)[o]),
    );
    const y = (mlp.fc2.weight.toArray() as number[][]).map((w, o) =>
      w.reduce((s, wi, i) => s + wi * h[i], arr(mlp.fc2.bias!)[o]),
    );
    assertClose('MLP relu', tensor([y], f64), mlp.forward(x));
    expect(() => new nn.MLP(2, 3, { activation: 'swish' as never })).toThrow(/unknown activation "swish"/);

    const z = tensor(
      [
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ],
      f64,
    ); // [1, 2, 3]
    const ln = new nn.LayerNorm(3, f64);
    assertClose('LayerNorm', nn.functional.layerNorm(z, ln.weight, ln.bias, 1e-5), ln.forward(z));
    const rms = new nn.RMSNorm(3, { elementwiseAffine: false, ...f64 });
    expect(rms.parameters()).toHaveLength(0);
    assertClose('RMSNorm', nn.functional.rmsNorm(z, null, 1e-6), rms.forward(z));
    const conv = new nn.CausalConv1d(3, 2, f64);
    expect(conv.weight.shape).toEqual([3, 2]);
    assertClose('CausalConv1d', nn.functional.causalConv1d(z, conv.weight, conv.bias), conv.forward(z));
  });

  it('Dropout drops in training and is the identity in eval', () => {
    const d = new nn.Dropout(0.5);
    const x = tensor(new Array(200).fill(1), f64);
    const y = arr(d.forward(x));
    expect(y.some((v) => v === 0) && y.some((v) => v === 2)).toBe(true);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(() => new nn.Dropout(1)).toThrow(/p must be in \[0, 1\)/);
  });
});

describe('init', () => {
  const big = (): Tensor => tensor(new Array(200 * 300).fill(0), { shape: [200, 300], ...f64 });
  const stats = (t: Tensor): { mean: number; sd: number; maxAbs: number } => {
    const v = arr(t);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    return { mean, sd, maxAbs: Math.max(...v.map(Math.abs)) };
  };

  it('fans and gains follow PyTorch', () => {
    expect(nn.init.fans([8, 3])).toEqual({ fanIn: 3, fanOut: 8 });
    expect(nn.init.fans([8, 3, 5])).toEqual({ fanIn: 15, fanOut: 40 });
    expect(nn.init.calculateGain('leakyRelu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(() => nn.init.fans([])).toThrow(/at least 1 dim/);
  });

  it('uniform-family bounds and normal-family spreads (60000 draws)', () => {
    const xb = Math.sqrt(6 / 500);
    const xu = stats(nn.init.xavierUniform_(big()));
    expect(xu.maxAbs).toBeLessThanOrEqual(xb);
    expect(xu.sd).toBeCloseTo(xb / Math.sqrt(3), 3);
    const ku = stats(nn.init.kaimingUniform_(big(), { nonlinearity: 'relu' }));
    expect(ku.maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    const n = stats(nn.init.normal_(big(), 2, 0.5));
    expect(n.mean).toBeCloseTo(2, 2);
    expect(n.sd).toBeCloseTo(0.5, 2);
    const kn = stats(nn.init.kaimingNormal_(big(), { mode: 'fanOut', nonlinearity: 'relu' }));
    expect(kn.sd).toBeCloseTo(Math.sqrt(2 / 200), 3);
    expect(arr(nn.init.ones_(tensor([0, 0], f64)))).toEqual([1, 1]);
    expect(arr(nn.init.zeros_(tensor([3, 3], f64)))).toEqual([0, 0]);
  });

  it('manualSeed makes initialisation repeatable', () => {
    manualSeed(5);
    const a = arr(new nn.Linear(4, 4).weight);
    manualSeed(5);
    const b = arr(new nn.Linear(4, 4).weight);
    expect(b).toEqual(a);
    expect(arr(new nn.Linear(4, 4).weight)).not.toEqual(a);
  });
});

describe('training steps', () => {
  it('forward, backward and a manual SGD step under tidy keep memory flat; loss falls', () => {
    const net = new Net();
    const ids = tensor([1, 2, 3, 4, 5, 6], { dtype: 'int32' });
    const targets = tensor([0, 1, 2, 3, 0, 1], { dtype: 'int32' });
    const step = (): number =>
      tidy(() => {
        net.zeroGrad();
        const loss = nn.functional.crossEntropy(net.forward(ids), targets);
        loss.backward();
        noGrad(() => {
          for (const p of net.parameters()) {
            const g = p.gradView!;
            p.view.forEach((v, i, a) => (a[i] = v - 0.1 * g[i]));
          }
        });
        return loss.item();
      });
    const first = step();
    const before = memory().numTensors;
    let last = first;
    for (let i = 0; i < 30; i++) last = step();
    expect(memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
  });
});

describe('memory', () => {
  it('layers keep only their output alive, with or without a tidy scope', () => {
    const layers: [string, nn.Module, Tensor][] = [
      ['Linear', new nn.Linear(3, 4, f64), tensor([[1, 2, 3]], f64)],
      ['MLP', new nn.MLP(3, 5, f64), tensor([[1, 2, 3]], f64)],
      ['SwiGLU', new nn.SwiGLU(3, 5, f64), tensor([[1, 2, 3]], f64)],
      [
        'CausalSelfAttention',
        new nn.CausalSelfAttention(4, 2, f64),
        tensor(
          [
            [
              [1, 2, 3, 4],
              [0, 1, 0, 1],
            ],
          ],
          f64,
        ),
      ],
    ];
    for (const [name, layer, x] of layers) {
      const before = memory().numTensors;
      const y = layer.forward(x);
      expect(memory().numTensors, name).toBe(before + 1);
      y.sum().backward(); // the graph still works after the intermediates were disposed
      expect(
        layer.parameters().every((p) => p.grad !== null),
        name,
      ).toBe(true);
    }
  });
});

describe('containers', () => {
  it('Sequential applies modules in order and names parameters by index', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 4, f64), new nn.RMSNorm(4, f64), new nn.Linear(4, 2, f64));
    expect(seq.namedParameters().map(([n]) => n)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '2.weight',
      '2.bias',
    ]);
    const x = tensor([[1, 2, 3]], f64);
    const want = seq.at(2).forward(seq.at(1).forward(seq.at(0).forward(x)));
    expect(arr(seq.forward(x))).toEqual(arr(want));
    expect(seq.at(-1)).toBe(seq.at(2));
    expect(() => seq.at(3)).toThrow(/index 3 out of range for 3 modules/);
  });

  it('ModuleList holds blocks for a manual loop', () => {
    const blocks = new nn.ModuleList([new Block(), new Block()]);
    expect(blocks.length).toBe(2);
    expect(blocks.namedParameters()[0][0]).toBe('0.norm.weight');
    let h = tensor([[0.1, 0.2, 0.3, 0.4]], f64);
    for (const b of blocks) h = b.forward(h);
    expect(h.shape).toEqual([1, 4]);
    expect(() => blocks.forward()).toThrow(/iterate over it/);
  });
});
