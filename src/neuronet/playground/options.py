"""The network tab's options: declared once (type, range, default, help), validated, and the remedies.

Every value the browser sends goes through :func:`validate_changes`; an invalid one raises
:class:`OptionError`, which names the option (its ``data-testid``) and says what is wrong, and
the session keeps its previous configuration.  The limits below also bound each session's
memory: at most ``MAX_LAYERS`` hidden layers of at most ``MAX_UNITS`` units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from ..options import _split_text
from .datasets import DATASETS

MAX_LAYERS = 6
MAX_UNITS = 128
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: output unit + loss pairs: name -> (output unit, loss)
OUTPUTS = {
    "sigmoid-se": ("sigmoid", "squared-error"),
    "sigmoid-logistic": ("sigmoid", "logistic"),
    "softmax-ce": ("softmax", "cross-entropy"),
    "linear-se": ("identity", "squared-error"),
}
INITS = ("normal", "fan-in", "glorot", "he")
OPTIMIZERS = ("sgd", "momentum", "adam", "quickprop")
SOFT_TARGETS = (0.15, 0.85)
PRIME_OFFSET = 0.1


class OptionError(ConfigError):
    """An invalid option value; ``field`` is the option's name (and the control's ``data-testid``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


@dataclass(frozen=True)
class Option:
    """One option: its kind ("choice", "int", "float", "bool", "layers"), range and help line."""

    name: str
    kind: str
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    low_open: bool = False


OPTIONS = {
    o.name: o
    for o in (
        Option("dataset", "choice", "xor", "four 2-D sets, a regression plane, digits, 8-3-8", choices=DATASETS),
        Option("noise", "float", 0.0, "jitter of the 2-D points (plane units)", 0.0, 0.5),
        Option("train-fraction", "float", 0.5, "share of the points used for training", 0.1, 0.9),
        Option("seed", "int", 0, "seeds the data, the weights and the batch order", 0, 2**31 - 1),
        Option("hidden-layers", "layers", (4, 4), f"units per hidden layer (0–{MAX_LAYERS} layers)", 1, MAX_UNITS),
        Option("activation", "choice", "sigmoid", "the hidden units", choices=ACTIVATIONS),
        Option("output", "choice", "softmax-ce", "output unit and loss", choices=tuple(OUTPUTS)),
        Option("init", "choice", "fan-in", "initial weights", choices=INITS),
        Option("init-std", "float", 1.0, "σ of normal:σ", 0.0, 10.0, low_open=True),
        Option("soft-targets", "bool", False, "remedy ②: targets 0.15/0.85 instead of 0/1"),
        Option("prime-offset", "float", 0.0, "remedy ③: added to S′ in backprop", 0.0, 1.0),
        Option("optimizer", "choice", "sgd", "the update rule", choices=OPTIMIZERS),
        Option("learning-rate", "float", 0.1, "step size", 0.0, 10.0, low_open=True),
        Option("batch-size", "int", 16, "examples per update", 1, 1024),
        Option("speed", "int", 5, "mini-batch updates per frame", 1, 100),
    )
}
DEFAULTS = {name: o.default for name, o in OPTIONS.items()}


