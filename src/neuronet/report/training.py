"""The training report: a run's history, test result, architecture, configuration, per-layer diagnostics and
figures, as one HTML page.

Layers are numbered from 0 on the input side everywhere in the report, as in the epoch line
(``sat L0``), ``neuronet inspect`` and the parameter names (``W0``, ``b0``).
"""

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

__all__ = [
    "architecture_rows",
    "config_rows",
    "confusion_rows",
    "diagnostics_rows",
    "summary_rows",
    "test_rows",
    "training_sections",
    "write_run_report",
    "write_training_report",
]

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


def test_rows(test) -> list[dict]:
    """Rows for the test split's loss and accuracy, written exactly as ``neuronet train`` prints them.

    The console prints ``test loss {loss:.4f}  test accuracy {accuracy:.4f}``; the same format
    here makes the two the same text.  Accuracy is left out for regression (None).
    """
    if not test:
        return []
    rows = []
    for key, label in (("loss", "test loss"), ("accuracy", "test accuracy")):
        v = test.get(key)
        if _is_number(v):
            rows.append({"quantity": label, "value": f"{float(v):.4f}"})
    if test.get("n") is not None:
        rows.append({"quantity": "test samples", "value": int(test["n"])})
    return rows


def architecture_rows(network) -> list[dict]:
    """One row per layer (units, unit, weights, biases, parameters) and a total row.

    The total equals ``n_parameters`` of ``neuronet inspect`` (every weight and bias).
    """
    rows = []
    n = len(network.layers)
    for i, L in enumerate(network.layers):
        weights, biases = int(L.W.size), int(L.b.size)
        rows.append(
            {
                "layer": layer_label(i, output=(i == n - 1 and n > 1)),
                "unit": L.unit.name,
                "inputs → units": f"{L.n_in} → {L.n_out}",
                "weights": weights,
                "biases": biases,
                "parameters": weights + biases,
            }
        )
    total = {k: sum(r[k] for r in rows) for k in ("weights", "biases", "parameters")}
    rows.append({"layer": "total", "unit": "", "inputs → units": "", **total})
    return rows


#: The confusion matrix is shown as a table up to this many classes (it is always in history.json).
MAX_CONFUSION_CLASSES = 30


def confusion_rows(matrix, classes=None) -> list[dict]:
    """The confusion matrix as table rows: one row per true class, one column per predicted class.

    The ``total`` column holds each true class's count, the ``total`` row each predicted
    class's count; their corner is the number of test samples.
    """
    m = np.asarray(matrix, dtype=np.int64)
    names = [str(c) for c in (classes if classes is not None else range(m.shape[0]))]
    corner = "true ↓ predicted →"
    rows = []
    for i, name in enumerate(names):
        row = {corner: name}
        row.update({names[j]: int(m[i, j]) for j in range(m.shape[1])})
        row["total"] = int(m[i].sum())
        rows.append(row)
    last = {corner: "total"}
    last.update({names[j]: int(m[:, j].sum()) for j in range(m.shape[1])})
    last["total"] = int(m.sum())
    rows.append(last)
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
    confident = any(d.get("confidence") is not None for d in layers)
    rows = []
    for j, d in enumerate(layers):
        i = d.get("layer", j)
        saturated = d.get("saturated")
        if saturated is None and d.get("unit") == "softmax":
            saturated = "n/a (softmax)"
        row = {
            "layer": layer_label(i, output=(i == last and last > 0)),
            "unit": d.get("unit"),
            "saturated": saturated,
            "mean f'(a)": d.get("mean_derivative"),
            "dead": d.get("dead"),
        }
        if confident:
            row["confidence"] = d.get("confidence")
        row.update(
            {"||dL/dW||": d.get("grad_norm"), "||W||": d.get("weight_norm"), "||ΔW||/||W||": d.get("update_ratio")}
        )
        rows.append(row)
    return rows


def _default_layer_names(history: dict, n: int) -> list[str]:
    diags = [d for d in history.get("diagnostics") or [] if d]
    if diags and len(diags[-1]) == n:
        return [layer_label(i, d.get("unit"), output=(i == n - 1 and n > 1)) for i, d in enumerate(diags[-1])]
    return [layer_label(i, output=(i == n - 1 and n > 1)) for i in range(n)]


#: The Saturation section's legend of the fields (paragraphs split at blank lines).
SATURATION_LEGEND = (
    "Layers are numbered from 0 on the input side, as on the epoch line and in 'neuronet inspect'.\n\n"
    "saturated (the epoch line's 'sat L0 0.12'): the fraction of a layer's outputs within 0.05 of a bound "
    "of its unit (a sigmoid below 0.05 or above 0.95). There S' = S(1 - S) is nearly 0, so the unit learns "
    "slowly: the lecture's saturated, stuck unit.\n\n"
    "dead ('dead L0 0.05'): the fraction of a layer's ReLU units that output 0 on every probe sample.\n\n"
    "confidence ('conf 0.97'): the mean largest probability of a softmax output. A softmax output's "
    "saturation is n/a: its outputs sum to 1, and a trained classifier puts nearly 0 on every wrong class, "
    "which is a confident answer, not a stuck unit; so it is left out of the saturation plot and shown "
    "as its confidence instead."
)


def _architecture_text(network) -> str:
    sizes = [network.layers[0].n_in, *(L.n_out for L in network.layers)]
    return (
        f"{' → '.join(map(str, sizes))}: {sizes[0]} inputs, then one row per layer of units with its "
        "incoming weights and biases. The total is the number of trainable parameters."
    )


