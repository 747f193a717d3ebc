"""Data-parallel streams (rejected): one thread per core, each running forward/backward on half of the
mini-batch with 1-thread BLAS, barrier-synchronised; update serial (streams2) or split across the
streams (streams2par); against the serial engine and the GEMM bound.  Usage: python streams.py relu

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import sys, time, threading, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _bound import gemm_bound
import neuronet as nn
from neuronet.data import load
from threadpoolctl import threadpool_limits

ds = load("fashion-mnist", max_train=30000)
X, y = ds.X_train.astype(np.float32), ds.y_train
Y = np.eye(10, dtype=np.float32)[y]
B = 128

def make(hidden):
    return nn.mlp([784, 512, 512, 10], hidden=hidden, output="softmax", init="fan-in", seed=0)

def shadow_of(net):
    s = net.copy()
    s.parameters.data = net.parameters.data
    s.parameters._bind()
    s._bind_layers()
    return s

def part(net, Xb, Yb, denom):
    Z = net._run(Xb, True, None)
    loss = net._loss_of(Z, Yb, None)
    out = net.layers[-1]
    d = out.delta_buffer()
    np.subtract(Z, Yb, out=d)
    d *= 1.0 / denom
    L = net.layers
    for i in range(len(L) - 1, -1, -1):
        below = L[i - 1].delta_buffer() if i else None
        L[i].backward(is_logit_grad=i == len(L) - 1, input_grad=below)
    return loss

def serial_epoch(net, opt, idx, xbuf, ybuf):
    for s in range(0, len(idx) - B + 1, B):
        Xb = np.take(X, idx[s:s+B], axis=0, out=xbuf, mode="clip")
        Yb = np.take(Y, idx[s:s+B], axis=0, out=ybuf, mode="clip")
        net.loss_and_grads(Xb, Yb, None, train=True, validate=False)
        opt.step(net.parameters)

class Streams:
    def __init__(self, net, opt, k, par_update):
        self.net, self.opt, self.k = net, opt, k
        self.sh = [net] + [shadow_of(net) for _ in range(k - 1)]
        self.bar = threading.Barrier(k)
        self.par_update = par_update
        n = net.parameters.size
        self.cuts = [n * i // k for i in range(k + 1)]
        self.v = np.zeros(n, np.float32)
        self.work = None
        self.stop = False
        self.threads = [threading.Thread(target=self.loop, args=(i,), daemon=True) for i in range(1, k)]
        for t in self.threads: t.start()
    def loop(self, i):
        while True:
            self.bar.wait()
            if self.stop: return
            self.do(i)
            self.bar.wait()
            if self.par_update:
                self.upd(i)
                self.bar.wait()
    def do(self, i):
        Xb, Yb = self.work
        h = Xb.shape[0] // self.k
        part(self.sh[i], Xb[i*h:(i+1)*h], Yb[i*h:(i+1)*h], Xb.shape[0])
    def upd(self, i):
        a, b = self.cuts[i], self.cuts[i+1]
        g = self.net.parameters.grad[a:b]
        for s in self.sh[1:]:
            g += s.parameters.grad[a:b]
        g *= 0.01
        v = self.v[a:b]; v *= 0.9; v -= g
        self.net.parameters.data[a:b] += v
    def epoch(self, idx, xbufs, ybufs):
        for s in range(0, len(idx) - B + 1, B):
            Xb = np.take(X, idx[s:s+B], axis=0, out=xbufs, mode="clip")
            Yb = np.take(Y, idx[s:s+B], axis=0, out=ybufs, mode="clip")
            self.work = (Xb, Yb)
            self.bar.wait(); self.do(0); self.bar.wait()
            if self.par_update:
                self.upd(0); self.bar.wait()
            else:
                g = self.net.parameters.grad
                for sh in self.sh[1:]: g += sh.parameters.grad
                self.opt.step(self.net.parameters)

def bound(idx):
    return gemm_bound(X[: len(idx)], [784, 512, 512, 10], B, np.random.default_rng(0))

hidden = sys.argv[1] if len(sys.argv) > 1 else "relu"
idx = np.random.default_rng(1).permutation(X.shape[0])
xbuf = np.empty((B, 784), np.float32); ybuf = np.empty((B, 10), np.float32)
res = {k: [] for k in ["bound2", "serial2", "streams2", "streams2par", "bound1", "serial1"]}
for r in range(5):
    with threadpool_limits(2, "blas"):
        res["bound2"].append(bound(idx))
        net = make(hidden); opt = nn.optim.get_optimizer("momentum", lr=0.01, momentum=0.9) if hasattr(nn, "optim") else None
        t = time.perf_counter(); serial_epoch(net, opt, idx, xbuf, ybuf); res["serial2"].append(time.perf_counter() - t)
    with threadpool_limits(1, "blas"):
        res["bound1"].append(bound(idx))
        net = make(hidden); opt = nn.optim.get_optimizer("momentum", lr=0.01, momentum=0.9)
        t = time.perf_counter(); serial_epoch(net, opt, idx, xbuf, ybuf); res["serial1"].append(time.perf_counter() - t)
        for par, key in ((False, "streams2"), (True, "streams2par")):
            net = make(hidden); opt = nn.optim.get_optimizer("momentum", lr=0.01, momentum=0.9)
            st = Streams(net, opt, 2, par)
            t = time.perf_counter(); st.epoch(idx, xbuf, ybuf); res[key].append(time.perf_counter() - t)
            st.stop = True; st.bar.wait()
med = {k: float(np.median(v)) for k, v in res.items()}
for k, v in med.items():
    ref = med["bound2"] if k.endswith("2") or k.endswith("par") else med["bound1"]
    print(f"{hidden} {k:12s} {v:.3f}s  {ref/v:.2f}x bound")
