"""Claim 2: vanishing gradients get worse the more layers a network has.

Backpropagation multiplies the delta by ``Wᵀ`` and by the unit's derivative once per
layer on its way down::

    delta_{l-1} = (delta_l @ W_lᵀ) * f'(z_{l-1})

A sigmoid's ``f' = S(1 - S) ≤ 1/4``, so with weights of unit gain (fan-in init) the
delta shrinks by about 4× or more per layer; ``tanh' ≤ 1`` and ReLU's ``f' ∈ {0, 1}``
shrink it far less.  We measure the ratio

    r = ||dL/dW_first|| / ||dL/dW_last||

(Frobenius norms; ``W_first`` the input-to-hidden weights, ``W_last`` the weights into
the output layer, so depth 1 already has two layers to compare) for networks of 1 to 8
hidden layers, three unit types and two initializations, at initialization and after
a short training run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..diagnostics import layer_diagnostics
from ..errors import DivergenceError
from ..network import mlp
from ..train import Trainer
from .base import Plot, Result, Series, experiment, pm, spread
from .common import load_data

CLAIM = "The more layers the network has, the bigger the issue [of vanishing gradients]."


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    width: int = 64
    depths: tuple = (1, 2, 3, 4, 5, 6, 7, 8)
    units: tuple = ("sigmoid", "tanh", "relu")
    inits: tuple = ("fan-in", "normal:1")
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 3  # "after a short training"
    seeds: tuple = (0, 1, 2)

    @classmethod
    def quick(cls):
        return cls(depths=(1, 2, 4), epochs=2, seeds=(0, 1))


def _ratio(diag):
    """``||dL/dW_first|| / ||dL/dW_last||`` from one epoch's per-layer diagnostics; None if undefined."""
    first, last = diag[0]["grad_norm"], diag[-1]["grad_norm"]
    if not (math.isfinite(first) and math.isfinite(last)) or last <= 0 or first <= 0:
        return None  # e.g. every unit of the top ReLU layer dead: no gradient reaches W_last
    return first / last


def _one(cfg, data, unit, init, depth, seed):
    Xtr, ytr, *_, k = data
    net = mlp([Xtr.shape[1], *[cfg.width] * depth, k], hidden=unit, output="softmax", init=init, seed=seed)
    # the diagnostics probe is the whole training set, the same batch as the measurement at initialization
    tr = Trainer(
        net, "sgd", lr=cfg.lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, probe_size=Xtr.shape[0]
    )
    X, Y, _ = tr.prepare(Xtr, ytr)
    d0 = layer_diagnostics(net, X, Y)
    try:
        h = tr.fit(Xtr, ytr)
    except DivergenceError as e:
        h = e.history
    d1 = h.diagnostics[-1] if h.diagnostics and not h.diverged else None
    return {
        "init": _ratio(d0),
        "trained": None if d1 is None else _ratio(d1),
        "norms_init": [d["grad_norm"] for d in d0],
        "norms_trained": None if d1 is None else [d["grad_norm"] for d in d1],
        "diverged": h.diverged,
    }


def _log10(values):
    return [None if v is None else math.log10(v) for v in values]


def _spearman(x, y):
    """Spearman rank correlation of two equal-length sequences (no ties expected)."""
    rx = np.argsort(np.argsort(x)).astype(float)
    ry = np.argsort(np.argsort(y)).astype(float)
    if len(x) < 2 or rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


@experiment("vanishing-gradients", CLAIM, Config, order=20)
def run(cfg: Config) -> Result:
    depths = sorted(cfg.depths)
    if len(depths) < 2:
        raise ValueError(f"depths: need at least two depths to see a trend, got {cfg.depths!r}")
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: one BLAS thread is fastest
        data = load_data(cfg.data, seed=0)
        runs = {
            (u, i, d): [_one(cfg, data, u, i, d, s) for s in cfg.seeds]
            for u in cfg.units
            for i in cfg.inits
            for d in depths
        }
    return _result(cfg, depths, runs)