def _short(value, limit=40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(o: Option, value):
    if isinstance(value, bool) or value is None:
        raise OptionError(o.name, f"expected a number, got {value!r}")
    try:
        v = float(value) if isinstance(value, str) else value
        v = float(v)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 310 digits and more
        raise OptionError(o.name, f"expected a number, got {_short(value)}") from None
    if not math.isfinite(v):
        raise OptionError(o.name, f"expected a finite number, got {value!r}")
    if o.kind in ("int", "layers"):  # a layer's unit count is a whole number too
        if not v.is_integer():
            raise OptionError(o.name, f"expected a whole number, got {value!r}")
        v = int(v)
    if v < o.low or (o.low_open and v == o.low):
        raise OptionError(o.name, f"must be {'>' if o.low_open else '≥'} {o.low:g}, got {value!r}")
    if v > o.high:
        raise OptionError(o.name, f"must be ≤ {o.high:g}, got {value!r}")
    return v


def _layers(o: Option, value):
    if isinstance(value, str):

        def fail(problem):
            raise OptionError(o.name, problem)

        value = _split_text(value, fail)  # the option converter's own splitting: an empty item is refused
    if not isinstance(value, (list, tuple)):
        raise OptionError(o.name, f"expected a list of unit counts such as 4,4, got {value!r}")
    if len(value) > MAX_LAYERS:
        raise OptionError(o.name, f"at most {MAX_LAYERS} hidden layers, got {len(value)}")
    sizes = []
    for i, v in enumerate(value):
        try:
            sizes.append(_number(o, v))
        except OptionError as e:
            raise OptionError(o.name, f"layer {i + 1}: {e.detail} (each layer has 1–{MAX_UNITS} units)") from None
    return tuple(sizes)


def check_option(name: str, value):
    """The normalised value of one option, or ``OptionError``."""
    o = OPTIONS.get(name)
    if o is None:
        raise OptionError(name, f"unknown option; valid: {', '.join(OPTIONS)}")
    if o.kind == "choice":
        if value not in o.choices:
            raise OptionError(name, f"unknown value {value!r}; valid: {', '.join(o.choices)}")
        return value
    if o.kind == "bool":
        if not isinstance(value, bool):
            raise OptionError(name, f"expected true or false, got {value!r}")
        return value
    if o.kind == "layers":
        return _layers(o, value)
    return _number(o, value)


def task_of(dataset: str) -> str:
    return "regression" if dataset == "wave" else "classification"


def validate_changes(config: dict, changes: dict) -> tuple[dict, list[str]]:
    """``config`` updated with ``changes`` (all checked), and notes on automatic adjustments.

    Switching between a classification set and the regression set switches the output pair
    (regression needs a linear output); choosing a pair that does not fit the task is an error.
    """
    if not isinstance(changes, dict):
        raise OptionError("config", f"expected an object of option values, got {type(changes).__name__}")
    new = dict(config)
    for name, value in changes.items():
        new[name] = check_option(name, value)
    notes = []
    regression = task_of(new["dataset"]) == "regression"
    if "dataset" in changes and "output" not in changes:
        if regression and new["output"] != "linear-se":
            new["output"], notes = "linear-se", ["regression: output switched to linear + squared error"]
        elif not regression and new["output"] == "linear-se":
            new["output"], notes = "softmax-ce", ["classification: output switched to softmax + cross-entropy"]
    if regression and new["output"] != "linear-se":
        raise OptionError("output", "the regression set needs a linear output with squared error (linear-se)")
    if not regression and new["output"] == "linear-se":
        raise OptionError("output", "linear-se is for the regression set; choose a sigmoid or softmax output")
    return new, notes


# -- the five remedies ----------------------------------------------------------------------------
REMEDIES = {
    1: "fan-in init: σ = 1/√n for a unit with n inputs, so the weighted sum starts small",
    2: "targets 0.15/0.85: outputs need not reach the flat tails of the sigmoid",
    3: "S′ + 0.1 in backprop: a saturated unit still passes a gradient (not steepest descent)",
    4: "cross-entropy: the output delta is z − y, so a saturated output unit is not stuck",
    5: "ReLU hidden units: no saturation for positive inputs (but units can die)",
}


def remedy_state(config: dict) -> dict[int, bool]:
    """Which remedies the configuration applies."""
    return {
        1: config["init"] == "fan-in",
        2: bool(config["soft-targets"]),
        3: config["prime-offset"] > 0,
        4: config["output"] in ("sigmoid-logistic", "softmax-ce"),
        5: config["activation"] == "relu",
    }


def remedy_changes(config: dict, which, on) -> dict:
    """The option changes that switch remedy ``which`` (1–5) on or off."""
    if which not in REMEDIES or isinstance(which, bool):
        raise OptionError("remedy", f"expected a remedy number 1–5, got {which!r}")
    if not isinstance(on, bool):
        raise OptionError("remedy", f"expected on = true or false, got {on!r}")
    regression = task_of(config["dataset"]) == "regression"
    if which in (2, 4) and regression:
        raise OptionError(f"remedy-{which}", "applies to classification outputs; the regression set uses linear + SE")
    if which == 1:
        return {"init": "fan-in"} if on else {"init": "normal", "init-std": 1.0}
    if which == 2:
        return {"soft-targets": on}
    if which == 3:
        return {"prime-offset": PRIME_OFFSET if on else 0.0}
    if which == 4:
        if on:
            return {} if config["output"] == "softmax-ce" else {"output": "sigmoid-logistic"}
        return {"output": "sigmoid-se"}
    return {"activation": "relu" if on else "sigmoid"}


def init_spec(config: dict) -> str:
    """The engine's initializer name: ``normal:σ``, ``fan-in``, ``glorot`` or ``he``."""
    return f"normal:{config['init-std']:g}" if config["init"] == "normal" else config["init"]
