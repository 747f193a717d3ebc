"""Running the lecture: every run of every experiment on one backend, each run cached as it finishes.

``run_lecture`` turns each chosen experiment into tasks and sends them all to
``neuronet.backends.run_tasks`` (serial, processes or Dask; ``auto`` picks one), the machinery
sweeps use:

* an experiment built as a ``Design`` gives one task per run (arm × seed × …);
* an experiment still written as one function gives one task for the whole experiment.

Each finished task is written at once (atomically, by this process only) to
``OUT/runs/<experiment>/<task id>.json``; the id hashes the experiment, its full config and the
run key, so a rerun with the same ``--out`` reuses every finished run and computes only the rest
(``force=True`` recomputes everything).  When an experiment's runs are all in, it is judged
(``Design.judge``) and written to ``OUT/results/<name>.json``; ``OUT/results.json`` collects
them with the versions and seeds.  A task that fails is reported and its experiment left out;
the others complete.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..backends import blas_limit, check_backend, resolve_backend, run_tasks
from ..data.idx import keep_pairs
from ..files import to_jsonable, versions, write_json_atomic
from .base import Result, get_experiment, sorted_names
from .design import conclude, measure_safely, roundtrip

RUN_FORMAT = "neuronet-lecture-run"


def _save(path: Path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, obj, indent=1)


def experiment_config(name, *, quick=False, data=None, seed=None, overrides=None):
    """The config an experiment runs with: quick or full defaults, then data/seed, then ``overrides``."""
    exp = get_experiment(name)
    cfg = exp.default_config(quick=quick)
    names = {f.name for f in dataclasses.fields(cfg)}
    changes = {}
    if data is not None and "data" in names:
        changes["data"] = data
    if seed is not None and "seeds" in names:
        changes["seeds"] = tuple(seed + s for s in cfg.seeds)
    changes.update(overrides or {})
    return dataclasses.replace(cfg, **changes) if changes else cfg


def config_from_json(config_cls, d: dict):
    """A config dataclass from its JSON form (lists back to tuples)."""

    def tuples(v):
        return tuple(tuples(x) for x in v) if isinstance(v, list) else v

    return config_cls(**{k: tuples(v) for k, v in d.items()})


# -- tasks ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One unit of lecture work: a run of a design (``key``) or a whole experiment (``key`` None)."""

    id: str
    experiment: str
    config: dict
    key: dict | None
    #: runs of one experiment that share work a process memoises (``Design.group``); not part of ``id``
    group: str | None = None

    def label(self) -> str:
        if self.key is None:
            return self.experiment
        return f"{self.experiment} " + ", ".join(f"{k}={v}" for k, v in self.key.items())


def _task(name: str, config: dict, key: dict | None, group: str | None = None) -> Task:
    blob = json.dumps({"experiment": name, "config": config, "key": key}, sort_keys=True, separators=(",", ":"))
    return Task(hashlib.sha256(blob.encode()).hexdigest()[:16], name, config, key, group)


def tasks_for(name: str, cfg) -> list[Task]:
    """The tasks of one experiment with config ``cfg``, in the order ``judge`` sees them."""
    exp = get_experiment(name)
    config = to_jsonable(dataclasses.asdict(cfg))
    if exp.design is None:
        return [_task(name, config, None)]
    tasks = []
    for k in exp.design.runs(cfg):
        g = exp.design.group(cfg, k)
        tasks.append(_task(name, config, roundtrip(k), None if g is None else f"{name}/{g}"))
    return tasks


def _group(task: Task):
    """``run_tasks``'s ``group``: the runs of one group go to one worker, one after another."""
    return task.group


def run_task(task: Task, blas_threads: int | None = None) -> dict:
    """Compute one task (on any backend): a JSON-able value; writes nothing."""
    t0 = time.perf_counter()
    keep_pairs()  # a process that runs tasks loads the same data again and again: keep it from the first read
    with blas_limit(blas_threads):
        exp = get_experiment(task.experiment)
        cfg = config_from_json(exp.config_cls, task.config)
        if task.key is None:
            value = {"result": exp.run(cfg).to_dict()}
        else:
            value = {"data": measure_safely(exp.design, cfg, task.key)}
    return {**value, "seconds": time.perf_counter() - t0}


