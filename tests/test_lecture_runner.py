"""The lecture runner: runs on any backend give the same numbers, and a killed lecture resumes run by run."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass

import pytest

from neuronet.experiments.runner import run_lecture

NAMES = ["softmax-derivatives", "sigmoid-facts"]  # two small Designs: 3 runs and 1 run in quick mode


def _quiet(*a, **k):
    pass


def _numbers(outcome):
    return {n: (r.verdict, r.metrics, r.checks) for n, r in outcome.results.items()}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    outcome = run_lecture(out, names=NAMES, quick=True, log=_quiet)
    assert not outcome.failed and set(outcome.results) == set(NAMES)
    return outcome


def test_processes_backend_gives_the_serial_numbers(tmp_path, serial):
    outcome = run_lecture(tmp_path, names=NAMES, quick=True, backend="processes", workers=2, log=_quiet)
    assert _numbers(outcome) == _numbers(serial)
    assert outcome.ran == 4 and outcome.reused == 0  # 3 seeds of softmax-derivatives + 1 sigmoid-facts run


def test_auto_backend_resolves_by_cores_and_tasks(monkeypatch):
    from neuronet import backends

    monkeypatch.setattr(backends, "cores", lambda: 2)
    assert backends.resolve_backend("auto", 5) == ("processes", 2)
    assert backends.resolve_backend("auto", 1) == ("serial", None), "one task: worker processes only add start-up"
    assert backends.resolve_backend("auto", 0)[0] == "serial"
    assert backends.resolve_backend("auto", 5, workers=1) == ("serial", 1), "--workers 1 asks for no parallelism"
    assert backends.resolve_backend("auto", 5, scheduler="tcp://h:8786") == ("dask", None), "a scheduler means Dask"
    monkeypatch.setattr(backends, "cores", lambda: 1)
    assert backends.resolve_backend("auto", 5)[0] == "serial", "one core: nothing to spread over"
    assert backends.resolve_backend("auto", 5, workers=3) == ("processes", 3), "--workers asks for processes"
    monkeypatch.setattr(backends, "cores", lambda: 64)
    assert backends.resolve_backend("auto", 500) == ("processes", backends.AUTO_MAX_WORKERS), "auto is capped"
    assert backends.resolve_backend("auto", 500, workers=64) == ("processes", 64), "--workers is not capped"
    for b in ("serial", "processes", "dask"):
        assert backends.resolve_backend(b, 5, 3) == (b, 3) and backends.resolve_backend(b, 1) == (b, None)


def test_cores_honours_a_cgroup_cpu_quota(monkeypatch, tmp_path):
    from neuronet import backends

    real_open = open
    files = {"/sys/fs/cgroup/cpu.max": "150000 100000\n"}

    def fake_open(path, *a, **k):  # the cgroup files this test writes; the others do not exist
        if str(path).startswith("/sys/fs/cgroup"):
            if str(path) not in files:
                raise FileNotFoundError(path)
            f = tmp_path / "cgroup"
            f.write_text(files[str(path)])
            return real_open(f, *a, **k)
        return real_open(path, *a, **k)

    with monkeypatch.context() as m:
        m.setattr("builtins.open", fake_open)
        assert backends._cgroup_cpus() == 2, "1.5 CPUs of quota round up to 2"
        files["/sys/fs/cgroup/cpu.max"] = "max 100000\n"
        assert backends._cgroup_cpus() is None, "cgroup v2, no quota"
        del files["/sys/fs/cgroup/cpu.max"]
        files["/sys/fs/cgroup/cpu/cpu.cfs_quota_us"] = "300000\n"
        files["/sys/fs/cgroup/cpu/cpu.cfs_period_us"] = "100000\n"
        assert backends._cgroup_cpus() == 3, "cgroup v1"
        files["/sys/fs/cgroup/cpu/cpu.cfs_quota_us"] = "-1\n"
        assert backends._cgroup_cpus() is None, "cgroup v1, no quota"
    monkeypatch.setattr(backends, "_cgroup_cpus", lambda: 1)
    assert backends.cores() == 1, "a container limited to 1 CPU has 1 core, whatever the host has"
    monkeypatch.setattr(backends, "_cgroup_cpus", lambda: None)
    if hasattr(os, "sched_getaffinity"):
        assert backends.cores() == len(os.sched_getaffinity(0))


def test_auto_backend_runs_in_processes_with_the_serial_numbers(tmp_path, serial, monkeypatch):
    from neuronet import backends

    monkeypatch.setattr(backends, "cores", lambda: 2)
    lines = []
    outcome = run_lecture(tmp_path, names=NAMES, quick=True, backend="auto", log=lines.append)
    assert outcome.backend == "processes" and "4 to run on processes" in lines[0], lines[0]
    assert _numbers(outcome) == _numbers(serial)
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["backend"] == "processes", "results.json names the backend the runs went to, not 'auto'"
    again = run_lecture(tmp_path, names=NAMES, quick=True, backend="auto", log=_quiet)
    assert (again.ran, again.backend) == (0, "cached"), "nothing left to run: no worker processes"
    assert json.loads((tmp_path / "results.json").read_text())["backend"] == "cached"


def test_the_lecture_command_defaults_to_auto(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from neuronet import backends
    from neuronet.cli import app

    monkeypatch.setattr(backends, "cores", lambda: 2)
    plan = ["lecture", "--out", str(tmp_path), "--only", "softmax-derivatives", "--quick", "--dry-run"]
    r = CliRunner().invoke(app, plan)
    assert r.exit_code == 0 and "3 runs; 0 cached, 3 would run on processes" in r.stdout, r.output
    r = CliRunner().invoke(app, [*plan, "--workers", "1"])
    assert r.exit_code == 0 and "3 would run on serial" in r.stdout, r.output
    bad = CliRunner().invoke(app, ["lecture", "--out", str(tmp_path), "--backend", "mpi", "--dry-run"])
    assert bad.exit_code == 2 and "valid: auto, serial, processes, dask" in bad.output, bad.output


def test_dask_backend_gives_the_serial_numbers(tmp_path, serial):
    pytest.importorskip("distributed")
    outcome = run_lecture(tmp_path, names=NAMES, quick=True, backend="dask", workers=2, log=_quiet)
    assert _numbers(outcome) == _numbers(serial)


def test_a_rerun_reuses_every_run_and_force_recomputes(tmp_path):
    first = run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, log=_quiet)
    again = run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, log=_quiet)
    assert (again.ran, again.reused) == (0, 3) and _numbers(again) == _numbers(first)
    forced = run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, force=True, log=_quiet)
    assert (forced.ran, forced.reused) == (3, 0) and _numbers(forced) == _numbers(first)
    # a changed config is a different run: nothing is reused
    other = run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, seed=5, log=_quiet)
    assert other.reused == 0 and other.results["softmax-derivatives"].seeds == [5, 6, 7]


def test_a_failing_run_is_reported_and_the_other_experiments_complete(tmp_path, monkeypatch):
    from neuronet.experiments import get_experiment

    design = get_experiment("softmax-derivatives").design

    def broken(cfg, key):
        raise RuntimeError("boom")

    monkeypatch.setattr(design, "measure", broken)
    outcome = run_lecture(tmp_path, names=NAMES, quick=True, log=_quiet)
    assert "softmax-derivatives" in outcome.failed and "boom" in outcome.failed["softmax-derivatives"]
    assert set(outcome.results) == {"sigmoid-facts"}


def test_an_experiment_written_as_one_function_is_one_task(tmp_path):
    from dataclasses import dataclass

    from neuronet.experiments.base import EXPERIMENTS, Result, experiment

    @dataclass(frozen=True)
    class Config:
        seeds: tuple = (0, 1)

        @classmethod
        def quick(cls):
            return cls()

    @experiment("one-piece-test", "a claim", Config)
    def _run(cfg):
        return Result("one-piece-test", "a claim", "summed the seeds", "supported", "1 = 1", {"sum": sum(cfg.seeds)})

    try:
        first = run_lecture(tmp_path, names=["one-piece-test"], quick=True, log=_quiet)
        again = run_lecture(tmp_path, names=["one-piece-test"], quick=True, log=_quiet)
    finally:
        EXPERIMENTS.pop("one-piece-test")
    assert (first.ran, again.ran, again.reused) == (1, 0, 1)
    assert again.results["one-piece-test"].metrics == {"sum": 1} and again.results["one-piece-test"].seeds == [0, 1]


SLOW_DESIGN = textwrap.dedent(
    """
    import sys, time
    from dataclasses import dataclass
    from neuronet.experiments.design import Design, register_design
    from neuronet.experiments.runner import run_lecture
    from neuronet.stats import Check

    @dataclass(frozen=True)
    class Config:
        seeds: tuple = tuple(range(12))

        @classmethod
        def quick(cls):
            return cls()

    @register_design
    class Slow(Design):
        name, claim, config_cls = "slow-test", "runs take time", Config

        def runs(self, cfg):
            return [{"seed": s} for s in cfg.seeds]

        def measure(self, cfg, key):
            time.sleep(0.25)
            return {"x": key["seed"] * 2}

        def judge(self, cfg, measured):
            total = sum(d["x"] for _, d in measured)
            return [Check("sum", "the sum", "sum", total, None, "= 132", len(measured), total == 132, "a lost run")]

    out = run_lecture(sys.argv[1], names=["slow-test"], quick=True, log=lambda line: print(line, flush=True))
    print("RESULT", out.ran, out.reused, out.results["slow-test"].verdict, flush=True)
    """
)


def test_a_lecture_killed_mid_run_resumes_at_run_granularity(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_DESIGN)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, text=True)
    runs = out / "runs" / "slow-test"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.glob("*.json"))) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(runs.glob("*.json")))
    assert 4 <= done < 12, f"expected the kill to land mid-lecture, {done} runs were done"
    for f in runs.glob("*.json"):
        json.loads(f.read_text())  # every file on disk is complete (atomic writes)
    rerun = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    ran, reused, verdict = rerun.stdout.split("RESULT ")[1].split()
    assert int(reused) == done and int(ran) == 12 - done and verdict == "supported"


ORPHANS = """
import os, sys, time
from neuronet.backends import run_tasks


