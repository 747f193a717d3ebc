"""The ``neuronet`` command.

Exit codes: 0 success; 2 bad input or usage (one line on stderr naming the file or
option and the problem); 3 training diverged (the last good weights are kept).
"""

from __future__ import annotations

import functools
import inspect as _inspect
import io
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

try:  # recent typer releases vendor click
    from typer._click import exceptions as _click_exc
except ImportError:  # older ones depend on click itself
    from click import exceptions as _click_exc

from .errors import ConfigError, DataError, NeuronetError
from .options import TRAIN_OPTIONS

app = typer.Typer(
    name="neuronet",
    help="Neural networks from the neuron up: train, inspect and study MLPs and their variations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool):
    if value:
        from .version import __version__

        typer.echo(f"neuronet {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
):
    """Neural networks from the neuron up: train, inspect and study MLPs and their variations."""


experiment_app = typer.Typer(help="List or run the lecture's experiments one by one.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


def _fail(command, message, code=EXIT_BAD_INPUT):
    first = " ".join(str(message).split())  # always exactly one line
    typer.echo(f"neuronet {command}: error: {first}", err=True)
    raise typer.Exit(code)


def _errors(command):
    """Turn the project's errors (and I/O errors) into one line on stderr and exit code 2."""

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            try:
                return f(*args, **kwargs)
            except NeuronetError as e:
                _fail(command, e)
            except OSError as e:
                where = f"{e.filename}: " if getattr(e, "filename", None) else ""
                _fail(command, f"{where}{e.strerror or e}")

        return wrapper

    return deco


# -- train -----------------------------------------------------------------------------------
class _EpochPrinter:
    """One line per epoch when stdout is not a terminal; a rich progress bar when it is."""

    def __init__(self, total, tty):
        from .train import Callback, format_epoch

        self.format = format_epoch
        self.total = total
        self.tty = tty
        self.progress = None
        printer = self

        class _CB(Callback):
            def on_train_begin(self, trainer):
                printer.begin(trainer)

            def on_epoch_end(self, trainer, epoch, logs):
                printer.epoch(trainer, epoch, logs)

            def on_train_end(self, trainer):
                printer.end()

        self.callback = _CB()

    def begin(self, trainer):
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("training"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=self.total, completed=trainer.epoch)

    def epoch(self, trainer, epoch, logs):
        diag = trainer.history.diagnostics[-1] if trainer.history.diagnostics else None
        line = self.format(epoch, self.total, logs, diag)
        if self.progress is not None:
            short = f"loss {logs['loss']:.4f}"
            if logs.get("val_accuracy") is not None:
                short += f"  val_acc {logs['val_accuracy']:.4f}"
            self.progress.update(self.task, completed=epoch + 1, description=short)
            self.progress.console.print(line, highlight=False)
        else:
            typer.echo(line)

    def end(self):
        if self.progress is not None:
            self.progress.stop()


def _load_model_or_fail(path):
    from .modelfile import load_model

    return load_model(path)


def _options_from_schema(options):
    """Give ``f(config=None, **flags)`` one typer option per schema option (declared in ``neuronet.options``)."""

    def deco(f):
        kinds = {"int": int, "float": float, "bool": bool}
        params = []
        for opt in options:
            decls = (f"{opt.flag}/--no-{opt.flag[2:]}",) if opt.kind == "bool" else ()
            tp = kinds.get(opt.kind, str)
            info = typer.Option(*decls, help=opt.help, show_default=False)
            params.append(
                _inspect.Parameter(
                    opt.name, _inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[tp | None, info]
                )
            )
        config = _inspect.signature(f).parameters["config"].replace(kind=_inspect.Parameter.KEYWORD_ONLY)
        f.__signature__ = _inspect.Signature([*params, config])
        f.__annotations__ = {p.name: p.annotation for p in f.__signature__.parameters.values()}
        return f

    return deco


@app.command()
@_errors("train")
@_options_from_schema(TRAIN_OPTIONS)
def train(
    config: Annotated[Path | None, typer.Option(help="TOML file with the same options; flags override it.")] = None,
    **flags,
):
    """Train an MLP and print one line per epoch.

    Example: neuronet train --data digits --hidden 64 --activation sigmoid --init normal:1 --epochs 10
    """
    from .config import resolve
    from .trainjob import check_outputs, prepare_data, run

    cfg = resolve(flags, config)
    check_outputs(cfg)  # before the data is loaded: a bad --out fails at once
    typer.echo("config: " + cfg.to_json())
    printer = _EpochPrinter(cfg.epochs, sys.stdout.isatty())
    prepared = prepare_data(cfg)
    sample = prepared.X_train[:500]  # for the report's activation histograms
    start = _StartActivations(sample)
    callbacks = [printer.callback] + ([start] if cfg.report else [])
    result = run(cfg, prepared=prepared, callbacks=callbacks, log=typer.echo)
    test = result.test
    acc = "" if test["accuracy"] is None else f"  test accuracy {test['accuracy']:.4f}"
    typer.echo(f"test loss {test['loss']:.4f}{acc}")
    if cfg.out:
        typer.echo(f"model written to {cfg.out}")
    if cfg.report:
        _training_report(cfg, result, start.acts, sample)
    if result.diverged is not None:
        kept = f" The last good weights are in {cfg.out}." if cfg.out else ""
        _fail("train", f"{result.diverged}{kept}", EXIT_DIVERGED)


class _StartActivations:
    """A callback that keeps the activations of a sample at the start of training (for the report)."""

    def __init__(self, sample):
        self.sample, self.acts = sample, None

    def on_train_begin(self, trainer):
        self.acts = trainer.network.activations(self.sample)

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass


def _training_report(cfg, result, start_acts, sample):
    from .report import write_training_report

    net = result.network
    names = [f"layer {i} ({L.unit.name})" for i, L in enumerate(net.layers)]
    path = write_training_report(
        cfg.report,
        result.history.to_dict(),
        config=cfg.to_dict(),
        activations_start=start_acts,
        activations_end=net.activations(sample),
        layer_names=names,
    )
    typer.echo(f"report written to {path}")


# -- evaluate, predict, inspect ----------------------------------------------------------------
def _model_inputs(model_path, net, meta, X, what):
    from .trainjob import apply_preprocessing

    if X.shape[1] != net.n_inputs:
        raise DataError(f"{what}: has {X.shape[1]} features, but model {model_path} expects {net.n_inputs}")
    return apply_preprocessing(X, meta.get("preprocessing"), net.dtype)


def _target_range(meta):
    tr = meta.get("target_range")
    return tuple(tr) if tr else None


@app.command()
@_errors("evaluate")
def evaluate(
    model: Annotated[str, typer.Argument(help="A model file written by 'neuronet train --out'.")],
    data: Annotated[str, typer.Option(help="Dataset spec; its test split is evaluated.")],
    label_column: Annotated[int | None, typer.Option(help="CSV: index of the label column.")] = None,
    max_test: Annotated[int | None, typer.Option(help="Evaluate at most this many test samples.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
):
    """Loss and accuracy of a saved model on a dataset's test split.

    Example: neuronet evaluate model.safetensors --data digits
    """
    from .data import load
    from .train import Trainer

    net, meta = _load_model_or_fail(model)
    cfg = meta.get("config") or {}
    ds = load(data, label_column=label_column, seed=int(cfg.get("seed", 0)), dtype=net.dtype, max_test=max_test)
    X = _model_inputs(model, net, meta, ds.X_test, f"--data {data}")
    if ds.task == "classification" and meta.get("task") == "classification":
        classes = meta.get("classes") or []
        if ds.n_classes != net.n_outputs and len(classes) != ds.n_classes:
            raise DataError(f"--data {data}: has {ds.n_classes} classes, but model {model} has {net.n_outputs} outputs")
    try:
        result = Trainer(net, target_range=_target_range(meta), diagnostics=False).evaluate(X, ds.y_test)
    except ConfigError as e:
        raise DataError(f"--data {data}: {e}") from None
    result["n"] = int(X.shape[0])
    if as_json:
        typer.echo(json.dumps(result))
    else:
        acc = "" if result["accuracy"] is None else f"  accuracy {result['accuracy']:.4f}"
        typer.echo(f"{data} test split (n={result['n']}): loss {result['loss']:.4f}{acc}")


@app.command()
@_errors("predict")
def predict(
    model: Annotated[str, typer.Argument(help="A model file written by 'neuronet train --out'.")],
    input: Annotated[str, typer.Option("--input", help="Features: .csv (no label column), .npy or .npz (X).")],
    output: Annotated[str, typer.Option("--output", help="Where to write predictions (.csv).")],
):
    """Predict labels (and class probabilities) for new inputs.

    Example: neuronet predict model.safetensors --input new.csv --output predictions.csv
    """
    from .data.tabular import read_features
    from .files import atomic_write_bytes, refuse_overwriting_inputs
    from .targets import decode_outputs

    refuse_overwriting_inputs(("--output", output), ("the model", model), ("--input", input))
    net, meta = _load_model_or_fail(model)
    X = _model_inputs(model, net, meta, read_features(input, dtype=net.dtype), f"--input {input}")
    Z = net.predict(X)
    buf = io.StringIO()
    if meta.get("task") == "classification":
        classes = meta.get("classes") or list(range(max(2, net.n_outputs)))
        idx = decode_outputs(Z, _target_range(meta), net.output_unit.name)
        head = (
            ["label"] + [f"output_{c}" for c in classes[: net.n_outputs]] if net.n_outputs > 1 else ["label", "output"]
        )
        buf.write(",".join(head) + "\n")
        for k, row in zip(idx, Z):
            buf.write(",".join([str(classes[k])] + [f"{v:.6g}" for v in row]) + "\n")
    else:
        buf.write(
            ",".join(["prediction"] if net.n_outputs == 1 else [f"prediction_{j}" for j in range(net.n_outputs)]) + "\n"
        )
        for row in Z:
            buf.write(",".join(f"{v:.8g}" for v in row) + "\n")
    if Path(output).is_dir():
        raise DataError(f"--output {output}: is a directory")
    atomic_write_bytes(output, buf.getvalue().encode())
    typer.echo(f"{X.shape[0]} predictions written to {output}")


@app.command()
@_errors("inspect")
def inspect(
    model: Annotated[str, typer.Argument(help="A model file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
):
    """Show a model file's architecture, training configuration and results.

    Example: neuronet inspect model.safetensors
    """
    from .modelfile import inspect_model

    info = inspect_model(model)
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=str))
        return
    for k, v in info.items():
        if k == "layers":
            typer.echo("layers:")
            for i, L in enumerate(v):
                typer.echo(f"  {i}: {L}")
        elif isinstance(v, dict):
            typer.echo(f"{k}: {json.dumps(v, default=str)}")
        else:
            typer.echo(f"{k}: {v}")


@app.command("export-onnx")
@_errors("export-onnx")
def export_onnx(
    model: Annotated[str, typer.Argument(help="A model file.")],
    out: Annotated[str, typer.Argument(help="Where to write the .onnx file.")],
):
    """Export a model to ONNX (Gemm + unit nodes).

    Example: neuronet export-onnx model.safetensors model.onnx
    """
    from .files import refuse_overwriting_inputs
    from .onnx_export import OPSET, export_model_file

    refuse_overwriting_inputs(("OUT", out), ("MODEL", model))
    export_model_file(model, out)
    typer.echo(f"{out} written (ONNX opset {OPSET}); outputs match neuronet's within float32 rounding")


# -- experiments and the lecture ---------------------------------------------------------------
@experiment_app.command("list")
def experiment_list():
    """List the registered experiments and the claim each one tests.

    Example: neuronet experiment list
    """
    from .experiments import get_experiment, sorted_names

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
):
    """Run one experiment and print its verdict.

    Example: neuronet experiment run saturation --quick --set seeds=0,1
    """
    from .experiments import get_experiment, parse_overrides
    from .experiments.runner import experiment_config, run_one

    exp = get_experiment(name)
    cfg = experiment_config(name, quick=quick, data=data, overrides=parse_overrides(exp.config_cls, set_))
    typer.echo(f"{name}: {exp.claim}")
    typer.echo(f"config: {cfg}")
    result = run_one(name, cfg, out)
    typer.echo(f"measurement: {result.measurement}")
    for k, v in result.metrics.items():
        typer.echo(f"  {k}: {v}")
    typer.echo(f"verdict: {result.verdict} - {result.reason} ({result.seconds:.1f}s)")
    if out:
        from .report.lecture import write_lecture_report

        typer.echo(f"report written to {write_lecture_report(out, {name: result}, title=f'neuronet: {name}')}")


@app.command()
@_errors("lecture")
def lecture(
    data: Annotated[str, typer.Option(help="Dataset spec for the experiments that train on data.")] = "digits",
    out: Annotated[
        str, typer.Option(help="Folder for index.html, results.json, results/ and runs/.")
    ] = "lecture-report",
    quick: Annotated[bool, typer.Option(help="Small, fast version of every experiment (about a minute).")] = False,
    seed: Annotated[int, typer.Option(help="Base seed (>= 0); each experiment uses several seeds from here.")] = 0,
    only: Annotated[list[str] | None, typer.Option(help="Run only this experiment (repeatable).")] = None,
    backend: Annotated[str, typer.Option(help="Where the runs go: serial, processes or dask.")] = "serial",
    workers: Annotated[int | None, typer.Option(help="Processes or Dask workers (default: the cores).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="A Dask scheduler's address, e.g. tcp://host:8786.")] = None,
    force: Annotated[bool, typer.Option(help="Recompute every run, even those cached in --out.")] = False,
):
    """Run every lecture experiment and write one report (index.html + results.json).

    Each run is cached in OUT/runs as it finishes: rerunning the same command after an
    interruption computes only what is missing.

    Example: neuronet lecture --out report --quick --backend processes --workers 2
    """
    from .experiments import get_experiment
    from .experiments.runner import run_lecture
    from .report.lecture import write_lecture_report

    if seed < 0:
        raise ConfigError(f"--seed: must be >= 0, got {seed}")
    for name in only or []:
        get_experiment(name)
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
        log=typer.echo,
    )
    results = outcome.results
    path = write_lecture_report(out, results, meta={"data": data, "quick": str(quick), "seed": str(seed)})
    counts = {v: sum(r.verdict == v for r in results.values()) for v in ("supported", "mixed", "not supported")}
    typer.echo(", ".join(f"{n} {v}" for v, n in counts.items()) + f"; report written to {path}")
    if outcome.failed:
        _fail("lecture", f"{len(outcome.failed)} experiments failed: " + "; ".join(outcome.failed.values()), 1)


# -- sweeps ------------------------------------------------------------------------------------
@app.command()
@_errors("sweep")
def sweep(
    spec: Annotated[Path, typer.Argument(help="TOML spec: experiment, grid, seeds, data.")],
    out: Annotated[str, typer.Option(help="Folder for spec.toml, trials/, summary.csv and summary.html.")],
    backend: Annotated[str, typer.Option(help="serial, processes or dask.")] = "serial",
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786 (dask backend).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes for processes/LocalCluster (default: the number of cores).")
    ] = None,
    blas_threads: Annotated[
        int | None, typer.Option(help="BLAS threads per trial (default: its share of the cores).")
    ] = None,
):
    """Run every trial of a sweep that OUT does not hold yet, then write the summary.

    Rerunning the same command skips finished trials. Exit code 1 when some trials failed
    (the others are kept; rerun to retry).

    Example: neuronet sweep remedies.toml --out sweep-out --backend dask --workers 2
    """
    from .sweep import run_sweep

    outcome = run_sweep(
        spec,
        out,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        blas_threads=blas_threads,
        log=typer.echo,
    )
    if not outcome.complete:
        raise typer.Exit(1)


@app.command("sweep-report")
@_errors("sweep-report")
def sweep_report(
    directory: Annotated[str, typer.Argument(help="A sweep's --out folder.")],
):
    """Rebuild DIR/summary.csv and DIR/summary.html from DIR/spec.toml and the trial files alone.

    Example: neuronet sweep-report sweep-out
    """
    from .sweep import write_report

    for path in write_report(directory):
        typer.echo(f"written: {path}")


# -- entry point -------------------------------------------------------------------------------
def main(argv=None):
    """Console entry point: every failure becomes one line on stderr and a documented exit code.

    2: usage or input errors (and anything unexpected, named as such); 3: diverged training;
    130: interrupted (Ctrl-C); a closed output pipe (``| head``) ends quietly.
    """
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="neuronet", standalone_mode=False)
    except _click_exc.NoArgsIsHelpError:
        sys.exit(0)  # the help was printed
    except _click_exc.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "neuronet"
        typer.echo(f"{where}: error: {' '.join(e.format_message().split())} (see --help)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except _click_exc.ClickException as e:
        typer.echo(f"neuronet: error: {' '.join(e.format_message().split())}", err=True)
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except BaseException as e:  # the last line of defence: never a traceback
        _last_resort(e)
    if code == 130:
        typer.echo("neuronet: interrupted", err=True)
    sys.exit(code if isinstance(code, int) else 0)


def _last_resort(e: BaseException):
    """One line for what no command caught (see ``main``); exits."""
    if isinstance(e, KeyboardInterrupt):
        typer.echo("neuronet: interrupted", err=True)
        sys.exit(130)
    if isinstance(e, BrokenPipeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        sys.exit(1)
    if isinstance(e, MemoryError):
        msg = "out of memory; use a smaller network, dataset or batch (--hidden, --max-train, --batch-size)"
    elif isinstance(e, RecursionError):
        msg = "input nested too deeply to process"
    elif isinstance(e, NeuronetError):
        msg = str(e)
    else:
        msg = f"unexpected {type(e).__name__}: {e} (this is a bug in neuronet; please report it)"
    typer.echo(f"neuronet: error: {' '.join(msg.split())}", err=True)
    sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
