"""Presentation of the Hopfield experiment: tables and plots as data (``experiments.hopfield``)."""

from __future__ import annotations

import numpy as np

from ..bio.hopfield import CAPACITY_ALPHA
from ..stats import paired_diff
from .base import Plot, Series, spread
from .hopfield_runs import critical_load, retrieval_overlap

__all__ = ["present_hopfield"]

_STORES = (
    ("hopfield", "Hopfield (distributed)"),
    ("grandmother", "grandmother cells (1 neuron / memory)"),
    ("redundant", "redundant localist store"),
)


def _pm(values, digits=3):
    s = spread(values)
    return "n/a" if s["mean"] is None else f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def _join(labels):
    return ", ".join(labels) if labels else "no fraction"


def _winner(a, b, names):
    """Which of two paired arms recalls more at one dead fraction: the 95% t CI of ``a − b``."""
    if len(a) < 2:
        return "n/a", ""
    r = paired_diff(a, b)
    text = f"{r.mean:+.3f} [{r.ci[0]:+.3f}, {r.ci[1]:+.3f}]"
    if r.sd == 0 and r.mean == 0:
        return "tie", text
    if r.ci[0] > 0:
        return names[0], text
    if r.ci[1] < 0:
        return names[1], text
    return "neither (CI covers 0)", text


def _capacity_tables(cfg, summary, fit):
    fit_, means, ses = fit
    rows = []
    for (n, s), mean, se in zip(summary.items(), means, ses):
        rows.append(
            {
                "N": n,
                "networks": len(s["alpha_c"]),
                "α_c(N) (mean ± SE)": f"{mean:.4f} ± {se:.4f}",
                "fit": f"{float(fit_.predict([n])[0]):.4f}",
                "recalled at first load": f"{min(s['first']):.2f}",
                "recalled at last load": f"{max(s['last']):.2f}",
                "states given up": s["gave_up"],
                "recalled but still moving": s["unsettled"],
            }
        )
    fit_rows = [
        {
            "α∞": f"{fit_.alpha_inf:.4f}",
            "95% CI": f"[{fit_.ci[0]:.4f}, {fit_.ci[1]:.4f}]",
            "a": f"{fit_.a:.3f} ± {fit_.se_a:.3f}",
            "residual sd": f"{fit_.residual_sd:.2g}",
            "theory (AGS 1985)": f"{critical_load()[0]:.4f}",
        }
    ]
    n_max = max(summary)
    s = summary[n_max]
    theory_rows = []
    for a, frac, m in zip(s["loads"], s["success"], s["m_recalled"]):
        t = retrieval_overlap(a)
        theory_rows.append(
            {
                "P/N": f"{a:.3f}",
                "recalled": f"{frac:.3f}",
                "m of recalled states": "n/a" if m is None else f"{m:.4f}",
                "m theory": "no retrieval state" if t is None else f"{t:.4f}",
                "judged": a <= cfg.theory_max_load + 1e-9,
            }
        )
    return [
        {"title": "Capacity: mean load at which a stored pattern stops being recalled", "rows": rows},
        {"title": "Finite-size extrapolation α(N) = α∞ + a·N^(−½) (weighted by the SE over seeds)", "rows": fit_rows},
        {"title": f"Overlap of the recalled states against the theory, N = {n_max}", "rows": theory_rows},
    ]


