"""The optimizer interface shared by every update rule."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..errors import ConfigError
from ..parameters import Parameters


def _positive(name, value, allow_zero=False):
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and np.isfinite(value)):
        raise ConfigError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value}")
    return value


def flat_views(k, *arrays):
    """1-D views of C-contiguous arrays of one float dtype, for a compiled kernel ``k``; None if
    there is no kernel or an array does not qualify (the update rule then runs in NumPy)."""
    if k is None:
        return None
    first = arrays[0]
    dt = first.dtype
    if dt not in (np.float32, np.float64):
        return None
    for a in arrays:
        if a.dtype != dt or not a.flags.c_contiguous or a.shape != first.shape:
            return None
    return arrays if first.ndim == 1 else tuple(a.reshape(-1) for a in arrays)


class Optimizer:
    """Base class: ``step(parameters)`` updates a network's ``Parameters`` in place.

    ``step(net.parameters)`` updates the flat buffer ``parameters.data`` from
    ``parameters.grad`` with one array operation per step; the optimizer's state
    (velocities, moments, previous slopes) is a flat buffer of the same layout,
    created on the first step.  ``step(params, grads)`` with two aligned lists of
    arrays works too, with state in lists aligned with ``params`` (one operation
    per array).  Both paths give bit-identical results.

    ``weight_decay`` adds the L2 term ``weight_decay * W`` to the gradient of
    every weight matrix (2-D parameter); biases are not decayed.  ``step`` may
    overwrite the gradients: they are recomputed by every backward pass, and what
    ``parameters.grad`` holds after a step is unspecified (the NumPy path leaves
    ``lr * g`` there, the compiled kernels of ``neuronet.kernels`` leave ``g``).
    Hyper-parameters (``lr``, ``momentum``, ...) are used as Python floats, so a
    NumPy scalar assigned to them rounds the same way as a float.
    """

    name = "optimizer"
    #: names of the per-parameter state lists, for checkpoints
    state_names: tuple[str, ...] = ()
    #: scratch arrays the update rule needs (name -> dtype, None: the parameters' dtype);
    #: not state: never saved, contents undefined between steps
    scratch: ClassVar[dict] = {}
    #: Passes over the parameter buffer the compiled kernel saves per step (NumPy's passes minus its one);
    #: ``Trainer`` weighs loading the kernels with it (``kernels.expected_saving``).  0: no kernel; a
    #: subclass whose own ``_update`` calls no kernel sets 0.
    kernel_passes_saved: int = 0

    def __init__(self, lr, weight_decay=0.0):
        self.lr = _positive("lr", lr)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)
        self.iterations = 0
        self._layout = None  # the Parameters (or list of shapes) the state is aligned with
        self._flat_state = None  # name -> flat state buffer, on the Parameters path
        self._args = None  # _update's arguments, built once per layout

    def _decay(self, params, grads):
        if self.weight_decay:
            for p, g in zip(params, grads):
                if p.ndim == 2:
                    g += self.weight_decay * p

    def _scratch(self, like):
        return {n: [np.empty(a.shape, a.dtype if dt is None else dt) for a in like] for n, dt in self.scratch.items()}

    def _init_flat(self, parameters):
        """Zeroed flat state for ``parameters``, with per-parameter views as the public state lists."""
        self._layout = parameters
        self._flat_state = {n: np.zeros_like(parameters.data) for n in self.state_names}
        for n, buf in self._flat_state.items():
            setattr(self, n, parameters.split(buf))
        state = {n: [buf] for n, buf in self._flat_state.items()}
        self._args = ([parameters.data], [parameters.grad], {**state, **self._scratch([parameters.data])})

    def _init_lists(self, params):
        self._layout = tuple((p.shape, p.dtype) for p in params)
        self._flat_state = None
        for n in self.state_names:
            setattr(self, n, [np.zeros_like(p) for p in params])
        self._args = self._scratch(params)

    def step(self, params, grads=None):
        """Update the parameters in place from their gradients (which ``step`` may overwrite).

        ``params`` is a network's ``Parameters`` (``step(net.parameters)``), or a list
        of arrays with ``grads`` the aligned list of their gradients.
        """
        if isinstance(params, Parameters):
            if grads is not None:
                raise ConfigError("step(parameters) takes the gradients from parameters.grad; pass no grads")
            if self._layout is not params:
                if self._flat_state is not None and params.shapes == self._layout.shapes:
                    self._adopt(params)  # another network of the same layout: the state carries over
                else:
                    self._init_flat(params)
            self._decay(params.values, params.grads)
            self._update(*self._args)
        else:
            params, grads = list(params), list(grads)
            if self._layout != tuple((p.shape, p.dtype) for p in params):
                self._init_lists(params)
            self._decay(params, grads)
            state = {n: getattr(self, n) for n in self.state_names}
            self._update(params, grads, {**state, **self._args})
        self.iterations += 1

    def _adopt(self, parameters):
        """Keep the current state values but align them with another ``Parameters`` of the same layout."""
        old = {n: buf.copy() for n, buf in self._flat_state.items()}
        self._init_flat(parameters)
        for n, buf in self._flat_state.items():
            np.copyto(buf, old[n])

    def _update(self, params, grads, state):
        """Update rule on aligned lists; ``state`` maps each of ``state_names`` to its list."""
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
        """Restore what ``state_dict`` returned; ``params`` (a ``Parameters`` or a list of
        arrays) gives the layout the state is aligned with."""
        self.iterations = int(state["iterations"])
        arrays = state["arrays"]
        values = params.values if isinstance(params, Parameters) else list(params)
        for n in self.state_names:
            keys = [f"{n}.{i}" for i in range(len(values))]
            if any(k in arrays for k in keys) and not all(k in arrays for k in keys):
                raise ConfigError(f"optimizer state {n!r} is incomplete")
            for k, p in zip(keys, values):
                if k in arrays and np.shape(arrays[k]) != p.shape:
                    raise ConfigError(f"optimizer state {k}: expected shape {p.shape}, got {np.shape(arrays[k])}")
        if self.state_names and all(f"{n}.0" in arrays for n in self.state_names):
            if isinstance(params, Parameters):
                self._init_flat(params)
            else:
                self._init_lists(values)
            for n in self.state_names:
                for i, a in enumerate(getattr(self, n)):
                    np.copyto(a, np.asarray(arrays[f"{n}.{i}"]), casting="unsafe")
        else:  # no state saved (a fresh optimizer, or one without state): start from zero
            self._layout = self._flat_state = self._args = None
            for n in self.state_names:
                setattr(self, n, None)

    def config(self) -> dict:
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay}

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({inner})"
