"""Sweep benchmark: 16 training trials on a 2-worker Dask LocalCluster vs the serial backend.

Workload: ``experiment = "train"`` on digits, hidden layers 256-256, 150 epochs (a few
seconds per trial), a grid of 4 learning rates x 4 seeds = 16 trials.  Every backend
runs every trial with 1 BLAS thread (threadpoolctl), so the comparison is "one core
per trial" against "one core per trial, two at a time".  Each round runs each backend
into a fresh folder and checks that all backends gave the same numbers.

Reported per backend and round:

* end-to-end: the wall time of ``run_sweep`` (Dask: includes starting the LocalCluster
  and importing neuronet in the workers; every backend: writing the summary);
* trial span: first trial started to last trial finished, from the trial files;
* trial seconds: the sum of the trials' own wall times (grows when trials share cores).

    .venv/bin/python benchmarks/bench_sweep.py [--rounds 3] [--backends serial,dask] [--write-readme]

This is not a test; it measures.  It needs ``dask[distributed]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTION = "## Sweeps: Dask vs serial"
README_INTRO = (
    "# neuronet benchmarks\n\nLatest figures from the scripts in this folder; each section says how it was produced.\n"
)

SPEC = """\
experiment = "train"
seeds = [0, 1, 2, 3]
data = "digits"
metric = "test_accuracy"

[grid]
lr = [0.02, 0.05, 0.1, 0.2]

