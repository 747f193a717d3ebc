"""Layers.  One kind for now: a fully connected layer of units."""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .init import get_init
from .units import get_unit


class Dense:
    """Fully connected layer ``z = f(h W + b)``.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of units.
    unit : str, Unit or dict
        The units' activation function (see ``neuronet.units``).
    init : str or Initializer
        Weight initializer (``neuronet.init``); biases start at ``bias_init``.
    dropout : float in [0, 1)
        During training each unit's output is zeroed with this probability and the
        survivors scaled by ``1 / (1 - dropout)`` ("inverted dropout"), so nothing
        changes at prediction time.
    unit_mask : array of 0/1, shape (n_out,), optional
        Lesion mask: a unit with mask 0 outputs exactly 0 and receives no gradient.
    rng : numpy.random.Generator
        Source of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    W : ndarray, shape (n_in, n_out)
    b : ndarray, shape (n_out,)
    """

    kind = "dense"

    def __init__(self, n_in, n_out, unit="sigmoid", init="fan-in", *, bias_init=0.0,
                 dropout=0.0, unit_mask=None, rng=None, dtype=np.float32):
        n_in, n_out = int(n_in), int(n_out)
        if n_in < 1 or n_out < 1:
            raise ConfigError(f"Dense layer sizes must be >= 1, got {n_in} -> {n_out}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, got {dtype}")
        dropout = float(dropout)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must lie in [0, 1), got {dropout}")
        self.n_in, self.n_out, self.dtype = n_in, n_out, dtype
        self.unit = get_unit(unit)
        self.init = get_init(init)
        self.dropout = dropout
        rng = np.random.default_rng() if rng is None else rng
        self.W = self.init((n_in, n_out), rng, dtype)
        self.b = np.full(n_out, bias_init, dtype=dtype)
        self.unit_mask = None
        if unit_mask is not None:
            self.set_unit_mask(unit_mask)

    @property
    def params(self):
        return [self.W, self.b]

    def set_unit_mask(self, mask):
        """Silence units: ``mask[j] == 0`` fixes unit j's output at 0 (a lesion); None clears."""
        if mask is None:
            self.unit_mask = None
            return
        mask = np.asarray(mask)
        if mask.shape != (self.n_out,) or not np.isin(mask, (0, 1)).all():
            raise ConfigError(f"unit_mask must be 0/1 values of shape ({self.n_out},), got shape {mask.shape}")
        self.unit_mask = mask.astype(self.dtype)

    def config(self) -> dict:
        return {"type": self.kind, "n_in": self.n_in, "n_out": self.n_out,
                "unit": self.unit.config(), "dropout": self.dropout}

    def __repr__(self):
        extra = f", dropout={self.dropout}" if self.dropout else ""
        return f"Dense({self.n_in}, {self.n_out}, unit={self.unit!r}{extra})"
