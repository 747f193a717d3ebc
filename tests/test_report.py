"""Tests for neuronet.report: figures, the self-contained HTML page, history.json.

The histories come from really training small networks with the engine, so the report
is tested against the format ``History.to_dict()`` actually produces.
"""

import base64
import json
import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from markupsafe import Markup
from matplotlib.collections import LineCollection, PathCollection
from sklearn.datasets import load_digits

import neuronet as nn
from neuronet.experiments import Plot, Result, Series, coverage
from neuronet.experiments.coverage import Statement
from neuronet.report import (
    Section,
    activation_histograms_figure,
    figure_to_data_uri,
    figure_to_png_bytes,
    format_value,
    gradient_figure,
    loss_accuracy_figure,
    render_html,
    saturation_figure,
    summary_rows,
    to_jsonable,
    write_training_report,
)
from neuronet.report.figures import PNG_SIGNATURE
from neuronet.report.html import Details, format_interval, format_number
from neuronet.report.lecture import figure_from_plot, metric_range, statement_verdict, write_lecture_report
from neuronet.report.training import architecture_rows, write_run_report
from neuronet.stats import Check

CONFIG = {
    "sizes": [64, 16, 10],
    "hidden": "sigmoid",
    "optimizer": {"name": "momentum", "lr": 0.1},
    "epochs": 3,
    "batch_size": 64,
    "validation_split": 0.2,
    "seed": 0,
}


# -- fixtures: real training runs ----------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


@pytest.fixture(scope="module")
def run(digits):
    """A 3-epoch classification run with diagnostics, and activations before and after."""
    X, y = digits
    net = nn.mlp([64, 16, 10], hidden="sigmoid", seed=0)
    start = net.activations(X[:200])
    h = nn.Trainer(net, "momentum", lr=0.1, epochs=3, batch_size=64, validation_split=0.2).fit(X, y)
    end = net.activations(X[:200])
    return h.to_dict(), start, end


@pytest.fixture(scope="module")
def report(run, tmp_path_factory):
    """The full report of ``run``, written once and parsed."""
    history, start, end = run
    out = tmp_path_factory.mktemp("report")
    index = write_training_report(out, history, config=CONFIG, activations_start=start, activations_end=end)
    text = index.read_text(encoding="utf-8")
    return out, index, text, parse(text)


def diverged_history(digits):
    """A real run that diverges in its second epoch (ReLU + identity output, lr too high)."""
    X, y = digits
    net = nn.mlp([64, 16, 10], hidden="relu", output="identity", seed=0)
    with pytest.raises(nn.DivergenceError) as err:
        nn.Trainer(net, "sgd", lr=3.0, epochs=6, batch_size=64).fit(X, y)
    return err.value.history.to_dict()


