"""The ``neuronet`` Typer app, its error handling and exit codes (the commands live beside it)."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from ..errors import NeuronetError

app = typer.Typer(
    name="neuronet",
    help="Neural networks from the neuron up: train, inspect and study MLPs and their variations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool):
    if value:
        from ..version import __version__

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
