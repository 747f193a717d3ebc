"""``neuronet train``, ``evaluate``, ``predict``, ``inspect`` and ``export-onnx``."""

from __future__ import annotations

import csv
import functools
import inspect as _inspect
import io
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError, DataError
from ..options import TRAIN_OPTIONS
from ._app import EXIT_DIVERGED, _errors, _fail, app


# -- train -----------------------------------------------------------------------------------
class _EpochPrinter:
    """One line per epoch when stdout is not a terminal; a rich progress bar when it is."""

    def __init__(self, total, tty):
        from ..train import Callback, format_epoch

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


def one_line_warnings(command):
    """Show each warning raised inside the command as one line, ``neuronet CMD: warning: ...``, on stderr.

    The library says what it decided on its own (a CSV's first row read as a header, labels read as
    regression targets, unreadable sweep trials skipped) with ``warnings.warn``; this is how the
    command line shows them: no source line, no traceback, and each text once per command (Python's
    own once-per-place bookkeeping is reset whenever any code changes the warning filters).
    """

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            shown = set()

            def show(message, category, filename, lineno, file=None, line=None):
                text = " ".join(str(message).split())
                if (category, text) not in shown:
                    shown.add((category, text))
                    typer.echo(f"neuronet {command}: warning: {text}", err=True)

            with warnings.catch_warnings():
                warnings.simplefilter("default")
                warnings.showwarning = show
                return f(*args, **kwargs)

        return wrapper

    return deco


def _load_model_or_fail(path):
    from ..modelfile import load_model

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
@one_line_warnings("train")
@_options_from_schema(TRAIN_OPTIONS)
def train(
    config: Annotated[Path | None, typer.Option(help="TOML file with the same options; flags override it.")] = None,
    **flags,
):
    """Train an MLP and print one line per epoch.

    Example: neuronet train --data digits --hidden 64 --activation sigmoid --init normal:1 --epochs 10
    """
    from ..config import resolve
    from ..trainjob import check_outputs, prepare_data, run

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
    from ..report.training import write_run_report

    path = write_run_report(
        cfg.report, result, activations_start=start_acts, activations_end=result.network.activations(sample)
    )
    typer.echo(f"report written to {path}")


# -- evaluate, predict, inspect ----------------------------------------------------------------
def _model_inputs(model_path, net, meta, X, what):
    from ..trainjob import apply_preprocessing

    if X.shape[1] != net.n_inputs:
        raise DataError(f"{what}: has {X.shape[1]} features, but model {model_path} expects {net.n_inputs}")
    return apply_preprocessing(X, meta.get("preprocessing"), net.dtype)


def _target_range(meta):
    tr = meta.get("target_range")
    return tuple(tr) if tr else None


@app.command()
@_errors("evaluate")
@one_line_warnings("evaluate")
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
    from ..data import UnseenClassesWarning, load, takes_task
    from ..train import Trainer

    net, meta = _load_model_or_fail(model)
    cfg = meta.get("config") or {}
    task = meta.get("task")
    # a CSV or NPZ is read as the model's task: labels that do not fit it are named by line
    given = {"task": task} if task is not None and takes_task(data) else {}
    with warnings.catch_warnings():  # about training on the set; the model was trained already
        warnings.simplefilter("ignore", UnseenClassesWarning)
        ds = load(
            data, label_column=label_column, seed=int(cfg.get("seed", 0)), dtype=net.dtype, max_test=max_test, **given
        )
    if task is not None and ds.task != task:
        raise DataError(f"model {model} is a {task} model, but --data {data} is a {ds.task} dataset")
    X = _model_inputs(model, net, meta, ds.X_test, f"--data {data}")
    y = ds.y_test
    if ds.task == "classification" and meta.get("task") == "classification":
        classes = meta.get("classes") or []
        if classes:
            y = _as_model_classes(ds, classes, f"--data {data}", model)
        elif ds.n_classes != net.n_outputs:
            raise DataError(f"--data {data}: has {ds.n_classes} classes, but model {model} has {net.n_outputs} outputs")
    try:
        result = Trainer(net, target_range=_target_range(meta), diagnostics=False).evaluate(X, y)
    except ConfigError as e:
        raise DataError(f"--data {data}: {e}") from None
    result["n"] = int(X.shape[0])
    if as_json:
        typer.echo(json.dumps(_json_safe(result), allow_nan=False))
    else:
        acc = "" if result["accuracy"] is None else f"  accuracy {result['accuracy']:.4f}"
        typer.echo(f"{data} test split (n={result['n']}): loss {result['loss']:.4f}{acc}")


