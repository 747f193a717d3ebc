"""Where a training step's time goes, phase by phase (take, GEMMs, element-wise kernels, softmax,
update), with the compiled kernels.  Usage: python step_phases.py 2

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import sys, time, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
import neuronet as nn
from neuronet import kernels
from threadpoolctl import threadpool_limits
kernels.warm_up(wait=True); K = kernels.active()
rng = np.random.default_rng(0)
N = 20000
X = rng.standard_normal((N, 784), dtype=np.float32)
Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, N)]
S = [784, 512, 512, 10]; B = 128
net = nn.mlp(S, hidden="relu", output="softmax", init="fan-in", seed=0)
P = net.parameters; v = np.zeros_like(P.data)
L = net.layers
T = {}
def tick(name, t0):
    t1 = time.perf_counter(); T[name] = T.get(name, 0) + t1 - t0; return t1
xb = np.empty((B, 784), np.float32); yb = np.empty((B, 10), np.float32)
idx = rng.permutation(N)
a_s = [np.empty((B, s), np.float32) for s in S[1:]]
d_s = [np.empty((B, s), np.float32) for s in S[1:]]
z_out = np.empty((B, 10), np.float32)
lr, mu = np.float32(0.01), np.float32(0.9)
def epoch():
    for s in range(0, N - B + 1, B):
        t = time.perf_counter()
        Xb = np.take(X, idx[s:s+B], axis=0, out=xb, mode="clip"); Yb = np.take(Y, idx[s:s+B], axis=0, out=yb, mode="clip")
        t = tick("take", t)
        h = Xb
        for i, Lr in enumerate(L):
            np.matmul(h, Lr.W, out=a_s[i]); t = tick("gemm", t)
            if i < 2: K.bias_relu(a_s[i], Lr.b, np.float32(0)); t = tick("ew", t)
            else:
                a_s[i] += Lr.b; Lr.unit.forward(a_s[i], z_out); t = tick("softmax", t)
            h = a_s[i]
        np.subtract(z_out, Yb, out=d_s[2]); d_s[2] *= 1.0 / B; t = tick("softmax", t)
        for i in range(2, -1, -1):
            if i < 2:
                K.back_relu(a_s[i], d_s[i], L[i].db, np.float32(0), np.float32(1)); t = tick("ew", t)
            else:
                np.sum(d_s[i], axis=0, out=L[i].db); t = tick("ew", t)
            prev = Xb if i == 0 else a_s[i-1]
            np.matmul(prev.T, d_s[i], out=L[i].dW); t = tick("gemm", t)
            if i: np.matmul(d_s[i], L[i].W.T, out=d_s[i-1]); t = tick("gemm", t)
        K.momentum(P.data, P.grad, v, lr, mu); t = tick("update", t)
th = int(sys.argv[1])
with threadpool_limits(th, "blas"):
    epoch(); T.clear()
    t0 = time.perf_counter(); epoch(); tot = time.perf_counter() - t0
steps = N // B
print(f"threads {th}: total {tot/steps*1e3:.2f} ms/step; " + ", ".join(f"{k} {v/steps*1e3:.3f}" for k, v in T.items()))
