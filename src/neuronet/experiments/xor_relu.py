"""ReLU is still nonlinear, so it can compute XOR; its gradient is rarely 0 for all points — tested on XOR.

The notes (lecture, lines 165–174): "⑤ Replace sigmoids with ReLUs: r(r) = max(0, r),
r′(r) = 1 for r ≥ 0, 0 for r < 0 … Still nonlinear → can compute XOR … gradient sometimes 0, but
rare for ReLU's gradient to be 0 for all pts."

Design (the runs and the theory are in ``xor_relu_runs``):

* **Existence.**  The hand-set 2-2-1 network ``h1 = relu(x1 + x2)``, ``h2 = relu(x1 + x2 − 1)``,
  ``y = h1 − 2 h2`` through the engine outputs exactly 0, 1, 1, 0.
* **Training.**  2-H-1 networks (ReLU hidden, sigmoid output, logistic loss, full-batch gradient
  descent, ``epochs`` steps; success = all four patterns on the right side of 0.5) from every
  seed, in six arms: hidden biases zero (the engine's default), a small constant
  (``bias_const``) or N(0, ``bias_std``²), × the engine's ``r′(0) = 0`` or the notes'
  ``r′(0) = 1``.  Every arm starts from the seed's He weights (paired) and trains at its own
  learning rate, chosen on ``select_seeds`` (disjoint from ``seeds``): the highest success rate,
  ties broken by the lower mean final loss.
* **Dead units.**  A unit whose gradient is 0 on all four patterns is dead.  Its probability at
  initialisation is derived in ``xor_relu_runs`` (1/4 for zero biases and ``r′(0) = 0``) and
  compared with fresh draws of the engine's initializer; its frequency after training, and how
  it falls with the number of (centred) data points as ``2^−n``, test "rare for all points".

Checks: the hand-set network is exact; the notes' ReLU learns XOR in most runs (Wilson lower
bound > ``success_min``); dead-at-init frequencies match theory (every Wilson CI inside
theory ± ``theory_margin``); dead units are rare after training on XOR (Wilson upper bound <
``rare_max``); with n centred points the dead fraction falls as 2^−n; and three paired effects
over the test seeds (95% t CIs): ``r′(0) = 1`` leaves fewer dead units and more successes than
``r′(0) = 0`` with zero biases, and a positive constant bias more successes than zero biases.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..init import get_init
from ..stats import Check, helps, spearman
from .design import Design, register_design
from .xor_relu_present import present
from .xor_relu_runs import (
    BIASES,
    KINKS,
    by_arm,
    choose,
    dead_probability,
    hand_set_xor,
    init_counts,
    init_draws,
    outcomes,
    size_counts,
    size_draws,
    test_rows,
    train_lockstep,
    wilson,
    xor_data,
)

CLAIM = "ReLU is still nonlinear → can compute XOR; its gradient is sometimes 0, but rarely 0 for all points."


@dataclass(frozen=True)
class Config:
    seeds: tuple = tuple(range(100))  # test seeds: the same He weights for every arm of a seed
    select_seeds: tuple = tuple(range(1000, 1020))  # choose each arm's learning rate (disjoint from seeds)
    hidden_sizes: tuple = (2, 4)
    main_hidden: int = 4  # the training checks are judged on 2-main_hidden-1 networks
    init: str = "he"  # the engine's initializer for the hidden weights (N(0, 2/fan_in) = N(0, 1) here)
    bias_const: float = 0.1  # the "const" arm's hidden biases
    bias_std: float = 1.0  # the "normal" arm's hidden biases ~ N(0, bias_std²)
    lr_grid: tuple = (0.25, 0.5, 1.0, 2.0, 4.0)
    epochs: int = 500  # full-batch steps (at lr 0.5–1 every arm's success rate is the same after 2000: 40 seeds)
    init_units: int = 1000  # fresh units per run for the dead-at-init frequencies
    sizes: tuple = (1, 2, 4, 8, 16, 32)  # numbers of data points for "rare for all points"
    size_units: int = 100  # units per number of points, per test seed
    success_min: float = 0.5  # "learns XOR": Wilson lower bound of the success rate above this
    rare_max: float = 0.05  # "rare": Wilson upper bound of the dead fraction below this
    theory_margin: float = 0.02  # measured dead-at-init frequencies within theory ± this
    grid_points: int = 81  # the hand-set network's output image: grid_points² over [−0.5, 1.5]²
    confidence: float = 0.95

    @classmethod
    def quick(cls):
        return cls(seeds=tuple(range(24)), select_seeds=tuple(range(1000, 1008)), hidden_sizes=(4,))


def check_config(cfg):
    if set(cfg.seeds) & set(cfg.select_seeds):
        raise ConfigError(f"xor-relu: select_seeds {cfg.select_seeds} must be disjoint from seeds {cfg.seeds}")
    if len(cfg.seeds) < 2:
        raise ConfigError("xor-relu: need at least 2 seeds")
    if cfg.main_hidden not in cfg.hidden_sizes or min(cfg.hidden_sizes) < 1:
        raise ConfigError(f"xor-relu: main_hidden {cfg.main_hidden} must be one of hidden_sizes {cfg.hidden_sizes}")
    if not cfg.lr_grid or min(cfg.lr_grid) <= 0 or min(cfg.sizes, default=0) < 1 or len(set(cfg.sizes)) < 4:
        # 4 sizes: the smallest exact Spearman p-value, 1/24, can then fall below 0.05
        raise ConfigError("xor-relu: lr_grid must be positive; sizes needs at least 4 distinct numbers of points >= 1")
    if get_init(cfg.init).name in ("uniform", "glorot-uniform"):
        raise ConfigError(f"xor-relu: init {cfg.init!r}: the theory of dead units assumes normal weights")
    if cfg.init_units < 1 or cfg.size_units < 1:
        raise ConfigError("xor-relu: init_units and size_units must be >= 1")


# -- the checks ------------------------------------------------------------------------------------------
def _hand_set_check(measured) -> Check:
    out = next((d for k, d in measured if k["part"] == "hand-set"), {})
    outputs = out.get("outputs") or [math.nan] * 4
    _, Y = xor_data()
    err = float(np.max(np.abs(np.asarray(outputs, float) - Y[:, 0])))
    return Check(
        name="hand-set XOR",
        claim="a 2-2-1 ReLU network computes XOR exactly: relu(x1 + x2) − 2 relu(x1 + x2 − 1)",
        statistic="largest |output − XOR| over the four patterns (engine, float64)",
        value=err,
        ci=None,
        threshold="= 0",
        n=4,
        holds=bool(err == 0),
        could_fail="a linear network gets at most 3 of the 4 patterns; an engine ReLU that were not max(0, a) "
        "would miss the 0 at (1, 1)",
        note=f"outputs {outputs}",
    )


def _learns_check(cfg, train, chosen) -> Check:
    H = cfg.main_hidden
    rows = test_rows(train, chosen, cfg, H, "zero", 1)
    k, n = sum(r["success"] for r in rows), len(rows)
    lo, hi = wilson(k, n, cfg.confidence)
    engine = test_rows(train, chosen, cfg, H, "zero", 0)
    ke = sum(r["success"] for r in engine)
    return Check(
        name="trained ReLU networks learn XOR",
        claim=f"2-{H}-1 networks of the notes' ReLU (r′(0) = 1), He init, zero biases, learn XOR in most runs",
        statistic="success rate over test seeds (all four patterns on the right side of 0.5)",
        value=k / n if n else math.nan,
        ci=(lo, hi),
        threshold=f"Wilson {cfg.confidence:.0%} lower bound > {cfg.success_min:g}",
        n=n,
        holds=bool(n and lo > cfg.success_min),
        could_fail=f"gradient descent finding XOR in at most {cfg.success_min:.0%} of runs (e.g. dead units)",
        note=f"lr {chosen.get((H, 'zero', 1))}; the engine's ReLU (r′(0) = 0): {ke}/{len(engine)}",
    )


def _theory_check(cfg, measured) -> Check:
    counts = init_counts(measured)
    worst, inside, parts, total = 0.0, True, [], 0
    for bias in BIASES:
        for kink in KINKS:
            d, n = counts.get(f"{bias}/{kink}", (0, 0))
            p = dead_probability(bias, kink, cfg)
            lo, hi = wilson(d, n, cfg.confidence)
            inside &= bool(n) and p - cfg.theory_margin < lo and hi < p + cfg.theory_margin
            worst = max(worst, abs(d / n - p)) if n else math.inf
            parts.append(f"{bias}/r′(0)={kink}: {d / n if n else math.nan:.4f} vs {p:.4f}")
            total = max(total, n)
    return Check(
        name="dead at init matches theory",
        claim=(
            "the probability that a fresh unit is dead on all four XOR inputs is 1/4 for zero biases and the "
            "engine's r′(0) = 0, 0 with r′(0) = 1 or a positive bias, and the derived integral for N(0, σ²) biases"
        ),
        statistic="largest |measured − theory| over the six (bias × r′(0)) cases",
        value=worst,
        ci=None,
        threshold=f"every Wilson {cfg.confidence:.0%} CI inside theory ± {cfg.theory_margin:g}",
        n=total,
        holds=bool(inside),
        could_fail="a wrong derivation (e.g. 1/8 if a = 0 counted as alive) or an init other than the one derived",
        note="; ".join(parts),
    )


def _rare_xor_check(cfg, train, chosen) -> Check:
    H = cfg.main_hidden
    rows = test_rows(train, chosen, cfg, H, "zero", 1)
    d, n = sum(r["dead_end"] for r in rows), H * len(rows)
    lo, hi = wilson(d, n, cfg.confidence)
    engine = test_rows(train, chosen, cfg, H, "zero", 0)
    de = sum(r["dead_end"] for r in engine)
    return Check(
        name="dead units rare on XOR",
        claim="after training on XOR, a hidden unit's gradient is rarely 0 on all four points "
        "(notes' ReLU, zero biases)",
        statistic=f"fraction of hidden units of the 2-{H}-1 networks dead at the end of training",
        value=d / n if n else math.nan,
        ci=(lo, hi),
        threshold=f"Wilson {cfg.confidence:.0%} upper bound < {cfg.rare_max:g}",
        n=n,
        holds=bool(n and hi < cfg.rare_max),
        could_fail=f"{cfg.rare_max:.0%} or more of the units dead: with four inputs in the positive quadrant a unit "
        "with both weights negative sees a ≤ 0 everywhere",
        note=f"theory at init: 1/4 (r′(0) = 0), 0 but 1/8 after the first step (r′(0) = 1); engine's ReLU at the end: "
        f"{de / (H * len(engine)) if engine else math.nan:.3f}",
    )


def _size_check(cfg, measured) -> Check:
    counts = size_counts(measured, cfg)
    dead, n = counts.get("centred", ([0] * len(cfg.sizes), 0))
    frac = [d / n if n else math.nan for d in dead]
    trend = spearman(cfg.sizes, frac, direction="falls", name="rare with many points")
    conf = 1 - (1 - cfg.confidence) / len(cfg.sizes)  # Bonferroni over the sizes
    misses = [m for m, d in zip(cfg.sizes, dead) if not (wilson(d, n, conf)[0] <= 2.0**-m <= wilson(d, n, conf)[1])]
    holds = trend.holds and not misses and n > 0
    return dataclasses.replace(
        trend,
        claim="with n centred data points (zero bias), a unit is dead on all of them with probability 2^−n: rarer "
        "and rarer as n grows",
        statistic="Spearman ρ of the dead fraction with n (and its agreement with 2^−n)",
        threshold=f"{trend.threshold}, and every Bonferroni Wilson {conf:.1%} CI contains 2^−n",
        holds=bool(holds),
        could_fail="a dead fraction that does not fall with n, or one that disagrees with 2^−n",
        note=f"{n} units per n; dead fractions {', '.join(f'n={m}: {f:.4f}' for m, f in zip(cfg.sizes, frac))}"
        + (f"; 2^−n outside the CI at n = {misses}" if misses else ""),
    )


def _effect_checks(cfg, train, chosen) -> list[Check]:
    H = cfg.main_hidden
    arms = {(b, k): test_rows(train, chosen, cfg, H, b, k) for b in ("zero", "const") for k in KINKS}
    specs = (
        (
            "r′(0) = 1 keeps units alive",
            ("zero", 0),
            ("zero", 1),
            "dead_end",
            "with zero biases, the notes' r′(0) = 1 leaves fewer dead hidden units than the engine's r′(0) = 0",
            "dead hidden units per network, r′(0) = 0 minus r′(0) = 1",
        ),
        (
            "r′(0) = 1 helps learn XOR",
            ("zero", 1),
            ("zero", 0),
            "success",
            "with zero biases, the notes' r′(0) = 1 learns XOR more often than the engine's r′(0) = 0",
            "success (0/1), r′(0) = 1 minus r′(0) = 0",
        ),
        (
            "positive bias init helps learn XOR",
            ("const", 0),
            ("zero", 0),
            "success",
            f"hidden biases {cfg.bias_const:g} instead of 0 (engine's ReLU) learn XOR more often",
            f"success (0/1), bias {cfg.bias_const:g} minus bias 0",
        ),
    )
    checks = []
    for name, a_arm, b_arm, field, claim, stat in specs:
        a = [float(r[field]) for r in arms[a_arm]]
        b = [float(r[field]) for r in arms[b_arm]]
        checks.append(
            helps(
                a,
                b,
                direction="greater",
                confidence=cfg.confidence,
                method="t",
                name=name,
                claim=f"2-{H}-1: {claim}",
                statistic=f"mean paired difference over test seeds: {stat}",
                could_fail="no difference between the arms on paired seeds (CI reaching 0)",
            )
        )
    return checks


@register_design
class XorReLU(Design):
    name = "xor-relu"
    claim = CLAIM
    config_cls = Config
    order = 60

    def runs(self, cfg):
        check_config(cfg)
        keys = [{"part": "hand-set"}]
        for role, seeds in (("select", cfg.select_seeds), ("test", cfg.seeds)):
            for s in seeds:
                keys += [{"part": "train", "role": role, "H": int(H), "seed": int(s)} for H in cfg.hidden_sizes]
        keys += [{"part": "size", "seed": int(s)} for s in cfg.seeds]
        return keys

    def measure(self, cfg, key):
        if key["part"] == "hand-set":
            net = hand_set_xor()
            X, _ = xor_data()
            g = np.linspace(-0.5, 1.5, cfg.grid_points)
            gx, gy = np.meshgrid(g, g)  # row r is x2 = g[r]: origin at the bottom
            image = net.predict(np.column_stack([gx.ravel(), gy.ravel()]))[:, 0].reshape(gx.shape)
            return {"outputs": net.predict(X)[:, 0].tolist(), "image": np.clip(image, 0, 1).tolist()}
        if key["part"] == "size":
            return size_draws(key["seed"], cfg)
        plan, start, final = train_lockstep(key["seed"], key["H"], cfg)
        return {"copies": outcomes(plan, start, final), "init": init_draws(key["seed"], key["H"], cfg)}

    def judge(self, cfg, measured):
        train = by_arm(measured, cfg)
        chosen = choose(train, cfg)
        return [
            _hand_set_check(measured),
            _learns_check(cfg, train, chosen),
            _theory_check(cfg, measured),
            _rare_xor_check(cfg, train, chosen),
            _size_check(cfg, measured),
            *_effect_checks(cfg, train, chosen),
        ]

    def present(self, cfg, measured, checks):
        train = by_arm(measured, cfg)
        return present(cfg, measured, train, choose(train, cfg), checks)
