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
    dale_signs : array of +1/-1, shape (n_in,), optional
        Dale's principle: presynaptic unit i is excitatory (+1) or inhibitory (-1),
        and every outgoing weight ``W[i, :]`` keeps that sign.  The sign belongs to
        the presynaptic population.  Enforced by projection: the initial weights
        are ``|W| * sign`` and after every update ``project()`` sets weights that
        crossed zero to exactly 0 (they may grow back with the right sign).
    rng : numpy.random.Generator
        Source of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    W : ndarray, shape (n_in, n_out)
    b : ndarray, shape (n_out,)
    """

    kind = "dense"

    def __init__(
        self,
        n_in,
        n_out,
        unit="sigmoid",
        init="fan-in",
        *,
        bias_init=0.0,
        dropout=0.0,
        unit_mask=None,
        dale_signs=None,
        rng=None,
        dtype=np.float32,
    ):
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
        self.dale_signs = None
        if dale_signs is not None:
            self.set_dale_signs(dale_signs)

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

    def set_dale_signs(self, signs):
        """Fix the sign of each presynaptic unit's outgoing weights (+1 excitatory, -1 inhibitory)."""
        if signs is None:
            self.dale_signs = None
            return
        signs = np.asarray(signs)
        if signs.shape != (self.n_in,) or not np.isin(signs, (-1, 1)).all():
            raise ConfigError(f"dale_signs must be +1/-1 values of shape ({self.n_in},), got shape {signs.shape}")
        self.dale_signs = signs.astype(self.dtype)
        np.abs(self.W, out=self.W)
        self.W *= self.dale_signs[:, None]

    def project(self):
        """Put weights that crossed zero against their presynaptic sign back at 0 (in place)."""
        s = self.dale_signs[:, None]
        self.W *= s  # now every allowed weight is >= 0
        np.maximum(self.W, 0, out=self.W)
        self.W *= s

    def config(self) -> dict:
        return {
            "type": self.kind,
            "n_in": self.n_in,
            "n_out": self.n_out,
            "unit": self.unit.config(),
            "dropout": self.dropout,
        }

    def __repr__(self):
        extra = f", dropout={self.dropout}" if self.dropout else ""
        return f"Dense({self.n_in}, {self.n_out}, unit={self.unit!r}{extra})"