# -- HTML parsing --------------------------------------------------------------------------------
class _Collector(HTMLParser):
    """Every start tag with its attributes, and the text of each table row's cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.rows, self._row, self._cell = [], [], None, None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in_title:
            self.title += data


def parse(text):
    p = _Collector()
    p.feed(text)
    p.close()
    return p


def images(parsed):
    return [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]


def decode_png(src):
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), f"expected an embedded PNG data URI, got {src[:40]!r}"
    return base64.b64decode(src[len(prefix) :], validate=True)


def table_value(parsed, key):
    """The second cell of the (first) row whose first cell is ``key``."""
    for row in parsed.rows:
        if row and row[0] == key:
            return row[1]
    raise AssertionError(f"no table row {key!r}; rows: {[r[0] for r in parsed.rows if r]}")


# -- the full report -------------------------------------------------------------------------------
def test_report_writes_index_and_history_and_nothing_else(report):
    out, index, _, _ = report
    assert index == out / "index.html"
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "index.html"], (
        "expected exactly index.html and history.json (no temp files left behind)"
    )


def test_every_figure_is_one_embedded_png(report):
    _, _, _, parsed = report
    srcs = images(parsed)
    assert len(srcs) == 4, f"expected 4 figures (curves, saturation, gradients, activations), got {len(srcs)}"
    for src in srcs:
        png = decode_png(src)
        assert png.startswith(PNG_SIGNATURE), "decoded image is not a PNG"
        assert b"matplotlib.org" not in png, "PNG should carry no Software chunk with a URL"


def test_report_is_self_contained(report):
    _, _, text, parsed = report
    assert "http://" not in text and "https://" not in text, "the page must hold no web URL"
    assert "url(" not in text, "the CSS must load no external resource"
    tags = {tag for tag, _ in parsed.tags}
    assert "script" not in tags and "link" not in tags, f"no <script> or <link> expected, got {tags}"
    for tag, attrs in parsed.tags:
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("#", "data:image/png;base64,")), (
                    f"<{tag} {name}={value[:60]!r}> points outside the file"
                )
    assert any(tag == "style" for tag, _ in parsed.tags), "CSS should be inline"


def test_summary_table_shows_final_metrics_as_formatted(run, report):
    history, _, _ = run
    _, _, text, parsed = report
    acc = history["history"]["accuracy"][-1]
    val_acc = history["history"]["val_accuracy"][-1]
    assert table_value(parsed, "final training accuracy") == format_value(acc) == f"{acc:.4f}"
    assert table_value(parsed, "final validation accuracy") == format_value(val_acc)
    assert format_value(acc) in text
    assert table_value(parsed, "epochs trained") == "3"
    assert table_value(parsed, "stop reason") == "completed 3 epochs"
    assert table_value(parsed, "diverged") == "no"


def test_configuration_table_lists_every_option(report):
    _, _, _, parsed = report
    assert table_value(parsed, "optimizer.lr") == "0.1"
    assert table_value(parsed, "sizes") == "64, 16, 10"
    assert table_value(parsed, "hidden") == "sigmoid"


def test_activation_panels_are_named_after_the_units(run):
    _, start, end = run
    fig = activation_histograms_figure(start, end, ["hidden", "output"])
    assert [ax.get_title() for ax in fig.axes] == ["hidden", "output"]
    for ax in fig.axes:
        labels = ax.get_legend_handles_labels()[1]
        assert labels == ["start of training", "end of training"], f"two overlaid histograms expected, got {labels}"


def test_history_json_round_trips(run, report):
    history, _, _ = run
    out, _, _, _ = report
    saved = json.loads((out / "history.json").read_text(encoding="utf-8"))
    assert saved["history"] == history, "history.json must hold the exact History.to_dict()"
    assert saved["config"] == CONFIG
    assert nn.History.from_dict(saved["history"]).to_dict() == history


def test_title_is_escaped(run, tmp_path):
    history, _, _ = run
    title = 'a <b>bold</b> & "quoted" title'
    text = write_training_report(tmp_path, history, config={}, title=title).read_text(encoding="utf-8")
    parsed = parse(text)
    assert "&lt;b&gt;bold&lt;/b&gt;" in text, "the title's markup should appear escaped"
    assert "b" not in {tag for tag, _ in parsed.tags}, "the title must not become a <b> element"
    assert parsed.title == title, "the browser should show the title text exactly"


# -- incomplete histories --------------------------------------------------------------------------
def test_run_without_diagnostics_renders_curves_only(digits, tmp_path):
    X, y = digits
    net = nn.mlp([64, 16, 10], hidden="sigmoid", seed=0)
    history = nn.Trainer(net, "sgd", lr=0.1, epochs=2, diagnostics=False).fit(X, y).to_dict()
    assert history["diagnostics"] == [None, None]
    text = write_training_report(tmp_path, history, config=CONFIG).read_text(encoding="utf-8")
    assert len(images(parse(text))) == 1, "only the learning curves can be drawn without diagnostics"
    assert "No per-layer diagnostics were recorded" in text
    assert saturation_figure(history) is None and gradient_figure(history) is None
    history["diagnostics"] = None  # a hand-made dict may hold None outright
    assert saturation_figure(history) is None and gradient_figure(history) is None
    write_training_report(tmp_path, history, config=CONFIG)


def test_regression_run_has_no_accuracy_panel_or_row(digits, tmp_path):
    X, _ = digits
    net = nn.mlp([64, 8, 1], hidden="tanh", output="identity", seed=0)
    history = nn.Trainer(net, "sgd", lr=0.05, epochs=3, validation_split=0.2).fit(X, X.mean(axis=1)).to_dict()
    assert history["history"]["accuracy"] == [None, None, None]
    fig = loss_accuracy_figure(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss"], "no accuracy panel for regression"
    # the identity output layer has no bounds: only the tanh layer has a saturation line
    sat = saturation_figure(history)
    sat_ax = next(ax for ax in sat.axes if ax.get_title() == "saturated units")
    assert [line.get_label() for line in sat_ax.get_lines()] == ["layer 0 (tanh)"], "layers count from 0"
    parsed = parse(write_training_report(tmp_path, history, config={}).read_text(encoding="utf-8"))
    keys = [r[0] for r in parsed.rows if r]
    assert "final training accuracy" not in keys and "final validation loss" in keys
    assert len(images(parsed)) == 3


def test_diverged_run_says_so(digits, tmp_path):
    history = diverged_history(digits)
    assert history["diverged"] and len(history["epoch"]) == 1
    text = write_training_report(tmp_path, history, config={"lr": 3.0}).read_text(encoding="utf-8")
    parsed = parse(text)
    assert table_value(parsed, "diverged") == "yes"
    assert "Training diverged." in text, "a diverged run needs a visible warning"
    assert 'role="alert"' in text
    assert "diverged in epoch 2" in table_value(parsed, "stop reason")
    assert loss_accuracy_figure(history).axes[0].get_title() == "loss (training diverged)"


@pytest.mark.parametrize(
    "history",
    [
        {},
        {"epoch": [], "history": {}, "diagnostics": [], "stop_reason": ""},
        {"epoch": [], "history": {}, "diagnostics": None},
    ],
)
def test_empty_history_renders_notes_instead_of_figures(history, tmp_path):
    assert loss_accuracy_figure(history) is None
    assert saturation_figure(history) is None and gradient_figure(history) is None
    text = write_training_report(tmp_path, history, config=None).read_text(encoding="utf-8")
    parsed = parse(text)
    assert images(parsed) == []
    assert table_value(parsed, "epochs trained") == "0"
    assert "No epochs were recorded." in text


# -- figures ---------------------------------------------------------------------------------------
def _hand_history(losses, val_losses=None):
    n = len(losses)
    logs = {"loss": losses, "accuracy": [None] * n}
    if val_losses is not None:
        logs["val_loss"] = val_losses
    return {"epoch": list(range(n)), "history": logs, "diagnostics": [None] * n}


def test_loss_axis_is_logarithmic_only_beyond_one_decade():
    assert loss_accuracy_figure(_hand_history([10.0, 1.0, 0.5], [8.0, 2.0, None])).axes[0].get_yscale() == "log"
    assert loss_accuracy_figure(_hand_history([2.0, 1.5, 1.0], [2.0, 1.8, 1.7])).axes[0].get_yscale() == "linear"
    # a span over a decade that includes 0 cannot be drawn on a log axis
    assert loss_accuracy_figure(_hand_history([10.0, 0.0])).axes[0].get_yscale() == "linear"


def test_diagnostic_panels_follow_what_each_layer_records():
    def layer(i, unit, sat, dead, grad):
        return {
            "layer": i,
            "unit": unit,
            "saturated": sat,
            "mean_derivative": 0.5,
            "dead": dead,
            "grad_norm": grad,
            "weight_norm": 1.0,
            "update_ratio": 0.01,
        }

    diags = [
        [layer(0, "relu", None, 0.1, 1e-1), layer(1, "sigmoid", 0.3, None, 1e-3)],
        None,  # an epoch without diagnostics
        [layer(0, "relu", None, 0.2, 1e-2), layer(1, "sigmoid", 0.4, None, 1e-4)],
    ]
    h = {"epoch": [0, 1, 2], "history": {"loss": [1.0, 0.5, 0.2]}, "diagnostics": diags}
    fig = saturation_figure(h)
    panels = {ax.get_title(): [line.get_label() for line in ax.get_lines()] for ax in fig.axes}
    assert panels == {  # layers numbered from 0, as the diagnostics' "layer" key and neuronet inspect
        "saturated units": ["layer 1 (sigmoid, output)"],
        "mean derivative": ["layer 0 (relu)", "layer 1 (sigmoid, output)"],
        "dead ReLU units": ["layer 0 (relu)"],
    }
    sat_line = fig.axes[0].get_lines()[0]
    np.testing.assert_array_equal(sat_line.get_xdata(), [1, 2, 3])
    assert math.isnan(sat_line.get_ydata()[1]), "an epoch without diagnostics should be a gap"
    g = gradient_figure(h)
    assert [ax.get_title() for ax in g.axes] == ["gradient norm", "update / weight ratio"]
    assert all(ax.get_yscale() == "log" for ax in g.axes)


def test_activation_histograms_check_their_inputs():
    a = [np.zeros((5, 3)), np.ones((5, 2))]  # constant outputs still get a visible bin
    fig = activation_histograms_figure(a, a)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "layer 1", "layers count from 0"
    with pytest.raises(ValueError, match="start has 2 layers but end has 1"):
        activation_histograms_figure(a, a[:1])
    with pytest.raises(ValueError, match="1 layer names for 2 layers"):
        activation_histograms_figure(a, a, ["only one"])
    assert activation_histograms_figure([], []) is None


def test_png_and_data_uri_agree():
    fig = loss_accuracy_figure(_hand_history([1.0, 0.5]))
    png = figure_to_png_bytes(fig, dpi=50)
    assert png.startswith(PNG_SIGNATURE)
    assert decode_png(figure_to_data_uri(fig, dpi=50)) == png


# -- rendering building blocks -----------------------------------------------------------------------
def test_format_value_golden():
    cases = [
        (None, "—"),
        (True, "yes"),
        (False, "no"),
        (3, "3"),
        (np.int64(7), "7"),
        (0.0, "0"),
        (0.81615598, "0.8162"),
        (np.float32(0.25), "0.2500"),
        (1.2345e-5, "1.234e-05"),
        (123456.0, "1.235e+05"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        ([1, 0.5], "1, 0.5000"),
        ("text", "text"),
    ]
    for value, expected in cases:
        assert format_value(value) == expected, f"format_value({value!r}) should be {expected!r}"


def test_render_html_sections_tables_and_escaping():
    fig = loss_accuracy_figure(_hand_history([1.0, 0.5]))
    sections = [
        Section(
            "Claim <1>",
            text="first paragraph\n\nsecond & last",
            note="confirmed",
            table=[{"variant": "a", "error": 0.5}, {"variant": "b", "time": 2}],
            figures=[("a figure", fig), ("as bytes", figure_to_png_bytes(fig, dpi=30))],
        ),
        Section("Claim <1>", text=[Markup("<em>trusted</em>")]),
    ]
    text = render_html("T", sections, {"seed": 0})
    parsed = parse(text)
    assert list(parsed.rows) == [["variant", "error", "time"], ["a", "0.5000", ""], ["b", "", "2"]]
    assert "Claim &lt;1&gt;" in text and "second &amp; last" in text
    assert text.count("<p>") == 3 and "<em>trusted</em>" in text
    ids = [a["id"] for tag, a in parsed.tags if tag == "section"]
    assert ids == ["claim-1", "claim-1-2"], "section anchors must be unique"
    assert len(images(parsed)) == 2
    with pytest.raises(TypeError, match="section 'bad', figure 'x'"):
        render_html("T", [Section("bad", figures=[("x", 42)])])


def test_history_json_is_strict_json_even_with_nan(tmp_path):
    h = _hand_history([1.0, float("nan")])
    write_training_report(tmp_path, h, config={"lr": np.float32(0.5), "sizes": (2, 3)})

    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    saved = json.loads((tmp_path / "history.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert saved["history"]["history"]["loss"] == [1.0, None]
    assert saved["config"] == {"lr": 0.5, "sizes": [2, 3]}
    assert to_jsonable({"a": np.arange(2)}) == {"a": [0, 1]}


def test_rewriting_a_report_replaces_it(run, tmp_path):
    history, _, _ = run
    write_training_report(tmp_path, history, config={}, title="first")
    index = write_training_report(tmp_path, history, config={}, title="second")
    assert "<h1>second</h1>" in index.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json", "index.html"]
    assert index.stat().st_mode & 0o044, "the report should be readable by others, not private like a temp file"


def test_summary_rows_of_a_hand_made_history():
    h = {
        "epoch": [0, 1, 2],
        "history": {"loss": [3.0, 2.0, 1.0], "val_loss": [2.0, 1.5, 1.7], "seconds": [0.5, 0.25, 0.25]},
        "stop_reason": "x",
    }
    rows = {r["quantity"]: r["value"] for r in summary_rows(h)}
    assert rows["best validation loss"] == 1.5 and rows["epoch of best validation loss"] == 2
    assert rows["training time (s)"] == 1.0 and rows["final validation loss"] == 1.7
    assert rows["diverged"] is False and "final training accuracy" not in rows


# -- a whole run (trainjob.run): test result, architecture, confusion matrix, saturation by output unit ---
def _quiet_run(**flags):
    from neuronet.config import resolve
    from neuronet.trainjob import run as run_job

    return run_job(resolve({"data": "digits", "hidden": "16", "epochs": 2, **flags}), log=lambda *a: None)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """A softmax classifier's run on digits and its report from ``write_run_report``, parsed."""
    result = _quiet_run()
    out = tmp_path_factory.mktemp("job")
    index = write_run_report(out, result)
    text = index.read_text(encoding="utf-8")
    return result, out, text, parse(text)


