"""Gradient descent: plain, with momentum, and with Nesterov momentum."""

from __future__ import annotations

from .. import kernels
from ..errors import ConfigError
from .base import Optimizer, flat_views


class SGD(Optimizer):
    """Plain gradient descent.

    Update rule::

        w = w - lr * g
    """

    name = "sgd"
    kernel_passes_saved = 1  # g *= lr; p -= g: two passes, one with the kernel

    def __init__(self, lr=0.1, weight_decay=0.0):
        super().__init__(lr, weight_decay)

    def _update(self, params, grads, state):
        lr = float(self.lr)  # a Python float: rounded to the arrays' dtype on both paths (a NumPy float64 would not be)
        k = kernels.active()
        for p, g in zip(params, grads):
            flat = flat_views(k, p, g)
            if flat is not None:  # one pass, same bits
                k.sgd(*flat, p.dtype.type(lr))
                continue
            g *= lr
            p -= g


class Momentum(Optimizer):
    """Gradient descent with (heavy-ball or Nesterov) momentum.

    Update rule (the velocity ``v`` starts at 0)::

        v = momentum * v - lr * g
        w = w + v                              # heavy ball
        w = w + momentum * v - lr * g          # nesterov=True

    The Nesterov form is the one of Sutskever et al. (2013) as written by
    Keras and scikit-learn: the look-ahead is folded into the update.
    """

    name = "momentum"
    state_names = ("velocity",)

    def __init__(self, lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        momentum = float(momentum)
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = momentum
        self.nesterov = bool(nesterov)
        self.velocity = None
        self.kernel_passes_saved = 6 if self.nesterov else 3  # seven or four NumPy passes, one with the kernel

    def _update(self, params, grads, state):
        lr, mu = float(self.lr), float(self.momentum)  # Python floats: the same rounding on both paths
        k = kernels.active()
        for p, g, v in zip(params, grads, state["velocity"]):
            flat = flat_views(k, p, g, v)
            if flat is not None:  # one pass over the three buffers instead of four passes; same bits
                kernel = k.nesterov if self.nesterov else k.momentum
                kernel(*flat, p.dtype.type(lr), p.dtype.type(mu))
                continue
            g *= lr  # lr * g
            v *= mu
            v -= g  # v = mu v - lr g
            if self.nesterov:
                p -= g
                g[...] = v
                g *= mu
                p += g  # w += mu v - lr g
            else:
                p += v  # w += v

    def config(self):
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Nesterov(Momentum):
    """``Momentum(nesterov=True)`` under its own registry name."""

    name = "nesterov"

    def __init__(self, lr=0.1, momentum=0.9, weight_decay=0.0):
        super().__init__(lr, momentum, nesterov=True, weight_decay=weight_decay)

    def config(self):
        c = super().config()
        c.pop("nesterov")
        return c
