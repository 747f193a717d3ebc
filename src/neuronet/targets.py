"""Turning class labels into target vectors, with remedy (2): soft targets.

With sigmoid outputs and targets of exactly 0 and 1, the only way to reach the
target is an infinitely large weighted sum: the unit is driven into
saturation.  Targets such as 0.15/0.85 stop short of the asymptotes.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

_DEFAULT_RANGE = {"tanh": (-1.0, 1.0), "lecun-tanh": (-1.0, 1.0)}


def default_target_range(unit_name: str) -> tuple[float, float]:
    """(low, high) targets used when none are given: ±1 for tanh outputs, else 0/1."""
    return _DEFAULT_RANGE.get(unit_name, (0.0, 1.0))


def encode_targets(labels, n_outputs, unit_name="sigmoid", target_range=None, dtype=np.float32):
    """Target matrix for integer class labels.

    Parameters
    ----------
    labels : int array, shape (n,)
        Classes ``0 .. k-1``; with one output unit, ``k = 2``.
    n_outputs : int
        Output units: ``k`` (one per class) or 1 (binary).
    unit_name : str
        The output unit.  For ``softmax`` the true class gets ``high`` and the
        other ``k - 1`` classes share ``1 - high`` equally, so the targets still
        sum to 1 (the notes' recommendation); ``low`` is not used.
    target_range : (low, high), optional
        Defaults to ``default_target_range(unit_name)``.

    Returns
    -------
    Y : ndarray, shape (n, n_outputs)
    """
    labels = np.asarray(labels)
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, (int, np.integer)) or n_outputs < 1:
        raise ConfigError(f"n_outputs: must be an integer >= 1, got {n_outputs!r}")
    classes = 2 if n_outputs == 1 else int(n_outputs)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iub"):
        raise ConfigError(
            f"labels: expected a 1-D array of integer class labels, got {labels.dtype} of shape {labels.shape}"
        )
    labels = labels.astype(np.int64, copy=False)  # bools index as 0 and 1, not as a mask
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ConfigError(f"labels: class labels must lie in [0, {classes}) for {n_outputs} output(s), got {bad}")
    low, high = default_target_range(unit_name) if target_range is None else map(float, target_range)
    if not low < high:
        raise ConfigError(f"target range: low must be below high, got ({low}, {high})")
    n = labels.shape[0]
    if n_outputs == 1:
        Y = np.where(labels[:, None] == 1, high, low).astype(dtype)
        return Y
    if unit_name == "softmax":
        if not 0.0 < high <= 1.0:
            raise ConfigError(f"target range: softmax targets need 0 < high <= 1, got {high}")
        low = (1.0 - high) / (n_outputs - 1)
    Y = np.full((n, n_outputs), low, dtype=dtype)
    Y[np.arange(n), labels] = high
    return Y


def decode_outputs(Z, target_range=None, unit_name="sigmoid"):
    """Predicted class per row: argmax for several outputs, threshold at mid-range for one."""
    if Z.shape[1] == 1:
        low, high = default_target_range(unit_name) if target_range is None else target_range
        return (Z[:, 0] > (low + high) / 2).astype(np.int64)
    return Z.argmax(axis=1)