def _table_with(parsed, column):
    """Header and body rows of the first table whose header has ``column``."""
    for i, row in enumerate(parsed.rows):
        if column in row:
            body = []
            for r in parsed.rows[i + 1 :]:
                if len(r) != len(row) or r == row:
                    break
                body.append(dict(zip(row, r)))
            return body
    raise AssertionError(f"no table with a {column!r} column")


def test_run_report_shows_the_test_result_as_the_console_prints_it(job):
    result, _, _, parsed = job
    # neuronet train prints f"test loss {loss:.4f}  test accuracy {accuracy:.4f}"
    assert table_value(parsed, "test accuracy") == f"{result.test['accuracy']:.4f}"
    assert table_value(parsed, "test loss") == f"{result.test['loss']:.4f}"
    assert table_value(parsed, "test samples") == str(len(result.prepared.dataset.y_test))


def test_architecture_counts_parameters_per_layer_as_inspect_does(job, tmp_path):
    from neuronet.modelfile import inspect_model, save_model

    result, out, _, parsed = job
    rows = architecture_rows(result.network)
    assert [r["layer"] for r in rows] == ["layer 0", "layer 1 (output)", "total"]
    assert [r["parameters"] for r in rows] == [64 * 16 + 16, 16 * 10 + 10, 64 * 16 + 16 + 16 * 10 + 10]
    save_model(tmp_path / "m.safetensors", result.network)
    info = inspect_model(tmp_path / "m.safetensors")
    assert rows[-1]["parameters"] == info["n_parameters"], "the total is inspect's n_parameters"
    for i, layer in enumerate(info["layers"]):  # neuronet inspect prints them as "  0: ...", "  1: ..."
        assert rows[i]["layer"].startswith(f"layer {i}") and rows[i]["unit"] == layer["unit"]
        assert rows[i]["inputs → units"] == f"{layer['n_in']} → {layer['n_out']}"
    assert rows[-1]["weights"] == 64 * 16 + 16 * 10 and rows[-1]["biases"] == 16 + 10
    shown = _table_with(parsed, "parameters")
    assert [r["parameters"] for r in shown] == [str(r["parameters"]) for r in rows]
    assert json.loads((out / "history.json").read_text())["architecture"] == rows