def _run_path(out_dir, task: Task) -> Path:
    return Path(out_dir) / "runs" / task.experiment / f"{task.id}.json"


def _load_run(out_dir, task: Task):
    """The cached value of ``task`` if a complete file of exactly this task is there; else None."""
    try:
        rec = json.loads(_run_path(out_dir, task).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("format") != RUN_FORMAT or rec.get("id") != task.id:
        return None
    return rec.get("value")


class _Sink:
    """Receives finished tasks: writes each to its file at once and logs one line."""

    def __init__(self, out_dir, values: dict, total: int, log):
        self.out_dir, self.values, self.total, self.log = out_dir, values, total, log
        self.failed: dict[str, str] = {}
        self.n_failed = 0

    def result(self, task, value):
        if self.out_dir is not None:
            _save(
                _run_path(self.out_dir, task), {"format": RUN_FORMAT, "id": task.id, "task": task.key, "value": value}
            )
        self.values[task.id] = value
        self.log(f"  [{len(self.values)}/{self.total}] {task.label()} ({value['seconds']:.1f} s)")

    def failure(self, task, error):
        message = " ".join(f"{type(error).__name__}: {error}".split())
        self.n_failed += 1
        self.failed.setdefault(task.experiment, f"{task.label()}: {message}")
        self.log(f"  [failed] {task.label()}: {message}")


def _conclude(name: str, cfg, tasks: list[Task], values: dict) -> Result:
    exp = get_experiment(name)
    if exp.design is None:
        result = Result.from_dict(values[tasks[0].id]["result"])
    else:
        measured = [(t.key, values[t.id]["data"]) for t in tasks]
        result = conclude(exp.design, cfg, measured)
        result.config = to_jsonable(dataclasses.asdict(cfg))
        result.seeds = list(getattr(cfg, "seeds", []))
    result.seconds = float(sum(values[t.id]["seconds"] for t in tasks))
    return result


class _FirstError(_Sink):
    """``_Sink`` without files or per-run lines, keeping the first error itself to raise it again."""

    def __init__(self, values: dict, total: int):
        super().__init__(None, values, total, lambda line: None)
        self.error = None

    def failure(self, task, error):
        super().failure(task, error)
        self.error = self.error or error


def run_one(name, config, out_dir=None, log=print, *, backend="serial", workers=None) -> Result:
    """Run one experiment, saving ``out_dir/results/<name>.json`` when given.

    ``backend``: where its runs go, as in ``run_lecture`` (``"serial"``: in this process, the
    default here; ``"auto"``: one process per core when it has two or more runs); the numbers do
    not depend on it.  A run that raises stops the experiment with that error, on any backend.
    """
    exp = get_experiment(name)
    tasks = tasks_for(name, config) if exp.design is not None else []
    backend, workers = resolve_backend(backend, len(tasks), workers)
    if backend == "serial" or exp.design is None:
        keep_pairs()  # the runs load the same data one after another in this process, as run_task does
        result = exp.run(config)
    else:
        values = {}
        sink = _FirstError(values, len(tasks))
        run_tasks(run_task, tasks, sink, backend=backend, workers=workers, group=_group)
        if sink.error is not None:
            raise sink.error
        result = _conclude(name, config, tasks, values)
    if out_dir is not None:
        _save(Path(out_dir) / "results" / f"{name}.json", {"result": result.to_dict(), "versions": versions()})
    return result


def _dry_run(out_dir, plan: dict, force: bool, backend: str, workers, scheduler, client, log) -> LectureOutcome:
    """Log the plan: runs per experiment and how many are cached in ``out_dir``; compute nothing."""
    total = cached = 0
    for name, (cfg, tasks) in plan.items():
        done = 0 if force else sum(_load_run(out_dir, t) is not None for t in tasks)
        sizes = ", ".join(
            f"{k} {'all' if getattr(cfg, k) is None else getattr(cfg, k)}"
            for k in ("max_train", "max_test")
            if hasattr(cfg, k)
        )
        runs = f"{len(tasks)} run" + ("s" if len(tasks) != 1 else "")
        log(f"  {name}: {runs}, {done} cached" + (f" ({sizes})" if sizes else ""))
        total, cached = total + len(tasks), cached + done
    todo = total - cached
    backend, workers = resolve_backend(backend, todo, workers, scheduler=scheduler, client=client)
    log(f"lecture (dry run): {len(plan)} experiments, {total} runs; {cached} cached, {todo} would run on {backend}")
    return LectureOutcome({}, {}, cached, 0, backend)


@dataclass
class LectureOutcome:
    """What ``run_lecture`` did: the results, the experiments that failed, and task counts."""

    results: dict
    failed: dict
    reused: int
    ran: int
    backend: str = "serial"  # the backend the runs went to (what "auto" resolved to; "cached" when none ran)


def run_lecture(
    out_dir,
    *,
    names=None,
    quick=False,
    data=None,
    seed=0,
    backend="serial",
    workers=None,
    scheduler=None,
    client=None,
    force=False,
    sizes=None,
    dry_run=False,
    log=print,
) -> LectureOutcome:
    """Run (or reuse) every task of the chosen experiments on ``backend``; judge each; write results.json.

    ``backend``: ``"serial"`` (the default here), ``"processes"``, ``"dask"``, or ``"auto"``
    (``neuronet.backends.resolve_backend``: processes when two or more runs can go to two or
    more cores; the command line's default).  The numbers do not depend on it.

    ``sizes`` (``{"max_train": n or None, "max_test": ...}``) replaces those fields in every
    experiment whose config has them (None: the whole split).  ``dry_run`` plans and logs the runs
    per experiment (how many, how many cached) and stops before computing or writing anything.
    """
    check_backend(backend, workers=workers, scheduler=scheduler, client=client)
    names = list(names or sorted_names())
    plan = {}
    for name in names:
        fields = {f.name for f in dataclasses.fields(get_experiment(name).config_cls)}
        overrides = {k: v for k, v in (sizes or {}).items() if k in fields}
        cfg = experiment_config(name, quick=quick, data=data, seed=seed, overrides=overrides)
        plan[name] = (cfg, tasks_for(name, cfg))
    if dry_run:
        return _dry_run(out_dir, plan, force, backend, workers, scheduler, client, log)
    values = {}
    for _, tasks in plan.values():
        for t in tasks:
            cached = None if force else _load_run(out_dir, t)
            if cached is not None:
                values[t.id] = cached
    todo = [t for _, tasks in plan.values() for t in tasks if t.id not in values]
    total = sum(len(tasks) for _, tasks in plan.values())
    reused = total - len(todo)
    backend, workers = resolve_backend(backend, len(todo), workers, scheduler=scheduler, client=client)
    recorded = backend if todo else "cached"  # results.json names where the runs went; here none ran
    log(f"lecture: {len(names)} experiments, {total} runs; {reused} already done, {len(todo)} to run on {backend}")
    sink = _Sink(out_dir, values, total, log)
    # serial: one BLAS thread, as each run's matrices are small (processes and Dask pin each worker to its share)
    threads = 1 if backend == "serial" else None
    run_tasks(
        run_task,
        todo,
        sink,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        client=client,
        blas_threads=threads,
        group=_group,
    )
    results = {}
    for name, (cfg, tasks) in plan.items():
        if name in sink.failed:
            continue
        res = _conclude(name, cfg, tasks, values)
        _save(Path(out_dir) / "results" / f"{name}.json", {"result": res.to_dict(), "versions": versions()})
        log(f"{name}: {res.verdict} - {res.reason}")
        results[name] = res
    summary = {
        "data": data or "digits",
        "quick": quick,
        "seed": seed,
        "backend": recorded,
        "versions": versions(),
        "failed": sink.failed,
        "experiments": {n: r.to_dict() for n, r in results.items()},
    }
    _save(Path(out_dir) / "results.json", summary)
    return LectureOutcome(results, dict(sink.failed), reused, len(todo) - sink.n_failed, recorded)
