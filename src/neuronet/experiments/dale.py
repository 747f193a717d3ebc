"""Claim: Dale's principle constrains biological networks — a neuron is excitatory or
inhibitory and its synapses cannot switch sign — while "artificial networks have an
advantage here in that weights can change freely".

Two networks of the same architecture are trained on ``data`` with the same optimizer,
epochs and batch size:

* free: ordinary weights, any sign;
* Dale: ``mlp(dale=excitatory_fraction)`` — in each population of hidden units that
  fraction is excitatory, the rest inhibitory, and every outgoing weight of a hidden unit
  keeps its unit's sign throughout training (``Dense.dale_signs``; weights that would cross
  zero are projected back to 0 after every update).  The weights out of the input pixels
  are constrained only when ``dale_inputs`` is True (default False: pixels are data,
  not neurons).

Each network uses its own best learning rate from ``lrs``: the one with the highest mean
final validation accuracy over the seeds (validation split carved from the training set);
the test accuracy of those same runs is reported.

Rule for the verdict, fixed in advance: with ``Δ`` = mean test accuracy (free) − mean test
accuracy (Dale) and spread ``sqrt(std_free² + std_Dale²)`` over the seeds: supported if
``Δ > spread``; mixed if ``0 < Δ ≤ spread`` (free ahead, but within seed noise); not supported
if ``Δ ≤ 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..network import mlp
from ..train import Trainer
from .base import Plot, Result, Series, experiment, pm, spread
from .common import fit_quietly, load_data, select_lr

CLAIM = (
    "Dale's principle: a neuron's synapses are all excitatory or all inhibitory and cannot switch sign; "
    "artificial networks have an advantage here in that weights can change freely."
)


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int = 3000
    max_test: int = 2000
    hidden: tuple = (64, 64)
    activation: str = "relu"
    optimizer: str = "momentum"
    lrs: tuple = (0.003, 0.01, 0.03, 0.1, 0.3)
    epochs: int = 20
    batch_size: int = 32
    excitatory_fraction: float = 0.8
    dale_inputs: bool = False
    seeds: tuple = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls):
        return cls(lrs=(0.03, 0.1), epochs=8, seeds=(0, 1, 2))


VARIANTS = ("free", "Dale")


def train_network(cfg, data, variant, lr, seed):
    """Train one network; returns ``(network, history, signs)``.

    ``signs`` are copies of each constrained layer's ``dale_signs`` taken before training
    (None for unconstrained layers), to check afterwards that no weight changed sign.
    """
    Xtr, ytr, Xv, yv, _, _, k = data
    net = mlp(
        [Xtr.shape[1], *cfg.hidden, k],
        hidden=cfg.activation,
        seed=seed,
        dale=cfg.excitatory_fraction if variant == "Dale" else None,
        dale_inputs=cfg.dale_inputs,
    )
    signs = [None if L.dale_signs is None else L.dale_signs.copy() for L in net.layers]
    tr = Trainer(net, cfg.optimizer, lr=lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)
    return net, fit_quietly(tr, Xtr, ytr, (Xv, yv)), signs


def sign_violations(net, signs):
    """Number of weights whose sign disagrees with their presynaptic unit's fixed sign."""
    return sum(int(np.count_nonzero(L.W * s[:, None] < 0)) for L, s in zip(net.layers, signs) if s is not None)


def _accuracy(net, X, y):
    return float(np.mean(np.argmax(net.predict(X), axis=1) == y))


@experiment("dale", CLAIM, Config, order=93)
def run(cfg: Config) -> Result:
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(cfg)


