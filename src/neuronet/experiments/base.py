"""What an experiment is: a frozen config in, a ``Result`` out.

An experiment tests one claim of the lecture.  It is a function of a frozen
dataclass config (which includes the seeds), registered with ``@experiment``.
It returns a ``Result``: the claim in the notes' words, what was measured, the
verdict the numbers support ("supported", "not supported" or "mixed") with the
reason, metrics (mean and spread over seeds), tables, and plots described as
data (``Plot``): experiments never import matplotlib; ``neuronet.report`` draws.
"""

from __future__ import annotations

import dataclasses
import time
import typing
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..files import to_jsonable

VERDICTS = ("supported", "not supported", "mixed")


@dataclass
class Series:
    """One line (or set of points / bars) of a plot."""

    label: str
    x: list
    y: list
    yerr: list | None = None  # spread (e.g. std over seeds), drawn as a band or error bars
    style: str = "line"  # "line", "points", "bar"
    samples: list | None = None  # per-x lists of per-seed values, drawn as dots where seeds are few


@dataclass
class Plot:
    """A plot as data; ``neuronet.report.figures.figure_from_plot`` draws it.

    ``kind`` is "line" (series of x/y), "bar" (series with categorical x) or
    "image" (``image``: a 2-D list drawn with ``extent``, plus optional point
    series on top, e.g. decision regions with the training points).
    """

    title: str
    xlabel: str = ""
    ylabel: str = ""
    series: list = field(default_factory=list)
    kind: str = "line"
    logx: bool = False
    logy: bool = False
    image: list | None = None
    extent: list | None = None  # [xmin, xmax, ymin, ymax] for images
    hlines: list = field(default_factory=list)  # [(y, label)]
    vlines: list = field(default_factory=list)  # [(x, label)]
    caption: str = ""
    yrange: list | None = None  # the metric's [lo, hi] (either may be None): error bars are clipped to it
    ylim: list | None = None  # fixed y axis limits


@dataclass
class Result:
    name: str
    claim: str
    measurement: str
    verdict: str
    reason: str
    metrics: dict = field(default_factory=dict)
    tables: list = field(default_factory=list)  # [{"title": str, "rows": [dict, ...]}]
    plots: list = field(default_factory=list)  # [Plot]
    config: dict = field(default_factory=dict)
    seeds: list = field(default_factory=list)
    seconds: float = 0.0
    checks: list = field(default_factory=list)  # [Check.to_dict()], for experiments built as a Design

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def to_dict(self) -> dict:
        return to_jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["plots"] = [Plot(**{**p, "series": [Series(**s) for s in p.get("series", [])]}) for p in d.get("plots", [])]
        return cls(**d)


def spread(values) -> dict:
    """Mean, standard deviation, min, max and count of a list of numbers (NaNs dropped)."""
    a = np.asarray([v for v in values if v is not None], dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min": float(a.min()),
        "max": float(a.max()),
        "n": int(a.size),
    }


def pm(stats, digits=3) -> str:
    """``"0.912 ± 0.004"`` from ``spread`` output."""
    if stats["mean"] is None:
        return "n/a"
    return f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"


# -- registry -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Experiment:
    name: str
    claim: str
    config_cls: type
    fn: typing.Callable
    order: int = 100
    design: typing.Any = None  # a ``design.Design`` when the experiment is runs + a judgement

    def default_config(self, quick=False, **overrides):
        cfg = self.config_cls.quick() if quick else self.config_cls()
        return dataclasses.replace(cfg, **overrides) if overrides else cfg

    def run(self, config) -> Result:
        t0 = time.perf_counter()
        result = self.fn(config)
        result.seconds = time.perf_counter() - t0
        result.config = to_jsonable(dataclasses.asdict(config))
        result.seeds = list(getattr(config, "seeds", []))
        return result


EXPERIMENTS: dict[str, Experiment] = {}


def experiment(name, claim, config_cls, order=100):
    """Register ``fn(config) -> Result`` under ``name``."""

    def deco(fn):
        EXPERIMENTS[name] = Experiment(name, claim, config_cls, fn, order)
        return fn

    return deco


def get_experiment(name: str) -> Experiment:
    from . import _load_all

    _load_all()
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; valid: {', '.join(sorted_names()) or 'none'}")
    return EXPERIMENTS[name]


def sorted_names():
    from . import _load_all

    _load_all()
    return [e.name for e in sorted(EXPERIMENTS.values(), key=lambda e: (e.order, e.name))]


def parse_overrides(config_cls, pairs) -> dict:
    """``["lr=0.1", "seeds=0,1,2"]`` -> typed values for the config's fields, or ConfigError.

    Each value is converted by the field's option (``neuronet.options.options_for``), the same
    checks a sweep spec gets.
    """
    from ..options import options_for, parse_text

    options = options_for(config_cls)
    out = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in options:
            raise ConfigError(f"--set {pair!r}: expected key=value with key one of {', '.join(sorted(options))}")
        out[key] = parse_text(options[key], raw, f"--set {key}")
    return out
