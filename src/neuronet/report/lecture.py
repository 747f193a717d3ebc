"""The lecture report: every experiment's claim, measurement, verdict, tables and plots.

Experiments describe plots as data (``neuronet.experiments.Plot``); this module
draws them, so matplotlib stays inside ``neuronet.report``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import write_json_atomic, write_text_atomic
from .figures import new_figure
from .html import Section, default_meta, render_html

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
VERDICT_TEXT = {
    "supported": "Supported by the data",
    "not supported": "Not supported by the data",
    "mixed": "Mixed: partly supported",
}


def _get(obj, key, default=None):
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def figure_from_plot(plot):
    """Draw one ``Plot`` (object or dict) as a matplotlib Figure."""
    fig, (ax,) = new_figure(1, panel_size=(6.4, 4.0))
    kind = _get(plot, "kind", "line")
    series = _get(plot, "series", []) or []
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
            y = [np.nan if v is None else v for v in _get(s, "y")]
            err = _get(s, "yerr")
            ax.bar(
                pos,
                y,
                width=width,
                label=_get(s, "label"),
                color=COLORS[j % len(COLORS)],
                yerr=None if err is None else [0 if e is None else e for e in err],
                capsize=3,
            )
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(
            [str(c) for c in cats],
            rotation=20 if len(cats) > 4 else 0,
            ha="right" if len(cats) > 4 else "center",
            fontsize=8,
        )
    else:
        for j, s in enumerate(series):
            x = np.asarray([np.nan if v is None else v for v in _get(s, "x")], dtype=float)
            y = np.asarray([np.nan if v is None else v for v in _get(s, "y")], dtype=float)
            color = COLORS[j % len(COLORS)]
            if _get(s, "style", "line") == "points":
                ax.scatter(x, y, s=14, label=_get(s, "label"), color=color, edgecolors="k", linewidths=0.3)
            else:
                ax.plot(x, y, label=_get(s, "label"), color=color, marker="o" if len(x) <= 12 else None, markersize=3)
                err = _get(s, "yerr")
                if err is not None:
                    e = np.asarray([np.nan if v is None else v for v in err], dtype=float)
                    ax.fill_between(x, y - e, y + e, color=color, alpha=0.15, linewidth=0)
    for y, label in _get(plot, "hlines", []) or []:
        ax.axhline(y, color="k", linestyle="--", linewidth=0.8, label=label)
    for x, label in _get(plot, "vlines", []) or []:
        ax.axvline(x, color="k", linestyle=":", linewidth=0.8, label=label)
    if _get(plot, "logy"):
        ax.set_yscale("log")
    if _get(plot, "logx"):
        ax.set_xscale("log")
    ax.set_title(_get(plot, "title", ""), fontsize=10)
    ax.set_xlabel(_get(plot, "xlabel", ""))
    ax.set_ylabel(_get(plot, "ylabel", ""))
    if series or _get(plot, "hlines") or _get(plot, "vlines"):
        _handles, labels = ax.get_legend_handles_labels()
        if labels:
            ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


def lecture_sections(results: dict) -> list[Section]:
    """Overview table, then one section per experiment (results as ``Result`` objects or dicts)."""
    overview = []
    for name, r in results.items():
        overview.append(
            {
                "experiment": name,
                "claim": _get(r, "claim"),
                "verdict": _get(r, "verdict"),
                "seconds": round(float(_get(r, "seconds", 0.0)), 1),
            }
        )
    sections = [
        Section(
            "Overview",
            text=(
                "Each experiment below tests one claim of the lecture on real data, over several seeds, and says "
                "whether the measurement supports it. A claim the data does not support is reported as such."
            ),
            table=overview,
        )
    ]
    for i, (name, r) in enumerate(results.items(), 1):
        verdict = _get(r, "verdict")
        line = f"{VERDICT_TEXT.get(verdict, verdict)}: {_get(r, 'reason')}"
        tables = _get(r, "tables", []) or []
        first = tables[0] if tables else None
        figures = [(_get(p, "caption") or _get(p, "title"), figure_from_plot(p)) for p in _get(r, "plots", []) or []]
        seeds = _get(r, "seeds", [])
        text = [
            f"Claim: “{_get(r, 'claim')}”",
            f"Measurement: {_get(r, 'measurement')}",
            f"Seeds: {', '.join(map(str, seeds)) or 'none'}; time {float(_get(r, 'seconds', 0)):.1f} s.",
        ]
        sections.append(
            Section(
                f"{i}. {name}",
                text=text,
                table=first["rows"] if first else None,
                table_caption=first["title"] if first else None,
                figures=figures,
                note=line if verdict == "supported" else None,
                warning=None if verdict == "supported" else line,
            )
        )
        for t in tables[1:]:
            sections.append(Section(f"{i}. {name}: {t['title']}", table=t["rows"]))
    return sections


def write_lecture_report(
    out_dir,
    results: dict,
    *,
    meta: dict | None = None,
    title: str = "Variations on neural networks: the lecture's claims, measured",
) -> Path:
    """Write ``out_dir/index.html`` (one offline file) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render_html(title, lecture_sections(results), {**default_meta(), **(meta or {})})
    return write_text_atomic(out / "index.html", html)


__all__ = ["figure_from_plot", "lecture_sections", "write_json_atomic", "write_lecture_report"]
