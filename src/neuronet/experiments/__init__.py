"""Registry of the lecture's experiments: one module per claim (filled by the lecture work)."""

from __future__ import annotations

from ..errors import ConfigError

#: name -> experiment object with ``claim`` (str) and ``run(config) -> Result``
EXPERIMENTS: dict = {}


def get_experiment(name: str):
    if name not in EXPERIMENTS:
        valid = ", ".join(EXPERIMENTS) or "none registered yet"
        raise ConfigError(f"unknown experiment {name!r}; valid: {valid}")
    return EXPERIMENTS[name]
