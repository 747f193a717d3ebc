"""``neuronet experiment``, ``lecture``, ``sweep``, ``sweep-report`` and ``playground``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ._app import _errors, _fail, app, experiment_app
from .model_commands import one_line_warnings


# -- experiments and the lecture ---------------------------------------------------------------
@experiment_app.command("list")
def experiment_list():
    """List the registered experiments and the claim each one tests.

    Example: neuronet experiment list
    """
    from ..experiments import get_experiment, sorted_names

    for name in sorted_names():
        typer.echo(f"{name}: {get_experiment(name).claim}")


@experiment_app.command("run")
@_errors("experiment run")
def experiment_run(
    name: Annotated[str, typer.Argument(help="Experiment name (see 'neuronet experiment list').")],
    quick: Annotated[bool, typer.Option(help="Small, fast version.")] = False,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a config value: key=value (tuples comma-separated).")
    ] = None,
    data: Annotated[str | None, typer.Option(help="Dataset spec, for experiments that take one.")] = None,
    out: Annotated[str | None, typer.Option(help="Folder for results/<name>.json and index.html.")] = None,
    backend: Annotated[
        str, typer.Option(help="Where its runs go: auto (processes, one per core, on 2+ cores), serial or processes.")
    ] = "auto",
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: the cores; auto: at most 8).")] = None,
):
    """Run one experiment and print its verdict.

    Its runs go to one process per core by default (--backend auto); the numbers do not depend on it.

    Example: neuronet experiment run saturation --quick --set seeds=0,1
    """
    from ..backends import check_backend
    from ..experiments import get_experiment, parse_overrides
    from ..experiments.runner import experiment_config, run_one
    from ..files import check_out_folder

    if backend == "dask":
        raise ConfigError("--backend: experiment run takes auto, serial or processes (Dask: neuronet lecture --only)")
    check_backend(backend, workers=workers)
    check_out_folder(out, "--out")
    exp = get_experiment(name)
    if data is not None and "data" not in {f.name for f in dataclasses.fields(exp.config_cls)}:
        raise ConfigError(f"--data: experiment {name} takes no dataset (its inputs are its own)")
    cfg = experiment_config(name, quick=quick, data=data, overrides=parse_overrides(exp.config_cls, set_))
    typer.echo(f"{name}: {exp.claim}")
    typer.echo(f"config: {cfg}")
    result = run_one(name, cfg, out, backend=backend, workers=workers)
    typer.echo(f"measurement: {result.measurement}")
    for k, v in result.metrics.items():
        typer.echo(f"  {k}: {v}")
    typer.echo(f"verdict: {result.verdict} - {result.reason} ({result.seconds:.1f}s)")
    if out:
        from ..report.lecture import write_lecture_report

        typer.echo(f"report written to {write_lecture_report(out, {name: result}, title=f'neuronet: {name}')}")


@app.command()
@_errors("lecture")
@one_line_warnings("lecture")
def lecture(
    data: Annotated[str, typer.Option(help="Dataset spec for the experiments that train on data.")] = "digits",
    out: Annotated[
        str, typer.Option(help="Folder for index.html, results.json, results/ and runs/.")
    ] = "lecture-report",
    quick: Annotated[
        bool, typer.Option(help="Small versions of every experiment: a smoke test of the same checks (~40 s).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Base seed (>= 0); each experiment uses several seeds from here.")] = 0,
    only: Annotated[list[str] | None, typer.Option(help="Run only this experiment (repeatable).")] = None,
    backend: Annotated[
        str,
        typer.Option(help="Where the runs go: auto (processes, one per core, on 2+ cores), serial, processes or dask."),
    ] = "auto",
    workers: Annotated[
        int | None, typer.Option(help="Processes or Dask workers (default: the cores; auto: at most 8).")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="A Dask scheduler's address, e.g. tcp://host:8786.")] = None,
    force: Annotated[bool, typer.Option(help="Recompute every run, even those cached in --out.")] = False,
    compare: Annotated[
        list[str] | None,
        typer.Option(help="Another run's verdicts beside this one: LABEL=DIR/results.json (repeatable)."),
    ] = None,
    max_train: Annotated[
        str | None,
        typer.Option(help="Training images per run in the image experiments: a number or 'all' (default: theirs)."),
    ] = None,
    max_test: Annotated[
        str | None,
        typer.Option(help="Test images per run in the image experiments: a number or 'all' (default: theirs)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Plan only: print the runs per experiment and how many are cached; compute nothing.")
    ] = False,
):
    """Test every statement of the lecture and write one report (index.html + results.json).

    14 experiments cover the lecture; the report's coverage table gives each statement its checks or a reason.

    Runs and figures go to one process per core by default (--backend auto); the numbers do not depend on it.

    On 2 cores, digits: 37 s --quick (58 s with --backend serial), 3 min in full (4.6 min serial).

    Fashion-MNIST: ~1.5 min --quick serial, 11.3 min in full serial, 7.7 min with --backend dask --workers 2.

    Image experiments train each run on its own draw of 2,000-3,000 training and 2,000 test images (digits: all).

    --max-train all --max-test all uses the whole 60k/10k split: 20-30x the compute, a cluster job (see --dry-run).

    Runs are cached in OUT/runs as they finish: a rerun computes only what is missing (--force recomputes).

    Example: neuronet lecture --out report --quick
    """
    from ..data import check_spec
    from ..experiments import get_experiment
    from ..experiments.runner import run_lecture
    from ..files import check_out_folder
    from ..report.lecture import write_lecture_report

    if seed < 0:
        raise ConfigError(f"--seed: must be >= 0, got {seed}")
    for name in only or []:
        get_experiment(name)
    check_spec(data)  # before any run: each would fail on it alone
    check_out_folder(out, "--out")
    other_runs = _other_runs(compare)
    sizes = {k: _size(f"--{k.replace('_', '-')}", v) for k, v in (("max_train", max_train), ("max_test", max_test))}
    outcome = run_lecture(
        out,
        names=only,
        quick=quick,
        data=data,
        seed=seed,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        force=force,
        sizes={k: v for k, v in sizes.items() if v is not _DEFAULT},
        dry_run=dry_run,
        log=typer.echo,
    )
    if dry_run:
        return
    results = outcome.results
    meta = {"data": data, "quick": str(quick), "seed": str(seed), "backend": outcome.backend}
    drawing = "serial" if backend == "serial" else "auto"  # figures: one process per core unless asked not to
    local = None if scheduler else workers  # --workers of a remote cluster says nothing about this machine
    path = write_lecture_report(out, results, meta=meta, other_runs=other_runs or None, backend=drawing, workers=local)
    counts = {v: sum(r.verdict == v for r in results.values()) for v in ("supported", "mixed", "not supported")}
    typer.echo(", ".join(f"{n} {v}" for v, n in counts.items()) + f"; report written to {path}")
    if outcome.failed:
        _fail("lecture", f"{len(outcome.failed)} experiments failed: " + "; ".join(outcome.failed.values()), 1)


_DEFAULT = object()


def _size(flag: str, text: str | None):
    """``--max-train`` text: None given → keep the experiments' own; 'all' → None (the whole split); else n >= 1."""
    if text is None:
        return _DEFAULT
    if text.strip().lower() == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        raise ConfigError(f"{flag}: expected a whole number >= 1 or 'all', got {text!r}") from None
    if n < 1:
        raise ConfigError(f"{flag}: expected a whole number >= 1 or 'all', got {text!r}")
    return n


