"""Presentation of the ``dale`` experiment: the measurement in words, metrics, tables and plots."""

from __future__ import annotations

import numpy as np

from ..stats import mean_ci, paired_diff
from .base import Plot, Series
from .dale import FAILED, cells, paired_values, rates, smallest_within, sweep, test_runs, values


def _mean(xs):
    v = [x for x in xs if x is not None]
    return float(np.mean(v)) if v else None


def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ci(r, digits=3):
    """``+0.012 [+0.004, +0.020]`` for a ``PairedDiff``."""
    if r is None:
        return "n/a"
    return f"{r.mean:+.{digits}f} [{r.ci[0]:+.{digits}f}, {r.ci[1]:+.{digits}f}]"


def _acc(xs):
    v = [x for x in xs if x is not None]
    if len(v) < 2:
        return _fmt(_mean(v))
    r = mean_ci(v, lo=0.0, hi=1.0)
    return f"{r.mean:.3f} [{r.ci[0]:.3f}, {r.ci[1]:.3f}]"


def _lo(check):
    return float("nan") if check.ci is None else check.ci[0]


def _hi(check):
    return float("nan") if check.ci is None else check.ci[1]


def _first(w):
    return f"first at width {w}" if w is not None else "at no width tested"


def _unbalanced(cfg, measured, chosen):
    """Balanced − unbalanced Dale start at the base width, paired by seed (None with fewer than 2 pairs)."""
    bal = values(test_runs(cfg, measured, chosen, "dale", cfg.base_width), "test")
    unb = values(test_runs(cfg, measured, chosen, "dale-unbalanced", cfg.base_width), "test")
    a, b = paired_values(bal, unb)
    return paired_diff(a, b) if len(a) >= 2 else None


def _sign_rows(cfg, measured, chosen):
    rows = []
    for arm, w in cells(cfg):
        runs = test_runs(cfg, measured, chosen, arm, w)
        row = {
            "network": arm,
            "width": w,
            "lr": f"{chosen[(arm, w)]['lr']:g}",
            "E/I index at init": _fmt(_mean(values(runs, "balance0")), 2),
            "E/I index at end": _fmt(_mean(values(runs, "balance_end")), 2),
        }
        if arm == "free":
            row["ended with the other sign"] = _fmt(_mean(values(runs, "signs", "flipped")))
            row["ever crossed zero"] = _fmt(_mean(values(runs, "signs", "ever_crossed")))
            row["crossings per weight"] = _fmt(_mean(values(runs, "signs", "crossings_per_weight")), 2)
        else:
            row["held at 0 at the end"] = _fmt(_mean(values(runs, "signs", "pinned_end")))
            row["ever held at 0"] = _fmt(_mean(values(runs, "signs", "ever_pinned")))
            row["regrew after 0"] = _fmt(_mean(values(runs, "signs", "regrown")))
            row["blocked crossings per weight"] = _fmt(_mean(values(runs, "signs", "blocked_per_weight")), 2)
        rows.append(row)
    return rows


def _failed(xs):
    v = [x for x in xs if x is not None]
    return f"{sum(x < FAILED for x in v)}/{len(v)}"


def _sweep_rows(cfg, rows, chosen):
    out = []
    for r in rows:
        w = r["width"]
        out.append(
            {
                "width": w,
                "free (lr)": f"{_acc(r['free'])} ({chosen[('free', w)]['lr']:g})",
                "Dale (lr)": f"{_acc(r['dale'])} ({chosen[('dale', w)]['lr']:g})",
                f"runs below {FAILED:g}, free / Dale": f"{_failed(r['free'])} / {_failed(r['dale'])}",
                "Dale − free, same width": _ci(r["same"]),
                f"within {cfg.margin:g}": "yes" if r["within_same"] else "no",
                f"Dale − free at width {cfg.base_width}": _ci(r["base"]),
                f"within {cfg.margin:g} of it": "yes" if r["within_base"] else "no",
            }
        )
    return out


def _lr_rows(cfg, chosen):
    rows = []
    for (arm, w), c in chosen.items():
        row = {"network": arm, "width": w}
        for lr in rates(cfg):
            row[f"lr {lr:g}"] = _fmt(c["scores"][lr])
        row["chosen"] = f"{c['lr']:g}" + (" (grid edge)" if c["edge"] else "")
        rows.append(row)
    return rows


def _half_width(xs):
    v = [x for x in xs if x is not None]
    if len(v) < 2:
        return 0.0
    r = mean_ci(v, lo=0.0, hi=1.0)
    return (r.ci[1] - r.ci[0]) / 2


