"""Adam (Kingma & Ba, 2015)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import kernels
from ..errors import ConfigError
from .base import Optimizer, _positive, flat_views


class Adam(Optimizer):
    """Adam with bias-corrected moment estimates.

    Update rule (t counts steps from 1; ``m`` and ``v`` start at 0)::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        w = w - lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)

    The last line is Kingma & Ba's "efficient" ordering (Algorithm 1, end of
    section 2), which scikit-learn also uses.
    """

    name = "adam"
    kernel_passes_saved = 11  # twelve NumPy passes (``_update``), one with the kernel
    state_names = ("m", "v")
    scratch: ClassVar[dict] = {"tmp": None}

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        for n, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= float(b) < 1.0:
                raise ConfigError(f"{n} must lie in [0, 1), got {b}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _positive("epsilon", epsilon)
        self.m = self.v = None

    def _update(self, params, grads, state):
        t = self.iterations + 1
        b1, b2, eps = float(self.beta_1), float(self.beta_2), float(self.epsilon)  # the same rounding on both paths
        step = float(self.lr) * math.sqrt(1 - b2**t) / (1 - b1**t)
        k = kernels.active()
        for p, g, m, v, tmp in zip(params, grads, state["m"], state["v"], state["tmp"]):
            flat = flat_views(k, p, g, m, v)
            if flat is not None:  # one pass instead of twelve; same bits
                c = p.dtype.type
                k.adam(*flat, c(b1), c(1 - b1), c(b2), c(1 - b2), c(eps), c(step))
                continue
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)
            m += tmp  # m = b1 m + (1 - b1) g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp  # v = b2 v + (1 - b2) g^2
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)  # m / (sqrt(v) + eps)
            tmp *= step
            p -= tmp

    def config(self):
        return {**super().config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