class Task:
    def __init__(self, i):
        self.id = str(i)


class Sink:
    def result(self, task, value): pass
    def failure(self, task, error): pass
    def log(self, line): pass


def slow(task, threads):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # like a long computation in C, deaf to Ctrl-C
    open(os.path.join(sys.argv[1], f"{os.getpid()}.pid"), "w").close()
    time.sleep(120)


if __name__ == "__main__":
    run_tasks(slow, [Task(i) for i in range(4)], Sink(), backend="processes", workers=2)
"""


STUBBORN = """
import os, sys, time
from neuronet import backends

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orphans import Sink, Task, slow


def no_watch(alive, starts=None):  # no pipe to watch: only the coordinator's own clean-up can stop these workers
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    backends._worker_start = no_watch
    try:
        backends.run_tasks(slow, [Task(i) for i in range(4)], Sink(), backend="processes", workers=2)
    except KeyboardInterrupt:
        open(os.path.join(sys.argv[1], "interrupted"), "w").close()
        time.sleep(60)  # the coordinator lives on: its workers must already be gone
"""


WARNS = """
import json, sys, warnings
from neuronet.backends import run_tasks


class Task:
    def __init__(self, i):
        self.id = str(i)


class Sink:
    def __init__(self):
        self.values, self.failures = {}, {}
    def result(self, task, value): self.values[task.id] = value
    def failure(self, task, error): self.failures[task.id] = type(error).__name__
    def log(self, line): pass


