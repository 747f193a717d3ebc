"""The training configuration shared by ``neuronet train``, config files and model files.

Precedence: defaults < ``--config FILE.toml`` < command-line flags.  The resolved
configuration is printed at the start of a run and stored in the model file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import ConfigError
from .init import get_init
from .optim import OPTIMIZERS
from .units import get_unit


@dataclass(frozen=True)
class TrainConfig:
    data: str = "digits"
    hidden: tuple = (100,)
    activation: str = "sigmoid"
    output: str | None = None  # softmax for classification, identity for regression
    loss: str | None = None  # the output unit's fused partner, else squared-error
    init: str = "fan-in"
    targets: tuple | None = None  # (low, high), e.g. (0.15, 0.85)
    prime_offset: float = 0.0
    optimizer: str = "momentum"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    epochs: int = 20
    batch_size: int | None = 64  # None: full batch
    validation_split: float = 0.1
    dropout: float = 0.0
    max_grad_norm: float | None = None
    seed: int = 0
    dtype: str = "float32"
    standardize: bool = False
    label_column: int | None = None
    max_train: int | None = None
    max_test: int | None = None
    diagnostics: bool = True
    # where things go (not part of the configuration hash)
    out: str | None = None
    checkpoint_dir: str | None = None
    resume: bool = False
    report: str | None = None

    #: keys that do not change the trained weights of a given epoch
    OUTPUT_KEYS = ("epochs", "out", "checkpoint_dir", "resume", "report")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for k in ("hidden", "targets"):
            if isinstance(d[k], tuple):
                d[k] = list(d[k])
        return d

    def training_dict(self) -> dict:
        """The keys that determine the weights after each epoch (for checkpoint hashes)."""
        d = self.to_dict()
        for k in self.OUTPUT_KEYS:
            d.pop(k)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))


def _option(name):
    return "--" + name.replace("_", "-")


def _parse_ints(name, value):
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    elif isinstance(value, int):
        parts = [value]
    else:
        raise ConfigError(f"{_option(name)}: expected comma-separated integers like 128,64, got {value!r}")
    try:
        ints = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        raise ConfigError(f"{_option(name)}: expected comma-separated integers like 128,64, got {value!r}") from None
    if any(i < 1 for i in ints):
        raise ConfigError(f"{_option(name)}: layer sizes must be >= 1, got {value!r}")
    return ints


def _parse_pair(name, value):
    if isinstance(value, str):
        parts = value.split(",")
    else:
        parts = list(value)
    try:
        low, high = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise ConfigError(f"{_option(name)}: expected two numbers low,high like 0.15,0.85, got {value!r}") from None
    if not low < high:
        raise ConfigError(f"{_option(name)}: low must be below high, got {value!r}")
    return (low, high)


def _number(name, value, kind, low=None, high=None, low_open=False, high_open=False):
    try:
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        v = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{_option(name)}: expected {'an integer' if kind is int else 'a number'}, got {value!r}"
        ) from None
    if not math.isfinite(v):
        raise ConfigError(f"{_option(name)}: must be finite, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ConfigError(f"{_option(name)}: must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ConfigError(f"{_option(name)}: must be {'<' if high_open else '<='} {high}, got {value!r}")
    return v


def validate(cfg: TrainConfig) -> TrainConfig:
    """Check every value; return a normalised copy or raise ConfigError naming the option."""
    c = cfg.to_dict()
    c["hidden"] = _parse_ints("hidden", c["hidden"]) if c["hidden"] not in (None, "", []) else ()
    if c["targets"] is not None:
        c["targets"] = _parse_pair("targets", c["targets"])
    for name in ("activation", "output"):
        if c[name] is not None:
            try:
                get_unit(c[name])
            except ConfigError as e:
                raise ConfigError(f"{_option(name)}: {e}") from None
    if c["loss"] is not None:
        from .losses import get_loss

        try:
            get_loss(c["loss"])
        except ConfigError as e:
            raise ConfigError(f"--loss: {e}") from None
    try:
        get_init(c["init"])
    except ConfigError as e:
        raise ConfigError(f"--init: {e}") from None
    if c["optimizer"] not in OPTIMIZERS:
        raise ConfigError(f"--optimizer: unknown optimizer {c['optimizer']!r}; valid: {', '.join(OPTIMIZERS)}")
    if c["dtype"] not in ("float32", "float64"):
        raise ConfigError(f"--dtype: must be float32 or float64, got {c['dtype']!r}")
    c["lr"] = _number("lr", c["lr"], float, 0, low_open=True)
    c["momentum"] = _number("momentum", c["momentum"], float, 0, 1, high_open=True)
    c["weight_decay"] = _number("weight_decay", c["weight_decay"], float, 0)
    c["prime_offset"] = _number("prime_offset", c["prime_offset"], float, 0)
    c["epochs"] = _number("epochs", c["epochs"], int, 0)
    if isinstance(c["batch_size"], str) and c["batch_size"].strip().lower() == "full":
        c["batch_size"] = None  # full-batch training
    if c["batch_size"] is not None:
        c["batch_size"] = _number("batch_size", c["batch_size"], int, 1)
    c["validation_split"] = _number("validation_split", c["validation_split"], float, 0, 1, high_open=True)
    c["dropout"] = _number("dropout", c["dropout"], float, 0, 1, high_open=True)
    if c["max_grad_norm"] is not None:
        c["max_grad_norm"] = _number("max_grad_norm", c["max_grad_norm"], float, 0, low_open=True)
    c["seed"] = _number("seed", c["seed"], int, 0)
    for name in ("max_train", "max_test"):
        if c[name] is not None:
            c[name] = _number(name, c[name], int, 1)
    if c["label_column"] is not None:
        c["label_column"] = _number("label_column", c["label_column"], int)
    if c["resume"] and not c["checkpoint_dir"]:
        raise ConfigError("--resume: needs --checkpoint-dir DIR to resume from")
    return TrainConfig(**c)


def load_toml(path) -> dict:
    """Options from a TOML file: top-level keys named like the flags (``batch-size`` or ``batch_size``)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--config {path}: no such file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"--config {path}: not valid TOML ({e})") from None
    if isinstance(raw.get("train"), dict) and len(raw) == 1:
        raw = raw["train"]
    out = {}
    for k, v in raw.items():
        key = k.replace("-", "_")
        if key not in FIELD_NAMES:
            raise ConfigError(
                f"--config {path}: unknown key {k!r}; valid keys: {', '.join(n.replace('_', '-') for n in FIELD_NAMES)}"
            )
        out[key] = v
    return out


def resolve(flags: dict, config_file=None) -> TrainConfig:
    """Defaults, then the config file, then the flags that were given (not None)."""
    values = {}
    if config_file is not None:
        values.update(load_toml(config_file))
    values.update({k: v for k, v in flags.items() if v is not None})
    return validate(TrainConfig(**values))
