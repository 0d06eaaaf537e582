"""PyTorch peers of the fused memory-op rows of `nl-bench --device cuda` (suites/cuda-peers.ts),
timed on the same GPU in the same run: forward + backward (autograd, loss = sum of o) of

  delta_chunked  the gated delta rule, chunk-parallel (WY / UT form, chunk 64, state fp32):
                 S_t = a_t (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T,  o_t = S_t^T q_t
  delta_naive    the same layer composed of torch ops, one token at a time (a shorter T)
  titans_chunked the Titans MLP memory (packages/memory/src/kernels/titans-mlp/ref.ts: mini-batch
                 chunks, gradients at the chunk-start weights, momentum and forgetting, read after
                 write) composed of torch ops, each chunk in parallel form

Usage: python3 torch_memory_cuda.py '<json spec>'  ->  one JSON line of results
       spec: {"device": "cuda", "timeMs": t, "delta": [shape...], "naive": shape, "titans": shape}
             shape: {"batch", "seq", "heads", "dim", "chunk", "hidden"?}
       python3 torch_memory_cuda.py --self-test  ->  checks delta_chunked and titans_chunked
             against float64 token-by-token loops on the CPU; exit 1 when one disagrees.
       python3 torch_memory_cuda.py --agree < {"kind": "delta"|"titans", "chunk", "inputs": [[shape,
             flat]...], "dO": flat}  ->  {"o", "grads"} of the chunked form in float64 on the CPU (the
             test that our fused kernels do the same work).
Exit code 3 (with {"error": ...}) when torch or a CUDA device is missing.

Delta rule chunk form, per chunk with start state S0, g_t = log(a_1 ... a_t), G[t, s] = exp(g_t - g_s):
    the written values u_t = b_t (v_t - a_t S_{t-1}^T k_t) solve (I + A) u = diag(b) (V - diag(e^g) K S0),
    A[t, s] = b_t G[t, s] k_t.k_s (s < t);  o = diag(e^g) Q S0 + (Q K^T * G)_{s<=t} u;
    S_C = e^{g_C} S0 + (K * e^{g_C - g})^T u.
Titans chunk form (per chunk, E_t = eta_1..eta_t, A_t = (1-alpha_1)..(1-alpha_t)):
    S_t = E_t S0 - sum_{s<=t} (E_t/E_s) theta_s u_s,   W_t = A_t W0 + d_t S0 - sum_{s<=t} M[t, s] theta_s u_s
    with d_t = (1-alpha_t) d_{t-1} + E_t and M[t, s] = (1-alpha_t) M[t-1, s] + E_t/E_s; u1_s = e_s a_s^T,
    u2_s = g_s k_s^T are rank one, so W_t q_t needs only dot products (no per-token weights).
"""
import json
import os
import sys
import time


# the gated delta rule is torch_delta.py's (shared with the CPU peer rows)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def delta_chunked(q, k, v, alpha, beta, s0, chunk=64):
    """o [B, T, H, Dv] and the final state [B, H, Dk, Dv], chunk-parallel (torch_delta.chunked)."""
    import torch_delta

    return torch_delta.chunked(q, k, v, alpha, beta, chunk, s0)


def delta_naive(q, k, v, alpha, beta, s0):
    """The same outputs one token at a time, the layer composed of torch ops (torch_delta.recurrence)."""
    import torch_delta

    return torch_delta.recurrence(q, k, v, alpha, beta, s0)