def _capacity_plots(cfg, summary, fit):
    fit_, means, ses = fit
    sizes = list(summary)
    x = [n**-0.5 for n in sizes]
    line_x = np.linspace(0.0, max(x) * 1.05, 30)
    alpha_c, m_c = critical_load()
    theory_a = alpha_c * (1.0 - np.geomspace(1.0, 1e-4, 80))  # dense near α_c, where m(α) turns steeply
    shown = 10  # plot a load's recalled overlap only when at least this many states were recalled there
    return [
        Plot(
            title="Recall from a stored pattern vs load",
            xlabel="P / N",
            ylabel="fraction recalled",
            series=[Series(f"N = {n}", s["loads"], s["success"]) for n, s in summary.items()],
            vlines=[(CAPACITY_ALPHA, "0.138")],
            caption=f"Start at a stored pattern, relax asynchronously; recalled = final overlap ≥ "
            f"{cfg.success_overlap:g}. {cfg.capacity_starts} patterns × {len(cfg.seeds)} networks per point.",
        ),
        Plot(
            title="Finite-size extrapolation of the capacity",
            xlabel="N^(−½)",
            ylabel="α_c(N)",
            series=[
                Series("measured (± 1.96 SE)", x, means, [1.96 * se for se in ses]),
                Series(f"fit: α∞ = {fit_.alpha_inf:.4f}", line_x.tolist(), (fit_.alpha_inf + fit_.a * line_x).tolist()),
            ],
            hlines=[(CAPACITY_ALPHA, "0.138 (AGS 1985)")],
            caption="α_c(N): mean load at which a stored pattern stops being recalled (area under its recall "
            "curve). The fit is extrapolated to N → ∞ at N^(−½) = 0.",
        ),
        Plot(
            title="Overlap of the recalled state vs load, and the replica-symmetric theory",
            xlabel="P / N",
            ylabel="m",
            series=[
                *[Series(f"N = {n}", s["loads"], s["m_recalled"], style="points") for n, s in summary.items()],
                Series("theory m(α) (AGS 1985)", theory_a.tolist(), [retrieval_overlap(a) for a in theory_a]),
            ],
            vlines=[(alpha_c, f"α_c = {alpha_c:.4f}")],
            hlines=[(m_c, f"m(α_c) = {m_c:.3f}")],
            caption=f"Mean overlap of the states that ended recalled (m ≥ {cfg.success_overlap:g}), at loads where at "
            f"least {shown} were. The theory's retrieval state disappears at α_c; at finite N some patterns are "
            "still recalled beyond it.",
        ),
    ]


def _cue_part(cfg, measured):
    runs = [d for k, d in measured if k["part"] == "cue"]
    labels = list(runs[0]) if runs else []
    rows = []
    for label in labels:
        known, flip = (float(v) for v in label.split("/"))
        rows.append(
            {
                "bits given": f"{known:.0%}",
                "of those wrong": f"{flip:.0%}",
                "cue overlap": _pm([r[label]["cue_overlap"] for r in runs], 2),
                "key lookup": _pm([r[label]["key"] for r in runs], 2),
                "nearest-neighbour search": _pm([r[label]["search"] for r in runs], 2),
                "Hopfield recalled": _pm([r[label]["hopfield"] for r in runs], 2),
                "Hopfield overlap": _pm([r[label]["hopfield_overlap"] for r in runs], 3),
            }
        )
    names = (
        ("key", "key lookup (CPU)"),
        ("search", "nearest-neighbour search (CPU program)"),
        ("hopfield", "Hopfield"),
    )
    plot = Plot(
        title="Recall from partial, corrupted cues",
        kind="bar",
        ylabel="fraction of memories recalled",
        series=[
            Series(
                name,
                [f"{float(lb.split('/')[0]):.0%} given, {float(lb.split('/')[1]):.0%} wrong" for lb in labels],
                [float(np.mean([r[lb][key] for r in runs])) for lb in labels],
                style="bar",
            )
            for key, name in names
        ],
        caption=f"N = {cfg.cue_n}, P = {round(cfg.cue_load * cfg.cue_n)}; mean over {len(runs)} seeds.",
    )
    title = "Partial, corrupted cues: key lookup, nearest-neighbour search and Hopfield recall (mean ± sd over seeds)"
    return {"title": title, "rows": rows}, plot


