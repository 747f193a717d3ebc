"""Every training option, declared once: its kind, range, default and help, and the one converter.

``TRAIN_OPTIONS`` is the single table behind ``neuronet train``'s flags (generated from it),
TOML config files, sweep specs (``experiment = "train"``), the playground's export and the
scikit-learn estimators' shared parameters.  Adding a training option means adding one
``Option`` here (and using the value where the run is built, in ``trainjob``).

The experiments' configs are frozen dataclasses; :func:`options_for` derives their options
from the field types, so ``experiment run --set``, sweep specs and the lecture check those
values with the same code.

Two entry points, one error format (``"<where>: <problem>"``, e.g. ``"--lr: must be > 0, got -1"``):

* :func:`convert` takes a value as a program or a TOML file gives it.  It is strict: a boolean
  option takes only ``true``/``false``, an integer option refuses booleans and fractions, a
  number refuses strings (``epochs = true``, ``standardize = "false"`` and ``hidden = [true]``
  are errors, not 1, true and ``[1]``).
* :func:`parse_text` takes text typed on a command line (``--set epochs=5``) and converts it.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from dataclasses import dataclass
from types import UnionType

from .errors import ConfigError

__all__ = [
    "PRESETS",
    "TRAIN",
    "TRAIN_OPTIONS",
    "Option",
    "Preset",
    "convert",
    "describe",
    "options_for",
    "parse_text",
    "preset_values",
]

KINDS = ("int", "float", "bool", "str", "sizes", "pair", "batch", "ints", "tuple", "any")


@dataclass(frozen=True)
class Option:
    """One option.

    ``kind`` is one of:

    ``int``, ``float``, ``bool``, ``str``
        plain values (``choices`` or ``check`` restrict a string);
    ``sizes``
        layer sizes: a list of integers >= 1, one integer, or text ``"128,64"``; gives a tuple;
    ``pair``
        two numbers low < high: a list or text ``"0.15,0.85"``; gives a tuple;
    ``batch``
        an integer >= 1, or ``"full"`` (gives None: full-batch);
    ``ints``
        a non-empty list of distinct integers >= ``low`` (seeds); gives a tuple;
    ``tuple``
        a list of values of ``item`` kind (or anything, when ``item`` is None); gives a tuple;
    ``any``
        not checked here (the consumer checks it).

    ``low``/``high`` bound numbers (``low_open``/``high_open`` make the bound strict);
    ``optional`` lets the value be None; ``check(value)`` may raise ConfigError for a
    value-specific problem (e.g. an unknown unit name); ``output`` marks options that do
    not change the trained weights (where files go).
    """

    name: str
    kind: str
    default: typing.Any = None
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False
    choices: tuple | None = None
    check: typing.Callable | None = None
    item: str | None = None
    output: bool = False
    metavar: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Option {self.name}: unknown kind {self.kind!r}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# -- the converter ------------------------------------------------------------------------------
def _kind_of(v) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    return f"a {type(v).__name__}"


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        v = list(v)
    return repr(v)


class _Fail:
    def __init__(self, where):
        self.where = where

    def __call__(self, problem):
        raise ConfigError(f"{self.where}: {problem}")


def _bounds(opt: Option, v, fail):
    if not math.isfinite(v):
        fail(f"must be finite, got {_show(v)}")
    if opt.low is not None and (v < opt.low or (opt.low_open and v == opt.low)):
        fail(f"must be {'>' if opt.low_open else '>='} {_num(opt.low)}, got {_show(v)}")
    if opt.high is not None and (v > opt.high or (opt.high_open and v == opt.high)):
        fail(f"must be {'<' if opt.high_open else '<='} {_num(opt.high)}, got {_show(v)}")
    return v


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _int(opt, v, fail):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # 5.0 from a program; 5.5 and true are refused
        else:
            fail(f"expected an integer, got {_show(v)} ({_kind_of(v)})")
    return _bounds(opt, int(v), fail)


def _float(opt, v, fail):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        fail(f"expected a number, got {_show(v)} ({_kind_of(v)})")
    return float(_bounds(opt, v, fail))


def _split_text(v: str, fail=None) -> list:
    """``"1, 2,3"`` -> ``["1", "2", "3"]``; ``""`` -> ``[]``.  An empty item (``"1,,2"``, ``",,"``,
    ``"1,"``) is a value left out: ``fail`` names it (without ``fail``, empty items are dropped)."""
    items = v.replace(" ", "").split(",")
    if fail is not None and v.strip() and "" in items:
        fail(f"expected comma-separated values, got {v!r} (an empty item)")
    return [p for p in items if p]


def _sizes(opt, v, fail):
    text = "comma-separated integers like 128,64 (or a list such as [128, 64])"
    if isinstance(v, str):
        items = _split_text(v, fail)  # "4,,4" or ",,,": a size left out; "" is no hidden layers
        try:
            parts = [int(p) for p in items]
        except ValueError:
            fail(f"expected {text}, got {_show(v)}")
    elif isinstance(v, (list, tuple)):
        parts = list(v)
    elif isinstance(v, int) and not isinstance(v, bool):
        parts = [v]
    else:
        fail(f"expected {text}, got {_show(v)} ({_kind_of(v)})")
    for p in parts:
        if isinstance(p, bool) or not isinstance(p, int):
            fail(f"expected {text}, got {_show(v)}")
        if p < 1:
            fail(f"layer sizes must be >= 1, got {_show(v)}")
    return tuple(int(p) for p in parts)


def _pair(opt, v, fail):
    text = 'two numbers low,high such as [0.15, 0.85] or "0.15,0.85"'
    parts = v.split(",") if isinstance(v, str) else v
    if not isinstance(parts, (list, tuple)) or len(parts) != 2:
        fail(f"expected {text}, got {_show(v)}")
    try:
        low, high = (float(p) if isinstance(v, str) else _float(Option(opt.name, "float"), p, fail) for p in parts)
    except ValueError:
        fail(f"expected {text}, got {_show(v)}")
    if not (math.isfinite(low) and math.isfinite(high)):
        fail(f"must be finite, got {_show(v)}")
    if not low < high:
        fail(f"low must be below high, got {_show(v)}")
    return (low, high)


def _batch(opt, v, fail):
    if isinstance(v, str):
        if v.strip().lower() == "full":
            return None
        try:
            v = int(v.strip())
        except ValueError:
            fail(f'expected an integer >= 1 or "full", got {_show(v)}')
    if isinstance(v, bool) or not isinstance(v, int):
        fail(f'expected an integer >= 1 or "full", got {_show(v)} ({_kind_of(v)})')
    return _bounds(Option(opt.name, "int", low=1), v, fail)


def _ints(opt, v, fail):
    low = 0 if opt.low is None else opt.low
    example = "[0, 1, 2]"
    if not isinstance(v, (list, tuple)) or not v:
        fail(f"expected a non-empty list of integers >= {_num(low)}, e.g. {example}; got {_show(v)}")
    for s in v:
        if isinstance(s, bool) or not isinstance(s, int) or s < low:
            fail(f"{_show(s)} is not an integer >= {_num(low)}; give e.g. {example}")
    if len(set(v)) != len(v):
        fail(f"a value is repeated: {_show(v)}")
    return tuple(int(s) for s in v)


def _tuple(opt, v, fail):
    if not isinstance(v, (list, tuple)):
        fail(f"expected a list, got {_show(v)} ({_kind_of(v)})")
    if opt.item is None:
        return _deep_tuple(v)
    inner = Option(opt.name, opt.item)
    return tuple(_convert_value(inner, x, fail) for x in v)


def _deep_tuple(v):
    return tuple(_deep_tuple(x) for x in v) if isinstance(v, (list, tuple)) else v


def _convert_value(opt, v, fail):
    kind = opt.kind
    if kind == "bool":
        if not isinstance(v, bool):
            fail(f"expected true or false, got {_show(v)} ({_kind_of(v)})")
        return v
    if kind == "int":
        return _int(opt, v, fail)
    if kind == "float":
        return _float(opt, v, fail)
    if kind == "str":
        if not isinstance(v, str):
            fail(f"expected a string, got {_show(v)} ({_kind_of(v)})")
        if opt.choices is not None and v not in opt.choices:
            fail(f"must be one of {', '.join(map(str, opt.choices))}, got {v!r}")
        return v
    converters = {"sizes": _sizes, "pair": _pair, "batch": _batch, "ints": _ints, "tuple": _tuple}
    if kind in converters:
        return converters[kind](opt, v, fail)
    return _deep_tuple(v) if isinstance(v, list) else v


def convert(opt: Option, value, where: str | None = None):
    """``value`` checked and normalised for ``opt``, or ConfigError ``"<where>: <problem>"``.

    ``where`` names the option as the user wrote it (default: its flag, ``--batch-size``).
    """
    fail = _Fail(where or opt.flag)
    if value is None:
        if opt.optional or (opt.kind == "batch"):
            return None
        fail("a value is required")
    value = _convert_value(opt, value, fail)
    if opt.check is not None and value is not None:
        try:
            opt.check(value)
        except ConfigError as e:
            fail(str(e))
    return value


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_text(opt: Option, text: str, where: str | None = None):
    """Text from a command line (``--set key=value``) converted for ``opt``, then :func:`convert`."""
    fail = _Fail(where or opt.flag)
    raw = text.strip()
    if opt.optional and raw.lower() == "none":
        return None
    if opt.kind == "bool":
        if raw.lower() not in _TRUE + _FALSE:
            fail(f"expected true or false, got {raw!r}")
        return raw.lower() in _TRUE
    if opt.kind in ("int", "float"):
        try:
            value = int(raw) if opt.kind == "int" else float(raw)
        except ValueError:
            fail(f"expected {'an integer' if opt.kind == 'int' else 'a number'}, got {raw!r}")
        return convert(opt, value, where)
    if opt.kind in ("ints", "tuple"):
        items = _split_text(raw, fail)
        item = "int" if opt.kind == "ints" else opt.item
        value = [_parse_item(item, p, fail) for p in items]
        return convert(opt, value, where)
    return convert(opt, raw, where)


def _parse_item(item, text, fail):
    if item in {"int", "float"}:
        try:
            return int(text) if item == "int" else float(text)
        except ValueError:
            fail(f"{text!r} is not {'an integer' if item == 'int' else 'a number'}")
    if item is None:  # untyped: numbers where they parse, else the text
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text


# -- experiment configs: options from the dataclass's field types -------------------------------
def _kind_from_hint(name: str, hint):
    """(kind, optional, item) for a dataclass field's type hint."""
    optional = False
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is UnionType:
        inner = [a for a in args if a is not type(None)]
        optional = len(inner) < len(args)
        hint = inner[0] if len(inner) == 1 else None
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    plain = {bool: "bool", int: "int", float: "float", str: "str"}
    if hint in plain:
        return plain[hint], optional, None
    if hint is tuple or origin is tuple:
        inner = args[0] if args and args[0] is not Ellipsis else None
        return "tuple", optional, plain.get(inner)
    return "any", optional, None


