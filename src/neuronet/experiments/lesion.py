"""Neuron death in trained networks: "no single neuron's death will make you forget something", and
"artificial NNs have the same resilience" (lecture, lines 19–26).

An MLP is trained on ``data`` twice per seed, on the same split from the same initial weights:
``plain``, and with dropout ``dropout`` on its hidden units (Srivastava et al. 2014), a network
trained while its neurons keep dying.  Each arm uses its own learning rate, chosen from ``lr_grid``
(``lrs``, or a ×2 grid around the dataset's usual best rate) by the mean final validation
accuracy over ``selection_seeds`` (disjoint from the test seeds, each with its own split).  The
trained networks are then lesioned (the damage of ``neuronet.bio.lesion``, always on a copy):

* every hidden unit killed alone (output fixed at 0, the survivors not rescaled);
* a random fraction ``p`` of the hidden units silenced, ``lesions_per_point`` random lesions per
  network and ``p``; and, shown beside it, a random fraction ``p`` of all weights cut to 0.

Test accuracy is measured after each lesion.  Checks:

* **single death**: the worst single-unit death costs less than ``single_death_margin`` of test
  accuracy (the upper end of the 95% t CI of the per-seed worst drop, plain networks);
* **graceful**: accuracy falls steadily with the dead fraction (Spearman ρ < 0 over seeds ×
  fractions, plain networks);
* **dropout**: the network trained with dying neurons loses less accuracy under the same
  lesions (paired over seeds: mean accuracy lost over the ``p`` grid, plain − dropout, CI > 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..network import mlp
from ..stats import Check, helps, mean_ci, paired_diff, spearman
from ..train import Trainer
from .base import Plot, Series, spread
from .common import fit_quietly, load_data
from .design import Design, register_design

CLAIM = (
    "Neurons are always dying: in a trained network no single neuron's death makes it forget, accuracy degrades "
    "gracefully as more hidden units die, and more gracefully when the network was trained with dying neurons "
    "(dropout)."
)

ARMS = ("plain", "dropout")

#: The middle of the default learning-rate grid per dataset (momentum, batch 32, 100 sigmoid units): the best
#: rate on the selection seeds' validation splits, so that the grid holds it inside.  784-pixel images
#: (Fashion-MNIST, MNIST) need a rate about 8 times smaller than the 64-pixel digits.
LR_CENTRE = {"digits": 0.4}
LR_CENTRE_IMAGES = 0.05


def lr_grid(cfg) -> tuple:
    """``cfg.lrs``, or ``centre × 2^k`` for ``k = −lr_steps … lr_steps`` around the dataset's centre."""
    if cfg.lrs:
        return tuple(float(lr) for lr in cfg.lrs)
    centre = LR_CENTRE.get(cfg.data, LR_CENTRE_IMAGES)
    return tuple(round(centre * 2.0**k, 6) for k in range(-cfg.lr_steps, cfg.lr_steps + 1))


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int = 3000
    max_test: int = 2000
    hidden: tuple = (100,)
    activation: str = "sigmoid"
    optimizer: str = "momentum"
    lrs: tuple = ()  # the learning-rate grid; empty: lr_grid() around the dataset's centre
    lr_steps: int = field(default=1, metadata={"low": 0})  # default grid: centre × 2^k, k = −lr_steps … lr_steps
    epochs: int = 20
    batch_size: int = 32
    dropout: float = 0.5
    fractions: tuple = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    lesions_per_point: int = 5
    single_death_margin: float = 0.02  # test accuracy one unit's death may cost at most
    selection_seeds: tuple = (1000, 1001, 1002)
    seeds: tuple = tuple(range(10))

    @classmethod
    def quick(cls):
        return cls(
            lr_steps=0,
            fractions=(0.0, 0.3, 0.6, 0.9),
            lesions_per_point=3,
            selection_seeds=(1000,),
            seeds=(0, 1, 2, 3, 4),
        )


# -- one run --------------------------------------------------------------------------------------
def _accuracy(net, X, y):
    return float(np.mean(np.argmax(net.predict(X), axis=1) == y))


def train_network(cfg, data, arm, lr, seed):
    """Train one network of ``arm``; returns ``(network, history)``.  Both arms start from the same weights."""
    Xtr, ytr, Xv, yv, _, _, k = data
    net = mlp(
        [Xtr.shape[1], *cfg.hidden, k],
        hidden=cfg.activation,
        dropout=cfg.dropout if arm == "dropout" else 0.0,
        seed=seed,
    )
    tr = Trainer(net, cfg.optimizer, lr=lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)
    return net, fit_quietly(tr, Xtr, ytr, (Xv, yv))


