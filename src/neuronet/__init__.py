"""neuronet: neural networks from the neuron up.

The engine (units, losses, initializers, layers, networks, optimizers, the
trainer and its diagnostics) is re-exported here.
"""

from .diagnostics import layer_diagnostics
from .errors import ConfigError, DataError, DivergenceError, ModelFileError, NeuronetError
from .init import INITS, get_init
from .layers import Dense
from .losses import FUSED, LOSSES, CrossEntropy, Logistic, SquaredError, get_loss
from .network import Network, mlp
from .optim import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Quickprop, get_optimizer
from .targets import encode_targets
from .train import Callback, EarlyStopping, History, LambdaCallback, Trainer
from .units import UNITS, Identity, LeakyReLU, LeCunTanh, ReLU, Sigmoid, Softmax, Softplus, Tanh, get_unit
from .version import __version__ as __version__  # re-exported

# The scikit-learn estimators (and ``load``, which may return one) import scikit-learn and
# SciPy, about a second: they load on first use, so ``import neuronet`` and the CLI start fast.
_LAZY = {"MLPClassifier": "estimators", "MLPRegressor": "estimators", "load": "persist"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neuronet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "FUSED",
    "INITS",
    "LOSSES",
    "OPTIMIZERS",
    "SGD",
    "UNITS",
    "Adam",
    "Callback",
    "ConfigError",
    "CrossEntropy",
    "DataError",
    "Dense",
    "DivergenceError",
    "EarlyStopping",
    "History",
    "Identity",
    "LambdaCallback",
    "LeCunTanh",
    "LeakyReLU",
    "Logistic",
    "MLPClassifier",
    "MLPRegressor",
    "ModelFileError",
    "Momentum",
    "Nesterov",
    "Network",
    "NeuronetError",
    "Quickprop",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "SquaredError",
    "Tanh",
    "Trainer",
    "encode_targets",
    "get_init",
    "get_loss",
    "get_optimizer",
    "get_unit",
    "layer_diagnostics",
    "load",
    "mlp",
]
