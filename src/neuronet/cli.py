"""The ``neuronet`` command.

Exit codes: 0 success; 2 bad input or usage (one line on stderr naming the file or
option and the problem); 3 training diverged (the last good weights are kept).
"""

from __future__ import annotations

import functools
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

try:  # recent typer releases vendor click
    from typer._click import exceptions as _click_exc
except ImportError:  # older ones depend on click itself
    from click import exceptions as _click_exc

from .errors import ConfigError, DataError, NeuronetError

app = typer.Typer(
    name="neuronet",
    help="Neural networks from the neuron up: train, inspect and study MLPs and their variations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


@app.command()
@_errors("train")
def train(
    data: Annotated[
        str | None,
        typer.Option(
            help="Dataset: digits, fashion-mnist, mnist, idx:DIR, FILE.csv, "
            "FILE.npz, xor, encoder:N-M-N, spirals, circles."
        ),
    ] = None,
    hidden: Annotated[str | None, typer.Option(help="Hidden layer sizes, comma-separated, e.g. 128,64.")] = None,
    activation: Annotated[
        str | None,
        typer.Option(help="Hidden unit: sigmoid, tanh, lecun-tanh, relu, leaky-relu, softplus, identity."),
    ] = None,
    output: Annotated[str | None, typer.Option(help="Output unit (default softmax; identity for regression).")] = None,
    loss: Annotated[
        str | None,
        typer.Option(help="squared-error, cross-entropy or logistic (default: the output unit's natural partner)."),
    ] = None,
    init: Annotated[
        str | None, typer.Option(help="fan-in, normal[:std], glorot, glorot-uniform, he, uniform[:r].")
    ] = None,
    targets: Annotated[str | None, typer.Option(help="Soft targets low,high, e.g. 0.15,0.85 (remedy 2).")] = None,
    prime_offset: Annotated[
        float | None, typer.Option(help="Add this to S' of sigmoid units in backprop (remedy 3), e.g. 0.1.")
    ] = None,
    optimizer: Annotated[str | None, typer.Option(help="sgd, momentum, nesterov, adam or quickprop.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    momentum: Annotated[float | None, typer.Option(help="Momentum for momentum/nesterov.")] = None,
    weight_decay: Annotated[float | None, typer.Option(help="L2 weight decay.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs to train (in total, when resuming).")] = None,
    batch_size: Annotated[str | None, typer.Option(help="Mini-batch size, or 'full' for full-batch.")] = None,
    validation_split: Annotated[float | None, typer.Option(help="Fraction held out for validation.")] = None,
    dropout: Annotated[float | None, typer.Option(help="Dropout probability of hidden units.")] = None,
    max_grad_norm: Annotated[float | None, typer.Option(help="Clip the gradient norm to this value.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for weights, splits, shuffling and dropout.")] = None,
    dtype: Annotated[str | None, typer.Option(help="float32 or float64.")] = None,
    standardize: Annotated[
        bool | None,
        typer.Option("--standardize/--no-standardize", help="Standardize features (training statistics)."),
    ] = None,
    label_column: Annotated[int | None, typer.Option(help="CSV: index of the label column.")] = None,
    max_train: Annotated[int | None, typer.Option(help="Use at most this many training samples.")] = None,
    max_test: Annotated[int | None, typer.Option(help="Use at most this many test samples.")] = None,
    diagnostics: Annotated[
        bool | None, typer.Option("--diagnostics/--no-diagnostics", help="Record per-layer diagnostics.")
    ] = None,
    out: Annotated[str | None, typer.Option(help="Write the trained model to this .safetensors file.")] = None,
    checkpoint_dir: Annotated[str | None, typer.Option(help="Save a checkpoint here after every epoch.")] = None,
    resume: Annotated[
        bool | None, typer.Option("--resume/--no-resume", help="Continue from the checkpoint in --checkpoint-dir.")
    ] = None,
    report: Annotated[str | None, typer.Option(help="Write an HTML training report into this folder.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML file with the same options; flags override it.")] = None,
):
    """Train an MLP and print one line per epoch.

    Example: neuronet train --data digits --hidden 64 --activation sigmoid --init normal:1 --epochs 10
    """
    from .config import resolve
    from .train import Callback
    from .trainjob import prepare_data, run

    flags = {k: v for k, v in locals().items() if k not in ("config", "resolve", "run", "prepare_data", "Callback")}
    cfg = resolve(flags, config)
    typer.echo("config: " + cfg.to_json())
    printer = _EpochPrinter(cfg.epochs, sys.stdout.isatty())
    prepared = prepare_data(cfg)
    sample = prepared.X_train[:500]  # for the report's activation histograms
    start_acts = []

    class _StartActivations(Callback):
        def on_train_begin(self, trainer):
            start_acts[:] = trainer.network.activations(sample)

    callbacks = [printer.callback] + ([_StartActivations()] if cfg.report else [])
    result = run(cfg, prepared=prepared, callbacks=callbacks, log=typer.echo)
    test = result.test
    acc = "" if test["accuracy"] is None else f"  test accuracy {test['accuracy']:.4f}"
    typer.echo(f"test loss {test['loss']:.4f}{acc}")
    if cfg.out:
        typer.echo(f"model written to {cfg.out}")
    if cfg.report:
        from .report import write_training_report

        net = result.network
        names = [f"layer {i} ({L.unit.name})" for i, L in enumerate(net.layers)]
        path = write_training_report(
            cfg.report,
            result.history.to_dict(),
            config=cfg.to_dict(),
            activations_start=start_acts or None,
            activations_end=net.activations(sample),
            layer_names=names,
        )
        typer.echo(f"report written to {path}")
    if result.diverged is not None:
        kept = f" The last good weights are in {cfg.out}." if cfg.out else ""
        _fail("train", f"{result.diverged}{kept}", EXIT_DIVERGED)


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
    from .files import atomic_write_bytes
    from .targets import decode_outputs

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
    from .onnx_export import OPSET, export_model_file

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
    out: Annotated[str, typer.Option(help="Folder for index.html, results.json and results/.")] = "lecture-report",
    quick: Annotated[bool, typer.Option(help="Small, fast version of every experiment (about a minute).")] = False,
    seed: Annotated[int, typer.Option(help="Base seed; each experiment uses several seeds from here.")] = 0,
    only: Annotated[list[str] | None, typer.Option(help="Run only these experiments (repeatable).")] = None,
):
    """Run every lecture experiment and write one report (index.html + results.json).

    Example: neuronet lecture --out report --quick
    """
    from .experiments import get_experiment
    from .experiments.runner import run_lecture
    from .report.lecture import write_lecture_report

    for name in only or []:
        get_experiment(name)
    results = run_lecture(out, names=only, quick=quick, data=data, seed=seed, log=typer.echo)
    path = write_lecture_report(out, results, meta={"data": data, "quick": str(quick), "seed": str(seed)})
    counts = {v: sum(r.verdict == v for r in results.values()) for v in ("supported", "mixed", "not supported")}
    typer.echo(", ".join(f"{n} {v}" for v, n in counts.items()) + f"; report written to {path}")


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
    """Console entry point: usage errors become one line on stderr and exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="neuronet", standalone_mode=False)
    except _click_exc.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "neuronet"
        typer.echo(f"{where}: error: {' '.join(e.format_message().split())} (see --help)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except _click_exc.Abort:
        typer.echo("neuronet: interrupted", err=True)
        sys.exit(130)
    except _click_exc.ClickException as e:
        typer.echo(f"neuronet: error: {' '.join(e.format_message().split())}", err=True)
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
