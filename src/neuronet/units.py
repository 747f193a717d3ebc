"""Units (activation functions), each with its forward map and derivative side by side.

Notation follows the lecture notes: a unit receives the weighted sum ``t`` (called
``a`` in the code, shape ``(B, n)``) and outputs ``z = f(a)``.  Backpropagation
never needs ``a`` again: every derivative here is written in terms of the cached
*output* ``z`` (sigmoid ``z(1 - z)``, tanh ``1 - z**2``, ReLU ``z > 0``), so the
backward pass costs one element-wise multiply per layer.

Every unit offers

``forward(a, out)``
    ``out = f(a)``; ``out`` may be ``a`` itself (in-place).
``derivative(z, out)``
    ``out = f'(a)`` computed from the output ``z`` (the true derivative).
``backward(z, g, work)``
    ``g <- g * f'(a)`` in place (for softmax: the Jacobian-vector product;
    for a sigmoid with a prime offset: ``g * (f'(a) + c)``); ``work`` is a
    scratch array of the same shape.

All operations keep the dtype of their inputs: a float32 network stays float32.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError


class Unit:
    """Base class.  Subclasses set ``name`` and, if bounded, ``bounds``."""

    name = "unit"
    #: (low, high) limits of the output, used to measure saturation; None if unbounded.
    bounds: tuple[float, float] | None = None
    #: True for ReLU-like units whose derivative is exactly 0 on a half-line ("dead" units).
    can_die = False

    def forward(self, a, out):
        raise NotImplementedError

    def derivative(self, z, out):
        raise NotImplementedError

    def backward(self, z, g, work):
        self.derivative(z, work)
        np.multiply(g, work, out=g)
        return g

    def config(self) -> dict:
        """JSON-serialisable description; ``get_unit(config)`` rebuilds the unit."""
        return {"name": self.name}

    def __call__(self, a):
        """Out-of-place convenience: ``f(a)``."""
        a = np.asarray(a)
        return self.forward(a, np.empty_like(a))

    def __repr__(self):
        params = {k: v for k, v in self.config().items() if k != "name"}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other):
        return type(self) is type(other) and self.config() == other.config()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.config().items()))))


class Identity(Unit):
    """Linear unit ``z = a``; ``f' = 1``.  The output unit for regression."""

    name = "identity"

    def forward(self, a, out):
        if out is not a:
            np.copyto(out, a)
        return out

    def derivative(self, z, out):
        out.fill(1)
        return out

    def backward(self, z, g, work):
        return g


class Sigmoid(Unit):
    """Logistic unit ``z = 1 / (1 + exp(-a))``; ``f' = z(1 - z)``.

    Parameters
    ----------
    prime_offset : float, default 0
        Remedy (3) of the notes (Fahlman 1988): backpropagate with ``z(1 - z) + c``
        instead of ``z(1 - z)`` so that a saturated unit (``z`` near 0 or 1) still
        passes on a gradient.  With ``c > 0`` the backward pass no longer computes
        the true gradient of the loss; that is the point of the remedy.

    Notes
    -----
    Evaluated as ``1 / (1 + exp(-a))`` in place.  It keeps full relative precision
    in both tails (``a = -40`` gives 4.2e-18, not 0); for ``a`` below about -88
    (float32) ``exp(-a)`` overflows to inf and the result is exactly 0, which is
    the correctly rounded value, so the overflow is silenced.
    """

    name = "sigmoid"
    bounds = (0.0, 1.0)

    def __init__(self, prime_offset: float = 0.0):
        prime_offset = float(prime_offset)
        if not np.isfinite(prime_offset) or prime_offset < 0:
            raise ConfigError(f"prime_offset must be a finite number >= 0, got {prime_offset}")
        self.prime_offset = prime_offset

    def forward(self, a, out):
        with np.errstate(over="ignore"):
            np.negative(a, out=out)
            np.exp(out, out=out)  # e^{-a}, inf for very negative a
        out += 1
        return np.reciprocal(out, out=out)

    def derivative(self, z, out):
        np.subtract(1, z, out=out)  # 1 - z
        out *= z  # z (1 - z)
        return out

    def backward(self, z, g, work):
        self.derivative(z, work)
        if self.prime_offset:
            work += float(self.prime_offset)  # z (1 - z) + c: remedy (3); a Python float, rounded to z's dtype
        np.multiply(g, work, out=g)
        return g

    def config(self):
        return {"name": self.name, "prime_offset": self.prime_offset}


class Tanh(Unit):
    """Hyperbolic tangent ``z = tanh(a)``; ``f' = 1 - z**2``."""

    name = "tanh"
    bounds = (-1.0, 1.0)

    def forward(self, a, out):
        return np.tanh(a, out=out)

    def derivative(self, z, out):
        np.multiply(z, z, out=out)
        np.subtract(1, out, out=out)
        return out


class LeCunTanh(Unit):
    """LeCun et al. (1998) scaled tanh ``z = 1.7159 tanh(2a/3)``.

    ``f' = (2/3) * 1.7159 * (1 - (z/1.7159)**2) = (2 / (3 * 1.7159)) * (1.7159**2 - z**2)``.
    The constants make ``f(±1) = ±1`` and keep the effective gain near 1.
    """

    name = "lecun-tanh"
    A = 1.7159
    S = 2.0 / 3.0
    bounds = (-1.7159, 1.7159)

    def forward(self, a, out):
        np.multiply(a, self.S, out=out)
        np.tanh(out, out=out)
        out *= self.A
        return out

    def derivative(self, z, out):
        np.multiply(z, z, out=out)
        np.subtract(self.A * self.A, out, out=out)
        out *= self.S / self.A
        return out