[fixed]
hidden = [256, 256]
epochs = {epochs}
"""


def load1() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def run_backend(backend, spec_path, workers):
    from neuronet.sweep import run_sweep

    out = Path(tempfile.mkdtemp(prefix=f"bench-sweep-{backend}-"))
    before = load1()
    t0 = time.perf_counter()
    outcome = run_sweep(spec_path, out, backend=backend, workers=workers, blas_threads=1, log=lambda line: None)
    wall = time.perf_counter() - t0
    recs = [json.loads(p.read_text()) for p in sorted((out / "trials").glob("*.json"))]
    assert outcome.complete and len(recs) == 16, f"{backend}: expected 16 finished trials, got {len(recs)}"
    starts = [_dt.datetime.fromisoformat(r["timing"]["started"]) for r in recs]
    ends = [_dt.datetime.fromisoformat(r["timing"]["finished"]) for r in recs]
    return {
        "backend": backend,
        "wall": wall,
        "span": (max(ends) - min(starts)).total_seconds(),
        "trial_seconds": sum(r["timing"]["seconds"] for r in recs),
        "load_before": before,
        "load_after": load1(),
        "metrics": {r["id"]: r["metrics"] for r in recs},
        "pids": len({r["pid"] for r in recs}),
        "blas": sorted({r["blas_threads"] for r in recs}),
    }


def machine() -> list[str]:
    import distributed
    import numpy
    from threadpoolctl import threadpool_info

    import neuronet

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    blas = sorted(
        {f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info() if i.get("user_api") == "blas"}
    )
    return [
        f"{os.cpu_count()} logical CPUs ({usable} usable), {platform.machine()}",
        f"BLAS: {', '.join(blas) or 'not loaded'}",
        f"Python {platform.python_version()}, numpy {numpy.__version__}, distributed {distributed.__version__}, "
        f"neuronet {neuronet.__version__}",
    ]


def section(rounds, args, command) -> str:
    by = {b: [r for r in rounds if r["backend"] == b] for b in args.backends}
    lines = [
        SECTION,
        "",
        f'16 trials of `neuronet.sweep` (`experiment = "train"` on digits, hidden 256-256, {args.epochs} '
        "epochs, 4 learning rates x 4 seeds), every trial with 1 BLAS thread. `dask` = a LocalCluster of "
        f"{args.workers} single-threaded worker processes started by the sweep; `serial` = one trial after "
        "another in one process. Every round checked that all backends produced the same numbers "
        "for every trial.",
        "",
        "| round | backend | end-to-end s | trial span s | sum of trial s | load avg before / after |",
        "|---|---|---|---|---|---|",
    ]
    for i in range(args.rounds):
        for b in args.backends:
            r = by[b][i]
            lines.append(
                f"| {i + 1} | {b} | {r['wall']:.1f} | {r['span']:.1f} | {r['trial_seconds']:.1f} | "
                f"{r['load_before']:.2f} / {r['load_after']:.2f} |"
            )
    lines.append("")
    if "serial" in by:
        for b in args.backends:
            if b == "serial":
                continue
            e2e = [s["wall"] / r["wall"] for s, r in zip(by["serial"], by[b])]
            span = [s["span"] / r["span"] for s, r in zip(by["serial"], by[b])]
            lines.append(
                f"Speedup of `{b}` over `serial` (serial time / {b} time), per round: end-to-end "
                f"{', '.join(f'{x:.2f}x' for x in e2e)} (median {statistics.median(e2e):.2f}x); "
                f"trial span {', '.join(f'{x:.2f}x' for x in span)} "
                f"(median {statistics.median(span):.2f}x)."
            )
        lines.append("")
    loads = [r["load_before"] for r in rounds]
    if max(loads) > 1.0:
        lines += [
            f"Caveat: the 1-minute load average before the runs was {min(loads):.2f} to {max(loads):.2f} "
            f"on {os.cpu_count()} logical CPUs (it includes the previous run's own load). Where other "
            "processes shared the CPUs, the parallel backend's workers did not have a free core each, so "
            "those rounds' speedups are lower than an idle machine gives; 'sum of trial s' well above the "
            "serial run's shows such rounds.",
            "",
        ]
    for n in args.note:
        lines += [f"Note: {n}", ""]
    lines += ["Machine:", ""]
    lines += [f"- {m}" for m in machine()]
    lines += [
        f"- Date: {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def write_readme(path: Path, text: str):
    """Replace (or append) our section in ``path``, keeping every other section as it is."""
    old = path.read_text() if path.exists() else README_INTRO  # re-read right before writing
    pattern = re.compile(rf"^{re.escape(SECTION)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", old, count=1).rstrip("\n") + "\n"
    else:
        new = old.rstrip("\n") + "\n\n" + text
    tmp = path.with_name(path.name + ".sweep.tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="rounds of every backend (default 3)")
    p.add_argument("--backends", default="serial,dask", help="comma-separated: serial, processes, dask")
    p.add_argument("--workers", type=int, default=2, help="workers of the parallel backends (default 2)")
    p.add_argument("--epochs", type=int, default=150, help="epochs per trial (default 150: a few seconds)")
    p.add_argument("--note", action="append", default=[], help="a line to add to the README section")
    p.add_argument("--write-readme", action="store_true", help=f"write/replace '{SECTION[3:]}' in README.md")
    p.add_argument("--readme", type=Path, default=HERE / "README.md", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    shown, skip = [], False
    for a in argv if argv is not None else sys.argv[1:]:  # the command, without the notes
        if skip or a == "--note" or a.startswith("--note="):
            skip = a == "--note"
            continue
        shown.append(a)
    command = "python benchmarks/bench_sweep.py " + " ".join(shown)

    spec_path = Path(tempfile.mkdtemp(prefix="bench-sweep-spec-")) / "spec.toml"
    spec_path.write_text(SPEC.format(epochs=args.epochs))
    rounds = []
    for i in range(args.rounds):
        order = args.backends if i % 2 == 0 else args.backends[::-1]  # alternate who goes first
        for b in order:
            r = run_backend(b, spec_path, args.workers)
            rounds.append(r)
            print(
                f"round {i + 1} {b:9s} end-to-end {r['wall']:6.1f} s  span {r['span']:6.1f} s  "
                f"sum of trials {r['trial_seconds']:6.1f} s  load {r['load_before']:.2f}/{r['load_after']:.2f}  "
                f"pids {r['pids']} blas {r['blas']}",
                flush=True,
            )
        ref = rounds[-len(order)]["metrics"]
        for r in rounds[-len(order) :]:
            assert r["metrics"] == ref, f"round {i + 1}: {r['backend']} gave other numbers than {order[0]}"
    text = section(rounds, args, command.strip())
    print()
    print(text)
    if args.write_readme:
        write_readme(args.readme, text)


if __name__ == "__main__":
    main()
