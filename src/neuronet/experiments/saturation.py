"""Claim 1: a sigmoid unit whose output is near 0 or 1 has ``S' = S(1 - S) ≈ 0`` and is stuck.

Two sigmoid networks that differ only in their initial weights are trained side
by side with the same plain SGD and learning rate:

* ``normal:1``, the notes' baseline: ``w ~ N(0, 1)``, so a unit with ``n``
  inputs of size ~0.5 gets a weighted sum with standard deviation ~ ``sqrt(n)/2``,
  far out in the sigmoid's flat tails;
* ``fan-in``, remedy (1) (LeCun et al. 1998): ``w ~ N(0, 1/n)``, so the weighted
  sum stays near the sigmoid's linear middle.

Measured per hidden layer and epoch (from ``History.diagnostics``): the fraction of
(sample, unit) outputs within 0.05 of 0 or 1 and the mean ``S'``; per unit, whether
its output is saturated for most training points at the start and still at the end,
and how far its incoming weights moved; the training loss after ``compare_epoch``
epochs and at the end, at the main learning rate and at the check rates.

Second part (Glorot & Bengio 2010, section 4.2): a 4-hidden-layer sigmoid network
with their "standard" initialization ``W ~ U[-1/sqrt(n), 1/sqrt(n)]`` and a softmax
output, trained with mini-batches of 10; the mean activation of each hidden layer
is recorded after every epoch.  They saw the top hidden layer driven toward 0
early in training while the lower layers stayed near 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..diagnostics import layer_diagnostics
from ..errors import DivergenceError
from ..init import Uniform
from ..network import mlp
from ..train import LambdaCallback, Trainer
from .base import Plot, Result, Series, experiment, pm, spread
from .common import load_data

CLAIM = "Output close to 0 or 1 for most training points → S' = S(1−S) ≈ 0 → slow gradient descent, unit is stuck."

TOL = 0.05  # a sigmoid output within TOL of 0 or 1 counts as saturated (the Trainer's default)


class StandardUniform(Uniform):
    """Glorot & Bengio's (2010) "standard" initialization: ``U[-1/sqrt(fan_in), 1/sqrt(fan_in)]``."""

    name = "standard-uniform"

    def __init__(self):
        pass

    def limit(self, fan_in, fan_out):
        return 1.0 / math.sqrt(fan_in)

    def config(self):
        return {"name": self.name}


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    hidden: tuple = (100, 100)
    output: str = "sigmoid"  # the notes' network: sigmoid everywhere ...
    loss: str = "squared-error"  # ... trained on squared error
    inits: tuple = ("normal:1", "fan-in")
    lr: float = 1.0
    check_lrs: tuple = (0.25, 4.0)  # the loss comparison repeated at these rates
    batch_size: int = 32
    epochs: int = 20
    compare_epoch: int = 10  # "learns slower": training loss after this many epochs
    seeds: tuple = (0, 1, 2, 3, 4)
    glorot_hidden: tuple = (100, 100, 100, 100)
    glorot_lr: float = 0.1
    glorot_batch_size: int = 10
    glorot_epochs: int = 20
    glorot_seeds: tuple = (0, 1, 2)

    @classmethod
    def quick(cls):
        return cls(epochs=6, compare_epoch=4, check_lrs=(4.0,), seeds=(0, 1), glorot_epochs=5, glorot_seeds=(0,))


def _unit_saturation(net, X):
    """Per hidden layer: for each unit, the fraction of samples whose output is within TOL of 0 or 1."""
    acts = net.activations(X)[:-1]
    return [np.mean((z <= TOL) | (z >= 1 - TOL), axis=0) for z in acts]  # each (n_units,)


def _fit(tr, X, y, validation):
    try:
        return tr.fit(X, y, validation_data=validation)
    except DivergenceError as e:
        return e.history