def titans_chunked(q, k, v, theta, eta, alpha, w1, w2, s1, s2, chunk=64):
    """Titans MLP memory, read after write: o [B, T, H, D] and the final w1, w2, s1, s2.
    w1, s1 [B, H, D, Dh]; w2, s2 [B, H, Dh, D]; T a multiple of `chunk`."""
    import torch

    silu = torch.nn.functional.silu
    b_, t_, h_, d = k.shape
    n = t_ // chunk
    assert n * chunk == t_, f"seq {t_} is not a multiple of chunk {chunk}"

    def blocks(x):
        return x.transpose(1, 2).reshape(b_, h_, n, chunk, *x.shape[3:])

    qc, kc, vc, th = blocks(q), blocks(k), blocks(v), blocks(theta)
    le = torch.cumsum(torch.log(blocks(eta)), -1)  # log E_t  [B, H, N, C]
    lower = torch.ones(chunk, chunk, dtype=torch.bool, device=q.device).tril()
    emat = (le[..., :, None] - le[..., None, :]).masked_fill(~lower, float("-inf")).exp()  # E_t/E_s
    keep = 1 - blocks(alpha)
    rows_m, rows_d, rows_a = [], [], []
    m_prev = torch.zeros_like(emat[..., 0, :])
    d_prev = torch.zeros_like(le[..., 0])
    a_prev = torch.ones_like(le[..., 0])
    for t in range(chunk):  # coefficient recurrences (gates only, all chunks at once)
        kt = keep[..., t]
        m_prev = kt[..., None] * m_prev + emat[..., t, :]
        d_prev = kt * d_prev + le[..., t].exp()
        a_prev = kt * a_prev
        rows_m.append(m_prev)
        rows_d.append(d_prev)
        rows_a.append(a_prev)
    m_all = torch.stack(rows_m, -2) * lower  # M [B, H, N, C, C]
    d_all, a_all = torch.stack(rows_d, -1), torch.stack(rows_a, -1)  # [B, H, N, C]
    outs = []
    for i in range(n):
        qi, ki, vi = qc[:, :, i], kc[:, :, i], vc[:, :, i]  # [B, H, C, D]
        ti, mi, di, ai = th[:, :, i], m_all[:, :, i], d_all[:, :, i, :, None], a_all[:, :, i, :, None]
        p = ki @ w2.transpose(-1, -2)  # [B, H, C, Dh]
        act = silu(p)
        e = ki + act @ w1.transpose(-1, -2) - vi  # [B, H, C, D]
        sig = torch.sigmoid(p)
        g = (e @ w1) * sig * (1 + p * (1 - sig))  # [B, H, C, Dh]
        mt = mi * ti[..., None, :]  # M[t, s] theta_s
        r = ai * (qi @ w2.transpose(-1, -2)) + di * (qi @ s2.transpose(-1, -2)) - (mt * (qi @ ki.transpose(-1, -2))) @ g
        z = silu(r)
        y = ai * (z @ w1.transpose(-1, -2)) + di * (z @ s1.transpose(-1, -2)) - (mt * (z @ act.transpose(-1, -2))) @ e
        outs.append(qi + y)
        cm, ce = (mi * ti[..., None, :])[..., -1, :], (emat[:, :, i] * ti[..., None, :])[..., -1, :]  # [B, H, C]
        eC, aC, dC = le[:, :, i, -1].exp()[..., None, None], ai[..., -1, :, None], di[..., -1, :, None]
        u1m, u1e = (e * cm[..., None]).transpose(-1, -2) @ act, (e * ce[..., None]).transpose(-1, -2) @ act
        u2m, u2e = (g * cm[..., None]).transpose(-1, -2) @ ki, (g * ce[..., None]).transpose(-1, -2) @ ki
        w1, w2 = aC * w1 + dC * s1 - u1m, aC * w2 + dC * s2 - u2m
        s1, s2 = eC * s1 - u1e, eC * s2 - u2e
    o = torch.stack(outs, 2).reshape(b_, h_, t_, d).transpose(1, 2)
    return o, w1, w2, s1, s2


def titans_loop(q, k, v, theta, eta, alpha, w1, w2, s1, s2, chunk):
    """Token-by-token Titans MLP memory (as ref.ts), for the self-test."""
    import torch

    silu = torch.nn.functional.silu
    outs = []
    for t in range(k.shape[1]):
        if t % chunk == 0:
            w1s, w2s = w1, w2
        kt, vt, qt = k[:, t], v[:, t], q[:, t]  # [B, H, D]
        p = torch.einsum("bhjd,bhd->bhj", w2s, kt)
        a = silu(p)
        e = kt + torch.einsum("bhdj,bhj->bhd", w1s, a) - vt
        sig = torch.sigmoid(p)
        g = torch.einsum("bhdj,bhd->bhj", w1s, e) * sig * (1 + p * (1 - sig))
        th, et, kp = theta[:, t, :, None, None], eta[:, t, :, None, None], 1 - alpha[:, t, :, None, None]
        s1 = et * s1 - th * e[..., :, None] * a[..., None, :]
        s2 = et * s2 - th * g[..., :, None] * kt[..., None, :]
        w1, w2 = kp * w1 + s1, kp * w2 + s2
        r = silu(torch.einsum("bhjd,bhd->bhj", w2, qt))
        outs.append(qt + torch.einsum("bhdj,bhj->bhd", w1, r))
    return torch.stack(outs, 1), w1, w2, s1, s2


def make_inputs(kind, shape, device, dtype, seed=0):
    """Leaf tensors distributed like suites/cuda-memory.ts's (requires_grad)."""
    import torch

    gen = torch.Generator(device="cpu").manual_seed(seed)
    b_, t_, h_, d = shape["batch"], shape["seq"], shape["heads"], shape["dim"]
    dh = shape.get("hidden", d)
    sc = d**-0.5

    def u(lo, hi, *s):
        x = lo + (hi - lo) * torch.rand(*s, generator=gen, dtype=torch.float64)
        return x.to(device=device, dtype=dtype).requires_grad_()

    row, gate = (b_, t_, h_, d), (b_, t_, h_)
    if kind == "delta":
        return [u(-sc, sc, *row), u(-sc, sc, *row), u(-0.5, 0.5, *row), u(0.9, 1, *gate), u(0, 1, *gate), u(-0.5, 0.5, b_, h_, d, d)]  # noqa: E501
    return [u(-0.5, 0.5, *row), u(-sc, sc, *row), u(-0.5, 0.5, *row), u(0, 0.1, *gate), u(0.5, 0.9, *gate), u(0, 0.05, *gate),  # noqa: E501
            u(-0.5, 0.5, b_, h_, d, dh), u(-0.5, 0.5, b_, h_, dh, d), u(-0.01, 0.01, b_, h_, d, dh), u(-0.01, 0.01, b_, h_, dh, d)]  # noqa: E501


