"""Weight initializers.

Each initializer is called as ``init((fan_in, fan_out), rng, dtype)`` and draws
from the ``numpy.random.Generator`` it is given (never the global state).

============== ===================================== =========================================
name           distribution                          source
============== ===================================== =========================================
normal         N(0, std^2), std = 1 by default       the notes' "bad" baseline at std = 1
fan-in         N(0, 1/fan_in)                        remedy (1): LeCun et al. 1998
glorot         N(0, 2/(fan_in + fan_out))            Glorot & Bengio 2010
glorot-uniform U(±sqrt(6/(fan_in + fan_out)))        Glorot & Bengio 2010, eq. 16
he             N(0, 2/fan_in)                        He et al. 2015, for ReLU
uniform        U(±r), r = 0.7 by default             Fahlman 1988 (encoder benchmarks)
============== ===================================== =========================================

A spec string may carry the parameter after a colon: ``"normal:0.1"``,
``"uniform:0.5"``.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError


class Initializer:
    name = "init"

    def std(self, fan_in: int, fan_out: int) -> float:
        raise NotImplementedError

    def __call__(self, shape, rng: np.random.Generator, dtype=np.float32):
        fan_in, fan_out = shape
        w = rng.standard_normal(shape)  # float64 draw: same numbers for any dtype
        w *= self.std(fan_in, fan_out)
        return w.astype(dtype, copy=False)

    def config(self) -> dict:
        return {"name": self.name}

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({params})"


class Normal(Initializer):
    """N(0, std^2) whatever the fan-in: with std = 1 a unit with many inputs saturates."""

    name = "normal"

    def __init__(self, std: float = 1.0):
        std = float(std)
        if not (std >= 0 and math.isfinite(std)):
            raise ConfigError(f"normal init: std must be a finite number >= 0, got {std}")
        self._std = std

    def std(self, fan_in, fan_out):
        return self._std

    def config(self):
        return {"name": self.name, "std": self._std}


class FanIn(Initializer):
    """Remedy (1): mean 0, std 1/sqrt(fan_in), so that the weighted sum has unit variance."""

    name = "fan-in"

    def std(self, fan_in, fan_out):
        return 1.0 / math.sqrt(fan_in)


class Glorot(Initializer):
    """Glorot & Bengio (2010) normal: std sqrt(2 / (fan_in + fan_out))."""

    name = "glorot"

    def std(self, fan_in, fan_out):
        return math.sqrt(2.0 / (fan_in + fan_out))


class He(Initializer):
    """He et al. (2015): std sqrt(2 / fan_in), keeps ReLU activations' scale with depth."""

    name = "he"

    def std(self, fan_in, fan_out):
        return math.sqrt(2.0 / fan_in)


class Uniform(Initializer):
    """U(-r, r); Fahlman (1988) used r = 0.7 on the encoder/decoder benchmarks."""

    name = "uniform"

    def __init__(self, r: float = 0.7):
        r = float(r)
        if not (r >= 0 and math.isfinite(r)):
            raise ConfigError(f"uniform init: r must be a finite number >= 0, got {r}")
        self.r = r

    def limit(self, fan_in, fan_out):
        return self.r

    def __call__(self, shape, rng, dtype=np.float32):
        lim = self.limit(*shape)
        return rng.uniform(-lim, lim, size=shape).astype(dtype, copy=False)

    def config(self):
        return {"name": self.name, "r": self.r}


class GlorotUniform(Uniform):
    """Glorot & Bengio (2010) uniform: U(±sqrt(6 / (fan_in + fan_out)))."""

    name = "glorot-uniform"

    def __init__(self):
        pass

    def limit(self, fan_in, fan_out):
        return math.sqrt(6.0 / (fan_in + fan_out))

    def config(self):
        return {"name": self.name}


INITS: dict[str, type[Initializer]] = {
    "normal": Normal,
    "fan-in": FanIn,
    "lecun": FanIn,
    "glorot": Glorot,
    "xavier": Glorot,
    "glorot-uniform": GlorotUniform,
    "he": He,
    "uniform": Uniform,
}


def get_init(spec, **params) -> Initializer:
    """Resolve an initializer from an instance, ``"name"``, ``"name:param"`` or a config dict."""
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, dict):
        params = {**{k: v for k, v in spec.items() if k != "name"}, **params}
        spec = spec.get("name")
    if not isinstance(spec, str):
        raise ConfigError(f"unknown init {spec!r}; valid inits: {', '.join(INITS)}")
    name, _, arg = spec.strip().lower().replace("_", "-").partition(":")
    if name not in INITS:
        raise ConfigError(f"unknown init {spec!r}; valid inits: {', '.join(INITS)}")
    cls = INITS[name]
    if arg:
        if cls not in (Normal, Uniform):
            raise ConfigError(f"init {name!r} takes no parameter (got {spec!r})")
        try:
            value = float(arg)
        except ValueError:
            raise ConfigError(f"init {spec!r}: parameter {arg!r} is not a number") from None
        params = {("std" if cls is Normal else "r"): value, **params}
    try:
        return cls(**params)
    except TypeError:
        raise ConfigError(f"init {name!r} does not take parameters {sorted(params)}") from None
