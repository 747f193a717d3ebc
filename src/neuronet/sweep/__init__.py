"""Sweeps: one experiment (or training run) over a grid of settings × seeds, resumable, serial or distributed.

A sweep is described by a TOML spec::

    experiment = "train"            # "train" (a TrainConfig run) or any registered experiment
    seeds = [0, 1, 2]
    data = "digits"                 # optional: the config's ``data``
    metric = "test_accuracy"        # optional: the metric plotted against each swept key
    quick = false                   # optional, experiments only: start from the quick defaults

    [grid]                          # lists of values, crossed in the order written here
    activation = ["sigmoid", "tanh"]
    lr = [0.01, 0.1]

    [fixed]                         # optional: values shared by every trial
    epochs = 5
    hidden = [32]

Every value is checked before anything runs; a bad spec raises one ``ConfigError``
naming the key and what is valid.

A *trial* is one grid point with one seed.  ``run_trial`` is a pure function of the
trial (config and seed) returning a JSON-able record: the metrics as numbers, the
config, seed, timings, library versions and host.  Each finished trial is written
atomically to ``OUT/trials/<id>.json`` (``id`` hashes the experiment, full config and
seed); a rerun reads those files and runs only the trials that are missing or
unreadable, so a sweep that was killed loses at most the trials that were running.
``OUT/summary.csv`` and ``OUT/summary.html`` are rebuilt from ``OUT/spec.toml`` and
the trial files at the end, or at any time by ``write_report(OUT)``.

Backends: ``serial``, ``processes`` and ``dask`` (``auto`` picks one), see ``neuronet.backends``
(the same machinery runs the lecture).  The package: ``spec`` (the TOML spec and its trials), ``trials`` (one trial, a
pure function), ``store`` (trial files and the lock), ``backends``; this module runs a sweep.

Where results are written, and why
----------------------------------
Only the coordinating process (the one that calls ``run_sweep``) writes trial files,
each one as soon as its result arrives.  Workers return a small dict and never touch
``OUT``, so:

* workers need no shared file system (a real Dask cluster's workers may be on hosts
  that cannot see ``OUT``), and there is a single writer per folder (a lock file keeps
  a second coordinator out);
* a worker that dies mid-trial has written nothing: the Dask scheduler reruns the
  task on another worker (up to ``distributed.scheduler.allowed-failures`` times) and
  the coordinator writes the one result that arrives; a task that a dying worker had
  already finished is recomputed, never written twice, because each future delivers
  one result;
* a coordinator that dies loses the results that had not reached it yet - the trials
  that were running; everything received before is on disk, and rerunning the same
  command runs only what is missing.  (Writing from the workers would save the running
  trials of an external cluster past a coordinator's death, but would need a shared
  file system and several writers, and saves nothing on a LocalCluster, whose workers
  die with their coordinator.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..backends import BACKENDS, check_backend, resolve_backend, run_tasks
from ..errors import ConfigError
from ..files import write_text_atomic
from .spec import MAX_TRIALS, TRAIN_METRICS, Spec, Trial, _count, _point_text, load_spec, parse_spec, trial_id
from .store import Lock, load_records, read_record, save_record, trial_path
from .trials import flatten_metrics, run_trial

__all__ = [
    "BACKENDS",
    "TRAIN_METRICS",
    "Spec",
    "SweepOutcome",
    "Trial",
    "flatten_metrics",
    "load_records",
    "load_spec",
    "parse_spec",
    "read_record",
    "run_sweep",
    "run_trial",
    "trial_id",
    "trial_path",
    "write_report",
]


@dataclass
class SweepOutcome:
    """What ``run_sweep`` did: counts, failures (trial label and error) and the summary files."""

    out_dir: Path
    total: int
    reused: int
    ran: int
    failed: list
    seconds: float
    summary_csv: Path | None = None
    summary_html: Path | None = None

    def summary(self) -> str:
        """One line: what ran, what was reused, what failed, where the summary is."""
        failed = f", {len(self.failed)} failed (rerun to retry them)" if self.failed else ""
        return (
            f"{_count(self.ran, 'trial')} ran, {self.reused} reused{failed} in {self.seconds:.1f} s; "
            f"summary: {self.summary_csv} and {self.summary_html}"
        )

    @property
    def complete(self) -> bool:
        return not self.failed and self.reused + self.ran == self.total


def run_sweep(
    spec,
    out_dir,
    *,
    backend: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    blas_threads: int | None = None,
    log=print,
    on_result=None,
    max_trials: int = MAX_TRIALS,
) -> SweepOutcome:
    """Run every trial of ``spec`` that ``out_dir`` does not hold yet; write the summary.

    Parameters
    ----------
    spec : Spec or path
        A ``Spec`` or a TOML file (validated before anything runs).
    out_dir : path
        Gets ``spec.toml``, ``trials/<id>.json`` (one per trial, written as each
        finishes), ``summary.csv`` and ``summary.html``.
    backend : {"serial", "processes", "dask", "auto"}
        ``auto``: processes when two or more trials can go to two or more cores, else serial
        (``neuronet.backends.resolve_backend``; the command line's default).
    workers : int, optional
        Worker processes for ``processes`` and for a Dask ``LocalCluster``; default the
        number of cores (``auto``: at most ``backends.AUTO_MAX_WORKERS``).  Ignored with
        ``scheduler`` or ``client``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); dask backend only.
    client : distributed.Client, optional
        Use this client (and its cluster) instead of starting one; dask backend only.
    blas_threads : int, optional
        BLAS threads per trial; default each concurrent trial's share of its machine's
        cores (serial: leave BLAS as it is).
    log : callable
        Receives one line per finished trial.
    on_result : callable, optional
        ``on_result(record)`` after each new trial file is written.

    Returns
    -------
    SweepOutcome
        Trials that raised are listed in ``failed`` (the others still run); rerunning
        the sweep retries them.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec, max_trials=max_trials)
    check_backend(backend, workers=workers, scheduler=scheduler, client=client, blas_threads=blas_threads)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    (out / "trials").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with Lock(out):
        _claim(out, spec)
        trials = spec.trials()
        done = load_records(out, spec)
        todo = [t for t in trials if t.id not in done]
        backend, workers = resolve_backend(backend, len(todo), workers, scheduler=scheduler, client=client)
        log(
            f"sweep {spec.experiment}: {_count(len(trials), 'trial')} ({_count(len(spec.points()), 'grid point')} x "
            f"{_count(len(spec.seeds), 'seed')}); {len(done)} already done, {len(todo)} to run on {backend}"
        )
        state = _Progress(out, len(trials), len(done), spec.metric, log, on_result)
        run_tasks(
            run_trial,
            todo,
            state,
            backend=backend,
            workers=workers,
            scheduler=scheduler,
            client=client,
            blas_threads=blas_threads,
        )
        csv_path, html_path = write_report(out, spec)
    outcome = SweepOutcome(
        out, len(trials), len(done), state.ran, state.failed, time.perf_counter() - t0, csv_path, html_path
    )
    log(outcome.summary())
    return outcome


