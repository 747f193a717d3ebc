"""What handing out tasks costs the coordinator: ``backends.run_tasks`` on the processes backend.

Runs N trivial tasks (each returns its number) on 2 worker processes and reports the wall time and
the CPU time of the coordinating process itself, per task.  A lecture has 2,548 runs and a sweep
may have many more; the coordinator shares the cores with the workers, so its time per task is
taken from the runs.  Several sizes show whether that cost grows with the number of tasks.

    python benchmarks/bench_dispatch.py [N ...]          (default: 1000 4000 8000)

To compare with an older tree, put its ``src`` first on ``PYTHONPATH``.
"""

import resource
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    n: int

    @property
    def id(self) -> str:
        return str(self.n)


def work(task, threads):
    return task.n


class Sink:
    def __init__(self):
        self.got = 0

    def result(self, task, value):
        self.got += 1

    def failure(self, task, error):
        raise error

    def log(self, line):
        pass


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    from neuronet.backends import run_tasks

    sizes = [int(a) for a in sys.argv[1:]] or [1000, 4000, 8000]
    print("| tasks | wall (s) | coordinator CPU (s) | coordinator CPU per task (ms) |")
    print("|---:|---:|---:|---:|")
    for n in sizes:
        sink = Sink()
        c0, t0 = cpu_seconds(), time.perf_counter()
        run_tasks(work, [Task(i) for i in range(n)], sink, backend="processes", workers=2)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        assert sink.got == n
        print(f"| {n} | {wall:.2f} | {cpu:.2f} | {1e3 * cpu / n:.3f} |", flush=True)


if __name__ == "__main__":
    main()
