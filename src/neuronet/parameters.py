"""Who owns the weights: ``Parameters``, one flat buffer with named views.

A network's trainable arrays (``W0, b0, W1, b1, ...``) are views into one
contiguous 1-D buffer, ``data``, and their gradients are views into a second one,
``grad``, laid out the same way.  Optimizers update ``data`` from ``grad`` with one
array operation per step instead of one per array, and their state (velocities,
moments) is a flat buffer of the same layout.

The layout is explicit: ``names``, ``shapes`` and ``offsets``.  Nothing is
inferred from memory addresses, and copies (``copy.deepcopy``, pickling, ``copy()``)
rebuild the views over the new buffer, so the invariant "every view lies in
``data``" survives them.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError


class Parameters:
    """Named arrays stored back to back in one flat buffer, with a gradient buffer of the same layout.

    Parameters
    ----------
    arrays : sequence of (name, ndarray)
        Initial values, in order; copied into the new buffer.
    dtype : float32 or float64
        The buffer's dtype (every array is cast to it).

    Attributes
    ----------
    data, grad : ndarray, shape (size,)
        The values and the gradients of every array, back to back.
    names : tuple of str
    shapes : tuple of tuple
    offsets : tuple of int
        Where each array starts in ``data``.
    values, grads : list of ndarray
        Views of ``data`` and ``grad``, one per name, shaped like the arrays.

    Examples
    --------
    >>> p = Parameters([("W", np.ones((2, 3))), ("b", np.zeros(3))], np.float32)
    >>> p.size, p["W"].shape, p["b"].base is p.data
    (9, (2, 3), True)
    """

    def __init__(self, arrays, dtype=np.float32):
        arrays = [(str(n), np.asarray(a)) for n, a in arrays]
        names = [n for n, _ in arrays]
        if len(set(names)) != len(names):
            raise ConfigError(f"parameter names must be distinct, got {names}")
        self.dtype = np.dtype(dtype)
        self.names = tuple(names)
        self.shapes = tuple(a.shape for _, a in arrays)
        sizes = [math.prod(s) for s in self.shapes]
        self.offsets = tuple(int(o) for o in np.concatenate([[0], np.cumsum(sizes)])[:-1]) if sizes else ()
        self.size = int(sum(sizes))
        self.data = np.empty(self.size, self.dtype)
        self.grad = np.zeros(self.size, self.dtype)
        self._bind()
        for v, (_, a) in zip(self.values, arrays):
            np.copyto(v, a, casting="unsafe")

    def _bind(self):
        """(Re)build the named views over ``data`` and ``grad``."""
        self.values = self.split(self.data)
        self.grads = self.split(self.grad)
        self._index = {n: i for i, n in enumerate(self.names)}

    def split(self, flat):
        """Views of a flat array of this layout, one per parameter, shaped like the parameters."""
        if flat.shape != (self.size,):
            raise ConfigError(f"expected a flat array of {self.size} values, got shape {flat.shape}")
        return [flat[o : o + math.prod(s)].reshape(s) for o, s in zip(self.offsets, self.shapes)]

    # -- access -----------------------------------------------------------------------------
    def __len__(self):
        return len(self.names)

    def __iter__(self):
        return iter(self.values)

    def __getitem__(self, key):
        """The view of parameter ``key`` (a name or an index)."""
        if isinstance(key, str):
            if key not in self._index:
                raise KeyError(f"no parameter {key!r}; parameters: {', '.join(self.names)}")
            key = self._index[key]
        return self.values[key]

    def grad_of(self, key):
        """The gradient view of parameter ``key`` (a name or an index)."""
        return self.grads[self._index[key] if isinstance(key, str) else key]

    @property
    def is_weight(self) -> tuple:
        """True for each weight matrix (2-D), False for biases: what L2 penalties decay."""
        return tuple(len(s) == 2 for s in self.shapes)

    # -- copies -----------------------------------------------------------------------------
    def get(self) -> list:
        """Copies of every array, in order."""
        return [v.copy() for v in self.values]

    def set(self, arrays):
        """Copy ``arrays`` (aligned with ``names``) into the buffer, checking every shape."""
        arrays = list(arrays)
        if len(arrays) != len(self.names):
            raise ConfigError(f"expected {len(self.names)} arrays, got {len(arrays)}")
        for i, (v, a) in enumerate(zip(self.values, arrays)):
            a = np.asarray(a)
            if a.shape != v.shape:
                raise ConfigError(f"weight array {i} ({self.names[i]}): expected shape {v.shape}, got {a.shape}")
            np.copyto(v, a, casting="same_kind")

    def copy(self) -> Parameters:
        """A new ``Parameters`` with the same layout and copies of the values (gradients zeroed)."""
        return Parameters(zip(self.names, self.values), self.dtype)

    def __getstate__(self):
        # the views are rebuilt from the layout: they would otherwise travel as separate copies
        return {
            "dtype": self.dtype.str,
            "names": self.names,
            "shapes": self.shapes,
            "offsets": self.offsets,
            "size": self.size,
            "data": self.data,
            "grad": self.grad,
        }

    def __setstate__(self, state):
        self.dtype = np.dtype(state["dtype"])
        self.names, self.shapes = tuple(state["names"]), tuple(tuple(s) for s in state["shapes"])
        self.offsets, self.size = tuple(state["offsets"]), int(state["size"])
        self.data = np.ascontiguousarray(state["data"], self.dtype)
        self.grad = np.ascontiguousarray(state["grad"], self.dtype)
        self._bind()

    def __repr__(self):
        parts = ", ".join(f"{n}{list(s)}" for n, s in zip(self.names, self.shapes))
        return f"Parameters({parts}; {self.size} values, {self.dtype.name})"
