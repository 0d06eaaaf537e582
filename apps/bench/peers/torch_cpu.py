"""PyTorch peers of the CPU suites of `nl-bench`, measured in the same run on the same cores.

Usage: python3 torch_cpu.py '<json spec>'  ->  prints one JSON object of results (the protocol of
torch_cuda.py); with the spec '-' it is read from stdin (large inputs).
spec: {"threads": n, "timeMs": t,
       "gemm": [sizes],                                   -> "gemm": [{"n", "ms"}]
       "deltaRule": {"seqLens": [T], "batch", "heads", "dim", "chunk"}
                                                          -> "deltaRule": [{"T", "fwdMs", "fwdBwdMs"}]
       "deltaCheck": {"q", "k", "v", "alpha", "beta", "dO": flat lists, "shape": [B, T, H, D], "chunk"}
                                                          -> "deltaCheck": {"o", "dq", "dk", "dv", "dalpha", "dbeta"}
       "transformer": {"config": {...our model.config...}, "batch": B, "seq": T, "decodeTokens": n}}
                                                          -> "transformer": torch_transformer.bench(...)
python3 torch_cpu.py --self-test: the chunked gated delta rule against the float64 token loop
(torch_delta.self_test); prints the relative errors, exit 1 if any is over 1e-5.
Exit code 3 (with {"error": ...}) when torch is missing. OMP_WAIT_POLICY defaults to PASSIVE here.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_cuda import timed  # noqa: E402


def delta_rows(torch, spec, t_ms):
    from torch_delta import chunked, inputs

    out = []
    for seq in spec["seqLens"]:
        x = inputs(spec["batch"], seq, spec["heads"], spec["dim"], seed=seq)
        leaves = [x[n].requires_grad_() for n in ("q", "k", "v", "alpha", "beta")]

        def fwd():
            with torch.no_grad():
                chunked(*leaves, chunk=spec["chunk"])

        def fwd_bwd():
            o, _ = chunked(*leaves, chunk=spec["chunk"])
            o.backward(x["dO"])
            for t in leaves:
                t.grad = None

        out.append({"T": seq, "fwdMs": timed(fwd, t_ms, lambda: None), "fwdBwdMs": timed(fwd_bwd, t_ms, lambda: None)})
    return out


def delta_check(torch, c):
    from torch_delta import chunked

    b_, t_, h_, d_ = c["shape"]
    t = lambda name, *s: torch.tensor(c[name], dtype=torch.float32).view(*s)  # noqa: E731
    names = ("q", "k", "v", "alpha", "beta")
    leaves = [t(n, b_, t_, h_, d_) if n in "qkv" else t(n, b_, t_, h_) for n in names]
    for x in leaves:
        x.requires_grad_()
    o, _ = chunked(*leaves, chunk=c["chunk"])
    o.backward(t("dO", b_, t_, h_, d_))
    res = {"o": o.detach().flatten().tolist()}
    res.update({f"d{n}": x.grad.flatten().tolist() for n, x in zip(names, leaves)})
    return res


def main():
    if sys.argv[1:] == ["--self-test"]:
        from torch_delta import self_test

        errs = self_test()
        print(json.dumps(errs))
        sys.exit(0 if max(errs.values()) < 1e-5 else 1)
    spec = json.loads(sys.stdin.read() if sys.argv[1] == "-" else sys.argv[1])
    # OpenMP threads that spin between ops collapse when the cores are shared (measured here: a
    # transformer-tiny train step 5x slower with 2 spinning threads on 2 busy cores); sleep instead.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"torch not importable: {e}"}))
        sys.exit(3)
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    t_ms = spec.get("timeMs", 500)
    out = {"torch": torch.__version__, "device": "cpu", "threads": torch.get_num_threads(), "blas": blas_note(torch)}
    if spec.get("gemm"):
        out["gemm"] = []
        for n in spec["gemm"]:
            a, b = torch.rand(n, n) - 0.5, torch.rand(n, n) - 0.5
            out["gemm"].append({"n": n, "ms": timed(lambda: torch.matmul(a, b), t_ms, lambda: None)})
    if spec.get("deltaRule"):
        out["deltaRule"] = delta_rows(torch, spec["deltaRule"], t_ms)
    if spec.get("deltaCheck"):
        out["deltaCheck"] = delta_check(torch, spec["deltaCheck"])
    tr = spec.get("transformer")
    if tr:
        from torch_transformer import bench

        out["transformer"] = bench(tr["config"], "cpu", tr["batch"], tr["seq"], tr["decodeTokens"], t_ms)
    print(json.dumps(out))


def blas_note(torch):
    """Which BLAS torch's CPU matmul calls: its build's BLAS_INFO and, for Debian's 'generic', the
    libblas.so.3 the alternatives system resolves to (reference BLAS runs ~10x slower than OpenBLAS)."""
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    info = m.group(1) if m else "unknown"
    lib = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    if info != "generic" or not os.path.exists(lib):
        return info
    return f"generic -> {os.path.basename(os.path.dirname(os.path.realpath(lib)))}"


if __name__ == "__main__":
    main()