def single_deaths(net, X, y):
    """Test accuracy with each hidden unit silenced alone, every hidden layer in turn: a list, one per unit."""
    les = net.copy()
    out = []
    for L in les.layers[:-1]:
        for j in range(L.n_out):
            mask = np.ones(L.n_out)
            mask[j] = 0.0
            L.set_unit_mask(mask)
            out.append(_accuracy(les, X, y))
        L.set_unit_mask(None)
    return out


def silenced_accuracy(les, fraction, rng, X, y):
    """Test accuracy of ``les`` with ``round(fraction · n)`` random units of each hidden layer silenced.

    The same damage as ``bio.lesion.silence_units`` (the same draws from ``rng``), applied to one
    reusable copy and undone afterwards instead of deep-copying the network for every lesion.
    """
    for L in les.layers[:-1]:
        mask = np.ones(L.n_out)
        mask[rng.choice(L.n_out, size=round(fraction * L.n_out), replace=False)] = 0.0
        L.set_unit_mask(mask)
    acc = _accuracy(les, X, y)
    for L in les.layers[:-1]:
        L.set_unit_mask(None)
    return acc


def cut_accuracy(les, fraction, rng, X, y):
    """Test accuracy of ``les`` with ``round(fraction · size)`` random weights of each layer cut to 0.

    The same damage as ``bio.lesion.cut_synapses`` (biases kept), undone afterwards.
    """
    saved = [L.W.copy() for L in les.layers]
    for L in les.layers:
        L.W.flat[rng.choice(L.W.size, size=round(fraction * L.W.size), replace=False)] = 0.0
    acc = _accuracy(les, X, y)
    for L, W in zip(les.layers, saved):
        L.W[...] = W
    return acc


def lesion_curve(net, damage, fractions, reps, X, y, rng):
    """Mean test accuracy over ``reps`` random lesions ``damage(copy, p, rng, X, y)`` at each fraction ``p``."""
    les = net.copy()
    return [
        _accuracy(net, X, y) if p == 0 else float(np.mean([damage(les, p, rng, X, y) for _ in range(reps)]))
        for p in fractions
    ]


def measure_run(cfg, key):
    """One run: a selection run (validation accuracy) or a test run (accuracy under every lesion)."""
    seed = int(key["seed"])
    data = load_data(cfg.data, seed=seed, max_train=cfg.max_train, max_test=cfg.max_test)
    net, hist = train_network(cfg, data, key["arm"], float(key["lr"]), seed)
    val = hist["val_accuracy"][-1] if hist["val_accuracy"] and not hist.diverged else 0.0
    out = {"val_accuracy": float(val), "diverged": bool(hist.diverged)}
    if key["phase"] == "select":
        return out
    Xte, yte = data[4], data[5]
    rng = np.random.default_rng([seed, 17, ARMS.index(key["arm"])])
    out["intact"] = _accuracy(net, Xte, yte)
    out["single"] = single_deaths(net, Xte, yte)
    out["units"] = lesion_curve(net, silenced_accuracy, cfg.fractions, cfg.lesions_per_point, Xte, yte, rng)
    out["synapses"] = lesion_curve(net, cut_accuracy, cfg.fractions, cfg.lesions_per_point, Xte, yte, rng)
    return out


# -- the judgement --------------------------------------------------------------------------------
def choose_lrs(cfg, measured):
    """Per arm: the learning rate with the best mean validation accuracy over the selection seeds, and the table."""
    chosen, rows = {}, []
    for arm in ARMS:
        best = None
        for lr in lr_grid(cfg):
            vals = [
                d["val_accuracy"] for k, d in measured if k["phase"] == "select" and k["arm"] == arm and k["lr"] == lr
            ]
            st = spread(vals)
            rows.append({"arm": arm, "lr": lr, "validation accuracy": f"{st['mean']:.3f} ± {st['std']:.3f}"})
            if best is None or st["mean"] > best[1]:
                best = (lr, st["mean"])
        chosen[arm] = best[0]
    return chosen, rows


