"""Cross-entropy "helps avoid stuck output units, can't help stuck hidden units" (lecture, lines 133–160).

A sigmoid unit is *stuck* when its output sits at 0 or 1 for most inputs, so ``S' = z(1 − z) ≈ 0``
and every gradient through it is multiplied by that near-zero factor (lines 106–109).  Cross-entropy
cancels the *output* unit's derivative: the output delta becomes ``z − y`` (line 151) instead of
``(z − y)·z(1 − z)`` under squared error.  A hidden unit's delta is ``(Wᵀ δ_out)·h(1 − h)`` under any
loss.  The loss is isolated: each comparison keeps the output unit and the initial weights and changes
only the loss, in both forms of the notes: sigmoid outputs with the logistic loss vs squared error (the
scalar form, line 140), and softmax outputs with cross-entropy vs squared error (line 135).

**Stuck outputs (training).**  Fan-in initialisation, then the output weights ×``output_scale``: the
outputs start pinned at 0 or 1, many at the wrong bound.  Each arm trains with plain SGD at its own
rate, chosen on the validation split of ``selection_seeds`` (disjoint from the test ``seeds``; the
split varies with the seed).  Per test seed: the fraction of (sample, output) pairs still at the wrong
bound (``|z − y| ≥ 1 − tol``) after training, and test accuracy; CE against SE, paired by seed.

**Stuck hidden units (an assay with a positive control).**  The incoming weights of a random half of
the hidden units are multiplied by ``stuck_scale``: that half saturates, the other does not, with the
same inputs, error signal and weights under every loss.  The assay (over ``assay_seeds``; it needs no
rate) is ``log10(mean ‖∇w_j‖ over stuck units / mean over healthy units)`` at initialisation: how far
behind a stuck unit's gradient descent is.  "Can't help" is equivalence (TOST, margin fixed in advance)
of that deficit under CE and SE.  The positive control is remedy ③ (``S' + 0.1``, line 127) on the
hidden layer: it reaches the stuck units, so the assay can move.  A short training of the half-stuck
network at a fixed rate is described, not judged: the stuck half stays saturated under every arm, ③
included, so no training check there could fail.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from ..network import mlp
from ..stats import Check, helps, mean_ci, tost
from ..train import LambdaCallback, Trainer
from .base import Plot, Series
from .common import fit_quietly, load_data
from .design import Design, finite, register_design

CLAIM = "Cross-entropy loss helps avoid stuck output units, can't help stuck hidden units."

#: loss arm -> (output unit, loss); each pair below shares its output unit, only the loss differs
ARMS = {
    "sigmoid+logistic": ("sigmoid", "logistic"),
    "sigmoid+SE": ("sigmoid", "squared-error"),
    "softmax+CE": ("softmax", "cross-entropy"),
    "softmax+SE": ("softmax", "squared-error"),
}
#: (output unit, cross-entropy arm, squared-error arm)
PAIRS = (("sigmoid", "sigmoid+logistic", "sigmoid+SE"), ("softmax", "softmax+CE", "softmax+SE"))
CONTROL = "softmax+CE+③"  # the positive control of the hidden assay: remedy ③ on the hidden layer
#: arms trained (at the fixed ``hidden_lr``) in the half-stuck network, described only
HIDDEN_TRAINED = ("softmax+CE", "softmax+SE", CONTROL)


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int | None = 2000  # training images kept before the validation split (Fashion-MNIST: 60000)
    max_test: int | None = 2000
    seeds: tuple = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)  # test seeds: data split, initial weights, batches
    selection_seeds: tuple = (1000, 1001)  # learning rates are chosen on these seeds' validation split
    assay_seeds: tuple = tuple(range(20))  # the hidden-unit assay needs no rate: it gets more seeds
    n_hidden: int = 32
    init: str = "fan-in"
    output_scale: float = 30.0  # stuck outputs: the output weights × this
    stuck_scale: float = 50.0  # stuck hidden units: a random half's incoming weights × this
    prime_offset: float = 0.1  # remedy ③, the positive control on the hidden layer
    lrs: tuple = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # plain SGD; each arm picks its own on the selection seeds
    epochs: int = 5
    batch_size: int = 32
    hidden_lr: float = 1.0  # the descriptive training of the half-stuck network (not a comparison)
    saturation_tol: float = 0.05  # |z − bound| below this: saturated; |z − y| ≥ 1 − this: at the wrong bound
    margin: float = 0.1  # TOST margin for "can't help", in decades of the stuck/healthy gradient ratio

    @classmethod
    def quick(cls):
        return cls(
            seeds=(0, 1, 2, 3), selection_seeds=(1000,), assay_seeds=tuple(range(8)), lrs=(0.1, 0.3, 1.0), epochs=2
        )


@functools.lru_cache(maxsize=4)
def _data(spec, seed, max_train, max_test):
    """The seed's split (cached per process: every arm and rate of a seed reuses it; never modified)."""
    data = load_data(spec, seed=seed, max_train=max_train, max_test=max_test)
    for a in data[:-1]:
        a.setflags(write=False)  # shared by every run of the seed in this process
    return data


