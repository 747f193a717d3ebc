"""Training throughput of two source trees of neuronet, interleaved: is a refactoring free?

Each measurement is a fresh subprocess that imports neuronet from one tree (``PYTHONPATH``),
trains one epoch of the bench_mlp workload (784-512-512-10, batch 128, SGD momentum, softmax
cross-entropy, diagnostics off) on a Fashion-MNIST subset, and prints its time.  The trees
alternate (A, B, A, B, ...), so slow drifts of a shared machine hit both alike; the report gives
the median time of each and the ratio of medians.

    git worktree add /tmp/before <commit>
    python benchmarks/bench_versions.py /tmp/before/src src --repeats 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys, time
import numpy as np
from threadpoolctl import threadpool_limits
import neuronet as nn
from neuronet.data import load
n, threads, hidden = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ds = load("fashion-mnist", max_train=n, max_test=10, seed=0)
with threadpool_limits(threads, user_api="blas"):
    net = nn.mlp([784, 512, 512, 10], hidden=hidden, output="softmax", init="fan-in", seed=0)
    tr = nn.Trainer(net, "momentum", lr=0.01, momentum=0.9, epochs=1, batch_size=128, seed=0, diagnostics=False)
    t0 = time.perf_counter()
    tr.fit(ds.X_train, ds.y_train)
    print(time.perf_counter() - t0, nn.__file__)
"""


def measure(src: str, n: int, threads: int, hidden: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(threads), hidden], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if not out[1].startswith(str(Path(src).resolve())):
        raise SystemExit(f"imported neuronet from {out[1]}, not from {src}")
    return float(out[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before", help="the src/ folder of the first tree")
    ap.add_argument("after", help="the src/ folder of the second tree")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hidden", default="relu,sigmoid")
    a = ap.parse_args()
    for hidden in a.hidden.split(","):
        times = {"before": [], "after": []}
        for _ in range(a.repeats):
            for name in ("before", "after"):
                times[name].append(measure(getattr(a, name), a.samples, a.threads, hidden))
        mb, ma = statistics.median(times["before"]), statistics.median(times["after"])
        print(
            f"{hidden}, {a.threads} thread(s), {a.samples} samples, {a.repeats} interleaved repeats: "
            f"before {mb:.3f} s [{min(times['before']):.3f}-{max(times['before']):.3f}], "
            f"after {ma:.3f} s [{min(times['after']):.3f}-{max(times['after']):.3f}]; "
            f"throughput after/before = {mb / ma:.3f}"
        )


if __name__ == "__main__":
    main()
