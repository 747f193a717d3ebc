"""What a user meets first: one line and exit 2 for every failure, and no output that destroys an input."""

import os
import stat

import numpy as np
import pytest

from neuronet.cli import main

TINY = ["--data", "xor", "--hidden", "4", "--epochs", "2", "--no-diagnostics"]


def _run(capsys, *args):
    """``neuronet ARGS`` through the console entry point: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _one_line(err, *needles):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, f"expected one line on stderr, got {err!r}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"


# -- every exception becomes one line ------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (MemoryError(), 2, "out of memory"),
        (ValueError("bad value"), 2, "unexpected ValueError: bad value"),
        (TypeError("bad type"), 2, "unexpected TypeError: bad type"),
        (RecursionError("deep"), 2, "nested too deeply"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_any_exception_inside_a_command_is_one_line_with_its_exit_code(capsys, monkeypatch, exc, code, needle):
    import neuronet.trainjob

    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(neuronet.trainjob, "prepare_data", boom)
    got, _, err = _run(capsys, "train", *TINY)
    assert got == code
    _one_line(err, needle)


def test_no_arguments_prints_the_help_and_no_error(capsys):
    code, out, err = _run(capsys)
    assert code == 0 and "Usage: neuronet" in out and "train" in out and "error" not in err


def test_version(capsys):
    from neuronet import __version__

    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.strip() == f"neuronet {__version__}"


# -- outputs that cannot be written, checked before any work ------------------------------------
def test_out_must_not_be_empty(capsys):
    code, out, err = _run(capsys, "train", *TINY, "--out", "")
    assert code == 2 and "config:" not in out
    _one_line(err, "--out: an empty path")


def test_a_device_is_never_replaced_by_the_model_file(capsys):
    before = os.stat("/dev/null")
    code, _, err = _run(capsys, "train", *TINY, "--out", "/dev/null")
    assert code == 2
    _one_line(err, "/dev/null", "not a regular file")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_symlinked_output_is_written_through_and_stays_a_link(capsys, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "m.safetensors").write_text("old")
    link = tmp_path / "link.safetensors"
    link.symlink_to(shared / "m.safetensors")
    code, _, err = _run(capsys, "train", *TINY, "--out", str(link), "--overwrite")
    assert code == 0, err
    assert link.is_symlink() and (shared / "m.safetensors").read_bytes()[:8] != b"old"
    code, _, err = _run(capsys, "inspect", str(shared / "m.safetensors"))
    assert code == 0, err
    assert sorted(p.name for p in shared.iterdir()) == ["m.safetensors"]  # no temporary file left beside it


def test_dev_stdout_is_refused_before_anything_is_written(tmp_path):
    # /dev/stdout is a link to whatever fd 1 is; with fd 1 a regular file, replacing "it" replaced the link.
    # check_target is what every writer asks first, so the test never writes (a failure here would).
    from neuronet.errors import ConfigError
    from neuronet.files import check_target

    (tmp_path / "out.safetensors").symlink_to("/dev/stdout")  # followed to its end: the file fd 1 writes to
    (tmp_path / "d").symlink_to("/dev")
    links = [tmp_path / "out.safetensors", tmp_path / "d" / "stdout"]
    for path in ("/dev/stdout", "/dev/stderr", "/proc/self/fd/1", *links):
        with pytest.raises(ConfigError, match="a device or a process's file, not a regular file"):
            check_target(path)
    if os.path.isdir("/dev/shm"):
        check_target("/dev/shm/neuronet-model.safetensors")  # a tmpfs of ordinary files: allowed


def test_a_file_in_the_path_is_named_as_a_parent_that_is_not_a_directory(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, _, err = _run(capsys, "train", *TINY, "--out", str(tmp_path / "afile" / "m.safetensors"))
    assert code == 2
    _one_line(err, "parent", "afile", "is not a directory")


def test_the_model_file_never_overwrites_the_training_data(capsys, tmp_path):
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.random((40, 2))]
    data.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    before = data.read_bytes()
    code, _, err = _run(capsys, "train", "--data", str(data), "--epochs", "1", "--out", str(data))
    assert code == 2 and data.read_bytes() == before
    _one_line(err, f"--out {data}", f"--data {data}", "same file")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "m.safetensors"
    with pytest.raises(SystemExit) as info:
        main(["train", *TINY, "--out", str(path)])
    assert info.value.code == 0
    return path


def test_predict_and_export_refuse_to_write_over_the_model(capsys, model, tmp_path):
    before = model.read_bytes()
    x = tmp_path / "x.csv"
    x.write_text("0,1\n1,0\n")
    code, _, err = _run(capsys, "predict", str(model), "--input", str(x), "--output", str(model))
    assert code == 2
    _one_line(err, f"--output {model}", "the model", "same file")
    code, _, err = _run(capsys, "predict", str(model), "--input", str(x), "--output", str(x))
    assert code == 2 and x.read_text() == "0,1\n1,0\n"
    code, _, err = _run(capsys, "export-onnx", str(model), str(model))
    assert code == 2
    _one_line(err, "same file")
    assert model.read_bytes() == before


# -- checkpoints are never silently replaced ---------------------------------------------------
def test_a_fresh_run_over_a_checkpoint_needs_resume_or_overwrite(capsys, tmp_path):
    ck = tmp_path / "ck"
    assert _run(capsys, "train", *TINY, "--checkpoint-dir", str(ck))[0] == 0
    saved = (ck / "checkpoint.safetensors").read_bytes()
    code, _, err = _run(capsys, "train", *TINY, "--checkpoint-dir", str(ck))
    assert code == 2 and (ck / "checkpoint.safetensors").read_bytes() == saved
    _one_line(err, "--checkpoint-dir", "--resume", "--overwrite")
    assert _run(capsys, "train", *TINY, "--checkpoint-dir", str(ck), "--overwrite", "--seed", "1")[0] == 0
    assert (ck / "checkpoint.safetensors").read_bytes() != saved
    code, _, err = _run(
        capsys, "train", *TINY, "--checkpoint-dir", str(ck), "--out", str(ck / "checkpoint.safetensors")
    )
    assert code == 2


def test_resume_refuses_fewer_epochs_than_the_checkpoint_holds(capsys, tmp_path):
    ck = tmp_path / "ck"
    args = ["train", "--data", "xor", "--hidden", "4", "--no-diagnostics", "--checkpoint-dir", str(ck)]
    assert _run(capsys, *args, "--epochs", "3")[0] == 0
    code, _, err = _run(capsys, *args, "--epochs", "2", "--resume")
    assert code == 2
    _one_line(err, "--epochs 2", "already at epoch 3")
    code, out, _ = _run(capsys, *args, "--epochs", "4", "--resume")
    assert code == 0 and "after epoch 3" in out


# -- sizes are checked before anything is allocated ---------------------------------------------
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--hidden", "1000000000"], "too large"),
        (["--data", "encoder:200000-3-200000"], "too large"),
    ],
)
def test_huge_requests_are_refused_with_the_memory_they_would_need(capsys, args, needle):
    code, _, err = _run(capsys, "train", "--epochs", "1", *args)
    assert code == 2
    _one_line(err, needle, "GB")


# -- models and data that do not fit each other -------------------------------------------------
def _regression_csv(path, n_features, n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, n_features))
    y = X.sum(axis=1) * 0.37 + 0.01  # never an integer
    path.write_text("\n".join(",".join(f"{v:.6f}" for v in row) for row in np.c_[X, y]) + "\n")
    return path


@pytest.fixture(scope="module")
def regression_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("reg")
    data, model = _regression_csv(d / "reg64.csv", 64), d / "reg.safetensors"
    args = ["train", "--data", str(data), "--hidden", "4", "--epochs", "1", "--no-diagnostics", "--out", str(model)]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 0
    return model, data


def test_a_regression_model_evaluated_on_classification_data_is_one_line_naming_both(capsys, regression_model):
    model, _ = regression_model
    code, _, err = _run(capsys, "evaluate", str(model), "--data", "digits")
    assert code == 2
    _one_line(err, f"model {model} is a regression model", "--data digits is a classification dataset")


def test_a_classifier_evaluated_on_regression_targets_names_the_line(capsys, regression_model, tmp_path):
    _, data = regression_model
    model = tmp_path / "digits.safetensors"
    assert _run(capsys, "train", "--data", "digits", "--hidden", "4", "--epochs", "1", "--out", str(model))[0] == 0
    code, _, err = _run(capsys, "evaluate", str(model), "--data", str(data))
    assert code == 2
    _one_line(err, str(data), "line 1: class labels must be integers")


def test_a_regression_model_evaluates_on_its_own_kind_of_data(capsys, regression_model):
    model, data = regression_model
    code, out, err = _run(capsys, "evaluate", str(model), "--data", str(data))
    assert code == 0 and "loss" in out and "accuracy" not in out, (out, err)


def _edit_user(src, dst, **changes):
    """A copy of model file ``src`` with user metadata keys replaced (the tensors untouched)."""
    import json

    blob = src.read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])
    header["__metadata__"]["user"] = json.dumps({**json.loads(header["__metadata__"]["user"]), **changes})
    raw = json.dumps(header).encode()
    dst.write_bytes(len(raw).to_bytes(8, "little") + raw + blob[8 + n :])
    return dst


@pytest.fixture(scope="module")
def standardized_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("std") / "m.safetensors"
    with pytest.raises(SystemExit) as info:
        main(["train", *TINY, "--standardize", "--out", str(path)])
    assert info.value.code == 0
    return path


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"preprocessing": {"mean": [0.5, 0.5], "std": [0.0, 0.5]}}, "metadata preprocessing.std: entry 0 is 0"),
        ({"preprocessing": {"mean": [0.5, 0.5]}}, "metadata preprocessing: lacks std"),
        ({"classes": [1, 1]}, "metadata classes: label 1 appears twice"),
        ({"classes": [{"a": 1}, 0]}, "metadata classes: label {'a': 1} is not a string or a finite number"),
        ({"task": "regression", "classes": []}, "metadata task: 'regression' does not fit"),
    ],
)
def test_predict_with_edited_metadata_is_one_line_naming_the_model_and_the_field(
    capsys, standardized_model, tmp_path, changes, needle
):
    bad = _edit_user(standardized_model, tmp_path / "edited.safetensors", **changes)
    x = tmp_path / "x.csv"
    x.write_text("0,1\n1,0\n")
    code, _, err = _run(capsys, "predict", str(bad), "--input", str(x), "--output", str(tmp_path / "p.csv"))
    assert code == 2 and not (tmp_path / "p.csv").exists()
    _one_line(err, str(bad), needle)


def test_inspect_prints_the_configuration_and_the_test_results(capsys, standardized_model):
    code, out, _ = _run(capsys, "inspect", str(standardized_model))
    assert code == 0
    lines = out.splitlines()
    assert "config:" in lines and "  hidden = [4]" in lines and '  data = "xor"' in lines, out
    assert any(ln.startswith("test: loss ") and "accuracy" in ln for ln in lines), out
    assert "task: classification; classes 0, 1" in lines and "checksum verified" in lines[0], out
    assert any(ln.startswith("training: 2 epochs") and "inputs standardized" in ln for ln in lines), out


def test_what_the_library_decided_is_shown_as_one_line_warnings(capsys, tmp_path):
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    data.write_text("a,b,label\n" + "\n".join(f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.random((40, 2))))
    code, _, err = _run(capsys, "train", "--data", str(data), "--hidden", "2", "--epochs", "1", "--no-diagnostics")
    assert code == 0
    _one_line(err, "neuronet train: warning: ", f"{data}: first row read as a header", "'a', 'b'")