def training_sections(
    history,
    *,
    config=None,
    activations_start=None,
    activations_end=None,
    layer_names=None,
    test=None,
    network=None,
    confusion=None,
    classes=None,
) -> list[Section]:
    """The sections of a training report, ready for ``render_html``.

    Summary (with the test result, and a warning if training diverged), architecture (when
    ``network`` is given), confusion matrix (when ``confusion`` is given), learning curves,
    saturation, gradient flow, activation histograms (when activations are given) and the
    configuration.  A figure with nothing to show is replaced by a note saying why.
    """
    h = _as_dict(history)
    warning = None
    if h.get("diverged"):
        warning = "Training diverged. " + (h.get("stop_reason") or "The loss became NaN or infinite.")
    no_diag = "No per-layer diagnostics were recorded (Trainer(diagnostics=False))."
    summary_text = (
        "Training loss and accuracy are running means over each epoch's mini-batches; validation metrics "
        "are measured after the epoch."
    )
    if test:
        summary_text += " Test loss and accuracy are measured once, on the test split after training."
    sections = [Section("Summary", table=summary_rows(h) + test_rows(test), warning=warning, text=summary_text)]
    if network is not None:
        sections.append(
            Section(
                "Architecture",
                text=_architecture_text(network),
                table=architecture_rows(network),
                table_caption="Layers and their parameters.",
            )
        )
    if confusion is not None:
        sections.append(_confusion_section(confusion, classes))
    sections += [
        _figure_section(
            "Learning curves",
            "Loss (log scale when it spans more than a decade) and accuracy, per epoch.",
            "Training and validation loss and accuracy by epoch.",
            loss_accuracy_figure(h),
            "No epochs were recorded.",
        ),
        _figure_section(
            "Saturation",
            SATURATION_LEGEND,
            "Fraction of saturated outputs, mean derivative f'(a), dead units and softmax confidence, "
            "per layer and epoch.",
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


def _confusion_section(confusion, classes) -> Section:
    m = np.asarray(confusion)
    k = m.shape[0]
    correct, n = int(np.trace(m)), int(m.sum())
    text = (
        f"Test samples by true class (rows) and predicted class (columns): {correct} of {n} on the "
        f"diagonal, the test accuracy {correct / n:.4f}."
        if n
        else "The test split is empty."
    )
    if k > MAX_CONFUSION_CLASSES:
        return Section(
            "Confusion matrix",
            text=text,
            note=f"{k} classes are too many for a table here; the matrix is in history.json.",
        )
    return Section(
        "Confusion matrix",
        text=text,
        table=confusion_rows(m, classes),
        table_caption="Counts on the test split.",
    )


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
    test: dict | None = None,
    network=None,
    confusion=None,
    classes=None,
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
    test : dict, optional
        ``Trainer.evaluate`` on the test split (``loss``, ``accuracy``, optionally ``n``).
    network : Network, optional
        The trained network, for the architecture table.
    confusion : ndarray, optional
        ``(k, k)`` counts of the test split, row = true class, column = predicted
        (``trainjob.confusion_matrix``); ``classes`` names them.

    Returns
    -------
    Path
        The written ``index.html``.  ``history.json`` holds
        ``{"format", "version", "title", "meta", "config", "history"}`` as strict JSON
        (non-finite numbers as null), and ``test``, ``architecture`` and
        ``confusion`` (``{"classes", "matrix"}``) when they were given.  Both files are
        replaced atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    h = _as_dict(history)
    info = {**default_meta(), **(meta or {})}
    sections = training_sections(
        h,
        config=config,
        activations_start=activations_start,
        activations_end=activations_end,
        layer_names=layer_names,
        test=test,
        network=network,
        confusion=confusion,
        classes=classes,
    )
    page = render_html(title, sections, info)
    record = {
        "format": HISTORY_FORMAT,
        "version": HISTORY_FORMAT_VERSION,
        "title": title,
        "meta": info,
        "config": config,
        "history": h,
    }
    if test is not None:
        record["test"] = test
    if network is not None:
        record["architecture"] = architecture_rows(network)
    if confusion is not None:
        names = list(classes) if classes is not None else list(range(len(confusion)))
        record["confusion"] = {"classes": to_jsonable(names), "matrix": np.asarray(confusion).tolist()}
    write_json_atomic(out / "history.json", record)
    return write_text_atomic(out / "index.html", page)


def write_run_report(
    out_dir,
    result,
    *,
    activations_start=None,
    activations_end=None,
    layer_names=None,
    title: str = "neuronet training report",
    meta: dict | None = None,
) -> Path:
    """``write_training_report`` for a ``trainjob.RunResult``: everything ``neuronet train`` knows of the run.

    The history, the resolved configuration (output unit and loss filled in), the test
    loss and accuracy as the console prints them (with the number of test samples), the
    architecture and, for classification, the test split's confusion matrix.  Activation
    panels are named after the network's layers unless ``layer_names`` is given.
    """
    net = result.network
    n = len(net.layers)
    names = [layer_label(i, L.unit.name, output=(i == n - 1 and n > 1)) for i, L in enumerate(net.layers)]
    test = {**result.test, "n": int(result.prepared.X_test.shape[0])}
    return write_training_report(
        out_dir,
        result.history,
        config=result.metadata["config"],  # the resolved configuration, as the model file stores it
        activations_start=activations_start,
        activations_end=activations_end,
        layer_names=layer_names or names,
        title=title,
        meta=meta,
        test=test,
        network=net,
        confusion=result.confusion,
        classes=result.prepared.dataset.classes,
    )
