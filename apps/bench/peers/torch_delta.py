"""Gated delta rule in PyTorch, for the CPU bench's peer rows (torch_cpu.py):

    S_t = a_t (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T,    o_t = S_t^T q_t

(the spec of @nl/memory's deltaRuleReference: q, k, v [B, T, H, D], alpha, beta [B, T, H], no
scaling of q). `chunked` is the chunk-parallel (WY / UT) form a PyTorch user would write; backward
is autograd through it. `recurrence` is the token-by-token loop: in float64 the check of `chunked`
(`python3 torch_cpu.py --self-test`), and the "composed of torch ops" row of the CUDA bench
(torch_memory_cuda.py uses both, on whatever device the inputs are on).

Chunked form, per chunk of C tokens with start state S0 and in-chunk cumulative decay
g_t = a_1 ... a_t (G[t, s] = g_t / g_s for s <= t):
    the written values u_t = b_t (v_t - a_t S_{t-1}^T k_t) solve (I + A) u = diag(b) (V - diag(g) K S0),
    A[t, s] = b_t G[t, s] k_t.k_s for s < t (strictly lower), so with Tinv = (I + A)^-1:
        u = U - W S0,  U = Tinv diag(b) V,  W = Tinv diag(b g) K
    o = diag(g) Q S0 + (Q K^T * G, lower incl. diagonal) u
    S_C = g_C S0 + (K * (g_C / g))^T u
"""
import torch


def recurrence(q, k, v, alpha, beta, s0=None):
    """o [B, T, H, Dv] and the final state [B, H, Dk, Dv], one token at a time (any dtype)."""
    b_, t_, h_, dk = k.shape
    dv = v.shape[-1]
    s = torch.zeros(b_, h_, dk, dv, dtype=k.dtype, device=k.device) if s0 is None else s0
    outs = []
    for t in range(t_):
        kt, vt, qt = k[:, t], v[:, t], q[:, t]  # [B, H, D]
        at, bt = alpha[:, t, :, None], beta[:, t, :, None]  # [B, H, 1]
        read = torch.einsum("bhij,bhi->bhj", s, kt)  # S^T k  [B, H, Dv]
        delta = bt * (vt - at * read)
        s = at[..., None] * s + kt[..., :, None] * delta[..., None, :]
        outs.append(torch.einsum("bhij,bhi->bhj", s, qt))
    return torch.stack(outs, 1), s


def chunked(q, k, v, alpha, beta, chunk=64, s0=None):
    """The same o and final state as `recurrence`, chunk by chunk (differentiable)."""
    b_, t_, h_, dk = k.shape
    dv = v.shape[-1]
    pad = (-t_) % chunk
    if pad:  # padded tokens keep the state: a = 1, b = 0, k = 0
        z = lambda x, val=0.0: torch.cat([x, x.new_full((b_, pad, *x.shape[2:]), val)], 1)  # noqa: E731
        q, k, v, alpha, beta = z(q), z(k), z(v), z(alpha, 1.0), z(beta)
    n = (t_ + pad) // chunk

    def blocks(x):  # [B, T, H, ...] -> [B, H, N, C, ...]
        return x.transpose(1, 2).reshape(b_, h_, n, chunk, *x.shape[3:])

    qc, kc, vc, bc = blocks(q), blocks(k), blocks(v), blocks(beta)
    g = torch.cumsum(torch.log(blocks(alpha)), -1)  # log g_t  [B, H, N, C]
    lower = torch.ones(chunk, chunk, dtype=torch.bool, device=q.device).tril()
    gdiff = (g[..., :, None] - g[..., None, :]).masked_fill(~lower, float("-inf")).exp()  # G  [.., C, C]
    kk = kc @ kc.transpose(-1, -2)  # [B, H, N, C, C]
    a_mat = (bc[..., None] * gdiff * kk).tril(-1)
    eye = torch.eye(chunk, dtype=q.dtype, device=q.device)
    t_mat = torch.linalg.solve_triangular(eye + a_mat, eye.expand_as(a_mat), upper=False, unitriangular=True)
    u_all = t_mat @ (bc[..., None] * vc)  # [B, H, N, C, Dv]
    w_all = t_mat @ ((bc * g.exp())[..., None] * kc)  # [B, H, N, C, Dk]
    attn = (qc @ kc.transpose(-1, -2)) * gdiff  # [B, H, N, C, C] (G is 0 above the diagonal)
    q_dec = qc * g.exp()[..., None]
    k_dec = kc * (g[..., -1:] - g).exp()[..., None]
    s = q.new_zeros(b_, h_, dk, dv) if s0 is None else s0
    outs = []
    for i in range(n):
        u = u_all[:, :, i] - w_all[:, :, i] @ s  # [B, H, C, Dv]
        outs.append(q_dec[:, :, i] @ s + attn[:, :, i] @ u)
        s = g[:, :, i, -1, None, None].exp() * s + k_dec[:, :, i].transpose(-1, -2) @ u
    o = torch.stack(outs, 2).reshape(b_, h_, n * chunk, dv).transpose(1, 2)
    return o[:, :t_], s


def inputs(batch, seq, heads, dim, seed=0, dtype=torch.float32):
    """Inputs distributed like the memory suite's: unit-norm q, k; v, dO uniform in [-0.5, 0.5);
    alpha in [0.9, 1); beta in [0, 1)."""
    gen = torch.Generator().manual_seed(seed)
    u = lambda *s: torch.rand(*s, generator=gen, dtype=dtype) - 0.5  # noqa: E731
    unit = lambda x: x / x.norm(dim=-1, keepdim=True)  # noqa: E731
    row = (batch, seq, heads, dim)
    return {
        "q": unit(u(*row)),
        "k": unit(u(*row)),
        "v": u(*row),
        "alpha": 0.95 + 0.1 * u(batch, seq, heads),
        "beta": 0.5 + u(batch, seq, heads),
        "dO": u(*row),
    }


def self_test():
    """Chunked (float32 and float64) vs the float64 recurrence: o, final state and the gradients of
    sum(o * dO) with respect to q, k, v, alpha, beta. Returns a dict with the worst relative errors."""
    worst = {}
    for seq, chunk in ((100, 16), (128, 64), (37, 64)):
        x64 = inputs(2, seq, 3, 8, seed=seq, dtype=torch.float64)
        names = ["q", "k", "v", "alpha", "beta"]
        ref_in = [x64[n].clone().requires_grad_() for n in names]
        o_ref, s_ref = recurrence(*ref_in)
        (o_ref * x64["dO"]).sum().backward()
        for dtype in (torch.float64, torch.float32):
            got_in = [x64[n].detach().to(dtype).clone().requires_grad_() for n in names]
            o, s = chunked(*got_in, chunk=chunk)
            (o * x64["dO"].to(dtype)).sum().backward()
            pairs = [("o", o, o_ref), ("state", s, s_ref)]
            pairs += [(f"d{n}", a.grad, b.grad) for n, a, b in zip(names, got_in, ref_in)]
            for name, a, b in pairs:
                err = ((a.double() - b).norm() / b.norm()).item()
                key = f"{name} {str(dtype).split('.')[-1]}"
                worst[key] = max(worst.get(key, 0.0), err)
    return worst