def _network(cfg, arm, n_in, k, seed, offset=0.0):
    output, loss = ARMS[arm]
    # the initial draws depend on the seed and the sizes only: every arm of a seed starts from the same weights
    kw = {"hidden": "sigmoid", "output": output, "loss": loss, "init": cfg.init, "seed": seed}
    return mlp([n_in, cfg.n_hidden, k], prime_offset=offset, prime_offset_on="hidden", **kw)


def _sgd(cfg, net, lr, seed):
    return Trainer(net, "sgd", lr=lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)


def _wrong(net, X, Y, tol) -> float:
    """Fraction of (sample, output) pairs at the wrong bound: ``|z − y| ≥ 1 − tol``."""
    return float(np.mean(np.abs(net.predict(X) - Y) >= 1.0 - tol))


# -- the runs ---------------------------------------------------------------------------------------------
def output_run(cfg, arm, lr, seed) -> dict:
    """One arm with its output weights ×``output_scale``, trained at ``lr``; test data only on test seeds."""
    Xtr, ytr, Xv, yv, Xte, yte, k = _data(cfg.data, seed, cfg.max_train, cfg.max_test)
    net = _network(cfg, arm, Xtr.shape[1], k, seed)
    net.layers[1].W *= cfg.output_scale
    tr = _sgd(cfg, net, lr, seed)
    X, Y, _ = tr.prepare(Xtr, ytr)
    net.loss_and_grads(X, Y)
    grad_out0 = float(np.linalg.norm(net.grads[2]))  # ‖∇W_out‖ at initialisation, training set
    wrong = [_wrong(net, X, Y, cfg.saturation_tol)]
    tr.callbacks.append(LambdaCallback(lambda t, e, logs: wrong.append(_wrong(net, X, Y, cfg.saturation_tol))))
    val0 = tr.evaluate(Xv, yv)["accuracy"]
    h = fit_quietly(tr, Xtr, ytr, validation=(Xv, yv))
    test = tr.evaluate(Xte, yte)["accuracy"] if seed in cfg.seeds else None
    return {
        "val": [val0, *h.history.get("val_accuracy", [])],  # none when it diverged in epoch 1
        "wrong": wrong,
        "test": test,
        "grad_out0": grad_out0,
        "diverged": h.diverged,
    }


