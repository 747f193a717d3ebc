"""Does this machine run two CPU-bound processes as fast as one?  (A check behind the lecture's Dask figures.)

Times three kernels alone and then two at a time in a process pool, each with one BLAS thread:
a pure-Python loop, a loop of 64×64 GEMMs with tanh (the size of the lecture's small runs) and
a loop of 512×512 float32 GEMMs.  An "inflation" near 1.0 means two cores really give two
workers a core each; well above 1.0 would mean shared execution units or an oversubscribed host.

    python benchmarks/bench_parallel_scaling.py
"""

import time
from multiprocessing import Pool

import numpy as np
from threadpoolctl import threadpool_limits


def python_loop(_):
    t = time.perf_counter()
    s = 0
    for i in range(6_000_000):
        s += i * i
    return time.perf_counter() - t


def small_gemms(_):
    t = time.perf_counter()
    a = np.random.default_rng(0).random((64, 64))
    for _ in range(60_000):
        a = np.tanh(a @ a * 0.01)
    return time.perf_counter() - t


def large_gemms(_):
    t = time.perf_counter()
    a = np.random.default_rng(0).random((512, 512)).astype(np.float32)
    for _ in range(150):
        a @ a
    return time.perf_counter() - t


def main():
    with threadpool_limits(1):
        for f in (python_loop, small_gemms, large_gemms):
            alone = min(f(0) for _ in range(2))
            with Pool(2) as pool:
                together = float(np.median(pool.map(f, range(4))))
            ratio = together / alone
            print(f"{f.__name__}: alone {alone:.2f} s, two at once {together:.2f} s each -> inflation {ratio:.2f}")


if __name__ == "__main__":
    main()
