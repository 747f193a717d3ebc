"""Losses, and the output-unit/loss pairs whose output delta is simply ``z - y``.

Every loss has one signature:

``value(z, y, sw=None)``
    mean over the batch of the per-sample loss (a Python float); with sample
    weights ``sw`` the weighted mean ``sum_i sw_i L_i / sum_i sw_i``.
``values(z, y)``
    the per-sample losses, shape ``(B,)``.
``delta(z, y, out)``
    ``dL/dz`` per sample, shape ``(B, k)``, written into ``out``.

The network divides by the batch size itself, so ``delta`` is per sample.

Fused output deltas
-------------------
For three pairs the output unit's derivative cancels against the loss's, and
the gradient with respect to the output unit's input ``a`` is ``z - y`` (lecture
notes: ``grad_W L = (z - y) h^T``, ``grad_h L = W^T (z - y)``):

* softmax + cross-entropy: ``dL/dz_j = -y_j / z_j`` and ``dz_j/da_i = z_j(delta_ij - z_i)``,
  so ``dL/da_i = -y_i + z_i sum_j y_j = z_i - y_i`` because the targets sum to 1;
* sigmoid + logistic: ``dL/dz = (z - y) / (z (1 - z))`` times ``z (1 - z)``;
* identity + squared error: ``dL/dz = z - y`` times ``1``.

``FUSED`` lists exactly these pairs.  Any other pairing goes through the unit's
``backward`` (e.g. sigmoid + squared error gives ``(z - y) z (1 - z)``, which
vanishes when the output unit is stuck: the notes' "stuck output unit").
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError


def _tiny(dtype):
    return np.finfo(dtype).tiny


def _mean(values, sw):
    if sw is None:  # values.mean()'s bits (pairwise sum, a float64 division, rounded), without its overhead
        return float(values.dtype.type(float(np.add.reduce(values)) / values.shape[0]))
    return float(np.dot(sw, values) / sw.sum())


class Loss:
    name = "loss"
    #: Output unit names this loss accepts (None: any unit).
    requires_units: tuple[str, ...] | None = None

    def values(self, z, y):
        raise NotImplementedError

    def values_from_logits(self, a, y):
        """Per-sample loss from the output unit's input ``a`` (exact for huge ``|a|``)."""
        raise NotImplementedError

    def value(self, z, y, sw=None) -> float:
        return _mean(self.values(z, y), sw)

    def value_from_logits(self, a, y, sw=None, stats=None) -> float:
        """Mean loss from the logits; ``stats``: what a softmax output kept (only cross-entropy uses it)."""
        return _mean(self.values_from_logits(a, y), sw)

    def delta(self, z, y, out):
        raise NotImplementedError

    def config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self).__name__)


class SquaredError(Loss):
    """``L = 1/2 sum_j (z_j - y_j)^2`` per sample; ``dL/dz = z - y``.  Works with any output unit."""

    name = "squared-error"

    def values(self, z, y):
        d = z - y
        return 0.5 * np.einsum("ij,ij->i", d, d)

    def delta(self, z, y, out):
        return np.subtract(z, y, out=out)


class CrossEntropy(Loss):
    """Cross-entropy for a k-class softmax output: ``L = -sum_i y_i ln z_i``.

    ``dL/dz_i = -y_i / z_i``.  ``z`` is clipped below at the dtype's smallest
    normal number, so ``ln 0`` never occurs; ``value_from_logits`` uses the
    log-sum-exp form ``L = logsumexp(a) - sum_i y_i a_i`` (given ``sum_i y_i = 1``),
    which stays exact for logits of any size.
    """

    name = "cross-entropy"
    requires_units = ("softmax",)

    def values(self, z, y):
        logz = np.log(np.maximum(z, _tiny(z.dtype)))
        return -np.einsum("ij,ij->i", y, logz)

    def values_from_logits(self, a, y, stats=None):
        """``stats``: the row maxima and row sums of ``exp(a - max)`` that ``Softmax.forward`` kept
        for these logits (optional; computed here otherwise, with the same result)."""
        if stats is None:
            m = a.max(axis=1, keepdims=True)
            s = np.exp(a - m).sum(axis=1)
        else:
            m, s = stats
            s = s[:, 0]
        lse = np.log(s) + m[:, 0]
        return lse * np.add.reduce(y, axis=1) - np.einsum("ij,ij->i", y, a)

    def value_from_logits(self, a, y, sw=None, stats=None) -> float:
        return _mean(self.values_from_logits(a, y, stats), sw)

    def delta(self, z, y, out):
        np.maximum(z, _tiny(z.dtype), out=out)
        np.divide(y, out, out=out)
        np.negative(out, out=out)
        return out


class Logistic(Loss):
    """Logistic loss for sigmoid outputs: ``L = -sum_j [y_j ln z_j + (1 - y_j) ln(1 - z_j)]``.

    One sigmoid output gives binary classification; several give independent
    (multi-label) outputs.  ``dL/dz = (z - y) / (z (1 - z))``.  From logits:
    ``L = sum_j [softplus(a_j) - y_j a_j]``, exact for any ``a``.
    """

    name = "logistic"
    requires_units = ("sigmoid",)

    def values(self, z, y):
        t = _tiny(z.dtype)
        lz = np.log(np.maximum(z, t))
        l1z = np.log(np.maximum(1 - z, t))
        return -(np.einsum("ij,ij->i", y, lz) + np.einsum("ij,ij->i", 1 - y, l1z))

    def values_from_logits(self, a, y):
        return (np.logaddexp(0, a) - y * a).sum(axis=1)

    def delta(self, z, y, out):
        t = _tiny(z.dtype)
        denom = np.maximum(z * (1 - z), t)
        np.subtract(z, y, out=out)
        out /= denom
        return out


LOSSES: dict[str, type[Loss]] = {
    "squared-error": SquaredError,
    "mse": SquaredError,
    "squared_error": SquaredError,
    "cross-entropy": CrossEntropy,
    "log-loss": CrossEntropy,
    "logistic": Logistic,
    "binary-cross-entropy": Logistic,
}

#: (output unit name, loss name) pairs whose gradient w.r.t. the output unit's input is ``z - y``.
FUSED: frozenset[tuple[str, str]] = frozenset(
    {
        ("softmax", "cross-entropy"),  # targets sum to 1
        ("sigmoid", "logistic"),  # z(1 - z) cancels
        ("identity", "squared-error"),  # f' = 1
    }
)


def get_loss(spec) -> Loss:
    """Resolve a loss from an instance, a registry name or a ``config()`` dict."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, dict):
        spec = spec.get("name")
    key = spec.strip().lower().replace("_", "-") if isinstance(spec, str) else None
    if key == "squared-error" or key in LOSSES:
        return LOSSES[key]()
    raise ConfigError(f"unknown loss {spec!r}; valid losses: squared-error, cross-entropy, logistic")


def is_fused(unit, loss) -> bool:
    """True when ``(unit, loss)`` is one of the ``FUSED`` pairs."""
    return (unit.name, loss.name) in FUSED


def check_pairing(unit, loss):
    """Raise ``ConfigError`` for a pairing the loss is not defined for."""
    if loss.requires_units is not None and unit.name not in loss.requires_units:
        raise ConfigError(
            f"loss {loss.name!r} needs a {' or '.join(loss.requires_units)} output unit, "
            f"got {unit.name!r}; use loss 'squared-error' with {unit.name!r} outputs"
        )
