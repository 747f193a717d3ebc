"""Claim 3: the five remedies for saturated units, each at its own best learning rate.

The notes list five remedies for units stuck at the flat ends of the sigmoid:

① fan-in initialization (weights ~ N(0, 1/fan_in) instead of N(0, 1)),
② soft targets 0.15/0.85 instead of 0/1,
③ a sigmoid-prime offset: backpropagate through ``S' + 0.1``,
④ cross-entropy with a softmax output instead of squared error,
⑤ ReLU hidden units,

and say that each helps, and that "option 5 makes ② ③ ④ useless".

Design.  A 1-hidden-layer MLP (inputs-64-classes) trained with plain
mini-batch SGD for a fixed number of epochs.  The baseline has sigmoid hidden
and sigmoid output units, N(0, 1) weights, squared error and 0/1 targets.
Each remedy is applied alone, then ①–④ together, then ReLU with ②, ③ and ④
added one at a time.  ReLU with fan-in initialization is run as context (it is
no part of the claim).

Every configuration runs at its *own* best learning rate: at one shared rate
the comparison mostly measures the rate.  The rate is chosen on the validation
split from a log-spaced grid, using the first ``select_seeds`` seeds: highest
mean validation accuracy after the epoch budget; rates within ``tie_tol`` of
the best count as tied and the one reaching ``threshold`` soonest wins.  A run
that diverges scores 0.  When the chosen rate sits at an end of the grid the
grid is extended by one step (up to ``max_widen`` times); if it is still at an
end, the row is flagged "edge".  All seeds are then trained at the chosen rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ConfigError
from .base import Plot, Result, Series, experiment, pm, spread
from .common import epochs_to_reach, load_data, train

CLAIM = (
    "The five remedies for saturated units — ① fan-in initialization, ② soft targets 0.15/0.85, "
    "③ sigmoid-prime offset S'+0.1, ④ cross-entropy (with softmax output), ⑤ ReLU hidden units — each "
    "helps; and option ⑤ makes ② ③ ④ useless."
)


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    seeds: tuple = (0, 1, 2, 3, 4)
    hidden_units: int = 64
    epochs: int = 30
    batch_size: int = 32
    lr_min: float = 0.01
    lr_max: float = 30.0
    lr_per_decade: int = 3  # grid points per factor of 10
    max_widen: int = 2  # grid extensions when the best rate is at an end
    select_seeds: int = 2  # the first this-many seeds choose the rate
    threshold: float = 0.9  # validation accuracy for "epochs to threshold"
    tie_tol: float = 0.005  # validation accuracies this close count as tied
    acc_margin: float = 0.005  # smallest test-accuracy difference that counts
    epoch_margin: float = 1.0  # smallest epochs-to-threshold difference that counts
    soft_targets: tuple = (0.15, 0.85)
    prime_offset: float = 0.1
    max_train: int | None = None
    context: bool = True  # also run ReLU + fan-in (not part of any verdict)

    @classmethod
    def quick(cls):
        return cls(seeds=(0, 1, 2), epochs=12, lr_per_decade=2, select_seeds=1, max_widen=1, context=False)


@dataclass(frozen=True)
class _Variant:
    key: str
    label: str
    kwargs: dict
    note: str = ""


def _variants(cfg):
    base = {
        "hidden": "sigmoid",
        "output": "sigmoid",
        "loss": "squared-error",
        "init": "normal:1",
        "target_range": None,
        "prime_offset": 0.0,
    }
    soft = tuple(float(t) for t in cfg.soft_targets)
    off = float(cfg.prime_offset)
    ce = {"output": "softmax", "loss": "cross-entropy"}
    relu = {"hidden": "relu"}
    out = [
        _Variant("baseline", "baseline", base, "sigmoid/sigmoid, N(0,1), squared error, 0/1 targets"),
        _Variant("1", "① fan-in", {**base, "init": "fan-in"}),
        _Variant("2", "② soft targets", {**base, "target_range": soft}),
        _Variant("3", f"③ S'+{off:g}", {**base, "prime_offset": off}, "offset on hidden and output sigmoids"),
        _Variant("4", "④ softmax+CE", {**base, **ce}),
        _Variant("5", "⑤ ReLU", {**base, **relu}),
        _Variant(
            "1-4",
            "①–④",
            {**base, **ce, "init": "fan-in", "target_range": soft, "prime_offset": off},
            "offset on the sigmoid hidden layer only; softmax targets: 0.85 true class, 0.15 shared by the rest",
        ),
        _Variant("5+2", "⑤+②", {**base, **relu, "target_range": soft}),
        _Variant(
            "5+3",
            "⑤+③",
            {**base, **relu, "prime_offset": off},
            "ReLU hidden units have no S': the offset acts on the sigmoid output layer only",
        ),
        _Variant("5+4", "⑤+④", {**base, **relu, **ce}),
    ]
    if cfg.context:
        out.append(
            _Variant(
                "5+1",
                "⑤+① (context)",
                {**base, **relu, "init": "fan-in"},
                "not part of the claim: shows what N(0,1) weights do to a ReLU net",
            )
        )
    return out


def _check(cfg):
    if not cfg.seeds:
        raise ConfigError("remedies: seeds must not be empty")
    if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.hidden_units < 1:
        raise ConfigError("remedies: epochs, batch_size and hidden_units must be >= 1")
    if not 0 < cfg.lr_min < cfg.lr_max or cfg.lr_per_decade < 1:
        raise ConfigError(
            f"remedies: need 0 < lr_min < lr_max and lr_per_decade >= 1, got "
            f"{cfg.lr_min}, {cfg.lr_max}, {cfg.lr_per_decade}"
        )
    if not 0 < cfg.threshold <= 1:
        raise ConfigError(f"remedies: threshold must be in (0, 1], got {cfg.threshold}")
    if len(cfg.soft_targets) != 2:
        raise ConfigError(f"remedies: soft_targets must be two numbers (low, high), got {cfg.soft_targets}")


def _grid(cfg):
    n = max(2, round(math.log10(cfg.lr_max / cfg.lr_min) * cfg.lr_per_decade) + 1)
    return [float(v) for v in np.geomspace(cfg.lr_min, cfg.lr_max, n)]


# -- one training run ------------------------------------------------------------------------
def _fit(data, variant, lr, seed, cfg, diagnostics):
    """Train one network; return a dict of what the comparison needs."""
    Xtr, ytr, Xv, yv, Xte, yte, k = data
    _, tr, h = train(
        Xtr,
        ytr,
        [Xtr.shape[1], cfg.hidden_units, k],
        lr=lr,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        validation=(Xv, yv),
        diagnostics=diagnostics,
        **variant.kwargs,
    )
    # a diverged run's weights are back at its last good epoch; its curve stops there
    val_curve = [float(v) for v in h.history.get("val_accuracy", [])]
    final_val = tr.evaluate(Xv, yv)["accuracy"]
    run = {
        "lr": lr,
        "seed": seed,
        "diverged": bool(h.diverged),
        "val_curve": val_curve,
        "final_val": 0.0 if h.diverged else float(final_val),
        "epochs_to": epochs_to_reach(val_curve, cfg.threshold),
    }
    if diagnostics:
        run["test"] = float(tr.evaluate(Xte, yte)["accuracy"])
        run["stuck"], run["stuck_measure"] = _stuck(h)
        first = next((d for d in h.diagnostics if d), None)
        out = first[-1] if first else None
        # S' of sigmoid output units after the first epoch: near 0 means the outputs are stuck
        run["out_prime"] = out["mean_derivative"] if out is not None and out["unit"] == "sigmoid" else None
    return run


def _stuck(history):
    """Stuck fraction of the hidden layers at the last epoch: saturated (bounded units) or dead (ReLU)."""
    last = next((d for d in reversed(history.diagnostics) if d), None)
    if last is None:
        return None, ""
    vals, measures = [], set()
    for layer in last[:-1]:  # hidden layers only
        if layer["saturated"] is not None:
            vals.append(layer["saturated"])
            measures.add("saturated outputs")
        elif layer["dead"] is not None:
            vals.append(layer["dead"])
            measures.add("dead units")
    return (float(np.mean(vals)) if vals else None), " + ".join(sorted(measures))


def _censored(e, cfg):
    """Epochs to threshold with 'never' counted as one epoch past the budget."""
    return cfg.epochs + 1 if e is None else e


# -- learning-rate selection -------------------------------------------------------------------
def _score(runs, cfg):
    return {
        "val": float(np.mean([r["final_val"] for r in runs])),
        "epochs": float(np.mean([_censored(r["epochs_to"], cfg) for r in runs])),
    }


def _pick(scores, cfg):
    """Best mean validation accuracy; ties (within tie_tol) go to fewer epochs to threshold."""
    best = max(s["val"] for s in scores.values())
    tied = [lr for lr, s in scores.items() if s["val"] >= best - cfg.tie_tol]
    return min(tied, key=lambda lr: (scores[lr]["epochs"], -scores[lr]["val"], lr))


def _select(data, variant, cfg):
    """Choose ``variant``'s learning rate; returns (lr, edge flag, {lr: score})."""
    sel = cfg.seeds[: max(1, cfg.select_seeds)]
    step = 10.0 ** (1.0 / cfg.lr_per_decade)
    scores = {}

    def try_rate(lr):
        scores[lr] = _score([_fit(data, variant, lr, s, cfg, diagnostics=False) for s in sel], cfg)

    for lr in _grid(cfg):
        try_rate(lr)
    widened = 0
    while True:
        lr = _pick(scores, cfg)
        rates = sorted(scores)
        side = "low" if lr == rates[0] else "high" if lr == rates[-1] else ""
        if not side:
            return lr, "", scores
        if widened >= cfg.max_widen:
            return lr, side, scores
        try_rate(rates[0] / step if side == "low" else rates[-1] * step)
        widened += 1


