"""A sweep's summary: the grid as a table of mean ± spread over seeds, and plots of one metric.

``write_sweep_report`` turns grid points with their trial records (plain dicts, as
``neuronet.sweep`` stores them) into ``summary.csv`` and a self-contained
``summary.html``.  Nothing here reads the clock, so the same records give the same
bytes; the page's date is that of the last finished trial.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from markupsafe import Markup

from ..files import write_text_atomic
from .html import Section, format_value, render_html
from .lecture import figure_from_plot

__all__ = ["aggregate", "metric_names", "summary_rows", "sweep_plots", "write_sweep_report"]

#: at most this many lines per plot (one per combination of the other keys); beyond, one pooled line
MAX_SERIES = 6
#: at most this many metric columns in the page's table (every metric is in summary.csv)
MAX_COLUMNS = 8


def _stats(values) -> dict:
    """Mean, sample standard deviation (ddof=1; 0 for one value) and count of the numbers given."""
    xs = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if not xs:
        return {"mean": None, "std": None, "n": 0}
    mean = math.fsum(xs) / len(xs)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return {"mean": mean, "std": std, "n": len(xs)}


def _value(record, metric):
    if metric == "seconds":
        return (record.get("timing") or {}).get("seconds")
    return record["metrics"].get(metric)


def metric_names(groups, first=None) -> list:
    """Every metric in the records (first-seen order), ``first`` leading and ``seconds`` last."""
    names = []
    for g in groups:
        for r in g["records"]:
            for k in r["metrics"]:
                if k not in names:
                    names.append(k)
    if first in names:
        names.remove(first)
        names.insert(0, first)
    return names + ["seconds"]


def aggregate(groups, metrics) -> list[dict]:
    """For each grid point: ``{"point", "trials", metric: {"mean", "std", "n"}}``."""
    return [
        {
            "point": g["point"],
            "trials": len(g["records"]),
            **{m: _stats(_value(r, m) for r in g["records"]) for m in metrics},
        }
        for g in groups
    ]


def _cell(v) -> str:
    """A grid value as text: lists joined with commas (``128,64``), booleans as true/false."""
    if isinstance(v, (list, tuple)):
        return ",".join(_cell(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _pm(stats) -> str:
    if stats["mean"] is None:
        return "n/a"
    if stats["n"] < 2:
        return format_value(stats["mean"])
    return f"{format_value(stats['mean'])} ± {format_value(stats['std'])}"


def summary_rows(agg, keys, metrics) -> list[dict]:
    """Table rows for the page: the grid values, the trial count, then ``mean ± std`` per metric."""
    return [
        {**{k: _cell(a["point"][k]) for k in keys}, "trials": a["trials"], **{m: _pm(a[m]) for m in metrics}}
        for a in agg
    ]


def summary_csv(agg, keys, metrics) -> str:
    """One row per grid point: keys, ``trials``, then ``<metric>_mean`` and ``<metric>_std`` columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*keys, "trials", *[f"{m}_{s}" for m in metrics for s in ("mean", "std")]])
    for a in agg:
        nums = []
        for m in metrics:
            nums += ["" if a[m][s] is None else repr(a[m][s]) for s in ("mean", "std")]
        w.writerow([*[_cell(a["point"][k]) for k in keys], a["trials"], *nums])
    return buf.getvalue()


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def sweep_plots(groups, keys, metric, seeds_label="seeds") -> list[dict]:
    """One plot (as ``Plot`` data) of ``metric`` against each swept key.

    Each line holds the other keys fixed (one line per combination, up to
    ``MAX_SERIES``; beyond that one line pooled over them), with the standard
    deviation over seeds as a band (numeric keys) or error bars (categorical keys).
    """
    plots = []
    for key in keys:
        others = [k for k in keys if k != key]
        values = list(dict.fromkeys(_cell(g["point"][key]) for g in groups))
        raw = {_cell(g["point"][key]): g["point"][key] for g in groups}
        combos = list(dict.fromkeys(tuple(_cell(g["point"][k]) for k in others) for g in groups))
        pooled = len(combos) > MAX_SERIES
        lines = [None] if pooled else combos
        numeric = _numeric(raw.values())
        series = []
        for combo in lines:
            ys, errs = [], []
            for v in values:
                vals = [
                    _value(r, metric)
                    for g in groups
                    if _cell(g["point"][key]) == v
                    and (combo is None or tuple(_cell(g["point"][k]) for k in others) == combo)
                    for r in g["records"]
                ]
                s = _stats(vals)
                ys.append(s["mean"])
                errs.append(s["std"])
            if combo is None:
                label = f"mean over {', '.join(others)} and {seeds_label}"
            else:
                label = ", ".join(f"{k}={c}" for k, c in zip(others, combo)) or f"mean over {seeds_label}"
            x = [raw[v] for v in values] if numeric else values
            series.append({"label": label, "x": x, "y": ys, "yerr": errs, "style": "line" if numeric else "bar"})
        positive = numeric and all(raw[v] > 0 for v in values)
        logx = bool(positive and len(values) > 2 and max(raw.values()) / min(raw.values()) >= 10)
        plots.append(
            {
                "title": f"{metric} against {key}",
                "xlabel": key,
                "ylabel": metric,
                "series": series,
                "kind": "line" if numeric else "bar",
                "logx": logx,
                "caption": f"{metric} (mean ± standard deviation over {seeds_label}) against {key}.",
            }
        )
    return plots


