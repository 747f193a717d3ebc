"""The optimizer step layer by layer inside backward, while each layer's gradient is in cache (inbwd),
against one step at the end (end).  Usage: python update_in_backward.py 2 inbwd

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import sys, time, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _bound import gemm_bound
import neuronet as nn
from neuronet import kernels, network
from neuronet.optim.sgd import Momentum
from threadpoolctl import threadpool_limits
kernels.warm_up(wait=True)
K = kernels.active()
mode = sys.argv[2]
rng = np.random.default_rng(0)
X = rng.standard_normal((30000, 784), dtype=np.float32)
Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 30000)]
S = [784, 512, 512, 10]; B = 128
net = nn.mlp(S, hidden="relu", output="softmax", init="fan-in", seed=0)
P = net.parameters
v = np.zeros_like(P.data)
# slices per layer: [W_i, b_i] contiguous
offs = list(P.offsets) + [P.size]
sl = [(offs[2*i], offs[2*i+2]) for i in range(3)]
lr, mu = np.float32(0.01), np.float32(0.9)
def upd(i):
    a, b = sl[i]
    K.momentum(P.data[a:b], P.grad[a:b], v[a:b], lr, mu)
def step(Xb, Yb):
    Z = net._run(Xb, True, None)
    net._loss_of(Z, Yb, None)
    out = net.layers[-1]; d = out.delta_buffer()
    np.subtract(Z, Yb, out=d); d *= 1.0 / B
    L = net.layers
    for i in range(len(L) - 1, -1, -1):
        below = L[i - 1].delta_buffer() if i else None
        L[i].backward(is_logit_grad=i == len(L) - 1, input_grad=below)
        if mode == "inbwd": upd(i)
    if mode == "end":
        K.momentum(P.data, P.grad, v, lr, mu)
def bound():
    return gemm_bound(X, S, B, rng)
xb = np.empty((B, 784), np.float32); yb = np.empty((B, 10), np.float32)
idx = rng.permutation(30000)
def epoch():
    t = time.perf_counter()
    for s in range(0, 30000 - B + 1, B):
        Xb = np.take(X, idx[s:s+B], axis=0, out=xb, mode="clip"); Yb = np.take(Y, idx[s:s+B], axis=0, out=yb, mode="clip")
        step(Xb, Yb)
    return time.perf_counter() - t
with threadpool_limits(int(sys.argv[1]), "blas"):
    epoch(); b, e = [], []
    for r in range(5): b.append(bound()); e.append(epoch())
print(f"threads {sys.argv[1]} {mode}: bound {np.median(b):.3f} epoch {np.median(e):.3f} ratio {np.median(b)/np.median(e):.3f}")
def trainer():
    n2 = nn.mlp(S, hidden="relu", output="softmax", init="fan-in", seed=0)
    tr = nn.Trainer(n2, "momentum", lr=0.01, momentum=0.9, epochs=1, batch_size=B, diagnostics=False, shuffle=True)
    t = time.perf_counter(); tr.fit(X, yl); return time.perf_counter() - t
yl = Y.argmax(1)
with threadpool_limits(int(sys.argv[1]), "blas"):
    trainer(); tt = []; ee = []
    for r in range(5): tt.append(trainer()); ee.append(epoch())
print(f"  lean epoch {np.median(ee):.3f}  Trainer.fit {np.median(tt):.3f}  ratio lean/trainer {np.median(ee)/np.median(tt):.3f}")