# -- comparisons -------------------------------------------------------------------------------
def _compare(a, b, key, margin):
    """Difference of means ``a - b`` and the spread it must exceed: max(std_a, std_b, margin)."""
    d = a[key]["mean"] - b[key]["mean"]
    return d, max(a[key]["std"], b[key]["std"], margin)


def _helps(row, base, cfg):
    da, sa = _compare(row, base, "test", cfg.acc_margin)
    de, se = _compare(row, base, "epochs", cfg.epoch_margin)
    if da > sa:
        ok, why = True, "higher test accuracy beyond the seed spread"
    elif da < -sa:
        ok, why = False, "lower test accuracy beyond the seed spread"
    elif de < -se:
        ok, why = True, "test accuracy within spread, reaches the threshold sooner beyond the spread"
    else:
        ok, why = False, "test accuracy within spread and no faster to the threshold beyond the spread"
    return ok, da, sa, de, se, why


def _useless(row, relu, cfg):
    da, sa = _compare(row, relu, "test", cfg.acc_margin)
    de, se = _compare(row, relu, "epochs", cfg.epoch_margin)
    ok = abs(da) <= sa and abs(de) <= se
    if ok:
        why = "no change beyond the seed spread"
        if row["censored"] == row["epochs"]["n"] and relu["censored"] == relu["epochs"]["n"]:
            why += " — but neither reaches the threshold: 'useless' here only means neither configuration works"
    else:
        parts = []
        if abs(da) > sa:
            parts.append(f"test accuracy {'up' if da > 0 else 'down'} {abs(da):.3f}")
        if abs(de) > se:
            parts.append(f"epochs to threshold {'down' if de < 0 else 'up'} {abs(de):.1f}")
        why = "adding it changes the result: " + ", ".join(parts)
    return ok, da, sa, de, se, why