class ReLU(Unit):
    """Rectified linear unit ``z = max(0, a)``; ``f' = 1 if z > 0 else 0``.

    At the kink ``a = 0`` we take ``f'(0) = 0`` (the sub-gradient that keeps an
    exactly-silent unit silent).  Unbounded above: the notes' "arbitrarily large
    output", the source of exploding gradients.
    """

    name = "relu"
    can_die = True

    def forward(self, a, out):
        return np.maximum(a, 0, out=out)

    def derivative(self, z, out):
        return np.greater(z, 0, out=out)

    def backward(self, z, g, work):
        np.greater(z, 0, out=work)
        np.multiply(g, work, out=g)
        return g


class LeakyReLU(Unit):
    """Leaky ReLU ``z = a if a > 0 else slope * a``; ``f' = 1 if z > 0 else slope``.

    With ``0 < slope < 1`` the sign of ``z`` equals the sign of ``a``, so the
    derivative is recoverable from the output.  ``f'(0) = slope``.
    """

    name = "leaky-relu"

    def __init__(self, slope: float = 0.01):
        slope = float(slope)
        if not 0 < slope < 1:
            raise ConfigError(f"leaky-relu slope must lie in (0, 1), got {slope}")
        self.slope = slope

    def forward(self, a, out):
        # max(a, slope * a) equals a for a > 0 and slope * a for a <= 0 when 0 < slope < 1.
        return np.maximum(a, a * self.slope, out=out)

    def derivative(self, z, out):
        np.greater(z, 0, out=out)  # 1 where z > 0, else 0
        out *= 1 - self.slope
        out += self.slope  # 1 where z > 0, else slope
        return out

    def config(self):
        return {"name": self.name, "slope": self.slope}


class Softplus(Unit):
    """Softplus ``z = ln(1 + e^a)``, a smooth ReLU; ``f' = sigmoid(a) = 1 - e^(-z)``."""

    name = "softplus"

    def forward(self, a, out):
        return np.logaddexp(0, a, out=out)

    def derivative(self, z, out):
        np.negative(z, out=out)
        np.exp(out, out=out)
        np.subtract(1, out, out=out)
        return out


class Softmax(Unit):
    """Softmax over the last axis, ``z_j = e^{a_j} / sum_i e^{a_i}``.

    Its Jacobian (lecture notes) is ``dz_j/da_i = z_j (delta_ij - z_i)``.  We never
    form the ``k x k`` matrix: for an upstream gradient ``g = dL/dz`` the
    Jacobian-vector product is ``dL/da_i = z_i (g_i - sum_j g_j z_j)``.

    ``derivative`` returns the diagonal ``z_i (1 - z_i)`` (used by saturation
    diagnostics); ``backward`` is the full product.
    """

    name = "softmax"
    bounds = (0.0, 1.0)

    def forward(self, a, out, stats=None):
        """``stats``, optional: two (B, 1) buffers that receive the row maxima of ``a`` and the row
        sums of ``exp(a - max)``, from which ``CrossEntropy.values_from_logits`` gets the loss
        without computing them again (the same arrays, so the same bits)."""
        m, s = (None, None) if stats is None else stats
        # the ufuncs' own reduce: np.max/np.sum would only add a Python wrapper per call
        m = np.maximum.reduce(a, axis=1, keepdims=True, out=m)
        np.subtract(a, m, out=out)  # shift: largest exponent is 0
        np.exp(out, out=out)
        s = np.add.reduce(out, axis=1, keepdims=True, out=s)
        out /= s
        return out

    def derivative(self, z, out):
        np.subtract(1, z, out=out)
        out *= z
        return out

    def backward(self, z, g, work):
        np.multiply(g, z, out=work)  # g_j z_j
        s = work.sum(axis=1, keepdims=True)  # (B, 1): sum_j g_j z_j
        g -= s  # g_i - sum_j g_j z_j
        g *= z  # z_i (g_i - sum_j g_j z_j)
        return g


UNITS: dict[str, type[Unit]] = {
    "identity": Identity,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,  # scikit-learn's name
    "tanh": Tanh,
    "lecun-tanh": LeCunTanh,
    "relu": ReLU,
    "leaky-relu": LeakyReLU,
    "softplus": Softplus,
    "softmax": Softmax,
}


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def get_unit(spec, **params) -> Unit:
    """Resolve a unit from an instance, a registry name or a ``config()`` dict.

    >>> get_unit("sigmoid", prime_offset=0.1)
    Sigmoid(prime_offset=0.1)
    """
    if isinstance(spec, Unit):
        if params:
            raise ConfigError("parameters cannot be given together with a Unit instance")
        return spec
    if isinstance(spec, dict):
        params = {**{k: v for k, v in spec.items() if k != "name"}, **params}
        spec = spec.get("name")
    if not isinstance(spec, str) or _norm(spec) not in UNITS:
        raise ConfigError(f"unknown unit {spec!r}; valid units: {', '.join(UNITS)}")
    cls = UNITS[_norm(spec)]
    try:
        return cls(**params)
    except TypeError:
        raise ConfigError(f"unit {spec!r} takes no parameters {sorted(params)}") from None
