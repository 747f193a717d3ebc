"""The lecture's claims as experiments: one module per claim, registered by name.

``EXPERIMENTS`` maps a name to an ``Experiment`` (claim, config class, function);
``neuronet experiment list|run`` and ``neuronet lecture`` use it.  Experiments
know nothing of the CLI or of plotting.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import (
    EXPERIMENTS,
    VERDICTS,
    Experiment,
    Plot,
    Result,
    Series,
    experiment,
    get_experiment,
    parse_overrides,
    pm,
    sorted_names,
    spread,
)

_LOADED: set[str] = set()


def _load_all():
    """Import every experiment module of this package (each registers itself)."""
    if _LOADED:
        return
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name not in ("base", "runner", "common", "design", "coverage"):
            importlib.import_module(f"{__name__}.{mod.name}")
    _LOADED.add("all")  # only once every module imported: a failed import is retried and re-raised


__all__ = [
    "EXPERIMENTS",
    "VERDICTS",
    "Experiment",
    "Plot",
    "Result",
    "Series",
    "experiment",
    "get_experiment",
    "parse_overrides",
    "pm",
    "sorted_names",
    "spread",
]
