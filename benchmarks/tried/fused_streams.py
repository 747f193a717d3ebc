"""Data-parallel streams in compiled code: the whole training step without the interpreter.

The streams design of ``streams.py`` lost to the GIL (every NumPy call of each stream is a
hand-over).  Here each stream's forward and backward for its slice of the mini-batch is one numba
call (``stream``), which calls NumPy's own ``cblas_sgemm`` (the OpenBLAS its wheel bundles, by
pointer: the same library, thread pool and bits as ``np.matmul``) at one BLAS thread and writes
its own gradient buffer; the streams' gradients are summed on the way into the momentum update.
Two ways to run the streams: one ``parallel=True`` numba call per step (a prange over the streams,
then a prange over the parts of the flat buffer), or one Python thread per stream, each making one
nogil call per step, with the update in the caller.  No BLAS thread spins against element-wise work.

Compared in the same process with the GEMM bound (``_bound.gemm_bound``, NumPy's BLAS at the same
thread count) and with the engine's own epoch (``Trainer``, kernels on); first, ``stream``'s
gradient is checked against a plain float64 NumPy backprop.

Usage: python fused_streams.py THREADS [relu|sigmoid] [ROUNDS]
"""

import ctypes
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import prange
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from _bound import BATCH, SIZES, epoch_workload, fit_one_epoch, gemm_bound


def _numpy_sgemm():
    """NumPy's own ``cblas_sgemm`` (the OpenBLAS its wheel bundles), callable from numba."""
    import glob
    import os

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas64_*.so"))
    lib = ctypes.CDLL(libs[0])
    i64, i32, f32 = ctypes.c_int64, ctypes.c_int, ctypes.c_float
    proto = ctypes.CFUNCTYPE(None, i32, i32, i32, i64, i64, i64, f32, i64, i64, i64, i64, f32, i64, i64)
    return proto(ctypes.cast(lib.scipy_cblas_sgemm64_, ctypes.c_void_p).value)


_cblas_sgemm = _numpy_sgemm()
_jit = numba.njit(nogil=True, error_model="numpy", fastmath=False, cache=True)


@_jit
def gemm(ta, tb, A, B, C, beta, scratch, flags):
    """C = op(A) @ op(B) + beta * C for row-major arrays (rows may be strided): NumPy's own sgemm."""
    m, n = C.shape
    k = A.shape[0] if ta else A.shape[1]
    _cblas_sgemm(
        101,
        112 if ta else 111,
        112 if tb else 111,
        m,
        n,
        k,
        np.float32(1.0),
        A.ctypes.data,
        A.strides[0] // 4,
        B.ctypes.data,
        B.strides[0] // 4,
        np.float32(beta),
        C.ctypes.data,
        C.strides[0] // 4,
    )


@_jit
def back_unit(D, Hb, gb, relu):
    for j in range(gb.size):
        gb[j] = 0.0
    for r in range(D.shape[0]):
        for j in range(D.shape[1]):
            h = Hb[r, j]
            d = D[r, j] * (np.float32(h > 0) if relu else h * (np.float32(1.0) - h))
            D[r, j] = d
            gb[j] += d


@_jit
def stream(X, y, rows, W0, b0, W1, b1, W2, b2, G, H0, H1, Z, D2, D1, D0, xb, denom, relu, flags):
    """Forward and backward of one stream's rows; its gradient lands in the flat row ``G``."""
    scratch = np.empty(4, np.int32)
    m = rows.shape[0]
    for r in range(m):
        xb[r, :] = X[rows[r], :]
    o = 0
    gW0 = G[o : o + W0.size].reshape(W0.shape)
    o += W0.size
    gb0 = G[o : o + b0.size]
    o += b0.size
    gW1 = G[o : o + W1.size].reshape(W1.shape)
    o += W1.size
    gb1 = G[o : o + b1.size]
    o += b1.size
    gW2 = G[o : o + W2.size].reshape(W2.shape)
    o += W2.size
    gb2 = G[o : o + b2.size]
    # forward
    for H, W, b, inp in ((H0, W0, b0, xb), (H1, W1, b1, H0)):
        gemm(False, False, inp, W, H, 0.0, scratch, flags)
        for r in range(m):
            for j in range(H.shape[1]):
                v = H[r, j] + b[j]
                if relu:
                    H[r, j] = v if v > 0 else 0.0
                else:
                    H[r, j] = 1.0 / (1.0 + np.exp(-v))
    gemm(False, False, H1, W2, Z, 0.0, scratch, flags)
    loss = 0.0
    for r in range(m):
        mx = -np.inf
        for j in range(Z.shape[1]):
            Z[r, j] += b2[j]
            mx = max(mx, Z[r, j])
        s = 0.0
        for j in range(Z.shape[1]):
            e = np.exp(Z[r, j] - mx)
            Z[r, j] = e
            s += e
        for j in range(Z.shape[1]):
            p = Z[r, j] / s
            t = 1.0 if j == y[rows[r]] else 0.0
            if t:
                loss -= np.log(max(p, 1e-12))
            D2[r, j] = (p - t) / denom
    # backward
    gemm(True, False, H1, D2, gW2, 0.0, scratch, flags)
    gemm(False, True, D2, W2, D1, 0.0, scratch, flags)
    for j in range(b2.size):
        gb2[j] = 0.0
    for r in range(m):
        for j in range(b2.size):
            gb2[j] += D2[r, j]
    back_unit(D1, H1, gb1, relu)
    gemm(True, False, H0, D1, gW1, 0.0, scratch, flags)
    gemm(False, True, D1, W1, D0, 0.0, scratch, flags)
    back_unit(D0, H0, gb0, relu)
    gemm(True, False, xb, D0, gW0, 0.0, scratch, flags)
    return loss