def _result(cfg, depths, runs):
    metrics, rows = {}, []
    mean_log = {}  # (unit, init, when) -> [mean log10 ratio per depth]
    for u in cfg.units:
        for i in cfg.inits:
            for when in ("init", "trained"):
                curve = []
                for d in depths:
                    st = spread(_log10([r[when] for r in runs[u, i, d]]))
                    curve.append(st["mean"])
                    metrics[f"log10 ratio, {u}, {i}, depth {d}, {when}"] = st
                mean_log[u, i, when] = curve
            for d in depths:
                rs = runs[u, i, d]
                row = {"unit": u, "init": i, "hidden layers": d}
                for when, label in (("init", "at init"), ("trained", f"after {cfg.epochs} epochs")):
                    st = spread(_log10([r[when] for r in rs]))
                    row[f"log10 ratio {label}"] = pm(st, 2)
                    row[f"ratio {label}"] = None if st["mean"] is None else 10 ** st["mean"]
                row["diverged runs"] = sum(r["diverged"] for r in rs)
                rows.append(row)

    def drop(u, i, when):
        """Decades lost from the shallowest to the deepest network (positive = the ratio fell)."""
        c = mean_log[u, i, when]
        return None if c[0] is None or c[-1] is None else c[0] - c[-1]

    def falls(u, i, when):
        c = mean_log[u, i, when]
        if any(v is None for v in c):
            return False, float("nan")
        rho = _spearman(depths, c)
        return rho <= -0.9 and c[0] - c[-1] >= 1.0, rho

    checks = {}
    reason_bits = []
    for when, label in (("init", "at initialization"), ("trained", f"after {cfg.epochs} epochs")):
        ok, rho = (
            falls("sigmoid", "fan-in", when)
            if ("sigmoid" in cfg.units and "fan-in" in cfg.inits)
            else (False, float("nan"))
        )
        checks[f"sigmoid falls, {when}"] = ok
        ds, dr = (
            (drop("sigmoid", "fan-in", when), drop("relu", "fan-in", when))
            if ("relu" in cfg.units and "fan-in" in cfg.inits)
            else (None, None)
        )
        less = ds is not None and dr is not None and ds - dr >= 1.0
        checks[f"relu falls less, {when}"] = less
        reason_bits.append(
            f"{label}: sigmoid/fan-in Spearman ρ = {rho:.2f}, drop {_fmt(ds)} decades "
            f"({'falls' if ok else 'does not fall'} by the rule); relu/fan-in drop {_fmt(dr)} decades "
            f"({'at least' if less else 'less than'} 1 decade less than sigmoid's)"
        )
        metrics[f"sigmoid/fan-in Spearman(depth, log10 ratio), {when}"] = rho
        for u in cfg.units:
            for i in cfg.inits:
                metrics[f"decades lost from depth {depths[0]} to {depths[-1]}, {u}, {i}, {when}"] = drop(u, i, when)
    sig = checks["sigmoid falls, init"] or checks["sigmoid falls, trained"]
    if all(checks.values()):
        verdict = "supported"
    elif not sig:
        verdict = "not supported"
    else:
        verdict = "mixed"
    others = "; ".join(
        f"{u}/{i} {_fmt(drop(u, i, 'init'))}" for u in cfg.units for i in cfg.inits if (u, i) != ("sigmoid", "fan-in")
    )
    reason = (
        f"Rule: the ratio r = ||∇W_first|| / ||∇W_last|| 'falls with depth' for sigmoid units with fan-in init when "
        f"the Spearman correlation between depth and the seed-mean log10 r is ≤ −0.9 and r loses at least one decade "
        f"from {depths[0]} to {depths[-1]} hidden layers; ReLU 'falls less' when its loss is at least one decade "
        f"smaller. Supported if both hold at initialization and after training; not supported if sigmoid falls at "
        f"neither; mixed otherwise. " + ". ".join(reason_bits) + f". Decades lost at initialization by the other "
        f"unit/init pairs: {others}."
    )

    # -- plots -------------------------------------------------------------------------------------------------
    plots = []
    for when, label in (("init", "at initialization"), ("trained", f"after {cfg.epochs} epochs of SGD")):
        series = []
        for u in cfg.units:
            for i in cfg.inits:
                ys = []
                for d in depths:
                    st = spread(_log10([r[when] for r in runs[u, i, d]]))
                    ys.append(None if st["mean"] is None else 10 ** st["mean"])
                series.append(Series(label=f"{u}, {i}", x=list(depths), y=ys))
        plots.append(
            Plot(
                title=f"First/last layer gradient norm ratio vs depth, {label}",
                xlabel="hidden layers",
                ylabel="||∇W_first|| / ||∇W_last||",
                series=series,
                logy=True,
                hlines=[(1.0, "no decay")],
                caption=f"Geometric mean over seeds {', '.join(map(str, cfg.seeds))}; width {cfg.width}.",
            )
        )
    deepest = depths[-1]
    for _when, key, label in (
        ("init", "norms_init", "at initialization"),
        ("trained", "norms_trained", f"after {cfg.epochs} epochs"),
    ):
        series = []
        for u in cfg.units:
            for i in cfg.inits:
                per_seed = [r[key] for r in runs[u, i, deepest] if r[key] is not None]
                if not per_seed:
                    continue
                logs = np.log10(np.maximum(np.array(per_seed, dtype=float), 1e-300))
                series.append(
                    Series(label=f"{u}, {i}", x=list(range(1, deepest + 2)), y=(10 ** logs.mean(axis=0)).tolist())
                )
        plots.append(
            Plot(
                title=f"Gradient norm per layer, {deepest} hidden layers, {label}",
                xlabel=f"layer (1 = input→hidden, {deepest + 1} = →output)",
                ylabel="||∇W||",
                series=series,
                logy=True,
                caption="Geometric mean over seeds; a vanishing gradient is a line rising to the right.",
            )
        )

    measurement = (
        f"{cfg.data}: networks with {', '.join(map(str, depths))} hidden layers of {cfg.width} units "
        f"({', '.join(cfg.units)}), initialized {' or '.join(cfg.inits)}, softmax output and cross-entropy, seeds "
        f"{', '.join(map(str, cfg.seeds))}. r = ||∇W_first|| / ||∇W_last|| (Frobenius norms of the mean gradient "
        f"over the training set) at initialization and after {cfg.epochs} epochs of SGD (lr {cfg.lr:g}, batch "
        f"{cfg.batch_size}); geometric mean over seeds. A diverged run, or one whose top layer passes no gradient, "
        f"has no ratio and is left out."
    )
    return Result(
        name="vanishing-gradients",
        claim=CLAIM,
        measurement=measurement,
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": "Gradient norm ratio first/last layer by depth, unit and init", "rows": rows},
            {"title": "Parts of the verdict", "rows": [{"check": k, "holds": v} for k, v in checks.items()]},
        ],
        plots=plots,
    )


def _fmt(v):
    return "n/a" if v is None else f"{v:.2f}"
