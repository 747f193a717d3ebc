"""The notes' softmax and cross-entropy derivatives, checked numerically: the formulas, Σy = 1, and the typos.

For a softmax output ``z = softmax(t)`` with ``t = W h + b`` and loss ``L = -Σ_i y_i ln z_i`` the
notes state (lecture, lines 104 and 147–155):

* the Jacobian ``∂z_j/∂t_i = z_j (δ_ij − z_i)``;
* ``∇_W L = (z − y) hᵀ`` and ``∇_h L = Wᵀ (z − y)``;
* "strongly recommended: choose labels such that Σ y_i = 1".

Each formula is compared with fourth-order central differences of the forward computation in
float64.  Σy = 1 is tested, not assumed: with labels summing to 1.5 the general gradient is
``(z Σy − y) hᵀ``, and ``(z − y) hᵀ`` must then fail.  Three formulas are written with typos in
the notes; each is checked as written and as corrected:

* ``∂z_j/∂t_j = Σ z_i (1 − z_i)`` — the correct diagonal is ``z_j (1 − z_j)``;
* ``∂L/∂z_j = −y_i / z_j`` — the correct form is ``−y_j / z_j``;
* ``∂z_j/∂h = z_j w_j − Σ_i z_i z_i w_i`` — the correct form is ``z_j w_j − z_j Σ_i z_i w_i``.

This module is the reference example of an experiment written as a ``Design`` (runs, a pure
measurement per run, a judgement of named checks, and a presentation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import Check
from ..units import Softmax
from .base import Plot, Series
from .design import Design, register_design

CLAIM = "Softmax derivative dz_j/dt_i = z_j(δ_ij − z_i); with cross-entropy, ∇_W L = (z − y)hᵀ and ∇_h L = Wᵀ(z − y)."

#: (key, formula as the notes write it or as corrected)
FORMULAS = (
    ("jacobian", "∂z_j/∂t_i = z_j(δ_ij − z_i)"),
    ("grad_W", "∇_W L = (z − y)hᵀ"),
    ("grad_h", "∇_h L = Wᵀ(z − y)"),
)
TYPOS = (
    ("diag", "∂z_j/∂t_j = Σ z_i(1 − z_i)", "∂z_j/∂t_j = z_j(1 − z_j)"),
    ("dL_dz", "∂L/∂z_j = −y_i/z_j", "∂L/∂z_j = −y_j/z_j"),
    ("dz_dh", "∂z_j/∂h = z_j w_j − Σ_i z_i z_i w_i", "∂z_j/∂h = z_j w_j − z_j Σ_i z_i w_i"),
)


@dataclass(frozen=True)
class Config:
    n_hidden: int = 8
    n_classes: int = 5
    seeds: tuple = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    h: float = 1e-4
    tolerance: float = 1e-5  # a correct formula agrees to within this (the stencil's error is ~1e-7 at worst)
    wrong: float = 1e-2  # a wrong formula is off by at least this somewhere
    label_sum: float = 1.5  # the Σy ≠ 1 case

    @classmethod
    def quick(cls):
        return cls(seeds=(0, 1, 2))


def _softmax(t):
    return Softmax()(t[None, :])[0]


def _ce(W, b, h, y):
    return -float(np.dot(y, np.log(_softmax(W @ h + b))))


def _max_rel(a, n):
    # below 1e-5 the comparison is absolute (rounding noise of the stencil is ~1e-12)
    a, n = np.asarray(a, float), np.asarray(n, float)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-5)))


def _diff(f, x, eps):
    """Fourth-order central differences of scalar or vector ``f`` at ``x``, one column per coordinate.

    ``eps`` is one step, or one step per coordinate.
    """
    steps = np.broadcast_to(np.asarray(eps, float), x.shape).ravel()
    cols = []
    for i in range(x.size):

        def at(d, i=i):
            xx = x.copy()
            xx.flat[i] += d
            return np.asarray(f(xx), float)

        e = steps[i]
        # differences first: where f does not depend on x_i the column is exactly 0
        cols.append((8 * (at(e) - at(-e)) - (at(2 * e) - at(-2 * e))) / (12 * e))
    return np.stack(cols, axis=-1)


def _problem(seed, cfg):
    rng = np.random.default_rng(seed)
    k, m = cfg.n_classes, cfg.n_hidden
    W, b, h = rng.normal(0, 1, (k, m)), rng.normal(0, 1, k), rng.normal(0, 1, m)
    label = int(rng.integers(k))
    return W, b, h, np.eye(k)[label], label


def _formula_errors(W, b, h, y, eps):
    t = W @ h + b
    z = _softmax(t)
    J_num = _diff(_softmax, t, eps)  # J_num[j, i] = dz_j/dt_i
    gW_num = _diff(lambda w: _ce(w.reshape(W.shape), b, h, y), W.ravel(), eps).reshape(W.shape)
    gh_num = _diff(lambda hh: _ce(W, b, hh, y), h, eps)
    return (
        z,
        J_num,
        {
            "jacobian": _max_rel(np.diag(z) - np.outer(z, z), J_num),
            "grad_W": _max_rel(np.outer(z - y, h), gW_num),
            "grad_h": _max_rel(W.T @ (z - y), gh_num),
        },
    )


def _typo_errors(W, b, h, y, label, z, J_num, eps):
    """Each typo's error as written and as corrected."""
    k = z.size
    on = y > 0  # L = −Σ y_i ln z_i over the labelled classes only, so the other partials are exactly 0
    dL_dz_num = _diff(lambda zz: -float(np.sum(y[on] * np.log(zz[on]))), z, 1e-3 * z)  # steps relative to z_j
    dz_dh_num = _diff(lambda hh: _softmax(W @ hh + b), h, eps)  # [j, :] = dz_j/dh
    inner = (z * z) @ W  # Σ_i z_i z_i w_i (as written)
    return {
        "diag": (
            _max_rel(np.full(k, np.sum(z * (1 - z))), np.diag(J_num)),
            _max_rel(z * (1 - z), np.diag(J_num)),
        ),
        "dL_dz": (_max_rel(-y[label] / z, dL_dz_num), _max_rel(-y / z, dL_dz_num)),
        "dz_dh": (
            _max_rel(z[:, None] * W - inner[None, :], dz_dh_num),
            _max_rel(z[:, None] * (W - (z @ W)[None, :]), dz_dh_num),
        ),
    }