@_jit
def update(P, V, Gs, lr, mu):
    """Momentum on a stretch of the flat buffer, the streams' gradients summed on the way."""
    S = Gs.shape[0]
    if S == 1:
        G0 = Gs[0]
        for i in range(P.shape[0]):
            vi = V[i] * mu - G0[i] * lr
            V[i] = vi
            P[i] += vi
    else:
        G0 = Gs[0]
        G1 = Gs[1]
        for i in range(P.shape[0]):
            g = G0[i] + G1[i]
            for s in range(2, S):
                g += Gs[s, i]
            vi = V[i] * mu - g * lr
            V[i] = vi
            P[i] += vi


@numba.njit(parallel=True, nogil=True, error_model="numpy", fastmath=False, cache=True)
def step(X, y, rows, P, V, Gs, W0, b0, W1, b1, W2, b2, H0s, H1s, Zs, D2s, D1s, D0s, xbs, lr, mu, relu, flags):
    S = Gs.shape[0]
    m = rows.shape[0] // S
    losses = np.zeros(S)
    for s in prange(S):
        losses[s] = stream(
            X,
            y,
            rows[s * m : (s + 1) * m],
            W0,
            b0,
            W1,
            b1,
            W2,
            b2,
            Gs[s],
            H0s[s],
            H1s[s],
            Zs[s],
            D2s[s],
            D1s[s],
            D0s[s],
            xbs[s],
            rows.shape[0],
            relu,
            flags,
        )
    n = P.shape[0]
    chunk = (n + S - 1) // S
    for c in prange(S):
        lo = c * chunk
        hi = min(n, lo + chunk)
        update(P[lo:hi], V[lo:hi], Gs[:, lo:hi], lr, mu)
    return losses.sum() / rows.shape[0]


def _flat_network(rng, streams):
    """Fan-in-initialised weights and zero biases in one flat buffer ``P`` (``views``: W0, b0, W1, ...),
    its velocity ``V`` and a gradient row per stream ``Gs``."""
    shapes = list(itertools.pairwise(SIZES))
    n = sum(a * b + b for a, b in shapes)
    P = np.zeros(n, np.float32)
    views, o = [], 0
    for a, b in shapes:
        W = P[o : o + a * b].reshape(a, b)
        W[...] = rng.standard_normal((a, b), dtype=np.float32) * np.float32(np.sqrt(1.0 / a))
        o += a * b
        views += [W, P[o : o + b]]
        o += b
    return P, np.zeros_like(P), np.zeros((streams, n), np.float32), views


def fused_epoch(X, y, streams, relu, lr=0.01, mu=0.9, seed=0):
    rng = np.random.default_rng(seed)
    P, V, Gs, views = _flat_network(rng, streams)
    m = BATCH // streams
    bufs = [np.empty((streams, m, w), np.float32) for w in (512, 512, 10, 10, 512, 512, 784)]
    flags = np.array([ord("N"), ord("T")], np.uint8)
    order = rng.permutation(X.shape[0])
    lr32, mu32 = np.float32(lr), np.float32(mu)
    numba.set_num_threads(streams)
    with threadpool_limits(1, user_api="blas"):
        step(X, y, order[:BATCH], P, V, Gs, *views, *bufs, lr32, mu32, relu, flags)  # compile/warm
        t = time.perf_counter()
        loss = 0.0
        for a in range(0, X.shape[0] - BATCH + 1, BATCH):
            loss = step(X, y, order[a : a + BATCH], P, V, Gs, *views, *bufs, lr32, mu32, relu, flags)
        return time.perf_counter() - t, loss


