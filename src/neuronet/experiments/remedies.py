"""The notes' remedies for saturated units, as a factorial design over seeds.

The notes (lecture, lines 106–177) list remedies for sigmoid units stuck where ``S′ = S(1 − S) ≈ 0``,
a problem that grows with the number of layers (the vanishing gradient):

① fan-in initialisation N(0, 1/n); ② targets 0.15/0.85 instead of 0/1; ③ backpropagate through
``S′ + 0.1``; ④ cross-entropy instead of squared error ("helps avoid stuck output units, can't
help stuck hidden units"); ⑤ ReLU hidden units.  And: "option ⑤ makes ② ③ ④ useless".

Design (the arms are in ``remedies_runs``).  A deep MLP (4 hidden layers by default) with sigmoid
outputs, squared error, 0/1 targets and plain SGD, in two rows: sigmoid hidden units with fan-in
init, and ReLU hidden units with He init (sane initialisation in every arm).  Each remedy
②③④ is switched on alone in each row: a 2 × 2 design per remedy.  ① is switched off (N(0, 1))
in the sigmoid row only.  Every arm trains at its own learning rate, chosen on the validation
splits of selection seeds disjoint from the test seeds; then every test seed (its own data split,
initial weights and shuffling, shared by all arms: a paired design) trains once per arm.

Checks (``stats``): "k helps with sigmoid units": the 95% t CI of the mean paired difference in
test accuracy excludes 0 upwards.  "⑤ makes k useless": the difference of differences
``(sigmoid + k − sigmoid) − (ReLU + k − ReLU)`` has a CI above 0 (interaction), and ReLU + k is
equivalent to ReLU within ``useless_margin`` by TOST, judged only when both ReLU arms train.
Separately, that ③ and ④ un-stick output units, which ⑤ (a change of the hidden units) does not
touch: after training, one output unit of a copy of each network is forced to the wrong bound
(``z ≤ 0.01`` on every image) and trained one more epoch.  With ReLU hidden units, fewer of its
class's images leave it stuck with ③ or ④ than without (paired CI below 0); without them it stays
as stuck with ReLU as with the sigmoid units that train (N(0, 1)) (TOST within ``unstick_margin``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..stats import Check, helps, interaction, tost
from .design import Design, register_design
from .remedies_runs import CE_FORMS, CIRCLED, REMEDIES, arm_from_key, arms, measure_run

CLAIM = (
    "Remedies for saturated sigmoid units — ① fan-in initialization, ② soft targets 0.15/0.85, ③ S′ + 0.1 in "
    "backpropagation, ④ cross-entropy, ⑤ ReLU hidden units — each helps; ③ and ④ act on stuck output units, "
    "which ⑤ does not touch; and option ⑤ makes ② ③ ④ useless."
)

REMEDY_TEXT = {"1": "fan-in init", "2": "soft targets", "3": "S′ + 0.1", "4": "cross-entropy", "5": "ReLU hidden"}


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    seeds: tuple = tuple(range(20))  # test seeds: data split, initial weights, shuffling
    n_init_seeds: int = 10  # the first this-many test seeds also run the N(0, 1) arm (① off)
    select_seeds: tuple = (1000, 1001)  # validation seeds that choose each arm's rate (disjoint from seeds)
    hidden_layers: int = 4
    hidden_units: int = 32
    epochs: int = 10
    batch_size: int = 32
    sigmoid_lrs: tuple = (1.0, 3.0, 10.0)  # starting grid of the sigmoid row
    relu_lrs: tuple = (0.1, 0.3, 1.0)  # starting grid of the ReLU row
    lr_widen: float = 3.0  # a rate chosen at an end of the rates tried: try one this factor beyond
    max_widen: int = field(default=2, metadata={"low": 0})  # at most this many such extensions per arm
    tie_tol: float = 0.02  # validation accuracies this close tie; the smaller rate wins
    sigmoid_init: str = "fan-in"  # ① on: N(0, 1/n)
    relu_init: str = "he"  # N(0, 2/n)
    no_fan_in_init: str = "normal:1"  # ① off
    soft_targets: tuple = (0.15, 0.85)
    prime_offset: float = 0.1
    ce_form: str = "logistic"  # ④: "logistic" (same sigmoid outputs) or "softmax" (softmax + cross-entropy)
    useless_margin: float = 0.02  # TOST margin in test accuracy for "useless", stated in advance
    train_threshold: float = 0.5  # an arm trains when its mean test accuracy exceeds this
    stuck_tol: float = 0.05  # a unit within this of a bound is saturated
    stuck_start: float = 0.01  # a forced-stuck output unit starts at z <= this on every training image
    unstick_epochs: int = 1  # epochs it gets to recover
    unstick_margin: float = 0.1  # TOST margin on the still-stuck fraction for "⑤ does not touch it"
    probe_size: int = 1000  # training images on which output and hidden saturation are measured
    max_train: int | None = 2000  # caps for large data sets (digits has fewer)
    max_test: int | None = 2000

    @classmethod
    def quick(cls):
        return cls(
            seeds=(0, 1, 2),
            n_init_seeds=2,
            select_seeds=(1000,),
            epochs=6,
            sigmoid_lrs=(3.0, 10.0),
            relu_lrs=(0.1, 0.3),
            max_widen=0,
        )


def _check_config(cfg):
    if set(cfg.seeds) & set(cfg.select_seeds):
        raise ConfigError(f"remedies: select_seeds {cfg.select_seeds} must be disjoint from seeds {cfg.seeds}")
    if len(cfg.seeds) < 2 or not 2 <= cfg.n_init_seeds <= len(cfg.seeds):
        raise ConfigError(f"remedies: need >= 2 seeds and 2 <= n_init_seeds <= {len(cfg.seeds)}")
    if cfg.ce_form not in CE_FORMS:
        raise ConfigError(f"remedies: ce_form {cfg.ce_form!r}; valid: {', '.join(CE_FORMS)}")
    if not cfg.sigmoid_lrs or not cfg.relu_lrs or min(*cfg.sigmoid_lrs, *cfg.relu_lrs) <= 0 or cfg.lr_widen <= 1:
        raise ConfigError("remedies: the rate grids must be non-empty and positive, and lr_widen > 1")
    if len(cfg.soft_targets) != 2 or not 0 <= cfg.soft_targets[0] < cfg.soft_targets[1] <= 1:
        raise ConfigError(f"remedies: soft_targets must be (low, high) in [0, 1], got {cfg.soft_targets}")
    if cfg.hidden_layers < 1 or cfg.hidden_units < 1 or cfg.batch_size < 1 or cfg.probe_size < 1:
        raise ConfigError("remedies: hidden_layers, hidden_units, batch_size and probe_size must be >= 1")


# -- the data as the judgement needs it ---------------------------------------------------------------
def _field(measured, name) -> dict:
    """``{arm key: {seed: value}}``; a run that failed outright (``{"diverged": "why"}``) has None."""
    out = {}
    for key, data in measured:
        failed = isinstance(data.get("diverged"), str)
        out.setdefault(key["arm"], {})[key["seed"]] = None if failed else data.get(name)
    return out


def _first(measured, arm_key) -> dict:
    """A successful run of ``arm_key`` (every run of an arm shares its rate choice), or {}."""
    return next((d for k, d in measured if k["arm"] == arm_key and not isinstance(d.get("diverged"), str)), {})


def _aligned(values, arm_keys, seeds):
    """Arrays (one per arm) over the seeds where every arm has a value, and those seeds."""
    keep = [s for s in seeds if all(values.get(a, {}).get(s) is not None for a in arm_keys)]
    return [np.array([values[a][s] for s in keep], dtype=float) for a in arm_keys], keep


def _not_judged(name, claim, statistic, n, why, could_fail) -> Check:
    return Check(name, claim, statistic, float("nan"), None, "", n, False, could_fail, note=f"not judged: {why}")


class _Judge:
    """Builds the checks from the measured runs (one object per judgement)."""

    def __init__(self, cfg, measured):
        self.cfg = cfg
        self.acc = _field(measured, "test_accuracy")
        self.still = _field(measured, "still_stuck")
        self.edge = {a.key: _first(measured, a.key).get("edge", "") for a in arms()}

    def _notes(self, check, arm_keys) -> Check:
        """``check`` with a note for every arm whose rate choice was at an edge, or flat."""
        edges = []
        for a in arm_keys:
            label, edge = arm_from_key(a).label, self.edge[a]
            if edge == "flat":
                edges.append(f"{label}: every rate tied within {self.cfg.tie_tol:g} (flat), the smallest taken")
            elif edge:
                edges.append(f"{label}: chosen rate still at the {edge} end of the rates tried")
        if not edges:
            return check
        return dataclasses.replace(check, note="; ".join(filter(None, [check.note, *edges])))

    def helps(self, values, on, off, seeds, *, direction="greater", **label) -> Check:
        (a, b), keep = _aligned(values, [on, off], seeds)
        if len(keep) < 2:
            return _not_judged(**label, n=len(keep), why="fewer than 2 pairs")
        return self._notes(helps(a, b, direction=direction, method="t", **label), [on, off])

    def interaction(self, k) -> Check:
        keys = ["sigmoid/base", f"sigmoid/{k}", "relu/base", f"relu/{k}"]
        (s_off, s_on, r_off, r_on), keep = _aligned(self.acc, keys, self.cfg.seeds)
        c = CIRCLED[k]
        label = {
            "name": f"⑤ makes {c} useless: interaction",
            "claim": f"{c} ({REMEDY_TEXT[k]}) raises test accuracy more with sigmoid hidden units than with ReLU",
            "statistic": f"mean over seeds of (sigmoid+{c} − sigmoid) − (ReLU+{c} − ReLU) in test accuracy",
            "could_fail": f"the 95% CI reaching 0 or below: {c} helping ReLU as much as sigmoid, or neither",
        }
        if len(keep) < 2:
            return _not_judged(**{**label, "n": len(keep), "why": "fewer than 2 complete seeds"})
        return self._notes(interaction(s_off, s_on, r_off, r_on, direction="greater", method="t", **label), keys)

    def useless(self, k) -> Check:
        on, off = f"relu/{k}", "relu/base"
        (a, b), keep = _aligned(self.acc, [on, off], self.cfg.seeds)
        c, m = CIRCLED[k], self.cfg.useless_margin
        label = {
            "name": f"⑤ makes {c} useless: equivalence",
            "claim": f"with ReLU hidden units, adding {c} ({REMEDY_TEXT[k]}) changes test accuracy by less than ±{m:g}",
            "statistic": f"mean paired difference ReLU+{c} − ReLU in test accuracy",
            "could_fail": f"the 90% CI of the difference reaching beyond ±{m:g}, or a ReLU arm not training "
            f"(mean test accuracy ≤ {self.cfg.train_threshold:g})",
        }
        if len(keep) < 2:
            return _not_judged(**{**label, "n": len(keep), "why": "fewer than 2 pairs"})
        check = tost(a, b, m, train_threshold=self.cfg.train_threshold, names=(f"ReLU+{c}", "ReLU"), **label)
        return self._notes(check, [on, off])

    def untouched(self) -> Check:
        """⑤ changes the hidden units only: a stuck output stays as stuck with ReLU as with sigmoid units.

        The sigmoid network compared is the one that trains (N(0, 1) init): in the fan-in sigmoid
        network the last hidden layer is nearly constant, so its output layer learns slowly anyway.
        """
        arms_ = ["relu/base", "sigmoid/no-1"]
        (a, b), keep = _aligned(self.still, arms_, self.cfg.seeds[: self.cfg.n_init_seeds])
        m = self.cfg.unstick_margin
        label = {
            "name": "⑤ leaves a stuck output stuck",
            "claim": "without ③ or ④, an output unit forced to the wrong bound stays as stuck with ReLU hidden units "
            f"as with (trained, N(0,1)) sigmoid hidden units, within ±{m:g}",
            "statistic": "mean paired difference ReLU − sigmoid N(0,1) in the fraction of the unit's class images "
            "still stuck",
            "could_fail": f"the 90% CI reaching beyond ±{m:g}: ReLU hidden units letting the output recover (or not)",
        }
        if len(keep) < 2:
            return _not_judged(**{**label, "n": len(keep), "why": "fewer than 2 pairs"})
        return self._notes(tost(a, b, m, names=("ReLU", "sigmoid N(0,1)"), **label), arms_)

    def checks(self) -> list[Check]:
        cfg = self.cfg
        out = [
            self.helps(
                self.acc,
                "sigmoid/base",
                "sigmoid/no-1",
                cfg.seeds[: cfg.n_init_seeds],
                name="① helps (sigmoid)",
                claim="fan-in init N(0, 1/n) gives higher test accuracy than N(0, 1) in the deep sigmoid network",
                statistic="mean paired difference fan-in − N(0,1) in test accuracy",
                could_fail="the 95% CI reaching 0 or below: N(0, 1) training as well or better",
            )
        ]
        for k in REMEDIES:
            c = CIRCLED[k]
            out.append(
                self.helps(
                    self.acc,
                    f"sigmoid/{k}",
                    "sigmoid/base",
                    cfg.seeds,
                    name=f"{c} helps (sigmoid)",
                    claim=f"{c} ({REMEDY_TEXT[k]}) gives higher test accuracy in the deep sigmoid network",
                    statistic=f"mean paired difference sigmoid+{c} − sigmoid in test accuracy",
                    could_fail="the 95% CI reaching 0 or below",
                )
            )
        out.append(
            self.helps(
                self.acc,
                "relu/base",
                "sigmoid/base",
                cfg.seeds,
                name="⑤ helps",
                claim="ReLU hidden units (He init) give higher test accuracy than sigmoid units (fan-in init)",
                statistic="mean paired difference ReLU − sigmoid in test accuracy",
                could_fail="the 95% CI reaching 0 or below",
            )
        )
        for k in REMEDIES:
            out += [self.interaction(k), self.useless(k)]
        for k in ("3", "4"):
            c = CIRCLED[k]
            out.append(
                self.helps(
                    self.still,
                    f"relu/{k}",
                    "relu/base",
                    cfg.seeds,
                    direction="less",
                    name=f"{c} un-sticks a stuck output (ReLU)",
                    claim=f"with ReLU hidden units, an output unit forced to the wrong bound recovers with {c} "
                    f"({REMEDY_TEXT[k]}) more than without it, within {cfg.unstick_epochs} epoch(s)",
                    statistic=f"mean paired difference ReLU+{c} − ReLU in the fraction of the unit's own class "
                    f"images on which it is still below {cfg.stuck_tol:g}",
                    could_fail=f"the 95% CI reaching 0 or above: as much recovery without {c}, or none with it",
                )
            )
        out.append(self.untouched())
        return out


@register_design
class Remedies(Design):
    name = "remedies"
    claim = CLAIM
    config_cls = Config
    order = 30

    def runs(self, cfg):
        _check_config(cfg)
        init_seeds = set(cfg.seeds[: cfg.n_init_seeds])
        return [
            {"arm": a.key, "seed": int(s)} for s in cfg.seeds for a in arms() if a.remedy != "no-1" or s in init_seeds
        ]

    def measure(self, cfg, key):
        return measure_run(cfg, key)

    def group(self, cfg, key):
        # every run of an arm starts with the arm's learning-rate search (choose_lr, memoised per
        # process): the arm's runs go to one worker, so the search is done once, not per worker
        return key["arm"]

    def judge(self, cfg, measured):
        return _Judge(cfg, measured).checks()

    def present(self, cfg, measured, checks):
        from .remedies_present import present

        return present(cfg, measured, checks)