def warn(task, threads):
    class Local(UserWarning):
        pass

    warnings.warn("the same for every task", RuntimeWarning)
    warnings.warn(f"task {task.id} is odd", Local)
    return int(task.id) * 10


if __name__ == "__main__":
    sink = Sink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error" if "error" in sys.argv else "always")
        run_tasks(warn, [Task(i) for i in range(3)], sink, backend="processes", workers=2)
    print(json.dumps({"values": sink.values, "failures": sink.failures,
                      "warnings": sorted([w.category.__name__, str(w.message)] for w in caught)}))
"""


def test_warnings_raised_in_worker_processes_are_raised_again_once_each(tmp_path):
    script = tmp_path / "warns.py"
    script.write_text(WARNS)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["values"] == {"0": 0, "1": 10, "2": 20} and not out["failures"]
    assert out["warnings"] == [
        ["RuntimeWarning", "the same for every task"],  # three tasks raised it: shown once
        ["UserWarning", "Local: task 0 is odd"],  # a category made inside a function cannot travel: named
        ["UserWarning", "Local: task 1 is odd"],
        ["UserWarning", "Local: task 2 is odd"],
    ], out["warnings"]
    # where warnings are errors, each task fails as it would have run serially; the run goes on
    r = subprocess.run([sys.executable, str(script), "error"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # the first task to arrive fails on the shared warning; the others, which raised it too, on their own
    assert not out["values"] and sorted(out["failures"]) == ["0", "1", "2"], out
    assert sorted(out["failures"].values()) == ["RuntimeWarning", "UserWarning", "UserWarning"], out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _orphans(tmp_path, script=None):
    """The ORPHANS script (or ``script`` beside it), in its own process group: yields it and its two busy
    workers' pids, and kills whatever is left of them afterwards."""
    (tmp_path / "orphans.py").write_text(ORPHANS)
    path = tmp_path / ("orphans.py" if script is None else "main.py")
    if script is not None:
        path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path), str(tmp_path)], start_new_session=True)
    pids = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(tmp_path.glob("*.pid"))) < 2:
            time.sleep(0.05)
        pids = [int(p.stem) for p in tmp_path.glob("*.pid")]
        assert len(pids) == 2, "two workers should be running a task"
        yield proc, pids
    finally:
        proc.kill()
        _gone_within(pids, 0)