def test_confusion_matrix_counts_the_test_predictions(job):
    result, out, _, parsed = job
    ds = result.prepared.dataset
    m = result.confusion
    pred = result.network.predict(result.prepared.X_test).argmax(axis=1)
    expected = np.zeros((10, 10), dtype=np.int64)
    np.add.at(expected, (ds.y_test, pred), 1)
    np.testing.assert_array_equal(m, expected, err_msg="row = true class, column = predicted class")
    assert m.sum() == len(ds.y_test), "every test sample is counted once"
    assert np.trace(m) / m.sum() == pytest.approx(result.test["accuracy"]), "the diagonal is the test accuracy"
    body = _table_with(parsed, "true ↓ predicted →")
    assert [r["true ↓ predicted →"] for r in body] == [*map(str, range(10)), "total"]
    assert [[int(r[str(j)]) for j in range(10)] for r in body[:10]] == m.tolist()
    assert [int(r["total"]) for r in body[:10]] == np.bincount(ds.y_test, minlength=10).tolist()
    assert [int(body[-1][str(j)]) for j in range(10)] == np.bincount(pred, minlength=10).tolist()
    assert body[-1]["total"] == str(len(ds.y_test)), "the corner is the test-set size"
    saved = json.loads((out / "history.json").read_text())
    assert saved["confusion"] == {"classes": list(range(10)), "matrix": m.tolist()}
    assert saved["test"]["accuracy"] == result.test["accuracy"]


def test_report_shows_the_resolved_output_unit_and_loss(job):
    result, _, _, parsed = job
    assert result.config.output == "softmax" and result.config.loss == "cross-entropy"
    assert table_value(parsed, "output") == "softmax" and table_value(parsed, "loss") == "cross-entropy"


