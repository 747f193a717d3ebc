"""The ``neuronet`` command.

Exit codes: 0 success; 2 bad input or usage (one line on stderr naming the file or
option and the problem); 3 training diverged (the last good weights are kept).
"""

from __future__ import annotations

import os
import sys

import typer

try:  # recent typer releases vendor click
    from typer._click import exceptions as _click_exc
except ImportError:  # older ones depend on click itself
    from click import exceptions as _click_exc


from ..errors import NeuronetError
from . import lab_commands, model_commands
from ._app import EXIT_BAD_INPUT, EXIT_DIVERGED, app, experiment_app
from .lab_commands import experiment_run, lecture, playground, sweep, sweep_report
from .model_commands import evaluate, export_onnx, inspect, predict, train

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DIVERGED",
    "app",
    "evaluate",
    "experiment_app",
    "experiment_run",
    "export_onnx",
    "inspect",
    "lab_commands",
    "lecture",
    "main",
    "model_commands",
    "playground",
    "predict",
    "sweep",
    "sweep_report",
    "train",
]


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