def _gone_within(pids, seconds) -> list:
    """The pids still alive after ``seconds`` (killed then, so no test leaves them behind)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    left = [p for p in pids if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    return left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_worker_processes_exit_when_the_coordinator_is_killed(tmp_path):
    with _orphans(tmp_path) as (proc, pids):
        assert all(_alive(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = _gone_within(pids, 10)
        assert not left, f"worker processes {left} outlived their killed coordinator"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_interrupted_coordinator_terminates_its_workers_itself(tmp_path):
    with _orphans(tmp_path, STUBBORN) as (proc, pids):
        os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / "interrupted").exists():
            time.sleep(0.05)
        assert (tmp_path / "interrupted").exists() and proc.poll() is None, "the coordinator caught it and lives on"
        left = _gone_within(pids, 5)
        assert not left, f"worker processes {left} still run under a live, interrupted coordinator"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_coordinator_and_its_workers_at_once(tmp_path):
    with _orphans(tmp_path) as (proc, pids):
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        proc.wait(timeout=30)  # the tasks sleep 120 s: waiting for them would time out
        assert time.monotonic() - t0 < 10 and proc.returncode != 0
        left = _gone_within(pids, 5)
        assert not left, f"worker processes {left} outlived an interrupted coordinator"
        assert len(list(tmp_path.glob("*.pid"))) == 2, "no queued task may start after Ctrl-C"


def test_dry_run_plans_counts_the_cache_and_writes_nothing(tmp_path):
    lines = []
    plan = run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, dry_run=True, log=lines.append)
    assert (plan.ran, plan.reused, plan.results) == (0, 0, {}) and not any(tmp_path.iterdir()), "nothing written"
    assert lines[-1].endswith("1 experiments, 3 runs; 0 cached, 3 would run on serial"), lines
    run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, log=_quiet)
    lines.clear()
    again = run_lecture(tmp_path, names=["softmax-derivatives"], quick=True, dry_run=True, log=lines.append)
    assert again.reused == 3 and "3 runs, 3 cached" in lines[0], lines


def test_sizes_reach_only_the_experiments_that_take_images(tmp_path):
    lines = []
    names = ["remedies", "hebb"]
    run_lecture(tmp_path, names=names, quick=True, dry_run=True, sizes={"max_train": None}, log=lines.append)
    remedies = next(ln for ln in lines if ln.strip().startswith("remedies:"))
    assert "(max_train all, max_test 2000)" in remedies, remedies
    assert next(ln for ln in lines if ln.strip().startswith("hebb:")).endswith("cached"), "hebb takes no images"


def test_lecture_cli_refuses_a_bad_size_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from neuronet.cli import app

    r = CliRunner().invoke(app, ["lecture", "--out", str(tmp_path), "--max-train", "0", "--dry-run"])
    assert r.exit_code == 2 and r.stderr.strip() == (
        "neuronet lecture: error: --max-train: expected a whole number >= 1 or 'all', got '0'"
    ), r.stderr
    ok = CliRunner().invoke(
        app, ["lecture", "--out", str(tmp_path), "--only", "hebb", "--quick", "--dry-run", "--backend", "serial"]
    )
    assert ok.exit_code == 0 and "would run on serial" in ok.stdout and not any(tmp_path.iterdir())


def test_dask_batches_cover_every_task_in_order_and_shrink_to_single_tasks():
    from neuronet.backends import MAX_BATCH, dask_batches

    tasks = list(range(500))
    batches = dask_batches(tasks, n_workers=2)
    assert [t for b in batches for t in b] == tasks, "every task once, in order"
    sizes = [len(b) for b in batches]
    assert max(sizes) == MAX_BATCH and sizes == sorted(sizes, reverse=True), sizes
    assert sizes[-7:] == [1] * 7, "the last batches are single tasks, so no worker waits long at the end"
    assert dask_batches([], 2) == [] and dask_batches([7], 64) == [[7]]


@dataclass(frozen=True)
class _T:
    n: int

    @property
    def id(self):
        return f"t{self.n}"


class _Unpicklable(Exception):
    def __init__(self, a, b):  # pickling stores only args=(message,): unpickling calls __init__ with one
        super().__init__(f"{a} {b}")


def _fails_on_odd(task, threads):
    if task.n == 39:
        raise _Unpicklable("cannot", "travel")
    if task.n % 2:
        raise ValueError(f"odd {task.n}")
    return task.n * 10


class _Collect:
    def __init__(self):
        self.ok, self.bad = {}, {}

    def result(self, task, value):
        self.ok[task.n] = value

    def failure(self, task, error):
        self.bad[task.n] = str(error)

    def log(self, line):
        pass


def test_a_failing_task_in_a_dask_batch_fails_alone():
    pytest.importorskip("distributed")
    from neuronet.backends import run_tasks

    sink = _Collect()
    run_tasks(_fails_on_odd, [_T(n) for n in range(40)], sink, backend="dask", workers=2)
    assert sink.ok == {t: t * 10 for t in range(0, 40, 2)}
    assert sink.bad == {**{t: f"odd {t}" for t in range(1, 39, 2)}, 39: "_Unpicklable: cannot travel"}


def test_one_experiment_on_processes_gives_the_serial_numbers_and_errors(monkeypatch):
    from neuronet import backends
    from neuronet.errors import DataError
    from neuronet.experiments.runner import experiment_config, run_one

    cfg = experiment_config("softmax-derivatives", quick=True)
    serial = run_one("softmax-derivatives", cfg)
    spread = run_one("softmax-derivatives", cfg, backend="processes", workers=2)
    assert (spread.verdict, spread.metrics, spread.checks) == (serial.verdict, serial.metrics, serial.checks)
    assert spread.seeds == serial.seeds and spread.config == serial.config
    monkeypatch.setattr(backends, "cores", lambda: 1)
    assert run_one("softmax-derivatives", cfg, backend="auto").checks == serial.checks  # one core: in place
    # a run that raises stops the experiment with that error, wherever it ran
    bad = experiment_config("remedies", quick=True, data="/nonexistent/x.csv")
    for where in ({}, {"backend": "processes", "workers": 2}):
        with pytest.raises(DataError, match="/nonexistent/x.csv: no such file"):
            run_one("remedies", bad, **where)


def test_experiment_run_refuses_dask_in_one_line():
    from typer.testing import CliRunner

    from neuronet.cli import app

    r = CliRunner().invoke(app, ["experiment", "run", "hebb", "--quick", "--backend", "dask"])
    assert r.exit_code == 2 and r.stderr.strip() == (
        "neuronet experiment run: error: --backend: experiment run takes auto, serial or processes "
        "(Dask: neuronet lecture --only)"
    ), r.output


def _pid_after_a_nap(task, threads):
    if task.n == 5:
        raise ValueError("five")
    time.sleep(0.05)
    return os.getpid()


def _by_three(task):
    return task.n // 3


def test_units_put_each_group_together_and_the_groups_first():
    from neuronet.backends import units

    ts = [_T(n) for n in range(7)]

    def group(t):
        return None if t.n in (0, 3) else f"g{t.n % 2}"

    assert [[t.n for t in u] for u in units(ts, group)] == [[1, 5], [2, 4, 6], [0], [3]]
    assert [[t.n for t in u] for u in units(ts)] == [[n] for n in range(7)], "no group: each task alone, in order"


def test_dask_batches_keep_a_group_whole_and_first():
    from neuronet.backends import MAX_BATCH, dask_batches

    ts = [_T(n) for n in range(40)]
    batches = dask_batches(ts, 2, group=lambda t: "big" if 20 <= t.n < 32 else None)
    assert [t.n for t in batches[0]] == list(range(20, 32)), "one batch, even beyond MAX_BATCH"
    rest = [t.n for b in batches[1:] for t in b]
    assert rest == list(range(20)) + list(range(32, 40))
    assert max(len(b) for b in batches[1:]) <= MAX_BATCH
    assert [len(b) for b in dask_batches(ts, 2)] == [len(b) for b in dask_batches(ts, 2, group=lambda t: None)]


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_the_tasks_of_a_group_run_in_one_worker_and_fail_alone(backend):
    if backend == "dask":
        pytest.importorskip("distributed")
    from neuronet.backends import run_tasks

    sink = _Collect()
    run_tasks(_pid_after_a_nap, [_T(n) for n in range(12)], sink, backend=backend, workers=2, group=_by_three)
    assert sink.bad == {5: "five"}, "the failing task of group 1 fails alone"
    assert sorted(sink.ok) == [n for n in range(12) if n != 5]
    pids = {}
    for n, pid in sink.ok.items():
        pids.setdefault(n // 3, set()).add(pid)
    assert all(len(p) == 1 for p in pids.values()), f"a group ran in more than one worker: {pids}"


def test_remedies_groups_its_runs_by_arm_without_changing_their_ids():
    from neuronet.experiments.remedies_runs import arms
    from neuronet.experiments.runner import _task, experiment_config, tasks_for

    tasks = tasks_for("remedies", experiment_config("remedies", quick=True))
    assert all(t.group == f"remedies/{t.key['arm']}" for t in tasks)
    assert {t.group for t in tasks} == {f"remedies/{a.key}" for a in arms()}
    assert all(_task(t.experiment, t.config, t.key).id == t.id for t in tasks), "cached runs stay valid"
    other = tasks_for("softmax-derivatives", experiment_config("softmax-derivatives", quick=True))
    assert other and all(t.group is None for t in other)


def test_remedies_on_processes_gives_the_serial_numbers():
    from neuronet.experiments.runner import experiment_config, run_one

    cfg = experiment_config("remedies", quick=True)
    serial = run_one("remedies", cfg)
    spread = run_one("remedies", cfg, backend="processes", workers=2)
    assert (spread.verdict, spread.metrics, spread.checks) == (serial.verdict, serial.metrics, serial.checks)


class _Logged(_Collect):
    def __init__(self):
        super().__init__()
        self.lines = []

    def log(self, line):
        self.lines.append(line)


def _dies_on_four(task, threads):
    if task.n == 4:
        os._exit(3)  # the worker process dies, as under the OOM killer
    time.sleep(0.01)
    return task.n * 10


def test_a_task_that_kills_its_worker_fails_alone_even_inside_a_group():
    from neuronet.backends import run_tasks

    sink = _Logged()
    run_tasks(_dies_on_four, [_T(n) for n in range(6)], sink, backend="processes", workers=2, group=_by_three)
    assert sink.ok == {n: n * 10 for n in (0, 1, 2, 3, 5)}, "its group's other tasks are run again, one by one"
    assert list(sink.bad) == [4] and "died while running it alone" in str(sink.bad[4])
    assert any("restarting the pool" in line for line in sink.lines)


def _dies_if_negative(task, threads):
    if task.n < 0:
        os._exit(9)  # the worker process dies, as under the OOM killer
    time.sleep(0.005)
    return task.n


@pytest.mark.parametrize("killers", [(1,), (1, 30)])
def test_tasks_that_kill_their_workers_fail_alone_and_every_other_task_is_delivered(killers):
    from neuronet.backends import run_tasks

    sink = _Logged()
    tasks = [_T(-n if n in killers else n) for n in range(60)]
    run_tasks(_dies_if_negative, tasks, sink, backend="processes", workers=2)
    assert sorted(sink.bad) == sorted(-k for k in killers), "each fails, after running alone"
    assert sink.ok == {n: n for n in range(60) if n not in killers}, "no task run beside one is lost or failed"
    assert all("died while running it alone" in str(e) for e in sink.bad.values())


BLAS_LATER = """
import json
import numpy  # noqa: F401  (its OpenBLAS: the only BLAS loaded so far)
from threadpoolctl import threadpool_info
from neuronet.backends import blas_limit