def _main_run(cfg, data, init, seed, lr, diagnostics=True):
    Xtr, ytr, Xv, yv, _, _, k = data
    net = mlp([Xtr.shape[1], *cfg.hidden, k], hidden="sigmoid", output=cfg.output, loss=cfg.loss, init=init, seed=seed)
    # the probe is the whole training set, so epoch 0 (computed here) and later epochs agree
    tr = Trainer(
        net,
        "sgd",
        lr=lr,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        diagnostics=diagnostics,
        probe_size=Xtr.shape[0],
        saturation_tol=TOL,
    )
    out = {}
    if diagnostics:
        X, Y, _ = tr.prepare(Xtr, ytr)
        out["diag0"] = layer_diagnostics(net, X, Y, tol=TOL)
        out["unit_sat0"] = _unit_saturation(net, Xtr)
        W0 = [L.W.copy() for L in net.layers]
    h = _fit(tr, Xtr, ytr, (Xv, yv))
    out["history"] = h
    losses = [] if h.diverged else h.history.get("loss", [])  # a diverged run has no comparable loss
    out["loss_k"] = losses[cfg.compare_epoch - 1] if len(losses) >= cfg.compare_epoch else None
    out["loss_end"] = losses[-1] if len(losses) == cfg.epochs else None
    out["val_accuracy"] = None if h.diverged else (h.history.get("val_accuracy") or [None])[-1]
    if diagnostics:
        out["unit_sat1"] = _unit_saturation(net, Xtr)
        # how far each hidden unit's incoming weights moved, (n_units,) per layer
        out["moved"] = [np.linalg.norm((L.W - W).astype(np.float64), axis=0) for L, W in zip(net.layers[:-1], W0)]
    return out


def _glorot_run(cfg, data, seed):
    Xtr, ytr, _, _, _, _, k = data
    net = mlp(
        [Xtr.shape[1], *cfg.glorot_hidden, k], hidden="sigmoid", output="softmax", init=StandardUniform(), seed=seed
    )
    means = []  # per epoch (0 = initialization): mean activation of each hidden layer

    def record(*_):
        means.append([float(z.mean()) for z in net.activations(Xtr)[:-1]])

    record()
    tr = Trainer(
        net,
        "sgd",
        lr=cfg.glorot_lr,
        epochs=cfg.glorot_epochs,
        batch_size=cfg.glorot_batch_size,
        seed=seed,
        diagnostics=False,
        callbacks=[LambdaCallback(record)],
    )
    h = _fit(tr, Xtr, ytr, None)
    top_near_zero = float(np.mean(net.activations(Xtr)[-2] <= TOL))
    return {"means": np.array(means), "loss": h.history.get("loss", []), "top_near_zero": top_near_zero}


@experiment("saturation", CLAIM, Config, order=10)
def run(cfg: Config) -> Result:
    if not 1 <= cfg.compare_epoch <= cfg.epochs:
        raise ValueError(f"compare_epoch must lie in [1, epochs={cfg.epochs}], got {cfg.compare_epoch}")
    if len(cfg.inits) != 2:
        raise ValueError(f"inits: expected (saturating init, remedy init), got {cfg.inits!r}")
    # one BLAS thread: these matrices are small, and extra threads only add synchronisation
    with threadpool_limits(limits=1, user_api="blas"):
        data = load_data(cfg.data, seed=0)
        main = {init: [_main_run(cfg, data, init, s, cfg.lr) for s in cfg.seeds] for init in cfg.inits}
        checks = {
            lr: {init: [_main_run(cfg, data, init, s, lr, diagnostics=False) for s in cfg.seeds] for init in cfg.inits}
            for lr in cfg.check_lrs
            if lr != cfg.lr
        }
        glorot = [_glorot_run(cfg, data, s) for s in cfg.glorot_seeds]
    return _result(cfg, main, checks, glorot)


def _curve(runs, layer, key):
    """(epochs + 1, n_seeds) array of a diagnostic for one layer, epoch 0 = initialization."""
    cols = [[r["diag0"][layer][key]] + [d[layer][key] for d in r["history"].diagnostics] for r in runs]
    n = max(len(c) for c in cols)  # a diverged run stops early: pad with NaN
    return np.array([c + [np.nan] * (n - len(c)) for c in cols], dtype=float).T


