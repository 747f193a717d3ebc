"""Small synthetic problems from the backprop literature.

- ``xor``: the four XOR patterns, the classic problem a single-layer
  perceptron cannot solve (Minsky & Papert 1969; Rumelhart, Hinton &
  Williams 1986).
- ``encoder:N-M-N``: Fahlman's encoder/decoder (Fahlman 1988): N one-hot
  patterns that must pass through M < N hidden units and come out unchanged.
- ``spirals``: two interleaved spirals (Lang & Witbrock 1988), hard for
  networks with saturating units.
- ``circles``: two concentric circles, separable only by a non-linear boundary.

Every generator takes a :class:`numpy.random.Generator`; none touches numpy's
global random state.  Each returns ``(X, y)`` with ``X`` float of shape
(n, n_features) and ``y`` int64 class indices.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import DataError

__all__ = ["circles", "encoder", "parse_encoder_spec", "spirals", "xor"]


def xor(dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The four XOR patterns and their labels.

    Returns
    -------
    X : numpy.ndarray, shape (4, 2)
        ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.
    y : numpy.ndarray of int64, shape (4,)
        ``x0 XOR x1``: ``[0, 1, 1, 0]``.
    """
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


_ENCODER = re.compile(r"^encoder:(\d+)-(\d+)-(\d+)$")


def parse_encoder_spec(spec: str) -> tuple[int, int]:
    """Parse ``"encoder:N-M-N"`` into ``(N, M)``.

    Raises
    ------
    DataError
        If the spec is not three positive integers joined by ``-``, the outer
        two differ, N < 2 or M < 1.

    Examples
    --------
    >>> parse_encoder_spec("encoder:8-3-8")
    (8, 3)
    """
    match = _ENCODER.match(spec)
    usage = "expected encoder:N-M-N with N >= 2 patterns and M >= 1 hidden units, e.g. encoder:8-3-8"
    if match is None:
        raise DataError(f"--data {spec!r}: {usage}")
    n_in, n_hidden, n_out = (int(g) for g in match.groups())
    if n_in != n_out:
        raise DataError(
            f"--data {spec!r}: input size {n_in} differs from output size {n_out}; "
            f"an encoder reproduces its input ({usage})"
        )
    if n_in < 2 or n_hidden < 1:
        raise DataError(f"--data {spec!r}: {usage}")
    return n_in, n_hidden


#: generated datasets larger than this are refused before anything is allocated
MAX_SYNTHETIC_BYTES = 2 * 2**30


def encoder(n: int, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Fahlman's encoder/decoder patterns: the N one-hot vectors.

    The target of pattern ``i`` is pattern ``i`` itself; as a classification
    problem that is label ``i`` (one-hot of ``i`` = the input).

    Parameters
    ----------
    n : int
        Number of patterns and of input units (>= 2).

    Returns
    -------
    X : numpy.ndarray, shape (n, n)
        The identity matrix.
    y : numpy.ndarray of int64, shape (n,)
        ``0 .. n-1``.

    References
    ----------
    Fahlman, S. E. (1988). An empirical study of learning speed in
    back-propagation networks. CMU-CS-88-162.
    """
    if n < 2:
        raise DataError(f"encoder: needs at least 2 patterns, got {n}")
    need = n * n * np.dtype(dtype).itemsize
    if need > MAX_SYNTHETIC_BYTES:
        raise DataError(
            f"encoder:{n}-…: too large: the {n} x {n} patterns would need {need / 2**30:.1f} GB "
            f"(the limit for generated data is {MAX_SYNTHETIC_BYTES / 2**30:.0f} GB)"
        )
    return np.eye(n, dtype=dtype), np.arange(n, dtype=np.int64)


def _balanced_counts(n: int, name: str) -> tuple[int, int]:
    if n < 4:
        raise DataError(f"{name}: n must be at least 4, got {n}")
    return n - n // 2, n // 2


def spirals(n: int = 400, rng=None, *, noise: float = 0.03, turns: float = 1.5, dtype=np.float32):
    """Two interleaved spirals in the plane, one per class.

    Class 0 follows ``r = theta / (2 pi turns)``, ``(r cos theta, r sin theta)``
    for ``theta`` in ``(0, 2 pi turns]``; class 1 is the same curve turned by
    180 degrees.  Points are spread evenly along the arc (``theta`` grows with
    the square root of a uniform draw); Gaussian noise of standard deviation
    ``noise`` is added to both coordinates.  Coordinates lie in about [-1, 1];
    neighbouring arms are about ``0.5 / turns`` apart.

    Parameters
    ----------
    n : int, default 400
        Total number of points; classes get ``ceil(n/2)`` and ``floor(n/2)``.
    rng : numpy.random.Generator
        Source of randomness (required).
    noise : float, default 0.03
    turns : float, default 1.5
        Number of full turns of each spiral.

    Returns
    -------
    X : numpy.ndarray, shape (n, 2)
    y : numpy.ndarray of int64, shape (n,)
    """
    rng = _require_rng(rng, "spirals")
    counts = _balanced_counts(n, "spirals")
    Xs, ys = [], []
    for label, count in enumerate(counts):
        theta = np.sqrt(rng.uniform(0.0, 1.0, count)) * (2 * np.pi * turns) + 1e-3
        r = theta / (2 * np.pi * turns)
        sign = 1.0 if label == 0 else -1.0
        points = sign * np.column_stack([r * np.cos(theta), r * np.sin(theta)])
        Xs.append(points + rng.normal(0.0, noise, points.shape))
        ys.append(np.full(count, label, dtype=np.int64))
    return _shuffled(np.concatenate(Xs), np.concatenate(ys), rng, dtype)


def circles(n: int = 400, rng=None, *, factor: float = 0.5, noise: float = 0.05, dtype=np.float32):
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor``.

    Angles are uniform; Gaussian noise of standard deviation ``noise`` is
    added to both coordinates.

    Parameters
    ----------
    n : int, default 400
        Total number of points; classes get ``ceil(n/2)`` and ``floor(n/2)``.
    rng : numpy.random.Generator
        Source of randomness (required).
    factor : float, default 0.5
        Radius of the inner circle, in (0, 1).
    noise : float, default 0.05

    Returns
    -------
    X : numpy.ndarray, shape (n, 2)
    y : numpy.ndarray of int64, shape (n,)
    """
    rng = _require_rng(rng, "circles")
    if not 0.0 < factor < 1.0:
        raise DataError(f"circles: factor must lie in (0, 1), got {factor}")
    counts = _balanced_counts(n, "circles")
    Xs, ys = [], []
    for label, (count, radius) in enumerate(zip(counts, (1.0, factor))):
        angle = rng.uniform(0.0, 2 * np.pi, count)
        points = radius * np.column_stack([np.cos(angle), np.sin(angle)])
        Xs.append(points + rng.normal(0.0, noise, points.shape))
        ys.append(np.full(count, label, dtype=np.int64))
    return _shuffled(np.concatenate(Xs), np.concatenate(ys), rng, dtype)


def _require_rng(rng, name: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise DataError(f"{name}: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), got {rng!r}")
    return rng


def _shuffled(X, y, rng, dtype):
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order], dtype=dtype), y[order]
