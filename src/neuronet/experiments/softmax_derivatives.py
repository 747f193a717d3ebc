"""Claim 8: the notes' softmax and cross-entropy derivative formulas, checked numerically.

For a softmax output ``z = softmax(t)`` with ``t = W h + b`` and loss
``L = -sum_i y_i ln z_i``:

* the Jacobian ``dz_j/dt_i = z_j (delta_ij - z_i)``,
* ``grad_W L = (z - y) h^T``,
* ``grad_h L = W^T (z - y)``,

each compared with central differences of the forward computation (float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..units import Softmax
from .base import Plot, Result, Series, experiment

CLAIM = "Softmax derivative dz_j/dt_i = z_j(δ_ij − z_i); with cross-entropy, ∇_W L = (z − y)hᵀ and ∇_h L = Wᵀ(z − y)."


@dataclass(frozen=True)
class Config:
    n_hidden: int = 8
    n_classes: int = 5
    seeds: tuple = (0, 1, 2, 3, 4)
    h: float = 1e-4
    tolerance: float = 1e-6

    @classmethod
    def quick(cls):
        return cls(seeds=(0, 1, 2))


def _forward(W, b, h):
    t = W @ h + b
    return Softmax()(t[None, :])[0], t


def _ce(W, b, h, y):
    z, _ = _forward(W, b, h)
    return -float(np.dot(y, np.log(z)))


def _max_rel(a, n):
    # below 1e-5 the comparison is absolute (rounding noise of the stencil is ~1e-12)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-5)))


def _diff(f, x, i, eps):
    """Fourth-order central difference of f at x along coordinate i."""

    def at(d):
        xx = x.copy()
        xx[i] += d
        return f(xx)

    return (-at(2 * eps) + 8 * at(eps) - 8 * at(-eps) + at(-2 * eps)) / (12 * eps)


def _check(seed, cfg):
    rng = np.random.default_rng(seed)
    k, m, eps = cfg.n_classes, cfg.n_hidden, cfg.h
    W = rng.normal(0, 1, (k, m))
    b = rng.normal(0, 1, k)
    h = rng.normal(0, 1, m)
    y = np.eye(k)[rng.integers(k)]
    z, t = _forward(W, b, h)
    # Jacobian dz_j/dt_i, numerically by perturbing t_i
    J_formula = np.diag(z) - np.outer(z, z)  # z_j (delta_ij - z_i); symmetric
    sm = Softmax()
    J_num = np.stack([_diff(lambda tt: sm(tt[None])[0], t, i, eps) for i in range(k)], axis=1)
    # gradients of L w.r.t. W and h
    gW_formula = np.outer(z - y, h)
    gh_formula = W.T @ (z - y)
    gW_num = np.empty_like(W)
    for idx in np.ndindex(W.shape):
        gW_num[idx] = _diff(
            lambda w: _ce(w.reshape(W.shape), b, h, y), W.ravel(), np.ravel_multi_index(idx, W.shape), eps
        )
    gh_num = np.array([_diff(lambda hh: _ce(W, b, hh, y), h, i, eps) for i in range(m)])
    return {
        "jacobian": _max_rel(J_formula, J_num),
        "grad_W": _max_rel(gW_formula, gW_num),
        "grad_h": _max_rel(gh_formula, gh_num),
    }


@experiment("softmax-derivatives", CLAIM, Config, order=80)
def run(cfg: Config) -> Result:
    errs = [_check(s, cfg) for s in cfg.seeds]
    rows = []
    for key, formula in (
        ("jacobian", "dz_j/dt_i = z_j(δ_ij − z_i)"),
        ("grad_W", "∇_W L = (z − y)hᵀ"),
        ("grad_h", "∇_h L = Wᵀ(z − y)"),
    ):
        worst = max(e[key] for e in errs)
        rows.append(
            {
                "formula": formula,
                "max relative error": worst,
                "tolerance": cfg.tolerance,
                "agrees": worst <= cfg.tolerance,
            }
        )
    ok = all(r["agrees"] for r in rows)
    plot = Plot(
        title="Largest relative error per check (central differences, float64)",
        kind="bar",
        ylabel="max relative error",
        logy=True,
        series=[
            Series(
                label=f"seed {s}",
                x=[r["formula"] for r in rows],
                y=[e[k] for k in ("jacobian", "grad_W", "grad_h")],
                style="bar",
            )
            for s, e in zip(cfg.seeds, errs)
        ],
        hlines=[(cfg.tolerance, "tolerance")],
    )
    return Result(
        name="softmax-derivatives",
        claim=CLAIM,
        measurement=(
            f"Random {cfg.n_classes}-class softmax layers on {cfg.n_hidden} inputs, {len(cfg.seeds)} seeds; "
            f"each formula against fourth-order central differences (h = {cfg.h:g}) in float64."
        ),
        verdict="supported" if ok else "not supported",
        reason=(
            f"every formula agrees with the numerical derivative to within {cfg.tolerance:g}"
            if ok
            else "at least one formula disagrees with the numerical derivative"
        ),
        metrics={r["formula"]: r["max relative error"] for r in rows},
        tables=[{"title": "Formula vs central differences", "rows": rows}],
        plots=[plot],
    )
