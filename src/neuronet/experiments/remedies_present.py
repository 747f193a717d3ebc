"""The remedies experiment for the report: its tables, plots and the measurement in words."""

from __future__ import annotations

import numpy as np

from ..stats import mean_ci, paired_diff
from .base import Plot, Series
from .remedies_runs import CIRCLED, REMEDIES, arms

_TEXT = {"1": "① fan-in init", "2": "② soft targets", "3": "③ S′ + 0.1", "4": "④ cross-entropy"}
_INIT = {"fan-in": "fan-in N(0, 1/n)", "he": "He N(0, 2/n)", "normal:1": "N(0, 1)"}


def _ok(data) -> bool:
    return not isinstance(data.get("diverged"), str)


def _by_arm(measured) -> dict:
    """``{arm key: [(seed, data), ...]}`` in run order, failed runs left out."""
    out = {a.key: [] for a in arms()}
    for key, data in measured:
        if _ok(data):
            out[key["arm"]].append((key["seed"], data))
    return out


def _mean(runs, name):
    vals = [d[name] for _, d in runs if d.get(name) is not None]
    return float(np.mean(vals)) if vals else None


def _ci_text(mean, ci, digits=3) -> str:
    if mean is None:
        return "n/a"
    if ci is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def _effect(by, on, off):
    """Mean paired difference ``on − off`` of test accuracy over the seeds both have, or None."""
    a = {s: d["test_accuracy"] for s, d in by[on]}
    b = {s: d["test_accuracy"] for s, d in by[off]}
    seeds = [s for s in a if s in b]
    if len(seeds) < 2:
        return None
    return paired_diff([a[s] for s in seeds], [b[s] for s in seeds])


def _tried_text(tried) -> str:
    return ", ".join(f"{lr:.3g}: {acc:.2f}" for lr, acc, _ in tried)


def _arm_rows(cfg, by):
    rows = []
    for arm in arms():
        runs = by[arm.key]
        first = runs[0][1] if runs else {}
        acc = [d["test_accuracy"] for _, d in runs]
        m = mean_ci(acc, lo=0.0, hi=1.0) if acc else None
        hidden = _mean(runs, "hidden_stuck")
        rows.append(
            {
                "arm": arm.label,
                "learning rate": f"{first['lr']:.3g}" if first else "n/a",
                "validation accuracy by rate (selection)": _tried_text(first.get("tried", [])),
                "rate at grid edge": first.get("edge") or "no",
                "test accuracy [95% CI]": _ci_text(m.mean, m.ci) if m else "n/a",
                "n": len(acc),
                "diverged": sum(bool(d["diverged"]) for _, d in runs),
                "images with a stuck output (end)": _ci_text(_mean(runs, "stuck_outputs"), None, 4),
                f"forced-stuck output still stuck after {cfg.unstick_epochs} epoch(s)": _ci_text(
                    _mean(runs, "still_stuck"), None, 3
                ),
                "mean output S′": _ci_text(_mean(runs, "output_prime"), None, 4),
                ("hidden saturated" if arm.row == "sigmoid" else "hidden dead"): _ci_text(hidden, None, 3),
            }
        )
    return rows


def _effect_rows(cfg, by):
    rows = []
    for k in ("1", *REMEDIES):
        if k == "1":
            sig, relu = _effect(by, "sigmoid/base", "sigmoid/no-1"), None
        else:
            sig, relu = _effect(by, f"sigmoid/{k}", "sigmoid/base"), _effect(by, f"relu/{k}", "relu/base")
        rows.append(
            {
                "remedy": _TEXT[k],
                "effect with sigmoid hidden [95% CI]": _ci_text(sig.mean, sig.ci) if sig else "n/a",
                "effect with ReLU hidden [95% CI]": _ci_text(relu.mean, relu.ci) if relu else "not run",
                "n (sigmoid / ReLU)": f"{sig.n if sig else 0} / {relu.n if relu else '-'}",
            }
        )
    return rows


def _check_rows(checks):
    return [
        {
            "check": c.name,
            "statistic": c.statistic,
            "value [CI]": _ci_text(None if np.isnan(c.value) else c.value, c.ci, 4),
            "rule": c.threshold,
            "n": c.n,
            "holds": c.holds,
            "could fail by": c.could_fail,
            "note": c.note,
        }
        for c in checks
    ]


def _effect_plot(cfg, by):
    cats = [_TEXT[k] for k in ("1", *REMEDIES)]
    series = []
    for row, unit in (("sigmoid", "sigmoid"), ("relu", "ReLU")):
        ys, errs = [], []
        for k in ("1", *REMEDIES):
            if k == "1":
                e = _effect(by, "sigmoid/base", "sigmoid/no-1") if row == "sigmoid" else None
            else:
                e = _effect(by, f"{row}/{k}", f"{row}/base")
            ys.append(None if e is None else e.mean)
            errs.append(None if e is None else (e.ci[1] - e.ci[0]) / 2)
        series.append(Series(label=f"with {unit} hidden units", x=cats, y=ys, yerr=errs, style="bar"))
    m = cfg.useless_margin
    return Plot(
        title="Effect of each remedy on test accuracy, by hidden unit (paired over seeds)",
        kind="bar",
        ylabel="test accuracy: remedy on − off",
        series=series,
        hlines=[(m, f"±{m:g}: 'useless' margin (TOST)"), (-m, "_nolegend_")],
        caption=(
            "Bars: mean paired difference; error bars: 95% t CI. ⑤ makes a remedy useless when its sigmoid bar "
            "clears its ReLU bar (interaction) and the ReLU bar's 90% CI sits inside the margin. ① is switched "
            "off in the sigmoid row only."
        ),
    )


