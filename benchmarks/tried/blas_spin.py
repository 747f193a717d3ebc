"""OpenBLAS spin control (no effect): Trainer throughput against the GEMM bound, NumPy path.
Usage: OPENBLAS_THREAD_TIMEOUT=4 python blas_spin.py 2   (the variable must be set before numpy loads)

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import os

os.environ.setdefault("NEURONET_KERNELS", "numpy")  # the NumPy path, as measured
import sys, time, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
import neuronet as nn
from threadpoolctl import threadpool_limits
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 784), dtype=np.float32)
y = rng.integers(0, 10, 20000)
S = [784, 512, 512, 10]; B = 128
def bound():
    Ws = [rng.standard_normal((a, b), dtype=np.float32) * .05 for a, b in zip(S, S[1:])]
    hs = [np.empty((B, s), np.float32) for s in S[1:]]
    ds = [rng.standard_normal((B, s), dtype=np.float32) * .01 for s in S[1:]]
    gs = [np.empty_like(W) for W in Ws]
    t = time.perf_counter()
    for a in range(0, 20000 - B + 1, B):
        x = X[a:a+B]; hh = x
        for W, o in zip(Ws, hs): np.matmul(hh, W, out=o); hh = o
        for i in range(2, -1, -1):
            np.matmul((x if i == 0 else hs[i-1]).T, ds[i], out=gs[i])
            if i: np.matmul(ds[i], Ws[i].T, out=hs[i-1])
    return time.perf_counter() - t
def train():
    net = nn.mlp(S, hidden="relu", output="softmax", init="fan-in", seed=0)
    tr = nn.Trainer(net, "momentum", lr=0.01, momentum=0.9, epochs=1, batch_size=B, diagnostics=False)
    t = time.perf_counter(); tr.fit(X, y); return time.perf_counter() - t
th = int(sys.argv[1])
with threadpool_limits(th, "blas"):
    train(); b, n = [], []
    for r in range(5): b.append(bound()); n.append(train())
print(f"threads={th} TIMEOUT={__import__('os').environ.get('OPENBLAS_THREAD_TIMEOUT')} bound {np.median(b):.3f}s train {np.median(n):.3f}s ratio {np.median(b)/np.median(n):.2f}")