def test_softmax_saturation_is_not_applicable_and_the_fields_are_explained(job):
    result, _, text, parsed = job
    diag = {r["layer"]: r for r in _table_with(parsed, "saturated")}
    assert diag["layer 1 (output)"]["saturated"] == "n/a (softmax)"
    assert float(diag["layer 1 (output)"]["confidence"]) > 0.1, "the softmax's confidence stands in for it"
    assert 0 <= float(diag["layer 0"]["saturated"]) <= 1, "the sigmoid hidden layer keeps its saturation"
    fig = saturation_figure(result.history)
    panels = {ax.get_title(): [line.get_label() for line in ax.get_lines()] for ax in fig.axes}
    assert panels["saturated units"] == ["layer 0 (sigmoid)"], "no softmax line in the saturation plot"
    assert panels["softmax output confidence"] == ["layer 1 (softmax, output)"]
    for words in ("sat L0 0.12", "dead L0 0.05", "conf 0.97", "saturation is n/a"):
        assert words in text, f"the legend should explain {words!r}"


def test_sigmoid_output_keeps_its_saturation_in_the_report(tmp_path):
    result = _quiet_run(preset="lecture-baseline")
    fig = saturation_figure(result.history)
    panels = {ax.get_title(): [line.get_label() for line in ax.get_lines()] for ax in fig.axes}
    assert panels["saturated units"] == ["layer 0 (sigmoid)", "layer 1 (sigmoid, output)"]
    assert "softmax output confidence" not in panels
    parsed = parse(write_run_report(tmp_path, result).read_text(encoding="utf-8"))
    diag = {r["layer"]: r for r in _table_with(parsed, "saturated")}
    sat = result.history.diagnostics[-1][1]["saturated"]
    assert diag["layer 1 (output)"]["saturated"] == format_value(sat), "a sigmoid output's saturation is shown"
    assert sat > 0.1, f"N(0, 1) weights saturate the sigmoid outputs; got {sat}"
    assert table_value(parsed, "output") == "sigmoid" and table_value(parsed, "loss") == "squared-error"
    assert table_value(parsed, "preset") == "lecture-baseline"


def test_regression_run_report_has_no_confusion_matrix_or_accuracy(tmp_path):
    X = np.random.default_rng(0).normal(size=(80, 3))
    data = tmp_path / "r.csv"
    np.savetxt(data, np.column_stack([X, X @ [0.5, -1.0, 2.0] + 0.25]), delimiter=",")
    result = _quiet_run(data=str(data), hidden="4", task="regression", header=False)  # --task, --no-header
    assert result.confusion is None and result.config.output == "identity" and result.config.loss == "squared-error"
    text = write_run_report(tmp_path / "rep", result).read_text(encoding="utf-8")
    parsed = parse(text)
    assert "Confusion matrix" not in text
    keys = [r[0] for r in parsed.rows if r]
    assert "test loss" in keys and "test accuracy" not in keys


# -- layering ------------------------------------------------------------------------------------------
def _run_python(code):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_engine_does_not_import_matplotlib_or_the_report():
    out = _run_python(
        "import sys, neuronet, neuronet.network, neuronet.train\n"
        "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'neuronet.report', 'jinja2'))))"
    )
    assert out.strip() == "[]", f"the engine imported plotting modules: {out}"


