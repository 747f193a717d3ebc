"""Claim: a trained network degrades gracefully when neurons die or synapses are cut, and
more gracefully if it was trained with dying neurons (dropout).

Two networks of the same architecture are trained on ``data`` with the same optimizer and
epochs, one plain and one with dropout ``dropout`` on its hidden units (Srivastava et al.
2014); each uses its own best learning rate from ``lrs`` (mean final validation accuracy
over the seeds).  Each trained network is then lesioned (``neuronet.bio.lesion``, always a
copy): a random fraction ``p`` of its hidden units is silenced (output exactly 0, no
rescaling of the survivors), or separately a random fraction ``p`` of all its weights is
cut to 0; ``lesions_per_point`` independent lesions per network and ``p``.  Test accuracy
is averaged over the lesions, then mean ± std over seeds.

Rule for the verdict, fixed in advance:

* graceful: no cliff at small damage — for both networks and both kinds of damage the
  mean test accuracy at ``p = graceful_p`` is at least ``graceful_fraction`` of the
  intact accuracy;
* better with dropout: the area under the accuracy-vs-p curve for silenced units (mean
  accuracy over the p grid, trapezoidal) of the dropout network exceeds the plain
  network's by more than the seed spread ``sqrt(std_dropout² + std_plain²)``.  Silencing
  is the damage dropout trains for; the synapse-cut areas are reported alongside.

Supported if both hold, not supported if neither, mixed otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..bio.lesion import cut_synapses, silence_units
from ..network import mlp
from ..train import Trainer
from .base import Plot, Result, Series, experiment, pm, spread
from .common import fit_quietly, load_data, select_lr

CLAIM = (
    "Neuron death: a trained network degrades gracefully when hidden units die or synapses are cut, "
    "and more gracefully when it was trained with dying neurons (dropout)."
)


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int = 3000
    max_test: int = 2000
    hidden: tuple = (100,)
    activation: str = "sigmoid"
    optimizer: str = "momentum"
    lrs: tuple = (0.05, 0.1, 0.2, 0.5, 1.0)
    epochs: int = 30
    batch_size: int = 32
    dropout: float = 0.5
    fractions: tuple = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    lesions_per_point: int = 10
    graceful_p: float = 0.2
    graceful_fraction: float = 0.8
    seeds: tuple = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls):
        return cls(lrs=(0.1, 0.5), epochs=15, fractions=(0.0, 0.2, 0.4, 0.6, 0.8), lesions_per_point=3, seeds=(0, 1, 2))


VARIANTS = ("plain", "dropout")


def _accuracy(net, X, y):
    return float(np.mean(np.argmax(net.predict(X), axis=1) == y))


def train_network(cfg, data, variant, lr, seed):
    """Train one network; returns ``(network, history)``."""
    Xtr, ytr, Xv, yv, _, _, k = data
    net = mlp(
        [Xtr.shape[1], *cfg.hidden, k],
        hidden=cfg.activation,
        dropout=cfg.dropout if variant == "dropout" else 0.0,
        seed=seed,
    )
    tr = Trainer(net, cfg.optimizer, lr=lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)
    return net, fit_quietly(tr, Xtr, ytr, (Xv, yv))


def _auc(fractions, accs):
    """Mean accuracy over the p grid (trapezoidal area divided by the range of p)."""
    f = np.asarray(fractions, float)
    return float(np.trapezoid(accs, f) / (f[-1] - f[0])) if f[-1] > f[0] else float(accs[0])


@experiment("lesion", CLAIM, Config, order=94)
def run(cfg: Config) -> Result:
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(cfg)


def _run(cfg: Config) -> Result:
    data = load_data(cfg.data, seed=0, max_train=cfg.max_train, max_test=cfg.max_test)
    Xte, yte = data[4], data[5]
    # learning rate per variant: best mean final validation accuracy over the seeds
    nets, chosen, lr_rows = {}, {}, []
    for v in VARIANTS:
        chosen[v], best, trials = select_lr(
            cfg.lrs,
            cfg.seeds,
            lambda lr, s, v=v: train_network(cfg, data, v, lr, s),
            lambda run: 0.0 if run[1].diverged else run[1]["val_accuracy"][-1],
        )
        lr_rows += [{"network": v, "lr": lr, "final validation accuracy": pm(st)} for lr, _, st in trials]
        nets[v] = [net for net, _ in best]
    # lesions
    curves = {}  # (variant, kind) -> array (seeds, fractions)
    for v in VARIANTS:
        for kind, damage in (("units", silence_units), ("synapses", cut_synapses)):
            acc = np.zeros((len(cfg.seeds), len(cfg.fractions)))
            for si, (seed, net) in enumerate(zip(cfg.seeds, nets[v])):
                rng = np.random.default_rng([seed, 17, VARIANTS.index(v), kind == "units"])
                for j, p in enumerate(cfg.fractions):
                    reps = 1 if p == 0 else cfg.lesions_per_point
                    acc[si, j] = np.mean([_accuracy(damage(net, p, rng), Xte, yte) for _ in range(reps)])
            curves[v, kind] = acc
    intact = {v: spread(curves[v, "units"][:, 0]) for v in VARIANTS}
    # -- verdict
    jg = int(np.argmin(np.abs(np.asarray(cfg.fractions) - cfg.graceful_p)))
    retained = {
        (v, kind): float(np.mean(curves[v, kind][:, jg] / curves[v, kind][:, 0]))
        for v in VARIANTS
        for kind in ("units", "synapses")
    }
    graceful = all(r >= cfg.graceful_fraction for r in retained.values())
    auc = {
        (v, kind): spread([_auc(cfg.fractions, row) for row in curves[v, kind]])
        for v in VARIANTS
        for kind in ("units", "synapses")
    }
    diff = {kind: auc["dropout", kind]["mean"] - auc["plain", kind]["mean"] for kind in ("units", "synapses")}
    noise = {kind: math.hypot(auc["dropout", kind]["std"], auc["plain", kind]["std"]) for kind in ("units", "synapses")}
    better = diff["units"] > noise["units"]
    verdict = "supported" if graceful and better else ("not supported" if not (graceful or better) else "mixed")
    p_g = cfg.fractions[jg]
    reason = (
        f"Rule: graceful = accuracy at p = {p_g} keeps ≥ {cfg.graceful_fraction:.0%} of the intact accuracy "
        f"for "
        f"both networks and both kinds of damage; better with dropout = area under the accuracy-vs-p curve "
        f"for silenced units higher with dropout by more than the seed spread. Measured: retained at p = {p_g}: "
        + ", ".join(f"{v}/{kind} {r:.1%}" for (v, kind), r in retained.items())
        + f" → {'graceful' if graceful else 'NOT graceful'}; area (units) dropout − plain = "
        f"{diff['units']:+.3f} "
        f"vs spread {noise['units']:.3f} → {'better with dropout' if better else 'NOT better beyond spread'} "
        f"(synapses: {diff['synapses']:+.3f} vs {noise['synapses']:.3f})."
    )
    edge = [v for v in VARIANTS if len(cfg.lrs) > 1 and chosen[v] in (min(cfg.lrs), max(cfg.lrs))]
    if edge:
        reason += f" Note: the chosen lr of {', '.join(edge)} lies at the edge of the grid {list(cfg.lrs)}."
    metrics = {f"intact test accuracy, {v}": intact[v] for v in VARIANTS}
    metrics.update({f"chosen lr, {v}": chosen[v] for v in VARIANTS})
    metrics.update(
        {f"area under accuracy-vs-p, {v}, {kind}": auc[v, kind] for v in VARIANTS for kind in ("units", "synapses")}
    )
    metrics.update({f"retained at p = {p_g}, {v}, {kind}": r for (v, kind), r in retained.items()})
    rows = []
    for j, p in enumerate(cfg.fractions):
        row = {"p": p}
        for v in VARIANTS:
            for kind in ("units", "synapses"):
                label = "silenced units" if kind == "units" else "cut synapses"
                row[f"{v}, {label}"] = pm(spread(curves[v, kind][:, j]))
        rows.append(row)
    plots = [
        Plot(
            title=f"Test accuracy vs fraction of {label}",
            xlabel=f"fraction p of {label}",
            ylabel="test accuracy",
            series=[
                Series(
                    f"{v} (lr {chosen[v]})",
                    list(cfg.fractions),
                    curves[v, kind].mean(axis=0).tolist(),
                    (
                        curves[v, kind].std(axis=0, ddof=1) if len(cfg.seeds) > 1 else np.zeros(len(cfg.fractions))
                    ).tolist(),
                )
                for v in VARIANTS
            ],
            vlines=[(p_g, f"p = {p_g}")],
            caption=f"Mean ± std over seeds {list(cfg.seeds)}; {cfg.lesions_per_point} random lesions per "
            f"network and p.",
        )
        for kind, label in (("units", "hidden units silenced"), ("synapses", "synapses cut"))
    ]
    return Result(
        name="lesion",
        claim=CLAIM,
        measurement=(
            f"MLP {[data[0].shape[1], *cfg.hidden, data[6]]} ({cfg.activation}, softmax + cross-entropy) on "
            f"{cfg.data}, {cfg.optimizer}, {cfg.epochs} epochs, batch {cfg.batch_size}; plain vs dropout "
            f"{cfg.dropout} on hidden units, each at its best lr from {list(cfg.lrs)} (validation split). "
            f"Lesions of the trained copies: silence a random fraction p of the hidden units (output 0, no "
            f"rescaling), or cut a random fraction p of all weights (biases kept); "
            f"p ∈ {list(cfg.fractions)}, {cfg.lesions_per_point} lesions per point; "
            f"seeds {list(cfg.seeds)}."
        ),
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": "Test accuracy after lesions (mean ± std over seeds)", "rows": rows},
            {"title": "Learning-rate selection (validation split)", "rows": lr_rows},
        ],
        plots=plots,
    )
