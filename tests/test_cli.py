"""The `neuronet` command: train/evaluate/predict/inspect, config files, exit codes and messages."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from neuronet.cli import app
from neuronet.modelfile import load_model

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_cli(*args, timeout=120, cwd=None):
    """A real subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "neuronet", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def one_error_line(stderr, *needles):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {stderr!r}"
    assert "Traceback" not in stderr
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("trained")
    model = d / "m.safetensors"
    r = invoke(
        "train", "--data", "digits", "--hidden", "32", "--epochs", "4", "--lr", "0.2", "--standardize", "--out", model
    )
    assert r.exit_code == 0, r.output
    return model, r


def test_train_prints_config_and_one_line_per_epoch(trained):
    _model, r = trained
    out = r.stdout.splitlines()
    cfg = json.loads(out[0].removeprefix("config: "))
    assert cfg["hidden"] == [32] and cfg["epochs"] == 4 and cfg["standardize"] is True
    epochs = [ln for ln in out if ln.startswith("epoch ")]
    assert [ln.split()[1] for ln in epochs] == ["1/4", "2/4", "3/4", "4/4"]
    assert all("loss" in ln and "val_acc" in ln and "sat " in ln and ln.endswith("s") for ln in epochs)
    acc = float(out[-2].split("test accuracy")[1])
    assert acc > 0.85, out[-2]


def test_model_file_stores_resolved_config_and_evaluate_reproduces_accuracy(trained):
    model, r = trained
    _net, meta = load_model(model)
    assert meta["config"]["hidden"] == [32] and meta["preprocessing"] is not None
    assert meta["classes"] == list(range(10))
    train_acc = float(r.stdout.splitlines()[-2].split("test accuracy")[1])
    e = invoke("evaluate", model, "--data", "digits", "--json")
    assert e.exit_code == 0, e.output
    res = json.loads(e.stdout)
    assert res["accuracy"] == pytest.approx(train_acc, abs=1e-4) and res["n"] == 359


def test_predict_writes_labels_that_match_the_model(trained, tmp_path):
    from sklearn.datasets import load_digits

    model, _ = trained
    d = load_digits()
    X = d.data[:50] / 16.0
    inp = tmp_path / "x.csv"
    np.savetxt(inp, X, delimiter=",")
    outp = tmp_path / "pred.csv"
    r = invoke("predict", model, "--input", inp, "--output", outp)
    assert r.exit_code == 0, r.output
    rows = outp.read_text().splitlines()
    assert rows[0].split(",")[0] == "label" and len(rows) == 51
    labels = np.array([int(row.split(",")[0]) for row in rows[1:]])
    assert np.mean(labels == d.target[:50]) > 0.8
    # the same through .npy input
    np.save(tmp_path / "x.npy", X)
    r = invoke("predict", model, "--input", tmp_path / "x.npy", "--output", tmp_path / "p2.csv")
    assert r.exit_code == 0 and (tmp_path / "p2.csv").read_text() == outp.read_text()


def test_inspect_lists_layers(trained):
    model, _ = trained
    r = invoke("inspect", model)
    assert r.exit_code == 0, r.output
    assert "sigmoid" in r.stdout and "softmax" in r.stdout


