"""``solver="lbfgs"``: SciPy's L-BFGS-B over the network's flat parameters, with its hand-derived gradients."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

__all__ = ["minimize_lbfgs"]


def minimize_lbfgs(net, X, Y, sw, *, alpha, max_iter, max_fun, tol):
    """Fit ``net`` to ``(X, Y)`` by L-BFGS-B; the weights end at the solution.  Returns SciPy's result.

    The objective is the network's loss plus scikit-learn's L2 penalty on the weight matrices
    (not the biases), ``alpha / 2 · Σ ||W||² / n`` with ``n`` the number of samples (or the sum
    of ``sw``).  Loss and gradient come from ``net.loss_and_grads`` in one pass; SciPy works in
    float64, the network in its own dtype.
    """
    P = net.parameters
    X, Y = net.check_input(X), net.check_targets(Y, X.shape[0])  # once: every call passes validate=False
    denom = X.shape[0] if sw is None else float(sw.sum())
    alpha = float(alpha)

    def fun(x):
        np.copyto(P.data, x, casting="unsafe")
        loss = net.loss_and_grads(X, Y, sw, validate=False)
        if alpha:  # scikit-learn's L2 penalty on the weight matrices
            for p, g, is_weight in zip(P.values, P.grads, P.is_weight):
                if is_weight:
                    loss += 0.5 * alpha * float(np.dot(p.ravel(), p.ravel())) / denom
                    g += (alpha / denom) * p
        return loss, P.grad.astype(np.float64)

    x0 = P.data.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        res = minimize(
            fun,
            x0,
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    np.copyto(P.data, res.x, casting="unsafe")
    return res