def chosen_runs(cfg, measured, chosen):
    """``{arm: [data per test seed, in seed order]}`` at each arm's chosen learning rate."""
    return {
        arm: [d for k, d in measured if k["phase"] == "test" and k["arm"] == arm and k["lr"] == chosen[arm]]
        for arm in ARMS
    }


def accuracy_lost(cfg, d, kind="units"):
    """Mean over the damaged fractions (p > 0) of the test accuracy lost: ``intact − acc(p)``."""
    return float(np.mean([d["intact"] - a for p, a in zip(cfg.fractions, d[kind]) if p > 0]))


def _single_check(cfg, plain):
    worst = [d["intact"] - min(d["single"]) for d in plain]
    r = mean_ci(worst)
    high = r.ci[1] if r.ci is not None else r.mean
    return Check(
        name="single death",
        claim="no single neuron's death will make you forget something: killing any one hidden unit of a trained "
        f"network costs less than {cfg.single_death_margin:g} of test accuracy",
        statistic="mean over seeds of the worst single-unit drop in test accuracy (every hidden unit killed alone)",
        value=r.mean,
        ci=r.ci,
        threshold=f"upper end of the 95% CI < {cfg.single_death_margin:g} (t)",
        n=r.n,
        holds=high < cfg.single_death_margin,
        could_fail="a network that relies on a few units (e.g. a narrow hidden layer) losing more than the margin "
        "when its most important unit dies",
        note=f"largest single drop over all seeds and units: {max(worst):.3f}",
    )


def _graceful_check(cfg, plain):
    x = [p for _ in plain for p in cfg.fractions]
    y = [a for d in plain for a in d["units"]]
    return spearman(
        x,
        y,
        direction="falls",
        name="graceful",
        claim="accuracy degrades gradually: it falls steadily as a larger fraction of hidden units dies",
        statistic="Spearman ρ of test accuracy with the fraction of hidden units dead (seeds × fractions)",
        could_fail="accuracy unaffected by the lesions, or changing at random with the dead fraction",
    )


def _dropout_check(cfg, runs):
    return helps(
        [accuracy_lost(cfg, d) for d in runs["plain"]],
        [accuracy_lost(cfg, d) for d in runs["dropout"]],
        name="dropout",
        claim="a network trained with dying neurons (dropout) loses less accuracy when its neurons die",
        statistic="mean paired difference of accuracy lost (mean over p > 0 of intact − lesioned), plain − dropout",
        could_fail="dropout-trained networks losing as much accuracy as plain ones under the same lesions",
    )


@register_design
class Lesion(Design):
    name = "lesion"
    claim = CLAIM
    config_cls = Config
    order = 94

    def runs(self, cfg):
        keys = [
            {"phase": "select", "arm": arm, "lr": float(lr), "seed": int(s)}
            for arm in ARMS
            for lr in lr_grid(cfg)
            for s in cfg.selection_seeds
        ]
        keys += [
            {"phase": "test", "arm": arm, "lr": float(lr), "seed": int(s)}
            for arm in ARMS
            for lr in lr_grid(cfg)
            for s in cfg.seeds
        ]
        return keys

    def measure(self, cfg, key):
        return measure_run(cfg, key)

    def judge(self, cfg, measured):
        chosen, _ = choose_lrs(cfg, measured)
        runs = chosen_runs(cfg, measured, chosen)
        checks = [_single_check(cfg, runs["plain"]), _graceful_check(cfg, runs["plain"]), _dropout_check(cfg, runs)]
        grid = lr_grid(cfg)
        edge = [a for a in ARMS if len(grid) < 2 or chosen[a] in (min(grid), max(grid))]
        if edge:
            note = f"the chosen lr of {', '.join(edge)} lies at the edge of the grid {list(grid)}"
            checks[-1] = replace(checks[-1], note=note)
        return checks

    def present(self, cfg, measured, checks):
        chosen, lr_rows = choose_lrs(cfg, measured)
        return present_lesion(cfg, chosen_runs(cfg, measured, chosen), chosen, lr_rows, checks)


# -- presentation -----------------------------------------------------------------------------------
def _curve(runs, kind, j):
    return spread([d[kind][j] for d in runs])


