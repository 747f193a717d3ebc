"""Gathering shuffled batches in chunks: one ``np.take`` for CH batches' rows, each batch then a view.

The loop of ``Trainer._run_epoch`` for scikit-learn's defaults on Fashion-MNIST (Adam, batch 200,
a (10,) tanh network, softmax output), with the gather per batch (CH = 0) or per CH batches.
Usage:
    python gather_chunks.py 10 tanh 0      # hidden sizes, unit, CH (0: per batch) [, BLAS threads]

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
import time
import numpy as np
from threadpoolctl import threadpool_limits
import neuronet as nn
from neuronet import kernels
from neuronet.data import load
kernels.warm_up(wait=True)
d = load("fashion-mnist")
X = np.ascontiguousarray(d.X_train.reshape(len(d.X_train), -1), np.float32); y = d.y_train
X = (X - X.mean(0)) / (X.std(0) + 1e-6)
hid = [int(v) for v in sys.argv[1].split(",")]; act = sys.argv[2]; CH = int(sys.argv[3]); th=int(sys.argv[4]) if len(sys.argv)>4 else 2
net = nn.mlp([784, *hid, 10], hidden=act, output="softmax", init="fan-in", seed=0)
Y = np.eye(10, dtype=np.float32)[y]
opt = nn.Adam(lr=1e-3); opt.step(net.parameters)
B = 200; n = len(X)
xb = np.empty((B, 784), np.float32); yb = np.empty((B, 10), np.float32)
xc = np.empty((CH*B, 784), np.float32); yc = np.empty((CH*B, 10), np.float32)
def epoch(rep):
    idx = np.random.default_rng(rep).permutation(n)
    t0 = time.perf_counter()
    for s in range(0, n - B + 1, B):
        if CH == 0:
            Xb = np.take(X, idx[s:s+B], axis=0, out=xb, mode="clip")
            Yb = np.take(Y, idx[s:s+B], axis=0, out=yb, mode="clip")
        else:
            j = (s // B) % CH
            if j == 0:
                m = min(CH*B, n - s)
                np.take(X, idx[s:s+m], axis=0, out=xc[:m], mode="clip")
                np.take(Y, idx[s:s+m], axis=0, out=yc[:m], mode="clip")
            Xb, Yb = xc[j*B:(j+1)*B], yc[j*B:(j+1)*B]
        loss, out = net.loss_and_grads(Xb, Yb, train=True, validate=False, return_outputs=True)
        c = int(np.count_nonzero(out.argmax(axis=1) == y[idx[s:s+B]]))
        opt.step(net.parameters)
    return (time.perf_counter() - t0) / (n // B) * 1e3
with threadpool_limits(th, "blas"):
    epoch(0)
    print(sys.argv[1:], "ms/step", np.median([epoch(r) for r in range(1, 6)]))
