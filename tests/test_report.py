"""Tests for neuronet.report: figures, the self-contained HTML page, history.json.

The histories come from really training small networks with the engine, so the report
is tested against the format ``History.to_dict()`` actually produces.
"""

import base64
import json
import math
import os
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from markupsafe import Markup
from sklearn.datasets import load_digits

import neuronet as nn
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
    assert [line.get_label() for line in sat_ax.get_lines()] == ["layer 1 (tanh)"]
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
    assert panels == {
        "saturated units": ["layer 2 (sigmoid, output)"],
        "mean derivative": ["layer 1 (relu)", "layer 2 (sigmoid, output)"],
        "dead ReLU units": ["layer 1 (relu)"],
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
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "layer 2"
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
