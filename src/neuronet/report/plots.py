"""Drawing the experiments' plots (``neuronet.experiments.Plot``, objects or dicts) with matplotlib.

Error bars and bands are clipped to the metric's range (``Plot.yrange``, else [0, 1] for a y label
that names an accuracy, fraction or probability and is not a difference); series with
``samples`` get one dot per seed where seeds are few.
"""

from __future__ import annotations

import re

import numpy as np

from .figures import new_figure

__all__ = ["COLORS", "figure_from_plot", "metric_range"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
#: Series with at most this many values per point get one dot per seed (``Series.samples``).
SEED_DOTS_MAX = 20
#: A line with at most this many points gets error bars; a longer one a shaded band.
ERRORBAR_MAX_POINTS = 12

#: A y label naming a quantity in [0, 1]: "accuracy", "test accuracy (mean …)", "fraction of runs …".
_BOUNDED = re.compile(r"^\s*(\w+ )?(accuracy|fraction|probability|proportion|success rate|share)\b", re.IGNORECASE)
#: Words that make it a difference of such quantities, which can be negative.
_DIFFERENCE_WORDS = re.compile(r"\b(difference|change|gain|effect|delta)\b|Δ", re.IGNORECASE)
_MINUS = re.compile(r"−|\s-\s")


def _get(obj, key, default=None):
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


# -- drawing a Plot ------------------------------------------------------------------------------
def _floats(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values or []], dtype=float)


def metric_range(plot) -> tuple[float | None, float | None] | None:
    """The values the plotted metric can take, for clipping error bars; None when unbounded.

    ``Plot.yrange`` (``[low, high]``, either may be None) when the plot gives one; otherwise
    ``(0, 1)`` when the y label starts with an accuracy, fraction, probability, proportion or
    success rate (not a difference of them: "test accuracy: on − off", "accuracy gain") and every
    plotted value lies in [0, 1].
    """
    given = _get(plot, "yrange")
    if given is not None:
        lo, hi = given
        return (None if lo is None else float(lo), None if hi is None else float(hi))
    head, _, tail = str(_get(plot, "ylabel", "") or "").partition(":")  # "test accuracy: on − off" is a difference
    if _get(plot, "kind", "line") == "image" or not _BOUNDED.search(head):
        return None
    if _DIFFERENCE_WORDS.search(head) or _DIFFERENCE_WORDS.search(tail) or _MINUS.search(tail):
        return None
    ys = np.concatenate([_floats(_get(s, "y")) for s in _get(plot, "series", []) or []] or [np.array([])])
    ys = ys[np.isfinite(ys)]
    if ys.size and ys.min() >= 0 and ys.max() <= 1:
        return (0.0, 1.0)
    return None


def _clipped_errors(y: np.ndarray, err, bounds) -> np.ndarray | None:
    """``(2, n)`` lower and upper error lengths, each cut where ``y ∓ err`` would leave ``bounds``."""
    if err is None:
        return None
    e = np.nan_to_num(np.abs(_floats(err)), nan=0.0)
    lower, upper = e.copy(), e.copy()
    if bounds is not None:
        lo, hi = bounds
        if lo is not None:
            lower = np.minimum(lower, np.maximum(y - lo, 0.0))
        if hi is not None:
            upper = np.minimum(upper, np.maximum(hi - y, 0.0))
    ok = np.isfinite(y)
    return np.vstack([np.where(ok, lower, 0.0), np.where(ok, upper, 0.0)])


def _seed_dots(ax, positions, samples, color, label, spread=0.0) -> bool:
    """One dot per seed at each position, when there are few seeds; returns whether it drew."""
    if not samples:
        return False
    counts = [len(v or []) for v in samples]
    if not counts or max(counts) == 0 or max(counts) > SEED_DOTS_MAX:
        return False
    for k, (pos, vals) in enumerate(zip(positions, samples)):
        v = _floats(vals)
        if v.size == 0:
            continue
        offsets = np.linspace(-spread, spread, v.size) if v.size > 1 else np.zeros(1)
        ax.scatter(
            np.full(v.size, pos, dtype=float) + offsets,
            v,
            s=9,
            color=color,
            edgecolors="k",
            linewidths=0.3,
            alpha=0.75,
            zorder=3,
            label=label if k == 0 else "_nolegend_",
        )
    return True