def _json_safe(obj):
    """``obj`` with every NaN or infinity replaced by None: ``--json`` output is strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _label_key(label):
    """Labels compare as values: the number 2 whether a file wrote it ``2`` or ``2.0``; text as text."""
    if isinstance(label, (int, float)) and not isinstance(label, bool):
        return ("number", int(label) if float(label).is_integer() else float(label))
    return ("text", str(label))


def _as_model_classes(ds, classes: list, where: str, model: str):
    """The test labels of ``ds`` as the model's class indices, matched by the labels themselves (as
    the files wrote them), not by position: a data set whose labels are ``dog, zebra`` is not read as
    a ``cat, dog`` model's classes 0 and 1.  A label the model never learned is an error."""
    import numpy as np

    from ..files import to_jsonable

    index = {_label_key(c): i for i, c in enumerate(classes)}
    names = to_jsonable(list(ds.classes))
    lookup = np.array([index.get(_label_key(name), -1) for name in names], np.int64)
    y = lookup[ds.y_test]
    if (y < 0).any():
        unknown = names[int(ds.y_test[np.argmax(y < 0)])]
        shown = ", ".join(map(str, classes[:12])) + (", ..." if len(classes) > 12 else "")
        raise DataError(f"{where}: label {unknown!r} is not one of model {model}'s classes ({shown})")
    return y


@app.command()
@_errors("predict")
@one_line_warnings("predict")
def predict(
    model: Annotated[str, typer.Argument(help="A model file written by 'neuronet train --out'.")],
    input: Annotated[str, typer.Option("--input", help="Features: .csv (no label column), .npy or .npz (X).")],
    output: Annotated[str, typer.Option("--output", help="Where to write predictions (.csv).")],
):
    """Predict labels (and class probabilities) for new inputs.

    Example: neuronet predict model.safetensors --input new.csv --output predictions.csv
    """
    from ..data.tabular import read_features
    from ..files import atomic_write_bytes, refuse_empty_path, refuse_overwriting_inputs
    from ..targets import decode_outputs

    refuse_empty_path(output, "--output", "a file name such as predictions.csv")
    refuse_overwriting_inputs(("--output", output), ("the model", model), ("--input", input))
    net, meta = _load_model_or_fail(model)
    X = _model_inputs(model, net, meta, read_features(input, dtype=net.dtype), f"--input {input}")
    Z = net.predict(X)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")  # quotes a class name with a comma, a quote or a line break
    if meta.get("task") == "classification":
        classes = meta.get("classes") or list(range(max(2, net.n_outputs)))
        idx = decode_outputs(Z, _target_range(meta), net.output_unit.name)
        head = (
            ["label"] + [f"output_{c}" for c in classes[: net.n_outputs]] if net.n_outputs > 1 else ["label", "output"]
        )
        out.writerow(head)
        for k, row in zip(idx, Z):
            out.writerow([str(classes[k])] + [f"{v:.6g}" for v in row])
    else:
        out.writerow(["prediction"] if net.n_outputs == 1 else [f"prediction_{j}" for j in range(net.n_outputs)])
        for row in Z:
            out.writerow([f"{v:.8g}" for v in row])
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
    from ..modelfile import inspect_model

    info = inspect_model(model)
    if as_json:
        typer.echo(json.dumps(_json_safe(info), indent=2, default=str, allow_nan=False))
        return
    for line in _summary_lines(info):
        typer.echo(line)


