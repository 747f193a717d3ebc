"""Wall time of ``neuronet lecture`` and where its CPU goes: the coordinating process vs its workers.

Runs the command line in this process (so ``resource.getrusage`` can tell the coordinator's own
CPU time from its child processes') and prints one line.  The coordinator shares the cores with
the workers, so its CPU time is taken from the runs.  To compare with an older tree, put its
``src`` first on ``PYTHONPATH``; alternate the trees, as this machine's speed drifts.

    python benchmarks/bench_lecture_cpu.py OUT [more lecture options, e.g. --quick]
"""

import contextlib
import io
import resource
import sys
import time


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: python benchmarks/bench_lecture_cpu.py OUT [lecture options]")
    t = time.perf_counter()
    sys.argv = ["neuronet", "lecture", "--out", *sys.argv[1:]]
    from neuronet.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        cli()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"wall {time.perf_counter() - t:.1f} s; coordinator cpu {me.ru_utime + me.ru_stime:.1f} s; "
        f"workers cpu {kids.ru_utime + kids.ru_stime:.1f} s"
    )


if __name__ == "__main__":
    main()
