"""Sweeps: one experiment (or training run) over a grid of settings × seeds, resumable, serial or distributed.

A sweep is described by a TOML spec::

    experiment = "train"            # "train" (a TrainConfig run) or any registered experiment
    seeds = [0, 1, 2]
    data = "digits"                 # optional: the config's ``data``
    metric = "test_accuracy"        # optional: the metric plotted against each swept key
    quick = false                   # optional, experiments only: start from the quick defaults

    [grid]                          # lists of values, crossed in the order written here
    activation = ["sigmoid", "tanh"]
    lr = [0.01, 0.1]

    [fixed]                         # optional: values shared by every trial
    epochs = 5
    hidden = [32]

Every value is checked before anything runs; a bad spec raises one ``ConfigError``
naming the key and what is valid.

A *trial* is one grid point with one seed.  ``run_trial`` is a pure function of the
trial (config and seed) returning a JSON-able record: the metrics as numbers, the
config, seed, timings, library versions and host.  Each finished trial is written
atomically to ``OUT/trials/<id>.json`` (``id`` hashes the experiment, full config and
seed); a rerun reads those files and runs only the trials that are missing or
unreadable, so a sweep that was killed loses at most the trials that were running.
``OUT/summary.csv`` and ``OUT/summary.html`` are rebuilt from ``OUT/spec.toml`` and
the trial files at the end, or at any time by ``write_report(OUT)``.

Backends
--------
``serial``
    One trial after another in this process.
``processes``
    A ``ProcessPoolExecutor`` with N worker processes (spawned).
``dask``
    ``dask.distributed``: a ``LocalCluster`` of N single-threaded worker processes, or
    the cluster whose scheduler is at ``scheduler="tcp://host:8786"``.

In every backend a trial pins BLAS (threadpoolctl) to its share of the cores of the
machine it runs on, so N concurrent trials do not oversubscribe the cores; the numbers
a trial produces do not depend on the backend.

Where results are written, and why
----------------------------------
Only the coordinating process (the one that calls ``run_sweep``) writes trial files,
each one as soon as its result arrives.  Workers return a small dict and never touch
``OUT``, so:

* workers need no shared file system (a real Dask cluster's workers may be on hosts
  that cannot see ``OUT``), and there is a single writer per folder (a lock file keeps
  a second coordinator out);
* a worker that dies mid-trial has written nothing: the Dask scheduler reruns the
  task on another worker (up to ``distributed.scheduler.allowed-failures`` times) and
  the coordinator writes the one result that arrives; a task that a dying worker had
  already finished is recomputed, never written twice, because each future delivers
  one result;
* a coordinator that dies loses the results that had not reached it yet - the trials
  that were running; everything received before is on disk, and rerunning the same
  command runs only what is missing.  (Writing from the workers would save the running
  trials of an external cluster past a coordinator's death, but would need a shared
  file system and several writers, and saves nothing on a LocalCluster, whose workers
  die with their coordinator.)
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
import json
import math
import numbers
import os
import socket
import sys
import time
import tomllib
import types
import typing
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .files import to_jsonable, versions, write_json_atomic, write_text_atomic

__all__ = [
    "BACKENDS",
    "TRAIN_METRICS",
    "Spec",
    "SweepOutcome",
    "Trial",
    "load_records",
    "load_spec",
    "parse_spec",
    "run_sweep",
    "run_trial",
    "trial_path",
    "write_report",
]

BACKENDS = ("serial", "processes", "dask")
TRIAL_FORMAT = "neuronet-sweep-trial"
TRIAL_FORMAT_VERSION = 1
SPEC_KEYS = ("experiment", "seeds", "grid", "fixed", "data", "metric", "quick")
#: TrainConfig keys a sweep may not set: the seed comes from ``seeds``, and trials write no files
TRAIN_EXCLUDED = ("seed", "out", "checkpoint_dir", "resume", "report")
#: what a ``train`` trial measures (all numbers; ``diverged`` is 0 or 1)
TRAIN_METRICS = (
    "test_accuracy",
    "test_loss",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "epochs",
    "diverged",
)


# -- the spec ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trial:
    """One grid point with one seed.

    ``config`` is the complete, validated configuration without the seed; ``point``
    holds the swept keys' values as written in the spec; ``id`` hashes experiment,
    config and seed, so a trial's file name changes whenever anything that can change
    its result changes.
    """

    id: str
    experiment: str
    point: dict
    config: dict
    seed: int

    def label(self) -> str:
        where = ", ".join(f"{k}={_text(v)}" for k, v in self.point.items()) or "defaults"
        return f"{where}, seed {self.seed}"


@dataclass(frozen=True)
class Spec:
    """A validated sweep spec (see the module docstring); ``text`` is its TOML source."""

    experiment: str
    seeds: tuple
    grid: dict  # key -> tuple of values, in the spec's order
    fixed: dict
    data: str | None
    metric: str
    quick: bool
    text: str
    source: str = "spec"
    configs: tuple = field(default=(), repr=False)  # one validated config dict per grid point

    @property
    def keys(self) -> list:
        return list(self.grid)

    def points(self) -> list[dict]:
        """Every combination of the grid's values; the last key varies fastest."""
        return [dict(zip(self.grid, combo)) for combo in itertools.product(*self.grid.values())]

    def trials(self) -> list[Trial]:
        """One trial per grid point and seed, grid point by grid point."""
        out = []
        for point, config in zip(self.points(), self.configs):
            for seed in self.seeds:
                out.append(Trial(trial_id(self.experiment, config, seed), self.experiment, point, config, seed))
        return out