def test_config_file_and_flag_override(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('data = "xor"\nhidden = [4]\nactivation = "tanh"\nepochs = 3\nbatch-size = "full"\nlr = 0.5\n')
    r = invoke("train", "--config", cfg, "--epochs", "2", "--out", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    resolved = json.loads(r.stdout.splitlines()[0].removeprefix("config: "))
    assert resolved["activation"] == "tanh" and resolved["epochs"] == 2 and resolved["batch_size"] is None
    _, meta = load_model(tmp_path / "m.safetensors")
    # the printed config leaves the output unit and loss to the task (null); the model file stores what was used
    assert resolved["output"] is None and resolved["loss"] is None
    assert meta["config"] == {**resolved, "output": "softmax", "loss": "cross-entropy"}
    bad = tmp_path / "bad.toml"
    bad.write_text("learning_rate = 0.1\n")
    r = invoke("train", "--config", bad)
    assert r.exit_code == 2 and "unknown key 'learning_rate'" in r.stderr and "lr" in r.stderr


def test_report_is_written(tmp_path):
    r = invoke("train", "--data", "digits", "--hidden", "16", "--epochs", "2", "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "rep" / "index.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "http://" not in html and "https://" not in html
    hist = json.loads((tmp_path / "rep" / "history.json").read_text())
    assert len(hist["history"]["epoch"] if "epoch" in hist.get("history", {}) else hist["epoch"]) == 2


def _sat_field(line):
    """The ``sat ...`` field of an epoch line (up to the next double space), or None."""
    return line.split("sat ")[1].split("  ")[0] if "sat " in line else None


def test_softmax_classifier_line_and_report_leave_out_output_saturation(tmp_path):
    r = invoke("train", "--data", "digits", "--hidden", "16", "--epochs", "3", "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    epochs = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
    assert len(epochs) == 3
    for ln in epochs:
        assert re.fullmatch(r"L0 \d\.\d\d", _sat_field(ln)), f"only hidden layer 0 has a saturation: {ln!r}"
        assert re.search(r"  conf \d\.\d\d  ", ln), f"the softmax output shows its confidence: {ln!r}"
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "n/a (softmax)" in html, "the report's diagnostics table says the softmax saturation is n/a"


def test_sigmoid_output_line_still_shows_output_saturation():
    r = invoke(
        "train", "--data", "digits", "--hidden", "16", "--epochs", "2", "--output", "sigmoid", "--loss", "squared-error"
    )
    assert r.exit_code == 0, r.output
    epochs = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
    assert epochs and all(re.fullmatch(r"L0 \d\.\d\d L1 \d\.\d\d", _sat_field(ln)) for ln in epochs), epochs
    assert not any(" conf " in ln for ln in epochs), "confidence is a softmax measure"


def test_train_report_has_the_printed_test_accuracy_architecture_and_confusion_matrix(tmp_path):
    r = invoke("train", "--data", "digits", "--hidden", "16", "--epochs", "2", "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    printed = re.search(r"test accuracy (\d\.\d{4})", r.stdout).group(1)
    hist = json.loads((tmp_path / "rep" / "history.json").read_text())
    assert f"{hist['test']['accuracy']:.4f}" == printed
    html = (tmp_path / "rep" / "index.html").read_text()
    assert f"<td>{printed}</td>" in html or f'<td class="num">{printed}</td>' in html
    assert sum(map(sum, hist["confusion"]["matrix"])) == 359 == hist["test"]["n"]
    assert hist["architecture"][-1]["parameters"] == 64 * 16 + 16 + 16 * 10 + 10
    assert hist["config"]["output"] == "softmax" and hist["config"]["loss"] == "cross-entropy"


def _write(path, text):
    path.write_text(text)
    return path


BAD_DATA = [
    ("missing.csv", None, "no such file"),
    ("empty.csv", "", "empty"),
    ("ragged.csv", "1,2,0\n3,4\n5,6,1\n", "line 2"),
    ("text.csv", "1,2,0\n3,abc,1\n", "'abc' is not a number"),
    ("nan.csv", "1,2,0\n3,nan,1\n", "NaN"),
    ("oneclass.csv", "1,2,0\n3,4,0\n5,6,0\n", "class"),
]


@pytest.mark.parametrize("name,content,needle", BAD_DATA, ids=[b[0] for b in BAD_DATA])
def test_bad_csv_gives_exit_2_and_one_line_naming_the_file(tmp_path, name, content, needle):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    r = invoke("train", "--data", path, "--epochs", "1")
    assert r.exit_code == 2, r.output
    one_error_line(r.stderr, str(path), needle)


def test_corrupt_idx_gives_exit_2(tmp_path):
    from neuronet.data.idx import write_idx

    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 255, (20, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 3, 19, dtype=np.uint8))  # count mismatch
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 255, (5, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 3, 5, dtype=np.uint8))
    r = invoke("train", "--data", f"idx:{tmp_path}", "--epochs", "1")
    assert r.exit_code == 2
    one_error_line(r.stderr, "train-labels-idx1-ubyte")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x07\x03garbage")  # bad magic
    write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 3, 20, dtype=np.uint8))
    r = invoke("train", "--data", f"idx:{tmp_path}", "--epochs", "1")
    assert r.exit_code == 2
    one_error_line(r.stderr, "t10k-images-idx3-ubyte")


def test_feature_count_mismatch_and_bad_labels_against_a_model(trained, tmp_path):
    model, _ = trained
    bad = _write(tmp_path / "x.csv", "1,2,3\n4,5,6\n")
    r = invoke("predict", model, "--input", bad, "--output", tmp_path / "o.csv")
    assert r.exit_code == 2
    one_error_line(r.stderr, "has 3 features", "expects 64")
    assert not (tmp_path / "o.csv").exists()
    nan = tmp_path / "nan.npy"
    X = np.zeros((2, 64))
    X[1, 3] = np.inf
    np.save(nan, X)
    r = invoke("predict", model, "--input", nan, "--output", tmp_path / "o.csv")
    assert r.exit_code == 2
    one_error_line(r.stderr, "NaN or infinity")
    r = invoke("evaluate", model, "--data", "xor")
    assert r.exit_code == 2
    one_error_line(r.stderr, "has 2 features", "expects 64")
    # non-integer labels for a classifier
    rows = "\n".join(",".join(["0.5"] * 64 + [str(i + 0.5)]) for i in range(10))
    r = invoke("evaluate", model, "--data", _write(tmp_path / "floats.csv", rows))
    assert r.exit_code == 2
    one_error_line(r.stderr, "floats.csv", "class labels must be integers")
    # labels out of the model's range: a 12-class CSV evaluated by a 10-class model
    rows = "\n".join(",".join(["0.5"] * 64 + [str(i % 12)]) for i in range(48))
    r = invoke("evaluate", model, "--data", _write(tmp_path / "twelve.csv", rows))
    assert r.exit_code == 2
    one_error_line(r.stderr, "twelve.csv: label 10 is not one of model", "classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--activation", "swish"], "--activation: unknown unit 'swish'; valid units: identity"),
        (["--optimizer", "rmsprop"], "--optimizer: unknown optimizer 'rmsprop'; valid: sgd, momentum"),
        (["--init", "zeros"], "--init: unknown init 'zeros'"),
        (["--loss", "hinge"], "--loss: unknown loss 'hinge'"),
        (["--targets", "0.9,0.1"], "--targets: low must be below high"),
        (["--dropout", "1.5"], "--dropout: must be < 1"),
        (["--hidden", "10,x"], "--hidden: expected comma-separated integers"),
        (["--resume"], "--resume: needs --checkpoint-dir"),
        (["--output", "sigmoid", "--loss", "cross-entropy"], "needs a softmax output unit"),
        (["--task", "bogus"], "--task: must be one of classification, regression, got 'bogus'"),
        (["--task", "regression"], "task: applies to CSV and NPZ files only, not to --data 'xor'"),
        (["--preset", "bogus"], "--preset: unknown preset 'bogus'; valid: lecture-baseline, remedy-fan-in"),
    ],
)
def test_unknown_option_values_list_the_valid_ones(args, needle):
    r = invoke("train", "--data", "xor", "--epochs", "1", *args)
    assert r.exit_code == 2, r.output
    one_error_line(r.stderr, needle)


