"""vanishing-gradients: a deep sigmoid net loses the gradient toward the input, more with more layers; controls fail."""

import copy
import json

import numpy as np
import pytest

from neuronet.experiments import vanishing_gradients as vg
from neuronet.experiments.design import conclude, measure_safely, roundtrip
from neuronet.stats import verdict_from

DESIGN = vg.VanishingGradients()


@pytest.fixture(scope="module")
def quick():
    cfg = vg.Config.quick()
    measured = [(k, measure_safely(DESIGN, cfg, k)) for k in (roundtrip(k) for k in DESIGN.runs(cfg))]
    return cfg, measured


def _checks(cfg, measured):
    return {c.name: c for c in DESIGN.judge(cfg, measured)}


def _as(measured, source, target):
    """A copy where each run of arm ``target`` carries the data of arm ``source`` (same depth and seed)."""
    by = {(k["unit"], k["init"], k["depth"], k["seed"]): d for k, d in measured}
    return [
        (k, copy.deepcopy(by[(*source, k["depth"], k["seed"])]) if (k["unit"], k["init"]) == target else d)
        for k, d in measured
    ]


def test_quick_result_is_complete_and_its_verdict_comes_from_the_checks(quick):
    cfg, measured = quick
    r = conclude(DESIGN, cfg, measured)
    assert r.verdict == verdict_from(DESIGN.judge(cfg, measured))
    assert len(r.checks) == 5 and all(c["could_fail"] and c["threshold"] for c in r.checks)
    json.dumps(r.to_dict(), allow_nan=False)
    assert len(r.tables[0]["rows"]) == 3 * len(cfg.depths), "one row per arm and depth"


def test_sigmoid_loses_the_gradient_toward_the_input_more_with_depth(quick):
    cfg, measured = quick
    checks = _checks(cfg, measured)
    assert checks["gradient shrinks toward the input"].holds and checks["gradient shrinks toward the input"].value > 0.8
    trend = checks["more layers, bigger issue"]
    assert trend.holds and trend.value < -0.8, f"log10 r should fall with depth, ρ = {trend.value:.3f}"
    r = vg.ratios(cfg, measured, ("sigmoid", "fan-in"))
    lo, hi = min(cfg.depths), max(cfg.depths)
    per_layer = (np.mean(r[lo]) - np.mean(r[hi])) / (hi - lo)
    assert per_layer > np.log10(2), f"S' ≤ 1/4: each extra layer should cost > 2x, got 10^{per_layer:.2f}"
    assert checks["still there after training"].holds


def test_the_gain_one_control_keeps_its_gradient_and_the_comparisons_hold(quick):
    cfg, measured = quick
    checks = _checks(cfg, measured)
    paired = checks[f"below the control at {max(cfg.depths)} layers"]
    assert paired.holds and paired.value < -1.0, f"sigmoid − ReLU log10 r at the deepest D: {paired.value:.2f}"
    inter = checks["the depth effect is the sigmoid's"]
    assert inter.holds and inter.value < -1.0, f"difference of the depth effects: {inter.value:.2f}"
    ctl = vg.ratios(cfg, measured, ("relu", "he"))
    assert all(abs(np.mean(v)) < 0.3 for v in ctl.values()), f"ReLU/He stays within 2x at every depth: {ctl}"


# -- negative controls ------------------------------------------------------------------------------------------
def test_comparisons_fail_when_the_control_is_the_sigmoid_itself(quick):
    cfg, measured = quick
    same = _as(measured, ("sigmoid", "fan-in"), ("relu", "he"))
    checks = _checks(cfg, same)
    assert not checks[f"below the control at {max(cfg.depths)} layers"].holds
    assert not checks["the depth effect is the sigmoid's"].holds


def test_trend_checks_fail_on_the_gain_one_control(quick):
    cfg, measured = quick
    flat = _as(measured, ("relu", "he"), ("sigmoid", "fan-in"))
    checks = _checks(cfg, flat)
    assert not checks["more layers, bigger issue"].holds, checks["more layers, bigger issue"]
    assert not checks["gradient shrinks toward the input"].holds, checks["gradient shrinks toward the input"]
    assert not checks["still there after training"].holds, checks["still there after training"]


def test_too_few_depths_is_an_error():
    with pytest.raises(ValueError, match="three distinct depths"):
        DESIGN.runs(vg.Config(depths=(1, 4, 4)))
