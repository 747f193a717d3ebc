"""The xor-relu experiment for the report: tables, plots and the measurement in words."""

from __future__ import annotations

import numpy as np

from .base import Plot, Series
from .xor_relu_runs import (
    BIASES,
    KINKS,
    arm_label,
    dead_probability,
    init_counts,
    size_counts,
    test_rows,
    wilson,
    xor_data,
)


def _pct(lo_hi) -> str:
    lo, hi = lo_hi
    return f"[{lo:.2f}, {hi:.2f}]"


def _arm_rows(cfg, train, chosen):
    rows = []
    for H in cfg.hidden_sizes:
        for bias in BIASES:
            for kink in KINKS:
                rs = test_rows(train, chosen, cfg, H, bias, kink)
                if not rs:
                    continue
                n = len(rs)
                k = sum(r["success"] for r in rs)
                rows.append(
                    {
                        "network": f"2-{H}-1",
                        "hidden biases": {
                            "zero": "0",
                            "const": f"{cfg.bias_const:g}",
                            "normal": f"N(0, {cfg.bias_std:g}²)",
                        }[bias],
                        "r′(0)": kink,
                        "lr": f"{chosen[H, bias, kink]:g}",
                        "success rate": f"{k / n:.2f}",
                        f"Wilson {cfg.confidence:.0%}": _pct(wilson(k, n, cfg.confidence)),
                        "dead units per net, start": f"{np.mean([r['dead_start'] for r in rs]):.2f}",
                        "dead units per net, end": f"{np.mean([r['dead_end'] for r in rs]):.2f}",
                        "nets with a dead unit at start": f"{np.mean([r['dead_start'] > 0 for r in rs]):.2f}",
                        "theory": f"{1 - (1 - dead_probability(bias, kink, cfg)) ** H:.2f}",
                        "seeds": n,
                    }
                )
    return rows


def _theory_rows(cfg, measured):
    counts = init_counts(measured)
    rows = []
    for bias in BIASES:
        for kink in KINKS:
            d, n = counts.get(f"{bias}/{kink}", (0, 0))
            lo, hi = wilson(d, n, cfg.confidence)
            rows.append(
                {
                    "hidden biases": bias,
                    "r′(0)": kink,
                    "theory": f"{dead_probability(bias, kink, cfg):.4f}",
                    "measured": f"{d / n:.4f}" if n else "n/a",
                    f"Wilson {cfg.confidence:.0%}": f"[{lo:.4f}, {hi:.4f}]",
                    "units": n,
                }
            )
    return rows


def _revival_rows(cfg, train, chosen):
    """What became of units silent at the start (zero biases): revived, and as predicted by W2 < 0."""
    rows = []
    for H in cfg.hidden_sizes:
        for kink in KINKS:
            rs = test_rows(train, chosen, cfg, H, "zero", kink)
            silent = sum(r["silent_start"] for r in rs)
            rows.append(
                {
                    "network": f"2-{H}-1",
                    "r′(0)": kink,
                    "units silent at the start": silent,
                    "revived by the end": sum(r["silent_revived"] for r in rs),
                    "of them with W2 < 0": sum(r["silent_w2_negative"] for r in rs),
                    "revival as predicted (r′(0) = 1: iff W2 < 0)": (
                        f"{sum(r['revival_as_predicted'] for r in rs)}/{silent}" if kink == 1 else "—"
                    ),
                }
            )
    return rows


def _size_rows(cfg, measured):
    counts = size_counts(measured, cfg)
    (dc, n), (dn, _) = (
        counts.get("centred", ([0] * len(cfg.sizes), 0)),
        counts.get("non-negative", ([0] * len(cfg.sizes), 0)),
    )
    rows = []
    for j, m in enumerate(cfg.sizes):
        rows.append(
            {
                "points n": m,
                "centred: theory 2^−n": f"{2.0**-m:.2g}",
                "centred: measured": f"{dc[j] / n:.4f}" if n else "n/a",
                "non-negative: measured": f"{dn[j] / n:.4f}" if n else "n/a",
                "non-negative: limit": "1/4",
                "units": n,
            }
        )
    return rows


def _selection_rows(cfg, train, chosen):
    rows = []
    for (H, bias, kink), lr in chosen.items():
        runs = list(train.get(("select", H), {}).values())
        row = {"arm": arm_label(H, bias, kink), "chosen lr": f"{lr:g}"}
        for g in cfg.lr_grid:
            rs = [r for rr in runs for r in rr if (r["bias"], r["kink"], r["lr"]) == (bias, kink, g)]
            row[f"lr {g:g}"] = f"{np.mean([r['success'] for r in rs]):.2f}" if rs else "n/a"
        row["at grid edge"] = len(cfg.lr_grid) > 1 and lr in (min(cfg.lr_grid), max(cfg.lr_grid))
        rows.append(row)
    return rows