def test_report_never_imports_pyplot():
    out = _run_python(
        "import sys\n"
        "from neuronet.report import loss_accuracy_figure, figure_to_png_bytes, render_html, Section\n"
        "h = {'epoch': [0, 1], 'history': {'loss': [1.0, 0.5]}}\n"
        "render_html('t', [Section('s', figures=[('c', loss_accuracy_figure(h))])])\n"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    assert out.strip() == "False", "neuronet.report must use the Figure API, never pyplot"


# -- the lecture report ----------------------------------------------------------------------------
def test_format_number_golden():
    cases = [
        (16.0, "16"),  # never "16.0000"
        (np.float32(16), "16"),
        (7, "7"),
        (0.81615598, "0.816"),
        (0.5, "0.5"),
        (-0.714, "-0.714"),
        (0.1 + 0.2, "0.3"),
        (3.2320992680053597e-09, "3.23e-9"),
        (9.999000099990002e-05, "1e-4"),
        (123456.7, "1.23e5"),
        (0.0, "0"),
        (None, "—"),
        (float("nan"), "—"),
        (True, "yes"),
        ([0.53, 0.89], "[0.53, 0.89]"),
        ("0.912 ± 0.004", "0.912 ± 0.004"),
    ]
    for value, expected in cases:
        assert format_number(value) == expected, f"format_number({value!r}) should be {expected!r}"
    assert format_interval(-0.00544, 0.000982) == "[-0.00544, 0.00098]", "both ends on the larger end's scale"
    assert format_interval(1.0, 1.0) == "[1, 1]" and format_interval(-3e-9, 5e-9) == "[-3e-9, 5e-9]"


def _check(name, holds, value=0.1, ci=(0.05, 0.15), **kw):
    return Check(
        name=name,
        claim=f"claim of {name}",
        statistic="mean paired difference",
        value=value,
        ci=ci,
        threshold="95% CI > 0",
        n=10,
        holds=holds,
        could_fail=f"the CI of {name} reaching 0",
        **kw,
    ).to_dict()


LONG_MEASUREMENT = (
    "First sentence of the measurement. Second sentence with a number 0.5. "
    "Third sentence, which a student only sees on asking: HIDDEN-DETAIL."
)


def _lecture_results():
    bar = Plot(
        title="accuracy by arm",
        kind="bar",
        ylabel="test accuracy",
        series=[Series(label="arm", x=["a", "b"], y=[0.9, 0.5], yerr=[0.2, 0.1], style="bar")],
    )
    alpha = Result(
        name="alpha",
        claim="Alpha helps.",
        measurement="We trained alpha networks. They learned.",
        verdict="mixed",
        reason="2 of 3 checks hold",
        tables=[
            {"title": "Checks", "rows": [{"x": 1}]},
            {"title": "Extra numbers", "rows": [{"lr": 16.0, "acc": 0.81615598}]},
        ],
        plots=[bar, Plot(title="second figure", series=[Series("s", [1, 2], [1.0, 2.0])])],
        checks=[
            _check("a-one", True, value=16.0),
            _check("a-two", True, value=3.2320992680053597e-09),
            _check("a-fail", False),
        ],
        seeds=[0, 1],
        config={"lr": 16.0},
    )
    beta = Result(
        name="beta",
        claim="Beta is fine.",
        measurement="Short.",
        verdict="supported",
        reason="1 of 1 checks hold",
        checks=[_check("b-only", True, ci=None, p_value=9.999e-5, note="judged on 3 arms")],
    )
    gamma = {  # an older experiment without checks, as read back from results.json
        "name": "gamma",
        "claim": "Gamma holds.",
        "measurement": LONG_MEASUREMENT,
        "verdict": "not supported",
        "reason": "Rule: supported if x > 1. Measured: x = 0.4, below 1.",
        "tables": [{"title": "Gamma table", "rows": [{"seed": 0, "x": 0.4}]}],
        "plots": [],
        "seeds": [0],
        "seconds": 1.5,
        "config": {},
        "metrics": {},
    }
    return {"alpha": alpha, "beta": beta, "gamma": gamma}


#: (statement, the verdict its badge must show)
LECTURE_STATEMENTS = [
    (Statement("Alpha's two good parts", "variations", "alpha", ("a-one", "a-two")), "supported"),
    (Statement("Alpha as a whole", "variations", "alpha", ("a-*",)), "mixed"),
    (Statement("Alpha's bad part", "variations", "alpha", ("a-fail",)), "not supported"),
    (Statement("Beta", "neurobiology", "beta", ("b-only",)), "supported"),
    (Statement("Gamma", "variations", "gamma", ("g-*",)), "not supported"),  # no checks: the experiment's verdict
    (Statement("Brains see better", "neurobiology", untested="no brain is measured here"), "not tested"),
    (Statement("Delta", "variations", "delta", ("d",)), "not run"),
    (Statement("Beta, a renamed check", "neurobiology", "beta", ("b-renamed",)), "no check"),
]


@pytest.fixture(scope="module")
def lecture_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture")
    other = {
        "digits, full": {"alpha": "mixed", "beta": "supported", "gamma": "supported"},
        "fashion-mnist, full": {
            "experiments": {"alpha": {**_lecture_results()["alpha"].to_dict(), "verdict": "supported"}}
        },
    }
    other["fashion-mnist, full"]["experiments"]["alpha"]["checks"] = [
        _check("a-one", True),
        _check("a-two", True),
        _check("a-fail", True),
    ]
    index = write_lecture_report(
        out,
        _lecture_results(),
        meta={"data": "digits", "quick": "True", "seed": "0"},
        statements=[s for s, _ in LECTURE_STATEMENTS],
        other_runs=other,
    )
    text = index.read_text(encoding="utf-8")
    return text, parse(text)


def _row(parsed, key):
    rows = [r for r in parsed.rows if r and key in r]
    assert rows, f"no table row holding {key!r}"
    return rows[0]


def test_statement_badges_follow_their_checks():
    results = _lecture_results()
    for statement, expected in LECTURE_STATEMENTS:
        status, _ = statement_verdict(statement, results)
        assert status == expected, f"{statement.text!r}: expected {expected}, got {status}"
    _, named = statement_verdict(LECTURE_STATEMENTS[1][0], results)
    assert [c["name"] for c in named] == ["a-one", "a-two", "a-fail"], "a prefix* names every matching check"


def test_lecture_top_shows_counts_and_one_badged_line_per_statement(lecture_page):
    text, parsed = lecture_page
    top = text[: text.index("<main>")]
    flat = re.sub(r"<[^>]+>", " ", top)
    flat = " ".join(flat.split())
    assert "Experiments: 1 supported 1 mixed 1 not supported" in flat, flat
    assert "Statements of the lecture: 2 supported 1 mixed 2 not supported 1 not tested 1 not run 1 no check" in flat
    assert "Across datasets and modes: 2 of 3 verdicts differ" in flat
    for statement, expected in LECTURE_STATEMENTS:
        row = next(r for r in parsed.rows if len(r) == 3 and r[1] == statement.text)
        assert row[0] == expected, f"the badge of {statement.text!r} should read {expected!r}, got {row[0]!r}"
    assert "not tested, because no brain is measured here" in text, "an untested statement shows its reason"
    ids = {a.get("id") for tag, a in parsed.tags if tag == "section"}
    links = {a["href"] for tag, a in parsed.tags if tag == "a"}
    assert {"#exp-alpha", "#exp-beta", "#exp-gamma"} <= links, "statements link to their experiment's section"
    assert {link[1:] for link in links} <= ids, f"every link needs its anchor: {links - {'#' + i for i in ids}}"
    assert '<span class="badge not-tested">not tested</span>' in text, "grey badge for an untested statement"


def test_coverage_table_lists_every_statement(lecture_page):
    text, _ = lecture_page
    cov = text[text.index('id="coverage"') :]
    rows = parse(cov).rows
    assert rows[0] == ["statement", "part", "verdict", "tested in", "checks, or why not tested"]
    assert [r[0] for r in rows[1:]] == [s.text for s, _ in LECTURE_STATEMENTS], "one row per statement, in order"
    assert [r[2] for r in rows[1:]] == [v for _, v in LECTURE_STATEMENTS]
    assert rows[2][4] == "✓ a-one✓ a-two✗ a-fail", "each named check with holds/fails"
    assert rows[6][4] == "not tested, because no brain is measured here"


def test_experiment_section_says_claim_measurement_verdict_and_folds_the_rest(lecture_page):
    text, _ = lecture_page
    alpha = text[text.index('id="exp-alpha"') : text.index('id="exp-beta"')]
    assert "The lecture says:" in alpha and "What we measured:" in alpha and "Verdict:" in alpha
    assert "2 of 3 checks hold; failing: a-fail." in alpha
    header = next(r for r in parse(alpha).rows if r and r[0] == "check")
    assert header == ["check", "what it tests (statistic)", "value", "CI", "threshold", "n", "holds", "could fail if"]
    one = _row(parse(alpha), "a-one")
    assert one[2] == "16" and one[3] == "[0.050, 0.150]" and one[5] == "10" and one[6] == "✓ holds"
    assert _row(parse(alpha), "a-two")[2] == "3.23e-9" and _row(parse(alpha), "a-fail")[6] == "✗ fails"
    assert alpha.count("<details") == 4, "rule, the extra table, the second figure and the configuration fold away"
    assert "Table: Extra numbers (1 row)" in alpha and "Table: Checks" not in alpha, (
        "the checks table replaces 'Checks'"
    )
    extra = _row(parse(alpha), "0.816")
    assert extra == ["16", "0.816"], f"extra tables at 3 significant digits, got {extra}"
    assert alpha.count("data:image/png;base64,") == 2, "key figure on top, the second one folded"
    beta = text[text.index('id="exp-beta"') : text.index('id="exp-gamma"')]
    b = _row(parse(beta), "b-only")
    assert b[3] == "p = 1e-4" and "Note: judged on 3 arms" in b[1] and "Its one check holds." in beta


def test_long_measurement_and_rules_go_into_details(lecture_page):
    text, _ = lecture_page
    gamma = text[text.index('id="exp-gamma"') : text.index('id="coverage"')]
    summary = gamma[: gamma.index("<details")]
    assert "Second sentence with a number 0.5." in summary and "HIDDEN-DETAIL" not in summary
    assert "<summary>The measurement in full</summary>" in gamma and "HIDDEN-DETAIL" in gamma
    assert "Rule: supported if x &gt; 1." not in summary, "the rule is folded away"
    assert "Measured: x = 0.4, below 1." in summary, "a check-less experiment shows its reason as the verdict"
    rule = gamma[gamma.index("<summary>How the verdict is reached</summary>") :]
    assert "Rule: supported if x &gt; 1." in rule[: rule.index("</details>")]
    assert "Gamma table" in gamma, "without checks the first table stays on show"


def test_verdicts_across_runs_flag_flips(lecture_page):
    text, _ = lecture_page
    across = parse(text[text.index('id="across-runs"') : text.index('id="check-flips"')]).rows
    assert across[0] == ["experiment", "digits, full", "fashion-mnist, full", "digits, quick", "differs", "why"]
    rows = {r[0]: r for r in across[1:]}
    assert rows["alpha"][1:5] == ["mixed", "supported", "mixed", "flips"]
    assert rows["alpha"][5] == "“a-fail” holds in fashion-mnist, full, fails in digits, quick", "names the check"
    assert rows["beta"][2] == "—" and rows["beta"][4] == "", "a missing verdict is no flip"
    assert rows["gamma"][4] == "flips" and rows["gamma"][5] == "not explained yet"


def test_lecture_report_is_offline_and_keeps_the_old_call(lecture_page, tmp_path, monkeypatch):
    text, parsed = lecture_page
    assert "<script" not in text and not re.search(r"https?://", text) and "<link" not in text
    for tag, attrs in parsed.tags:
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("#", "data:image/png;base64,")), f"<{tag} {name}={value[:40]!r}> leaves"
    monkeypatch.setattr(coverage, "STATEMENTS", ())
    results = {"beta": _lecture_results()["beta"]}
    page = write_lecture_report(tmp_path, results, meta={"data": "digits"}).read_text(encoding="utf-8")
    assert "coverage table of the lecture's statements is empty" in page and 'id="exp-beta"' in page


