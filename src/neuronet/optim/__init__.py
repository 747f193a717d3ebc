"""Optimizers: ``step(params, grads)`` updates the parameters in place.

Files go from simple to complex: ``sgd.py`` (plain, momentum, Nesterov),
``adam.py``, ``quickprop.py``.
"""

from ..errors import ConfigError
from .adam import Adam
from .base import Optimizer
from .quickprop import Quickprop
from .sgd import SGD, Momentum, Nesterov

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adam": Adam,
    "quickprop": Quickprop,
}


def get_optimizer(spec, **params) -> Optimizer:
    """Resolve an optimizer from an instance, a registry name or a ``config()`` dict."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, dict):
        params = {**{k: v for k, v in spec.items() if k != "name"}, **params}
        spec = spec.get("name")
    key = spec.strip().lower() if isinstance(spec, str) else None
    if key not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {spec!r}; valid optimizers: {', '.join(OPTIMIZERS)}")
    try:
        return OPTIMIZERS[key](**params)
    except TypeError as e:
        raise ConfigError(f"optimizer {key!r}: {e}") from None


__all__ = ["OPTIMIZERS", "SGD", "Adam", "Momentum", "Nesterov", "Optimizer", "Quickprop", "get_optimizer"]
