"""A student's first hour in Jupyter: reprs, net.summary(), history.plot(), progress, bio figures."""

import io
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from neuronet import EarlyStopping, History, LambdaCallback, Network, Trainer, mlp
from neuronet.bio import (
    GrandmotherStore,
    Hopfield,
    LIFPopulation,
    SpikeInput,
    abs_cosine,
    flip_bits,
    overlap,
    random_patterns,
    run_rule,
)
from neuronet.bio.plasticity import correlated_gaussian
from neuronet.errors import ConfigError
from neuronet.report.figures import layer_label
from neuronet.report.notebook import history_figure, hopfield_recall_figure, lif_raster_figure
from neuronet.train import ProgressBar


def _blobs(n=120, seed=0):
    """Three separable Gaussian blobs in 4-D, labels 0..2."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(scale=0.5, size=(n, 4)) + np.eye(3, 4)[y] * 3.0
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted():
    X, y = _blobs()
    net = mlp([4, 6, 3], hidden="sigmoid", output="softmax", seed=0)
    tr = Trainer(net, "momentum", lr=0.2, epochs=7, batch_size=16, validation_split=0.25, seed=0)
    return tr, tr.fit(X, y)


def _short(text):
    assert len(text) < 300, f"repr should be short, got {len(text)} chars: {text[:120]}..."
    assert "object at" not in text, f"repr shows a memory address: {text}"
    return text


# -- 1. reprs ----------------------------------------------------------------------------------
def test_history_repr_is_short_and_shows_the_run(fitted):
    _, h = fitted
    text = _short(repr(h))
    loss = h["loss"]
    assert text.startswith("History(epochs=7,"), text
    assert f"loss {loss[0]:.3g}→{loss[-1]:.3g}" in text, f"first→last loss missing in {text}"
    assert f"val_accuracy {h['val_accuracy'][-1]:.3g}" in text, text
    assert "keys=[loss, accuracy, val_loss, val_accuracy, seconds]" in text, text
    assert len(repr(h.diagnostics)) > 5 * len(text), "the diagnostics stay out of the repr"
    assert repr(History()) == "History(epochs=0)"


def test_history_html_is_a_table_of_the_last_epochs(fitted):
    _, h = fitted
    page = h._repr_html_(last=3)
    assert page.count("<tr>") == 1 + 3, "a header row and the last three epochs"
    for epoch in (5, 6, 7):
        assert f"<td>{epoch}</td>" in page, f"epoch {epoch} should be a row"
    assert "<td>4</td>" not in page, "epoch 4 is not among the last three"
    assert f"{h['loss'][-1]:.4g}" in page, "the last loss is shown"
    assert "sat " in page, "the per-layer saturation summary is shown"


def test_trainer_and_callback_reprs(fitted):
    tr, _ = fitted
    text = _short(repr(tr))
    for part in ("network 4→6→3", "Momentum(lr=0.2", "epoch 7/7", "batch_size=16", "validation_split=0.25"):
        assert part in text, f"{part!r} missing in {text}"
    es = EarlyStopping(monitor="val_loss", patience=3)
    assert _short(repr(es)) == "EarlyStopping(monitor='val_loss', patience=3, min_delta=0.0001, restore_best=True)"

    def watch(trainer, epoch, logs):
        pass

    assert "watch" in _short(repr(LambdaCallback(watch)))
    assert _short(repr(ProgressBar(20, io.StringIO()))) == "ProgressBar(total=20, lines, stream=StringIO)"


def test_bio_reprs_name_their_numbers(rng):
    pop = LIFPopulation(7, tau_m_ms=12.5, t_ref_ms=2.0)
    pop.run(3.0, 1.0)
    text = _short(repr(pop))
    for part in ("n=7", "tau_m_ms=12.5", "t_ref_ms=2", "v_thresh_mv=-50", "t_ms=3"):
        assert part in text, f"{part!r} missing in {text}"

    xi = random_patterns(5, 100, rng)
    net = Hopfield(xi)
    assert _short(repr(net)) == "Hopfield(5 patterns in 100 neurons, load P/N=0.05 (capacity 0.138), dtype=float64)"
    survivors, _ = net.remove_neurons(0.2, rng)
    assert "80 neurons" in repr(survivors) and "n_normalize=100" in repr(survivors), repr(survivors)

    rec = net.recall_sync(flip_bits(xi, 0.1, rng))
    text = _short(repr(rec))
    assert text.startswith(f"Recall(5 states of 100 neurons, converged {int(rec.converged.sum())}/5"), text
    one = net.recall_async(xi[0], rng, trace_energy=True)
    n_energies = 100 * (int(one.sweeps) + 1) + 1  # before the start, then after every visit of every sweep
    assert _short(repr(one)) == (
        f"Recall(1 state of 100 neurons, converged={one.converged}, sweeps={one.sweeps}, energies: {n_energies} values)"
    )

    assert _short(repr(GrandmotherStore(4, 10, copies=2))) == "GrandmotherStore(n_memories=4, n_neurons=10, copies=2)"

    X, _ = correlated_gaussian(50, 3, rng)
    traj = run_rule("oja", X, np.array([0.3, 0.0, 0.4]), eta=0.01, epochs=1, rng=rng)
    text = _short(repr(traj))
    assert text.startswith(f"Trajectory(d=3, n_updates=50, |w| 0.5→{traj.norms[-1]:.3g}, snapshots=51"), text


# -- 2. summary ----------------------------------------------------------------------------------
def test_summary_counts_every_weight_and_bias():
    net = mlp([64, 32, 16, 10], prime_offset=0.1, dropout=0.2, init="normal:1", seed=0)
    text = net.summary(print_fn=None)
    lines = text.splitlines()
    rows = [ln for ln in lines if ln.startswith("layer ")]
    assert lines[2].split()[:4] == ["Layer", "Type", "Output", "shape"], lines[2]
    assert len(rows) == 3, f"one row per layer:\n{text}"
    for i, (row, L) in enumerate(zip(rows, net.layers)):
        n = L.W.size + L.b.size  # n_in·n_out + n_out
        assert f" {n:,} " in row, f"layer {i + 1} should count {n} parameters: {row}"
        assert f"(None, {L.n_out})" in row, row
        assert "normal:1" in row, f"the initializer as mlp(init=...) spells it: {row}"
    for i, row in enumerate(rows):  # numbered like the report's figures and legends
        assert row.startswith(layer_label(i, output=i == 2) + " "), f"layer {i}: {row}"
    assert "sigmoid(prime_offset=0.1)" in rows[0] and "dropout 0.2" in rows[0], rows[0]
    assert "softmax " in rows[2] and "dropout" not in rows[2], rows[2]
    total = sum(p.size for p in net.params)
    assert total == (64 * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10)
    assert f"Total params: {total:,}" in text, text
    assert "Loss: cross-entropy" in text, text


def test_summary_prints_lines_like_keras_and_html_shows_the_table():
    net = mlp([3, 2], output="identity", seed=0)
    got = []
    assert net.summary(print_fn=got.append) is None
    assert got == net.summary(print_fn=None).splitlines(), "print_fn gets the lines of the returned text"
    assert any("Loss: squared-error" in g for g in got), got
    page = net._repr_html_()
    assert "<table>" in page and f"<td>{layer_label(0)}</td>" in page and "<td>8</td>" in page, "3·2 + 2 = 8 params"
    rebuilt = Network.from_config(net.config())
    row = next(ln for ln in rebuilt.summary(print_fn=None).splitlines() if ln.startswith(layer_label(0)))
    assert row.rstrip().endswith("?"), f"a config does not record the initializer: {row}"


# -- 3. history.plot() ---------------------------------------------------------------------------
def _ydata(ax):
    return {ln.get_label(): np.asarray(ln.get_ydata(), dtype=float) for ln in ax.lines}


def test_history_plot_draws_the_recorded_numbers(fitted):
    _, h = fitted
    fig = h.plot()
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy", "saturated units", "gradient norm"], titles
    loss, acc, sat, grad = (_ydata(ax) for ax in fig.axes)
    np.testing.assert_allclose(loss["training"], h["loss"], err_msg="training loss line")
    np.testing.assert_allclose(loss["validation"], h["val_loss"], err_msg="validation loss line")
    np.testing.assert_allclose(acc["validation"], h["val_accuracy"], err_msg="validation accuracy line")
    for i, unit in enumerate(["sigmoid", "softmax"]):
        label = layer_label(i, unit, output=i == 1)  # the legends of the report's figures
        np.testing.assert_allclose(grad[label], [d[i]["grad_norm"] for d in h.diagnostics], err_msg=label)
        saturated = [d[i]["saturated"] for d in h.diagnostics]
        if saturated[0] is None:  # an output whose saturation is not measured has no line
            assert label not in sat, f"{label}: no saturation recorded, no line"
        else:
            np.testing.assert_allclose(sat[label], saturated, err_msg=label)
    assert layer_label(0, "sigmoid") in sat, "the sigmoid hidden layer's saturation is drawn"
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), np.arange(1, 8), err_msg="epochs from 1")


def test_history_plot_without_diagnostics_or_epochs():
    X, y = _blobs(60)
    h = Trainer(mlp([4, 3], seed=0), "sgd", lr=0.1, epochs=2, diagnostics=False).fit(X, y)
    fig = history_figure(h.to_dict())
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"], "no per-layer panels without diagnostics"
    empty = History().plot()
    assert len(empty.axes) == 1 and "no epochs" in empty.axes[0].texts[0].get_text()


# -- 4. progress and argument checks -------------------------------------------------------------
def test_verbose_writes_one_line_per_epoch_to_a_plain_stream():
    X, y = _blobs(60)
    buf = io.StringIO()
    h = Trainer(mlp([4, 3], seed=0), "sgd", lr=0.1, epochs=4, batch_size=20, verbose=True, stream=buf).fit(X, y)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in buf.getvalue(), "StringIO is no terminal: one line per epoch"
    for k, line in enumerate(lines, start=1):
        assert line.startswith("[" + "#" * (5 * k) + "-" * (20 - 5 * k) + "]"), f"bar after {k}/4 epochs: {line}"
        assert f"epoch {k}/4" in line and f"loss {h['loss'][k - 1]:.4f}" in line, line


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_rewrites_one_line_in_a_terminal():
    X, y = _blobs(60)
    tty = _Terminal()
    Trainer(mlp([4, 3], seed=0), "sgd", lr=0.1, epochs=3, verbose=True, stream=tty).fit(X, y)
    out = tty.getvalue()
    assert out.count("\r") == 3 and out.count("\n") == 1 and out.endswith("\n"), repr(out)
    assert "epoch 3/3" in out.split("\r")[-1], "the last state on screen is the last epoch"


def test_verbose_with_log_passes_lines_and_quiet_writes_nothing():
    X, y = _blobs(60)
    buf, got = io.StringIO(), []
    Trainer(mlp([4, 3], seed=0), "sgd", epochs=2, verbose=True, log=got.append, stream=buf).fit(X, y)
    assert [g.split("  ")[0] for g in got] == ["epoch 1/2", "epoch 2/2"] and buf.getvalue() == "", got
    Trainer(mlp([4, 3], seed=0), "sgd", epochs=2, stream=buf).fit(X, y)
    assert buf.getvalue() == "", "verbose=False writes nothing"


def test_progress_bar_overwrite_pads_over_a_longer_line():
    tty = io.StringIO()
    bar = ProgressBar(2, tty, overwrite=True, width=4)
    bar.update(1, "a long first line")
    bar.update(2, "short")
    bar.close()
    bar.close()
    first, second = tty.getvalue().split("\r")[1:]
    assert first == "[##--]  a long first line"
    assert second.rstrip("\n") == "[####]  short" + " " * (len(first) - len("[####]  short")), repr(second)
    assert tty.getvalue().count("\n") == 1, "close() ends the line once"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"network": None}, "network"),
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"batch_size": "64"}, "batch_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"shuffle": 1}, "shuffle"),
        ({"seed": -1}, "seed"),
        ({"lr": "0.1"}, "lr"),
        ({"verbose": "yes"}, "verbose"),
        ({"lr_schedule": 0.1}, "lr_schedule"),
    ],
)
def test_trainer_refuses_loose_arguments(kwargs, name):
    kwargs = {"network": mlp([2, 2], seed=0), **kwargs}
    with pytest.raises(ConfigError, match=rf"^Trainer\({name}=\.\.\.\): ") as e:
        Trainer(**kwargs)
    assert "\n" not in str(e.value), "one line"


def test_trainer_still_takes_numpy_and_integral_floats():
    t = Trainer(mlp([2, 2], seed=0), epochs=np.int64(3), batch_size=8.0, seed=np.int32(1), shuffle=np.bool_(False))
    assert (t.epochs, t.batch_size, t.seed, t.shuffle) == (3, 8, 1, False)
    assert type(t.epochs) is int and type(t.shuffle) is bool


# -- 5. bio figures ------------------------------------------------------------------------------
def test_hopfield_figure_shows_cue_recall_and_stored_images(rng):
    xi = random_patterns(3, 64, rng)
    net = Hopfield(xi)
    cues = flip_bits(xi, 0.15, rng)
    rec = net.recall_sync(cues)
    fig = hopfield_recall_figure(cues, rec, xi, shape=(8, 8))
    assert len(fig.axes) == 9, "3 memories × (cue, recalled, stored)"
    for r in range(3):
        for c, states in enumerate((cues, rec.states, xi)):
            img = np.asarray(fig.axes[3 * r + c].images[0].get_array())
            np.testing.assert_array_equal(img, states[r].reshape(8, 8), err_msg=f"row {r}, column {c}")
    m = overlap(xi[0], cues[0])
    assert fig.axes[0].get_title() == f"cue  m={m:.2f}", fig.axes[0].get_title()


def test_hopfield_figure_puts_survivors_back_on_the_grid(rng):
    xi = random_patterns(2, 16, rng)
    survivors, alive = Hopfield(xi).remove_neurons(0.25, rng)
    fig = hopfield_recall_figure(survivors.patterns, survivors.patterns, alive=alive)
    img = np.asarray(fig.axes[0].images[0].get_array()).ravel()
    assert (img[~alive] == 0).all() and np.array_equal(img[alive], survivors.patterns[0]), "dead neurons are 0 (grey)"
    with pytest.raises(ConfigError, match="does not hold 12 neurons"):
        hopfield_recall_figure(survivors.patterns, survivors.patterns, shape=(3, 5))


def test_hopfield_plot_recall_recalls_then_draws(rng):
    xi = random_patterns(2, 25, rng)
    net = Hopfield(xi)
    cues = flip_bits(xi, 0.1, rng)
    fig = net.plot_recall(cues)
    recalled = np.asarray(fig.axes[1].images[0].get_array()).ravel()
    np.testing.assert_array_equal(recalled, net.recall_sync(cues).states[0], "synchronous recall without rng")
    assert fig.axes[0].images[0].get_array().shape == (5, 5), "25 neurons: a 5 × 5 square by default"


def test_lif_raster_has_every_spike_and_the_traces():
    pop = LIFPopulation(6)
    rec = pop.run(200.0, np.linspace(1.0, 6.0, 6), record_v=[2, 5])
    assert rec.spike_counts.sum() > 20, "enough spikes for the test to mean something"
    fig = lif_raster_figure(rec, v_thresh_mv=pop.v_thresh_mv)
    raster, traces = fig.axes
    (ticks,) = raster.lines
    assert len(ticks.get_xdata()) == rec.spike_counts.sum() == rec.spike_neuron.size
    np.testing.assert_array_equal(ticks.get_xdata(), rec.spike_time_ms)
    np.testing.assert_array_equal(ticks.get_ydata(), rec.spike_neuron)
    for j in range(2):
        np.testing.assert_array_equal(traces.lines[j].get_ydata(), rec.v_trace_mv[:, j])
    assert traces.lines[2].get_ydata()[0] == pop.v_thresh_mv, "the dashed threshold line"
    assert len(lif_raster_figure(pop.run(10.0, 0.0)).axes) == 1, "no traces recorded: the raster alone"
    assert len(rec.plot().axes[0].lines[0].get_xdata()) == rec.spike_neuron.size, "record.plot() delegates"


def test_spike_record_and_input_reprs_are_one_line():
    rec = LIFPopulation(1000).run(100.0, np.linspace(0.0, 20.0, 1000))
    text = repr(rec)
    assert len(text) < 200 and "\n" not in text, text
    assert f"{rec.spike_neuron.size} spikes" in text and "n=1000" in text and "0–100 ms" in text
    inp = SpikeInput.from_trains([[1.0, 2.0], [3.0]], [-1.0, 2.0])
    assert repr(inp) == "SpikeInput(3 events onto 2 neurons, 1–3 ms, 2 inhibitory)"


# -- 6. overlap as a number ----------------------------------------------------------------------
def test_overlap_of_one_pattern_is_a_python_float(rng):
    xi = random_patterns(4, 50, rng)
    m = overlap(xi[0], xi[0])
    assert type(m) is float and m == 1.0
    assert overlap(xi[0], -xi[0]) == -1.0
    batch = overlap(xi, xi)
    assert isinstance(batch, np.ndarray) and batch.shape == (4,) and (batch == 1.0).all(), "rows stay an array"


def test_abs_cosine_of_one_vector_is_a_python_float():
    c = abs_cosine(np.array([3.0, 4.0]), np.array([1.0, 0.0]))
    assert type(c) is float and c == pytest.approx(0.6)
    rows = abs_cosine(np.array([[3.0, 4.0], [0.0, 0.0]]), np.array([0.0, -1.0]))
    np.testing.assert_allclose(rows, [0.8, 0.0])


# -- layering --------------------------------------------------------------------------------------
def test_train_and_bio_load_no_matplotlib():
    code = "import sys, neuronet, neuronet.bio, neuronet.train; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "plotting is imported only when a plot is asked for"
