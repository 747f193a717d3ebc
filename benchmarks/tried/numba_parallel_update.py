"""The momentum update as a numba kernel: serial (seq) or parallel=True (par) beside OpenBLAS threads,
against NumPy's four passes.  Usage: python numba_parallel_update.py 2 par

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import os

os.environ.setdefault("NEURONET_KERNELS", "numpy")  # the NumPy path, as measured
import sys, time, os, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _bound import BATCH as B, SIZES as S, epoch_workload, fit_one_epoch, gemm_bound
import neuronet as nn
from neuronet.optim.sgd import Momentum
from threadpoolctl import threadpool_limits
import numba
mode = sys.argv[2]
@numba.njit(cache=True, nogil=True, fastmath=False)
def mom(p, g, v, lr, mu):
    for i in range(p.shape[0]):
        gi = g[i] * lr
        vi = v[i] * mu - gi
        v[i] = vi
        p[i] += vi
@numba.njit(cache=True, nogil=True, parallel=True)
def mom_par(p, g, v, lr, mu):
    n = p.shape[0]
    for c in numba.prange(2):
        for i in range(c * n // 2, (c + 1) * n // 2):
            gi = g[i] * lr
            vi = v[i] * mu - gi
            v[i] = vi
            p[i] += vi
orig = Momentum._update
def upd(self, params, grads, state):
    f = mom_par if mode == "par" else mom
    for p, g, v in zip(params, grads, state["velocity"]):
        f(p, g, v, np.float32(self.lr), np.float32(self.momentum))
if mode != "numpy":
    Momentum._update = upd
X, y, rng = epoch_workload()
def bound():
    return gemm_bound(X, S, B, rng)
def train():
    t, net = fit_one_epoch(X, y)
    return t, net.parameters.data.copy()
th = int(sys.argv[1])
with threadpool_limits(th, "blas"):
    train(); b, n = [], []
    for r in range(5): b.append(bound()); tt, w = train(); n.append(tt)
print(f"threads={th} mode={mode} TO={os.environ.get('OPENBLAS_THREAD_TIMEOUT')} bound {np.median(b):.3f}s train {np.median(n):.3f}s ratio {np.median(b)/np.median(n):.2f}")
