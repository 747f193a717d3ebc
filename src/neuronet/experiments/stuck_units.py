"""Claim: cross-entropy rescues stuck output units, but not stuck hidden units.

A sigmoid unit is *stuck* when its input ``a`` is so large that ``z = S(a)`` sits
at 0 or 1 and ``S'(a) = z(1 - z)`` is almost 0: every gradient that passes
through it is multiplied by that near-zero factor.

* Output layer.  With squared error the output delta is ``(z - y) z(1 - z)``: an
  output pinned at the wrong bound (``z ≈ 1``, ``y = 0``) gets almost no
  gradient.  With softmax + cross-entropy the ``z(1 - z)`` cancels and the delta
  is ``z - y``, largest exactly when the unit is most wrong.
* Hidden layer.  The hidden delta is ``(W^T delta_out) * h(1 - h)`` under *any*
  loss: the cancellation happens only at the output, so a pinned hidden unit
  stays (almost) gradient-free whichever loss sits on top.

Construction (everything else equal): one ``64-H-10`` sigmoid network per seed,
drawn with fan-in initialization; then either the output weights (case
"stuck outputs") or the hidden weights (case "stuck hidden") are multiplied by a
large factor; an unscaled copy is the healthy control.  The *same* initial
weights are trained twice: sigmoid outputs + squared error (SE) and softmax
outputs + cross-entropy (CE), with the same optimizer, batches and epochs; each
(case, loss) gets its best learning rate from a small grid, chosen on the
validation split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..diagnostics import layer_diagnostics
from ..network import mlp
from ..train import LambdaCallback, Trainer
from .base import Plot, Result, Series, experiment, pm, spread
from .common import epochs_to_reach, load_data

CLAIM = "Cross-entropy loss helps avoid stuck output units, can't help stuck hidden units."

#: (name, loss label) -> (output unit, loss)
LOSSES = {"SE": ("sigmoid", "squared-error"), "CE": ("softmax", "cross-entropy")}
CASES = ("healthy", "stuck outputs", "stuck hidden")


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    seeds: tuple = (0, 1, 2, 3, 4)
    n_hidden: int = 32
    init: str = "fan-in"
    output_scale: float = 30.0  # case "stuck outputs": output weights x this
    hidden_scale: float = 50.0  # case "stuck hidden": hidden weights x this
    optimizer: str = "sgd"
    lrs: tuple = (0.1, 0.3, 1.0, 3.0, 10.0)
    epochs: int = 30
    batch_size: int = 32
    saturation_tol: float = 0.05  # |z - bound| below this: saturated
    threshold: float = 0.9  # validation accuracy that counts as "recovered"
    margin: float = 0.05  # accuracy gap that counts as "much better"
    max_train: int | None = None

    @classmethod
    def quick(cls):
        return cls(seeds=(0, 1), lrs=(0.3, 3.0), epochs=10)


# -- one training run ---------------------------------------------------------------------------
def _network(cfg, k, n_in, case, loss_name, seed):
    output, loss = LOSSES[loss_name]
    net = mlp([n_in, cfg.n_hidden, k], hidden="sigmoid", output=output, loss=loss, init=cfg.init, seed=seed)
    # the initial weights depend on the seed and sizes only, not on the output unit: SE and CE start equal
    if case == "stuck outputs":
        net.layers[1].W *= cfg.output_scale
    elif case == "stuck hidden":
        net.layers[0].W *= cfg.hidden_scale
    return net


def _run(cfg, data, case, loss_name, lr, seed):
    """Train one network; per-epoch curves, epoch 0 being the initial state."""
    Xtr, ytr, Xv, yv, Xte, yte, k = data
    net = _network(cfg, k, Xtr.shape[1], case, loss_name, seed)
    tol = cfg.saturation_tol
    # probe_size >= n_train: the diagnostics probe is the whole training set, the same set epoch 0 uses
    tr = Trainer(
        net,
        cfg.optimizer,
        lr=lr,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        probe_size=Xtr.shape[0],
        saturation_tol=tol,
    )
    X, Y, _ = tr.prepare(Xtr, ytr)

    def stuck_wrong():
        # an output at the wrong bound: |z - y| >= 1 - tol (e.g. z > 0.95 where y = 0)
        return float(np.mean(np.abs(net.predict(X) - Y) >= 1.0 - tol))

    wrong = [stuck_wrong()]
    diag0 = layer_diagnostics(net, X, Y, tol=tol)
    val0 = tr.evaluate(Xv, yv)["accuracy"]
    cb = LambdaCallback(lambda trainer, epoch, logs: wrong.append(stuck_wrong()))
    tr.callbacks.append(cb)
    h = tr.fit(Xtr, ytr, validation_data=(Xv, yv))
    diags = [diag0] + list(h.diagnostics)
    pad = [None] * (cfg.epochs - len(h))  # a diverged run stops early
    curve = lambda key, i: [d[i][key] for d in diags] + pad  # noqa: E731
    return {
        "val": [val0] + list(h["val_accuracy"]) + pad,
        "grad_hidden": curve("grad_norm", 0),
        "grad_output": curve("grad_norm", 1),
        "sat_hidden": curve("saturated", 0),
        "sat_output": curve("saturated", 1),
        "stuck_wrong": wrong + pad,
        "test": tr.evaluate(Xte, yte)["accuracy"] if not h.diverged else None,
        "diverged": h.diverged,
    }


def _score(runs):
    """Mean final validation accuracy over seeds; a diverged run scores 0."""
    return float(np.mean([0.0 if r["diverged"] else r["val"][-1] for r in runs]))


def _curve_stats(runs, key):
    cols = list(zip(*[r[key] for r in runs]))
    stats = [spread(c) for c in cols]
    return [s["mean"] for s in stats], [s["std"] for s in stats]


def _final(runs, key):
    return spread([r[key][-1] for r in runs])


def _first(runs, key):
    return spread([r[key][0] for r in runs])


def _arrow(summary, key, fmt):
    """``"0.90 → 0.89"``: mean over seeds at the start and at the end."""
    return f"{summary[key + '0']['mean']:{fmt}} → {summary[key]['mean']:{fmt}}"


@experiment("stuck-units", CLAIM, Config, order=40)
def run(cfg: Config) -> Result:
    data = {s: load_data(cfg.data, seed=s, max_train=cfg.max_train) for s in cfg.seeds}
    # every (case, loss, lr, seed); the GEMMs are small, where extra BLAS threads cost more than they give
    with threadpool_limits(limits=1, user_api="blas"):
        runs = {
            (c, ln, lr): [_run(cfg, data[s], c, ln, lr, s) for s in cfg.seeds]
            for c in CASES
            for ln in LOSSES
            for lr in cfg.lrs
        }
    # learning rate: best mean final validation accuracy per (case, loss); ties go to the smaller rate
    chosen, lr_rows = {}, []
    for c in CASES:
        for ln in LOSSES:
            scores = {lr: _score(runs[(c, ln, lr)]) for lr in cfg.lrs}
            best = max(cfg.lrs, key=lambda lr: (scores[lr], -lr))
            chosen[(c, ln)] = runs[(c, ln, best)]
            edge = len(cfg.lrs) > 1 and best in (min(cfg.lrs), max(cfg.lrs))
            lr_rows.append(
                {
                    "case": c,
                    "loss": ln,
                    **{f"lr={lr:g}": round(scores[lr], 4) for lr in cfg.lrs},
                    "chosen lr": best,
                    "at the grid's edge": edge,
                }
            )
    lr_of = {(r["case"], r["loss"]): r["chosen lr"] for r in lr_rows}

    never = cfg.epochs + 1
    summary = {}
    for (c, ln), rs in chosen.items():
        reach = [epochs_to_reach(r["val"][1:], cfg.threshold) for r in rs]
        summary[(c, ln)] = {
            "test": spread([r["test"] for r in rs]),
            "val": _final(rs, "val"),
            "reach": spread([never if e is None else e for e in reach]),
            "reached": sum(e is not None for e in reach),
            "sat_hidden0": _first(rs, "sat_hidden"),
            "sat_hidden": _final(rs, "sat_hidden"),
            "sat_output0": _first(rs, "sat_output"),
            "sat_output": _final(rs, "sat_output"),
            "wrong0": _first(rs, "stuck_wrong"),
            "wrong": _final(rs, "stuck_wrong"),
            "grad_hidden0": _first(rs, "grad_hidden"),
            "grad_hidden": _final(rs, "grad_hidden"),
            "grad_output0": _first(rs, "grad_output"),
            "grad_output": _final(rs, "grad_output"),
            "diverged": sum(r["diverged"] for r in rs),
        }

    def mean(c, ln, key):
        v = summary[(c, ln)][key]["mean"]
        return float("nan") if v is None else v

    # (a) stuck outputs: CE recovers sooner and ends clearly more accurate than SE
    a_faster = mean("stuck outputs", "CE", "reach") < mean("stuck outputs", "SE", "reach")
    a_gap = mean("stuck outputs", "CE", "test") - mean("stuck outputs", "SE", "test")
    a_ok = a_faster and a_gap >= cfg.margin
    # (b) stuck hidden: under CE the hidden layer stays stuck, no less than under SE
    h0, h_ce, h_se = (
        mean("stuck hidden", "CE", "sat_hidden0"),
        mean("stuck hidden", "CE", "sat_hidden"),
        mean("stuck hidden", "SE", "sat_hidden"),
    )
    b_stays = h_ce >= 0.8 * h0
    b_not_better = h_ce >= h_se - 0.1
    b_ok = b_stays and b_not_better
    verdict = "supported" if a_ok and b_ok else ("mixed" if a_ok or b_ok else "not supported")
    g_ratio = {ln: mean("stuck hidden", ln, "grad_hidden0") / mean("healthy", ln, "grad_hidden0") for ln in LOSSES}
    b_gap = mean("stuck hidden", "CE", "test") - mean("stuck hidden", "SE", "test")
    reason = (
        f"Rule: supported if (a) with stuck outputs CE reaches {cfg.threshold:.0%} validation accuracy in fewer "
        f"epochs than SE (never = {never}) and ends with test accuracy at least {cfg.margin:g} higher, and (b) with "
        f"stuck hidden units CE leaves the hidden layer stuck (final saturated fraction >= 0.8 x its initial value) "
        f"and no less stuck than SE (within 0.1); mixed if only one holds. "
        f"(a) {'holds' if a_ok else 'fails'}: epochs to {cfg.threshold:.0%} CE "
        f"{pm(summary[('stuck outputs', 'CE')]['reach'], 1)} vs SE {pm(summary[('stuck outputs', 'SE')]['reach'], 1)}, "
        f"test accuracy CE − SE = {a_gap:+.3f}. "
        f"(b) {'holds' if b_ok else 'fails'}: hidden saturated fraction {h0:.2f} at the start, {h_ce:.2f} after "
        f"training with CE, {h_se:.2f} with SE; at the start the stuck hidden layer gets {g_ratio['CE']:.2f}x "
        f"(CE) and {g_ratio['SE']:.2f}x (SE) the gradient norm of a healthy one; test accuracy CE − SE there = "
        f"{b_gap:+.3f}"
        + (
            " (the output layer learns better on the pinned, nearly binary hidden code; the hidden "
            "layer itself stays stuck)."
            if b_ok and b_gap > 0
            else "."
        )
    )

    measurement = (
        f"{cfg.data}, 64-{cfg.n_hidden}-k sigmoid networks ({cfg.init} init), {len(cfg.seeds)} seeds. "
        f"Stuck outputs: output weights x{cfg.output_scale:g}; stuck hidden: hidden weights x{cfg.hidden_scale:g}; "
        f"healthy: unscaled. Each seed's initial weights are trained twice, with sigmoid outputs + squared error "
        f"(SE) and with softmax outputs + cross-entropy (CE): {cfg.optimizer}, batch {cfg.batch_size}, "
        f"{cfg.epochs} epochs; the learning rate of each (case, loss) is the one of {list(cfg.lrs)} with the best "
        f"mean final validation accuracy. Per epoch: validation accuracy; on the whole training set the gradient "
        f"norm ||dL/dW|| and saturated fraction (within {cfg.saturation_tol:g} of 0 or 1) of each layer, and the "
        f"fraction of outputs stuck at the wrong bound (|z − y| >= {1 - cfg.saturation_tol:g}); test accuracy at "
        f"the end."
    )

    metrics = {}
    rows = []
    for c in CASES:
        for ln in LOSSES:
            s = summary[(c, ln)]
            key = f"{c} · {ln}"
            metrics[f"{key}: test accuracy"] = s["test"]
            metrics[f"{key}: epochs to {cfg.threshold:g} val accuracy"] = s["reach"]
            metrics[f"{key}: hidden saturated (start → end)"] = {"start": s["sat_hidden0"], "end": s["sat_hidden"]}
            metrics[f"{key}: outputs stuck wrong (start → end)"] = {"start": s["wrong0"], "end": s["wrong"]}
            rows.append(
                {
                    "case": c,
                    "loss": ln,
                    "lr": lr_of[(c, ln)],
                    "test accuracy": pm(s["test"]),
                    "final val accuracy": pm(s["val"]),
                    f"epochs to {cfg.threshold:.0%} val": pm(s["reach"], 1),
                    f"seeds reaching {cfg.threshold:.0%}": f"{s['reached']}/{len(cfg.seeds)}",
                    "hidden saturated start → end": _arrow(s, "sat_hidden", ".2f"),
                    "output saturated start → end": _arrow(s, "sat_output", ".2f"),
                    "outputs stuck wrong start → end": _arrow(s, "wrong", ".3f"),
                    "hidden ‖∇W‖ start → end": _arrow(s, "grad_hidden", ".2e"),
                    "output ‖∇W‖ start → end": _arrow(s, "grad_output", ".2e"),
                    "diverged runs": s["diverged"],
                }
            )
    metrics["stuck outputs: test accuracy CE − SE"] = a_gap
    metrics["stuck hidden: test accuracy CE − SE"] = b_gap
    metrics["stuck hidden: initial hidden gradient / healthy (CE)"] = g_ratio["CE"]
    metrics["stuck hidden: initial hidden gradient / healthy (SE)"] = g_ratio["SE"]

    epochs = list(range(cfg.epochs + 1))

    def plot(key, title, ylabel, logy=False, caption=""):
        series = []
        for c in CASES:
            for ln in LOSSES:
                m, sd = _curve_stats(chosen[(c, ln)], key)
                # on a log axis a ± std band dips below zero: the spread is in the tables instead
                series.append(Series(label=f"{c} · {ln}", x=epochs, y=m, yerr=None if logy else sd))
        return Plot(
            title=title, xlabel="epoch (0 = initial weights)", ylabel=ylabel, series=series, logy=logy, caption=caption
        )

    plots = [
        plot(
            "val",
            "Validation accuracy",
            "accuracy",
            caption=f"Mean ± std over {len(cfg.seeds)} seeds, each at its (case, loss) learning rate.",
        ),
        plot("grad_output", "Gradient norm reaching the output layer", "‖dL/dW_out‖", logy=True),
        plot("grad_hidden", "Gradient norm reaching the hidden layer", "‖dL/dW_hidden‖", logy=True),
        plot("sat_hidden", "Saturated fraction, hidden layer", "fraction of (sample, unit) outputs"),
        plot(
            "sat_output",
            "Saturated fraction, output layer",
            "fraction of (sample, unit) outputs",
            caption="A trained classifier's outputs sit near 0/1 too; what matters is whether they sit at the "
            "wrong bound (next plot).",
        ),
        plot("stuck_wrong", "Outputs stuck at the wrong bound", "fraction with |z − y| ≥ 1 − tol"),
    ]
    return Result(
        name="stuck-units",
        claim=CLAIM,
        measurement=measurement,
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": "Per case and loss (mean ± std over seeds)", "rows": rows},
            {"title": "Learning-rate choice: mean final validation accuracy per rate", "rows": lr_rows},
        ],
        plots=plots,
    )