def _accuracy_plot(cfg, by):
    cats = ["base", "N(0,1) init (no ①)", *[f"+ {CIRCLED[k]}" for k in REMEDIES]]
    series = []
    for row, unit in (("sigmoid", "sigmoid hidden"), ("relu", "ReLU hidden")):
        ys, errs = [], []
        for remedy in ("base", "no-1", *REMEDIES):
            runs = by.get(f"{row}/{remedy}", [])
            acc = [d["test_accuracy"] for _, d in runs]
            m = mean_ci(acc, lo=0.0, hi=1.0) if len(acc) > 1 else None
            ys.append(None if m is None else m.mean)
            errs.append(None if m is None else min(m.mean - m.ci[0], m.ci[1] - m.mean))
        series.append(Series(label=unit, x=cats, y=ys, yerr=errs, style="bar"))
    return Plot(
        title="Test accuracy of every arm, each at its own learning rate",
        kind="bar",
        ylabel="test accuracy",
        series=series,
        hlines=[(cfg.train_threshold, f"'trains' above {cfg.train_threshold:g}")],
        caption="Mean over test seeds; error bars: 95% t CI clipped to [0, 1] (the shorter side shown).",
    )


def _curve_plot(cfg, by, row):
    series = []
    for arm in arms():
        if arm.row != row or not by[arm.key]:
            continue
        curves = [d["val_curve"] for _, d in by[arm.key] if d.get("val_curve")]
        n = max((len(c) for c in curves), default=0)
        padded = np.array([c + [c[-1]] * (n - len(c)) for c in curves], dtype=float)  # a diverged run holds
        lr = by[arm.key][0][1]["lr"]
        series.append(
            Series(label=f"{arm.label} (lr {lr:.3g})", x=list(range(1, n + 1)), y=padded.mean(axis=0).tolist())
        )
    unit = "sigmoid" if row == "sigmoid" else "ReLU"
    return Plot(
        title=f"Validation accuracy during training, {unit} hidden units",
        xlabel="epoch",
        ylabel="validation accuracy (mean over test seeds)",
        series=series,
    )


def _measurement(cfg, by, checks) -> str:
    sizes = f"in–{cfg.hidden_units}×{cfg.hidden_layers}–classes"

    def acc(key):
        v = _mean(by[key], "test_accuracy")
        return "n/a" if v is None else f"{v:.2f}"

    held = sum(c.holds for c in checks)
    sig_init, relu_init = (_INIT.get(i, i) for i in (cfg.sigmoid_init, cfg.relu_init))
    few = (
        f" With {len(cfg.seeds)} seeds most confidence intervals are too wide to decide: a smoke test, not a verdict."
        if len(cfg.seeds) < 10
        else ""
    )
    return (
        f"{cfg.data}: MLP {sizes} with sigmoid outputs, squared error, 0/1 targets, plain SGD (batch "
        f"{cfg.batch_size}, {cfg.epochs} epochs); sigmoid hidden units with {sig_init} init and ReLU with "
        f"{relu_init} init, each remedy switched on alone in each row, every arm at its own learning rate "
        f"(chosen on the validation splits of seeds {', '.join(map(str, cfg.select_seeds))}), "
        f"{len(cfg.seeds)} paired test seeds ({cfg.n_init_seeds} for the N(0, 1) arm). "
        f"Mean test accuracy: sigmoid {acc('sigmoid/base')} (N(0,1) {acc('sigmoid/no-1')}, "
        + ", ".join(f"+{CIRCLED[k]} {acc(f'sigmoid/{k}')}" for k in REMEDIES)
        + f"); ReLU {acc('relu/base')} ("
        + ", ".join(f"+{CIRCLED[k]} {acc(f'relu/{k}')}" for k in REMEDIES)
        + f"). {held} of {len(checks)} checks hold."
        + few
    )


def present(cfg, measured, checks) -> dict:
    by = _by_arm(measured)
    metrics = {}
    for arm in arms():
        runs = by[arm.key]
        metrics[arm.label] = {
            "learning rate": runs[0][1]["lr"] if runs else None,
            "test accuracy": _mean(runs, "test_accuracy"),
            "images with a stuck output": _mean(runs, "stuck_outputs"),
            "forced-stuck output still stuck": _mean(runs, "still_stuck"),
            "n": len(runs),
        }
    metrics["checks"] = {c.name: {"value": c.value, "ci": c.ci, "holds": c.holds} for c in checks}
    return {
        "measurement": _measurement(cfg, by, checks),
        "metrics": metrics,
        "tables": [
            {"title": "Effect of each remedy on test accuracy, by hidden unit", "rows": _effect_rows(cfg, by)},
            {"title": "Checks", "rows": _check_rows(checks)},
            {"title": "Every arm at its own learning rate", "rows": _arm_rows(cfg, by)},
        ],
        "plots": [
            _effect_plot(cfg, by),
            _accuracy_plot(cfg, by),
            _curve_plot(cfg, by, "sigmoid"),
            _curve_plot(cfg, by, "relu"),
        ],
    }
