"""The GEMM bound with the one pass no trainer can skip: the momentum update of every weight.

The bound of ``bench_mlp.py`` (and ``_bound.gemm_bound``) times the products of an epoch alone, on
weights that never change.  A real step must also read the gradients and the velocities and write
the weights and the velocities back (2.7 MB each for 784-512-512-10), which evicts part of what
the next products read.  This script times, interleaved, in one process: the bound; the same
products with the compiled momentum kernel over the flat buffer after each step (so the products
see freshly written weights); and the engine's epoch.  It prints the medians of the ratios.

Usage: python bound_with_update.py THREADS [ROUNDS]
"""

import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from _bound import BATCH, SIZES, epoch_workload, fit_one_epoch, gemm_bound, step_products


def _flat(sizes, batch, rng):
    """Random weights in one flat buffer ``P`` with matrix views ``Ws``, an empty buffer ``Z`` of the
    same layout with its views ``zs``, and the activations and fixed deltas of ``gemm_bound``."""
    n = sum(a * b for a, b in itertools.pairwise(sizes))
    P = rng.standard_normal(n, dtype=np.float32) * np.float32(0.05)
    Z = np.zeros_like(P)
    Ws, zs, o = [], [], 0
    for a, b in itertools.pairwise(sizes):
        Ws.append(P[o : o + a * b].reshape(a, b))
        zs.append(Z[o : o + a * b].reshape(a, b))
        o += a * b
    hs = [np.empty((batch, s), np.float32) for s in sizes[1:]]
    ds = [rng.standard_normal((batch, s), dtype=np.float32) * 0.01 for s in sizes[1:]]
    return P, Ws, Z, zs, hs, ds


def bound_with_update(X, sizes, batch, rng, momentum):
    """``gemm_bound``'s products, each weight matrix a view of one flat buffer updated after each step."""
    P, Ws, G, gs, hs, ds = _flat(sizes, batch, rng)
    V = np.zeros_like(P)
    lr, mu = np.float32(1e-6), np.float32(0.9)
    t = time.perf_counter()
    for a in range(0, X.shape[0] - batch + 1, batch):
        step_products(X[a : a + batch], Ws, hs, ds, lambda i, A, D: np.matmul(A.T, D, out=gs[i]))
        momentum(P, G, V, lr, mu)
    return time.perf_counter() - t


def _numpy_sgemm():
    """NumPy's own ``cblas_sgemm`` (from the OpenBLAS its wheel bundles), through ctypes."""
    import ctypes
    import glob
    import os

    lib = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas64_*.so"))[0])
    f = lib.scipy_cblas_sgemm64_
    i64, i32, f32, p = ctypes.c_int64, ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    f.argtypes = [i32, i32, i32, i64, i64, i64, f32, p, i64, p, i64, f32, p, i64]
    f.restype = None
    return f


def bound_with_fused_update(X, sizes, batch, rng, add):
    """As ``bound_with_update``, but each weight-gradient product writes ``v = mu*v - lr*A.T@D``
    itself (sgemm's alpha and beta), so the only extra pass is ``p += v``."""
    sgemm = _numpy_sgemm()
    P, Ws, V, vs, hs, ds = _flat(sizes, batch, rng)
    lr, mu = 1e-6, 0.9
    t = time.perf_counter()

    def into_velocity(i, A, D):  # C (k x n) = -lr * A.T @ D + mu * C; A is (batch x k), D (batch x n)
        C = vs[i]
        k, n = C.shape
        sgemm(101, 112, 111, k, n, batch, -lr, A.ctypes.data, k, D.ctypes.data, n, mu, C.ctypes.data, n)

    for a in range(0, X.shape[0] - batch + 1, batch):
        step_products(X[a : a + batch], Ws, hs, ds, into_velocity)
        add(P, V)
    return time.perf_counter() - t


def main():
    from neuronet import kernels

    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    kernels.warm_up(wait=True)
    momentum = kernels.active().momentum
    import numba

    @numba.njit(nogil=True)
    def add(p, v):
        for i in range(p.shape[0]):
            p[i] += v[i]

    X, y, rng = epoch_workload()
    ratios = []
    with threadpool_limits(threads, user_api="blas"):
        fit_one_epoch(X[:2000], y[:2000])
        for r in range(rounds):
            tb = gemm_bound(X, SIZES, BATCH, rng)
            tu = bound_with_update(X, SIZES, BATCH, rng, momentum)
            tf = bound_with_fused_update(X, SIZES, BATCH, rng, add)
            te, _ = fit_one_epoch(X, y)
            ratios.append((tb / tu, tb / te, tu / te, tb / tf))
            print(
                f"round {r}: bound {tb:.3f} s, bound + update {tu:.3f} s, bound + fused update {tf:.3f} s, "
                f"engine {te:.3f} s",
                flush=True,
            )
    med = np.median(np.array(ratios), axis=0)
    print(
        f"{threads} thread(s), medians of {rounds} rounds: bound + update {med[0]:.2f}x of the bound; "
        f"bound + update fused into the weight-gradient GEMMs {med[3]:.2f}x of the bound; "
        f"engine {med[1]:.2f}x of the bound, {med[2]:.2f}x of bound + update"
    )


if __name__ == "__main__":
    main()
