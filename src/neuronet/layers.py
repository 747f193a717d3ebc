"""Layers.  One kind for now: a fully connected layer of units, with its own forward and backward pass.

Forward, for input ``h`` (the previous layer's output, or the batch)::

    a = h @ W + b              # (B, n_out)
    z = f(a)                   # written over a: backward only needs z
    z = z * dropout_mask       # training only, "inverted" dropout (scaled by 1/(1-p))
    z = z * unit_mask          # lesion: a silenced unit outputs exactly 0

Backward, from ``dz = dL/dz`` (what the next layer sends down)::

    d = dz * dropout_mask      # training only
    d = d * f'(z)              # f' from the cached output: no forward work is redone
    d = d * unit_mask          # a silenced unit learns nothing
    dL/dW = h.T @ d            # (n_in, n_out)
    dL/db = d.sum(axis=0)      # (n_out,)
    dL/dh = d @ W.T            # (B, n_in): the previous layer's dz; skipped for the first layer

The output layer receives ``dL/da`` directly (the network computes it from the
loss, see ``losses.FUSED``) and skips the first two lines.  Every array above
lives in a workspace allocated once per batch size and reused.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .errors import ConfigError
from .init import get_init
from .units import ReLU, Sigmoid, Softmax, Tanh, get_unit

_MAX_WORKSPACES = 4  # train batch, last short batch, diagnostics probe, prediction chunk


class _Workspace:
    """Buffers of one layer for one batch size."""

    __slots__ = ("a", "delta", "drop", "stats", "work", "z", "zsrc")

    def __init__(self, B, n_out, dtype, keep_logits, dropout):
        self.z = np.empty((B, n_out), dtype)  # the output as the next layer sees it
        # what f' is computed from: z itself, or the output before dropout scaled it
        self.zsrc = np.empty((B, n_out), dtype) if dropout else self.z
        self.drop = np.empty((B, n_out), dtype) if dropout else None
        # the output layer keeps its pre-activation a (logits) apart from z, for the loss
        self.a = np.empty((B, n_out), dtype) if keep_logits else self.zsrc
        self.delta = np.empty((B, n_out), dtype)  # dL/da of this layer (dL/dz before f' is applied)
        self.work = np.empty((B, n_out), dtype)  # scratch for the unit's derivative
        # a softmax output keeps its row maxima and sums here, for the loss (Softmax.forward)
        self.stats = (np.empty((B, 1), dtype), np.empty((B, 1), dtype)) if keep_logits else None


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
        are ``|W| * sign`` and after every update ``after_update()`` sets weights
        that crossed zero to exactly 0 (they may grow back with the right sign).
    rng : numpy.random.Generator
        Source of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    W : ndarray, shape (n_in, n_out)
    b : ndarray, shape (n_out,)
    dW, db : ndarray or None
        The gradients, once the layer belongs to a network (views of its ``Parameters``).
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
        n_in, n_out = _size("n_in", n_in), _size("n_out", n_out)
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
        self.dW = self.db = None
        self.owner = None  # the Network whose Parameters hold W and b
        self.unit_mask = None
        if unit_mask is not None:
            self.set_unit_mask(unit_mask)
        self.dale_signs = None
        if dale_signs is not None:
            self.set_dale_signs(dale_signs)
        self._spaces: dict[tuple, _Workspace] = {}
        self._last = None  # (input, workspace, train) of the last forward pass, for backward

    # -- parameters -----------------------------------------------------------------------
    @property
    def params(self):
        return [self.W, self.b]

    def named_params(self):
        """``[("W", W), ("b", b)]``: what a network puts in its ``Parameters``."""
        return [("W", self.W), ("b", self.b)]

    def bind(self, owner, values, grads):
        """Make ``W``/``b`` (and ``dW``/``db``) views of ``owner``'s Parameters.

        A layer belongs to one network: binding a layer that another network
        already holds raises ``ConfigError`` (build a new layer, or copy the network).
        """
        if self.owner is not None and self.owner is not owner:
            raise ConfigError("this Dense layer already belongs to another Network; a layer belongs to one network")
        self.owner = owner
        self.W, self.b = values
        self.dW, self.db = grads

    @property
    def needs_after_update(self) -> bool:
        return self.dale_signs is not None

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
        """Fix the sign of each presynaptic unit's outgoing weights (+1 excitatory, -1 inhibitory).

        The current weights become ``|W| * sign``; None lifts the constraint.
        """
        if signs is None:
            self.dale_signs = None
            return
        self.dale_signs = self._check_signs(signs)
        np.abs(self.W, out=self.W)
        self.W *= self.dale_signs[:, None]

    def _check_signs(self, signs):
        signs = np.asarray(signs)
        if signs.shape != (self.n_in,) or not np.isin(signs, (-1, 1)).all():
            raise ConfigError(f"dale_signs must be +1/-1 values of shape ({self.n_in},), got shape {signs.shape}")
        return signs.astype(self.dtype)

    def check_weights(self, W):
        """Raise ``ConfigError`` if ``W`` breaks this layer's Dale signs (a weight against its sign)."""
        if self.dale_signs is not None and (np.asarray(W) * self.dale_signs[:, None] < 0).any():
            raise ConfigError(
                "weights violate their Dale signs (a weight has the sign opposite to its presynaptic unit)"
            )

    def after_update(self):
        """Constraints applied after every optimizer step: Dale's projection (in place).

        Weights that crossed zero against their presynaptic sign are put back at exactly 0.
        """
        if self.dale_signs is None:
            return
        s = self.dale_signs[:, None]
        self.W *= s  # now every allowed weight is >= 0
        np.maximum(self.W, 0, out=self.W)
        self.W *= s

    # kept for code written against the first release
    project = after_update

    # -- passes ---------------------------------------------------------------------------
    def _workspace(self, B, keep_logits):
        key = (B, keep_logits)
        ws = self._spaces.get(key)
        if ws is None:
            if len(self._spaces) >= _MAX_WORKSPACES:
                self._spaces.pop(next(iter(self._spaces)))
            # the output layer (keep_logits) never drops units: its outputs are the predictions
            ws = _Workspace(B, self.n_out, self.dtype, keep_logits, self.dropout and not keep_logits)
            self._spaces[key] = ws
        return ws

    def forward(self, h, *, train=False, rng=None, keep_logits=False):
        """Output ``z`` (B, n_out) for input ``h`` (B, n_in), into this layer's workspace.

        ``h`` must be a C-contiguous array of the layer's dtype (the network checks
        its input once).  The returned array is overwritten by the next pass with
        the same batch size.  With ``keep_logits`` the pre-activation ``a`` stays
        available as ``logits()`` (the output layer, for the loss).
        """
        ws = self._workspace(h.shape[0], keep_logits)
        a = ws.a
        np.matmul(h, self.W, out=a)  # (B, n_out)
        k = kernels.active()
        if k is not None and not keep_logits and type(self.unit) is ReLU:
            k.bias_relu(a, self.b, a.dtype.type(0))  # a += b; max(a, 0) in one pass, same bits
        else:
            self._bias_unit(a, ws, keep_logits)
        if ws.drop is not None and not keep_logits:
            self._dropout(a, ws, train, rng)
        if self.unit_mask is not None:
            ws.z *= self.unit_mask
            if ws.zsrc is not ws.z:
                ws.zsrc *= self.unit_mask
        self._last = (h, ws, train)
        return ws.z

    def _bias_unit(self, a, ws, keep_logits):
        a += self.b
        if keep_logits and type(self.unit) is Softmax:
            self.unit.forward(a, ws.z, ws.stats)  # z apart from a; the row statistics kept for the loss
        elif keep_logits:
            self.unit.forward(a, ws.z)  # z apart from a
        else:
            self.unit.forward(a, a)  # z over a, in place

    def _dropout(self, a, ws, train, rng):
        if train:
            m = ws.drop
            rng.random(dtype=self.dtype, out=m)
            np.greater_equal(m, self.dropout, out=m)  # keep with probability 1 - p
            m *= 1.0 / (1.0 - self.dropout)
            np.multiply(a, m, out=ws.z)
        else:
            np.copyto(ws.z, a)

    def output(self):
        """The output ``z`` of the last forward pass (a buffer the next pass overwrites)."""
        return self._last[1].z

    def logits(self):
        """The pre-activation ``a = h W + b`` of the last forward pass made with ``keep_logits``."""
        return self._last[1].a

    def softmax_stats(self):
        """Row maxima and row sums of ``exp(a - max)`` kept by the last forward pass of a softmax
        output layer (see ``Softmax.forward``), or None."""
        ws = self._last[1]
        return ws.stats if type(self.unit) is Softmax else None

    def delta_buffer(self):
        """The (B, n_out) array ``backward`` reads its incoming gradient from; the next layer
        up writes ``dL/dz`` here (or the network writes the output delta ``dL/da``)."""
        return self._last[1].delta

    def backward(self, *, is_logit_grad=False, input_grad=None):
        """Gradients of the last forward pass into ``dW``/``db``; ``dL/dh`` into ``input_grad``.

        The incoming gradient is read from (and overwritten in) ``delta_buffer()``:
        ``dL/dz`` by default, or ``dL/da`` when ``is_logit_grad`` (the output layer).
        ``input_grad`` (B, n_in), when given, receives ``dL/dh = d @ W.T``.
        """
        h, ws, train = self._last
        d = ws.delta
        k = kernels.active()
        if (
            k is not None
            and not is_logit_grad
            and self.unit_mask is None
            and not (train and ws.drop is not None)
            and self.db is not None  # a layer outside a Network has no gradient buffer (NumPy then allocates)
            and d.shape[1] > 1  # one column: NumPy sums it pairwise, the kernel would sum row by row
        ):
            fused = self._fused_backward(k, ws.zsrc, d)  # d *= f'(z); db = sum of d: one kernel
        else:
            fused = False
        if not fused:
            if not is_logit_grad:
                if train and ws.drop is not None:
                    d *= ws.drop  # through the dropout mask
                self.through_unit(d)
            if self.unit_mask is not None:
                d *= self.unit_mask  # a silenced unit learns nothing
            np.add.reduce(d, axis=0, out=self.db)  # dL/db (n_out,), what np.sum does, minus its wrapper
        np.matmul(h.T, d, out=self.dW)  # dL/dW (n_in, n_out)
        if input_grad is not None:
            np.matmul(d, self.W.T, out=input_grad)  # dL/dh (B, n_in)

    def _fused_backward(self, k, z, d) -> bool:
        """``d *= f'(z)`` and ``db = d.sum(axis=0)`` by a compiled kernel, for the units that have one."""
        unit, one = self.unit, d.dtype.type(1)
        kind = type(unit)
        if kind is ReLU:
            k.back_relu(z, d, self.db, d.dtype.type(0), one)
        elif kind is Sigmoid and unit.prime_offset:
            k.back_sigmoid(z, d, self.db, one, d.dtype.type(float(unit.prime_offset)))
        elif kind is Sigmoid:
            k.back_sigmoid_plain(z, d, self.db, one)
        elif kind is Tanh:
            k.back_tanh(z, d, self.db, one)
        else:
            return False
        return True

    def through_unit(self, d):
        """``d *= f'(z)`` in place, from the last forward pass's cached output: dL/dz -> dL/da."""
        ws = self._last[1]
        self.unit.backward(ws.zsrc, d, ws.work)

    def derivative(self):
        """``f'(a)`` of the last forward pass (a new array; a prime offset is not included)."""
        zsrc = self._last[1].zsrc
        return self.unit.derivative(zsrc, np.empty_like(zsrc))

    # -- configuration --------------------------------------------------------------------
    def config(self) -> dict:
        """Everything but the weights, as JSON data: ``Dense.from_config`` rebuilds the layer."""
        cfg = {
            "type": self.kind,
            "n_in": self.n_in,
            "n_out": self.n_out,
            "unit": self.unit.config(),
            "dropout": self.dropout,
        }
        if self.unit_mask is not None:
            cfg["unit_mask"] = [int(v) for v in self.unit_mask]
        if self.dale_signs is not None:
            cfg["dale_signs"] = [int(v) for v in self.dale_signs]
        return cfg

    @classmethod
    def from_config(cls, cfg, *, rng=None, dtype=np.float32):
        """The layer ``config()`` describes, with fresh weights from ``rng``."""
        if cfg.get("type") != cls.kind:
            raise ConfigError(f"unknown layer type {cfg.get('type')!r}; valid: {cls.kind}")
        return cls(
            cfg["n_in"],
            cfg["n_out"],
            cfg["unit"],
            dropout=cfg.get("dropout", 0.0),
            unit_mask=cfg.get("unit_mask"),
            dale_signs=cfg.get("dale_signs"),
            rng=rng,
            dtype=dtype,
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_spaces"] = {}  # scratch buffers are rebuilt on demand
        state["_last"] = None
        return state

    def __repr__(self):
        extra = f", dropout={self.dropout}" if self.dropout else ""
        if self.unit_mask is not None:
            extra += f", silenced={int(np.count_nonzero(self.unit_mask == 0))}"
        if self.dale_signs is not None:
            extra += f", excitatory={int(np.count_nonzero(self.dale_signs > 0))}/{self.n_in}"
        return f"Dense({self.n_in}, {self.n_out}, unit={self.unit!r}{extra})"


def _size(name, value) -> int:
    """A layer size: a positive integer (not a bool, a float or a string)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"Dense layer {name} must be an integer >= 1, got {value!r}")
    return int(value)