def trial_id(experiment: str, config: dict, seed: int) -> str:
    """16 hex digits of SHA-256 over the experiment name, the full config and the seed."""
    blob = json.dumps(
        {"experiment": experiment, "config": config, "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def trial_path(out_dir, trial_or_id) -> Path:
    tid = trial_or_id.id if isinstance(trial_or_id, Trial) else str(trial_or_id)
    return Path(out_dir) / "trials" / f"{tid}.json"


def load_spec(path) -> Spec:
    """Read and validate a spec file; ConfigError names the file, the key and what is valid."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return parse_spec(text, source=str(path))


def parse_spec(text: str, source: str = "spec") -> Spec:
    """Validate a spec given as TOML text: every grid point's config is built and checked here."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML ({e})") from None

    def fail(msg):
        raise ConfigError(f"{source}: {msg}")

    for k in raw:
        if k not in SPEC_KEYS:
            fail(f"unknown key {k!r}; valid keys: {', '.join(SPEC_KEYS)}")
    experiment = raw.get("experiment")
    if experiment is None:
        fail(f"experiment: missing; valid: train, {', '.join(_experiment_names())}")
    if not isinstance(experiment, str):
        fail(f"experiment: expected a name, got {experiment!r}; valid: train, {', '.join(_experiment_names())}")
    experiment = experiment.strip()
    if experiment != "train" and experiment not in _experiment_names():
        fail(f"experiment: unknown experiment {experiment!r}; valid: train, {', '.join(_experiment_names())}")
    quick = raw.get("quick", False)
    if not isinstance(quick, bool):
        fail(f"quick: expected true or false, got {quick!r}")
    if quick and experiment == "train":
        fail("quick: only for experiments; for train set epochs, hidden, ... in [fixed]")
    schema = _Schema(experiment, quick)

    seeds = _seeds(raw, fail)
    grid_raw = raw.get("grid", {})
    fixed_raw = raw.get("fixed", {})
    for name, table in (("grid", grid_raw), ("fixed", fixed_raw)):
        if not isinstance(table, dict):
            fail(f"{name}: expected a table ([{name}]) of config keys; valid keys: {schema.valid_keys()}")
    grid, fixed = {}, {}
    for k, values in grid_raw.items():
        key = schema.key(k, f"grid.{k}", fail)
        if not isinstance(values, list):
            fail(f"grid.{k}: expected a list of values, e.g. {k} = [{_toml(values)}]")
        if not values:
            fail(f"grid.{k}: empty list; give at least one value")
        grid[key] = tuple(schema.value(key, v, f"grid.{k}", fail) for v in values)
        if len(set(map(_canonical, grid[key]))) != len(grid[key]):
            fail(f"grid.{k}: a value is repeated: {_toml(values)}")
    for k, v in fixed_raw.items():
        key = schema.key(k, f"fixed.{k}", fail)
        if key in grid:
            fail(f"fixed.{k}: also in [grid]; set a key in one place only")
        fixed[key] = schema.value(key, v, f"fixed.{k}", fail)
    data = raw.get("data")
    if data is not None:
        if not isinstance(data, str):
            fail(f'data: expected a dataset spec string such as "digits", got {data!r}')
        if "data" not in schema.fields:
            fail(f"data: experiment {experiment!r} takes no data; valid config keys: {schema.valid_keys()}")
        if "data" in grid or "data" in fixed:
            fail("data: also given in [grid] or [fixed]; set it in one place only")
        fixed["data"] = data
    metric = raw.get("metric", "test_accuracy" if experiment == "train" else "supported")
    if not isinstance(metric, str):
        fail(f"metric: expected a metric name, got {metric!r}")
    if experiment == "train" and metric not in TRAIN_METRICS:
        fail(f"metric: unknown metric {metric!r} for train; valid: {', '.join(TRAIN_METRICS)}")

    for where, value in [("data", fixed.get("data"))] + [(f"grid.data = {_toml(v)}", v) for v in grid.get("data", ())]:
        if value is not None:
            _check_data(value, where, fail)
    # Build and check each value on its own first (so an error names its key), then every point.
    for key, values in grid.items():
        for v in values:
            schema.config({**fixed, key: v}, fail, f"grid.{key} = {_toml(v)}")
    points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    configs = tuple(schema.config({**fixed, **p}, fail, "grid point " + _point_text(p)) for p in points)
    return Spec(
        experiment=experiment,
        seeds=seeds,
        grid=grid,
        fixed=fixed,
        data=data,
        metric=metric,
        quick=quick,
        text=text,
        source=source,
        configs=configs,
    )


def _seeds(raw, fail) -> tuple:
    if "seeds" not in raw:
        fail("seeds: missing; give a list of integer seeds, e.g. seeds = [0, 1, 2]")
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not seeds:
        fail(f"seeds: expected a non-empty list of integers >= 0, e.g. seeds = [0, 1, 2]; got {_toml(seeds)}")
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            fail(f"seeds: {s!r} is not an integer >= 0; give e.g. seeds = [0, 1, 2]")
    if len(set(seeds)) != len(seeds):
        fail(f"seeds: a seed is repeated: {_toml(seeds)}")
    return tuple(seeds)


def _check_data(value, where, fail):
    """A dataset spec's form, and the file or folder it names: cheap checks, before any trial loads it."""
    if not isinstance(value, str):
        return  # the config's own checks report the type
    from .data import _resolve
    from .errors import DataError

    try:
        _resolve(value)
    except DataError as e:
        fail(f"{where}: {_strip_option(str(e))}")
    lowered = value.lower()
    if lowered.startswith("idx:") and not Path(value[4:]).is_dir():
        fail(f"{where}: {value[4:]!r} is not a folder (give idx:DIR with the four IDX files)")
    if lowered.endswith((".csv", ".npz")) and not Path(value).is_file():
        fail(f"{where}: no such file {value!r} (a relative path is relative to the folder the sweep runs in)")


def _experiment_names() -> list:
    from .experiments import sorted_names

    return sorted_names()


class _Schema:
    """The config keys of an experiment (or of ``train``), their types, and how a config is built."""

    def __init__(self, experiment, quick=False):
        self.experiment = experiment
        self.quick = quick
        if experiment == "train":
            from .config import TrainConfig

            self.cls = TrainConfig
            self.fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in TRAIN_EXCLUDED]
        else:
            from .experiments import get_experiment

            self.exp = get_experiment(experiment)
            self.cls = self.exp.config_cls
            self.fields = [f.name for f in dataclasses.fields(self.cls) if f.name != "seeds"]
        self.hints = typing.get_type_hints(self.cls)

    def valid_keys(self) -> str:
        return ", ".join(self.fields)

    def key(self, k, where, fail) -> str:
        key = k.replace("-", "_")
        if key in ("seed", "seeds"):
            fail(f"{where}: the seeds come from the top-level list, e.g. seeds = [0, 1, 2]")
        if key not in self.fields:
            fail(f"{where}: unknown config key for {self.experiment!r}; valid keys: {self.valid_keys()}")
        return key

    def value(self, key, v, where, fail):
        """``v`` checked against the field's type; lists become tuples, integers floats where floats are due."""
        hint = self.hints.get(key)
        if self.experiment == "train" and key in _TRAIN_LOOSE:
            ok = _TRAIN_LOOSE[key]
            if not isinstance(v, ok) or isinstance(v, bool):
                fail(f"{where}: {_toml(v)} is {_kind(v)}; expected {_TRAIN_LOOSE_TEXT[key]}")
            return _tuples(v)
        return _check(v, hint, where, fail)

    def config(self, values: dict, fail, where) -> dict:
        """The full validated config (without the seed) as a JSON-able dict."""
        if self.experiment == "train":
            from .config import TrainConfig, validate

            try:
                cfg = validate(TrainConfig(**{"diagnostics": False, **values}))  # sweeps record no diagnostics
            except ConfigError as e:
                fail(f"{where}: {_strip_option(str(e))}")
            d = cfg.to_dict()
            for k in TRAIN_EXCLUDED:
                d.pop(k)
            return d

        try:
            cfg = self.exp.default_config(quick=self.quick, **values)
        except (TypeError, ValueError) as e:
            fail(f"{where}: {e}")
        d = to_jsonable(dataclasses.asdict(cfg))
        d.pop("seeds", None)
        return d


_TRAIN_LOOSE = {"hidden": (list, int, str), "targets": (list, str), "batch_size": (int, str)}
_TRAIN_LOOSE_TEXT = {
    "hidden": 'layer sizes such as [128, 64], 64 or "128,64"',
    "targets": "two numbers such as [0.15, 0.85]",
    "batch_size": 'an integer or "full"',
}


def _check(v, hint, where, fail):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        inner = [a for a in args if a is not type(None)]
        hint = inner[0] if len(inner) == 1 else None
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        if not isinstance(v, bool):
            fail(f"{where}: {_toml(v)} is {_kind(v)}; expected true or false")
        return v
    if hint is int:
        if not isinstance(v, int) or isinstance(v, bool):
            fail(f"{where}: {_toml(v)} is {_kind(v)}; expected an integer")
        return v
    if hint is float:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            fail(f"{where}: {_toml(v)} is {_kind(v)}; expected a number")
        return float(v)
    if hint is str:
        if not isinstance(v, str):
            fail(f"{where}: {_toml(v)} is {_kind(v)}; expected a string")
        return v
    if hint is tuple or origin is tuple:
        if not isinstance(v, list):
            fail(f"{where}: {_toml(v)} is {_kind(v)}; expected a list")
        inner = args[0] if args and args[0] is not Ellipsis else None
        return tuple(_check(x, inner, where, fail) if inner is not None else _tuples(x) for x in v)
    return _tuples(v)  # a type we cannot check here: the config's own checks decide


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _kind(v) -> str:
    if isinstance(v, bool):
        return "a boolean"
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        tuple: "a list",
        dict: "a table",
    }.get(type(v), f"a {type(v).__name__}")


