"""The optimizer interface shared by every update rule."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError


def _positive(name, value, allow_zero=False):
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and np.isfinite(value)):
        raise ConfigError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value}")
    return value


class Optimizer:
    """Base class: ``step(params, grads)`` updates ``params`` in place.

    State (velocities, moments, previous slopes) lives in lists aligned with
    ``params`` and is created on the first step.  ``weight_decay`` adds the L2
    term ``weight_decay * W`` to the gradient of every weight matrix (2-D
    parameter); biases are not decayed.  ``step`` may overwrite ``grads``: they
    are recomputed by every backward pass.
    """

    name = "optimizer"
    #: names of the per-parameter state lists, for checkpoints
    state_names: tuple[str, ...] = ()

    def __init__(self, lr, weight_decay=0.0):
        self.lr = _positive("lr", lr)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)
        self.iterations = 0

    def _decay(self, params, grads):
        if self.weight_decay:
            for p, g in zip(params, grads):
                if p.ndim == 2:
                    g += self.weight_decay * p

    def _init_state(self, params):
        for n in self.state_names:
            setattr(self, n, [np.zeros_like(p) for p in params])

    def step(self, params, grads):
        if self.iterations == 0 and self.state_names and getattr(self, self.state_names[0], None) is None:
            self._init_state(params)
        self._decay(params, grads)
        self._update(params, grads)
        self.iterations += 1

    def _update(self, params, grads):
        raise NotImplementedError

    # -- state for checkpoints ---------------------------------------------------------
    def state_dict(self) -> dict:
        """Hyper-parameters and per-parameter arrays (copies), for checkpoints."""
        arrays = {}
        for n in self.state_names:
            lst = getattr(self, n, None)
            if lst is not None:
                for i, a in enumerate(lst):
                    arrays[f"{n}.{i}"] = a.copy()
        return {"config": self.config(), "iterations": self.iterations, "arrays": arrays}

    def load_state_dict(self, state, params):
        """Restore what ``state_dict`` returned; ``params`` gives the expected shapes."""
        self.iterations = int(state["iterations"])
        arrays = state["arrays"]
        for n in self.state_names:
            keys = [f"{n}.{i}" for i in range(len(params))]
            if all(k in arrays for k in keys):
                lst = []
                for k, p in zip(keys, params):
                    a = np.asarray(arrays[k])
                    if a.shape != p.shape:
                        raise ConfigError(f"optimizer state {k}: expected shape {p.shape}, got {a.shape}")
                    lst.append(a.astype(p.dtype, copy=True))
                setattr(self, n, lst)
            elif any(k in arrays for k in keys):
                raise ConfigError(f"optimizer state {n!r} is incomplete")
            else:
                setattr(self, n, None)

    def config(self) -> dict:
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay}

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({inner})"