def threads():
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    return sorted((i["filepath"].rsplit("/", 1)[-1], i["num_threads"]) for i in blas)

default = threads()
with blas_limit(1):
    first = threads()
import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, after blas_limit kept what it found)
with blas_limit(1):
    later = threads()
print(json.dumps({"default": default, "first": first, "later": later, "after": threads()}))
"""


def test_blas_limit_also_limits_a_blas_library_loaded_after_its_first_use(tmp_path):
    script = tmp_path / "blas_later.py"
    script.write_text(BLAS_LATER)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "3"}  # the libraries' own default, so a missed one shows
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    (default,) = [n for _, n in out["default"]]
    if default < 2:
        pytest.skip("one core: OpenBLAS runs 1 thread anyway, so a library left unlimited would not show")
    assert [n for _, n in out["first"]] == [1]
    assert len(out["later"]) == 2 and all(n == 1 for _, n in out["later"]), out["later"]
    assert [n for _, n in out["after"]] == [default, default], "the libraries' own settings come back"


def _odd_results(task, threads):
    if task.n == 1:
        return lambda: None  # cannot be pickled back
    if task.n == 4:
        raise SystemExit(2)
    return task.n


def test_a_result_that_cannot_travel_or_a_system_exit_fails_its_task_alone_in_a_group():
    from neuronet.backends import run_tasks

    sink = _Collect()
    run_tasks(_odd_results, [_T(n) for n in range(6)], sink, backend="processes", workers=2, group=_by_three)
    assert sink.ok == {0: 0, 2: 2, 3: 3, 5: 5}
    assert set(sink.bad) == {1, 4}
    assert "cannot be sent back" in sink.bad[1] and sink.bad[4] == "2"


def _group_of_many(task, threads):
    return task.n


def test_a_group_larger_than_a_pipe_buffer_of_task_starts_does_not_hang():
    from neuronet.backends import run_tasks

    sink = _Collect()  # ~35 bytes reported per task start: 4,000 of them fill a 64 KiB pipe twice over
    run_tasks(_group_of_many, [_T(n) for n in range(4000)], sink, backend="processes", workers=2, group=lambda t: 0)
    assert len(sink.ok) == 4000 and not sink.bad