def _run(cfg: Config) -> Result:
    data = load_data(cfg.data, seed=0, max_train=cfg.max_train, max_test=cfg.max_test)
    Xte, yte = data[4], data[5]
    chosen, test, curves, lr_rows, violations, constrained = {}, {}, {}, [], 0, 0
    for v in VARIANTS:
        chosen[v], best, trials = select_lr(
            cfg.lrs,
            cfg.seeds,
            lambda lr, s, v=v: train_network(cfg, data, v, lr, s),
            lambda run: 0.0 if run[1].diverged else run[1]["val_accuracy"][-1],
        )
        for lr, runs, st in trials:
            for net, _, signs in runs:
                violations += sign_violations(net, signs)
                constrained += sum(L.W.size for L, s in zip(net.layers, signs) if s is not None)
            lr_rows.append(
                {
                    "network": v,
                    "lr": lr,
                    "final validation accuracy": pm(st),
                    "diverged": sum(h.diverged for _, h, _ in runs),
                }
            )
        test[v] = spread([_accuracy(net, Xte, yte) for net, _, _ in best])
        curves[v] = np.array(
            [h["val_accuracy"] + [None] * (cfg.epochs - len(h["val_accuracy"])) for _, h, _ in best], dtype=float
        )
    delta = test["free"]["mean"] - test["Dale"]["mean"]
    noise = math.hypot(test["free"]["std"], test["Dale"]["std"])
    verdict = "supported" if delta > noise else ("mixed" if delta > 0 else "not supported")
    where = "hidden-unit outputs and inputs" if cfg.dale_inputs else "hidden-unit outputs only (inputs free)"
    reason = (
        f"Rule: supported if free − Dale test accuracy exceeds the seed spread sqrt(std_free² + std_Dale²); "
        f"mixed if positive but within it; not supported otherwise. Measured: free {pm(test['free'])} "
        f"(lr {chosen['free']}), Dale {pm(test['Dale'])} (lr {chosen['Dale']}); Δ = {delta:+.4f} vs spread "
        f"{noise:.4f}. Sign constraint on {where}; {violations} of {constrained} constrained weights had the "
        f"wrong sign after training."
    )
    edge = [v for v in VARIANTS if len(cfg.lrs) > 1 and chosen[v] in (min(cfg.lrs), max(cfg.lrs))]
    if edge:
        reason += f" Note: the chosen lr of {', '.join(edge)} lies at the edge of the grid {list(cfg.lrs)}."
    epochs = list(range(1, cfg.epochs + 1))
    plot = Plot(
        title=f"Validation accuracy, free vs Dale ({cfg.data})",
        xlabel="epoch",
        ylabel="validation accuracy",
        series=[
            Series(
                f"{v} (lr {chosen[v]})",
                epochs,
                np.nanmean(curves[v], axis=0).tolist(),
                (np.nanstd(curves[v], axis=0, ddof=1) if len(cfg.seeds) > 1 else np.zeros(cfg.epochs)).tolist(),
            )
            for v in VARIANTS
        ],
        caption=f"Mean ± std over seeds {list(cfg.seeds)}, each network at its chosen learning rate.",
    )
    return Result(
        name="dale",
        claim=CLAIM,
        measurement=(
            f"MLP {[data[0].shape[1], *cfg.hidden, data[6]]} ({cfg.activation}, softmax + cross-entropy) on "
            f"{cfg.data} (≤ {cfg.max_train} training images), {cfg.optimizer}, {cfg.epochs} epochs, batch "
            f"{cfg.batch_size}; free weights vs Dale's principle with {cfg.excitatory_fraction:.0%} "
            f"excitatory units, sign-constrained {where}; each at its best lr from {list(cfg.lrs)} "
            f"(mean final validation accuracy); seeds {list(cfg.seeds)}."
        ),
        verdict=verdict,
        reason=reason,
        metrics={
            "test accuracy, free": test["free"],
            "test accuracy, Dale": test["Dale"],
            "free − Dale": delta,
            "seed spread": noise,
            "chosen lr, free": chosen["free"],
            "chosen lr, Dale": chosen["Dale"],
            "wrong-sign weights after training": violations,
        },
        tables=[
            {
                "title": "Test accuracy (mean ± std over seeds)",
                "rows": [{"network": v, "lr": chosen[v], "test accuracy": pm(test[v], 4)} for v in VARIANTS],
            },
            {"title": "Learning-rate selection (validation split)", "rows": lr_rows},
        ],
        plots=[plot],
    )
