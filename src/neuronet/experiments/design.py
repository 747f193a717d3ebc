"""An experiment as independent runs plus a judgement.

A ``Design`` splits an experiment into four pure steps:

``runs(cfg) -> list[dict]``
    The independent runs its frozen config asks for: one JSON-able key per run (arm × seed ×
    learning rate × …).  Keys must be unique within the experiment.
``measure(cfg, key) -> dict``
    One run: a pure function of the config and the key that returns JSON-able data (numbers,
    lists, strings).  It may run on another process or machine; it never writes files and takes
    its randomness only from ``numpy.random.default_rng`` seeded from the key.
``judge(cfg, measured) -> list[Check]``
    The statistics: named checks (``neuronet.stats.Check``), each with its statistic, confidence
    interval, threshold, n, whether it holds, and what would have made it fail.  ``measured`` is
    ``[(key, data), ...]`` in the order of ``runs``.  The verdict is ``verdict_from(checks)``,
    never written by hand.
``present(cfg, measured, checks) -> dict``
    Presentation only: ``measurement`` (two or three sentences), ``metrics``, ``tables`` and
    ``plots`` for the report.

The lecture runner (``experiments.runner``) sends every run of every experiment to a backend
(serial, processes or Dask: ``neuronet.backends``), caches each run as it finishes, and
calls ``judge`` and ``present`` once an experiment's runs are all in.  BLAS pinning, divergence
capture and caching live there, not in the experiments.  ``neuronet experiment run`` calls
``evaluate`` below, which runs everything in this process.

Register a design with ``@register_design``; it becomes an ordinary ``Experiment`` (its ``fn``
is ``evaluate``) with ``design`` set, so every tool that knows experiments knows it.
"""

from __future__ import annotations

import json
import math

from ..errors import DivergenceError
from ..files import to_jsonable
from ..stats import Check, verdict_from
from .base import EXPERIMENTS, Experiment, Result

__all__ = ["Design", "evaluate", "measure_safely", "register_design", "roundtrip"]


class Design:
    """Subclass and set ``name``, ``claim``, ``config_cls`` (and ``order``); implement the four steps."""

    name: str = ""
    claim: str = ""
    config_cls: type = object
    order: int = 100

    def runs(self, cfg) -> list[dict]:
        raise NotImplementedError

    def measure(self, cfg, key: dict) -> dict:
        raise NotImplementedError

    def judge(self, cfg, measured: list) -> list[Check]:
        raise NotImplementedError

    def present(self, cfg, measured: list, checks: list[Check]) -> dict:
        return {}

    def group(self, cfg, key: dict) -> str | None:
        """Runs that share work a process memoises (e.g. one search that every run of an arm uses)
        return the same name; the lecture sends a group's runs to one worker, one after another,
        so the shared work is done once instead of once per worker.  None (the default): the run
        may go to any worker.  Grouping changes where runs go, never what they compute."""
        return None


def roundtrip(data):
    """``data`` as it comes back from a JSON file (tuples become lists, NaN becomes None).

    Every backend, and a resumed run, hands ``judge`` exactly these values, so the verdict cannot
    depend on where a run ran or whether it came from the cache.
    """
    return json.loads(json.dumps(to_jsonable(data), allow_nan=True), parse_constant=lambda c: None)


def measure_safely(design: Design, cfg, key: dict) -> dict:
    """``design.measure`` with divergence captured as data: ``{"diverged": "<why>"}``.

    A diverged run is an outcome to judge (e.g. "the exploding arm diverges"), not a crash.
    """
    try:
        data = design.measure(cfg, key)
    except (DivergenceError, FloatingPointError) as e:
        return {"diverged": " ".join(str(e).split()) or type(e).__name__}
    return roundtrip(data)


def _check_keys(design: Design, keys: list) -> list:
    seen = set()
    for k in keys:
        blob = json.dumps(k, sort_keys=True)
        if blob in seen:
            raise ValueError(f"experiment {design.name}: run key {blob} is repeated")
        seen.add(blob)
    return keys


def conclude(design: Design, cfg, measured: list) -> Result:
    """Judge and present measured runs: the experiment's ``Result`` (verdict from the checks)."""
    checks = list(design.judge(cfg, measured))
    shown = design.present(cfg, measured, checks) or {}
    verdict = verdict_from(checks)
    held = sum(c.holds for c in checks)
    reason = f"{held} of {len(checks)} checks hold: " + "; ".join(
        f"{c.name} {'holds' if c.holds else 'fails'}" for c in checks
    )
    return Result(
        name=design.name,
        claim=design.claim,
        measurement=shown.get("measurement", ""),
        verdict=verdict,
        reason=shown.get("reason", reason),
        metrics=shown.get("metrics", {}),
        tables=shown.get("tables", []),
        plots=shown.get("plots", []),
        checks=[c.to_dict() for c in checks],
    )


def evaluate(design: Design, cfg) -> Result:
    """Every run in this process (one BLAS thread: the runs are small), then the judgement.

    This is what ``neuronet experiment run`` does; ``neuronet lecture`` spreads the runs over a backend.
    """
    from threadpoolctl import threadpool_limits

    keys = _check_keys(design, [roundtrip(k) for k in design.runs(cfg)])
    with threadpool_limits(limits=1, user_api="blas"):
        measured = [(k, measure_safely(design, cfg, k)) for k in keys]
    return conclude(design, cfg, measured)


def register_design(cls):
    """Class decorator: register ``cls()`` as an experiment named ``cls.name``."""
    design = cls()
    if not design.name or design.config_cls is object:
        raise TypeError(f"{cls.__name__}: set name, claim and config_cls")
    EXPERIMENTS[design.name] = Experiment(
        design.name, design.claim, design.config_cls, lambda cfg: evaluate(design, cfg), design.order, design
    )
    return cls


def finite(x) -> float | None:
    """A float, or None when missing or not finite (for data that goes through JSON)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