def _errorbar_segments(ax):
    segs = [seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()]
    return sorted((float(s[0][1]), float(s[1][1])) for s in segs)


def test_error_bars_are_clipped_to_the_metric_range():
    plot = {
        "title": "t",
        "kind": "bar",
        "ylabel": "test accuracy",
        "series": [{"label": "a", "x": ["u", "v"], "y": [0.95, 0.05], "yerr": [0.1, 0.1]}],
    }
    assert metric_range(plot) == (0.0, 1.0)
    lo_hi = _errorbar_segments(figure_from_plot(plot).axes[0])
    np.testing.assert_allclose(lo_hi, [(0.0, 0.15), (0.85, 1.0)], err_msg="bars must stop at 0 and 1")
    diff = {**plot, "ylabel": "test accuracy: on − off"}
    assert metric_range(diff) is None, "a difference of accuracies can be negative"
    np.testing.assert_allclose(_errorbar_segments(figure_from_plot(diff).axes[0]), [(-0.05, 0.15), (0.85, 1.05)])
    for label, bounded in (
        ("fraction of (sample, output) with |z − y| ≥ 1 − tol", True),
        ("validation accuracy (mean over seeds)", True),
        ("accuracy gain", False),
        ("Dale − free", False),
        ("max relative error", False),
    ):
        expected = (0.0, 1.0) if bounded else None
        assert metric_range({**plot, "ylabel": label}) == expected, f"{label!r} should give {expected}"
    given = {**plot, "ylabel": "loss", "yrange": [0, None]}
    assert metric_range(given) == (0.0, None)
    line = {
        "title": "t",
        "ylabel": "fraction recalled",
        "series": [{"label": "a", "x": [1, 2], "y": [0.02, 1.0], "yerr": [0.1, 0.1]}],
    }
    np.testing.assert_allclose(_errorbar_segments(figure_from_plot(line).axes[0]), [(0.0, 0.12), (0.9, 1.0)])