def _result(cfg, main, checks, glorot):
    bad, good = cfg.inits
    n_hidden = len(cfg.hidden)
    layers = list(range(n_hidden))
    metrics, rows_layers = {}, []

    # -- A: more saturation and smaller S' in every hidden layer and seed, at init and at the end -------------
    part_a = True
    for layer in layers:
        for when, pick in (
            ("init", lambda r, i, key: r["diag0"][i][key]),
            ("end", lambda r, i, key: r["history"].diagnostics[-1][i][key] if r["history"].diagnostics else None),
        ):
            row = {"layer": f"hidden {layer + 1}", "when": when}
            for init in cfg.inits:
                sat = spread([pick(r, layer, "saturated") for r in main[init]])
                der = spread([pick(r, layer, "mean_derivative") for r in main[init]])
                row[f"saturated, {init}"] = pm(sat)
                row[f"mean S', {init}"] = pm(der)
                metrics[f"saturated fraction, hidden {layer + 1}, {init}, {when}"] = sat
                metrics[f"mean S', hidden {layer + 1}, {init}, {when}"] = der
            for rb, rg in zip(main[bad], main[good]):
                sb, sg = pick(rb, layer, "saturated"), pick(rg, layer, "saturated")
                db, dg = pick(rb, layer, "mean_derivative"), pick(rg, layer, "mean_derivative")
                if None in (sb, sg, db, dg) or not (sb > sg and db < dg):
                    part_a = False
            rows_layers.append(row)

    # -- B: units saturated for most training points at init stay so, and their weights move less --------------
    rows_units = []
    stuck_all, moved_all = [], []
    for layer in layers:
        row = {"layer": f"hidden {layer + 1}"}
        for init in cfg.inits:
            frac0 = [float(np.mean(r["unit_sat0"][layer] > 0.5)) for r in main[init]]
            frac1 = [float(np.mean(r["unit_sat1"][layer] > 0.5)) for r in main[init]]
            row[f"units saturated on most points at init, {init}"] = pm(spread(frac0), 2)
            row[f"at the end, {init}"] = pm(spread(frac1), 2)
            metrics[f"units saturated on most points, hidden {layer + 1}, {init}, init"] = spread(frac0)
        stuck, moved = [], []
        for r in main[bad]:
            s0, s1 = r["unit_sat0"][layer] > 0.5, r["unit_sat1"][layer] > 0.5
            stuck.append(float(np.mean(s1[s0])) if s0.any() else None)
            mv = r["moved"][layer]
            moved.append(
                float(mv[s0].mean() / mv[~s0].mean()) if s0.any() and (~s0).any() and mv[~s0].mean() > 0 else None
            )
        row[f"still saturated at the end, {bad}"] = pm(spread(stuck), 2)
        row[f"weight change saturated / unsaturated units, {bad}"] = pm(spread(moved), 2)
        metrics[f"saturated units still saturated at the end, hidden {layer + 1}, {bad}"] = spread(stuck)
        metrics[f"weight change of saturated / unsaturated units, hidden {layer + 1}, {bad}"] = spread(moved)
        stuck_all.append(spread(stuck)["mean"])
        moved_all.append(spread(moved)["mean"])
        rows_units.append(row)
    part_b = all(v is not None and v >= 0.5 for v in stuck_all) and all(v is not None and v < 1.0 for v in moved_all)

    # -- C: the saturated network learns slower: higher mean training loss after compare_epoch epochs and at the
    #       end, at every learning rate
    rows_speed = []
    slower_at = []  # (lr, epoch) pairs where the saturating init has the higher loss
    lr_runs = {cfg.lr: main, **checks}
    for lr in sorted(lr_runs):
        for key, epoch in (("loss_k", cfg.compare_epoch), ("loss_end", cfg.epochs)):
            row = {"learning rate": lr, "epoch": epoch}
            means = {}
            for init in cfg.inits:
                st = spread([r[key] for r in lr_runs[lr][init]])
                means[init] = st["mean"]
                row[f"training loss, {init}"] = pm(st)
                metrics[f"training loss after {epoch} epochs, lr {lr:g}, {init}"] = st
                if key == "loss_end":
                    acc = spread([r["val_accuracy"] for r in lr_runs[lr][init]])
                    row[f"validation accuracy, {init}"] = pm(acc)
                    metrics[f"validation accuracy after {epoch} epochs, lr {lr:g}, {init}"] = acc
            # a saturating run that diverged counts as slower; a diverged remedy run as not
            slower = means[bad] is None or (means[good] is not None and means[bad] > means[good])
            row[f"{bad} slower"] = slower
            if slower:
                slower_at.append((lr, epoch))
            rows_speed.append(row)
    part_c = len(slower_at) == len(rows_speed)

    # -- D: Glorot & Bengio: the top hidden layer is driven toward 0, the lower ones are not -------------------
    n_g = len(cfg.glorot_hidden)
    part_d = True
    for g in glorot:
        m0, m1 = g["means"][0], g["means"][-1]
        top = n_g - 1
        if not (m0[top] - m1[top] > 0.1 and m1[top] == m1.min()):
            part_d = False
    rows_glorot = []
    for layer in range(n_g):
        start = spread([g["means"][0][layer] for g in glorot])
        end = spread([g["means"][-1][layer] for g in glorot])
        rows_glorot.append(
            {
                "layer": f"hidden {layer + 1}" + (" (top)" if layer == n_g - 1 else ""),
                "mean activation at init": pm(start),
                f"after {cfg.glorot_epochs} epochs": pm(end),
            }
        )
        metrics[f"Glorot: mean activation of hidden {layer + 1} after {cfg.glorot_epochs} epochs"] = end
    metrics["Glorot: fraction of top-layer outputs below 0.05 at the end"] = spread(
        [g["top_near_zero"] for g in glorot]
    )

    parts = {"A": part_a, "B": part_b, "C": part_c, "D": part_d}
    verdict = "supported" if all(parts.values()) else "not supported" if not any(parts.values()) else "mixed"
    held = lambda p: "holds" if parts[p] else "fails"  # noqa: E731
    loss_k = {init: spread([r["loss_k"] for r in main[init]])["mean"] for init in cfg.inits}
    reason = (
        "Rule: four parts; supported if all hold, not supported if none, mixed otherwise. "
        f"(A) {bad} has a larger saturated fraction and a smaller mean S' than {good} in every hidden layer "
        f"and seed, at initialization and at the end: {held('A')}. "
        f"(B) in the {bad} network, units saturated on most training points at initialization are, on average, "
        f"still so at the end (≥ 50%) and their incoming weights moved less than the unsaturated units' (ratio < 1) "
        f"in every hidden layer: {held('B')} (still saturated: "
        + ", ".join("n/a" if v is None else f"{v:.2f}" for v in stuck_all)
        + "; weight-change ratio: "
        + ", ".join("n/a" if v is None else f"{v:.2f}" for v in moved_all)
        + "). "
        f"(C) {bad} has the higher mean training loss after {cfg.compare_epoch} and after {cfg.epochs} epochs at "
        f"every learning rate tried ({', '.join(f'{lr:g}' for lr in sorted(lr_runs))}): {held('C')}; it is slower "
        f"in {len(slower_at)} of {len(rows_speed)} comparisons"
        + (" (" + ", ".join(f"lr {lr:g} epoch {ep}" for lr, ep in slower_at) + ")" if slower_at else "")
        + f"; at lr {cfg.lr:g} after {cfg.compare_epoch} epochs: "
        + ", ".join(f"{init} {'n/a' if v is None else f'{v:.3f}'}" for init, v in loss_k.items())
        + ". "
        f"(D) Glorot & Bengio: with U[±1/√n] the top hidden layer's mean activation falls by more than 0.1 within "
        f"{cfg.glorot_epochs} epochs and ends the lowest of the hidden layers, in every seed: {held('D')} "
        f"(top layer: {spread([g['means'][0][-1] for g in glorot])['mean']:.2f} → "
        f"{spread([g['means'][-1][-1] for g in glorot])['mean']:.2f}, "
        f"{spread([g['top_near_zero'] for g in glorot])['mean']:.0%} of its outputs below {TOL})."
    )

    # -- plots ----------------------------------------------------------------------------------------------
    plots = []
    for key, what in (
        ("saturated", "fraction of saturated outputs (within 0.05 of 0 or 1)"),
        ("mean_derivative", "mean S' = S(1−S)"),
    ):
        series = []
        for init in cfg.inits:
            for layer in layers:
                c = _curve(main[init], layer, key)
                series.append(
                    Series(
                        label=f"{init}, hidden {layer + 1}",
                        x=list(range(c.shape[0])),
                        y=np.nanmean(c, axis=1).tolist(),
                        yerr=np.nanstd(c, axis=1).tolist(),
                    )
                )
        plots.append(
            Plot(
                title=f"{what.capitalize()} per hidden layer during training",
                xlabel="epoch (0 = init)",
                ylabel=what,
                series=series,
                caption=f"Mean over {len(cfg.seeds)} seeds (band: std); SGD, lr {cfg.lr:g}.",
            )
        )
    series = []
    for init in cfg.inits:
        curves = [r["history"].history.get("loss", []) for r in main[init]]
        n = max(len(c) for c in curves)
        arr = np.array([c + [np.nan] * (n - len(c)) for c in curves], dtype=float)
        series.append(
            Series(
                label=init,
                x=list(range(1, n + 1)),
                y=np.nanmean(arr, axis=0).tolist(),
                yerr=np.nanstd(arr, axis=0).tolist(),
            )
        )
    plots.append(
        Plot(
            title="Training loss, same SGD and learning rate",
            xlabel="epoch",
            ylabel=f"{cfg.loss} loss",
            series=series,
            vlines=[(cfg.compare_epoch, f"epoch {cfg.compare_epoch}")],
            caption=f"Mean over {len(cfg.seeds)} seeds (band: std); lr {cfg.lr:g}.",
        )
    )
    series = []
    for layer in range(n_g):
        arr = np.array([g["means"][:, layer] for g in glorot])
        series.append(
            Series(
                label=f"hidden {layer + 1}" + (" (top)" if layer == n_g - 1 else ""),
                x=list(range(arr.shape[1])),
                y=arr.mean(axis=0).tolist(),
                yerr=arr.std(axis=0).tolist(),
            )
        )
    plots.append(
        Plot(
            title="Glorot & Bengio (2010): mean activation per hidden layer, U[±1/√n] init",
            xlabel="epoch (0 = init)",
            ylabel="mean sigmoid output",
            series=series,
            caption=(
                f"{len(cfg.glorot_hidden)} sigmoid hidden layers, softmax output, SGD lr "
                f"{cfg.glorot_lr:g}, mini-batches of {cfg.glorot_batch_size}; mean over "
                f"{len(cfg.glorot_seeds)} seeds."
            ),
        )
    )

    sizes = "-".join(str(s) for s in ("in", *cfg.hidden, "out"))
    measurement = (
        f"{cfg.data}: {sizes} sigmoid network with {cfg.output} outputs and {cfg.loss} loss, initialized with "
        f"{bad} or {good}, trained {cfg.epochs} epochs with plain SGD (lr {cfg.lr:g}, batch {cfg.batch_size}), "
        f"seeds {', '.join(map(str, cfg.seeds))}. The same optimizer and learning rate for both, so that the "
        f"initialization is the only difference; lr {cfg.lr:g} is one at which the remedy ({good}) network leaves "
        f"its initial plateau within the budget, and the loss comparison is repeated at lr "
        f"{', '.join(f'{lr:g}' for lr in cfg.check_lrs) or '(none)'} so the conclusion does not rest on one rate. "
        f"Per hidden layer and epoch: fraction of (sample, unit) outputs within {TOL} of 0 or 1 and mean S' "
        f"(History.diagnostics, on the training set); per unit: saturated on more than half the training points "
        f"at the start and at the end, and the norm of its incoming weight change. Then Glorot & Bengio's "
        f"observation: {len(cfg.glorot_hidden)} hidden sigmoid layers of {cfg.glorot_hidden[0]} with "
        f"U[−1/√n, 1/√n] init, softmax output, SGD lr {cfg.glorot_lr:g} with mini-batches of "
        f"{cfg.glorot_batch_size}, mean activation of each hidden layer after each of {cfg.glorot_epochs} epochs."
    )
    return Result(
        name="saturation",
        claim=CLAIM,
        measurement=measurement,
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": f"Saturation and mean S' per hidden layer ({bad} vs {good})", "rows": rows_layers},
            {"title": "Units saturated on most training points, and whether they stay stuck", "rows": rows_units},
            {"title": "Training loss (and validation accuracy at the end) at each learning rate", "rows": rows_speed},
            {"title": "Glorot & Bengio (2010): mean activation per hidden layer", "rows": rows_glorot},
            {"title": "Parts of the verdict", "rows": [{"part": p, "holds": v} for p, v in parts.items()]},
        ],
        plots=plots,
    )
