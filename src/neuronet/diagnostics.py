"""Per-layer diagnostics: saturation, dead units, gradient flow.

Computed once per epoch on a fixed probe batch (at most ``probe_size`` training
samples): one extra forward and backward pass, in prediction mode, so the cost
is a fraction ``probe_size / n_train`` of an epoch.

For each layer:

``saturated``
    fraction of (sample, unit) outputs within ``tol`` of the unit's bounds
    (sigmoid: below 0.05 or above 0.95); None for unbounded units.
``mean_derivative``
    mean of ``f'(a)`` over the probe batch: ``S' = S(1 - S)`` for sigmoid, the
    true derivative (a prime offset is not included).
``dead``
    for ReLU: fraction of units that output 0 on every probe sample; else None.
``grad_norm``, ``weight_norm``
    Frobenius norms of ``dL/dW`` (on the probe batch) and of ``W``.
``update_ratio``
    ``||W_end - W_start|| / ||W_start||`` over the epoch.
"""

from __future__ import annotations

import numpy as np


def _norm(a) -> float:
    a = a.ravel()
    return float(np.sqrt(np.dot(a, a)))


def layer_diagnostics(network, X, Y, start_weights=None, tol=0.05):
    """One dict per layer for the probe batch ``(X, Y)``; see the module docstring.

    ``X`` and ``Y`` must already be validated arrays of the network's dtype.
    ``start_weights`` (aligned with ``network.params``) gives the update ratio.
    Overwrites ``network.parameters.grad``.
    """
    _, acts = network.loss_and_grads(X, Y, validate=False, return_activations=True)
    stats = []
    for i, (L, z) in enumerate(zip(network.layers, acts)):
        live = slice(None) if L.unit_mask is None else L.unit_mask.astype(bool)
        zl = z[:, live]
        d = {"layer": i, "unit": L.unit.name}
        if L.unit.bounds is not None and zl.size:
            lo, hi = L.unit.bounds
            d["saturated"] = float(np.mean((zl <= lo + tol) | (zl >= hi - tol)))
        else:
            d["saturated"] = None
        deriv = L.unit.derivative(zl, np.empty_like(zl))
        d["mean_derivative"] = float(deriv.mean()) if zl.size else None
        d["dead"] = float(1.0 - np.mean((zl > 0).any(axis=0))) if L.unit.can_die and zl.size else None
        d["grad_norm"] = _norm(L.dW)
        d["weight_norm"] = _norm(L.W)
        if start_weights is not None:
            W0 = start_weights[2 * i]
            n0 = _norm(W0)
            d["update_ratio"] = _norm(L.W - W0) / n0 if n0 > 0 else None
        else:
            d["update_ratio"] = None
        stats.append(d)
    return stats


def summarize(stats) -> str:
    """Short text such as ``sat 0.12/0.80`` (saturated fraction per bounded layer)."""
    parts = []
    sat = [s["saturated"] for s in stats if s["saturated"] is not None]
    if sat:
        parts.append("sat " + "/".join(f"{v:.2f}" for v in sat))
    dead = [s["dead"] for s in stats if s["dead"] is not None]
    if dead:
        parts.append("dead " + "/".join(f"{v:.2f}" for v in dead))
    return "  ".join(parts)
