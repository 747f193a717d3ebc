"""The playground's data sets: small 2-D problems drawn on the plane, digits, and Fahlman's 8-3-8.

Every 2-D set lives in about ``[-1, 1]²`` (the plane the maps cover is ``±PLANE_EXTENT``), so
inputs have a variance of order one and the initializers' fan-in arguments hold; digits are
standardized with training statistics for the same reason (``neuronet train --standardize``).

======== ========================================================= ===============
name     what it is                                                task
======== ========================================================= ===============
xor      uniform points in the four quadrants, label = sign(x·y)   classification
circles  two concentric circles (``neuronet.data.synthetic``)      classification
spirals  two interleaved spirals (``neuronet.data.synthetic``)     classification
gauss    two Gaussian blobs                                        classification
wave     ``y = sin(πx₀)·cos(πx₁/2)``: regression on the plane      regression
digits   scikit-learn's 8×8 digits, 64 inputs, 10 classes          classification
encoder  Fahlman's 8-3-8 encoder: 8 one-hot patterns (train=test)  classification
======== ========================================================= ===============

``noise`` (0–0.5) moves the points (Gaussian jitter with that standard deviation, in plane
units); ``train_fraction`` splits each set (except encoder) with the seeded generator.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..data import load, standardize
from ..data.synthetic import circles, encoder, spirals

PLANE_EXTENT = 1.5
N_POINTS = 400
PLANE_SETS = ("xor", "circles", "spirals", "gauss", "wave")
DATASETS = (*PLANE_SETS, "digits", "encoder")


@dataclass(frozen=True, eq=False)
class PlayData:
    """Arrays for one session, already in the network's dtype (float32)."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray  # int64 labels, or float targets for regression
    X_test: np.ndarray
    y_test: np.ndarray
    task: str  # "classification" or "regression"
    n_classes: int | None
    raw_train: np.ndarray  # features before standardization (what an exported file holds)
    raw_test: np.ndarray
    standardized: bool = False

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def is_plane(self) -> bool:
        return self.name in PLANE_SETS

    def to_npz(self) -> bytes:
        """The raw split as a ``.npz`` that ``neuronet train --data FILE.npz`` reads (X, y, X_test, y_test)."""
        buf = io.BytesIO()
        np.savez(buf, X=self.raw_train, y=self.y_train, X_test=self.raw_test, y_test=self.y_test)
        return buf.getvalue()


def _xor(n, rng, noise):
    X = rng.uniform(-1.0, 1.0, (n, 2))
    X += np.sign(X) * 0.05  # a small gap along the axes, as in TensorFlow Playground
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return X + rng.normal(0.0, noise, X.shape), y


def _gauss(n, rng, noise):
    y = (np.arange(n) % 2).astype(np.int64)
    centers = np.where(y[:, None] == 1, 0.5, -0.5)
    X = centers + rng.normal(0.0, 0.2 + noise, (n, 2))
    order = rng.permutation(n)
    return X[order], y[order]


def _wave(n, rng, noise):
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = np.sin(np.pi * X[:, 0]) * np.cos(np.pi * X[:, 1] / 2)
    return X, (y + rng.normal(0.0, noise, n)).astype(np.float32)


def _plane(name, rng, noise):
    if name == "xor":
        return _xor(N_POINTS, rng, noise)
    if name == "circles":
        return circles(N_POINTS, rng, factor=0.5, noise=0.05 + noise)
    if name == "spirals":
        return spirals(N_POINTS, rng, noise=0.03 + noise)
    if name == "gauss":
        return _gauss(N_POINTS, rng, noise)
    return _wave(N_POINTS, rng, noise)


def make_data(name: str, *, noise: float = 0.0, train_fraction: float = 0.5, seed: int = 0) -> PlayData:
    """Build data set ``name`` (one of ``DATASETS``); options are validated by ``options``."""
    rng = np.random.default_rng(seed)
    if name == "encoder":
        X, y = encoder(8)
        return PlayData(name, X, y, X.copy(), y.copy(), "classification", 8, X, X.copy())
    if name == "digits":
        ds = load("digits", test_fraction=round(1.0 - train_fraction, 6), seed=seed)
        _, _, Xtr, Xte = standardize(ds.X_train, ds.X_test)
        return PlayData(
            name, Xtr, ds.y_train, Xte, ds.y_test, "classification", 10, ds.X_train, ds.X_test, standardized=True
        )
    X, y = _plane(name, rng, noise)
    X = np.ascontiguousarray(X, dtype=np.float32)
    n_train = min(max(round(train_fraction * len(X)), 2), len(X) - 2)
    order = rng.permutation(len(X))
    tr, te = np.sort(order[:n_train]), np.sort(order[n_train:])
    task = "regression" if name == "wave" else "classification"
    Xtr, Xte = np.ascontiguousarray(X[tr]), np.ascontiguousarray(X[te])
    return PlayData(name, Xtr, y[tr], Xte, y[te], task, None if task == "regression" else 2, Xtr, Xte)


def plane_grid(size: int) -> np.ndarray:
    """``size²`` points covering ``±PLANE_EXTENT`` row by row, top row first (y decreasing), float32."""
    ticks = np.linspace(-PLANE_EXTENT, PLANE_EXTENT, size, dtype=np.float32)
    gx, gy = np.meshgrid(ticks, ticks[::-1])
    return np.ascontiguousarray(np.column_stack([gx.ravel(), gy.ravel()]))
