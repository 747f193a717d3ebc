"""The runs of the remedies experiment: its arms, one training run, the learning-rate choice.

An arm is a hidden unit (the row of the 2 × k factorial: ``sigmoid`` or ``relu``) and at most
one remedy switched away from the base network.  The base network of a row is a deep MLP
(``hidden_layers`` layers of ``hidden_units``), sigmoid output units, squared error, 0/1
targets, plain SGD, and the row's sane initialisation: fan-in N(0, 1/n) for sigmoid units
(remedy ①, LeCun et al. 1998) and He N(0, 2/n) for ReLU units (He et al. 2015).  The arms:

========== ====================================================================
remedy     what changes from the row's base
========== ====================================================================
``base``   nothing
``no-1``   ① removed: N(0, 1) weights (the notes' starting point; sigmoid row only)
``2``      ② targets 0.15/0.85 instead of 0/1
``3``      ③ backpropagate through S′ + 0.1 at every sigmoid (hidden and output;
           with ReLU hidden units only the output layer has an S′)
``4``      ④ cross-entropy instead of squared error: the logistic loss on the same
           sigmoid outputs (the notes' scalar form), or softmax + cross-entropy
========== ====================================================================

Each arm trains at its own learning rate, chosen on validation splits of the selection seeds
(disjoint from the test seeds) by ``choose_lr``.  ``choose_lr`` is a pure function of the
config and the arm, memoised per process, so every test run of an arm may call it and a
process computes it once; the design groups an arm's runs (``Remedies.group``), so a lecture
spread over worker processes also computes it once per arm.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..train import Trainer
from .common import fit_quietly, load_data, train

ROWS = ("sigmoid", "relu")
REMEDIES = ("2", "3", "4")  # the remedies crossed with both rows
CIRCLED = {"1": "①", "2": "②", "3": "③", "4": "④", "5": "⑤"}
CE_FORMS = ("logistic", "softmax")


@dataclass(frozen=True)
class Arm:
    """One cell of the design: ``row`` (hidden unit) × ``remedy`` (``base``, ``no-1``, ``2``, ``3``, ``4``)."""

    row: str
    remedy: str

    @property
    def key(self) -> str:
        return f"{self.row}/{self.remedy}"

    @property
    def label(self) -> str:
        unit = "sigmoid" if self.row == "sigmoid" else "ReLU"
        if self.remedy == "base":
            return f"{unit} (base)"
        if self.remedy == "no-1":
            return f"{unit}, N(0,1) init (no ①)"
        return f"{unit} + {CIRCLED[self.remedy]}"


def arms() -> list[Arm]:
    """Every arm, in the order of the report: the sigmoid row (with ① removed), then the ReLU row."""
    return [Arm("sigmoid", r) for r in ("base", "no-1", *REMEDIES)] + [Arm("relu", r) for r in ("base", *REMEDIES)]


def arm_from_key(key: str) -> Arm:
    row, _, remedy = key.partition("/")
    arm = Arm(row, remedy)
    if arm not in arms():
        raise ValueError(f"unknown arm {key!r}; valid: {', '.join(a.key for a in arms())}")
    return arm


def network_options(cfg, arm: Arm) -> dict:
    """Keyword arguments of ``common.train`` that make ``arm`` (see the module docstring)."""
    opts = {
        "hidden": arm.row,
        "output": "sigmoid",
        "loss": "squared-error",
        "init": cfg.sigmoid_init if arm.row == "sigmoid" else cfg.relu_init,
        "target_range": None,
        "prime_offset": 0.0,
    }
    if arm.remedy == "no-1":
        opts["init"] = cfg.no_fan_in_init
    elif arm.remedy == "2":
        opts["target_range"] = (float(cfg.soft_targets[0]), float(cfg.soft_targets[1]))
    elif arm.remedy == "3":
        opts["prime_offset"] = float(cfg.prime_offset)  # every sigmoid layer (mlp's prime_offset_on="all")
    elif arm.remedy == "4":
        if cfg.ce_form == "softmax":
            opts.update(output="softmax", loss="cross-entropy")
        else:
            opts["loss"] = "logistic"
    return opts


@functools.lru_cache(maxsize=64)
def split(data: str, seed: int, max_train, max_test):
    """``common.load_data`` for one seed (the split varies with the seed), cached per process."""
    return load_data(data, seed=seed, max_train=max_train, max_test=max_test)


def _stuck_outputs(Z, labels, tol) -> float:
    """Fraction of samples with an output unit stuck at the wrong bound.

    The correct class's unit below ``tol``, or another class's unit above ``1 - tol``: there
    ``S′ = z(1 − z) < tol``, so under squared error its delta ``(z − y) S′`` nearly vanishes.
    """
    true = np.zeros(Z.shape, bool)  # (n, k): the correct class of each sample
    true[np.arange(labels.size), labels] = True
    z = Z
    wrong = (true & (z < tol)) | (~true & (z > 1.0 - tol))
    return float(wrong.any(axis=1).mean())


def _hidden_stuck(acts, row, tol) -> float:
    """Sigmoid rows: fraction of hidden outputs within ``tol`` of 0 or 1; ReLU rows: fraction of dead units."""
    hidden = acts[:-1]
    if row == "sigmoid":
        return float(np.mean([np.mean((h < tol) | (h > 1 - tol)) for h in hidden]))
    return float(np.mean([1.0 - np.mean((h > 0).any(axis=0)) for h in hidden]))


def unstick(cfg, net, arm: Arm, lr: float, seed: int, X, labels) -> float:
    """Force one output unit to the wrong bound, train on, and return the fraction still stuck.

    The notes' stuck output unit, made on purpose in a copy of the trained network: unit
    ``j = seed mod k`` gets the bias that puts its largest weighted sum over the training images
    at ``logit(0.01)``, so ``z_j ≤ 0.01`` on every image, including its own class (``S′ < 0.01``).
    The copy then trains ``unstick_epochs`` more epochs with the arm's loss, targets, offset and
    rate.  Returns the fraction of class-``j`` probe images whose ``z_j`` is still below
    ``stuck_tol``: near 1 when the unit stayed stuck, near 0 when it recovered.
    """
    k = net.n_outputs
    j = seed % k
    probe = net.copy()
    out = probe.layers[-1]
    h = probe.activations(X)[-2]  # (n, n_hidden): what the output layer sees
    a_j = h @ out.W[:, j] + out.b[j]  # (n,)
    out.b[j] -= float(a_j.max()) - math.log(cfg.stuck_start / (1.0 - cfg.stuck_start))
    tr = Trainer(
        probe,
        "sgd",
        lr=lr,
        epochs=cfg.unstick_epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        target_range=network_options(cfg, arm)["target_range"],
        diagnostics=False,
    )
    fit_quietly(tr, X, labels)
    own = labels[: cfg.probe_size] == j
    z_j = probe.predict(X[: cfg.probe_size][own])[:, j]
    return float(np.mean(z_j < cfg.stuck_tol))


def fit(cfg, arm: Arm, lr: float, seed: int, *, full: bool) -> dict:
    """Train ``arm`` at ``lr`` on the split of ``seed``; what the judgement (``full``) or the selection needs."""
    Xtr, ytr, Xv, yv, Xte, yte, k = split(cfg.data, seed, cfg.max_train, cfg.max_test)
    sizes = [Xtr.shape[1], *[cfg.hidden_units] * cfg.hidden_layers, k]
    net, tr, h = train(
        Xtr,
        ytr,
        sizes,
        lr=lr,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        validation=(Xv, yv) if full else None,
        diagnostics=False,
        **network_options(cfg, arm),
    )
    val = tr.evaluate(Xv, yv)
    run = {"diverged": bool(h.diverged), "val_accuracy": float(val["accuracy"]), "val_loss": float(val["loss"])}
    if not full:
        return run
    probe = slice(0, cfg.probe_size)  # the training images the output and hidden states are measured on
    acts = net.activations(Xtr[probe])
    Z = acts[-1]  # (n, k)
    run.update(
        test_accuracy=float(tr.evaluate(Xte, yte)["accuracy"]),
        val_curve=[float(v) for v in h["val_accuracy"]],
        stuck_outputs=_stuck_outputs(Z, ytr[probe], cfg.stuck_tol),
        output_prime=float(np.mean(Z * (1.0 - Z))),
        hidden_stuck=_hidden_stuck(acts, arm.row, cfg.stuck_tol),
        chance=1.0 / k,
    )
    run["still_stuck"] = unstick(cfg, net, arm, lr, seed, Xtr, ytr)
    return run


def _score(runs) -> tuple[float, float]:
    """Mean validation accuracy and loss over the selection seeds; a diverged run scores 0 and +inf."""
    acc = [0.0 if r["diverged"] else r["val_accuracy"] for r in runs]
    loss = [math.inf if r["diverged"] or not math.isfinite(r["val_loss"]) else r["val_loss"] for r in runs]
    return float(np.mean(acc)), float(np.mean(loss))


def pick(scores: dict, tie_tol: float) -> float:
    """The smallest rate whose mean validation accuracy is within ``tie_tol`` of the best.

    Near the edge of stability outcomes are bimodal (most seeds train, a few collapse), and a few
    selection seeds cannot see a 10% failure rate; of rates that tie, the smaller is the safer.
    """
    best = max(acc for acc, _ in scores.values())
    return min(lr for lr, (acc, _) in scores.items() if acc >= best - tie_tol)


@functools.lru_cache(maxsize=64)
def choose_lr(cfg, arm_key: str) -> dict:
    """``arm``'s learning rate, chosen on the validation splits of ``cfg.select_seeds``.

    Every rate of the row's grid is tried; while the chosen rate (``pick``) sits at an end of the
    rates tried, one more rate a factor ``lr_widen`` beyond it is tried (at most ``max_widen``
    times).  When every rate ties (e.g. an arm stuck at chance at every rate) no rate is better
    and nothing is extended: ``edge`` is ``"flat"``.  Returns ``{"lr", "tried": [[lr, mean val
    accuracy, mean val loss], ...], "edge": "" | "low" | "high" | "flat"}``.
    """
    arm = arm_from_key(arm_key)
    grid = cfg.sigmoid_lrs if arm.row == "sigmoid" else cfg.relu_lrs
    scores = {}

    def attempt(lr):
        scores[lr] = _score([fit(cfg, arm, lr, s, full=False) for s in cfg.select_seeds])

    for lr in sorted(float(v) for v in grid):
        attempt(lr)
    widened = 0
    while True:
        lr = pick(scores, cfg.tie_tol)
        rates = sorted(scores)
        edge = "low" if lr == rates[0] else "high" if lr == rates[-1] else ""
        if len(rates) > 1 and max(a for a, _ in scores.values()) - min(a for a, _ in scores.values()) <= cfg.tie_tol:
            edge = "flat"
        if edge in ("", "flat") or widened >= cfg.max_widen:
            break
        attempt(rates[0] / cfg.lr_widen if edge == "low" else rates[-1] * cfg.lr_widen)
        widened += 1
    return {"lr": lr, "tried": [[r, *scores[r]] for r in sorted(scores)], "edge": edge}


def measure_run(cfg, key: dict) -> dict:
    """One test run: ``key["arm"]`` at its chosen rate on the split of ``key["seed"]``."""
    chosen = choose_lr(cfg, key["arm"])
    run = fit(cfg, arm_from_key(key["arm"]), chosen["lr"], int(key["seed"]), full=True)
    return {**run, "lr": chosen["lr"], "edge": chosen["edge"], "tried": chosen["tried"]}