def options_for(config_cls) -> dict:
    """``{field: Option}`` for an experiment's config dataclass, by the field types.

    Conventions every experiment config follows (``tests/test_options.py`` checks each config's
    quick and full values against them):

    - ``seeds`` and ``*_seeds`` are non-empty lists of distinct integers >= 0;
    - an integer whose default is >= 1 (a count or a size: epochs, points, widths, batch sizes)
      is >= 1;
    - tolerances and margins (``tolerance``, ``*_tol``, ``*_tolerance``, ``margin``, ``*_margin``)
      are >= 0; probabilities and shares (``p_*``, ``*_fraction``, ``*_share``, ``confidence``) are
      in [0, 1], a ``confidence`` in (0, 1); learning rates (``lr``, ``*_lr``) and durations and
      time constants (``*_ms``, ``tau_*``, except membrane potentials ``v_*`` and mean inputs
      ``*mu_*``) are > 0, unless the field allows 0 (a warm-up or refractory time of none);
    - numbers are finite.

    A field's ``metadata`` may set ``low``/``high`` (and ``low_open``/``high_open``) instead, and ``help``.
    """
    hints = typing.get_type_hints(config_cls)
    out = {}
    for f in dataclasses.fields(config_cls):
        kind, optional, item = _kind_from_hint(f.name, hints.get(f.name))
        default = f.default if f.default is not dataclasses.MISSING else None
        low, high, low_open, high_open = _conventional_range(f.name, kind, default)
        if f.name == "seeds" or (f.name.endswith("_seeds") and not f.name.startswith("n_")):  # n_*: a count
            kind, low = "ints", 0
        meta = f.metadata
        if "low" in meta:  # each bound the field states replaces the convention's
            low, low_open = meta["low"], meta.get("low_open", False)
        if "high" in meta:
            high, high_open = meta["high"], meta.get("high_open", False)
        out[f.name] = Option(
            f.name,
            kind,
            default=default,
            help=meta.get("help", ""),
            low=low,
            high=high,
            low_open=low_open,
            high_open=high_open,
            optional=optional,
            item=item,
        )
    return out


