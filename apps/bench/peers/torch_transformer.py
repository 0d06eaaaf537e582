"""Transformer++ in PyTorch eager, the same shape as @nl/hope's TransformerLM (pre-norm RMSNorm,
RoPE, causal attention, SwiGLU MLP, no biases, untied head), for timing peers only: a train step
(forward, mean next-token cross-entropy, backward, AdamW) and a KV-cache decode at batch 1.
Built from the JSON config of our model (vocabSize, dim, layers, heads, mlpHidden, normEps, ropeBase).
"""
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rope(x, pos, base):  # x [B, H, T, Dh], pos [T]
    dh = x.shape[-1]
    inv = base ** (-torch.arange(0, dh, 2, device=x.device, dtype=torch.float32) / dh)
    ang = pos[:, None].float() * inv[None, :]  # [T, Dh/2]
    c, s = ang.cos(), ang.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h, self.base = c["dim"], c["heads"], c.get("ropeBase", 10000)
        eps = c.get("normEps", 1e-6)
        self.n1, self.n2 = RMSNorm(d, eps), RMSNorm(d, eps)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        hid = c["mlpHidden"]
        self.w1, self.w3, self.w2 = nn.Linear(d, hid, bias=False), nn.Linear(d, hid, bias=False), nn.Linear(hid, d, bias=False)

    def split(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.h, d // self.h).transpose(1, 2)

    def forward(self, x, pos, cache=None):
        h = self.n1(x)
        q, k, v = rope(self.split(self.q(h)), pos, self.base), rope(self.split(self.k(h)), pos, self.base), self.split(self.v(h))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        causal = cache is None or q.shape[2] > 1
        att = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            t, s = q.shape[2], k.shape[2]
            mask = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(s - t)
            att = att.masked_fill(~mask, float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(x.shape)
        x = x + self.o(y)
        h = self.n2(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class TransformerLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.emb = nn.Embedding(c["vocabSize"], c["dim"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["dim"], c.get("normEps", 1e-6))
        self.head = nn.Linear(c["dim"], c["vocabSize"], bias=False)

    def forward(self, ids, caches=None, start=0):
        x = self.emb(ids)
        pos = torch.arange(start, start + ids.shape[1], device=ids.device)
        for i, b in enumerate(self.blocks):
            x = b(x, pos, None if caches is None else caches[i])
        return self.head(self.norm(x))


def median_ms(fn, time_ms, sync):
    fn()
    sync()
    ts, start = [], time.perf_counter()
    while len(ts) < 3 or time.perf_counter() - start < time_ms / 1000:
        t0 = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2] * 1000


def bench(config, device, batch, seq, decode_tokens, time_ms):
    """{'trainMs', 'trainTokS', 'decodeTokS', 'params'} for the model of `config` on `device`."""
    torch.manual_seed(0)
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    m = TransformerLM(config).to(dev)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    ids = torch.randint(0, config["vocabSize"], (batch, seq + 1), device=dev)

    def step():
        logits = m(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    train_ms = median_ms(step, time_ms, sync)
    toks = torch.arange(decode_tokens, device=dev).remainder(config["vocabSize"]).view(1, -1)

    def decode():
        caches = [{} for _ in m.blocks]
        with torch.no_grad():
            for i in range(decode_tokens):
                m(toks[:, i : i + 1], caches, i)
        sync()

    dec_ms = median_ms(decode, time_ms, sync)
    return {
        "trainMs": train_ms,
        "trainTokS": batch * seq / (train_ms / 1000),
        "decodeTokS": decode_tokens / (dec_ms / 1000),
        "params": sum(p.numel() for p in m.parameters()),
    }
