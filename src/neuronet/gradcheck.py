"""Central-difference gradient checks.

``dL/dw ~ (L(w + h) - L(w - h)) / 2h`` for every parameter, compared with the
analytic gradient from ``Network.loss_and_grads``.  Use float64 networks: in float32
the finite differences themselves are only good to about 1e-3.
"""

from __future__ import annotations

import numpy as np


def numerical_gradients(network, X, Y, h=1e-4):
    """Central differences of the mean loss for every entry of every parameter.

    Uses the fourth-order central stencil
    ``(-L(w+2h) + 8 L(w+h) - 8 L(w-h) + L(w-2h)) / 12h``, whose truncation error
    is O(h^4): with h = 1e-4 in float64 both it and the rounding error are near
    1e-12, so gradients down to about 1e-6 are checked to a relative 1e-6.
    """
    X = network.check_input(X)
    Y = network.check_targets(Y, X.shape[0])

    def loss_at(flat, j, value):
        flat[j] = value
        return network.loss_value(X, Y, validate=False)

    out = []
    for p in network.params:
        g = np.zeros_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            w = flat[j]
            f2p, f1p = loss_at(flat, j, w + 2 * h), loss_at(flat, j, w + h)
            f1m, f2m = loss_at(flat, j, w - h), loss_at(flat, j, w - 2 * h)
            flat[j] = w
            gflat[j] = (-f2p + 8 * f1p - 8 * f1m + f2m) / (12 * h)
        out.append(g)
    return out


def relative_errors(analytic, numeric, floor=1e-5):
    """Per-parameter max of ``|a - n| / max(|a|, |n|, floor)``.

    The floor keeps exact zeros (a dead ReLU's weights) from turning the
    stencil's rounding noise (about 1e-16 * loss / h, i.e. up to 1e-11) into a
    "relative error" of 1: below ``floor`` the check becomes absolute,
    ``|a - n| <= 1e-6 * floor = 1e-11`` for a tolerance of 1e-6.
    """
    errs = []
    for a, n in zip(analytic, numeric):
        denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
        errs.append(float(np.max(np.abs(a - n) / denom)))
    return errs


def check_gradients(network, X, Y, h=1e-4, floor=1e-5):
    """Max relative error between backprop and central differences over all parameters.

    The stencil's rounding error is proportional to the loss itself, so the
    floor below which the comparison becomes absolute is ``floor * max(1, |L|)``.
    """
    loss = network.loss_and_gradients(X, Y)
    analytic = [g.copy() for g in network.grads]
    numeric = numerical_gradients(network, X, Y, h)
    return max(relative_errors(analytic, numeric, floor * max(1.0, abs(loss))))
