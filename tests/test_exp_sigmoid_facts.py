"""sigmoid-facts: S' = S(1 - S), flat tails, greatest curvature at 0.21/0.79 — each check can fail."""

import copy

import pytest

from neuronet.experiments import get_experiment

EXP = get_experiment("sigmoid-facts")


@pytest.fixture(scope="module")
def quick():
    cfg = EXP.default_config(quick=True)
    key = EXP.design.runs(cfg)[0]
    return cfg, key, EXP.design.measure(cfg, key)


def _checks(cfg, key, data):
    return {c.name: c for c in EXP.design.judge(cfg, [(key, data)])}


def test_the_three_facts_hold_on_the_engines_sigmoid(quick):
    cfg, key, data = quick
    checks = _checks(cfg, key, data)
    assert all(c.holds for c in checks.values())
    lo, hi = data["s2_argmax"]
    assert abs(lo - 0.2113) < 2e-3 and abs(hi - 0.7887) < 2e-3  # (3 -+ sqrt 3) / 6
    assert checks["the tails are flat"].value == pytest.approx(0.0099 / 0.1275, rel=1e-3)


def test_negative_controls_make_each_check_fail(quick):
    cfg, key, data = quick
    moved = copy.deepcopy(data)
    moved["s2_argmax"] = [0.5, 0.5]  # a curve whose curvature peaks in the middle
    assert not _checks(cfg, key, moved)["greatest curvature at 0.21 and 0.79"].holds
    wrong = copy.deepcopy(data)
    wrong["derivative_vs_numeric"] = 0.1  # a derivative that does not match the forward pass
    assert not _checks(cfg, key, wrong)["S′ = S(1 − S)"].holds
    linear = copy.deepcopy(data)
    linear["prime_at"] = dict.fromkeys(data["prime_at"], 1.0)  # an identity unit has no flat tails
    assert not _checks(cfg, key, linear)["the tails are flat"].holds
