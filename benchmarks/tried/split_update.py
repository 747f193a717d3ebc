"""The momentum pass split between the training thread and a helper thread (the nogil numba kernel on
each half of the flat buffer), with and without OpenBLAS's spin timeout.  Usage:
    python split_update.py 2 split            # or: one
    OPENBLAS_THREAD_TIMEOUT=4 python split_update.py 2 split

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import os
import sys
import threading
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _bound import gemm_bound
import numpy as np
from threadpoolctl import threadpool_limits

import neuronet as nn
from neuronet import kernels

kernels.warm_up(wait=True)
K = kernels.active()
th, mode = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
N, B, S = 30000, 128, [784, 512, 512, 10]
X = rng.standard_normal((N, 784), dtype=np.float32)
Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, N)]
net = nn.mlp(S, hidden="relu", output="softmax", init="fan-in", seed=0)
P = net.parameters
v = np.zeros_like(P.data)
half = P.size // 2
lr, mu = np.float32(0.01), np.float32(0.9)
go, done = threading.Event(), threading.Event()


def helper():
    while True:
        go.wait()
        go.clear()
        K.momentum(P.data[half:], P.grad[half:], v[half:], lr, mu)
        done.set()


threading.Thread(target=helper, daemon=True).start()


def update():
    if mode == "split":
        go.set()
        K.momentum(P.data[:half], P.grad[:half], v[:half], lr, mu)
        done.wait()
        done.clear()
    else:
        K.momentum(P.data, P.grad, v, lr, mu)


def bound():
    return gemm_bound(X, S, B, rng)


xb, yb = np.empty((B, 784), np.float32), np.empty((B, 10), np.float32)
idx = rng.permutation(N)


def epoch():
    t = time.perf_counter()
    for s in range(0, N - B + 1, B):
        Xb = np.take(X, idx[s : s + B], axis=0, out=xb, mode="clip")
        Yb = np.take(Y, idx[s : s + B], axis=0, out=yb, mode="clip")
        net.loss_and_grads(Xb, Yb, validate=False, train=True)
        update()
    return time.perf_counter() - t


with threadpool_limits(th, "blas"):
    epoch()
    b, e = [], []
    for _ in range(5):
        b.append(bound())
        e.append(epoch())
to = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "unset")
print(f"threads {th} {mode} TIMEOUT={to}: bound {np.median(b):.3f} epoch {np.median(e):.3f} ratio {np.median(b) / np.median(e):.3f}")
