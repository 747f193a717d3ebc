"""One trial: a pure function of its config and seed, returning a JSON-able record (never a file)."""

from __future__ import annotations

import dataclasses
import datetime
import math
import numbers
import os
import socket
import time

from ..files import versions
from .spec import Trial, _tuples
from .store import TRIAL_FORMAT, TRIAL_FORMAT_VERSION


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
    from ..config import TrainConfig, validate
    from ..trainjob import run

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
    from ..experiments import get_experiment

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
    from ..backends import blas_limit
    from ..data.idx import keep_pairs

    keep_pairs()  # trials load the same data again and again: keep it from the first read
    started = datetime.datetime.now(datetime.UTC)
    t0 = time.perf_counter()
    with blas_limit(blas_threads):
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