def _death_part(cfg, measured):
    runs = [d for k, d in measured if k["part"] == "death"]
    P, copies = runs[0]["n_patterns"], runs[0]["copies"]
    rows = []
    for i, f in enumerate(cfg.death_fractions):
        col = {k: [d[k][i] for d in runs] for k, _ in _STORES}
        win_gm, diff_gm = _winner(col["hopfield"], col["grandmother"], ("Hopfield", "grandmother cells"))
        win_red, diff_red = _winner(col["hopfield"], col["redundant"], ("Hopfield", "redundant store"))
        rows.append(
            {
                "dead": f"{f:.0%}",
                "Hopfield recalled": _pm(col["hopfield"], 2),
                "Hopfield overlap": _pm([d["hopfield_overlap"][i] for d in runs], 3),
                "grandmother (1/memory)": _pm(col["grandmother"], 2),
                f"redundant ({copies}/memory)": _pm(col["redundant"], 2),
                "Hopfield − grandmother [95% CI]": diff_gm,
                "more than grandmother": win_gm,
                "Hopfield − redundant [95% CI]": diff_red,
                "more than redundant": win_red,
            }
        )
    f_star = 1.0 - (P / cfg.death_n) / CAPACITY_ALPHA
    plot = Plot(
        title="Neuron death: memories recalled vs fraction of neurons dead",
        xlabel="fraction of neurons dead",
        ylabel="fraction of memories recalled",
        series=[
            Series(
                name if key != "redundant" else f"{name} ({copies} neurons / memory)",
                list(cfg.death_fractions),
                [float(np.mean([d[key][i] for d in runs])) for i in range(len(cfg.death_fractions))],
                [float(np.std([d[key][i] for d in runs])) for i in range(len(cfg.death_fractions))],
            )
            for key, name in _STORES
        ],
        vlines=[(f_star, "survivors' load = 0.138")],
        caption=f"N = {cfg.death_n}, P = {P}; the same dead neurons in every store. Hopfield memories are cued on "
        f"the survivors with {cfg.death_cue_flip:.0%} of their bits flipped; a localist memory lives while one of "
        "its neurons does.",
    )
    title = f"Neuron death (N = {cfg.death_n}, P = {P}; mean ± sd over {len(runs)} seeds, paired CI over seeds)"
    return {"title": title, "rows": rows}, plot, f_star


def present_hopfield(cfg, measured, checks, summary, fit):
    """``Design.present`` for ``experiments.hopfield``."""
    fit_ = fit[0]
    cue_table, cue_plot = _cue_part(cfg, measured)
    death_table, death_plot, f_star = _death_part(cfg, measured)
    label = f"{cfg.cue_judged[0]:g}/{cfg.cue_judged[1]:g}"
    cues = [d[label] for k, d in measured if k["part"] == "cue"]
    judged = {m: float(np.mean([c[m] for c in cues])) for m in ("hopfield", "key", "search")}
    rows = death_table["rows"]
    red_wins = [r["dead"] for r in rows if r["more than redundant"] == "redundant store"]
    gm_wins = [r["dead"] for r in rows if r["more than grandmother"] == "grandmother cells"]
    hop_wins = [r["dead"] for r in rows if r["more than grandmother"] == "Hopfield"]
    measurement = (
        f"The mean load at which a stored pattern stops being recalled falls from "
        f"{float(np.mean(summary[min(summary)]['alpha_c'])):.3f} (N = {min(summary)}) to "
        f"{float(np.mean(summary[max(summary)]['alpha_c'])):.3f} (N = {max(summary)}) and extrapolates to "
        f"α∞ = {fit_.alpha_inf:.4f} [{fit_.ci[0]:.4f}, {fit_.ci[1]:.4f}] against 0.1379 from the replica theory. "
        f"From a cue with {cfg.cue_judged[0]:.0%} of the bits given and {cfg.cue_judged[1]:.0%} of those wrong the "
        f"network recalls {judged['hopfield']:.0%} of the memories, a key lookup {judged['key']:.0%} and a "
        f"nearest-neighbour search program {judged['search']:.0%}. Under neuron death it recalls more than grandmother "
        f"cells at {_join(hop_wins)} dead (they recall more at {_join(gm_wins)}); a localist store with as many "
        f"neurons per memory recalls more than it at {_join(red_wins)} dead and never less (the survivors' load "
        f"passes 0.138 at {f_star:.0%} dead)."
    )
    metrics = {c.name: c.value for c in checks}
    metrics.update({f"alpha_c(N = {n})": float(np.mean(s["alpha_c"])) for n, s in summary.items()})
    metrics.update({"alpha_inf": fit_.alpha_inf, "alpha_inf CI": list(fit_.ci), "theory alpha_c": critical_load()[0]})
    return {
        "measurement": measurement,
        "metrics": metrics,
        "tables": [*_capacity_tables(cfg, summary, fit), cue_table, death_table],
        "plots": [*_capacity_plots(cfg, summary, fit), death_plot, cue_plot],
    }
