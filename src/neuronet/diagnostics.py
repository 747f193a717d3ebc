"""Per-layer diagnostics: saturation, dead units, output confidence, gradient flow.

Computed once per epoch on a fixed probe batch (at most ``probe_size`` training
samples): one extra forward and backward pass, in prediction mode, so the cost
is a fraction ``probe_size / n_train`` of an epoch.

Layers are numbered from 0 on the input side (``layer`` below), as ``neuronet inspect``,
the parameter names (``W0``, ``b0``) and the training report number them.

For each layer:

``saturated``
    fraction of (sample, unit) outputs within ``tol`` of the unit's bounds
    (sigmoid: below 0.05 or above 0.95), where ``S' = S(1 - S)`` is nearly 0 and
    the unit learns slowly; None for unbounded units and for a softmax output.  A
    softmax's outputs are probabilities that sum to 1: a well-trained classifier puts
    nearly 0 on every wrong class, so "near a bound" would count its confident, correct
    answers (0.9 of all outputs and more on 10 classes) as stuck units.
``confidence``
    softmax only: the mean over the probe batch of the largest output probability
    ``max_j z_j`` (1 = certain, ``1/k`` = uniform over ``k`` classes); else None.
``mean_derivative``
    mean of ``f'(a)`` over the probe batch: ``S' = S(1 - S)`` for sigmoid, the
    true derivative (a prime offset is not included); the diagonal ``z_j (1 - z_j)``
    for softmax.
``dead``
    for ReLU: fraction of units that output 0 on every probe sample; else None.
``grad_norm``, ``weight_norm``
    Frobenius norms of ``dL/dW`` (on the probe batch) and of ``W``.
``update_ratio``
    ``||W_end - W_start|| / ||W_start||`` over the epoch.
"""

from __future__ import annotations

import numpy as np

from .units import Softmax


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
        softmax = isinstance(L.unit, Softmax)
        if L.unit.bounds is not None and zl.size and not softmax:
            lo, hi = L.unit.bounds
            d["saturated"] = float(np.mean((zl <= lo + tol) | (zl >= hi - tol)))
        else:
            d["saturated"] = None
        d["confidence"] = float(zl.max(axis=1).mean()) if softmax and zl.size else None
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
    """Short text for the epoch line, such as ``sat L0 0.12 L1 0.80  dead L2 0.05  conf 0.97``.

    ``sat``: saturated fraction of each layer that has one; ``dead``: dead-unit fraction of each
    layer of ReLU-like units; ``L0`` is layer 0 (see the module docstring).  ``conf``: the
    softmax output's mean largest probability, which stands in for its saturation.
    """

    def per_layer(name, key):
        values = [(s.get("layer", j), s.get(key)) for j, s in enumerate(stats)]
        shown = [f"L{i} {v:.2f}" for i, v in values if v is not None]
        return f"{name} " + " ".join(shown) if shown else ""

    conf = [s["confidence"] for s in stats if s.get("confidence") is not None]
    parts = [per_layer("sat", "saturated"), per_layer("dead", "dead"), f"conf {conf[-1]:.2f}" if conf else ""]
    return "  ".join(p for p in parts if p)