def _summary_lines(info: dict) -> list[str]:
    """``inspect_model``'s summary as readable lines: the file, the network, the task, the training, the results."""
    fmt = f"{info['format']} (format {info['format_version']})"
    checksum = "checksum verified" if info["checksum"] == "verified" else "no checksum (an older file)"
    lines = [f"{info['path']}: {fmt}, {info['file_size']} bytes, {checksum}"]
    sizes = "-".join(str(n) for n in [info["layers"][0]["n_in"]] + [L["n_out"] for L in info["layers"]])
    lines.append(f"network: {sizes}, {info['dtype']}, loss {info['loss']}, {info['n_parameters']} parameters")
    for i, L in enumerate(info["layers"]):
        unit = L["unit"] + (f" ({_pairs(L['unit_params'])})" if L["unit_params"] else "")
        extras = [f"dropout {L['dropout']:g}"] if L["dropout"] else []
        extras += [f"{L['lesioned']} units lesioned"] if L["lesioned"] else []
        lines.append(f"  layer {i}: {L['n_in']} -> {L['n_out']} {unit}" + "".join(f", {e}" for e in extras))
    if info.get("task"):
        classes = info.get("classes") or []
        shown = ", ".join(map(str, classes[:12])) + (f", ... ({len(classes)} in all)" if len(classes) > 12 else "")
        lines.append(f"task: {info['task']}" + (f"; classes {shown}" if classes else ""))
    if "epoch" in info:
        lines.append(f"checkpoint: after epoch {info['epoch']}, optimizer {_pairs(info['optimizer'])}")
    trained = []
    if info.get("epochs_trained") is not None:
        trained.append(f"{info['epochs_trained']} epochs")
    if info.get("stop_reason"):
        trained.append(f"stopped: {info['stop_reason']}")
    if info.get("standardized"):
        trained.append("inputs standardized")
    if info.get("target_range"):
        trained.append(f"targets {info['target_range']}")
    if trained:
        lines.append("training: " + "; ".join(trained))
    config = info.get("config")
    if isinstance(config, dict) and config:
        lines.append("config:")
        lines += [f"  {k} = {json.dumps(v)}" for k, v in config.items() if v is not None]
    test = info.get("test")
    if isinstance(test, dict) and test:
        lines.append(
            "test: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in test.items())
        )
    others = [k for k in info.get("metadata_keys", []) if k not in _SHOWN_KEYS]
    if others:
        lines.append("other metadata: " + ", ".join(others))
    return lines


#: Metadata keys ``_summary_lines`` shows in their own lines.
_SHOWN_KEYS = ("task", "classes", "config", "test", "epochs_trained", "stop_reason", "preprocessing", "target_range")


def _pairs(d: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items())


@app.command("export-onnx")
@_errors("export-onnx")
def export_onnx(
    model: Annotated[str, typer.Argument(help="A model file.")],
    out: Annotated[str, typer.Argument(help="Where to write the .onnx file.")],
    input_dtype: Annotated[
        str, typer.Option(help="The graph's input type: float32 (what most ONNX users feed) or float64.")
    ] = "float32",
):
    """Export a model to ONNX: Gemm + unit nodes, with the stored standardization in front.

    A classifier's graph has two outputs, "label" and "probabilities", so the file serves
    predictions on its own; a regression model's has one, "Y".

    Example: neuronet export-onnx model.safetensors model.onnx
    """
    from ..files import refuse_empty_path, refuse_overwriting_inputs
    from ..onnx_export import OPSET, export_model_file

    refuse_empty_path(out, "OUT", "a file name such as model.onnx")
    refuse_overwriting_inputs(("OUT", out), ("MODEL", model))
    proto = export_model_file(model, out, input_dtype=input_dtype)
    outputs = ", ".join(o.name for o in proto.graph.output)
    typer.echo(f"{out} written (ONNX opset {OPSET}, {input_dtype} input; outputs: {outputs})")
