"""Validation at the boundary: features, labels, splits and standardization.

Every array that enters neuronet from outside (a file, a user's numpy array)
passes through :func:`check_features` and, for classifiers,
:func:`check_labels`.  They return arrays in the form the engine expects
(float C-contiguous features, ``int64`` class indices) or raise
:class:`~neuronet.errors.DataError` with a one-line message that names the
array and the problem.

Randomness comes only from a :class:`numpy.random.Generator` passed in by the
caller; nothing here touches numpy's global random state.
"""

from __future__ import annotations

import numpy as np

from .._finite import all_finite
from ..errors import DataError

__all__ = [
    "as_generator",
    "check_dtype",
    "check_features",
    "check_fraction",
    "check_labels",
    "split_indices",
    "standardize",
    "train_validation_split",
]


def check_dtype(dtype, *, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as a numpy floating dtype, or raise.

    Parameters
    ----------
    dtype : numpy dtype-like
        Requested floating-point type, e.g. ``np.float32``.
    name : str
        How to name the option in an error message.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    DataError
        If ``dtype`` is not a floating-point type.
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise DataError(f"{name}: {dtype!r} is not a numpy dtype") from None
    if resolved.kind != "f":
        raise DataError(f"{name}: must be a floating-point type such as float32 or float64, got {resolved}")
    return resolved


def check_fraction(fraction, *, name: str = "test_fraction") -> float:
    """Return ``fraction`` as a float strictly between 0 and 1, or raise.

    Raises
    ------
    DataError
        If ``fraction`` is not a number in the open interval (0, 1).
    """
    try:
        value = float(fraction)
    except (TypeError, ValueError):
        raise DataError(f"{name}: must be a number between 0 and 1, got {fraction!r}") from None
    if not 0.0 < value < 1.0:
        raise DataError(f"{name}: must be between 0 and 1 (exclusive), got {fraction!r}")
    return value


def as_generator(rng) -> np.random.Generator:
    """Return ``rng`` as a :class:`numpy.random.Generator`.

    An ``int`` seeds a new generator (``numpy.random.default_rng(seed)``);
    a Generator is returned unchanged.  ``None`` is refused, because an
    unseeded split would not be reproducible.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise DataError(f"rng: expected a numpy.random.Generator or an integer seed, got {rng!r}")


def _scalar(value):
    """A numpy scalar as the Python value it holds, so messages read ``1.5``, not ``np.float64(1.5)``."""
    return value.item() if isinstance(value, np.generic) else value


def _asarray(values, name: str) -> np.ndarray:
    """``np.asarray`` that turns numpy's complaint about ragged input into a DataError."""
    try:
        return np.asarray(values)
    except ValueError as exc:
        raise DataError(f"{name}: cannot be made into an array ({exc})") from None


def check_features(X, *, name: str = "X", n_features: int | None = None, dtype=np.float32) -> np.ndarray:
    """Validate a feature matrix and return it as a float, C-contiguous array.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Numeric features.  Booleans and integers are converted; strings,
        objects and complex numbers are refused.
    name : str
        How to name the array in error messages (a file name, ``"X_test"``...).
    n_features : int, optional
        If given, the number of columns the caller (e.g. a fitted model) expects.
    dtype : numpy floating dtype, default float32
        Type of the returned array.

    Returns
    -------
    numpy.ndarray, shape (n_samples, n_features)
        ``X`` converted to ``dtype``; no copy is made when ``X`` already is a
        C-contiguous array of that type.

    Raises
    ------
    DataError
        If ``X`` is not 2-D, has no rows or columns, is not numeric, holds
        NaN or infinity (also after conversion, e.g. float64 values beyond the
        float32 range), or has the wrong number of features.

    Examples
    --------
    >>> check_features([[0, 1], [2, 3]]).dtype
    dtype('float32')
    """
    dtype = check_dtype(dtype)
    raw = _asarray(X, name)
    if raw.dtype.kind not in "biuf":
        raise DataError(f"{name}: must be numeric, got dtype {raw.dtype}")
    if raw.ndim != 2:
        hint = " (use X.reshape(-1, 1) for a single feature)" if raw.ndim == 1 else ""
        raise DataError(f"{name}: expected a 2-D array (n_samples, n_features), got shape {raw.shape}{hint}")
    if raw.shape[0] == 0:
        raise DataError(f"{name}: has no samples (shape {raw.shape})")
    if raw.shape[1] == 0:
        raise DataError(f"{name}: has no features (shape {raw.shape})")
    if n_features is not None and raw.shape[1] != n_features:
        raise DataError(f"{name}: has {raw.shape[1]} features, but the model expects {n_features}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(raw, dtype=dtype)
    if not all_finite(out):
        row, col = np.argwhere(~np.isfinite(out))[0]
        where = f"(first at row {row}, column {col})"
        if np.isfinite(raw[row, col]):
            raise DataError(f"{name}: value {_scalar(raw[row, col])!r} overflows {dtype} {where}")
        raise DataError(f"{name}: contains NaN or infinity {where}")
    return out


def check_labels(y, n_samples: int, *, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Validate class labels and encode them as ``0 .. k-1``.

    Parameters
    ----------
    y : array-like, shape (n_samples,)
        Class labels: integers, integral floats (``1.0``), booleans or strings.
    n_samples : int
        Number of rows of the matching feature matrix.
    name : str
        How to name the array in error messages.

    Returns
    -------
    y_int : numpy.ndarray of int64, shape (n_samples,)
        Index of each label in ``classes``.
    classes : numpy.ndarray, shape (k,)
        The sorted distinct original labels (``numpy.unique``), so that
        ``classes[y_int]`` gives back ``y``.

    Raises
    ------
    DataError
        If ``y`` is not 1-D, its length differs from ``n_samples``, it holds
        NaN, infinity or a non-integer float such as 1.5 (a continuous target
        belongs to a regressor), its values cannot be compared, or it has
        fewer than 2 distinct classes.
    """
    arr = _asarray(y, name)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array of class labels, got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise DataError(f"{name}: has {arr.shape[0]} labels, but X has {n_samples} samples")
    if arr.dtype.kind == "c":
        raise DataError(f"{name}: complex numbers are not class labels")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{name}: contains NaN or infinity (first at index {i})")
        fractional = arr != np.round(arr)
        if fractional.any():
            i = int(np.argmax(fractional))
            raise DataError(
                f"{name}: label {_scalar(arr[i])!r} at index {i} is not an integer; class labels must be "
                "integers or strings (continuous targets need a regressor)"
            )
    try:
        classes, y_int = np.unique(arr, return_inverse=True)
    except TypeError:
        raise DataError(f"{name}: values of mixed types cannot be compared (e.g. numbers and strings)") from None
    if classes.shape[0] < 2:
        found = f"only class {_scalar(classes[0])!r}" if classes.shape[0] else "no labels"
        raise DataError(f"{name}: {found}; a classifier needs at least 2 classes")
    return y_int.reshape(-1).astype(np.int64), classes


def split_indices(y, fraction: float, rng, *, stratify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Draw a seeded train/held-out split of ``len(y)`` samples.

    With ``stratify`` (the default), each class keeps about ``fraction`` of
    its samples in the held-out part and at least one in each part, whenever
    every class has 2 or more samples and ``y`` is a class label array;
    otherwise (continuous targets, singleton classes) the split is a plain
    random permutation.  Both parts are returned in shuffled order, so a file
    sorted by class does not give a training set sorted by class.

    Parameters
    ----------
    y : array-like, shape (n_samples,)
        Labels (used for stratification) or regression targets.
    fraction : float
        Share of samples to hold out, in (0, 1).
    rng : numpy.random.Generator or int
        Source of randomness (an int seeds a new generator).
    stratify : bool, default True
        Whether to try a stratified split.

    Returns
    -------
    train_idx, held_idx : numpy.ndarray of int64
        Disjoint indices covering ``range(len(y))``.

    Raises
    ------
    DataError
        If there are fewer than 2 samples, or ``fraction`` is not in (0, 1).
    """
    fraction = check_fraction(fraction, name="fraction")
    rng = as_generator(rng)
    y = np.asarray(y)
    n = y.shape[0]
    if n < 2:
        raise DataError(f"cannot split {n} sample(s) into two non-empty parts")
    is_labels = y.dtype.kind in "biuUSO" or (y.dtype.kind == "f" and np.all(y == np.round(y)))
    if stratify and is_labels:
        try:
            _, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
        except TypeError:
            counts = np.zeros(1, dtype=np.int64)
        if counts.min() >= 2:
            y_idx = y_idx.reshape(-1)
            held_parts, train_parts = [], []
            for c, k in enumerate(_held_per_class(counts, _held_total(n, fraction))):
                members = rng.permutation(np.flatnonzero(y_idx == c))
                held_parts.append(members[:k])
                train_parts.append(members[k:])
            train = np.concatenate(train_parts)
            held = np.concatenate(held_parts)
            return rng.permutation(train).astype(np.int64), rng.permutation(held).astype(np.int64)
    n_held = _held_total(n, fraction)
    perm = rng.permutation(n).astype(np.int64)
    return perm[n_held:], perm[:n_held]


def _held_total(n: int, fraction: float) -> int:
    """``round(n * fraction)``, kept between 1 and n - 1 so that neither part is empty."""
    return int(np.clip(np.floor(n * fraction + 0.5), 1, n - 1))


def _held_per_class(counts: np.ndarray, total: int) -> list[int]:
    """Share ``total`` held-out samples among classes in proportion to ``counts``.

    Largest-remainder rounding: each class first gets the floor of its exact
    share ``count * total / n``, kept within [1, count - 1]; the samples still
    missing (or in excess, after raising a share to 1) go to (or come from)
    the classes with the largest (smallest) fractional remainders.  Ties go
    to the lower class index.
    """
    exact = counts * total / counts.sum()
    held = np.clip(np.floor(exact), 1, counts - 1).astype(np.int64)
    remainder = exact - np.floor(exact)
    by_remainder = np.argsort(-remainder, kind="stable")
    while held.sum() < total and np.any(held < counts - 1):
        for c in by_remainder:
            if held.sum() < total and held[c] < counts[c] - 1:
                held[c] += 1
    while held.sum() > total and np.any(held > 1):
        for c in by_remainder[::-1]:
            if held.sum() > total and held[c] > 1:
                held[c] -= 1
    return held.tolist()


def train_validation_split(X, y, fraction: float, rng):
    """Split ``X, y`` into a training part and a validation part, seeded.

    Stratified by class when possible (see :func:`split_indices`).

    Parameters
    ----------
    X : numpy.ndarray, shape (n_samples, n_features)
    y : numpy.ndarray, shape (n_samples,)
    fraction : float
        Share of samples that go to validation, in (0, 1).
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    X_train, X_val, y_train, y_val : numpy.ndarray
        In scikit-learn's ``train_test_split`` order.

    Raises
    ------
    DataError
        If ``X`` and ``y`` have different lengths or there are fewer than
        2 samples.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise DataError(f"y: has {y.shape[0]} labels, but X has {X.shape[0]} samples")
    train, val = split_indices(y, fraction, rng)
    return X[train], X[val], y[train], y[val]


def standardize(X_train, *others):
    """Scale features to zero mean and unit variance using training statistics.

    ``mean`` and ``std`` are computed on ``X_train`` alone (accumulated in
    float64) and applied unchanged to every array in ``others``, so no
    information leaks from validation or test data.  A constant feature
    (std below ``10 * eps``) gets ``std = 1``: it is centred, not blown up.

    Parameters
    ----------
    X_train : numpy.ndarray, shape (n_train, n_features)
    *others : numpy.ndarray, shape (n_i, n_features)
        Further arrays (validation, test) to transform the same way.

    Returns
    -------
    tuple
        ``(mean, std, X_train_scaled, *others_scaled)``; ``mean`` and ``std``
        have shape (n_features,) and every array keeps ``X_train``'s float
        dtype (float32 when ``X_train`` is an integer array).

    Raises
    ------
    DataError
        If an array is not a finite 2-D numeric matrix or its feature count
        differs from ``X_train``'s.

    Examples
    --------
    >>> mean, std, a, b = standardize(np.array([[0.0], [2.0]]), np.array([[4.0]]))
    >>> a.ravel().tolist(), b.ravel().tolist()
    ([-1.0, 1.0], [3.0])
    """
    raw = np.asarray(X_train)
    dtype = raw.dtype if raw.dtype.kind == "f" else np.dtype(np.float32)
    X_train = check_features(raw, name="X_train", dtype=dtype)
    mean64 = X_train.mean(axis=0, dtype=np.float64)
    std64 = X_train.std(axis=0, dtype=np.float64)
    std64[std64 < 10 * np.finfo(np.float64).eps] = 1.0
    mean = mean64.astype(dtype)
    std = std64.astype(dtype)
    scaled = [(X_train - mean) / std]
    for i, other in enumerate(others, start=1):
        Xo = check_features(other, name=f"array {i}", dtype=dtype)
        if Xo.shape[1] != X_train.shape[1]:
            raise DataError(f"array {i}: has {Xo.shape[1]} features, but X_train has {X_train.shape[1]}")
        scaled.append((Xo - mean) / std)
    return (mean, std, *scaled)
