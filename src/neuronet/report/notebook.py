"""Figures for a notebook: a training history on one figure, Hopfield recall as images, a LIF raster.

Each function returns a ``matplotlib.figure.Figure`` with an Agg canvas (never pyplot), which
Jupyter shows inline.  ``History.plot()`` and ``Hopfield.plot_recall()`` delegate here, importing
this module only when called, so that ``train`` and ``bio`` stay free of matplotlib (the two
delegates are the documented ``ignore_imports`` of the layers contract in ``pyproject.toml``).

The training panels draw the same lines as the HTML report's figures: they are built with
``figures``' panel helpers (series from a history dict, one line per layer, ``layer_label``).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..errors import ConfigError
from .figures import (
    _as_dict,
    _epochs,
    _finish,
    _layer_series,
    _log_if_positive,
    _plot,
    draw_metric_panel,
    metric_panels,
    new_figure,
)

__all__ = ["history_figure", "hopfield_recall_figure", "lif_raster_figure"]


# -- training ----------------------------------------------------------------------------------
def history_figure(history) -> Figure:
    """Loss, accuracy, and per layer the saturated fraction and gradient norm ``||dL/dW||``, by epoch.

    Parameters
    ----------
    history : History or dict
        A ``History`` or its ``to_dict()``.

    Returns
    -------
    Figure
        Up to four panels, in this order: ``loss`` (training and validation lines), ``accuracy``
        (when recorded), ``saturated units`` (one line per bounded layer) and ``gradient norm``
        (one line per layer, log scale); a panel without data is left out.  With no epochs
        recorded, one panel that says so.
    """
    h = _as_dict(history)
    panels = [("metric", name, curves) for name, curves in metric_panels(h)]
    for key, title, ylabel in (
        ("saturated", "saturated units", "fraction of outputs near a bound"),
        ("grad_norm", "gradient norm", "||dL/dW|| (probe batch)"),
    ):
        series = _layer_series(h, key)
        if series:
            panels.append(("layers", title, (key, ylabel, series)))
    if not panels:
        fig, (ax,) = new_figure(1)
        ax.text(0.5, 0.5, "no epochs recorded yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    fig, axes = new_figure(len(panels), ncols=2)
    for ax, (kind, title, data) in zip(axes, panels):
        if kind == "metric":
            draw_metric_panel(ax, h, title, data)
        else:
            key, ylabel, series = data
            for label, y in series.values():
                _plot(ax, _epochs(h, len(y)), y, label)
            if key == "saturated":
                ax.set_ylim(-0.02, 1.02)
            else:
                _log_if_positive(ax, *(y for _, y in series.values()))
            _finish(ax, title, ylabel)
    if h.get("diverged"):
        axes[0].set_title("loss (training diverged)", color="#d62728")
    return fig


# -- Hopfield recall ---------------------------------------------------------------------------
def _image_shape(n: int, shape) -> tuple[int, int]:
    """``shape`` checked against ``n`` pixels; default a square when ``n`` is one, else one row."""
    if shape is None:
        side = math.isqrt(n)
        return (side, side) if side * side == n else (1, n)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or shape[0] * shape[1] != n:
        raise ConfigError(f"shape {shape} does not hold {n} neurons")
    return shape


def hopfield_recall_figure(cues, recalled, stored=None, *, shape=None, alive=None, max_rows=8) -> Figure:
    """Cue → recalled state (→ stored pattern) as images, one row per memory.

    Parameters
    ----------
    cues, recalled : array (K, N) or (N,) of ±1
        The start states and where recall ended (a ``Recall`` works for ``recalled``).
    stored : array (K, N) or (N,), optional
        The pattern each cue should recall: a third column, and each title gives the
        overlap ``m = (1/N) ξ · s`` with it.
    shape : (rows, cols), optional
        Image shape of one state, e.g. ``(8, 8)`` for the digits; default square when ``N``
        is a square number, else one row.
    alive : bool array (N_original,), optional
        After neuron death (``Hopfield.remove_neurons``) the states have one entry per survivor:
        they are put back on the original grid, dead neurons drawn grey (value 0).
    max_rows : int
        Show at most this many memories.

    Returns
    -------
    Figure
        ``K × 2`` or ``K × 3`` panels, row by row; each panel's one image holds the state
        reshaped to ``shape`` (+1 black, −1 white, 0 grey).
    """
    columns = [("cue", cues), ("recalled", getattr(recalled, "states", recalled))]
    if stored is not None:
        columns.append(("stored", stored))
    columns = [(name, np.atleast_2d(np.asarray(a, dtype=np.float64))) for name, a in columns]
    k, n = columns[0][1].shape
    for name, a in columns:
        if a.shape != (k, n):
            raise ConfigError(f"{name}: expected shape ({k}, {n}) like the cues, got {a.shape}")
    if alive is not None:
        alive = np.asarray(alive, dtype=bool)
        if int(alive.sum()) != n:
            raise ConfigError(f"alive marks {int(alive.sum())} survivors, but the states have {n} neurons")
    shape = _image_shape(n if alive is None else alive.size, shape)
    k = min(k, max(1, int(max_rows)))
    ref = columns[2][1] if stored is not None else None
    fig, axes = new_figure(k * len(columns), ncols=len(columns), panel_size=(1.9, 2.0))
    for r in range(k):
        for c, (name, states) in enumerate(columns):
            ax = axes[r * len(columns) + c]
            s = states[r]
            full = s if alive is None else np.zeros(alive.size)
            if alive is not None:
                full[alive] = s
            ax.imshow(full.reshape(shape), cmap="gray_r", vmin=-1.0, vmax=1.0, interpolation="nearest")
            title = name
            if ref is not None and name != "stored":
                title += f"  m={float(ref[r] @ s) / n:.2f}"
            ax.set_title(title, fontsize="small")
            ax.set_xticks([])
            ax.set_yticks([])
    return fig


# -- leaky integrate-and-fire ------------------------------------------------------------------
def lif_raster_figure(record, *, v_thresh_mv=None, max_traces=5) -> Figure:
    """Spike raster of a ``LIFRecord`` and, when voltages were recorded, their traces below it.

    Parameters
    ----------
    record : LIFRecord
        What ``LIFPopulation.run`` returned (``record_v=[...]`` for the traces).
    v_thresh_mv : float, optional
        Draw the threshold as a dashed line on the traces (e.g. ``pop.v_thresh_mv``).
    max_traces : int
        Draw at most this many of the recorded neurons' voltages.

    Returns
    -------
    Figure
        Panel 1: one tick per spike (time in ms, neuron index), a single line whose points are
        the record's spikes.  Panel 2 (with traces): membrane voltage in mV against time,
        one line per recorded neuron.
    """
    traces = record.v_trace_mv is not None and record.v_trace_mv.shape[1] > 0
    fig, axes = new_figure(2 if traces else 1, ncols=1, panel_size=(8.0, 2.8))
    t0, t1 = record.t_start_ms, record.t_start_ms + record.duration_ms
    ax = axes[0]
    n = record.spike_counts.size
    ax.plot(record.spike_time_ms, record.spike_neuron, linestyle="none", marker="|", markersize=4, color="black")
    if t1 > t0:
        ax.set_xlim(t0, t1)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_title(f"{record.spike_neuron.size} spikes from {n} neurons")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    if traces:
        ax = axes[1]
        for j in range(min(record.v_trace_mv.shape[1], max(1, int(max_traces)))):
            ax.plot(record.v_trace_t_ms, record.v_trace_mv[:, j], linewidth=1.0, label=f"neuron {record.recorded[j]}")
        if v_thresh_mv is not None:
            ax.axhline(v_thresh_mv, color="grey", linestyle="--", linewidth=1.0, label="threshold")
        if t1 > t0:
            ax.set_xlim(t0, t1)
        ax.set_title("membrane voltage")
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("v (mV)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper right")
    return fig
