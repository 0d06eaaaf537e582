// Composite check against PyTorch: a 2-layer MLP with cross-entropy and a single-head causal
// attention block, built from nn modules, loaded with the parameters in the fixtures
// (tools/fixtures/gen_tensor_fixtures.py, float64), must reproduce torch's loss and every
// parameter and input gradient.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { io, nn, tensor, type Tensor, testing } from '../src/index.js';

const { assertClose } = testing;
const fixtures = join(import.meta.dirname, 'fixtures');
const tol = { rtol: 1e-10, atol: 1e-12 };

describe('MLP: Linear -> GELU -> Linear -> cross-entropy (ignoreIndex -100) vs PyTorch', () => {
  const { tensors: fx, metadata } = io.loadWithMetadata(join(fixtures, 'mlp.safetensors'));
  const cfg = JSON.parse(metadata.config) as { D: number; H: number; C: number };

  it.each([['erf', 'gelu'] as const, ['tanh', 'geluTanh'] as const])(
    'GELU (%s): loss and gradients of x, fc1, fc2',
    (form, activation) => {
      const mlp = new nn.MLP(cfg.D, cfg.H, { outFeatures: cfg.C, activation, dtype: 'float64' });
      mlp.loadStateDict({ 'fc1.weight': fx.w1, 'fc1.bias': fx.b1, 'fc2.weight': fx.w2, 'fc2.bias': fx.b2 });
      const x = fx.x.detach();
      x.requiresGrad = true;
      const logits = mlp.forward(x);
      assertClose(`${form} logits`, fx[`${form}.logits`], logits, tol);
      const loss = nn.functional.crossEntropy(logits, fx.targets, { ignoreIndex: -100 });
      assertClose(`${form} loss`, fx[`${form}.loss`], loss, tol);
      loss.backward();
      assertClose(`${form} grad x`, fx[`${form}.grad.x`], x.grad!, tol);
      assertClose(`${form} grad w1`, fx[`${form}.grad.w1`], mlp.fc1.weight.grad!, tol);
      assertClose(`${form} grad b1`, fx[`${form}.grad.b1`], mlp.fc1.bias!.grad!, tol);
      assertClose(`${form} grad w2`, fx[`${form}.grad.w2`], mlp.fc2.weight.grad!, tol);
      assertClose(`${form} grad b2`, fx[`${form}.grad.b2`], mlp.fc2.bias!.grad!, tol);
      // the ignored row contributes nothing to the input gradient
      expect((x.grad!.toArray() as number[][])[2].every((v) => v === 0)).toBe(true);
    },
  );
});

/** RMSNorm -> single-head causal attention -> output projection, plus the residual. */
class CausalAttention extends nn.Module {
  readonly norm: nn.RMSNorm;
  readonly wq: nn.Linear;
  readonly wk: nn.Linear;
  readonly wv: nn.Linear;
  readonly wo: nn.Linear;

  constructor(
    readonly dim: number,
    readonly composedSoftmax: boolean,
  ) {
    super();
    const o = { bias: false, dtype: 'float64' as const };
    this.norm = this.registerModule('norm', new nn.RMSNorm(dim, { eps: 1e-6, dtype: 'float64' }));
    this.wq = this.registerModule('wq', new nn.Linear(dim, dim, o));
    this.wk = this.registerModule('wk', new nn.Linear(dim, dim, o));
    this.wv = this.registerModule('wv', new nn.Linear(dim, dim, o));
    this.wo = this.registerModule('wo', new nn.Linear(dim, dim, o));
  }

  /** x [B, T, D] -> [B, T, D] */
  forward(x: Tensor): Tensor {
    const t = x.shape[1];
    const h = this.norm.forward(x); // [B, T, D]
    const [q, k, v] = [this.wq.forward(h), this.wk.forward(h), this.wv.forward(h)];
    const mask = tensor(
      Array.from({ length: t * t }, (_, i) => (i % t > Math.floor(i / t) ? -Infinity : 0)),
      { shape: [t, t], dtype: 'float64' },
    ); // [T, T]: -inf above the diagonal
    const scores = q
      .matmul(k.transpose(1, 2))
      .mul(1 / Math.sqrt(this.dim))
      .add(mask); // [B, T, T]
    let att: Tensor; // [B, T, T]
    if (this.composedSoftmax) {
      // softmax over the last dim from elementwise ops (max-shifted; exp(-inf) = 0)
      const e = scores.sub(scores.max(-1, true).detach()).exp();
      att = e.div(e.sum(-1, true));
    } else {
      att = scores.softmax(-1);
    }
    return this.wo.forward(att.matmul(v)).add(x);
  }
}