def threaded_epoch(X, y, streams, relu, lr=0.01, mu=0.9, seed=0):
    """The same step with Python threads: each stream one nogil call per step, the update in the caller."""
    import threading

    rng = np.random.default_rng(seed)
    P, V, Gs, views = _flat_network(rng, streams)
    m = BATCH // streams
    bufs = [[np.empty((m, w), np.float32) for w in (512, 512, 10, 10, 512, 512, 784)] for _ in range(streams)]
    flags = np.array([ord("N"), ord("T")], np.uint8)
    order = rng.permutation(X.shape[0])
    lr32, mu32 = np.float32(lr), np.float32(mu)
    starts = list(range(0, X.shape[0] - BATCH + 1, BATCH))
    go = [threading.Semaphore(0) for _ in range(streams)]
    done = threading.Semaphore(0)
    losses = np.zeros(streams)
    cur = [0]

    def run(s):
        while True:
            go[s].acquire()
            a = cur[0]
            if a < 0:
                return
            rows = order[a + s * m : a + (s + 1) * m]
            losses[s] = stream(X, y, rows, *views, Gs[s], *bufs[s], BATCH, relu, flags)
            done.release()

    workers = [threading.Thread(target=run, args=(s,), daemon=True) for s in range(1, streams)]
    for w in workers:
        w.start()
    with threadpool_limits(1, user_api="blas"):
        t = time.perf_counter()
        for a in starts:
            cur[0] = a
            for s in range(1, streams):
                go[s].release()
            losses[0] = stream(X, y, order[a : a + m], *views, Gs[0], *bufs[0], BATCH, relu, flags)
            for _ in range(1, streams):
                done.acquire()
            update(P, V, Gs, lr32, mu32)
        el = time.perf_counter() - t
    cur[0] = -1
    for s in range(1, streams):
        go[s].release()
    return el, losses.sum() / BATCH


def check_gradient(relu=True, m=64, seed=1):
    """Largest relative difference between ``stream``'s gradient and a plain NumPy backprop (float64)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 784), dtype=np.float32)
    y = rng.integers(0, 10, m).astype(np.int64)
    shapes = list(itertools.pairwise(SIZES))
    Ws = [rng.standard_normal(s, dtype=np.float32) * np.float32(0.05) for s in shapes]
    bs = [rng.standard_normal(s[1], dtype=np.float32) * np.float32(0.1) for s in shapes]
    G = np.zeros(sum(a * b + b for a, b in shapes), np.float32)
    bufs = [np.empty((m, w), np.float32) for w in (512, 512, 10, 10, 512, 512, 784)]
    flags = np.array([ord("N"), ord("T")], np.uint8)
    with threadpool_limits(1, user_api="blas"):
        stream(X, y, np.arange(m), Ws[0], bs[0], Ws[1], bs[1], Ws[2], bs[2], G, *bufs, m, relu, flags)
    f = (lambda z: np.maximum(z, 0)) if relu else (lambda z: 1 / (1 + np.exp(-z)))
    hs = [X.astype(np.float64)]
    for W, b in zip(Ws[:-1], bs[:-1]):
        hs.append(f(hs[-1] @ W + b))
    z = hs[-1] @ Ws[-1] + bs[-1]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d = (p - np.eye(10)[y]) / m
    grads = []
    for i in range(len(Ws) - 1, -1, -1):
        grads = [hs[i].T @ d, d.sum(0)] + grads
        if i:
            h = hs[i]
            d = (d @ Ws[i].T) * ((h > 0) if relu else h * (1 - h))
    ref = np.concatenate([g.ravel() for g in grads])
    return float(np.max(np.abs(G - ref)) / np.max(np.abs(ref)))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    hidden = sys.argv[2] if len(sys.argv) > 2 else "relu"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    print(
        f"gradient check: largest difference from float64 NumPy backprop {check_gradient(hidden == 'relu'):.1e} "
        "of the largest gradient"
    )
    X, y, rng = epoch_workload()
    y = y.astype(np.int64)
    rows = []
    for r in range(rounds):
        with threadpool_limits(threads, user_api="blas"):
            tb = gemm_bound(X, SIZES, BATCH, rng)
            te, _ = fit_one_epoch(X, y) if hidden == "relu" else (float("nan"), None)
        tf, loss = fused_epoch(X, y, threads, hidden == "relu")
        tt, loss2 = threaded_epoch(X, y, threads, hidden == "relu")
        print(
            f"round {r}: bound {tb:.3f} s, engine {te:.3f} s ({tb / te:.2f}x), "
            f"fused prange {threads} stream(s) {tf:.3f} s ({tb / tf:.2f}x of the bound), "
            f"Python threads {tt:.3f} s ({tb / tt:.2f}x); last losses {loss:.3f} {loss2:.3f}",
            flush=True,
        )
        rows.append((tb / te, tb / tf, tb / tt))
    if not rows:
        return
    med = np.median(np.array(rows), axis=0)
    print(f"medians of the ratios to the bound: engine {med[0]:.2f}, prange {med[1]:.2f}, Python threads {med[2]:.2f}")


if __name__ == "__main__":
    main()