def test_few_seeds_are_drawn_as_dots():
    series = {"label": "a", "x": ["u", "v"], "y": [0.9, 0.8], "samples": [[0.85, 0.9, 0.95], [0.8, 0.8]]}
    fig = figure_from_plot({"title": "t", "kind": "bar", "ylabel": "accuracy", "series": [series]})
    dots = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in dots) == 5, "one dot per seed value"
    many = {**series, "samples": [list(np.linspace(0, 1, 50)), [0.8]]}
    fig = figure_from_plot({"title": "t", "kind": "bar", "ylabel": "accuracy", "series": [many]})
    assert not [c for c in fig.axes[0].collections if isinstance(c, PathCollection)], "no dots for many seeds"


def test_details_badges_and_explicit_ids_render():
    text = render_html(
        "T",
        [
            Section(
                "A", id="first", badge="not supported", details=[Details("More", text="inside", table=[{"x": 2.0}])]
            ),
            Section("B", table=[{"lr": 16.0}], number_format=format_number),
        ],
    )
    parsed = parse(text)
    assert [a["id"] for tag, a in parsed.tags if tag == "section"] == ["first", "b"]
    assert '<span class="badge not-supported">not supported</span>' in text
    assert "<details>" in text and "<summary>More</summary>" in text and "inside" in text
    assert ["16"] in parsed.rows and ["2.0000"] in parsed.rows, "number_format per section, format_value by default"
    with pytest.raises(ValueError, match="id 'first' is used twice"):
        render_html("T", [Section("A", id="first"), Section("B", id="first")])


def test_figures_drawn_in_worker_processes_give_the_same_page(tmp_path, monkeypatch):
    import neuronet.report.lecture as lec
    from neuronet import backends

    results = _lecture_results()
    serial = lec.draw_figures(results)
    assert sorted(serial) == [("alpha", 0), ("alpha", 1)], "every plot of every experiment, keyed by name and index"
    assert all(uri.startswith("data:image/png;base64,") for _, uri in serial.values())
    monkeypatch.setattr(backends, "cores", lambda: 2)
    assert lec.draw_figures(results, backend="processes") == serial, "the same PNGs wherever they are drawn"
    # the caller's matplotlib settings travel with the figures
    import matplotlib

    with matplotlib.rc_context({"axes.facecolor": "#dddddd", "font.size": 7}):
        styled = lec.draw_figures(results)
        assert styled != serial, "the settings must change the PNGs, or this check could not fail"
        assert lec.draw_figures(results, backend="processes") == styled
    # the page built from figures drawn elsewhere is the page drawn in place (the date line aside)
    meta = {"data": "digits"}
    a = write_lecture_report(tmp_path / "a", results, meta=meta).read_text(encoding="utf-8")
    b = write_lecture_report(tmp_path / "b", results, meta=meta, backend="processes").read_text(encoding="utf-8")
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")  # when the page was written
    assert stamp.sub("", a) == stamp.sub("", b) and a.count("data:image/png;base64,") == 2
    # a figure that cannot be drawn fails the report as it did when drawn in place
    broken = {"alpha": {"plots": [{"title": "t", "series": [{"label": "s", "x": [1, 2], "y": [1.0]}]}] * 2}}
    for where in ({}, {"backend": "processes", "workers": 2}):
        with pytest.raises(ValueError, match="same first dimension"):
            lec.draw_figures(broken, **where)


def test_auto_draws_a_few_figures_in_place(monkeypatch):
    import neuronet.report.lecture as lec
    from neuronet import backends

    went = []  # where the figures were sent (nothing is drawn: the runners are stand-ins)
    monkeypatch.setattr(backends, "_run_serial", lambda fn, tasks, *a, **k: went.append(("serial", len(tasks))))
    monkeypatch.setattr(backends, "_run_processes", lambda fn, tasks, *a, **k: went.append(("processes", len(tasks))))
    monkeypatch.setattr(backends, "cores", lambda: 2)
    few = _lecture_results()
    lec.draw_figures(few, backend="auto")
    plot = few["alpha"].plots[1]
    many = {f"e{i}": {"plots": [plot]} for i in range(lec.MIN_FIGURES_IN_PROCESSES)}
    lec.draw_figures(many, backend="auto")
    assert went == [("serial", 2), ("processes", 12)], "2 figures: drawn in place; 12 on 2 cores: worker processes"