def self_test():
    """Chunked forms (float32 and float64) vs float64 token loops on the CPU: outputs, final states
    and the gradients of sum(o * dO) with respect to every input. Returns the worst relative errors."""
    import torch

    worst = {}
    cases = [("delta", delta_chunked, lambda *x, chunk: delta_naive(*x), 16), ("titans", titans_chunked, titans_loop, 8)]
    for kind, fast, slow, chunk in cases:
        shape = {"batch": 2, "seq": 4 * chunk, "heads": 2, "dim": 6, "hidden": 5}
        ref_in = make_inputs(kind, shape, "cpu", torch.float64, seed=3)
        d_o = torch.rand(2, 4 * chunk, 2, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(9)) - 0.5
        ref_out = slow(*ref_in, chunk=chunk)
        (ref_out[0] * d_o).sum().backward()
        for dtype in (torch.float64, torch.float32):
            got_in = [x.detach().to(dtype).requires_grad_() for x in ref_in]
            got_out = fast(*got_in, chunk=chunk)
            (got_out[0] * d_o.to(dtype)).sum().backward()
            pairs = [(f"out{j}", a, b) for j, (a, b) in enumerate(zip(got_out, ref_out))]
            pairs += [(f"d{j}", a.grad, b.grad) for j, (a, b) in enumerate(zip(got_in, ref_in))]
            for name, a, b in pairs:
                err = ((a.double() - b).norm() / b.norm()).item()
                key = f"{kind} {name} {str(dtype).split('.')[-1]}"
                worst[key] = max(worst.get(key, 0.0), err)
    return worst


def timed(fn, time_ms, sync):
    """Median ms of fn() (each call ends with a device synchronize), after one warm-up call."""
    fn()
    sync()
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < time_ms / 1000.0:
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1000.0


def fwd_bwd(fn, ins):
    """One forward + backward of loss = sum of o; gradients dropped after."""

    def step():
        fn(*ins)[0].sum().backward()
        for x in ins:
            x.grad = None

    return step


def bench(spec):
    import torch

    dev = torch.device(spec.get("device", "cuda"))
    sync = torch.cuda.synchronize
    t_ms = spec.get("timeMs", 500)
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(dev), "delta": [], "titans": None}
    for sh in spec.get("delta", []):
        ins = make_inputs("delta", sh, dev, torch.float32)
        torch.cuda.reset_peak_memory_stats(dev)
        ms = timed(fwd_bwd(lambda *x: delta_chunked(*x, chunk=sh["chunk"]), ins), t_ms, sync)
        out["delta"].append({**sh, "ms": ms, "peakBytes": torch.cuda.max_memory_allocated(dev)})
    sh = spec.get("naive")
    if sh:
        ins = make_inputs("delta", sh, dev, torch.float32)
        out["naive"] = {**sh, "ms": timed(fwd_bwd(delta_naive, ins), t_ms, sync)}
    sh = spec.get("titans")
    if sh:
        ins = make_inputs("titans", sh, dev, torch.float32)
        out["titans"] = {**sh, "ms": timed(fwd_bwd(lambda *x: titans_chunked(*x, chunk=sh["chunk"]), ins), t_ms, sync)}
    return out


def agree(spec):
    """o and the gradients of sum(o * dO), chunked form, float64 on the CPU, for given inputs."""
    import torch

    ins = [torch.tensor(flat, dtype=torch.float64).reshape(shape).requires_grad_() for shape, flat in spec["inputs"]]
    fast = delta_chunked if spec["kind"] == "delta" else titans_chunked
    out = fast(*ins, chunk=spec["chunk"])
    (out[0] * torch.tensor(spec["dO"], dtype=torch.float64).reshape(out[0].shape)).sum().backward()
    return {"o": out[0].detach().flatten().tolist(), "grads": [x.grad.flatten().tolist() for x in ins]}


def main():
    if sys.argv[1:2] == ["--agree"]:
        print(json.dumps(agree(json.loads(sys.stdin.read()))))
        return
    if sys.argv[1:2] == ["--self-test"]:
        worst = self_test()
        bad = {k: e for k, e in worst.items() if e > (1e-10 if "float64" in k else 1e-4)}
        print(json.dumps({"ok": not bad, "worst": worst, "bad": bad}))
        sys.exit(1 if bad else 0)
    spec = json.loads(sys.stdin.read() if sys.argv[1] == "-" else sys.argv[1])
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"torch not importable: {e}"}))
        sys.exit(3)
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device"}))
        sys.exit(3)
    print(json.dumps(bench(spec)))


if __name__ == "__main__":
    main()
