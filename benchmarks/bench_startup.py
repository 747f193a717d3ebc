"""Start-up latency: ``import neuronet`` plus the first training step, in fresh processes.

Workload: a 784-512-512-10 ReLU network (softmax, cross-entropy), SGD with momentum, one
mini-batch of 128 random float32 images, 2 BLAS threads.  Each measurement is a new Python
process; the child times itself from just before ``import neuronet`` (which imports NumPy) to
the end of the first optimizer step, and the parent times the whole process (interpreter start
and exit included).  Modes, interleaved:

- ``auto``: the default.  The fit is ten epochs over 60,000 samples, long enough that
  ``Trainer.fit`` starts loading the compiled kernels in the background (one epoch would not
  repay the load, ``kernels.expected_saving``, so it would never start); the first step runs
  on NumPy meanwhile (same bits).  The step's end is taken in ``lr_schedule``, which the
  trainer calls after every update; the process then stops.
- ``wait``: ``NEURONET_KERNELS=wait``: the kernels (numba, cached on disk) are loaded before the
  first step, which uses them.  This is "import plus first step, compiled kernels included".
- ``numpy``: ``NEURONET_KERNELS=numpy``: numba is never loaded.

Run it once beforehand so that numba's on-disk cache exists (the script does one untimed run
per mode first).  Figures: medians over ``--repeats`` processes per mode.

    python benchmarks/bench_startup.py --repeats 9
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import time
t0 = time.perf_counter()
import neuronet as nn
import numpy as np
from threadpoolctl import threadpool_limits
t_import = time.perf_counter()
n = {n}
rng = np.random.default_rng(0)
X = rng.random((n, 784), dtype=np.float32)
y = rng.integers(0, 10, n)
net = nn.mlp([784, 512, 512, 10], hidden="relu", output="softmax", init="fan-in", seed=0)
t_data = time.perf_counter()

class First(Exception):
    pass

def after_first_step(seen):
    raise First(time.perf_counter())

tr = nn.Trainer(net, "momentum", lr=0.01, momentum=0.9, epochs={epochs}, batch_size=128, diagnostics=False,
                lr_schedule=after_first_step)
try:
    with threadpool_limits(2, user_api="blas"):
        tr.fit(X, y)
except First as e:
    t_step = e.args[0]
print({{"import": t_import - t0, "step": (t_step - t0) - (t_data - t_import), "data": t_data - t_import,
       "kernels": nn.kernels.status()}})
"""


def once(mode: str) -> dict:
    env = {**os.environ, "NEURONET_KERNELS": mode}
    n = 60000 if mode == "auto" else 128
    t = time.perf_counter()
    epochs = 10 if mode == "auto" else 1
    r = subprocess.run(
        [sys.executable, "-c", CHILD.format(n=n, epochs=epochs)], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t
    out = eval(r.stdout.strip().splitlines()[-1], {})  # our own dict literal
    return {**out, "process": wall}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args(argv)
    modes = ("auto", "wait", "numpy")
    for m in modes:  # warm the disk cache (numba's and the OS page cache), untimed
        once(m)
    runs = {m: [] for m in modes}
    for _ in range(args.repeats):
        for m in modes:
            runs[m].append(once(m))
    print("| mode | import neuronet (s) | import + first step (s) | whole process (s) | kernels after the step |")
    print("|---|---:|---:|---:|---|")
    for m in modes:
        med = {k: statistics.median(r[k] for r in runs[m]) for k in ("import", "step", "process")}
        lo = min(r["step"] for r in runs[m])
        hi = max(r["step"] for r in runs[m])
        print(
            f"| {m} | {med['import']:.3f} | {med['step']:.3f} ({lo:.3f}-{hi:.3f}) | {med['process']:.3f} "
            f"| {runs[m][-1]['kernels']} |"
        )
    print(f"\nload average: {os.getloadavg()[0]:.2f}; {args.repeats} processes per mode, interleaved")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
