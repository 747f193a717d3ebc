"""Figures of a training run, built on matplotlib's object API.

This module is the only place in neuronet that imports matplotlib.  Every figure is a
``matplotlib.figure.Figure`` with its own ``FigureCanvasAgg``: pyplot is never imported,
so no global figure manager, backend or rcParams are touched and everything runs headless.

Each ``*_figure`` function takes the dict of ``History.to_dict()`` (a ``History`` works
too), skips any panel whose data are missing or all None, and returns ``None`` when it
has nothing at all to draw (no epochs, or ``diagnostics`` off), so that a caller can
write a note in the figure's place instead of showing an empty frame.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "PNG_SIGNATURE",
    "activation_histograms_figure",
    "figure_to_data_uri",
    "figure_to_png_bytes",
    "gradient_figure",
    "layer_label",
    "loss_accuracy_figure",
    "new_figure",
    "saturation_figure",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
START_COLOR = "#1f77b4"
END_COLOR = "#d62728"
#: Lines get markers when there are at most this many epochs (a 1-epoch run is then a dot).
MARKER_MAX_POINTS = 30


# -- building blocks ---------------------------------------------------------------------------
def new_figure(
    n_panels: int, *, ncols: int | None = None, panel_size: tuple[float, float] = (4.6, 3.3)
) -> tuple[Figure, list]:
    """A ``Figure`` with an Agg canvas and ``n_panels`` axes on a grid.

    Parameters
    ----------
    n_panels : int
        Number of axes wanted (>= 1).
    ncols : int, optional
        Columns of the grid; default ``min(n_panels, 3)``.
    panel_size : (width, height)
        Size of one panel in inches.

    Returns
    -------
    fig : Figure
    axes : list of Axes
        Exactly ``n_panels`` axes, row by row; unused grid cells are removed.
    """
    if n_panels < 1:
        raise ValueError(f"n_panels must be >= 1, got {n_panels}")
    ncols = min(n_panels, 3) if ncols is None else max(1, int(ncols))
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    grid = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in grid[n_panels:]:
        fig.delaxes(ax)
    return fig, list(grid[:n_panels])


def figure_to_png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """Render ``fig`` to PNG bytes with the Agg renderer.

    The PNG carries no ``Software`` text chunk, so it holds no version string and no URL.
    """
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def figure_to_data_uri(fig: Figure, dpi: int = 100) -> str:
    """``data:image/png;base64,...`` for embedding ``fig`` in a self-contained HTML page."""
    return "data:image/png;base64," + base64.b64encode(figure_to_png_bytes(fig, dpi)).decode("ascii")


# -- reading a history dict --------------------------------------------------------------------
def _as_dict(history) -> dict:
    if history is None:
        return {}
    if hasattr(history, "to_dict"):
        return history.to_dict()
    return history


def _series(values) -> np.ndarray:
    """float64 array with NaN where a value is None or not a number (matplotlib breaks lines there)."""
    out = np.full(len(values or ()), np.nan)
    for i, v in enumerate(values or ()):
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
            out[i] = float(v)
    return out


def _has_data(a: np.ndarray) -> bool:
    return bool(np.isfinite(a).any())


def _epochs(history: dict, n: int) -> np.ndarray:
    """1-based epoch numbers for ``n`` points (``History.epoch`` counts from 0)."""
    ep = history.get("epoch")
    if ep is not None and len(ep) == n:
        e = _series(ep)
        if np.isfinite(e).all():
            return e + 1
    return np.arange(1, n + 1, dtype=float)


def layer_label(index: int, unit: str | None = None, *, output: bool = False) -> str:
    """``layer 0 (sigmoid)``: layer number, unit name, ``output`` for the last layer.

    Layers are numbered from 0 on the input side, as the diagnostics (``layer``), the
    parameter names (``W0``, ``b0``), ``neuronet inspect`` and the epoch line (``sat L0``) do.
    """
    inner = [s for s in (unit, "output" if output else None) if s]
    return f"layer {index}" + (f" ({', '.join(inner)})" if inner else "")


def _layer_series(history: dict, key: str) -> dict[int, tuple[str, np.ndarray]]:
    """``{layer: (label, values per epoch)}`` for a diagnostics key, layers with data only."""
    diags = history.get("diagnostics") or []
    n = len(diags)
    units: dict[int, str | None] = {}
    values: dict[int, np.ndarray] = {}
    for e, per_epoch in enumerate(diags):
        for j, d in enumerate(per_epoch or ()):
            if not isinstance(d, dict):
                continue
            i = d.get("layer", j)
            units.setdefault(i, d.get("unit"))
            v = d.get(key)
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                values.setdefault(i, np.full(n, np.nan))[e] = float(v)
    if not units:
        return {}
    last = max(units)
    return {
        i: (layer_label(i, units[i], output=(i == last and last > 0)), values[i])
        for i in sorted(values)
        if _has_data(values[i])
    }


def _plot(ax, x, y, label, color=None):
    marker = "o" if len(x) <= MARKER_MAX_POINTS else None
    ax.plot(x, y, label=label, color=color, marker=marker, markersize=3.5, linewidth=1.5)


def _finish(ax, title, ylabel, legend=True):
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def _log_if_spans_decade(ax, *arrays):
    """Log y-scale when all finite values are > 0 and max/min exceeds 10."""
    v = np.concatenate([a[np.isfinite(a)] for a in arrays])
    if v.size and v.min() > 0 and v.max() / v.min() > 10:
        ax.set_yscale("log")


def _log_if_positive(ax, *arrays):
    """Log y-scale when any finite value is > 0 (zeros and negatives are then left out)."""
    v = np.concatenate([a[np.isfinite(a)] for a in arrays])
    if (v > 0).any():
        ax.set_yscale("log")


def metric_panels(h: dict) -> list:
    """``[(name, [(key, values), ...]), ...]`` for "loss" and "accuracy": the recorded training and
    validation series of each, a panel only where there is data."""
    logs = h.get("history") or {}
    panels = []
    for name, keys in (("loss", ("loss", "val_loss")), ("accuracy", ("accuracy", "val_accuracy"))):
        curves = [(k, _series(logs.get(k))) for k in keys]
        curves = [(k, a) for k, a in curves if _has_data(a)]
        if curves:
            panels.append((name, curves))
    return panels


def draw_metric_panel(ax, h: dict, name: str, curves) -> None:
    """One loss or accuracy panel: training and validation lines; a log axis for a loss spanning a decade."""
    for key, y in curves:
        val = key.startswith("val_")
        _plot(ax, _epochs(h, len(y)), y, "validation" if val else "training", VAL_COLOR if val else TRAIN_COLOR)
    if name == "loss":
        _log_if_spans_decade(ax, *(y for _, y in curves))
    else:
        ax.set_ylim(-0.02, 1.02)
    _finish(ax, name, name)


# -- the figures -------------------------------------------------------------------------------
def loss_accuracy_figure(history) -> Figure | None:
    """Training and validation loss, and accuracy when recorded, against the epoch.

    The loss axis is logarithmic when the losses span more than one decade.  Returns
    None when no loss or accuracy was recorded.
    """
    h = _as_dict(history)
    panels = metric_panels(h)
    if not panels:
        return None
    fig, axes = new_figure(len(panels), ncols=2)
    for ax, (name, curves) in zip(axes, panels):
        draw_metric_panel(ax, h, name, curves)
    if h.get("diverged"):
        axes[0].set_title("loss (training diverged)", color=END_COLOR)
    return fig


def saturation_figure(history) -> Figure | None:
    """Per-layer saturated fraction, mean derivative ``f'(a)``, dead-ReLU fraction and softmax confidence by epoch.

    One line per layer that has the value: ``saturated`` is None for unbounded units and
    for a softmax output (its near-0 probabilities are confident answers, not stuck
    units), ``dead`` for units that cannot die, ``confidence`` (mean largest probability)
    for all but a softmax output.  Returns None without diagnostics.
    """
    h = _as_dict(history)
    specs = [
        ("saturated", "saturated units", "fraction of outputs near a bound", (-0.02, 1.02)),
        ("mean_derivative", "mean derivative", "mean f'(a)", None),
        ("dead", "dead ReLU units", "fraction of units never active", (-0.02, 1.02)),
        ("confidence", "softmax output confidence", "mean largest probability", (-0.02, 1.02)),
    ]
    panels = [(spec, _layer_series(h, spec[0])) for spec in specs]
    panels = [(spec, series) for spec, series in panels if series]
    if not panels:
        return None
    fig, axes = new_figure(len(panels))
    for ax, ((_key, title, ylabel, ylim), series) in zip(axes, panels):
        for label, y in series.values():
            _plot(ax, _epochs(h, len(y)), y, label)
        if ylim is not None:
            ax.set_ylim(*ylim)
        _finish(ax, title, ylabel)
    return fig


def gradient_figure(history) -> Figure | None:
    """Per-layer gradient norm ``||dL/dW||`` and update ratio ``||W_end - W_start|| / ||W_start||``.

    Both on a log y-axis (where the values are positive).  Returns None without diagnostics.
    """
    h = _as_dict(history)
    specs = [
        ("grad_norm", "gradient norm", "||dL/dW|| (probe batch)"),
        ("update_ratio", "update / weight ratio", "||ΔW|| / ||W|| per epoch"),
    ]
    panels = [(spec, _layer_series(h, spec[0])) for spec in specs]
    panels = [(spec, series) for spec, series in panels if series]
    if not panels:
        return None
    fig, axes = new_figure(len(panels), ncols=2)
    for ax, ((_key, title, ylabel), series) in zip(axes, panels):
        for label, y in series.values():
            _plot(ax, _epochs(h, len(y)), y, label)
        _log_if_positive(ax, *(y for _, y in series.values()))
        _finish(ax, title, ylabel)
    return fig


def activation_histograms_figure(
    start, end, names=None, *, bins: int = 40, labels: tuple[str, str] = ("start of training", "end of training")
) -> Figure | None:
    """For each layer, histograms of its outputs at the start and at the end of training.

    Parameters
    ----------
    start, end : list of ndarray, or None
        One array per layer (any shape, e.g. ``(B, n_out)`` from ``Network.activations``);
        either may be None to show only the other.  Non-finite values are left out.
    names : list of str, optional
        One title per layer; default ``layer 0``, ``layer 1``, ...
    bins : int
        Bins per histogram, shared by the two histograms of a layer.
    labels : (str, str)
        Legend entries for ``start`` and ``end``.

    Returns
    -------
    Figure with one panel per layer, or None when both lists are None or empty.
    """
    groups = [g for g in (start, end) if g is not None]
    if not groups or not any(len(g) for g in groups):
        return None
    n = len(groups[0])
    if any(len(g) != n for g in groups):
        raise ValueError(f"activations: start has {len(start)} layers but end has {len(end)}")
    if names is None:
        names = [layer_label(i) for i in range(n)]
    elif len(names) != n:
        raise ValueError(f"activations: {len(names)} layer names for {n} layers")
    fig, axes = new_figure(n, panel_size=(4.2, 3.0))
    for i, ax in enumerate(axes):
        parts = []
        for acts, label, color in ((start, labels[0], START_COLOR), (end, labels[1], END_COLOR)):
            if acts is not None:
                a = np.asarray(acts[i], dtype=np.float64).ravel()
                parts.append((a[np.isfinite(a)], label, color))
        both = np.concatenate([a for a, _, _ in parts])
        ax.set_title(str(names[i]))
        ax.set_xlabel("output z")
        ax.set_ylabel("count")
        if both.size == 0:
            ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
            continue
        lo, hi = float(both.min()), float(both.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1)
        for a, label, color in parts:
            ax.hist(a, bins=edges, histtype="stepfilled", alpha=0.35, color=color)
            ax.hist(a, bins=edges, histtype="step", linewidth=1.3, color=color, label=label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig
