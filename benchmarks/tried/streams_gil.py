"""What two Python threads cost each other: the GEMMs of a half batch (64) alone and two at a time,
and the engine's loss_and_grads on a half batch alone and two at a time (1-thread BLAS).

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""
import sys, time, threading, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
import neuronet as nn
from threadpoolctl import threadpool_limits
rng = np.random.default_rng(0)
X = rng.standard_normal((30000, 784), dtype=np.float32)
Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 30000)]
def make(): return nn.mlp([784, 512, 512, 10], hidden="relu", output="softmax", init="fan-in", seed=0)
def work(net, h, steps, out):
    t = time.perf_counter()
    for s in range(steps):
        a = (s * h) % (30000 - h)
        net.loss_and_grads(X[a:a+h], Y[a:a+h], None, train=True, validate=False)
    out.append(time.perf_counter() - t)
def gemms(h, steps, out):
    S = [784, 512, 512, 10]
    Ws = [rng.standard_normal((a, b), dtype=np.float32) * .05 for a, b in zip(S, S[1:])]
    hs = [np.empty((h, s), np.float32) for s in S[1:]]
    ds = [rng.standard_normal((h, s), dtype=np.float32) * .01 for s in S[1:]]
    gs = [np.empty_like(W) for W in Ws]
    t = time.perf_counter()
    for s in range(steps):
        a = (s * h) % (30000 - h); x = X[a:a+h]; hh = x
        for W, o in zip(Ws, hs): np.matmul(hh, W, out=o); hh = o
        for i in range(2, -1, -1):
            np.matmul((x if i == 0 else hs[i-1]).T, ds[i], out=gs[i])
            if i: np.matmul(ds[i], Ws[i].T, out=hs[i-1])
    out.append(time.perf_counter() - t)
steps = 400
with threadpool_limits(1, "blas"):
    for h in (64, 128):
        o = []; gemms(h, steps, o); print(f"gemm h={h} alone {o[0]/steps*1e3:.2f} ms/step")
        o = []; work(make(), h, steps, o); print(f"net  h={h} alone {o[0]/steps*1e3:.2f} ms/step")
    for fn, name in ((lambda o: gemms(64, steps, o), "gemm"), (None, "net")):
        o = []
        if name == "gemm":
            ts = [threading.Thread(target=gemms, args=(64, steps, o)) for _ in range(2)]
        else:
            ts = [threading.Thread(target=work, args=(make(), 64, steps, o)) for _ in range(2)]
        t = time.perf_counter(); [x.start() for x in ts]; [x.join() for x in ts]; T = time.perf_counter() - t
        print(f"{name} h=64 two threads: {T/steps*1e3:.2f} ms per (2x64) step; per thread {[round(x/steps*1e3,2) for x in o]}")
with threadpool_limits(2, "blas"):
    o = []; gemms(128, steps, o); print(f"gemm h=128 2 BLAS threads {o[0]/steps*1e3:.2f} ms/step")
