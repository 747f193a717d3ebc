"""Checkpoints survive SIGKILL: a resumed run ends with the same weights as an uninterrupted one."""

import signal
import subprocess
import sys
import time

import numpy as np
from typer.testing import CliRunner

from neuronet.cli import app
from neuronet.modelfile import load_checkpoint, load_model

ARGS = [
    "train",
    "--data",
    "digits",
    "--hidden",
    "512,512",
    "--activation",
    "tanh",
    "--dropout",
    "0.1",
    "--optimizer",
    "momentum",
    "--lr",
    "0.05",
    "--epochs",
    "40",
    "--seed",
    "3",
    "--batch-size",
    "32",
]


def _cli(*args):
    return [sys.executable, "-m", "neuronet", *map(str, args)]


def _checkpoint_epoch(path):
    try:
        return load_checkpoint(path)["trainer_state"]["epoch"]
    except Exception:
        return 0  # not written yet (writes are atomic, so never half-written)


def test_sigkill_mid_training_then_resume_is_bit_identical(tmp_path):
    full = tmp_path / "full.safetensors"
    r = subprocess.run(_cli(*ARGS, "--out", full), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr

    ckdir = tmp_path / "ck"
    ckpt = ckdir / "checkpoint.safetensors"
    proc = subprocess.Popen(_cli(*ARGS, "--checkpoint-dir", ckdir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _checkpoint_epoch(ckpt) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run must be killed, not finish"
    killed_at = _checkpoint_epoch(ckpt)
    assert 3 <= killed_at < 40, killed_at
    assert not [p for p in ckdir.iterdir() if p.name != "checkpoint.safetensors"], "temp files left behind"

    resumed = tmp_path / "resumed.safetensors"
    r = subprocess.run(
        _cli(*ARGS, "--checkpoint-dir", ckdir, "--resume", "--out", resumed),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert f"resuming from {ckpt} after epoch" in r.stdout
    epochs = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
    assert epochs[0] == f"{_first_resumed(r.stdout)}/40" and epochs[-1] == "40/40"

    a, meta_a = load_model(full)
    b, meta_b = load_model(resumed)
    for x, y in zip(a.params, b.params):
        assert np.array_equal(x, y), "resumed weights differ from the uninterrupted run"
    assert meta_a["test"] == meta_b["test"]


def _first_resumed(stdout):
    line = next(ln for ln in stdout.splitlines() if ln.startswith("resuming from"))
    return int(line.rsplit(" ", 1)[1]) + 1


def test_resume_refuses_a_checkpoint_of_another_configuration(tmp_path):
    runner = CliRunner()
    base = ["train", "--data", "xor", "--hidden", "4", "--epochs", "2", "--checkpoint-dir", str(tmp_path)]
    assert runner.invoke(app, base).exit_code == 0
    r = runner.invoke(app, base + ["--resume", "--lr", "0.3"])
    assert r.exit_code == 2
    assert "was made with another configuration (lr: 0.1 -> 0.3)" in r.stderr
    # more epochs is the same configuration: resuming continues where it stopped
    r = runner.invoke(app, base[:-4] + ["--epochs", "4", "--checkpoint-dir", str(tmp_path), "--resume"])
    assert r.exit_code == 0, r.output
    assert [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("epoch ")] == ["3/4", "4/4"]
