"""Sweeps: spec validation, backends that agree number for number, and surviving killed processes."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from neuronet.backends import cores
from neuronet.cli import main as cli_main
from neuronet.errors import ConfigError
from neuronet.sweep import load_spec, parse_spec, read_record, run_sweep, trial_path, write_report

# 2 activations x 2 learning rates x 2 seeds = 8 trials of a few tens of milliseconds each
TINY = """
experiment = "train"
seeds = [0, 1]
data = "digits"
[grid]
activation = ["sigmoid", "tanh"]
lr = [0.05, 0.5]
[fixed]
epochs = 2
hidden = [8]
"""

# 2 learning rates x 4 seeds = 8 trials of a few tenths of a second each (long enough to kill mid-trial)
SLOW = """
experiment = "train"
seeds = [0, 1, 2, 3]
data = "digits"
metric = "test_loss"
[grid]
lr = [0.05, 0.1]
[fixed]
epochs = 40
hidden = [64]
"""


def _spec(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _metrics(out):
    """{trial id: (metrics, verdict)} of every trial file in ``out``."""
    recs = [json.loads(p.read_text()) for p in sorted((Path(out) / "trials").glob("*.json"))]
    return {r["id"]: (r["metrics"], r["verdict"]) for r in recs}


def _quiet(line):
    pass


@pytest.fixture(scope="module")
def serial_tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    spec = _spec(out.parent, TINY)
    outcome = run_sweep(spec, out, log=_quiet)
    assert outcome.complete and outcome.ran == 8, "the serial reference sweep should run all 8 trials"
    return out


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'experiment = "nope"\nseeds = [0]',
            ["experiment:", "unknown experiment 'nope'", "valid: train", "softmax-derivatives"],
        ),
        (
            'experiment = "train"\nseeds = [0]\n[grid]\nbogus = [1, 2]',
            ["grid.bogus", "unknown config key", "valid keys:", "activation", "lr"],
        ),
        (
            'experiment = "train"\nseeds = [0]\n[grid]\nepochs = [1, "two"]',
            ["grid.epochs", "expected an integer, got 'two' (a string)"],
        ),
        ('experiment = "train"\nseeds = [0]\n[grid]\nlr = "0.1"', ["grid.lr", "expected a list"]),
        ('experiment = "train"\nseeds = [0]\n[grid]\nlr = []', ["grid.lr", "empty list"]),
        ('experiment = "train"\n[grid]\nlr = [0.1]', ["seeds: missing", "seeds = [0, 1, 2]"]),
        ('experiment = "train"\nseeds = [0, 0]', ["seeds:", "repeated"]),
        (
            'experiment = "train"\nseeds = [0]\n[grid]\nactivation = ["sigmoid", "sigmoidd"]',
            ['grid.activation = "sigmoidd"', "valid units:", "tanh", "relu"],
        ),
        ('experiment = "train"\nseeds = [0]\n[grid]\nlr = [0.1, -1.0]', ["grid.lr = -1.0", "must be > 0"]),
        ('experiment = "train"\nseeds = [0]\n[grid]\nseed = [1, 2]', ["grid.seed", "seeds = [0, 1, 2]"]),
        ('experiment = "train"\nseeds = [0]\nmetric = "acc"', ["metric:", "'acc'", "test_accuracy", "val_loss"]),
        ('experiment = "train"\nseeds = [0]\nbackend = "dask"', ["unknown key 'backend'", "valid keys:", "grid"]),
        (
            'experiment = "softmax-derivatives"\nseeds = [0]\n[grid]\nn_hidden = [4, 2.5]',
            ["grid.n_hidden", "2.5", "expected an integer"],
        ),
        ('experiment = "softmax-derivatives"\nseeds = [0]\ndata = "digits"', ["data:", "takes no data", "n_hidden"]),
        ('experiment = "train"\nseeds = [0]\n[grid]\nlr = [0.1]\n[fixed]\nlr = 0.2', ["fixed.lr", "also in [grid]"]),
        ('experiment = "train"\nseeds = [0]\n[grid\n', ["not valid TOML"]),
        ('experiment = "train"\nseeds = [0]\ndata = "nope"', ["data:", "unknown dataset", "digits"]),
        (
            'experiment = "train"\nseeds = [0]\n[grid]\ndata = ["digits", "missing.csv"]',
            ['grid.data = "missing.csv"', "no such file"],
        ),
    ],
)
def test_invalid_spec_fails_before_anything_runs_naming_key_and_valid_values(tmp_path, text, expected):
    spec = _spec(tmp_path, text)
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as info:
        run_sweep(spec, out, log=_quiet)
    message = str(info.value)
    assert "\n" not in message, f"expected a one-line error, got {message!r}"
    assert message.startswith(str(spec)), f"expected the error to name the spec file: {message!r}"
    for part in expected:
        assert part in message, f"expected {part!r} in the error {message!r}"
    assert not out.exists(), "a bad spec must fail before any output is written"


def test_the_sweep_command_reports_a_bad_spec_in_one_line_with_exit_2(tmp_path, capsys):
    spec = _spec(tmp_path, 'experiment = "train"\n[grid]\nlr = [0.1]')
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert info.value.code == 2, "a bad spec should exit with code 2"
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "seeds: missing" in err, f"expected one line naming 'seeds', got {err!r}"


def test_grid_is_crossed_in_spec_order_with_seeds_innermost():
    spec = parse_spec('experiment = "train"\nseeds = [3, 1]\n[grid]\nlr = [0.5, 0.1]\nactivation = ["tanh", "relu"]')
    got = [(t.point["lr"], t.point["activation"], t.seed) for t in spec.trials()]
    assert got == [
        (0.5, "tanh", 3),
        (0.5, "tanh", 1),
        (0.5, "relu", 3),
        (0.5, "relu", 1),
        (0.1, "tanh", 3),
        (0.1, "tanh", 1),
        (0.1, "relu", 3),
        (0.1, "relu", 1),
    ]
    assert len({t.id for t in spec.trials()}) == 8, "every trial should have its own id"
    again = parse_spec(
        'experiment = "train"\nseeds = [3]\n[grid]\nlr = [0.5]\nactivation = ["tanh"]\n[fixed]\nepochs = 20'
    )
    assert again.trials()[0].id == spec.trials()[0].id, "stating a default explicitly must not change the id"


# -- serial, resume, summary -------------------------------------------------------------------
def test_rerun_skips_finished_trials_and_reruns_corrupt_ones(tmp_path, serial_tiny):
    out = tmp_path / "out"
    spec = _spec(tmp_path, TINY)
    first = run_sweep(spec, out, log=_quiet)
    assert (first.ran, first.reused) == (8, 0)
    trials = load_spec(spec).trials()
    trial_path(out, trials[2]).write_text('{"format": "neuronet-sweep-trial", "metr')  # killed mid-write
    trial_path(out, trials[5]).unlink()
    before = {t.id: trial_path(out, t).stat().st_mtime_ns for t in trials if t not in (trials[2], trials[5])}
    ran = []
    second = run_sweep(spec, out, log=_quiet, on_result=lambda r: ran.append(r["id"]))
    assert sorted(ran) == sorted([trials[2].id, trials[5].id]), "only the corrupt and the missing trial should rerun"
    assert (second.ran, second.reused, second.complete) == (2, 6, True)
    after = {i: trial_path(out, i).stat().st_mtime_ns for i in before}
    assert after == before, "finished trial files must not be rewritten"
    assert _metrics(out) == _metrics(serial_tiny), "rerun trials must give the same numbers"


def test_summary_is_written_and_rebuilt_identically_from_the_trial_files(serial_tiny, tmp_path):
    csv_text = (serial_tiny / "summary.csv").read_text()
    html = (serial_tiny / "summary.html").read_text()
    lines = csv_text.strip().split("\n")
    header = lines[0].split(",")
    assert header[:3] == ["activation", "lr", "trials"] and "test_accuracy_mean" in header
    assert len(lines) == 1 + 4, "one row per grid point"
    # the first row's mean is the mean over its two seeds' trial files
    spec = load_spec(serial_tiny / "spec.toml")
    accs = [read_record(trial_path(serial_tiny, t))["metrics"]["test_accuracy"] for t in spec.trials()[:2]]
    row = dict(zip(header, lines[1].split(",")))
    assert (row["activation"], row["lr"], row["trials"]) == ("sigmoid", "0.05", "2")
    assert float(row["test_accuracy_mean"]) == pytest.approx(sum(accs) / 2, abs=1e-12)
    assert html.count("data:image/png;base64,") == 2, "one plot per swept key"
    assert "8 of 8" in html and "test_accuracy against lr" in html

    copy = tmp_path / "copy"  # only spec.toml and the trial files
    (copy / "trials").mkdir(parents=True)
    (copy / "spec.toml").write_bytes((serial_tiny / "spec.toml").read_bytes())
    for p in (serial_tiny / "trials").glob("*.json"):
        (copy / "trials" / p.name).write_bytes(p.read_bytes())
    write_report(copy)
    assert (copy / "summary.csv").read_text() == csv_text, "sweep-report must rebuild summary.csv identically"
    assert (copy / "summary.html").read_text() == html, "sweep-report must rebuild summary.html identically"


def test_experiment_sweep_flattens_metrics_and_records_the_verdict(tmp_path):
    spec = _spec(tmp_path, 'experiment = "softmax-derivatives"\nseeds = [0, 1]\n[grid]\nn_classes = [3, 5]\n')
    outcome = run_sweep(spec, tmp_path / "out", log=_quiet)
    assert outcome.complete and outcome.ran == 4
    for metrics, verdict in _metrics(tmp_path / "out").values():
        assert verdict == "supported" and metrics["supported"] == 1
        assert all(isinstance(v, (int, float)) for v in metrics.values()), f"metrics must be numbers: {metrics}"
        assert len(metrics) == 8, f"seven checks plus 'supported', got {sorted(metrics)}"
    assert "supported_mean" in (tmp_path / "out" / "summary.csv").read_text().split("\n")[0]


def test_processes_backend_equals_serial(tmp_path, serial_tiny):
    out = tmp_path / "out"
    outcome = run_sweep(_spec(tmp_path, TINY), out, backend="processes", workers=2, log=_quiet)
    assert outcome.complete and outcome.ran == 8
    assert _metrics(out) == _metrics(serial_tiny), "processes and serial should give the same numbers"
    assert len({json.loads(p.read_text())["pid"] for p in (out / "trials").glob("*.json")} - {os.getpid()}) >= 1


def test_the_sweep_command_defaults_to_processes_on_two_cores(tmp_path, serial_tiny, monkeypatch, capsys):
    from neuronet import backends

    monkeypatch.setattr(backends, "cores", lambda: 2)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep", str(_spec(tmp_path, TINY)), "--out", str(out)])
    assert info.value.code == 0
    assert "8 to run on processes" in capsys.readouterr().out
    assert _metrics(out) == _metrics(serial_tiny), "the default backend must give the serial numbers"
    assert os.getpid() not in {json.loads(p.read_text())["pid"] for p in (out / "trials").glob("*.json")}


# -- Dask --------------------------------------------------------------------------------------
@pytest.fixture
def dask_client():
    distributed = pytest.importorskip("distributed")
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_local_cluster_runs_each_trial_once_and_equals_serial(tmp_path, serial_tiny, dask_client):
    from distributed import get_task_stream

    out = tmp_path / "out"
    written = []
    with get_task_stream(dask_client) as stream:
        outcome = run_sweep(
            _spec(tmp_path, TINY),
            out,
            backend="dask",
            client=dask_client,
            log=_quiet,
            on_result=lambda r: written.append(r["id"]),
        )
    assert outcome.complete and outcome.ran == 8
    runs = Counter(t["key"] for t in stream.data if str(t["key"]).startswith("neuronet-task-"))
    assert len(runs) == 8 and set(runs.values()) == {1}, f"each trial should run exactly once: {runs}"
    assert sorted(written) == sorted(_metrics(serial_tiny)), "each trial file should be written exactly once"
    assert _metrics(out) == _metrics(serial_tiny), "Dask and serial should give the same numbers for the same seeds"
    recs = [json.loads(p.read_text()) for p in (out / "trials").glob("*.json")]
    assert len({r["pid"] for r in recs}) == 2, "both worker processes should have run trials"
    share = max(1, cores() // 2)
    assert {r["blas_threads"] for r in recs} == {share}, "each worker pins BLAS to its share of the cores"


def test_dask_sweep_survives_a_worker_killed_mid_trial(tmp_path, dask_client):
    out = tmp_path / "out"
    spec = _spec(tmp_path, SLOW)
    killed = []

    def kill_a_busy_worker(record):
        if killed:
            return
        busy = [addr for addr, keys in dask_client.processing().items() if keys]
        pids = dask_client.run(os.getpid)
        victim = pids[busy[0]]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    outcome = run_sweep(spec, out, backend="dask", client=dask_client, log=_quiet, on_result=kill_a_busy_worker)
    assert killed, "the test should have killed a worker"
    assert outcome.complete and outcome.ran == 8 and not outcome.failed, f"every trial should finish: {outcome}"
    ref = tmp_path / "ref"
    run_sweep(spec, ref, log=_quiet)
    assert _metrics(out) == _metrics(ref), "trials rescheduled after a worker death must give the same numbers"


def test_killed_coordinator_resumes_without_rerunning_finished_trials(tmp_path):
    pytest.importorskip("distributed")
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    spec = _spec(tmp_path, SLOW)
    total = len(load_spec(spec).trials())
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neuronet",
            "sweep",
            str(spec),
            "--out",
            str(out),
            "--backend",
            "dask",
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "trials").glob("*.json"))) >= 2 if (out / "trials").is_dir() else False:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep should still be running when it is killed"
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _, alive = psutil.wait_procs(children, timeout=15)  # a LocalCluster's workers die with it
        for p in alive:
            p.kill()
    assert not alive, "worker processes should not outlive a killed coordinator"

    done = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "trials").glob("*.json")}
    assert 2 <= len(done) < total, f"expected a partial sweep, got {len(done)} of {total} trials"
    ran = []
    outcome = run_sweep(spec, out, log=_quiet, on_result=lambda r: ran.append(r["id"]))
    assert outcome.complete and outcome.reused == len(done) and outcome.ran == total - len(done)
    assert not {f"{i}.json" for i in ran} & set(done), "finished trials must not run again"
    for name, (mtime, content) in done.items():
        p = out / "trials" / name
        assert (p.stat().st_mtime_ns, p.read_bytes()) == (mtime, content), f"{name} was rewritten"


def test_a_failing_trial_is_reported_and_the_others_still_run(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,a\n3,oops\n")  # ragged and not numeric: loading it raises DataError
    spec = _spec(
        tmp_path,
        f'experiment = "train"\nseeds = [0, 1]\n[grid]\ndata = ["xor", "{bad}"]\n[fixed]\nepochs = 1\nhidden = [2]\n',
    )
    outcome = run_sweep(spec, tmp_path / "out", log=_quiet)
    assert (outcome.ran, len(outcome.failed), outcome.complete) == (2, 2, False)
    assert all("bad.csv" in label and "DataError" in error for label, error in outcome.failed), outcome.failed
    assert len(list((tmp_path / "out" / "trials").glob("*.json"))) == 2, "failed trials must leave no trial file"
    assert "2 of 4 trials are not done" in (tmp_path / "out" / "summary.html").read_text()


def test_cli_sweep_and_sweep_report(tmp_path):

    out = tmp_path / "out"
    spec = _spec(tmp_path, TINY)
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep", str(spec), "--out", str(out)])
    assert info.value.code == 0, "a complete sweep exits 0"
    assert len(list((out / "trials").glob("*.json"))) == 8, "all 8 trials should be written"
    csv_text = (out / "summary.csv").read_text()
    (out / "summary.csv").unlink()
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep-report", str(out)])
    assert info.value.code == 0
    assert (out / "summary.csv").read_text() == csv_text, "sweep-report must rebuild the same summary.csv"


def test_cli_sweep_bad_input_is_one_line_exit_2(tmp_path, capsys):

    spec = _spec(tmp_path, 'experiment = "train"\nseeds = [0]\n[grid]\nlr = [0.1]\n')
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "mpi"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and err.count("\n") == 0, err
    assert "--backend" in err and "serial" in err, f"expected the option and the valid values: {err!r}"
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep-report", str(tmp_path / "missing")])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "missing" in err and err.count("\n") == 0, err


def test_a_huge_grid_is_counted_and_refused_before_any_config_is_built(tmp_path):
    lrs = ", ".join(str(0.001 * (i + 1)) for i in range(1000))
    epochs = ", ".join(map(str, range(1, 1001)))
    text = f'experiment = "train"\nseeds = [0, 1]\n[grid]\nlr = [{lrs}]\nepochs = [{epochs}]'
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"2,000,000 trials \(1000 x 1000 grid points x 2 seeds\).*--max-trials"):
        parse_spec(text, source="big.toml")
    assert time.perf_counter() - t0 < 5, "the count must come before building two million configs"
    small = 'experiment = "train"\nseeds = [0, 1, 2]\n[grid]\nlr = [0.1, 0.2, 0.3, 0.4]'
    with pytest.raises(ConfigError, match="12 trials"):
        parse_spec(small, source="s.toml", max_trials=10)
    assert len(parse_spec(small, source="s.toml", max_trials=12).trials()) == 12


def test_a_folder_holding_another_specs_trials_is_refused(tmp_path):
    out = tmp_path / "out"
    run_sweep(
        _spec(tmp_path, 'experiment = "train"\nseeds = [0]\n[fixed]\nepochs = 1\nhidden = [4]\ndata = "xor"'),
        out,
        log=_quiet,
    )
    before = (out / "spec.toml").read_text()
    other = tmp_path / "other.toml"
    other.write_text('experiment = "train"\nseeds = [1]\n[fixed]\nepochs = 1\nhidden = [4]\ndata = "xor"')
    with pytest.raises(ConfigError, match="holds the trials of a different spec"):
        run_sweep(other, out, log=_quiet)
    assert (out / "spec.toml").read_text() == before


# -- corrupt trial files, silent schedulers ----------------------------------------------------------
XOR_TWO = 'experiment = "train"\nseeds = [0, 1]\ndata = "xor"\n[fixed]\nepochs = 1\nhidden = [2]\n'


def test_corrupt_trial_files_are_skipped_with_one_notice_naming_them(tmp_path):
    from neuronet.sweep import load_records

    spec = load_spec(_spec(tmp_path, XOR_TWO))
    t0, t1 = spec.trials()
    (tmp_path / "out" / "trials").mkdir(parents=True)
    trial_path(tmp_path / "out", t0).write_text("[" * 200_000)  # a RecursionError in json.loads
    trial_path(tmp_path / "out", t1).write_text('{"format": "neuronet-sweep-trial", "metr')  # truncated
    with pytest.warns(UserWarning) as said:
        assert load_records(tmp_path / "out", spec) == {}
    assert len(said) == 1, [str(w.message) for w in said]
    msg = str(said[0].message)
    assert "skipped 2 unusable trial file(s)" in msg and "\n" not in msg, msg
    assert f"{t0.id}.json (not JSON: nested too deeply)" in msg and f"{t1.id}.json (not JSON:" in msg, msg


def test_a_sweep_over_corrupt_trials_says_so_in_one_line_and_reruns_them(tmp_path, capsys):
    spec = _spec(tmp_path, XOR_TWO)
    out = tmp_path / "out"
    (out / "trials").mkdir(parents=True)
    for t in load_spec(spec).trials():
        trial_path(out, t).write_text("[" * 200_000)
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep", str(spec), "--out", str(out)])
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err
    notices = captured.err.strip().splitlines()
    assert len(notices) == 1 and notices[0].startswith("neuronet sweep: warning: "), captured.err
    assert "skipped 2 unusable trial file(s)" in notices[0] and "Traceback" not in captured.err
    assert "2 trials ran, 0 reused" in captured.out


def test_a_scheduler_that_accepts_and_never_answers_fails_within_the_timeout(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    import socket
    import threading

    import neuronet.backends

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def accept_and_say_nothing():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed at the end of the test
                return
            held.append(conn)

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    monkeypatch.setattr(neuronet.backends, "SCHEDULER_TIMEOUT_S", 2.0)
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    t0 = time.monotonic()
    try:
        with pytest.raises(SystemExit) as info:
            cli_main(["sweep", str(_spec(tmp_path, XOR_TWO)), "--out", str(tmp_path / "o"), "--backend", "dask",
                      "--scheduler", address])  # fmt: skip
    finally:
        server.close()
        for conn in held:
            conn.close()
    seconds = time.monotonic() - t0
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and err.count("\n") == 0, err
    assert f"--scheduler {address}: accepted the connection, but no Dask scheduler answered within 2 s" in err, err
    assert seconds < 20, f"took {seconds:.1f} s; the 2 s timeout must bound the wait"
    assert held, "the server must have accepted the connection (else this tests a refused one)"


def test_a_real_scheduler_passes_the_probe(tmp_path):
    distributed = pytest.importorskip("distributed")
    import logging

    from neuronet.backends import _probe_scheduler

    with distributed.LocalCluster(
        n_workers=0, processes=False, dashboard_address=None, silence_logs=logging.CRITICAL
    ) as cluster:
        _probe_scheduler(cluster.scheduler_address, 10.0)  # raises ConfigError if it did not answer


def _warning_spec(tmp_path):
    """A 4-trial sweep whose data makes every trial warn (fractional labels: the task becomes regression)."""
    rows = "\n".join(f"{i % 3},{(i * 7) % 5},{i / 8}" for i in range(24))
    data = tmp_path / "frac.csv"
    data.write_text(rows + "\n")
    return _spec(
        tmp_path,
        f'experiment = "train"\nseeds = [0, 1]\ndata = "{data}"\n[grid]\nlr = [0.1, 0.2]\n'
        "[fixed]\nepochs = 1\nhidden = [2]\n",
    )


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_warnings_inside_trials_reach_the_command_line_as_one_line(tmp_path, capsys, backend):
    spec = _warning_spec(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli_main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--backend", backend, "--workers", "2"])
    err = capsys.readouterr().err
    assert info.value.code == 0, err
    lines = err.strip().splitlines()
    assert lines and all(ln.startswith("neuronet sweep: warning: ") for ln in lines), err
    assert len(lines) == 1 and "labels are not all integers" in lines[0], err  # once; no source line, no traceback


def test_warnings_inside_trials_on_dask_are_passed_on_once(tmp_path, dask_client):
    import warnings

    spec = _warning_spec(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = run_sweep(spec, tmp_path / "out", backend="dask", client=dask_client, log=_quiet)
    assert outcome.complete and outcome.ran == 4
    ours = [w for w in caught if "labels are not all integers" in str(w.message)]
    assert len(ours) == 1 and ours[0].category is UserWarning, [str(w.message) for w in caught]


def test_a_train_sweep_on_an_encoder_spec_trains_its_hidden_layer():
    spec = parse_spec('experiment = "train"\nseeds = [0]\ndata = "encoder:8-3-8"\n[grid]\nlr = [0.1]\n')
    assert spec.trials()[0].config["hidden"] == [3]  # as `neuronet train --data encoder:8-3-8` does
    spec = parse_spec('experiment = "train"\nseeds = [0]\ndata = "encoder:8-3-8"\n[grid]\nhidden = ["5"]\n')
    assert spec.trials()[0].config["hidden"] == [5]


@pytest.mark.parametrize("table", ["grid", "fixed"])
def test_a_key_written_twice_in_a_spec_table_is_refused(table):
    values = ("[8]", "[16]") if table == "grid" else ("8", "16")
    text = f'experiment = "train"\nseeds = [0]\n[{table}]\nbatch-size = {values[0]}\nbatch_size = {values[1]}\n'
    with pytest.raises(ConfigError, match=rf"{table}.batch_size: sets batch_size a second time"):
        parse_spec(text)


@pytest.mark.parametrize(
    "edit,problem",
    [
        (lambda r: r.update(host=None), "host is not text"),
        (lambda r: r.update(host=["a"]), "host is not text"),
        (lambda r: r.update(timing="abc"), "timing is not an object"),
        (lambda r: r["timing"].update(finished=None), "timing.finished is not a date"),
        (lambda r: r["timing"].update(seconds="5"), "timing.seconds is not a number"),
        (lambda r: r["metrics"].update(test_accuracy=10**400), "metric 'test_accuracy' is too large"),
        (lambda r: r["metrics"].update(test_accuracy="high"), "metric 'test_accuracy' is not a number"),
    ],
)
def test_a_trial_record_with_fields_the_summary_cannot_use_is_skipped_not_a_crash(tmp_path, edit, problem):
    from neuronet.sweep import load_records

    out = tmp_path / "out"
    run_sweep(_spec(tmp_path, XOR_TWO), out, log=_quiet)
    spec = load_spec(out / "spec.toml")
    t0, t1 = spec.trials()
    rec = json.loads(trial_path(out, t0).read_text())
    edit(rec)
    trial_path(out, t0).write_text(json.dumps(rec))
    with pytest.warns(UserWarning, match=re.escape(f"{t0.id}.json ({problem})")):
        assert list(load_records(out, spec)) == [t1.id]  # the good one is kept
    with pytest.warns(UserWarning):
        write_report(out)  # the summaries of what is usable, both of them
    assert (out / "summary.csv").read_text().count("\n") == 2  # header and one row