def figure_from_plot(plot):
    """Draw one ``Plot`` (object or dict) as a matplotlib Figure.

    Error bars are clipped to the metric's range (``metric_range``); a series with per-seed
    values (``Series.samples``: one list per x, at most ``SEED_DOTS_MAX`` values) shows them as
    dots; ``Plot.ylim`` fixes the axis when given.
    """
    fig, (ax,) = new_figure(1, panel_size=(6.4, 4.0))
    kind = _get(plot, "kind", "line")
    series = _get(plot, "series", []) or []
    bounds = metric_range(plot)
    dots_label = "one seed each"
    if kind == "image" and _get(plot, "image") is not None:
        img = np.asarray(_get(plot, "image"), dtype=float)
        ax.imshow(
            img, origin="lower", extent=_get(plot, "extent"), aspect="auto", cmap="coolwarm", alpha=0.6, vmin=0, vmax=1
        )
    if kind == "bar":
        cats = list(dict.fromkeys(c for s in series for c in _get(s, "x")))
        width = 0.8 / max(1, len(series))
        for j, s in enumerate(series):
            pos = [cats.index(c) + (j - (len(series) - 1) / 2) * width for c in _get(s, "x")]
            y = _floats(_get(s, "y"))
            color = COLORS[j % len(COLORS)]
            err = _clipped_errors(y, _get(s, "yerr"), bounds)
            ax.bar(pos, y, width=width, label=_get(s, "label"), color=color, yerr=err, capsize=3, alpha=0.85)
            if _seed_dots(ax, pos, _get(s, "samples"), color, dots_label, spread=width * 0.25):
                dots_label = "_nolegend_"
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(
            [str(c) for c in cats],
            rotation=20 if len(cats) > 4 else 0,
            ha="right" if len(cats) > 4 else "center",
            fontsize=8,
        )
    else:
        for j, s in enumerate(series):
            x, y = _floats(_get(s, "x")), _floats(_get(s, "y"))
            color = COLORS[j % len(COLORS)]
            err = _clipped_errors(y, _get(s, "yerr"), bounds)
            points = _get(s, "style", "line") == "points"
            if points:
                ax.scatter(x, y, s=14, label=_get(s, "label"), color=color, edgecolors="k", linewidths=0.3)
            else:
                ax.plot(x, y, label=_get(s, "label"), color=color, marker="o" if len(x) <= 12 else None, markersize=3)
            if err is not None and (points or len(x) <= ERRORBAR_MAX_POINTS):
                ax.errorbar(x, y, yerr=err, fmt="none", ecolor=color, elinewidth=1, capsize=3)
            elif err is not None:
                ax.fill_between(x, y - err[0], y + err[1], color=color, alpha=0.15, linewidth=0)
            if _seed_dots(ax, x, _get(s, "samples"), color, dots_label):
                dots_label = "_nolegend_"
    for y, label in _get(plot, "hlines", []) or []:
        ax.axhline(y, color="k", linestyle="--", linewidth=0.8, label=label)
    for x, label in _get(plot, "vlines", []) or []:
        ax.axvline(x, color="k", linestyle=":", linewidth=0.8, label=label)
    if _get(plot, "logy"):
        ax.set_yscale("log")
    if _get(plot, "logx"):
        ax.set_xscale("log")
    if _get(plot, "ylim") is not None:
        ax.set_ylim(*_get(plot, "ylim"))
    ax.set_title(_get(plot, "title", ""), fontsize=10)
    ax.set_xlabel(_get(plot, "xlabel", ""))
    ax.set_ylabel(_get(plot, "ylabel", ""))
    if series or _get(plot, "hlines") or _get(plot, "vlines"):
        _handles, labels = ax.get_legend_handles_labels()
        if labels:
            ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


# -- the verdict of a statement ------------------------------------------------------------------