def present_lesion(cfg, runs, chosen, lr_rows, checks):
    """Tables and plots: accuracy vs dead fraction per arm, single deaths, the learning-rate choice."""
    rows = []
    for j, p in enumerate(cfg.fractions):
        row = {"p": f"{p:.0%}"}
        for arm in ARMS:
            for kind, label in (("units", "units dead"), ("synapses", "synapses cut")):
                st = _curve(runs[arm], kind, j)
                row[f"{arm}, {label}"] = f"{st['mean']:.3f} ± {st['std']:.3f}"
        row["dropout − plain, units dead [95% CI]"], row["more accurate"] = _paired_at(runs, j)
        rows.append(row)
    single_rows = [
        {
            "arm": arm,
            "lr": chosen[arm],
            "intact test accuracy": _pm([d["intact"] for d in runs[arm]]),
            "worst single death (drop)": _pm([d["intact"] - min(d["single"]) for d in runs[arm]]),
            "mean single death (drop)": _pm([d["intact"] - float(np.mean(d["single"])) for d in runs[arm]]),
            "accuracy lost, units (mean over p > 0)": _pm([accuracy_lost(cfg, d) for d in runs[arm]]),
            "accuracy lost, synapses": _pm([accuracy_lost(cfg, d, "synapses") for d in runs[arm]]),
        }
        for arm in ARMS
    ]
    plots = [
        Plot(
            title=f"Test accuracy vs fraction of {label}",
            xlabel=f"fraction of {label}",
            ylabel="test accuracy",
            series=[
                Series(
                    f"{arm} (lr {chosen[arm]:g})",
                    list(cfg.fractions),
                    [_curve(runs[arm], kind, j)["mean"] for j in range(len(cfg.fractions))],
                    [_curve(runs[arm], kind, j)["std"] for j in range(len(cfg.fractions))],
                )
                for arm in ARMS
            ],
            caption=f"Mean ± sd over seeds {list(cfg.seeds)}; {cfg.lesions_per_point} random lesions per network "
            "and fraction; dead units output 0, the survivors are not rescaled.",
        )
        for kind, label in (("units", "hidden units dead"), ("synapses", "synapses cut"))
    ]
    by = {c.name: c for c in checks}
    plain = runs["plain"]
    better = [r["p"] for r in rows if r["more accurate"] == "dropout"]
    worse = [r["p"] for r in rows if r["more accurate"] == "plain"]
    measurement = (
        f"MLP {cfg.hidden} ({cfg.activation}) on {cfg.data}, plain and with dropout {cfg.dropout:g}, {len(plain)} "
        f"seeds. Killing the most important single hidden unit costs {by['single death'].value:.3f} of test "
        f"accuracy on average (from {_pm([d['intact'] for d in plain])} intact); accuracy falls steadily with the "
        f"fraction dead (Spearman ρ = {by['graceful'].value:.2f}). Accuracy lost over the whole lesion grid, plain − "
        f"dropout: {by['dropout'].value:+.3f} (95% CI {_ci(by['dropout'].ci)}); the dropout-trained network is more "
        f"accurate with {', '.join(better) or 'no fraction'} of its units dead and less accurate with "
        f"{', '.join(worse) or 'no fraction'}."
    )
    metrics = {c.name: c.value for c in checks}
    metrics.update({f"chosen lr, {arm}": chosen[arm] for arm in ARMS})
    metrics.update({f"intact test accuracy, {arm}": spread([d["intact"] for d in runs[arm]]) for arm in ARMS})
    return {
        "measurement": measurement,
        "metrics": metrics,
        "tables": [
            {"title": "Single deaths and lesion totals (mean ± sd over seeds)", "rows": single_rows},
            {"title": "Test accuracy after lesions (mean ± sd over seeds)", "rows": rows},
            {"title": "Learning-rate selection (validation split, selection seeds)", "rows": lr_rows},
        ],
        "plots": plots,
    }


def _paired_at(runs, j):
    """Paired difference dropout − plain in accuracy with a fraction ``j`` of units dead, and which arm wins."""
    a, b = [d["units"][j] for d in runs["dropout"]], [d["units"][j] for d in runs["plain"]]
    if len(a) < 2 or len(a) != len(b):
        return "n/a", "n/a"
    r = paired_diff(a, b)
    text = f"{r.mean:+.3f} [{r.ci[0]:+.3f}, {r.ci[1]:+.3f}]"
    return text, "dropout" if r.ci[0] > 0 else "plain" if r.ci[1] < 0 else "neither (CI covers 0)"


def _pm(values, digits=3):
    st = spread(values)
    return "n/a" if st["mean"] is None else f"{st['mean']:.{digits}f} ± {st['std']:.{digits}f}"


def _ci(ci):
    return "n/a" if ci is None else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"
