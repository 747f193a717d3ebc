"""The estimators' hyperparameters, checked by the project's one option converter.

Parameters that mean the same as a training option are checked by that option
(``neuronet.options.TRAIN``); those whose scikit-learn rules differ (``momentum`` may be 1,
``batch_size`` may be ``"auto"``, ...) are declared once in ``ESTIMATOR_OPTIONS``.  Every
value goes through ``options.convert(option, value, where=<parameter name>)``, so a bad one
raises ``ConfigError`` (a ``ValueError``) ``"<parameter>: <problem>"``, e.g.
``"learning_rate_init: must be > 0, got -1"``.

Parameters not listed here are checked where they are used: unit, loss, initializer and
optimizer names by their registries when the network is built, ``random_state`` by
``seed_from``.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from ..errors import ConfigError
from ..options import TRAIN, Option, convert

__all__ = ["ESTIMATOR_OPTIONS", "SHARED_OPTIONS", "check_hyperparameters", "seed_from"]


def _auto_or_count(value):
    if value != "auto" and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
        raise ConfigError(f"expected 'auto' or an integer >= 1, got {value!r}")


def _verbosity(value):
    if not isinstance(value, (bool, np.bool_)) and not (isinstance(value, numbers.Integral) and value >= 0):
        raise ConfigError(f"expected True, False or an integer >= 0, got {value!r}")


#: estimator parameter -> the training option it is (the estimator's ``dtype`` may also be None:
#: float32 input stays float32, anything else becomes float64).
SHARED_OPTIONS: dict[str, Option] = {
    "hidden_layer_sizes": TRAIN["hidden"],
    "learning_rate_init": TRAIN["lr"],
    "alpha": TRAIN["weight_decay"],
    "target_range": TRAIN["targets"],
    "dtype": dataclasses.replace(TRAIN["dtype"], optional=True),
}

#: The parameters with scikit-learn's own rules.
ESTIMATOR_OPTIONS: tuple[Option, ...] = (
    Option("solver", "str", "adam", "Weight optimizer.", choices=("sgd", "adam", "lbfgs")),
    Option(
        "learning_rate",
        "str",
        "constant",
        "Step size schedule of solver='sgd'.",
        choices=("constant", "invscaling", "adaptive"),
    ),
    Option("power_t", "float", 0.5, "Exponent of the 'invscaling' schedule.", low=0),
    Option("tol", "float", 1e-4, "Smallest improvement that counts.", low=0),
    Option("epsilon", "float", 1e-8, "Adam's numerical stability term.", low=0, low_open=True),
    Option("max_iter", "int", 200, "Epochs (solver='lbfgs': iterations).", low=1),
    Option("n_iter_no_change", "int", 10, "Epochs without improvement before stopping.", low=1),
    Option("max_fun", "int", 15000, "Most loss evaluations of L-BFGS.", low=1),
    Option("momentum", "float", 0.9, "Momentum of solver='sgd'.", low=0, high=1),
    Option(
        "validation_fraction",
        "float",
        0.1,
        "Held out for early stopping.",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    ),
    Option("beta_1", "float", 0.9, "Adam's first-moment decay.", low=0, high=1, high_open=True),
    Option("beta_2", "float", 0.999, "Adam's second-moment decay.", low=0, high=1, high_open=True),
    Option("batch_size", "any", "auto", "Mini-batch size, or 'auto': min(200, n_samples).", check=_auto_or_count),
    # switches: True or False only, as scikit-learn has them ("no" is a non-empty string, so truthy)
    Option("shuffle", "bool", True, "Shuffle the samples every epoch."),
    Option("verbose", "any", False, "Print one line per epoch (True or an integer >= 0).", check=_verbosity),
    Option("warm_start", "bool", False, "Continue from the previous fit's weights."),
    Option("nesterovs_momentum", "bool", True, "Nesterov's momentum with solver='sgd'."),
    Option("early_stopping", "bool", False, "Stop when the validation score stops improving."),
)

_OPTIONS: dict[str, Option] = {**SHARED_OPTIONS, **{o.name: o for o in ESTIMATOR_OPTIONS}}


def _plain(value):
    """numpy scalars and arrays as Python numbers and lists, as the converter expects them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check_hyperparameters(est) -> dict:
    """``{parameter: value}`` for every parameter above, checked and normalised.

    ``hidden_layer_sizes`` comes back as a tuple of ints (an int is one layer), the numbers
    as ``float``/``int``, ``dtype`` as None or a name.  Raises ``ConfigError`` naming the
    first bad parameter.
    """
    out = {}
    for name, opt in _OPTIONS.items():
        value = _plain(getattr(est, name))
        if name == "dtype" and (isinstance(value, np.dtype) or value in (np.float32, np.float64)):
            value = np.dtype(value).name
        out[name] = convert(opt, value, where=name)
    return out


def seed_from(random_state) -> int:
    """An int seed from scikit-learn's random_state conventions (None: fresh entropy)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int32).max))
    raise ValueError(f"random_state must be None, an int, a RandomState or a Generator; got {random_state!r}")
