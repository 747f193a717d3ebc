"""The notes' facts about the sigmoid: S′ = S(1 − S), its flat tails, and its greatest curvature at 0.21 and 0.79.

Lecture, "Sigmoid unit saturation" and remedy ②: output close to 0 or 1 gives S′ = S(1 − S) ≈ 0,
and "sigmoid has greatest curvature at 0.21 & 0.79" (the reason for targets 0.15/0.85).  Each is
measured on the engine's own sigmoid unit, in float64, over a fine grid of inputs:

* S′ from the unit's derivative against central differences of its forward pass;
* where |S″| is largest, as outputs S (analytically S = (3 ± √3)/6 ≈ 0.211, 0.789), and where the
  graph's geometric curvature κ = |S″| / (1 + S′²)^{3/2} is largest;
* how much slower a unit learns in the tails: S′ at outputs 0.01/0.99 against S′ at 0.15/0.85.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..stats import Check
from ..units import Sigmoid
from .base import Plot, Series
from .design import Design, register_design

CLAIM = (
    "S′ = S(1 − S) ≈ 0 for outputs near 0 or 1 (a stuck unit); the sigmoid's greatest curvature is at 0.21 and 0.79."
)


@dataclass(frozen=True)
class Config:
    x_max: float = field(default=12.0, metadata={"low": 0, "low_open": True})
    points: int = field(default=240001, metadata={"low": 3})  # grid step 1e-4; second differences need 3
    curvature_tolerance: float = 0.005  # |measured argmax − 0.21 or 0.79| allowed
    tail: float = field(default=0.01, metadata={"low": 0, "high": 0.5, "low_open": True, "high_open": True})
    # an output within ``tail`` of 0 or 1 is "in the flat tail"

    @classmethod
    def quick(cls):
        return cls(points=24001)


def _curves(cfg):
    x = np.linspace(-cfg.x_max, cfg.x_max, cfg.points)
    unit = Sigmoid()
    s = unit(x[:, None])[:, 0].astype(np.float64)
    d_unit = _prime(unit, s)
    h = x[1] - x[0]
    d_num = np.gradient(s, h, edge_order=2)
    s2 = np.gradient(d_num, h, edge_order=2)
    return x, s, d_unit, d_num, s2


def _prime(unit, s):
    """The unit's derivative at outputs ``s`` (its backward pass's own formula)."""
    z = np.ascontiguousarray(s, dtype=np.float64)[:, None]
    out = np.empty_like(z)
    unit.derivative(z, out)
    return out[:, 0]


def _argmax_outputs(s, values):
    """The outputs S at the largest value of ``values`` on each side of S = 0.5."""
    low, high = s < 0.5, s > 0.5
    return float(s[low][np.argmax(values[low])]), float(s[high][np.argmax(values[high])])


@register_design
class SigmoidFacts(Design):
    name = "sigmoid-facts"
    claim = CLAIM
    config_cls = Config
    order = 15

    def runs(self, cfg):
        return [{"grid": cfg.points}]

    def measure(self, cfg, key):
        _, s, d_unit, d_num, s2 = _curves(cfg)
        inner = slice(2, -2)  # np.gradient's edge stencils are less accurate
        kappa = np.abs(s2) / (1 + d_num**2) ** 1.5
        unit = Sigmoid()
        at = {str(o): float(_prime(unit, np.array([o]))[0]) for o in (cfg.tail, 0.15, 0.5, 0.85)}
        return {
            "derivative_error": float(np.max(np.abs(d_unit - s * (1 - s)))),
            "derivative_vs_numeric": float(np.max(np.abs(d_unit[inner] - d_num[inner]))),
            "s2_argmax": _argmax_outputs(s[inner], np.abs(s2[inner])),
            "kappa_argmax": _argmax_outputs(s[inner], kappa[inner]),
            "prime_at": at,
            "curve": {"s": s[::400].tolist(), "prime": d_unit[::400].tolist(), "s2": s2[::400].tolist()},
        }

    def judge(self, cfg, measured):
        d = measured[0][1]
        exact = ((3 - np.sqrt(3)) / 6, (3 + np.sqrt(3)) / 6)
        miss = max(abs(a - b) for a, b in zip(d["s2_argmax"], (0.21, 0.79)))
        kmiss = max(abs(a - b) for a, b in zip(d["kappa_argmax"], (0.21, 0.79)))
        p = d["prime_at"]
        ratio = p[str(cfg.tail)] / p["0.15"]
        return [
            Check(
                "S′ = S(1 − S)",
                "the unit's derivative is S(1 − S), and matches the numerical slope of its forward pass",
                "largest |S′ − numerical slope| over the grid",
                d["derivative_vs_numeric"],
                None,
                "≤ 1e-6",
                cfg.points,
                d["derivative_vs_numeric"] <= 1e-6 and d["derivative_error"] <= 1e-12,
                "a wrong derivative (e.g. S(1 − S) computed from the input instead of the output) is off by ~0.1",
            ),
            Check(
                "greatest curvature at 0.21 and 0.79",
                f"|S″| is largest at outputs 0.21 and 0.79 (exactly (3 ∓ √3)/6 = {exact[0]:.4f}, {exact[1]:.4f})",
                "largest distance of the measured argmax outputs of |S″| from 0.21 / 0.79",
                miss,
                None,
                f"≤ {cfg.curvature_tolerance:g} (the notes' two decimals)",
                cfg.points,
                miss <= cfg.curvature_tolerance,
                "if the greatest curvature were elsewhere (e.g. at 0.5 or 0.1/0.9) the distance would be ≥ 0.1",
                note=(
                    f"Read as the second derivative |S″|. The graph's geometric curvature κ = |S″|/(1 + S′²)^1.5 "
                    f"peaks at {d['kappa_argmax'][0]:.4f} and {d['kappa_argmax'][1]:.4f}, {kmiss:.4f} away."
                ),
            ),
            Check(
                "the tails are flat",
                f"a unit whose output is {cfg.tail:g} or {1 - cfg.tail:g} learns far slower than one at 0.15/0.85",
                f"S′ at output {cfg.tail:g} ÷ S′ at 0.15",
                ratio,
                None,
                "< 0.1",
                1,
                ratio < 0.1,
                "a unit without flat tails (e.g. the identity) gives a ratio of 1",
            ),
        ]

    def present(self, cfg, measured, checks):
        d = measured[0][1]
        c = d["curve"]
        plot = Plot(
            title="The sigmoid's slope S′ and curvature S″ against its output S",
            xlabel="output S",
            ylabel="value",
            series=[Series("S′ = S(1 − S)", c["s"], c["prime"]), Series("S″", c["s"], c["s2"])],
            vlines=[(0.21, "0.21"), (0.79, "0.79")],
        )
        lo, hi = d["s2_argmax"]
        return {
            "measurement": (
                f"The engine's sigmoid on {cfg.points} inputs in [−{cfg.x_max:g}, {cfg.x_max:g}], float64: its "
                f"derivative against numerical slopes, and where |S″| peaks (outputs {lo:.4f} and {hi:.4f})."
            ),
            "metrics": {c.name: c.value for c in checks},
            "plots": [plot],
        }
