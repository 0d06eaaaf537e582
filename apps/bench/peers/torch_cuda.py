"""PyTorch peers of `nl-bench --device cuda`, measured in the same run on the same GPU.

Usage: python3 torch_cuda.py '<json spec>'  ->  prints one JSON object of results.
spec: {"device": "cuda:0", "gemm": [sizes], "adamw": {"params": [[rows, cols], ...]},
       "transformer": {"config": {...our model.config...}, "batch": B, "seq": T, "decodeTokens": n},
       "timeMs": t}
Exit code 3 (with {"error": ...}) when torch or a CUDA device is missing.
"""
import json
import sys
import time


def timed(fn, time_ms, sync):
    fn()
    sync()
    times = []
    budget = time_ms / 1000.0
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1000.0


def main():
    spec = json.loads(sys.argv[1])
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"torch not importable: {e}"}))
        sys.exit(3)
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device"}))
        sys.exit(3)
    dev = torch.device(spec.get("device", "cuda"))
    sync = torch.cuda.synchronize
    t_ms = spec.get("timeMs", 500)
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(dev), "gemm": [], "adamw": None}
    for n in spec.get("gemm", []):
        a = torch.randn(n, n, device=dev)
        b = torch.randn(n, n, device=dev)
        row = {"n": n}
        for mode, tf32 in (("fp32", False), ("tf32", True)):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            row[mode] = timed(lambda: torch.matmul(a, b), t_ms, sync)
        torch.backends.cuda.matmul.allow_tf32 = False
        ab, bb = a.bfloat16(), b.bfloat16()
        row["bf16"] = timed(lambda: torch.matmul(ab, bb), t_ms, sync)
        out["gemm"].append(row)
    ad = spec.get("adamw")
    if ad:
        ps = [torch.nn.Parameter(torch.randn(*s, device=dev)) for s in ad["params"]]
        for p in ps:
            p.grad = torch.randn_like(p)
        opt = torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.01, foreach=True)
        out["adamw"] = {"ms": timed(opt.step, t_ms, sync), "params": sum(p.numel() for p in ps)}
    tr = spec.get("transformer")
    if tr:
        import os
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_transformer import bench

        out["transformer"] = bench(tr["config"], str(dev), tr["batch"], tr["seq"], tr["decodeTokens"], t_ms)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