def _success_plot(cfg, train, chosen):
    series = []
    for kink in KINKS:
        x, y, err = [], [], []
        for H in cfg.hidden_sizes:
            for bias in BIASES:
                rs = test_rows(train, chosen, cfg, H, bias, kink)
                if not rs:
                    continue
                k, n = sum(r["success"] for r in rs), len(rs)
                lo, hi = wilson(k, n, cfg.confidence)
                x.append(f"2-{H}-1, bias {bias}")
                y.append(k / n)
                err.append(max(k / n - lo, hi - k / n))
        series.append(Series(label=f"r′(0) = {kink}", x=x, y=y, yerr=err, style="bar"))
    return Plot(
        title="XOR success rate by hidden-bias init and r′(0) convention (each arm at its own lr)",
        kind="bar",
        ylabel="fraction of test seeds with all 4 patterns right",
        series=series,
        hlines=[(cfg.success_min, f"{cfg.success_min:g}: 'most runs'")],
        caption=f"Error bars: the longer side of the Wilson {cfg.confidence:.0%} interval (bounded by [0, 1]).",
    )


def _size_plot(cfg, measured):
    counts = size_counts(measured, cfg)
    series = []
    for kind in ("centred", "non-negative"):
        dead, n = counts.get(kind, ([0] * len(cfg.sizes), 0))
        if n:
            series.append(
                Series(label=f"{kind} inputs (measured)", x=list(cfg.sizes), y=[d / n for d in dead], style="points")
            )
    series.append(Series(label="centred: theory 2^−n", x=list(cfg.sizes), y=[2.0**-m for m in cfg.sizes]))
    return Plot(
        title="How often a ReLU unit (zero bias, He weights) is dead on all n data points",
        xlabel="number of data points n",
        ylabel="fraction of units dead on all points",
        logx=True,
        logy=True,
        series=series,
        hlines=[(0.25, "1/4: XOR at zero bias; the non-negative limit"), (cfg.rare_max, f"{cfg.rare_max:g}: 'rare'")],
        caption="Centred points ~ N(0, I); non-negative points ~ U[0, 1]². A measured 0 is not drawn on the log axis.",
    )


def _hand_set_plot(cfg, measured):
    out = next((d for k, d in measured if k["part"] == "hand-set"), None)
    if not out or "image" not in out:
        return None
    X, Y = xor_data()
    return Plot(
        title="The hand-set 2-2-1 ReLU network: relu(x1 + x2) − 2 relu(x1 + x2 − 1)",
        kind="image",
        xlabel="x1",
        ylabel="x2",
        image=out["image"],
        extent=[-0.5, 1.5, -0.5, 1.5],
        series=[
            Series(label=f"XOR = {c}", x=X[Y[:, 0] == c, 0].tolist(), y=X[Y[:, 0] == c, 1].tolist(), style="points")
            for c in (0, 1)
        ],
        caption=(
            f"Network output clipped to [0, 1] on a {cfg.grid_points}×{cfg.grid_points} grid; the four XOR patterns "
            "on top."
        ),
    )


def present(cfg, measured, train, chosen, checks) -> dict:
    by = {c.name: c for c in checks}
    learn, rare, theory = (
        by["trained ReLU networks learn XOR"],
        by["dead units rare on XOR"],
        by["dead at init matches theory"],
    )
    effects = [c for c in checks if c.statistic.startswith("mean paired difference")]
    measurement = (
        f"The hand-set 2-2-1 ReLU network computes XOR exactly. Trained 2-{cfg.main_hidden}-1 networks with the "
        f"notes' ReLU (r′(0) = 1), He weights and zero biases learn XOR in {learn.value:.0%} of {learn.n} seeds "
        f"(Wilson {_pct(learn.ci)}); {rare.value:.0%} of their hidden units end dead on all four points. "
        f"Dead at initialisation matches theory (1/4 per unit for zero biases and r′(0) = 0; largest deviation "
        f"{theory.value:.4f}); with n centred points the dead fraction falls as 2^−n. Paired effects: "
        + "; ".join(f"{c.name}: {c.value:+.2f} [{c.ci[0]:+.2f}, {c.ci[1]:+.2f}]" for c in effects)
        + "."
    )
    metrics = {c.name: {"value": c.value, "ci": list(c.ci) if c.ci else None, "holds": c.holds} for c in checks}
    metrics["chosen lr"] = {arm_label(*k): v for k, v in chosen.items()}
    plots = [_success_plot(cfg, train, chosen), _size_plot(cfg, measured)]
    image = _hand_set_plot(cfg, measured)
    if image is not None:
        plots.append(image)
    return {
        "measurement": measurement,
        "metrics": metrics,
        "tables": [
            {
                "title": "XOR success and dead units per arm (test seeds, each arm at its chosen lr)",
                "rows": _arm_rows(cfg, train, chosen),
            },
            {
                "title": "Dead on all four XOR inputs at initialisation: theory vs fresh draws",
                "rows": _theory_rows(cfg, measured),
            },
            {
                "title": "Units silent at the start (zero biases): what r′(0) does to them",
                "rows": _revival_rows(cfg, train, chosen),
            },
            {
                "title": "Dead on all n data points (zero bias): centred vs non-negative inputs",
                "rows": _size_rows(cfg, measured),
            },
            {
                "title": "Learning-rate selection: success rate on the selection seeds",
                "rows": _selection_rows(cfg, train, chosen),
            },
        ],
        "plots": plots,
    }
