"""The optimizer interface shared by every update rule."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..errors import ConfigError


def _positive(name, value, allow_zero=False):
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and np.isfinite(value)):
        raise ConfigError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value}")
    return value


def _flat(arrays):
    """The 1-D buffer that ``arrays`` exactly tile, in order, or None."""
    if not arrays:
        return None
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    addr = base.__array_interface__["data"][0]
    for a in arrays:
        if (
            a.base is not base
            or not a.flags.c_contiguous
            or a.dtype != base.dtype
            or a.__array_interface__["data"][0] != addr
        ):
            return None
        addr += a.nbytes
    return base if addr == base.__array_interface__["data"][0] + base.nbytes else None


def _views(buf, like):
    """Views of ``buf`` shaped like each array of ``like``, back to back."""
    out, off = [], 0
    for p in like:
        out.append(buf[off : off + p.size].reshape(p.shape))
        off += p.size
    return out


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
        """Zeroed state arrays aligned with ``params``; one contiguous buffer when ``params`` are one."""
        flat = _flat(params)
        self._flat_state = {} if flat is not None else None
        for n in self.state_names:
            if flat is None:
                setattr(self, n, [np.zeros_like(p) for p in params])
            else:
                buf = self._flat_state[n] = np.zeros_like(flat)
                setattr(self, n, _views(buf, params))

    #: scratch arrays the update rule needs (name -> dtype, None: the parameters' dtype);
    #: not state: never saved, contents undefined between steps
    scratch: ClassVar[dict] = {}

    def step(self, params, grads):
        """Update ``params`` in place from ``grads`` (which ``step`` may overwrite)."""
        if self.state_names and getattr(self, self.state_names[0], None) is None:
            self._init_state(params)
        self._decay(params, grads)
        flat = self._flat_args(params, grads)
        if flat is not None:  # one operation per step over every parameter
            self._update(*flat)
        else:
            state = {n: getattr(self, n) for n in self.state_names}
            self._update(params, grads, {**state, **self._scratch_for(params)})
        self.iterations += 1

    def _scratch_for(self, like):
        """Scratch lists aligned with ``like`` (cached by shape)."""
        if not self.scratch:
            return {}
        key = tuple(a.shape for a in like) + (like[0].dtype,)
        cache = self.__dict__.setdefault("_scratch", {})
        if key not in cache:
            cache.clear()
            cache[key] = {
                n: [np.empty(a.shape, a.dtype if dt is None else dt) for a in like] for n, dt in self.scratch.items()
            }
        return cache[key]

    def _flat_args(self, params, grads):
        """``_update``'s arguments over the flat buffers when ``params`` and ``grads`` are views
        into one buffer each, and the state is too; else None.  Built once, cached on the
        identity of the arrays, so a step allocates nothing here."""
        key = tuple(map(id, params)) + tuple(map(id, grads))
        if getattr(self, "_flat_key", None) != key:
            fp, fg = _flat(params), _flat(grads)
            ok = fp is not None and fg is not None and fp.dtype == fg.dtype
            if ok and self.state_names:
                st = getattr(self, "_flat_state", None)
                ok = st is not None and all(
                    st.get(n) is not None
                    and st[n].shape == fp.shape
                    and all(np.shares_memory(a, st[n]) for a in getattr(self, n))
                    for n in self.state_names
                )
            args = None
            if ok:
                state = {n: [self._flat_state[n]] for n in self.state_names}
                args = ([fp], [fg], {**state, **self._scratch_for([fp])})
            self._flat_key, self._flat_cache = key, args
        return self._flat_cache

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
        """Restore what ``state_dict`` returned; ``params`` gives the expected shapes."""
        self.iterations = int(state["iterations"])
        arrays = state["arrays"]
        for n in self.state_names:
            keys = [f"{n}.{i}" for i in range(len(params))]
            if any(k in arrays for k in keys) and not all(k in arrays for k in keys):
                raise ConfigError(f"optimizer state {n!r} is incomplete")
            for k, p in zip(keys, params):
                if k in arrays and np.shape(arrays[k]) != p.shape:
                    raise ConfigError(f"optimizer state {k}: expected shape {p.shape}, got {np.shape(arrays[k])}")
        if all(f"{n}.0" in arrays for n in self.state_names) and self.state_names:
            self._init_state(params)
            for n in self.state_names:
                for i, a in enumerate(getattr(self, n)):
                    np.copyto(a, np.asarray(arrays[f"{n}.{i}"]), casting="unsafe")
        else:
            for n in self.state_names:
                setattr(self, n, None)
        self._flat_key = None

    def config(self) -> dict:
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay}

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({inner})"