@register_design
class SoftmaxDerivatives(Design):
    name = "softmax-derivatives"
    claim = CLAIM
    config_cls = Config
    order = 80

    def runs(self, cfg):
        return [{"seed": int(s)} for s in cfg.seeds]

    def measure(self, cfg, key):
        W, b, h, y, label = _problem(key["seed"], cfg)
        z, J_num, formulas = _formula_errors(W, b, h, y, cfg.h)
        typos = _typo_errors(W, b, h, y, label, z, J_num, cfg.h)
        # Σy ≠ 1: the same example, the label scaled and a second class given the rest
        y2 = y * 1.0
        y2[(label + 1) % y.size] = cfg.label_sum - 1.0
        gW_num = _diff(lambda w: _ce(w.reshape(W.shape), b, h, y2), W.ravel(), cfg.h).reshape(W.shape)
        sum_y = {
            "z_minus_y": _max_rel(np.outer(z - y2, h), gW_num),
            "general": _max_rel(np.outer(z * y2.sum() - y2, h), gW_num),
        }
        return {"formulas": formulas, "typos": typos, "sum_y": sum_y}

    def judge(self, cfg, measured):
        data = [d for _, d in measured]
        n = len(data)
        worst = {k: max(d["formulas"][k] for d in data) for k, _ in FORMULAS}
        checks = [
            Check(
                name=f"formula {text}",
                claim=f"the notes' {text} equals the derivative",
                statistic="largest relative error vs central differences, over seeds",
                value=worst[key],
                ci=None,
                threshold=f"≤ {cfg.tolerance:g}",
                n=n,
                holds=worst[key] <= cfg.tolerance,
                could_fail=f"a wrong formula is off by far more than {cfg.tolerance:g} (see the typo checks)",
            )
            for key, text in FORMULAS
        ]
        zy = min(d["sum_y"]["z_minus_y"] for d in data)
        general = max(d["sum_y"]["general"] for d in data)
        checks.append(
            Check(
                name="Σy = 1 is needed",
                claim=f"(z − y)hᵀ is the gradient only when Σy = 1: with Σy = {cfg.label_sum:g} it fails, "
                "and the general form (zΣy − y)hᵀ holds",
                statistic="smallest error of (z − y)hᵀ at Σy ≠ 1 over seeds",
                value=zy,
                ci=None,
                threshold=f"> {cfg.wrong:g} while (zΣy − y)hᵀ ≤ {cfg.tolerance:g} (worst {general:.1e})",
                n=n,
                holds=zy > cfg.wrong and general <= cfg.tolerance,
                could_fail="if z − y were right for any labels, its error at Σy = 1.5 would be at rounding level",
            )
        )
        for key, written, correct in TYPOS:
            as_written = min(d["typos"][key][0] for d in data)
            corrected = max(d["typos"][key][1] for d in data)
            checks.append(
                Check(
                    name=f"typo {key}",
                    claim=f"the notes write {written}; the correct form is {correct}",
                    statistic="smallest error as written, over seeds",
                    value=as_written,
                    ci=None,
                    threshold=f"as written > {cfg.wrong:g}; corrected ≤ {cfg.tolerance:g} (worst {corrected:.1e})",
                    n=n,
                    holds=as_written > cfg.wrong and corrected <= cfg.tolerance,
                    could_fail="if the written form were right, its error would be at rounding level",
                )
            )
        return checks

    def present(self, cfg, measured, checks):
        seeds = [k["seed"] for k, _ in measured]
        rows = [
            {
                "formula": c.claim,
                "largest error": f"{c.value:.1e}",
                "rule": c.threshold,
                "holds": c.holds,
            }
            for c in checks
        ]
        plot = Plot(
            title="Largest relative error per formula (central differences, float64)",
            kind="bar",
            ylabel="max relative error",
            logy=True,
            series=[
                Series(
                    label=f"seed {s}",
                    x=[text for _, text in FORMULAS] + [w for _, w, _ in TYPOS],
                    y=[d["formulas"][k] for k, _ in FORMULAS] + [d["typos"][k][0] for k, _, _ in TYPOS],
                    style="bar",
                )
                for s, (_, d) in zip(seeds, measured)
            ],
            hlines=[(cfg.tolerance, "tolerance"), (cfg.wrong, "wrong above")],
        )
        return {
            "measurement": (
                f"Random {cfg.n_classes}-class softmax layers on {cfg.n_hidden} inputs, {len(seeds)} seeds; each "
                f"formula against fourth-order central differences (h = {cfg.h:g}) in float64. The three formulas "
                f"hold to rounding; (z − y) fails once Σy = {cfg.label_sum:g}, and the notes' three typos fail as "
                "written and hold once corrected."
            ),
            "metrics": {c.name: c.value for c in checks},
            "tables": [{"title": "Formula vs central differences", "rows": rows}],
            "plots": [plot],
        }