def _claim(out: Path, spec: Spec) -> None:
    """Make ``out`` this spec's folder (under the lock): clear stale temporaries, refuse another spec's trials."""
    for stale in (out / "trials").glob(".*.tmp"):  # left by a writer that was killed mid-write
        stale.unlink(missing_ok=True)
    path = out / "spec.toml"
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") != spec.text:
        raise ConfigError(
            f"--out {out}: holds the trials of a different spec ({path}); "
            "give a new --out, or rerun with the same spec to continue it"
        )
    write_text_atomic(path, spec.text)


class _Progress:
    """Writes each arriving record to its file and logs one line; counts what ran and what failed."""

    def __init__(self, out, total, reused, metric, log, on_result):
        self.out, self.total, self.metric, self.log, self.on_result = out, total, metric, log, on_result
        self.count = reused
        self.ran = 0
        self.failed = []

    def result(self, trial, record):
        save_record(self.out, record)
        self.ran += 1
        self.count += 1
        value = record["metrics"].get(self.metric)
        shown = f"{self.metric} {value:.4g}" if isinstance(value, (int, float)) else f"{self.metric} n/a"
        self.log(
            f"[{self.count}/{self.total}] {_point_text(record['point'])}, seed {record['seed']}: {shown} "
            f"({record['timing']['seconds']:.1f} s on {record['host']}:{record['pid']})"
        )
        if self.on_result is not None:
            self.on_result(record)

    def failure(self, trial, error):
        message = " ".join(f"{type(error).__name__}: {error}".split())
        self.failed.append((trial.label(), message))
        self.log(f"[failed] {trial.label()}: {message}")


def write_report(out_dir, spec: Spec | None = None) -> tuple[Path, Path]:
    """(Re)write ``OUT/summary.csv`` and ``OUT/summary.html`` from ``OUT/spec.toml`` and the trial files.

    The two files depend on nothing else (no clock), so rebuilding them from the same
    trial files gives the same bytes.
    """
    out = Path(out_dir)
    if spec is None:
        if not out.is_dir():
            raise ConfigError(f"{out}: no such directory")
        path = out / "spec.toml"
        if not path.is_file():
            raise ConfigError(f"{out}: no spec.toml, so not a sweep folder; run 'neuronet sweep SPEC.toml --out {out}'")
        spec = load_spec(path)
    from ..report.sweep_report import write_sweep_report

    records = load_records(out, spec)
    trials, n = spec.trials(), len(spec.seeds)  # grid point by grid point, seeds innermost
    groups = [
        {"point": point, "records": [records[t.id] for t in trials[i * n : (i + 1) * n] if t.id in records]}
        for i, point in enumerate(spec.points())
    ]
    return write_sweep_report(
        out,
        experiment=spec.experiment,
        keys=spec.keys,
        groups=groups,
        metric=spec.metric,
        seeds=list(spec.seeds),
        spec_text=spec.text,
    )
