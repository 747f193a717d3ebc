"""The training configuration shared by ``neuronet train``, config files and model files.

Precedence: defaults < ``--preset NAME`` < ``--config FILE.toml`` < command-line flags.  A preset
(``options.PRESETS``) replaces the table's defaults; anything the config file or the command line
sets wins over it, even a value equal to the table's default.  The preset is named on the command
line or in the config file (the command line wins).  ``resolve`` applies it; ``validate`` only
checks values.  The configuration is printed at the start of a run; the model file stores it with
the output unit and loss filled in (``trainjob.resolved_config``).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

from .errors import ConfigError
from .options import TRAIN, TRAIN_OPTIONS, convert, preset_values


class _TrainConfigMethods:
    """Methods of ``TrainConfig``; its fields are generated from ``options.TRAIN_OPTIONS``."""

    #: keys that do not change the trained weights of a given epoch
    OUTPUT_KEYS = tuple(o.name for o in TRAIN_OPTIONS if o.output)
    #: keys added after checkpoints existed: left at None (auto) they are not hashed, so an
    #: older checkpoint still resumes
    LATER_KEYS = ("task", "header")

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
        for k in self.LATER_KEYS:
            if d[k] is None:
                d.pop(k)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


_HINTS = {"int": int, "float": float, "bool": bool, "str": str, "sizes": tuple, "pair": tuple, "batch": int}

#: The training configuration: one frozen dataclass field per option of ``options.TRAIN_OPTIONS``.
TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [
        (o.name, _HINTS[o.kind] | None if o.optional else _HINTS[o.kind], dataclasses.field(default=o.default))
        for o in TRAIN_OPTIONS
    ],
    bases=(_TrainConfigMethods,),
    frozen=True,
)
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = "The resolved options of one training run (see ``neuronet.options.TRAIN_OPTIONS``)."

FIELD_NAMES = tuple(TRAIN)


def validate(cfg) -> TrainConfig:
    """Check every value; return a normalised copy or raise ConfigError naming the option."""
    c = cfg.to_dict()
    if c["hidden"] in (None, "", []):
        c["hidden"] = ()
    for name, opt in TRAIN.items():
        c[name] = convert(opt, c[name])
    if c["resume"] and not c["checkpoint_dir"]:
        raise ConfigError("--resume: needs --checkpoint-dir DIR to resume from")
    return TrainConfig(**c)


def load_toml(path) -> dict:
    """Options from a TOML file: top-level keys named like the flags (``batch-size`` or ``batch_size``)."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"--config {path}: is a folder; give a TOML file")
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
        if key in out:  # batch-size and batch_size both: which one was meant?
            raise ConfigError(f"--config {path}: {k!r} sets {key.replace('_', '-')} a second time")
        if key not in FIELD_NAMES:
            raise ConfigError(
                f"--config {path}: unknown key {k!r}; valid keys: {', '.join(n.replace('_', '-') for n in FIELD_NAMES)}"
            )
        out[key] = convert(TRAIN[key], v, f"--config {path}: {k}")
    return out


def resolve(flags: dict, config_file=None) -> TrainConfig:
    """Defaults, then the preset, then the config file, then the flags that were given (not None).

    >>> cfg = resolve({"preset": "lecture-baseline", "optimizer": "momentum"})
    >>> cfg.output, cfg.loss, cfg.optimizer
    ('sigmoid', 'squared-error', 'momentum')
    """
    given = load_toml(config_file) if config_file is not None else {}
    given.update({k: v for k, v in flags.items() if v is not None})
    values = {**preset_values(given.get("preset")), **given}
    return validate(TrainConfig(**with_data_defaults(values)))


def with_data_defaults(values: dict) -> dict:
    """``values`` with what the data spec implies where no option says it: ``encoder:N-M-N`` names
    its hidden layer, M units.  For every path that builds a ``TrainConfig`` (the command, sweeps)."""
    if "hidden" not in values and str(values.get("data", "")).lower().startswith("encoder:"):
        return {**values, "hidden": _encoder_hidden(values["data"])}
    return values


def _encoder_hidden(spec: str) -> tuple:
    """``encoder:N-M-N`` names its hidden layer: M units, unless ``--hidden`` says otherwise."""
    from .data.synthetic import parse_encoder_spec
    from .errors import DataError

    try:
        return (parse_encoder_spec(spec.lower())[1],)
    except DataError:
        return TRAIN["hidden"].default  # the loader names the bad spec when it reads it