def _plots(cfg, measured, chosen, rows):
    widths = [r["width"] for r in rows]
    acc = Plot(
        title=f"Test accuracy against width, free vs Dale ({cfg.data})",
        xlabel="units per hidden layer",
        ylabel="test accuracy",
        series=[
            Series(
                label=label,
                x=widths,
                y=[_mean(r[arm]) for r in rows],
                yerr=[_half_width(r[arm]) for r in rows],
            )
            for arm, label in (("free", "free weights"), ("dale", "Dale, balanced E/I start"))
        ],
        caption=f"Mean over {len(cfg.seeds)} test seeds, error bars: 95% t CI of the mean; every network at its own "
        "learning rate (chosen on separate seeds).",
    )
    unb = values(test_runs(cfg, measured, chosen, "dale-unbalanced", cfg.base_width), "test")
    if any(v is not None for v in unb):
        acc.series.append(
            Series("Dale, |w|·sign start", [cfg.base_width], [_mean(unb)], [_half_width(unb)], style="points")
        )
    gap = Plot(
        title="Dale − free test accuracy at equal width (paired by seed)",
        xlabel="units per hidden layer",
        ylabel="Dale − free",
        series=[
            Series(
                label="mean paired difference (95% CI)",
                x=[r["width"] for r in rows if r["same"] is not None],
                y=[r["same"].mean for r in rows if r["same"] is not None],
                yerr=[(r["same"].ci[1] - r["same"].ci[0]) / 2 for r in rows if r["same"] is not None],
                style="points",
            )
        ],
        hlines=[(0.0, "no difference"), (-cfg.margin, f"margin −{cfg.margin:g}")],
    )
    signs = Plot(
        title="Sign changes: free weights that switched, Dale weights held at 0",
        xlabel="units per hidden layer",
        ylabel="fraction of hidden-unit output weights",
        series=[
            Series(label, widths, [_mean(values(test_runs(cfg, measured, chosen, arm, w), "signs", f)) for w in widths])
            for arm, f, label in (
                ("free", "flipped", "free: ended with the other sign"),
                ("free", "ever_crossed", "free: ever crossed zero"),
                ("dale", "pinned_end", "Dale: held at 0 at the end"),
                ("dale", "ever_pinned", "Dale: ever held at 0"),
            )
        ],
    )
    return [acc, gap, signs]


def present(cfg, measured, checks, chosen) -> dict:
    by = {c.name: c for c in checks}
    rows = sweep(cfg, measured, chosen)
    w_same, w_base = smallest_within(rows, "same"), smallest_within(rows, "base")
    gap, flip, pin = (
        by["free beats Dale at equal width"],
        by["free weights change sign"],
        by["the Dale constraint binds"],
    )
    unb = _unbalanced(cfg, measured, chosen)
    base = cfg.base_width
    measurement = (
        f"{cfg.data}: ReLU networks [n_in, w, w, k], w ∈ {{{', '.join(map(str, cfg.widths))}}}, free weights vs "
        f"Dale's principle ({cfg.excitatory_fraction:.0%} excitatory hidden units, balanced E/I start after Cornford "
        f"et al. 2021, pixel weights free), {cfg.optimizer}, {cfg.epochs} epochs, each network at its own rate, "
        f"{len(cfg.seeds)} test seeds. Averaged over the widths, free − Dale test accuracy is {gap.value:+.3f} "
        f"(95% CI {_lo(gap):+.3f} … {_hi(gap):+.3f}); the Dale network is within {cfg.margin:g} of the free one of "
        f"the same width {_first(w_same)}, and of the free width-{base} network {_first(w_base)}. Training left "
        f"{flip.value:.1%} of the free networks' "
        f"hidden-unit output weights with the opposite sign to their start, and {pin.value:.1%} of the Dale "
        "networks' held at 0 by the sign constraint."
    )
    metrics = {
        "free − Dale test accuracy (mean over widths)": gap.value,
        "free weights that switched sign": flip.value,
        "Dale weights held at 0 at the end": pin.value,
        f"smallest width with Dale within {cfg.margin:g} of free (same width)": w_same,
        f"smallest width with Dale within {cfg.margin:g} of free at width {base}": w_base,
        f"balanced − |w|·sign Dale start, width {base}": None if unb is None else unb.mean,
    }
    tables = [
        {
            "title": "Width sweep: test accuracy (mean [95% CI]) and Dale − free paired by seed",
            "rows": _sweep_rows(cfg, rows, chosen),
        },
        {
            "title": "Signs during training, and the E/I balance of the drive (0 = balanced, +1 = excitation only)",
            "rows": _sign_rows(cfg, measured, chosen),
        },
        {
            "title": f"Dale start at width {base}: balanced E/I vs the engine's |w|·sign (test accuracy, paired)",
            "rows": [{"balanced − |w|·sign": _ci(unb), "n": 0 if unb is None else unb.n}],
        },
        {
            "title": "Learning-rate selection: mean final validation accuracy on the selection seeds",
            "rows": _lr_rows(cfg, chosen),
        },
    ]
    return {
        "measurement": measurement,
        "metrics": metrics,
        "tables": tables,
        "plots": _plots(cfg, measured, chosen, rows),
    }
