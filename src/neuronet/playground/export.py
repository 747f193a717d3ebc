"""The "Export" button: the ``neuronet train`` command and TOML config that rerun a playground scene from the CLI.

The configuration goes through ``neuronet.config.validate``, the same schema the command line
uses, so an exported command is valid by construction.  The 2-D sets are not among the CLI's
named data sets; their exact train/test split is offered as a ``.npz`` file (arrays ``X``,
``y``, ``X_test``, ``y_test``) that ``--data FILE.npz`` reads.
"""

from __future__ import annotations

import json
import math
import shlex

from ..config import TrainConfig, validate
from .datasets import PlayData
from .options import OUTPUTS, SOFT_TARGETS, init_spec

_FLAG_ORDER = (
    "data",
    "hidden",
    "activation",
    "output",
    "loss",
    "init",
    "targets",
    "prime_offset",
    "optimizer",
    "lr",
    "batch_size",
    "epochs",
    "validation_split",
    "seed",
    "standardize",
)


def data_spec(config: dict, data: PlayData) -> tuple[str, bool]:
    """``(--data value, needs the .npz file)`` for the session's data set."""
    if data.name == "encoder":
        return "encoder:8-3-8", False
    if data.name == "digits" and abs(config["train-fraction"] - 0.8) < 1e-9:
        return "digits", False  # the CLI's own seeded 80/20 split: the same samples
    return f"playground-{data.name}-seed{config['seed']}.npz", True


def train_config(config: dict, data: PlayData, epochs: float) -> TrainConfig:
    """The ``TrainConfig`` equivalent to the session's options, validated by the CLI's schema."""
    output, loss = OUTPUTS[config["output"]]
    spec, _ = data_spec(config, data)
    cfg = TrainConfig(
        data=spec,
        hidden=tuple(config["hidden-layers"]),
        activation=config["activation"],
        output=output,
        loss=loss,
        init=init_spec(config),
        targets=SOFT_TARGETS if config["soft-targets"] and data.task == "classification" else None,
        prime_offset=float(config["prime-offset"]),
        optimizer=config["optimizer"],
        lr=float(config["learning-rate"]),
        batch_size=int(config["batch-size"]),
        epochs=max(1, math.ceil(epochs - 1e-9)),
        validation_split=0.0,
        seed=int(config["seed"]),
        standardize=data.standardized,
    )
    return validate(cfg)


def _flag(name: str, value) -> list[str]:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return [flag] if value else []
    if isinstance(value, tuple):
        return [flag, ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)]
    if isinstance(value, float):
        return [flag, f"{value:g}"]
    return [flag, str(value)]


def command(cfg: TrainConfig) -> str:
    """A shell command line for ``cfg`` (every option that shapes the run, spelled out)."""
    d = dict(vars(cfg))
    words = ["neuronet", "train"]
    for name in _FLAG_ORDER:
        value = d[name]
        if value is None or (name == "prime_offset" and value == 0):
            continue
        words += _flag(name, value)
    return " ".join(shlex.quote(w) for w in words)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def toml(cfg: TrainConfig) -> str:
    """The same options as a TOML file for ``neuronet train --config FILE``."""
    lines = ["# neuronet train --config this-file.toml  (exported from neuronet playground)"]
    d = dict(vars(cfg))
    for name in _FLAG_ORDER:
        if d[name] is not None:
            lines.append(f"{name.replace('_', '-')} = {_toml_value(d[name])}")
    return "\n".join(lines) + "\n"


def export(config: dict, data: PlayData, epochs: float) -> dict:
    """``{"command", "toml", "data_file"}``; ``data_file`` is the .npz name to download, or None."""
    cfg = train_config(config, data, epochs)
    spec, needs_file = data_spec(config, data)
    return {
        "command": command(cfg),
        "toml": toml(cfg),
        "data_file": spec if needs_file else None,
        "note": "same data, options and epochs; the CLI draws its own weights and batch order from the seed",
    }
