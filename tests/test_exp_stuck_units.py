"""stuck-units: CE unsticks output units (both loss pairs), not hidden units; each check can fail."""

import copy
import json

import numpy as np
import pytest

from neuronet.experiments import stuck_units as su
from neuronet.experiments.common import load_data
from neuronet.experiments.design import conclude, measure_safely, roundtrip
from neuronet.stats import verdict_from
from neuronet.train import Trainer

DESIGN = su.StuckUnits()


@pytest.fixture(scope="module")
def quick():
    cfg = su.Config.quick()
    measured = [(k, measure_safely(DESIGN, cfg, k)) for k in (roundtrip(k) for k in DESIGN.runs(cfg))]
    return cfg, measured


def _checks(cfg, measured):
    return {c.name: c for c in DESIGN.judge(cfg, measured)}


def _replace(measured, part, source, target):
    """A copy of ``measured`` where every run of arm ``target`` carries the data of arm ``source``."""
    by = {(k["arm"], k["lr"], k["seed"]): d for k, d in measured if k["part"] == part}
    out = []
    for k, d in measured:
        if k["part"] == part and k["arm"] == target:
            d = copy.deepcopy(by[(source, k["lr"], k["seed"])])
        out.append((k, d))
    return out


def _with_hidden(measured, source, target):
    """A copy where the assay value of arm ``target`` is that of ``source`` in every hidden run."""
    out = []
    for k, d in measured:
        if k["part"] == "hidden":
            d = copy.deepcopy(d)
            d["log_ratio"][target] = d["log_ratio"][source]
        out.append((k, d))
    return out


def test_quick_result_is_complete_and_its_verdict_comes_from_the_checks(quick):
    cfg, measured = quick
    r = conclude(DESIGN, cfg, measured)
    checks = DESIGN.judge(cfg, measured)
    assert r.verdict == verdict_from(checks), "the verdict is verdict_from(checks), nothing else"
    assert len(r.checks) == 7 and all(c["could_fail"] and c["statistic"] and c["threshold"] for c in r.checks)
    json.dumps(r.to_dict(), allow_nan=False)  # strict JSON
    assert {t["title"].split(":")[0] for t in r.tables} >= {"Stuck outputs", "Stuck hidden units"}


def test_cross_entropy_unsticks_output_units_in_both_pairs(quick):
    checks = _checks(*quick)
    for unit in ("sigmoid", "softmax"):
        unstick, acc = checks[f"{unit} outputs unstick"], checks[f"{unit} outputs: accuracy"]
        assert unstick.holds and unstick.value > 0.05, f"{unit}: SE − CE wrong-bound fraction {unstick.value:.3f}"
        assert acc.holds and acc.value > 0.3, f"{unit}: CE − SE test accuracy {acc.value:.3f}"


def test_cross_entropy_leaves_the_stuck_hidden_deficit_and_remedy_3_reduces_it(quick):
    cfg, measured = quick
    checks = _checks(cfg, measured)
    for unit in ("sigmoid", "softmax"):
        c = checks[f"{unit}: CE can't help hidden units"]
        assert c.holds and abs(c.value) < cfg.margin, f"{unit}: CE − SE deficit {c.value:+.3f}, CI {c.ci}"
    deficit = [d["log_ratio"]["softmax+CE"] for k, d in measured if k["part"] == "hidden"]
    assert max(deficit) < -0.5, f"the stuck half should get > 3x less gradient than the healthy half: {deficit}"
    ctrl = checks["positive control: ③ reaches stuck hidden units"]
    assert ctrl.holds and ctrl.value > 0.3, f"③ should shrink the deficit by > 0.3 decades, got {ctrl.value:.3f}"