def _other_runs(compare) -> dict:
    """``{label: results.json contents}`` from ``--compare LABEL=PATH`` options."""
    import json

    runs = {}
    for item in compare or []:
        label, sep, path = item.partition("=")
        if not sep or not label.strip() or not path.strip():
            raise ConfigError(f"--compare {item!r}: expected LABEL=DIR/results.json, e.g. 'full=f/results.json'")
        try:
            run = json.loads(Path(path.strip()).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ConfigError(f"--compare {path.strip()}: cannot read a results.json ({e})") from None
        exps = run.get("experiments") if isinstance(run, dict) else None
        if not isinstance(exps, dict) or not all(isinstance(v, (dict, str)) for v in exps.values()):
            raise ConfigError(
                f"--compare {path.strip()}: not a results.json of 'neuronet lecture' "
                "(expected an object whose 'experiments' maps each experiment to its result)"
            )
        runs[label.strip()] = run
    return runs


# -- sweeps ------------------------------------------------------------------------------------
@app.command()
@_errors("sweep")
@one_line_warnings("sweep")
def sweep(
    spec: Annotated[Path, typer.Argument(help="TOML spec: experiment, grid, seeds, data.")],
    out: Annotated[str, typer.Option(help="Folder for spec.toml, trials/, summary.csv and summary.html.")],
    backend: Annotated[
        str, typer.Option(help="auto (processes, one per core, on 2+ cores), serial, processes or dask.")
    ] = "auto",
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786 (dask backend).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes or LocalCluster workers (default: the cores; auto: at most 8).")
    ] = None,
    blas_threads: Annotated[
        int | None, typer.Option(help="BLAS threads per trial (default: its share of the cores).")
    ] = None,
    max_trials: Annotated[int, typer.Option(help="Refuse specs with more trials than this.")] = 10_000,
):
    """Run every trial of a sweep that OUT does not hold yet, then write the summary.

    Rerunning the same command skips finished trials. Exit code 1 when some trials failed
    (the others are kept; rerun to retry).

    Example: neuronet sweep remedies.toml --out sweep-out --backend dask --workers 2
    """
    from ..files import check_out_folder
    from ..sweep import run_sweep

    check_out_folder(out, "--out")
    outcome = run_sweep(
        spec,
        out,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        blas_threads=blas_threads,
        max_trials=max_trials,
        log=typer.echo,
    )
    if not outcome.complete:
        raise typer.Exit(1)


@app.command("sweep-report")
@_errors("sweep-report")
@one_line_warnings("sweep-report")
def sweep_report(
    directory: Annotated[str, typer.Argument(help="A sweep's --out folder.")],
):
    """Rebuild DIR/summary.csv and DIR/summary.html from DIR/spec.toml and the trial files alone.

    Example: neuronet sweep-report sweep-out
    """
    from ..files import refuse_empty_path
    from ..sweep import write_report

    refuse_empty_path(directory, "DIR", "the sweep's --out folder")

    for path in write_report(directory):
        typer.echo(f"written: {path}")


# -- entry point -------------------------------------------------------------------------------
@app.command()
@_errors("playground")
def playground(
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it on this computer.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser tab.")] = False,
):
    """Train networks and watch units saturate, neurons fire and memories recall, live in the browser.

    Needs the playground extra (pip install "neuronet\\[playground]"). Ctrl-C stops the server.

    Example: neuronet playground --port 8765
    """
    from ..playground.server import serve

    serve(host=host, port=port, open_browser=not no_browser)
