"""The GEMM bound the prototypes in this folder compare against: the matrix products of one epoch alone.

The same products as benchmarks/bench_mlp.py's ``run_gemm_bound``, over the rows of ``X`` in order.
"""

import time

import numpy as np


def gemm_bound(X, sizes, batch, rng):
    """Seconds for the forward and backward GEMMs of one epoch of ``X`` through an MLP of ``sizes``."""
    Ws = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes, sizes[1:])]
    hs = [np.empty((batch, s), np.float32) for s in sizes[1:]]
    ds = [rng.standard_normal((batch, s), dtype=np.float32) * 0.01 for s in sizes[1:]]
    gs = [np.empty_like(W) for W in Ws]
    t = time.perf_counter()
    for a in range(0, X.shape[0] - batch + 1, batch):
        x = X[a : a + batch]
        h = x
        for W, o in zip(Ws, hs):
            np.matmul(h, W, out=o)
            h = o
        for i in range(len(Ws) - 1, -1, -1):
            np.matmul((x if i == 0 else hs[i - 1]).T, ds[i], out=gs[i])
            if i:
                np.matmul(ds[i], Ws[i].T, out=hs[i - 1])
    return time.perf_counter() - t
