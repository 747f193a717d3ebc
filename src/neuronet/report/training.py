"""The training report: a run's history, configuration, per-layer diagnostics and figures, as one HTML page."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..files import to_jsonable, write_json_atomic, write_text_atomic
from .figures import (
    activation_histograms_figure,
    gradient_figure,
    layer_label,
    loss_accuracy_figure,
    saturation_figure,
)
from .html import Section, _is_number, default_meta, format_value, render_html

__all__ = ["config_rows", "diagnostics_rows", "summary_rows", "training_sections", "write_training_report"]

HISTORY_FORMAT = "neuronet-training-history"
HISTORY_FORMAT_VERSION = 1


# -- a training run ----------------------------------------------------------------------------
def _as_dict(history) -> dict:
    return history.to_dict() if hasattr(history, "to_dict") else dict(history or {})


def _last(values):
    """The last value of a per-epoch list, or None."""
    return values[-1] if values else None


def summary_rows(history) -> list[dict]:
    """``[{"quantity": ..., "value": ...}]``: epochs, final and best metrics, time, stop reason, divergence.

    Rows whose metric was not recorded (accuracy for regression, validation without a
    split) are left out.
    """
    h = _as_dict(history)
    logs = h.get("history") or {}
    epochs = h.get("epoch") or []
    rows = [{"quantity": "epochs trained", "value": len(epochs)}]
    for key, label in (
        ("loss", "final training loss"),
        ("accuracy", "final training accuracy"),
        ("val_loss", "final validation loss"),
        ("val_accuracy", "final validation accuracy"),
    ):
        v = _last(logs.get(key))
        if v is not None:
            rows.append({"quantity": label, "value": v})
    val = [(v, i) for i, v in enumerate(logs.get("val_loss") or []) if _is_number(v) and math.isfinite(v)]
    if val:
        best, i = min(val)
        epoch = epochs[i] + 1 if i < len(epochs) and _is_number(epochs[i]) else i + 1
        rows.append({"quantity": "best validation loss", "value": best})
        rows.append({"quantity": "epoch of best validation loss", "value": int(epoch)})
    seconds = [v for v in logs.get("seconds") or [] if _is_number(v)]
    if seconds:
        rows.append({"quantity": "training time (s)", "value": float(sum(seconds))})
    rows.append({"quantity": "stop reason", "value": h.get("stop_reason") or "—"})
    rows.append({"quantity": "diverged", "value": bool(h.get("diverged", False))})
    return rows


def _config_text(value) -> str:
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return f"{float(value):.6g}"  # 0.1, 1e-05: as the user typed it
    if isinstance(value, (list, tuple)):
        return ", ".join(_config_text(v) for v in value) if value else "[]"
    return format_value(value)


def config_rows(config) -> list[dict]:
    """``[{"option": ..., "value": ...}]``; nested dicts are flattened to dotted names."""

    def walk(prefix, obj, out):
        for k, v in obj.items():
            name = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                walk(name, v, out)
            else:
                out.append({"option": name, "value": _config_text(v)})
        return out

    cfg = to_jsonable(config) if config is not None else {}
    if not isinstance(cfg, dict):
        cfg = {"config": cfg}
    return walk("", cfg, [])


def diagnostics_rows(history, epoch: int = -1) -> list[dict]:
    """Per-layer diagnostics of one epoch (default the last) as table rows; [] without diagnostics."""
    diags = _as_dict(history).get("diagnostics") or []
    if not diags or not diags[epoch]:
        return []
    layers = [d for d in diags[epoch] if isinstance(d, dict)]
    last = max((d.get("layer", j) for j, d in enumerate(layers)), default=0)
    rows = []
    for j, d in enumerate(layers):
        i = d.get("layer", j)
        rows.append(
            {
                "layer": layer_label(i, output=(i == last and last > 0)),
                "unit": d.get("unit"),
                "saturated": d.get("saturated"),
                "mean f'(a)": d.get("mean_derivative"),
                "dead": d.get("dead"),
                "||dL/dW||": d.get("grad_norm"),
                "||W||": d.get("weight_norm"),
                "||ΔW||/||W||": d.get("update_ratio"),
            }
        )
    return rows


def _default_layer_names(history: dict, n: int) -> list[str]:
    diags = [d for d in history.get("diagnostics") or [] if d]
    if diags and len(diags[-1]) == n:
        return [layer_label(i, d.get("unit"), output=(i == n - 1 and n > 1)) for i, d in enumerate(diags[-1])]
    return [layer_label(i, output=(i == n - 1 and n > 1)) for i in range(n)]


def training_sections(
    history, *, config=None, activations_start=None, activations_end=None, layer_names=None
) -> list[Section]:
    """The sections of a training report, ready for ``render_html``.

    Summary (with a warning if training diverged), learning curves, saturation,
    gradient flow, activation histograms (when activations are given) and the
    configuration.  A figure with nothing to show is replaced by a note saying why.
    """
    h = _as_dict(history)
    warning = None
    if h.get("diverged"):
        warning = "Training diverged. " + (h.get("stop_reason") or "The loss became NaN or infinite.")
    no_diag = "No per-layer diagnostics were recorded (Trainer(diagnostics=False))."
    sections = [
        Section(
            "Summary",
            table=summary_rows(h),
            warning=warning,
            text="Training loss and accuracy are running means over each epoch's "
            "mini-batches; validation metrics are measured after the epoch.",
        ),
        _figure_section(
            "Learning curves",
            "Loss (log scale when it spans more than a decade) and accuracy, per epoch.",
            "Training and validation loss and accuracy by epoch.",
            loss_accuracy_figure(h),
            "No epochs were recorded.",
        ),
        _figure_section(
            "Saturation",
            "A unit is saturated when its output lies within the tolerance of one of its bounds "
            "(a sigmoid below 0.05 or above 0.95): its derivative is then near zero and it learns "
            "slowly. A ReLU unit is dead when it outputs 0 on every probe sample.",
            "Fraction of saturated outputs, mean derivative f'(a) and dead units, per layer and epoch.",
            saturation_figure(h),
            no_diag,
            table=diagnostics_rows(h) or None,
            table_caption="Per-layer diagnostics after the last epoch.",
        ),
        _figure_section(
            "Gradient flow",
            "The gradient norm of each layer's weights on the probe batch, and how far each epoch "
            "moved the weights relative to their size. Gradients that shrink layer by layer "
            "towards the input are the vanishing-gradient problem.",
            "Gradient norm ||dL/dW|| and update ratio ||ΔW||/||W|| per layer and epoch (log scale).",
            gradient_figure(h),
            no_diag,
        ),
    ]
    if activations_start is not None or activations_end is not None:
        n = len(activations_start if activations_start is not None else activations_end)
        names = list(layer_names) if layer_names is not None else _default_layer_names(h, n)
        sections.append(
            _figure_section(
                "Activations",
                "Histograms of each layer's outputs on the same inputs before and after training.",
                "Layer outputs at the start and at the end of training.",
                activation_histograms_figure(activations_start, activations_end, names),
                "The activation lists are empty.",
            )
        )
    sections.append(
        Section(
            "Configuration", table=config_rows(config) or None, note=None if config else "No configuration was given."
        )
    )
    return sections


def _figure_section(title: str, text: str, caption: str, fig, missing: str, **kw) -> Section:
    """A section showing ``fig`` under ``caption``, or the note ``missing`` when there is no figure."""
    return Section(title, text=text, figures=[(caption, fig)] if fig else [], note=None if fig else missing, **kw)


def write_training_report(
    out_dir,
    history,
    *,
    config: dict,
    activations_start=None,
    activations_end=None,
    layer_names=None,
    title: str = "neuronet training report",
    meta: dict | None = None,
) -> Path:
    """Write ``out_dir/index.html`` and ``out_dir/history.json`` for one training run.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    history : dict or History
        ``History.to_dict()`` of the run.
    config : dict
        The resolved configuration, shown as a table and saved with the history.
    activations_start, activations_end : list of ndarray, optional
        ``Network.activations(X)`` on the same inputs before and after training.
    layer_names : list of str, optional
        Titles of the activation panels; default from the diagnostics' unit names.
    title : str
    meta : dict, optional
        Extra ``key: value`` lines for the page header (e.g. the seed), added to
        ``default_meta()``.

    Returns
    -------
    Path
        The written ``index.html``.  ``history.json`` holds
        ``{"format", "version", "title", "meta", "config", "history"}`` as strict JSON
        (non-finite numbers as null).  Both files are replaced atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    h = _as_dict(history)
    info = {**default_meta(), **(meta or {})}
    sections = training_sections(
        h, config=config, activations_start=activations_start, activations_end=activations_end, layer_names=layer_names
    )
    page = render_html(title, sections, info)
    write_json_atomic(
        out / "history.json",
        {
            "format": HISTORY_FORMAT,
            "version": HISTORY_FORMAT_VERSION,
            "title": title,
            "meta": info,
            "config": config,
            "history": h,
        },
    )
    return write_text_atomic(out / "index.html", page)