def _conventional_range(name: str, kind: str, default) -> tuple:
    """``(low, high, low_open, high_open)`` that ``options_for``'s naming conventions give field ``name``."""
    if kind == "int":
        counted = name == "epochs" or name.endswith("_epochs") or name.startswith("n_")
        sized = isinstance(default, int) and not isinstance(default, bool) and default >= 1
        return (1, None, False, False) if counted or sized else (None, None, False, False)
    if kind != "float":
        return None, None, False, False
    if name in ("tolerance", "margin") or name.endswith(("_tol", "_tolerance", "_margin")):
        return 0, None, False, False
    if name == "confidence":  # of a confidence interval: 0 and 1 give none
        return 0, 1, True, True
    if name.startswith("p_") or name.endswith(("_fraction", "_share")):
        return 0, 1, False, False
    timed = name.endswith("_ms") or name.startswith("tau_")
    if name == "lr" or name.endswith("_lr") or (timed and not name.startswith("v_") and "mu_" not in name):
        return 0, None, True, False
    return None, None, False, False


def _default_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value) if value.is_integer() else repr(value)
    if isinstance(value, tuple):
        return ",".join(_default_text(v) for v in value)
    return str(value)


def describe(opt: Option) -> str:
    """The help text with the default, for ``--help`` and the docs: ``"Learning rate. (default: 0.1)"``.

    An option whose default is None says in its help what None means (``--output``: the
    task's natural unit), so it gets no suffix.  Idempotent: help that already ends with the
    suffix is returned as is.
    """
    if opt.default is None:
        return opt.help
    suffix = f"(default: {_default_text(opt.default)})"
    return opt.help if opt.help.endswith(suffix) else f"{opt.help} {suffix}".strip()