def test_softmax_output_on_regression_data_is_refused_before_training(tmp_path):
    data = tmp_path / "regr.csv"
    data.write_text("1,2,0.5\n3,4,1.5\n5,6,0.25\n7,8,1\n1,1,1\n2,2,0\n")
    out = tmp_path / "m.safetensors"
    r = invoke(
        "train",
        "--data",
        data,
        "--task",
        "regression",
        "--hidden",
        "2",
        "--epochs",
        "1",
        "--output",
        "softmax",
        "--out",
        out,
    )
    assert r.exit_code == 2, r.output
    one_error_line(r.stderr, "--output: softmax gives class probabilities that sum to 1 and does not fit regression")
    assert not out.exists()


HOSTILE = {
    "truncated": lambda good: good[: len(good) // 2],
    "not-safetensors": lambda good: b"PK\x03\x04 this is a zip, not a model" * 3,
    "empty": lambda good: b"",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_bad_model_files_give_exit_2(trained, tmp_path, kind):
    model, _ = trained
    bad = tmp_path / f"{kind}.safetensors"
    bad.write_bytes(HOSTILE[kind](model.read_bytes()))
    for cmd in (["inspect", bad], ["evaluate", bad, "--data", "digits"]):
        r = invoke(*cmd)
        assert r.exit_code == 2, r.output
        one_error_line(r.stderr, str(bad))
    r = invoke("inspect", tmp_path / "nope.safetensors")
    assert r.exit_code == 2
    one_error_line(r.stderr, "nope.safetensors")


def test_divergence_exits_3_and_keeps_last_good_weights(tmp_path):
    model = tmp_path / "m.safetensors"
    r = invoke(
        "train",
        "--data",
        "digits",
        "--hidden",
        "32",
        "--activation",
        "relu",
        "--output",
        "identity",
        "--init",
        "normal:3",
        "--lr",
        "5",
        "--epochs",
        "5",
        "--out",
        model,
    )
    assert r.exit_code == 3, r.output
    line = one_error_line(r.stderr, "diverged", "lower learning rate")
    assert str(model) in line
    net, _ = load_model(model)
    assert all(np.isfinite(p).all() for p in net.params)


def test_real_subprocess_usage_error_is_one_line():
    r = run_cli("train", "--lr", "abc")
    assert r.returncode == 2
    one_error_line(r.stderr, "--lr")
    r = run_cli("train", "--no-such-flag")
    assert r.returncode == 2
    one_error_line(r.stderr, "--no-such-flag")
    r = run_cli("--help")
    assert r.returncode == 0 and "train" in r.stdout and "lecture" in r.stdout


def test_every_command_has_help_with_an_example():
    for cmd in (
        ["train"],
        ["evaluate"],
        ["predict"],
        ["inspect"],
        ["export-onnx"],
        ["lecture"],
        ["experiment", "list"],
        ["experiment", "run"],
    ):
        r = invoke(*cmd, "--help")
        assert r.exit_code == 0 and "Example" in r.stdout, cmd


def test_trains_on_real_fashion_mnist(tmp_path):
    folder = Path("/usr/share/datasets/fashion-mnist")
    if not (folder / "train-images-idx3-ubyte.gz").exists() and not os.environ.get("NEURONET_DATA"):
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's dataset-fashion-mnist installed (.ci/run installs it)")
        pytest.skip("Fashion-MNIST is not installed here: apt-get install dataset-fashion-mnist")
    r = invoke(
        "train",
        "--data",
        "fashion-mnist",
        "--max-train",
        "3000",
        "--max-test",
        "1000",
        "--hidden",
        "64",
        "--activation",
        "relu",
        "--epochs",
        "5",
        "--lr",
        "0.05",
        "--out",
        tmp_path / "f.safetensors",
    )
    assert r.exit_code == 0, r.output
    acc = float(r.stdout.splitlines()[-2].split("test accuracy")[1])
    assert acc > 0.75, r.stdout


def test_out_creates_missing_folders_and_refuses_a_directory(tmp_path):
    r = invoke("train", "--data", "xor", "--epochs", "1", "--out", tmp_path / "a" / "b" / "m.safetensors")
    assert r.exit_code == 0 and (tmp_path / "a" / "b" / "m.safetensors").is_file(), r.output
    r = invoke("train", "--data", "xor", "--epochs", "1", "--out", tmp_path)
    assert r.exit_code == 2
    one_error_line(r.stderr, "--out", "is a directory")
    assert "epoch 1/1" not in r.stdout, "must fail before training"


def _animals(path, names, n, seed):
    """A CSV of well-separated blobs labelled by name: ``names[k]`` around x = 6k."""
    rng = np.random.default_rng(seed)
    rows = [f"{rng.normal(6 * k, 0.5):.4f},{rng.normal():.4f},{name}" for k, name in enumerate(names) for _ in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_evaluate_matches_labels_by_name_not_position(tmp_path):
    model = tmp_path / "acd.safetensors"
    data = _animals(tmp_path / "acd.csv", ["ant", "cat", "dog"], 60, 0)
    r = invoke("train", "--data", data, "--hidden", "6", "--epochs", "40", "--standardize", "--out", model)
    assert r.exit_code == 0, r.output
    # cats and dogs only: classes 0 and 1 here, the model's 1 and 2 (by position: ants and cats)
    catdog = tmp_path / "catdog.csv"
    catdog.write_text("".join(ln + "\n" for ln in data.read_text().splitlines() if not ln.endswith(",ant")))
    r = invoke("evaluate", model, "--data", catdog, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["accuracy"] >= 0.95
    # a label the model never learned is an error, not a silent 0% accuracy
    zebras = _animals(tmp_path / "zebradog.csv", ["zebra", "dog"], 60, 1)
    r = invoke("evaluate", model, "--data", zebras)
    assert r.exit_code == 2, r.output
    one_error_line(r.stderr, "label 'zebra' is not one of model", "classes (ant, cat, dog)")


def test_predict_quotes_class_names_that_hold_commas_or_quotes(tmp_path):
    import csv

    rng = np.random.default_rng(0)
    names = ["red, dark", 'say "blue"']
    rows = [f"{rng.normal(4 * k, 0.5):.4f},{rng.normal():.4f}" for k in range(2) for _ in range(40)]
    labels = [names[k] for k in range(2) for _ in range(40)]
    data = tmp_path / "colours.csv"
    with data.open("w", newline="") as f:
        csv.writer(f).writerows([[*r.split(","), lab] for r, lab in zip(rows, labels)])
    model, preds = tmp_path / "c.safetensors", tmp_path / "p.csv"
    assert (
        invoke("train", "--data", data, "--hidden", "4", "--epochs", "30", "--standardize", "--out", model).exit_code
        == 0
    )
    (tmp_path / "x.csv").write_text("\n".join(rows) + "\n")
    r = invoke("predict", model, "--input", tmp_path / "x.csv", "--output", preds)
    assert r.exit_code == 0, r.output
    with preds.open(newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["label", "output_red, dark", 'output_say "blue"']
    assert all(len(row) == 3 for row in table[1:]) and len(table) == 81
    assert np.mean([row[0] == lab for row, lab in zip(table[1:], labels)]) >= 0.95


def test_playground_help_shows_the_extra_to_install():
    r = invoke("playground", "--help")
    assert r.exit_code == 0
    assert 'pip install "neuronet[playground]"' in r.output  # Rich markup once swallowed "[playground]"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--data", "bogus"], "--data 'bogus': unknown dataset"),
        (["--data", "missing.csv"], "--data 'missing.csv': missing.csv: no such file or folder"),
        (["--compare", "x=BAD"], "not a results.json of 'neuronet lecture'"),
    ],
)
def test_lecture_refuses_bad_data_and_compare_before_any_run(tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text("[1, 2]")
    args = [a.replace("BAD", str(tmp_path / "bad.json")) for a in args]
    r = invoke("lecture", "--quick", "--only", "sigmoid-facts", "--backend", "serial", "--out", tmp_path / "rep", *args)
    assert r.exit_code == 2, r.output
    one_error_line(r.stderr, needle)
    assert not (tmp_path / "rep").exists()  # nothing ran, nothing half-written


@pytest.mark.parametrize(
    "command,needle",
    [
        (["train", "--data", "xor", "--hidden", "3", "--epochs", "1", "--report", "FILE"], "--report FILE"),
        (["experiment", "run", "sigmoid-facts", "--quick", "--backend", "serial", "--out", "FILE"], "--out FILE"),
        (["lecture", "--quick", "--only", "sigmoid-facts", "--backend", "serial", "--out", "FILE"], "--out FILE"),
        (["lecture", "--quick", "--only", "sigmoid-facts", "--out", "FILE/sub", "--dry-run"], "--out FILE/sub"),
    ],
)
def test_an_output_folder_that_is_a_file_is_refused_before_any_work(tmp_path, command, needle):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    args = [a.replace("FILE", str(afile)) for a in command]
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    one_error_line(r.stderr, needle.replace("FILE", str(afile)))
    assert "config:" not in r.stdout and "measurement" not in r.stdout  # nothing ran
    assert afile.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_empty_predict_output_and_a_folder_as_sweep_spec_are_named_for_what_they_are(trained, tmp_path):
    model, _ = trained
    np.save(tmp_path / "x.npy", np.zeros((2, 64)))
    r = invoke("predict", model, "--input", tmp_path / "x.npy", "--output", "")
    assert r.exit_code == 2
    one_error_line(r.stderr, "--output: an empty path")
    (tmp_path / "spec.toml").mkdir()
    r = invoke("sweep", tmp_path / "spec.toml", "--out", tmp_path / "out")
    assert r.exit_code == 2
    one_error_line(r.stderr, "spec.toml: is a folder, not a sweep spec file")


def test_options_that_cannot_apply_are_refused_not_ignored(tmp_path):
    r = invoke("experiment", "run", "sigmoid-facts", "--quick", "--data", "xor")
    assert r.exit_code == 2
    one_error_line(r.stderr, "--data: experiment sigmoid-facts takes no dataset")
    data = tmp_path / "regr.csv"
    data.write_text("1,2,0.5\n3,4,1.5\n5,6,0.25\n7,8,1\n1,1,1\n2,2,0\n")
    r = invoke("train", "--data", data, "--task", "regression", "--targets", "0.15,0.85", "--epochs", "1")
    assert r.exit_code == 2
    one_error_line(r.stderr, "--targets: soft targets 0.15,0.85 encode class labels")


def test_evaluate_matches_numeric_labels_by_value_whether_written_as_int_or_float(tmp_path):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 0.5, (60, 2)), rng.normal(3, 0.5, (60, 2))])
    y = np.repeat([1, 2], 60)
    ints = tmp_path / "int.csv"
    ints.write_text("".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(X, y)))
    floats = tmp_path / "flt.npz"
    np.savez(floats, X=X, y=y.astype(np.float64))  # labels 1.0 and 2.0
    model = tmp_path / "m.safetensors"
    r = invoke("train", "--data", ints, "--hidden", "4", "--epochs", "20", "--standardize", "--out", model)
    assert r.exit_code == 0, r.output
    r = invoke("evaluate", model, "--data", floats, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["accuracy"] >= 0.95


def test_empty_output_paths_are_refused_before_any_work(trained, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, _ = trained
    spec = tmp_path / "s.toml"
    spec.write_text('experiment = "sigmoid-facts"\nseeds = [0]\n')
    for args, needle in [
        (["export-onnx", model, ""], "OUT: an empty path"),
        (["sweep", spec, "--out", ""], "--out: an empty path"),
        (["lecture", "--quick", "--only", "sigmoid-facts", "--out", ""], "--out: an empty path"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, r.output
        one_error_line(r.stderr, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # nothing written into the current folder


def test_evaluate_does_not_warn_about_classes_its_data_set_never_trains(tmp_path):
    rng = np.random.default_rng(0)
    centres = {0: -6, 1: -2, 5: 2, 6: 6}
    y = np.repeat(list(centres), 30)
    X = np.stack([np.array([centres[c] for c in y]) + rng.normal(0, 0.3, y.size), rng.normal(size=y.size)], 1)
    known = tmp_path / "known.npz"
    np.savez(known, X=X, y=y)
    model = tmp_path / "m.safetensors"
    r = invoke("train", "--data", known, "--hidden", "8", "--epochs", "60", "--standardize", "--out", model)
    assert r.exit_code == 0, r.output
    part = tmp_path / "part.npz"  # its training split shows 0 and 1 only; its test split 5 and 6 as well
    np.savez(part, X=X[y < 2], y=y[y < 2], X_test=X, y_test=y)
    r = invoke("evaluate", model, "--data", part, "--json")
    assert r.exit_code == 0, r.output
    assert "never" not in r.stderr  # a warning about training on part.npz; this model was trained on known.npz
    assert json.loads(r.stdout.strip().splitlines()[-1])["accuracy"] >= 0.9


def test_sweep_report_of_an_empty_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("sweep-report", "")
    assert r.exit_code == 2
    one_error_line(r.stderr, "DIR: an empty path")
    assert list(tmp_path.iterdir()) == []
