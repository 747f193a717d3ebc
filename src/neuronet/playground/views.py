"""Compact pictures for the browser: maps over the plane and weight images as base64 bytes.

A hidden unit's map is one byte per grid point.  Bytes 1–254 place the output inside the
unit's range; the two end values mark where the unit is flat, so the page can hatch them:

* ``0``: saturated low (sigmoid ≤ 0.05, tanh ≤ −0.95) or, for a ReLU, exactly 0 (S′ = 0);
* ``255``: saturated high (sigmoid ≥ 0.95, tanh ≥ 0.95).

The tolerance is the one ``neuronet.diagnostics`` uses for the saturated fraction.
"""

from __future__ import annotations

import base64

import numpy as np

SAT_TOL = 0.05


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def unit_bytes(z: np.ndarray, unit) -> np.ndarray:
    """Bytes for outputs ``z`` of ``unit`` (any shape; last axis = units): see the module docstring."""
    if unit.bounds is not None:
        lo, hi = unit.bounds
        frac = (z - lo) / (hi - lo)
        out = 1 + np.rint(np.clip(frac, 0, 1) * 253)
        tol = SAT_TOL  # in output units, as in neuronet.diagnostics
        out[z <= lo + tol] = 0
        out[z >= hi - tol] = 255
        return out.astype(np.uint8)
    # unbounded (ReLU): scale each unit by its own maximum over the map; 0 marks the flat half
    top = np.maximum(z.max(axis=tuple(range(z.ndim - 1)), keepdims=True), 1e-12)
    out = 1 + np.rint(np.clip(z / top, 0, 1) * 253)
    out[z <= 0] = 0
    return out.astype(np.uint8)


def output_bytes(Z: np.ndarray, output: str, task: str, y_range=(-1.0, 1.0)) -> np.ndarray:
    """The output map: the share of class 1 (two classes) or the regression value in ``y_range``."""
    if task == "regression":
        lo, hi = y_range
        frac = (Z[:, 0] - lo) / (hi - lo)
    elif output == "softmax":
        frac = Z[:, 1]
    else:  # sigmoid outputs, one per class: class 1's share, so that 0.5 is the argmax boundary
        frac = Z[:, 1] / np.maximum(Z[:, 0] + Z[:, 1], 1e-12)
    return np.rint(np.clip(frac, 0, 1) * 255).astype(np.uint8)


def weight_images(W: np.ndarray) -> np.ndarray:
    """First-layer weights (n_in, n_units) as one image per unit: 128 = 0, scaled by the largest |w|."""
    top = max(float(np.abs(W).max()), 1e-12)
    return np.rint(128 + np.clip(W.T / top, -1, 1) * 127).astype(np.uint8)