def _strip_option(msg: str) -> str:
    """``"--lr: must be > 0, got -1"`` -> ``"must be > 0, got -1"`` (the spec names the key itself)."""
    if msg.startswith("--") and ": " in msg:
        return msg.split(": ", 1)[1]
    return msg


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)


def _text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(_text(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _point_text(point: dict) -> str:
    return ", ".join(f"{k} = {_toml(v)}" for k, v in point.items()) or "(defaults)"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _canonical(v) -> str:
    return json.dumps(v, sort_keys=True)


# -- one trial ---------------------------------------------------------------------------------
def _cores() -> int:
    """Cores this process may run on (affinity-aware where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _number(v):
    """A plain float or int for a metric value; None for what is not a finite number."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return None


def flatten_metrics(metrics: dict, prefix: str = "") -> dict:
    """``{"acc": {"mean": .9, "std": .01}, "ok": True}`` -> ``{"acc.mean": .9, "acc.std": .01, "ok": 1}``.

    Numbers only: booleans become 0/1, non-finite numbers None, strings and other
    objects are dropped.
    """
    out = {}
    for k, v in metrics.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_metrics(v, name + "."))
        elif isinstance(v, (list, tuple)):
            continue
        elif v is None or isinstance(v, numbers.Real):
            out[name] = _number(v)
    return out


def _train_metrics(config: dict, seed: int):
    from .config import TrainConfig, validate
    from .trainjob import run

    cfg = validate(TrainConfig(**config, seed=seed))
    result = run(cfg, log=lambda *a, **k: None)
    h = result.history.history

    def last(key):
        values = h.get(key) or []
        return _number(values[-1]) if values else None

    metrics = {
        "test_accuracy": _number(result.test.get("accuracy")),
        "test_loss": _number(result.test.get("loss")),
        "train_loss": last("loss"),
        "train_accuracy": last("accuracy"),
        "val_loss": last("val_loss"),
        "val_accuracy": last("val_accuracy"),
        "epochs": len(result.history),
        "diverged": int(result.diverged is not None),
    }
    extra = {"train_seconds": float(sum(h.get("seconds") or [])), "stop_reason": result.history.stop_reason}
    return metrics, None, extra


def _experiment_metrics(name: str, config: dict, seed: int):
    from .experiments import get_experiment

    exp = get_experiment(name)
    fields = {f.name: f for f in dataclasses.fields(exp.config_cls)}
    values = {k: _tuples(v) for k, v in config.items() if k in fields}
    cfg = exp.default_config(**values, seeds=(seed,))
    result = exp.run(cfg)
    metrics = flatten_metrics(result.metrics)
    metrics["supported"] = int(result.verdict == "supported")
    return metrics, result.verdict, {"reason": result.reason}


def run_trial(trial: Trial, blas_threads: int | None = None) -> dict:
    """Run one trial and return its record (a JSON-able dict); writes no file.

    A pure function of ``trial.config`` and ``trial.seed``: ``metrics`` (numbers, or
    None where undefined) are the same on any backend and machine with the same
    library versions.  ``blas_threads`` pins BLAS with threadpoolctl for the trial's
    duration (None leaves it as it is).
    """
    from threadpoolctl import threadpool_limits

    started = datetime.datetime.now(datetime.UTC)
    t0 = time.perf_counter()
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        if trial.experiment == "train":
            metrics, verdict, extra = _train_metrics(trial.config, trial.seed)
        else:
            metrics, verdict, extra = _experiment_metrics(trial.experiment, trial.config, trial.seed)
    seconds = time.perf_counter() - t0
    return {
        "format": TRIAL_FORMAT,
        "version": TRIAL_FORMAT_VERSION,
        "id": trial.id,
        "experiment": trial.experiment,
        "point": trial.point,
        "seed": trial.seed,
        "config": trial.config,
        "metrics": metrics,
        "verdict": verdict,
        "details": extra,
        "timing": {
            "seconds": seconds,
            "started": started.isoformat(timespec="milliseconds"),
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        },
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "blas_threads": blas_threads,
        "versions": versions(),
    }


def _dask_trial(trial: Trial, shares: dict, default: int | None) -> dict:
    """``run_trial`` on a Dask worker, with BLAS pinned to this worker's share of its host's cores."""
    threads = default
    if threads is None:
        try:
            from distributed import get_worker

            threads = shares.get(get_worker().address, 1)
        except (ImportError, ValueError):
            threads = 1
    return run_trial(trial, threads)


# -- the result store --------------------------------------------------------------------------
def read_record(path, trial: Trial | None = None) -> dict | None:
    """The record in ``path`` if it is a complete trial file (of ``trial``, when given); else None."""
    try:
        rec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing, truncated or not JSON: not done
    if not isinstance(rec, dict) or rec.get("format") != TRIAL_FORMAT or not isinstance(rec.get("metrics"), dict):
        return None
    if trial is not None and (rec.get("id") != trial.id or rec.get("seed") != trial.seed):
        return None
    return rec


def load_records(out_dir, spec: Spec) -> dict:
    """``{trial id: record}`` of the spec's trials that are done in ``out_dir``."""
    out = {}
    for t in spec.trials():
        rec = read_record(trial_path(out_dir, t), t)
        if rec is not None:
            out[t.id] = rec
    return out


def _save(out_dir, record: dict) -> Path:

    return write_json_atomic(trial_path(out_dir, record["id"]), record)


class _Lock:
    """An exclusive lock on ``OUT/.sweep.lock`` (POSIX); the OS releases it when the process dies."""

    def __init__(self, out_dir):
        self.path = Path(out_dir) / ".sweep.lock"
        self.fd = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; trust the user
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise ConfigError(f"--out {self.path.parent}: another sweep is running in this folder") from None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock


# -- running a sweep ---------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    """What ``run_sweep`` did: counts, failures (trial label and error) and the summary files."""

    out_dir: Path
    total: int
    reused: int
    ran: int
    failed: list
    seconds: float
    summary_csv: Path | None = None
    summary_html: Path | None = None

    @property
    def complete(self) -> bool:
        return not self.failed and self.reused + self.ran == self.total


def run_sweep(
    spec,
    out_dir,
    *,
    backend: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    blas_threads: int | None = None,
    log=print,
    on_result=None,
) -> SweepOutcome:
    """Run every trial of ``spec`` that ``out_dir`` does not hold yet; write the summary.

    Parameters
    ----------
    spec : Spec or path
        A ``Spec`` or a TOML file (validated before anything runs).
    out_dir : path
        Gets ``spec.toml``, ``trials/<id>.json`` (one per trial, written as each
        finishes), ``summary.csv`` and ``summary.html``.
    backend : {"serial", "processes", "dask"}
    workers : int, optional
        Worker processes for ``processes`` and for a Dask ``LocalCluster``; default the
        number of cores.  Ignored with ``scheduler`` or ``client``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); dask backend only.
    client : distributed.Client, optional
        Use this client (and its cluster) instead of starting one; dask backend only.
    blas_threads : int, optional
        BLAS threads per trial; default each concurrent trial's share of its machine's
        cores (serial: leave BLAS as it is).
    log : callable
        Receives one line per finished trial.
    on_result : callable, optional
        ``on_result(record)`` after each new trial file is written.

    Returns
    -------
    SweepOutcome
        Trials that raised are listed in ``failed`` (the others still run); rerunning
        the sweep retries them.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if backend not in BACKENDS:
        raise ConfigError(f"--backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if (scheduler or client is not None) and backend != "dask":
        raise ConfigError(f"--scheduler: only with --backend dask (got --backend {backend})")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"--workers: expected an integer >= 1, got {workers!r}")
    if blas_threads is not None and (not isinstance(blas_threads, int) or blas_threads < 1):
        raise ConfigError(f"--blas-threads: expected an integer >= 1, got {blas_threads!r}")
    if backend == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ConfigError('--backend dask: needs dask.distributed; pip install "neuronet[cluster]"') from None
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    (out / "trials").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with _Lock(out):
        for stale in (out / "trials").glob(".*.tmp"):  # left by a writer that was killed mid-write
            stale.unlink(missing_ok=True)
        write_text_atomic(out / "spec.toml", spec.text)
        trials = spec.trials()
        done = load_records(out, spec)
        todo = [t for t in trials if t.id not in done]
        log(
            f"sweep {spec.experiment}: {_count(len(trials), 'trial')} ({_count(len(spec.points()), 'grid point')} x "
            f"{_count(len(spec.seeds), 'seed')}); {len(done)} already done, {len(todo)} to run on {backend}"
        )
        state = _Progress(out, len(trials), len(done), spec.metric, log, on_result)
        if todo:
            if backend == "serial":
                _run_serial(todo, state, blas_threads)
            elif backend == "processes":
                _run_processes(todo, state, workers or _cores(), blas_threads)
            else:
                _run_dask(todo, state, workers or _cores(), scheduler, client, blas_threads)
        csv_path, html_path = write_report(out, spec)
    outcome = SweepOutcome(
        out, len(trials), len(done), state.ran, state.failed, time.perf_counter() - t0, csv_path, html_path
    )
    failed = f", {len(outcome.failed)} failed (rerun to retry them)" if outcome.failed else ""
    log(
        f"{_count(outcome.ran, 'trial')} ran, {outcome.reused} reused{failed} in {outcome.seconds:.1f} s; "
        f"summary: {csv_path} and {html_path}"
    )
    return outcome


class _Progress:
    """Writes each arriving record to its file and logs one line; counts what ran and what failed."""

    def __init__(self, out, total, reused, metric, log, on_result):
        self.out, self.total, self.metric, self.log, self.on_result = out, total, metric, log, on_result
        self.count = reused
        self.ran = 0
        self.failed = []

    def result(self, record):
        _save(self.out, record)
        self.ran += 1
        self.count += 1
        value = record["metrics"].get(self.metric)
        shown = f"{self.metric} {value:.4g}" if isinstance(value, (int, float)) else f"{self.metric} n/a"
        self.log(
            f"[{self.count}/{self.total}] {_point_text(record['point'])}, seed {record['seed']}: {shown} "
            f"({record['timing']['seconds']:.1f} s on {record['host']}:{record['pid']})"
        )
        if self.on_result is not None:
            self.on_result(record)

    def failure(self, trial, error):
        message = " ".join(f"{type(error).__name__}: {error}".split())
        self.failed.append((trial.label(), message))
        self.log(f"[failed] {trial.label()}: {message}")


def _run_serial(todo, state, blas_threads):
    for t in todo:
        try:
            record = run_trial(t, blas_threads)
        except Exception as e:  # one bad trial does not stop the sweep
            state.failure(t, e)
            continue
        state.result(record)


def _run_processes(todo, state, workers, blas_threads, max_restarts=3):
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    threads = blas_threads or max(1, _cores() // workers)
    pending = list(todo)
    restarts = 0
    while pending:
        broken = []
        with ProcessPoolExecutor(
            max_workers=min(workers, len(pending)), mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            futures = {pool.submit(run_trial, t, threads): t for t in pending}
            try:
                while futures:
                    finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for f in finished:
                        t = futures.pop(f)
                        error = f.exception()
                        if error is None:
                            state.result(f.result())
                        elif isinstance(error, BrokenProcessPool):
                            broken.append(t)  # a worker process died: run it again
                        else:
                            state.failure(t, error)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        lost = {t.id for t in broken}
        pending = [t for t in pending if t.id in lost]  # in the sweep's order again
        if pending:
            restarts += 1
            if restarts > max_restarts:
                for t in pending:
                    state.failure(t, RuntimeError(f"worker processes died {restarts} times"))
                return
            state.log(f"a worker process died; restarting the pool for {len(pending)} unfinished trials")


def _blas_shares(client) -> dict:
    """``{worker address: BLAS threads}``: each host's cores divided among its workers' threads."""
    try:
        info = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # distributed before 2025: no n_workers
        info = client.scheduler_info()["workers"]
    cores = client.run(_cores)
    slots = {}
    for w in info.values():
        slots[w["host"]] = slots.get(w["host"], 0) + int(w.get("nthreads") or 1)
    return {addr: max(1, int(cores.get(addr, 1)) // max(1, slots[w["host"]])) for addr, w in info.items()}


def _run_dask(todo, state, workers, scheduler, client, blas_threads):
    import logging

    from distributed import Client, LocalCluster, as_completed

    cluster = own_client = None
    try:
        if client is None:
            if scheduler:
                try:
                    own_client = Client(scheduler, timeout="20s")
                except OSError as e:
                    raise ConfigError(f"--scheduler {scheduler}: cannot connect ({e})") from None
            else:
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                own_client = Client(cluster)
            client = own_client
        shares = {} if blas_threads else _blas_shares(client)
        if not shares and not blas_threads:
            state.log("the Dask cluster has no workers yet; the trials wait for workers to join")
        session = uuid.uuid4().hex[:8]  # fresh keys: never attach to a dead session's tasks
        futures = {}
        for i, t in enumerate(todo):
            f = client.submit(
                _dask_trial, t, shares, blas_threads, key=f"neuronet-trial-{t.id}-{session}", pure=False, priority=-i
            )
            futures[f.key] = (f, t)
        for f in as_completed([f for f, _ in futures.values()]):
            _, t = futures.pop(f.key)
            if f.status == "finished":
                state.result(f.result())
            else:  # the trial raised, or killed its workers too often
                try:
                    error = f.exception()
                except BaseException as e:  # cancelled: the scheduler lost it
                    error = e
                state.failure(t, error)
            f.release()
    finally:
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()


# -- the summary -------------------------------------------------------------------------------
def write_report(out_dir, spec: Spec | None = None) -> tuple[Path, Path]:
    """(Re)write ``OUT/summary.csv`` and ``OUT/summary.html`` from ``OUT/spec.toml`` and the trial files.

    The two files depend on nothing else (no clock), so rebuilding them from the same
    trial files gives the same bytes.
    """
    out = Path(out_dir)
    if spec is None:
        if not out.is_dir():
            raise ConfigError(f"{out}: no such directory")
        path = out / "spec.toml"
        if not path.is_file():
            raise ConfigError(f"{out}: no spec.toml, so not a sweep folder; run 'neuronet sweep SPEC.toml --out {out}'")
        spec = load_spec(path)
    from .report.sweep_report import write_sweep_report

    records = load_records(out, spec)
    trials, n = spec.trials(), len(spec.seeds)  # grid point by grid point, seeds innermost
    groups = [
        {"point": point, "records": [records[t.id] for t in trials[i * n : (i + 1) * n] if t.id in records]}
        for i, point in enumerate(spec.points())
    ]
    return write_sweep_report(
        out,
        experiment=spec.experiment,
        keys=spec.keys,
        groups=groups,
        metric=spec.metric,
        seeds=list(spec.seeds),
        spec_text=spec.text,
    )


# -- ``python -m neuronet.sweep`` ----------------------------------------------------------------
def main(argv=None) -> int:
    """``python -m neuronet.sweep SPEC.toml --out DIR [...]`` or ``python -m neuronet.sweep --report DIR``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m neuronet.sweep", description="Run or summarize a sweep.")
    p.add_argument("spec", nargs="?", help="the sweep's TOML spec")
    p.add_argument("--out", help="folder for spec.toml, trials/, summary.csv and summary.html")
    p.add_argument("--backend", default="serial", help="serial, processes or dask")
    p.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--workers", type=int, help="worker processes (default: the number of cores)")
    p.add_argument("--blas-threads", type=int, help="BLAS threads per trial (default: its share of the cores)")
    p.add_argument("--report", metavar="DIR", help="only rebuild DIR/summary.csv and summary.html")
    a = p.parse_args(argv)
    try:
        if a.report:
            for path in write_report(a.report):
                print(f"written: {path}")
            return 0
        if not a.spec or not a.out:
            p.error("give SPEC.toml and --out DIR (or --report DIR)")
        outcome = run_sweep(
            a.spec,
            a.out,
            backend=a.backend,
            workers=a.workers,
            scheduler=a.scheduler,
            blas_threads=a.blas_threads,
            log=lambda line: print(line, flush=True),
        )
    except ConfigError as e:
        print(f"neuronet sweep: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    return 0 if outcome.complete else 1


if __name__ == "__main__":
    # Run the importable module's main, so that trials sent to other processes refer to
    # ``neuronet.sweep.run_trial`` rather than to functions of ``__main__``.
    from neuronet.sweep import main as _main

    sys.exit(_main())