# -- negative controls: each key check fails on data where its claim is false --------------------------------
def test_unstick_and_accuracy_fail_when_the_two_losses_are_the_same(quick):
    cfg, measured = quick
    same = _replace(measured, "outputs", "softmax+CE", "softmax+SE")
    checks = _checks(cfg, same)
    assert not checks["softmax outputs unstick"].holds, "identical arms: no paired difference"
    assert not checks["softmax outputs: accuracy"].holds
    assert checks["sigmoid outputs unstick"].holds, "the other pair is untouched"


def test_cant_help_fails_when_the_arms_differ_and_control_fails_when_it_does_nothing(quick):
    cfg, measured = quick
    moved = _with_hidden(measured, su.CONTROL, "softmax+SE")  # a "squared error" that behaves like ③
    assert not _checks(cfg, moved)["softmax: CE can't help hidden units"].holds, "a 0.5-decade gap is not equivalence"
    inert = _with_hidden(measured, "softmax+CE", su.CONTROL)
    assert not _checks(cfg, inert)["positive control: ③ reaches stuck hidden units"].holds


def test_rates_are_chosen_on_the_selection_seeds_only(quick):
    cfg, measured = quick
    outputs, _ = su.split_parts(measured)
    chosen = su.select_rates(cfg, outputs)
    worst = min(cfg.lrs, key=lambda lr: chosen["softmax+CE"]["scores"][lr])
    # test seeds that would favour another rate change nothing ...
    rigged = copy.deepcopy(outputs)
    for k, d in rigged:
        if k["arm"] == "softmax+CE" and k["lr"] == worst and k["seed"] in cfg.seeds:
            d["val"][-1] = 1.0
    assert su.select_rates(cfg, rigged)["softmax+CE"]["lr"] == chosen["softmax+CE"]["lr"], "test seeds leaked"
    # ... selection seeds that favour it do
    for k, d in rigged:
        if k["arm"] == "softmax+CE" and k["lr"] == worst and k["seed"] in cfg.selection_seeds:
            d["val"][-1] = 1.0
    again = su.select_rates(cfg, rigged)["softmax+CE"]
    assert again["lr"] == worst and again["edge"] == (worst in (min(cfg.lrs), max(cfg.lrs)))


def test_selection_and_test_seeds_must_be_disjoint():
    cfg = su.Config.quick()
    with pytest.raises(ValueError, match="disjoint"):
        DESIGN.runs(su.Config(seeds=(0, 1000), selection_seeds=(1000,), lrs=cfg.lrs))


# -- the constructions ----------------------------------------------------------------------------------------
def test_each_pair_starts_from_the_same_weights_and_the_outputs_start_pinned():
    cfg = su.Config.quick()
    Xtr, ytr, *_, k = load_data("digits", seed=3)
    for _, ce, se in su.PAIRS:
        a, b = su._network(cfg, ce, 64, k, 3), su._network(cfg, se, 64, k, 3)
        for p, q in zip(a.params, b.params):
            np.testing.assert_array_equal(p, q, err_msg=f"{ce} and {se} must start from identical weights")
        a.layers[1].W *= cfg.output_scale
        X, Y, _ = Trainer(a).prepare(Xtr, ytr)
        wrong = su._wrong(a, X, Y, cfg.saturation_tol)
        assert wrong > 0.1, f"{ce}: outputs ×{cfg.output_scale:g} should put > 10% at the wrong bound, got {wrong:.3f}"


def test_the_stuck_half_is_saturated_and_the_healthy_half_is_not():
    cfg = su.Config.quick()
    Xtr, ytr, *_, k = load_data("digits", seed=5)
    stuck = su._half(cfg, 5)
    assert stuck.sum() == cfg.n_hidden // 2
    net = su._half_stuck(cfg, "softmax+CE", 64, k, 5, stuck)
    sat = su._saturated(net, Trainer(net).prepare(Xtr, ytr)[0], cfg.saturation_tol)
    assert sat[stuck].mean() > 0.8 and sat[~stuck].mean() < 0.2, (sat[stuck].mean(), sat[~stuck].mean())