def _summary(runs, cfg):
    eps = [r["epochs_to"] for r in runs]
    return {
        "test": spread([r["test"] for r in runs]),
        "epochs": spread([_censored(e, cfg) for e in eps]),
        "censored": sum(e is None for e in eps),
        "stuck": spread([r["stuck"] for r in runs]),
        "out_prime": spread([r["out_prime"] for r in runs]),
        "stuck_measure": next((r["stuck_measure"] for r in runs if r["stuck_measure"]), ""),
        "diverged": sum(r["diverged"] for r in runs),
    }


def _epochs_text(s, cfg):
    if s["censored"] == s["epochs"]["n"]:
        return f"never (> {cfg.epochs})"
    text = pm(s["epochs"], 1)
    return text + (f" ({s['censored']} censored at {cfg.epochs + 1})" if s["censored"] else "")


def _padded_mean(curves, n):
    """Mean per epoch; a curve that stopped early (divergence) holds its last value."""
    rows = []
    for c in curves:
        c = list(c) or [0.0]
        rows.append(c + [c[-1]] * (n - len(c)))
    return np.asarray(rows, dtype=float).mean(axis=0).tolist()


# -- the experiment ----------------------------------------------------------------------------
@experiment("remedies", CLAIM, Config, order=30)
def run(cfg: Config) -> Result:
    _check(cfg)
    data = load_data(cfg.data, seed=cfg.seeds[0], max_train=cfg.max_train)
    variants = _variants(cfg)
    chosen, runs = {}, {}
    with threadpool_limits(limits=1, user_api="blas"):  # tiny GEMMs: one thread is fastest
        for v in variants:
            chosen[v.key] = _select(data, v, cfg)
            runs[v.key] = [_fit(data, v, chosen[v.key][0], s, cfg, diagnostics=True) for s in cfg.seeds]
    summ = {v.key: _summary(runs[v.key], cfg) for v in variants}

    # table 1: each configuration at its own best rate
    rows = []
    for v in variants:
        lr, edge, scores = chosen[v.key]
        s = summ[v.key]
        rows.append(
            {
                "configuration": v.label,
                "chosen lr": lr,
                "lr tried": f"{min(scores):.3g} … {max(scores):.3g} ({len(scores)})",
                "lr lowest tried": min(scores),
                "lr highest tried": max(scores),
                "edge": edge or "no",
                "val accuracy (selection)": scores[lr]["val"],
                "test accuracy": pm(s["test"]),
                f"epochs to val {cfg.threshold:g}": _epochs_text(s, cfg),
                "stuck hidden": pm(s["stuck"]),
                "stuck measure": s["stuck_measure"],
                "output S' after epoch 1": pm(s["out_prime"], 4) if s["out_prime"]["n"] else "n/a (softmax)",
                "diverged": f"{s['diverged']}/{len(cfg.seeds)}",
                "note": v.note,
            }
        )

    # table 2: one verdict per statement
    label = {v.key: v.label for v in variants}
    statements = []
    for k in ("1", "2", "3", "4", "5"):
        ok, da, sa, de, se, why = _helps(summ[k], summ["baseline"], cfg)
        statements.append(
            {
                "statement": f"{label[k]} helps",
                "compared": f"{label[k]} vs baseline",
                "Δ test accuracy": da,
                "± spread (acc)": sa,
                "Δ epochs to threshold": de,
                "± spread (epochs)": se,
                "verdict": "supported" if ok else "not supported",
                "because": why,
            }
        )
    for k in ("5+2", "5+3", "5+4"):
        ok, da, sa, de, se, why = _useless(summ[k], summ["5"], cfg)
        name = label[k].replace("⑤+", "")
        statements.append(
            {
                "statement": f"⑤ makes {name} useless",
                "compared": f"{label[k]} vs ⑤ ReLU",
                "Δ test accuracy": da,
                "± spread (acc)": sa,
                "Δ epochs to threshold": de,
                "± spread (epochs)": se,
                "verdict": "supported" if ok else "not supported",
                "because": why,
            }
        )
    n_ok = sum(st["verdict"] == "supported" for st in statements)
    verdict = "supported" if n_ok == len(statements) else "not supported" if n_ok == 0 else "mixed"
    held = [st["statement"] for st in statements if st["verdict"] == "supported"]
    failed = [st["statement"] for st in statements if st["verdict"] != "supported"]
    reason = (
        f"{n_ok} of {len(statements)} statements hold at each configuration's own best learning rate"
        + (f"; holds: {'; '.join(held)}" if held else "")
        + (f"; does not hold: {'; '.join(failed)}" if failed else "")
    )
    edges = [r["configuration"] for r in rows if r["edge"] != "no"]
    if edges:
        reason += f". Best rate at the grid's edge for: {', '.join(edges)}"

    # plots: single remedies and ReLU combinations drawn separately, so that each stays legible
    n_sel = len(cfg.seeds[: max(1, cfg.select_seeds)])
    groups = [
        ("single remedies", [v for v in variants if not v.key.startswith("5+")]),
        ("ReLU combinations", [variants[0]] + [v for v in variants if v.key.startswith("5")]),
    ]
    plots = []
    for title, group in groups:
        curves = []
        for v in group:
            mean = _padded_mean([r["val_curve"] for r in runs[v.key]], cfg.epochs)
            curves.append(
                Series(label=f"{v.label} (lr {chosen[v.key][0]:.3g})", x=list(range(1, cfg.epochs + 1)), y=mean)
            )
        plots.append(
            Plot(
                title=f"Validation accuracy during training: {title}, each at its own best rate",
                xlabel="epoch",
                ylabel="validation accuracy",
                series=curves,
                hlines=[(cfg.threshold, "threshold")],
                caption=(
                    f"Mean over {len(cfg.seeds)} seeds (spreads in the table; a seed stuck at chance "
                    f"pulls a mean down). {title.capitalize()}."
                ),
            )
        )
    for title, group in groups:
        lr_series = []
        for v in group:
            sc = chosen[v.key][2]
            xs = sorted(sc)
            lr_series.append(
                Series(label=f"{v.label} (chosen {chosen[v.key][0]:.3g})", x=xs, y=[sc[x]["val"] for x in xs])
            )
        lr_series.append(
            Series(
                label="chosen rate",
                x=[chosen[v.key][0] for v in group],
                y=[chosen[v.key][2][chosen[v.key][0]]["val"] for v in group],
                style="points",
            )
        )
        plots.append(
            Plot(
                title=f"Validation accuracy after {cfg.epochs} epochs vs learning rate: {title}",
                xlabel="learning rate",
                logx=True,
                ylabel=f"validation accuracy (mean of {n_sel} seed{'s' if n_sel > 1 else ''})",
                series=lr_series,
                caption="The points mark each configuration's chosen rate; a diverged run counts as 0.",
            )
        )
    labels = [v.label for v in variants]
    plots.insert(
        2,
        Plot(
            title="Test accuracy, each configuration at its own best rate",
            kind="bar",
            ylabel="test accuracy",
            series=[
                Series(
                    label=f"mean ± std over {len(cfg.seeds)} seeds",
                    x=labels,
                    y=[summ[v.key]["test"]["mean"] for v in variants],
                    yerr=[summ[v.key]["test"]["std"] for v in variants],
                    style="bar",
                )
            ],
        ),
    )
    plots.append(
        Plot(
            title="Stuck hidden units at the end of training",
            kind="bar",
            ylabel="fraction",
            series=[
                Series(
                    label="sigmoid: saturated outputs; ReLU: dead units",
                    x=labels,
                    y=[summ[v.key]["stuck"]["mean"] for v in variants],
                    yerr=[summ[v.key]["stuck"]["std"] for v in variants],
                    style="bar",
                )
            ],
        )
    )

    metrics = {}
    for v in variants:  # one line per configuration, machine-readable
        s = summ[v.key]
        metrics[v.label] = {
            "chosen lr": chosen[v.key][0],
            "edge": chosen[v.key][1] or None,
            "test accuracy": s["test"]["mean"],
            "test accuracy std": s["test"]["std"],
            "epochs to threshold": s["epochs"]["mean"],
            "censored": s["censored"],
            "stuck hidden": s["stuck"]["mean"],
        }
    metrics["statements supported"] = f"{n_ok}/{len(statements)}"

    measurement = (
        f"{cfg.data}: MLP in-{cfg.hidden_units}-classes, plain SGD, batch {cfg.batch_size}, {cfg.epochs} epochs, "
        f"float32. Baseline: sigmoid hidden and output, N(0,1) weights, squared error, 0/1 targets; each remedy "
        f"changes only its own ingredient (④ replaces the sigmoid output by softmax). Each configuration's rate "
        f"is chosen on the validation split (20% of the training part; data split of seed {cfg.seeds[0]}) from "
        f"a log grid {cfg.lr_min:g} … {cfg.lr_max:g} with {cfg.lr_per_decade} points per decade, extended by up "
        f"to {cfg.max_widen} step(s) when the best rate is at an end, using seed(s) "
        f"{', '.join(map(str, cfg.seeds[:n_sel]))}: best mean validation accuracy after the budget (ties within "
        f"{cfg.tie_tol:g}: fewer epochs to {cfg.threshold:g}). Then every seed ({', '.join(map(str, cfg.seeds))}) "
        f"is trained at that rate. Reported: test accuracy, epochs until validation accuracy reaches "
        f"{cfg.threshold:g} (never = {cfg.epochs + 1}), stuck hidden units at the end (sigmoid: fraction of "
        f"outputs within 0.05 of 0 or 1 on a probe batch; ReLU: fraction of units silent on the whole probe), and "
        f"the mean S' = z(1 − z) of sigmoid output units after epoch 1 (near 0: stuck outputs). "
        f"'Helps' = higher test accuracy than the baseline by more than max(std, {cfg.acc_margin:g}), or equal "
        f"accuracy within that spread and fewer epochs to threshold by more than max(std, "
        f"{cfg.epoch_margin:g}). '⑤ makes k useless' = adding k to ReLU changes neither test accuracy nor "
        f"epochs to threshold by more than that spread (in either direction)."
    )
    return Result(
        name="remedies",
        claim=CLAIM,
        measurement=measurement,
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": "Each configuration at its own best learning rate", "rows": rows},
            {"title": "Verdict per statement", "rows": statements},
        ],
        plots=plots,
    )
