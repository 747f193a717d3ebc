"""OpenBLAS spin control (no effect): Trainer throughput against the GEMM bound, NumPy path.
Usage: OPENBLAS_THREAD_TIMEOUT=4 python blas_spin.py 2   (the variable must be set before numpy loads)

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import os

os.environ.setdefault("NEURONET_KERNELS", "numpy")  # the NumPy path, as measured
import sys, time, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _bound import gemm_bound
import neuronet as nn
from threadpoolctl import threadpool_limits
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 784), dtype=np.float32)
y = rng.integers(0, 10, 20000)
S = [784, 512, 512, 10]; B = 128
def bound():
    return gemm_bound(X, S, B, rng)
def train():
    net = nn.mlp(S, hidden="relu", output="softmax", init="fan-in", seed=0)
    tr = nn.Trainer(net, "momentum", lr=0.01, momentum=0.9, epochs=1, batch_size=B, diagnostics=False)
    t = time.perf_counter(); tr.fit(X, y); return time.perf_counter() - t
th = int(sys.argv[1])
with threadpool_limits(th, "blas"):
    train(); b, n = [], []
    for r in range(5): b.append(bound()); n.append(train())
print(f"threads={th} TIMEOUT={__import__('os').environ.get('OPENBLAS_THREAD_TIMEOUT')} bound {np.median(b):.3f}s train {np.median(n):.3f}s ratio {np.median(b)/np.median(n):.2f}")
