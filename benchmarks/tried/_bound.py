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
        step_products(X[a : a + batch], Ws, hs, ds, lambda i, A, D: np.matmul(A.T, D, out=gs[i]))
    return time.perf_counter() - t


def step_products(x, Ws, hs, ds, weight_grad):
    """One step's products: forward into ``hs``; backward with the fixed deltas ``ds``, where
    ``weight_grad(i, A, D)`` makes layer ``i``'s weight gradient ``A.T @ D`` (or uses it)."""
    h = x
    for W, o in zip(Ws, hs):
        np.matmul(h, W, out=o)
        h = o
    for i in range(len(Ws) - 1, -1, -1):
        weight_grad(i, x if i == 0 else hs[i - 1], ds[i])
        if i:
            np.matmul(ds[i], Ws[i].T, out=hs[i - 1])


SIZES, BATCH = [784, 512, 512, 10], 128


def epoch_workload():
    """The prototypes' workload: 20,000 random images and labels, and the generator that made them."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 20000)
    return X, y, rng


def fit_one_epoch(X, y):
    """Seconds for one epoch of the Trainer (ReLU, softmax, momentum, diagnostics off), and the network."""
    import neuronet as nn

    net = nn.mlp(SIZES, hidden="relu", output="softmax", init="fan-in", seed=0)
    tr = nn.Trainer(net, "momentum", lr=0.01, momentum=0.9, epochs=1, batch_size=BATCH, diagnostics=False)
    t = time.perf_counter()
    tr.fit(X, y)
    return time.perf_counter() - t, net
