"""OpenBLAS spin control (no effect): Trainer throughput against the GEMM bound, NumPy path.
Usage: OPENBLAS_THREAD_TIMEOUT=4 python blas_spin.py 2   (the variable must be set before numpy loads)

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import os

os.environ.setdefault("NEURONET_KERNELS", "numpy")  # the NumPy path, as measured
import sys, time, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _bound import BATCH as B, SIZES as S, epoch_workload, fit_one_epoch, gemm_bound
from threadpoolctl import threadpool_limits
X, y, rng = epoch_workload()
def bound():
    return gemm_bound(X, S, B, rng)
def train():
    return fit_one_epoch(X, y)[0]
th = int(sys.argv[1])
with threadpool_limits(th, "blas"):
    train(); b, n = [], []
    for r in range(5): b.append(bound()); n.append(train())
print(f"threads={th} TIMEOUT={__import__('os').environ.get('OPENBLAS_THREAD_TIMEOUT')} bound {np.median(b):.3f}s train {np.median(n):.3f}s ratio {np.median(b)/np.median(n):.2f}")