# -- the training options -----------------------------------------------------------------------
def _unit(name):
    from .units import get_unit

    get_unit(name)


def _loss(name):
    from .losses import get_loss

    get_loss(name)


def _init(name):
    from .init import get_init

    get_init(name)


def _optimizer(name):
    from .optim import OPTIMIZERS

    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}")


def _path(value):
    if not value.strip():
        raise ConfigError("an empty path; give a file or folder name, or leave the option out")


# -- presets: named sets of defaults ---------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """A named set of option values that replaces the table's defaults (flags and config files override it).

    ``values`` maps option names to values in the form ``convert`` returns; ``summary`` says in
    a few words what the preset is, for ``--help``.
    """

    name: str
    summary: str
    values: dict


#: The lecture's network whose sigmoid units saturate (lecture lines 106-118): sigmoid hidden and
#: output units, squared error on 0/1 targets, plain gradient descent, N(0, 1) weights.  The
#: remedies experiment (``experiments/remedies.py``) starts from the same network.  The learning
#: rate 1 is plain SGD at the step size of the default optimizer (momentum 0.9 at rate 0.1 moves
#: by up to 0.1 / (1 - 0.9) = 1 per unit gradient), so the baseline is slowed by saturation, not
#: by a smaller step.
_BASELINE = {
    "activation": "sigmoid",
    "output": "sigmoid",
    "loss": "squared-error",
    "optimizer": "sgd",
    "lr": 1.0,
    "init": "normal:1",
}

#: name -> Preset.  Each remedy preset is the baseline with one remedy of the lecture switched on.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("lecture-baseline", "the lecture's network with saturating sigmoid units", _BASELINE),
        Preset("remedy-fan-in", "remedy 1, fan-in initialization N(0, 1/n)", {**_BASELINE, "init": "fan-in"}),
        Preset("remedy-soft-targets", "remedy 2, soft targets", {**_BASELINE, "targets": (0.15, 0.85)}),
        Preset("remedy-prime-offset", "remedy 3, S' + 0.1 in backpropagation", {**_BASELINE, "prime_offset": 0.1}),
        # the cross-entropy of a sigmoid output is the logistic loss (the lecture's scalar form), as in
        # the remedies experiment; --output softmax --loss cross-entropy gives the k-class form
        Preset(
            "remedy-cross-entropy",
            "remedy 4, cross-entropy: the logistic loss of sigmoid outputs",
            {**_BASELINE, "loss": "logistic"},
        ),
        # ReLU units need weights scaled to their fan-in (He et al. 2015): N(0, 1) weights on 64 inputs
        # make sums so large that the sigmoid outputs saturate and nothing trains
        Preset(
            "remedy-relu",
            "remedy 5, ReLU hidden units with He initialization",
            {**_BASELINE, "activation": "relu", "init": "he"},
        ),
    )
}


def _preset(name):
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")


def preset_values(name: str | None) -> dict:
    """The option values of preset ``name`` ({} for None); ConfigError naming the valid presets."""
    if name is None:
        return {}
    convert(TRAIN["preset"], name)
    return dict(PRESETS[name].values)


def _preset_help() -> str:
    def show(values):
        return ", ".join(f"{k.replace('_', '-')} {_default_text(v)}" for k, v in values.items())

    parts = []
    for p in PRESETS.values():
        changed = {k: v for k, v in p.values.items() if _BASELINE.get(k) != v}
        what = show(p.values) if p.values is _BASELINE else "the baseline with " + show(changed)
        parts.append(f"{p.name} = {what} ({p.summary})")
    return (
        "Start from a named set of defaults; --config and command-line options override it: " + "; ".join(parts) + "."
    )


_DIAGNOSTICS_HELP = (
    "Record per-layer diagnostics on a probe batch after every epoch; the epoch line shows them. "
    "Layers are numbered from 0 on the input side, as in 'neuronet inspect' and the report. "
    "'sat L0 0.12': fraction of layer 0's outputs within 0.05 of its unit's bounds (sigmoid below 0.05 "
    "or above 0.95, where S' = S(1-S) is nearly 0 and the unit learns slowly). "
    "'dead L0 0.05': fraction of layer 0's ReLU units that output 0 on every probe sample. "
    "'conf 0.97': mean largest probability of a softmax output. A softmax output gets no 'sat': its "
    "near-0 probabilities for the wrong classes are confident answers, not stuck units."
)

_DATA_HELP = (
    "Dataset: digits, fashion-mnist, mnist, idx:DIR, FILE.csv, FILE.npz, xor, "
    "encoder:N-M-N (M hidden units when no hidden sizes are given), spirals, circles."
)

_OPTIONS: tuple[Option, ...] = (
    # the preset only names where the defaults came from: the values it sets are the options
    # themselves, so it does not change the weights of a resolved run (output=True)
    Option("preset", "str", None, "", optional=True, check=_preset, output=True),
    Option("data", "str", "digits", _DATA_HELP),
    Option("hidden", "sizes", (100,), "Hidden layer sizes, comma-separated, e.g. 128,64."),
    Option(
        "activation",
        "str",
        "sigmoid",
        "Hidden unit: sigmoid, tanh, lecun-tanh, relu, leaky-relu, softplus, identity.",
        check=_unit,
    ),
    Option(
        "output", "str", None, "Output unit (default softmax; identity for regression).", optional=True, check=_unit
    ),
    Option(
        "loss",
        "str",
        None,
        "squared-error, cross-entropy or logistic (default: the output unit's natural partner).",
        optional=True,
        check=_loss,
    ),
    Option("init", "str", "fan-in", "fan-in, normal[:std], glorot, glorot-uniform, he, uniform[:r].", check=_init),
    Option("targets", "pair", None, "Soft targets low,high, e.g. 0.15,0.85 (remedy 2).", optional=True),
    Option("prime_offset", "float", 0.0, "Add this to S' of sigmoid units in backprop (remedy 3), e.g. 0.1.", low=0),
    Option("optimizer", "str", "momentum", "sgd, momentum, nesterov, adam or quickprop.", check=_optimizer),
    Option("lr", "float", 0.1, "Learning rate.", low=0, low_open=True),
    Option("momentum", "float", 0.9, "Momentum for momentum/nesterov.", low=0, high=1, high_open=True),
    Option("weight_decay", "float", 0.0, "L2 weight decay.", low=0),
    Option("epochs", "int", 20, "Epochs to train (in total, when resuming).", low=0, output=True),
    Option("batch_size", "batch", 64, "Mini-batch size, or 'full' for full-batch.", optional=True),
    Option("validation_split", "float", 0.1, "Fraction held out for validation.", low=0, high=1, high_open=True),
    Option("dropout", "float", 0.0, "Dropout probability of hidden units.", low=0, high=1, high_open=True),
    Option(
        "max_grad_norm", "float", None, "Clip the gradient norm to this value.", low=0, low_open=True, optional=True
    ),
    Option("seed", "int", 0, "Seed for weights, splits, shuffling and dropout.", low=0),
    Option("dtype", "str", "float32", "float32 or float64.", choices=("float32", "float64")),
    Option("standardize", "bool", False, "Standardize features (training statistics)."),
    Option("label_column", "int", None, "CSV: index of the label column.", optional=True),
    Option(
        "task",
        "str",
        None,
        "CSV/NPZ: classification or regression (default: regression when the labels are non-integer numbers).",
        optional=True,
        choices=("classification", "regression"),
    ),
    Option(
        "header",
        "bool",
        None,
        "CSV: the first row is (--header) or is not (--no-header) a header (default: detected).",
        optional=True,
    ),
    Option("max_train", "int", None, "Use at most this many training samples.", low=1, optional=True),
    Option("max_test", "int", None, "Use at most this many test samples.", low=1, optional=True),
    Option("diagnostics", "bool", True, _DIAGNOSTICS_HELP),
    Option(
        "out",
        "str",
        None,
        "Write the trained model to this .safetensors file.",
        optional=True,
        output=True,
        check=_path,
    ),
    Option(
        "checkpoint_dir",
        "str",
        None,
        "Save a checkpoint here after every epoch.",
        optional=True,
        output=True,
        check=_path,
    ),
    Option("resume", "bool", False, "Continue from the checkpoint in --checkpoint-dir.", output=True),
    Option(
        "overwrite",
        "bool",
        False,
        "Start afresh over an existing checkpoint in --checkpoint-dir (replacing it); --resume wins over it, "
        "so a command run with --overwrite is resumed by adding --resume.",
        output=True,
    ),
    Option(
        "report",
        "str",
        None,
        "Write an HTML training report into this folder.",
        optional=True,
        output=True,
        check=_path,
    ),
)

#: Every training option, its help ending in its default (``describe``); the preset's help lists the presets.
TRAIN_OPTIONS: tuple[Option, ...] = tuple(
    dataclasses.replace(o, help=_preset_help() if o.name == "preset" else describe(o)) for o in _OPTIONS
)

#: name -> Option
TRAIN: dict[str, Option] = {o.name: o for o in TRAIN_OPTIONS}