def _half(cfg, seed) -> np.ndarray:
    """The stuck half of the hidden units, (n_hidden,) bool, drawn from the seed."""
    stuck = np.zeros(cfg.n_hidden, bool)
    stuck[np.random.default_rng([seed, 1]).permutation(cfg.n_hidden)[: cfg.n_hidden // 2]] = True
    return stuck


def _half_stuck(cfg, arm, n_in, k, seed, stuck):
    offset = cfg.prime_offset if arm == CONTROL else 0.0
    net = _network(cfg, arm.removesuffix("+③"), n_in, k, seed, offset)
    net.layers[0].W[:, stuck] *= cfg.stuck_scale
    return net


def _saturated(net, X, tol) -> np.ndarray:
    """Per hidden unit: the fraction of samples on which it sits within ``tol`` of 0 or 1, (n_hidden,)."""
    h = net.activations(X)[0]
    return np.mean((h <= tol) | (h >= 1.0 - tol), axis=0)


def hidden_run(cfg, seed) -> dict:
    """The half-stuck network of one seed: the gradient assay for every arm, and a short described training."""
    Xtr, ytr, _, _, Xte, yte, k = _data(cfg.data, seed, cfg.max_train, cfg.max_test)
    stuck = _half(cfg, seed)
    ratio, sat0 = {}, None
    for arm in (*ARMS, CONTROL):
        net = _half_stuck(cfg, arm, Xtr.shape[1], k, seed, stuck)
        X, Y, _ = Trainer(net).prepare(Xtr, ytr)
        net.loss_and_grads(X, Y)
        g = np.linalg.norm(net.grads[0].astype(np.float64), axis=0)  # ‖∇w_j‖ per hidden unit, (n_hidden,)
        ratio[arm] = float(np.log10(g[stuck].mean() / g[~stuck].mean()))
        sat0 = _saturated(net, X, cfg.saturation_tol)
    trained = {}
    for arm in HIDDEN_TRAINED:
        net = _half_stuck(cfg, arm, Xtr.shape[1], k, seed, stuck)
        tr = _sgd(cfg, net, cfg.hidden_lr, seed)
        h = fit_quietly(tr, Xtr, ytr)
        sat1 = _saturated(net, tr.prepare(Xtr, ytr)[0], cfg.saturation_tol)
        trained[arm] = {
            "sat_stuck": float(sat1[stuck].mean()),
            "sat_healthy": float(sat1[~stuck].mean()),
            "test": tr.evaluate(Xte, yte)["accuracy"],
            "diverged": h.diverged,
        }
    return {
        "log_ratio": ratio,
        "sat_stuck": float(sat0[stuck].mean()),
        "sat_healthy": float(sat0[~stuck].mean()),
        "trained": trained,
    }


# -- learning-rate choice ----------------------------------------------------------------------------------
def _score(data) -> float:
    """Final validation accuracy; a diverged or failed run scores 0."""
    if data.get("diverged") or not data.get("val"):
        return 0.0
    return finite(data["val"][-1]) or 0.0


def select_rates(cfg, outputs) -> dict:
    """Per arm: ``{"lr", "scores": {lr: mean score}, "edge", "flat"}`` from the selection seeds only.

    Ties go to the smaller rate.  ``edge``: the best rate is the grid's smallest or largest;
    ``flat``: no rate beats the others by 0.02 (the arm fails, or trains, at every rate alike).
    """
    chosen = {}
    for arm in ARMS:
        scores = {}
        for lr in cfg.lrs:
            runs = [d for k, d in outputs if k["arm"] == arm and k["lr"] == lr and k["seed"] in cfg.selection_seeds]
            scores[lr] = float(np.mean([_score(d) for d in runs])) if runs else 0.0
        best = max(cfg.lrs, key=lambda lr: (scores[lr], -lr))
        edge = len(cfg.lrs) > 1 and best in (min(cfg.lrs), max(cfg.lrs))
        flat = max(scores.values()) - min(scores.values()) < 0.02
        chosen[arm] = {"lr": best, "scores": scores, "edge": edge, "flat": flat}
    return chosen


def at_chosen(cfg, outputs, chosen, arm, field) -> list:
    """``field`` after training for every test seed (in ``seeds`` order) at the arm's chosen rate."""
    by_seed = {
        k["seed"]: d for k, d in outputs if k["arm"] == arm and k["lr"] == chosen[arm]["lr"] and k["seed"] in cfg.seeds
    }
    out = []
    for s in cfg.seeds:
        d = by_seed.get(s, {})
        v = d.get(field)
        out.append(finite(v[-1] if isinstance(v, list) and v else v))
    return out


def _edge_note(chosen, *arms) -> str:
    notes = [
        f"{a}: best rate {chosen[a]['lr']:g} at the grid's edge"
        + (" (flat: no rate trains better)" if chosen[a]["flat"] else "")
        for a in arms
        if chosen[a]["edge"]
    ]
    return "; ".join(notes)


def _with_note(check, note) -> Check:
    text = "; ".join(n for n in (check.note, note) if n)
    return dataclasses.replace(check, note=text)


def _paired(a, b):
    """Only the seeds where both values exist (a failed run has none)."""
    keep = [i for i, (x, y) in enumerate(zip(a, b)) if x is not None and y is not None]
    return [a[i] for i in keep], [b[i] for i in keep]


def split_parts(measured):
    outputs = [(k, d) for k, d in measured if k["part"] == "outputs"]
    hidden = [(k, d) for k, d in measured if k["part"] == "hidden" and "log_ratio" in d]
    return outputs, hidden


# -- the checks --------------------------------------------------------------------------------------------
def output_checks(cfg, outputs, chosen) -> list[Check]:
    def both(field, a, b):
        return _paired(at_chosen(cfg, outputs, chosen, a, field), at_chosen(cfg, outputs, chosen, b, field))

    checks = []
    for unit, ce, se in PAIRS:
        note = _edge_note(chosen, ce, se)
        unstick = helps(
            *both("wrong", se, ce),
            direction="greater",
            name=f"{unit} outputs unstick",
            claim=f"with {unit} outputs pinned at 0/1, the {ce.split('+')[1]} loss leaves fewer outputs at the wrong "
            f"bound after {cfg.epochs} epochs than squared error (same unit, same initial weights)",
            statistic=f"mean paired difference of the fraction of outputs with |z − y| ≥ {1 - cfg.saturation_tol:g} "
            "after training, SE − CE",
            could_fail="squared error unsticking the outputs as well as cross-entropy, at its own best rate",
        )
        accuracy = helps(
            *both("test", ce, se),
            direction="greater",
            name=f"{unit} outputs: accuracy",
            claim=f"with {unit} outputs pinned at 0/1, the {ce.split('+')[1]} loss ends with higher test accuracy than "
            "squared error",
            statistic="mean paired difference of test accuracy, CE − SE",
            could_fail="squared error reaching the same test accuracy at its own best rate",
        )
        checks += [_with_note(unstick, note), _with_note(accuracy, note)]
    return checks


def hidden_checks(cfg, hidden) -> list[Check]:
    ratio = {arm: [d["log_ratio"][arm] for _, d in hidden] for arm in (*ARMS, CONTROL)}
    checks = []
    for unit, ce, se in PAIRS:
        checks.append(
            tost(
                ratio[ce],
                ratio[se],
                cfg.margin,
                names=(ce, se),
                name=f"{unit}: CE can't help hidden units",
                claim=f"in a network whose hidden half is stuck (incoming weights ×{cfg.stuck_scale:g}), the stuck "
                f"units' gradient deficit is the same under {ce} as under {se}",
                statistic="mean paired difference of log10(mean ‖∇w_j‖ stuck / mean ‖∇w_j‖ healthy) at "
                "initialisation, CE − SE",
                could_fail=f"cross-entropy changing the stuck units' share of the gradient by more than "
                f"{cfg.margin:g} decades (e.g. by weighting the samples on which they are not saturated differently)",
            )
        )
    control = helps(
        ratio[CONTROL],
        ratio["softmax+CE"],
        direction="greater",
        name="positive control: ③ reaches stuck hidden units",
        claim=f"remedy ③ (S' + {cfg.prime_offset:g} on the hidden layer) raises the stuck units' share of the "
        "gradient, so the assay can detect a change that reaches hidden units",
        statistic="mean paired difference of log10(stuck / healthy gradient), softmax+CE with ③ − without",
        could_fail="an assay that no hidden-layer intervention moves (the stuck units' gradient not limited by S')",
    )
    at_init = "at initialisation: no training, so the rule that both arms must train does not apply"
    return [*(_with_note(c, at_init) for c in checks), control]


# -- presentation ------------------------------------------------------------------------------------------
def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _mean(values):
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def _ci(values, lo=None, hi=None, digits=3):
    v = [x for x in values if x is not None]
    if len(v) < 2:
        return _fmt(_mean(v), digits)
    m = mean_ci(v, lo=lo, hi=hi)
    return f"{m.mean:.{digits}f} [{m.ci[0]:.{digits}f}, {m.ci[1]:.{digits}f}]"


def _output_rows(cfg, outputs, chosen):
    rows = []
    for arm in ARMS:
        c = chosen[arm]
        runs = [d for k, d in outputs if k["arm"] == arm and k["lr"] == c["lr"] and k["seed"] in cfg.seeds]
        grad = [d.get("grad_out0") for d in runs]
        lr_text = f"{c['lr']:g}" + (" (edge)" if c["edge"] else "") + (" (flat)" if c["flat"] else "")
        rows.append(
            {
                "arm": arm,
                "chosen lr": lr_text,
                "at the wrong bound: start → end": f"{_fmt(_mean([d['wrong'][0] for d in runs]))} → "
                f"{_fmt(_mean(at_chosen(cfg, outputs, chosen, arm, 'wrong')))}",
                "test accuracy [95% CI]": _ci(at_chosen(cfg, outputs, chosen, arm, "test"), 0.0, 1.0),
                "‖∇W_out‖ at init (geometric mean)": f"{10 ** np.mean(np.log10(grad)):.2e}" if grad else "n/a",
                "diverged": f"{sum(bool(d.get('diverged')) for d in runs)}/{len(runs)}",
            }
        )
    return rows


def _lr_rows(cfg, chosen):
    rows = []
    for arm, c in chosen.items():
        row = {"arm": arm}
        row.update({f"lr {lr:g}": _fmt(c["scores"][lr]) for lr in cfg.lrs})
        row["chosen"] = f"{c['lr']:g}"
        row["at the edge"] = c["edge"]
        rows.append(row)
    return rows


def _hidden_rows(cfg, hidden):
    rows = []
    for arm in (*ARMS, CONTROL):
        trained = [d["trained"][arm] for _, d in hidden if arm in d["trained"]]
        sat = _fmt(_mean([t["sat_stuck"] for t in trained])) if trained else "not trained"
        rows.append(
            {
                "arm": arm,
                "log10 stuck/healthy gradient at init [95% CI]": _ci([d["log_ratio"][arm] for _, d in hidden]),
                "stuck half saturated at init": _fmt(_mean([d["sat_stuck"] for _, d in hidden])),
                f"after {cfg.epochs} epochs at lr {cfg.hidden_lr:g}": sat,
                "test accuracy there": _fmt(_mean([t["test"] for t in trained])) if trained else "",
            }
        )
    return rows


def _curves(cfg, outputs, chosen, field, title, ylabel, caption):
    series = []
    for arm in ARMS:
        runs = [
            d[field]
            for k, d in outputs
            if k["arm"] == arm and k["lr"] == chosen[arm]["lr"] and k["seed"] in cfg.seeds and d.get(field)
        ]
        if not runs:
            continue
        n = max(len(r) for r in runs)
        cols = [[r[i] for r in runs if i < len(r) and r[i] is not None] for i in range(n)]
        y = [float(np.mean(c)) if c else None for c in cols]
        # ± sd over seeds, clipped so that the band stays inside [0, 1] (both curves are fractions)
        err = [min(float(np.std(c, ddof=1)), m, 1.0 - m) if len(c) > 1 else None for c, m in zip(cols, y)]
        series.append(Series(label=f"{arm} (lr {chosen[arm]['lr']:g})", x=list(range(n)), y=y, yerr=err))
    return Plot(title=title, xlabel="epoch (0 = initial weights)", ylabel=ylabel, series=series, caption=caption)


#: (field, title, y label, caption) of the training curves of the stuck-output arms
CURVES = (
    (
        "wrong",
        "Stuck outputs: fraction at the wrong bound",
        "fraction of (sample, output) with |z − y| ≥ 1 − tol",
        "Output weights scaled up at the start; mean ± sd over the test seeds, training set.",
    ),
    (
        "val",
        "Stuck outputs: validation accuracy",
        "accuracy",
        "Each arm at its chosen rate; mean ± sd over test seeds.",
    ),
)


def _assay_plot(cfg, hidden):
    arms = (*ARMS, CONTROL)
    return Plot(
        title="Stuck hidden units' share of the gradient at initialisation",
        kind="bar",
        ylabel="log10(stuck / healthy ‖∇w_j‖)",
        series=[
            Series(
                label="mean ± sd over seeds",
                x=list(arms),
                y=[float(np.mean([d["log_ratio"][a] for _, d in hidden])) for a in arms],
                yerr=[
                    float(np.std([d["log_ratio"][a] for _, d in hidden], ddof=1)) if len(hidden) > 1 else 0.0
                    for a in arms
                ],
                style="bar",
            )
        ],
        hlines=[(0.0, "no deficit")],
        caption=f"Half of the hidden units have incoming weights ×{cfg.stuck_scale:g}. CE and SE leave the same "
        "deficit; remedy ③ reduces it (positive control).",
    )


@register_design
class StuckUnits(Design):
    name = "stuck-units"
    claim = CLAIM
    config_cls = Config
    order = 40

    def runs(self, cfg):
        if set(cfg.selection_seeds) & set(cfg.seeds):
            raise ValueError(f"selection_seeds {cfg.selection_seeds} must be disjoint from the test seeds {cfg.seeds}")
        seeds = [*cfg.selection_seeds, *cfg.seeds]
        # the seed outermost: consecutive runs share a seed's split, which _data caches per process
        keys = [
            {"part": "outputs", "arm": arm, "lr": float(lr), "seed": int(s)}
            for s in seeds
            for arm in ARMS
            for lr in cfg.lrs
        ]
        return keys + [{"part": "hidden", "seed": int(s)} for s in cfg.assay_seeds]

    def measure(self, cfg, key):
        if key["part"] == "outputs":
            return output_run(cfg, key["arm"], key["lr"], key["seed"])
        return hidden_run(cfg, key["seed"])

    def judge(self, cfg, measured):
        outputs, hidden = split_parts(measured)
        chosen = select_rates(cfg, outputs)
        return output_checks(cfg, outputs, chosen) + hidden_checks(cfg, hidden)

    def present(self, cfg, measured, checks):
        outputs, hidden = split_parts(measured)
        chosen = select_rates(cfg, outputs)
        by = {c.name: c for c in checks}
        soft, ctrl = by["softmax outputs unstick"], by["positive control: ③ reaches stuck hidden units"]
        tost_soft = by["softmax: CE can't help hidden units"]
        measurement = (
            f"{cfg.data}, sigmoid networks with {cfg.n_hidden} hidden units, {len(cfg.seeds)} test seeds; each loss "
            f"arm at its own SGD rate (chosen on {len(cfg.selection_seeds)} selection seed(s)). With output weights "
            f"×{cfg.output_scale:g}, cross-entropy leaves {soft.value:.3f} fewer outputs at the wrong bound than "
            f"squared error (softmax pair). With half the hidden units stuck (×{cfg.stuck_scale:g}), their gradient "
            f"deficit differs by {tost_soft.value:+.3f} decades between CE and SE, while remedy ③ shrinks it by "
            f"{ctrl.value:.2f} decades."
        )
        tables = (
            ("Stuck outputs: each arm at its chosen rate (test seeds)", _output_rows(cfg, outputs, chosen)),
            ("Stuck hidden units: the gradient assay and a short training", _hidden_rows(cfg, hidden)),
            ("Learning-rate choice: mean final validation accuracy on the selection seeds", _lr_rows(cfg, chosen)),
        )
        return {
            "measurement": measurement,
            "metrics": {c.name: c.value for c in checks},
            "tables": [{"title": t, "rows": rows} for t, rows in tables],
            "plots": [*(_curves(cfg, outputs, chosen, *spec) for spec in CURVES), _assay_plot(cfg, hidden)],
        }
