"""The ``lif`` experiment (quick): each check's direction in numbers, and a negative control that makes it fail."""

import copy
import json

import numpy as np
import pytest

from neuronet.experiments.design import conclude, measure_safely
from neuronet.experiments.lif import LIF, Config
from neuronet.experiments.lif_runs import measure_leak, measure_mixed, mu_grid
from neuronet.stats import VERDICTS, verdict_from

DESIGN = LIF()
CFG = Config.quick()


@pytest.fixture(scope="module")
def measured():
    return [(k, measure_safely(DESIGN, CFG, k)) for k in DESIGN.runs(CFG)]


@pytest.fixture(scope="module")
def checks(measured):
    return {c.name: c for c in DESIGN.judge(CFG, measured)}


def _judge(measured, edit):
    """The checks after ``edit(key, data)`` changed a deep copy of every run's data in place."""
    changed = copy.deepcopy(measured)
    for key, data in changed:
        edit(key, data)
    return {c.name: c for c in DESIGN.judge(CFG, changed)}


# -- the result ---------------------------------------------------------------------------------
def test_quick_result_is_complete_json_with_the_shared_verdict(measured):
    result = conclude(DESIGN, CFG, measured)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert result.verdict in VERDICTS
    assert result.verdict == verdict_from(DESIGN.judge(CFG, measured)), "the verdict is verdict_from, not hand-written"
    assert len(result.checks) == 11 and all(c["could_fail"] and c["threshold"] and c["n"] >= 1 for c in result.checks)
    assert result.measurement and result.tables and len(result.plots) == 5
    for plot in result.plots:
        for s in plot.series:
            assert len(s.x) == len(s.y), f"{plot.title!r} / {s.label!r}: x and y differ in length"


def test_runs_are_fine_grained_and_measure_is_pure():
    keys = DESIGN.runs(CFG)
    assert len({json.dumps(k, sort_keys=True) for k in keys}) == len(keys), "run keys are unique"
    assert sum(k["part"] == "noise" for k in keys) == len(CFG.seeds) * len(CFG.noise_sigmas_mv)
    a, b = measure_leak(CFG, {"seed": 4}), measure_leak(CFG, {"seed": 4})
    assert a == b, "same key, same data"
    m0, m1 = measure_mixed(CFG, {"seed": 0}), measure_mixed(CFG, {"seed": 1})
    assert m0["mu_mv"] != m1["mu_mv"], "another seed draws other input patterns"


# -- the directions, in numbers ----------------------------------------------------------------
def test_quick_checks_all_hold_with_the_expected_numbers(checks):
    assert all(c.holds for c in checks.values()), [n for n, c in checks.items() if not c.holds]
    assert checks["rate rises with Σ w r"].value > 0.6, "strong rank correlation with the signed sum"
    assert checks["the sign of the weight matters"].value > 0.1, "the signed sum ranks rates better than Σ|w|r"
    assert checks["the rate is Siegert's function of the sums"].value < 0.05, "Siegert within 5% (median)"
    assert checks["inhibition subtracts"].value < -20.0, "inhibition removes tens of spikes/s on average"
    assert 0.2 < checks["the rate saturates below 1/t_ref"].value < 0.45, "top gain a third of the middle gain"
    assert checks["with noise the rate is a sigmoid in linear drive"].value > 10.0, "a convex foot below θ"
    assert checks["the ceiling is 1/t_ref for every τ_m"].value > 0.99, "within 1% of 1/t_ref at 10⁴ nA"
    assert checks["a bounded rate cannot overpower downstream"].value < 30.0
    assert checks["slow input never fires the neuron"].value == 0.0
    assert checks["the leak is what silences slow input"].value == pytest.approx(1.0)


def test_noiseless_curve_is_a_hard_threshold_and_matches_the_closed_form(measured):
    nl = next(d for k, d in measured if k["part"] == "noiseless")
    mu, rate = mu_grid(CFG), np.asarray(nl["rate_hz"])
    assert nl["spikes_below_threshold"] == 0 and (rate[mu <= 20.0] == 0).all(), "nothing at or below θ"
    above = rate[(mu > 20.0) & (mu <= CFG.mu_hi_mv)]  # the equally spaced part of the grid
    assert (np.diff(above, 2) < 0).all(), "concave from threshold on (no convex foot)"
    assert nl["max_rel_error"] < 1e-10, "the sanity table: exact integration"


# -- negative controls: each check can fail ----------------------------------------------------
def test_shuffled_rates_break_the_trend(measured):
    rng = np.random.default_rng(0)

    def shuffle(key, data):
        if key["part"] == "mixed":
            data["rate_hz"] = rng.permutation(data["rate_hz"]).tolist()

    assert not _judge(measured, shuffle)["rate rises with Σ w r"].holds


def test_inhibition_acting_like_excitation_fails_the_sign_check(measured):
    def unsigned(key, data):
        if key["part"] == "mixed":
            data["mu_mv"] = data["total_mv"]

    assert not _judge(measured, unsigned)["the sign of the weight matters"].holds


def test_inhibition_without_effect_fails(measured):
    def no_effect(key, data):
        if key["part"] == "mixed":
            data["rate_hz"] = data["rate_exc_only_hz"]

    assert not _judge(measured, no_effect)["inhibition subtracts"].holds


def test_a_linear_unit_does_not_saturate(measured):
    def linear(key, data):
        if key["part"] == "mixed":
            data["ladder_rate_hz"] = [2.0 * max(m - 20.0, 0.0) for m in data["ladder_mu_mv"]]

    got = _judge(measured, linear)["the rate saturates below 1/t_ref"]
    assert not got.holds and got.value == pytest.approx(1.0)


def test_rates_off_siegert_fail_both_siegert_checks(measured):
    def low(key, data):
        if key["part"] == "noise":
            data["rate_hz"] = [0.85 * r for r in data["rate_hz"]]
        if key["part"] == "mixed":
            data["rate_hz"] = [0.8 * r for r in data["rate_hz"]]

    got = _judge(measured, low)
    assert not got["noisy rate = Siegert's formula"].holds
    assert not got["the rate is Siegert's function of the sums"].holds


def test_without_noise_there_is_no_sigmoid(measured):
    noiseless = next(d for k, d in measured if k["part"] == "noiseless")["rate_hz"]

    def no_noise(key, data):
        if key["part"] == "noise":
            data["rate_hz"] = list(noiseless)

    got = _judge(measured, no_noise)["with noise the rate is a sigmoid in linear drive"]
    assert not got.holds and got.value == 0.0, "a hard threshold has a flat foot: second difference exactly 0"


def test_a_rate_above_the_ceiling_fails(measured):
    def over(key, data):
        if key["part"] == "fi":
            data["rate_hz"] = [[1.05 * r for r in row] for row in data["rate_hz"]]

    assert not _judge(measured, over)["the ceiling is 1/t_ref for every τ_m"].holds


def test_an_unbounded_upstream_overpowers(measured):
    def unbounded(key, data):
        if key["part"] == "downstream":
            data["down_rate_bounded_hz"] = data["down_rate_unbounded_hz"]

    assert not _judge(measured, unbounded)["a bounded rate cannot overpower downstream"].holds


def test_without_leak_slow_input_fires(measured):
    def no_leak(key, data):
        if key["part"] == "leak":
            data["p_fire_leak"] = data["p_fire_no_leak"]

    got = _judge(measured, no_leak)
    assert not got["slow input never fires the neuron"].holds
    assert not got["the leak is what silences slow input"].holds
