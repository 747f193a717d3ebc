"""Sweep specs: the TOML file, checked key by key before anything runs, and the trials it defines."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..files import to_jsonable
from ..options import TRAIN_OPTIONS

#: the most trials a spec may define unless the caller raises the limit (``--max-trials``)
MAX_TRIALS = 10_000
SPEC_KEYS = ("experiment", "seeds", "grid", "fixed", "data", "metric", "quick")
#: TrainConfig keys a sweep may not set: the seed comes from ``seeds``, and trials write no files (the
#: options that only say where outputs go; ``epochs`` is one of those, but a sweep may set it)
TRAIN_EXCLUDED = ("seed", *(o.name for o in TRAIN_OPTIONS if o.output and o.name != "epochs"))
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


def load_spec(path, *, max_trials: int = MAX_TRIALS) -> Spec:
    """Read and validate a spec file; ConfigError names the file, the key and what is valid."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{path}: is a folder, not a sweep spec file")
    if not p.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return parse_spec(text, source=str(path), max_trials=max_trials)


def parse_spec(text: str, source: str = "spec", *, max_trials: int = MAX_TRIALS) -> Spec:
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
    grid, fixed = _grid_and_fixed(raw, schema, fail)
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
    n_trials = math.prod(len(v) for v in grid.values()) * len(seeds)  # counted before any config is built
    if n_trials > max_trials:
        fail(
            f"{n_trials:,} trials ({' x '.join(str(len(v)) for v in grid.values()) or '1'} grid points x "
            f"{len(seeds)} seeds) is above the limit of {max_trials:,}; shrink the grid or raise --max-trials"
        )
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


def _grid_and_fixed(raw, schema, fail) -> tuple[dict, dict]:
    """The ``[grid]`` and ``[fixed]`` tables, every value checked under its own name."""
    grid_raw = raw.get("grid", {})
    fixed_raw = raw.get("fixed", {})
    for name, table in (("grid", grid_raw), ("fixed", fixed_raw)):
        if not isinstance(table, dict):
            fail(f"{name}: expected a table ([{name}]) of config keys; valid keys: {schema.valid_keys()}")
    grid, fixed = {}, {}
    for k, values in grid_raw.items():
        key = schema.key(k, f"grid.{k}", fail)
        if key in grid:  # batch-size and batch_size both
            fail(f"grid.{k}: sets {key} a second time")
        if not isinstance(values, list):
            fail(f"grid.{k}: expected a list of values, e.g. {k} = [{_toml(values)}]")
        if not values:
            fail(f"grid.{k}: empty list; give at least one value")
        grid[key] = tuple(schema.value(key, v, f"grid.{k} = {_toml(v)}", fail) for v in values)
        if len(set(map(_canonical, grid[key]))) != len(grid[key]):
            fail(f"grid.{k}: a value is repeated: {_toml(values)}")
    for k, v in fixed_raw.items():
        key = schema.key(k, f"fixed.{k}", fail)
        if key in grid:
            fail(f"fixed.{k}: also in [grid]; set a key in one place only")
        if key in fixed:
            fail(f"fixed.{k}: sets {key} a second time")
        fixed[key] = schema.value(key, v, f"fixed.{k}", fail)
    return grid, fixed


def _seeds(raw, fail) -> tuple:
    from ..options import Option, convert

    if "seeds" not in raw:
        fail("seeds: missing; give a list of integer seeds, e.g. seeds = [0, 1, 2]")
    try:
        return convert(Option("seeds", "ints", low=0), raw["seeds"], "seeds")
    except ConfigError as e:
        fail(str(e))


def _check_data(value, where, fail):
    """A dataset spec's form, and the file or folder it names: cheap checks, before any trial loads it."""
    if not isinstance(value, str):
        return  # the config's own checks report the type
    from ..data import _resolve
    from ..errors import DataError

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
    from ..experiments import sorted_names

    return sorted_names()


class _Schema:
    """The config keys of an experiment (or of ``train``), their options, and how a config is built."""

    def __init__(self, experiment, quick=False):
        self.experiment = experiment
        self.quick = quick
        if experiment == "train":
            from ..options import TRAIN

            self.options = {k: o for k, o in TRAIN.items() if k not in TRAIN_EXCLUDED}
        else:
            from ..experiments import get_experiment
            from ..options import options_for

            self.exp = get_experiment(experiment)
            self.options = {k: o for k, o in options_for(self.exp.config_cls).items() if k != "seeds"}
        self.fields = list(self.options)

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
        """``v`` checked by the option's converter (``neuronet.options``); lists become tuples.

        A train option keeps the form it was written in (``hidden = "128,64"`` stays a string), so
        that the grid point shows what the spec says; the config built from it is normalised.
        """
        from ..options import convert

        try:
            checked = convert(self.options[key], v, where)
        except ConfigError as e:
            fail(str(e))
        if self.experiment == "train" and self.options[key].kind in ("sizes", "pair", "batch"):
            return _tuples(v)
        return checked

    def config(self, values: dict, fail, where) -> dict:
        """The full validated config (without the seed) as a JSON-able dict."""
        if self.experiment == "train":
            from ..config import TrainConfig, validate, with_data_defaults

            try:  # sweeps record no diagnostics
                cfg = validate(TrainConfig(**with_data_defaults({"diagnostics": False, **values})))
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


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


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