describe('causal attention block vs PyTorch', () => {
  const { tensors: fx, metadata } = io.loadWithMetadata(join(fixtures, 'attention.safetensors'));
  const cfg = JSON.parse(metadata.config) as { D: number };

  it.each([
    ['core softmax', false],
    ['softmax composed from exp/sum', true],
  ])('output, loss and gradients of x, norm, q, k, v, o (%s)', (_name, composed) => {
    const block = new CausalAttention(cfg.D, composed);
    block.loadStateDict({
      'norm.weight': fx['norm.weight'],
      'wq.weight': fx.wq,
      'wk.weight': fx.wk,
      'wv.weight': fx.wv,
      'wo.weight': fx.wo,
    });
    const x = fx.x.detach();
    x.requiresGrad = true;
    const out = block.forward(x);
    assertClose('out', fx.out, out, tol);
    const loss = out.mul(fx.probe).sum();
    assertClose('loss', fx.loss, loss, tol);
    loss.backward();
    assertClose('grad x', fx['grad.x'], x.grad!, tol);
    assertClose('grad norm.weight', fx['grad.norm.weight'], block.norm.weight!.grad!, tol);
    for (const name of ['wq', 'wk', 'wv', 'wo'] as const) {
      assertClose(`grad ${name}`, fx[`grad.${name}`], block[name].weight.grad!, tol);
    }
  });
});

describe('each fused op vs PyTorch (fixtures/ops.safetensors): output and every input gradient', () => {
  const fx = io.load(join(fixtures, 'ops.safetensors'));
  const F = nn.functional;
  const leaf = (t: Tensor): Tensor => {
    const l = t.detach();
    l.requiresGrad = true;
    return l;
  };
  const cases: [string, string[], (...xs: Tensor[]) => Tensor][] = [
    ['layerNorm', ['x', 'w', 'b'], (x, w, b) => F.layerNorm(x, w, b, 1e-5)],
    ['rmsNorm', ['x'], (x) => F.rmsNorm(x, null, 1e-6)],
    ['embedding', ['w'], (w) => F.embedding(fx['embedding.ids'], w)],
    ['conv', ['x', 'w', 'b'], (x, w, b) => F.causalConv1d(x, w, b)],
    [
      'crossEntropy',
      ['logits'],
      (l) => F.crossEntropy(l, fx['crossEntropy.targets'], { ignoreIndex: 1, reduction: 'sum' }),
    ],
  ];
  cases.push(
    ['sdpaCausal', ['q', 'k', 'v'], (q, k, v) => F.scaledDotProductAttention(q, k, v, { causal: true })],
    ['sdpa', ['q', 'k', 'v'], (q, k, v) => F.scaledDotProductAttention(q, k, v)],
  );
  it.each(cases)('%s', (name, inputs, op) => {
    const xs = inputs.map((k) => leaf(fx[`${name}.${k}`]));
    const y = op(...xs);
    assertClose(`${name} out`, fx[`${name}.out`], y, tol);
    y.mul(fx[`${name}.probe`]).sum().backward();
    inputs.forEach((k, i) => assertClose(`${name} grad ${k}`, fx[`${name}.grad.${k}`], xs[i].grad!, tol));
  });
});

describe('CausalSelfAttention (2 heads) vs PyTorch', () => {
  it('output and gradients of x and every projection', () => {
    const fx = io.load(join(fixtures, 'ops.safetensors'));
    const attn = new nn.CausalSelfAttention(8, 2, { dtype: 'float64' });
    attn.loadStateDict({
      'q.weight': fx['mha.wq'],
      'k.weight': fx['mha.wk'],
      'v.weight': fx['mha.wv'],
      'o.weight': fx['mha.wo'],
    });
    const x = fx['mha.x'].detach();
    x.requiresGrad = true;
    const y = attn.forward(x);
    assertClose('mha out', fx['mha.out'], y, tol);
    y.mul(fx['mha.probe']).sum().backward();
    assertClose('mha grad x', fx['mha.grad.x'], x.grad!, tol);
    for (const p of ['q', 'k', 'v', 'o'] as const) {
      assertClose(`mha grad w${p}`, fx[`mha.grad.w${p}`], attn[p].weight.grad!, tol);
    }
    expect(() => new nn.CausalSelfAttention(8, 3)).toThrow(/numHeads 3 must divide dim 8/);
    expect(() => attn.forward(x.reshape([10, 8]))).toThrow(/x must be \[B, T, 8\], got \[10, 8\]/);
  });
});
