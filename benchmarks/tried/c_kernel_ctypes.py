"""The momentum kernel in C, loaded with ctypes, against the numba kernel the engine uses.

What a C kernel would change: no numba to import (its import and first call take about a second),
the same pass over memory.  The C source is compiled here with the compiler given (gcc, clang, or
``python -m ziglang cc`` from the ziglang wheel) into a temporary folder.
Usage:
    python c_kernel_ctypes.py N "gcc -O3 -march=native"          # N: flat buffer length
    python c_kernel_ctypes.py 669706 "python -m ziglang cc -O2 -march=native -nostdlib"

Prints the compile time, the library's load time and first call, whether it gives NumPy's bits,
the time per call (pointers cached, or taken from ``ndarray.ctypes.data`` at each call), and the
same for numba.  A measurement script behind a figure in benchmarks/README.md (section "Speed,
round 2", designs tried).
"""

import ctypes
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

SOURCE = """
void momentum_f32(long n, float *p, const float *g, float *v, float lr, float mu) {
    for (long i = 0; i < n; i++) { float vi = v[i] * mu - g[i] * lr; v[i] = vi; p[i] += vi; }
}
"""


def best(fn, k=200, rounds=5):
    ts = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(k):
            fn()
        ts.append((time.perf_counter() - t) / k * 1e6)
    return min(ts)


def main():
    n, cc = int(sys.argv[1]), shlex.split(sys.argv[2])
    tmp = pathlib.Path(tempfile.mkdtemp())
    (tmp / "k.c").write_text(SOURCE)
    t = time.perf_counter()
    subprocess.run([*cc, "-shared", "-fPIC", "-ffp-contract=off", str(tmp / "k.c"), "-o", str(tmp / "k.so")], check=True)
    print(f"compile {time.perf_counter() - t:.2f} s")
    t0 = time.perf_counter()
    f = ctypes.CDLL(str(tmp / "k.so")).momentum_f32
    f.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_float]
    f.restype = None
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    p, g, v = (rng.standard_normal(n, dtype=np.float32) for _ in range(3))
    p2, v2 = p.copy(), v.copy()
    lr, mu = np.float32(0.01), np.float32(0.9)
    t2 = time.perf_counter()
    f(n, p.ctypes.data, g.ctypes.data, v.ctypes.data, lr, mu)
    print(f"load {1e3 * (t1 - t0):.2f} ms, first call {1e3 * (time.perf_counter() - t2):.3f} ms")
    g2 = g * lr  # the engine's NumPy path, in its order
    v2 *= mu
    v2 -= g2
    p2 += v2
    print("same bits as NumPy:", np.array_equal(p, p2) and np.array_equal(v, v2))
    pd, gd, vd = p.ctypes.data, g.ctypes.data, v.ctypes.data
    print(f"C call, pointers cached: {best(lambda: f(n, pd, gd, vd, lr, mu)):.1f} us")
    print(f"C call, ndarray.ctypes.data at each call: {best(lambda: f(n, p.ctypes.data, g.ctypes.data, v.ctypes.data, lr, mu)):.1f} us")
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "src"))
    t = time.perf_counter()
    from neuronet import _jit

    _jit.momentum(p, g, v, lr, mu)
    print(f"numba: import and first call {time.perf_counter() - t:.3f} s; call {best(lambda: _jit.momentum(p, g, v, lr, mu)):.1f} us")


if __name__ == "__main__":
    main()