def write_sweep_report(
    out_dir, *, experiment, keys, groups, metric, seeds, spec_text="", title=None
) -> tuple[Path, Path]:
    """Write ``out_dir/summary.csv`` and ``out_dir/summary.html``; return both paths.

    Parameters
    ----------
    out_dir : path
    experiment : str
        What each trial ran ("train" or an experiment's name).
    keys : list of str
        The swept keys, in the spec's order.
    groups : list of {"point": dict, "records": list of dict}
        Every grid point in order, with the trial records done so far (any number,
        including none).
    metric : str
        The metric plotted against each key (and listed first).
    seeds : list of int
    spec_text : str
        The spec's TOML, shown at the end of the page.
    """
    out = Path(out_dir)
    metrics = metric_names(groups, first=metric)
    agg = aggregate(groups, metrics)
    csv_path = write_text_atomic(out / "summary.csv", summary_csv(agg, keys, metrics))

    records = [r for g in groups for r in g["records"]]
    total = len(groups) * len(seeds)
    meta = {
        "experiment": experiment,
        "trials done": f"{len(records)} of {total}",
        "grid points": len(groups),
        "seeds": ", ".join(map(str, seeds)),
        "metric": metric,
    }
    if records:
        first = records[0].get("versions") or {}
        meta.update({k: v for k, v in first.items() if k in ("neuronet", "numpy", "scikit-learn", "python")})
        hosts = sorted({r.get("host", "?") for r in records})
        meta["hosts"] = ", ".join(hosts) if len(hosts) <= 3 else f"{len(hosts)} hosts"
        meta["last trial finished (UTC)"] = max((r.get("timing") or {}).get("finished", "") for r in records)

    swept = ", ".join(keys) if keys else "nothing (one configuration)"
    shown = metrics if len(metrics) <= MAX_COLUMNS + 1 else metrics[:MAX_COLUMNS] + ["seconds"]
    more = f" {len(metrics) - len(shown)} more metrics are in summary.csv." if len(shown) < len(metrics) else ""
    sections = [
        Section(
            "Results",
            text=(
                f"Each row is one grid point of {experiment!r}; each cell is the mean ± sample standard deviation "
                f"over its trials (one per seed). Swept: {swept}. The columns after {metric!r} are other numbers "
                f"the trials recorded; 'seconds' is the wall time of one trial.{more}"
            ),
            table=summary_rows(agg, keys, shown) or None,
            warning=(
                f"{total - len(records)} of {total} trials are not done yet; rerun the sweep to finish them."
                if len(records) < total
                else None
            ),
        )
    ]
    if not any(metric in r["metrics"] for r in records) and records:
        sections[
            0
        ].note = (
            f"No trial recorded the metric {metric!r}; recorded: {', '.join(m for m in metrics if m != 'seconds')}."
        )
    for plot in sweep_plots(groups, keys, metric) if records else []:
        sections.append(Section(plot["title"], figures=[(plot["caption"], figure_from_plot(plot))]))
    sections.append(
        Section(
            "Spec",
            text=Markup("<pre>{}</pre>").format(spec_text.strip()) if spec_text else "",
            note=None if spec_text else "No spec text was given.",
        )
    )
    page = render_html(title or f"neuronet sweep: {experiment}", sections, meta)
    html_path = write_text_atomic(out / "summary.html", page)
    return csv_path, html_path
