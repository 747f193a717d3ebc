"""The ``hebb`` experiment (quick): each check's direction in numbers, and a negative control that makes it fail."""

import copy
import dataclasses
import json

import numpy as np
import pytest

from neuronet.experiments.design import conclude, measure_safely
from neuronet.experiments.hebb import Config, Hebb
from neuronet.experiments.hebb_runs import _follow, groups, measure_stdp, measure_structural
from neuronet.stats import VERDICTS, verdict_from

DESIGN = Hebb()
CFG = Config.quick()


@pytest.fixture(scope="module")
def measured():
    return [(k, measure_safely(DESIGN, CFG, k)) for k in DESIGN.runs(CFG)]


@pytest.fixture(scope="module")
def checks(measured):
    return {c.name: c for c in DESIGN.judge(CFG, measured)}


def _judge(measured, edit, part="stdp"):
    """The checks after ``edit(data)`` changed a deep copy of every ``part`` run's data in place."""
    changed = copy.deepcopy(measured)
    for key, data in changed:
        if key["part"] == part:
            edit(data)
    return {c.name: c for c in DESIGN.judge(CFG, changed)}


# -- the result and its pieces -------------------------------------------------------------------
def test_quick_result_is_complete_json_with_the_shared_verdict(measured):
    result = conclude(DESIGN, CFG, measured)
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.verdict in VERDICTS
    assert result.verdict == verdict_from(DESIGN.judge(CFG, measured)), "the verdict is verdict_from"
    assert len(result.checks) == 6 and all(c["could_fail"] and c["threshold"] for c in result.checks)
    assert result.measurement and result.tables and result.plots
    names = " ".join(c["name"].lower() for c in result.checks)
    assert "oja" not in names and "diverg" not in names, "Hebb and Oja are context: they carry no check"


def test_follow_count_hand_worked():
    pre = np.array([10.0, 50.0])
    post = np.array([5.0, 12.0, 29.0, 31.0, 55.0, 80.0])  # 12 and 29 follow 10 within 20 ms; 55 follows 50
    assert _follow(pre, post, 20.0) == pytest.approx(1.5), "(2 + 1) post spikes over 2 pre spikes"
    assert _follow(np.zeros(0), post, 20.0) == 0.0


def test_stdp_run_is_pure_and_the_three_arms_share_their_background():
    cfg = dataclasses.replace(CFG, n_pairs=4, stdp_duration_ms=300.0)
    a, b = measure_stdp(cfg, {"seed": 3}), measure_stdp(cfg, {"seed": 3})
    assert a == b, "same key, same data"
    silent = dataclasses.replace(cfg, syn_w_mv=0.0)  # no synapse anywhere: the three arms are the same neuron
    d = measure_stdp(silent, {"seed": 3})
    assert d["exc"] == d["inh"] == d["ctrl"], "only the synapse differs between the arms"


# -- the directions, in numbers ------------------------------------------------------------------
def test_quick_checks_all_hold_with_the_expected_numbers(checks, measured):
    assert all(c.holds for c in checks.values()), [n for n, c in checks.items() if not c.holds]
    assert checks["one cell's firing makes another fire more"].value > 0.05, "extra post spikes after each pre spike"
    assert checks["causal pre → post strengthens the excitatory synapse"].value > 0.002
    assert checks["anti-causal order weakens"].value < -0.002
    assert checks["reverse rule: the inhibitory synapse strengthens"].value > 0.001
    assert checks["co-active unconnected neurons grow connections"].value > 0.9
    assert checks["independent activity grows ~nothing"].value < 0.005
    stdp = [d for k, d in measured if k["part"] == "stdp"]
    assert all(d["inh"]["follow"] < d["ctrl"]["follow"] for d in stdp), "inhibition makes the target pause"


# -- negative controls ---------------------------------------------------------------------------
def test_an_unconnected_pair_does_not_follow(measured):
    def unconnected(d):
        d["exc"] = dict(d["ctrl"])

    got = _judge(measured, unconnected)
    assert not got["one cell's firing makes another fire more"].holds
    assert not got["causal pre → post strengthens the excitatory synapse"].holds, "independent firing: no growth"
    assert not got["anti-causal order weakens"].holds


def test_the_unreversed_window_weakens_the_inhibitory_synapse(measured):
    def unreversed(d):
        for arm in ("inh", "ctrl"):
            d[arm]["fwd_inh"] = d[arm]["fwd_exc"]

    got = _judge(measured, unreversed)["reverse rule: the inhibitory synapse strengthens"]
    assert not got.holds and got.value < 0, "with the excitatory window the effective inhibitory synapse weakens"


def test_growth_without_co_activity_fails(measured):
    def blind(d):
        d["within"] = d["across"]

    assert not _judge(measured, blind, "structural")["co-active unconnected neurons grow connections"].holds


def test_a_rate_driven_rule_grows_under_shuffled_activity(measured):
    # measured, not edited: a threshold below the co-activity of independent neurons (≈ 0.09) grows from rates alone
    loose = dataclasses.replace(CFG, grow_threshold=0.05)
    changed = [(k, measure_structural(loose, k) if k["part"] == "structural" else d) for k, d in measured]
    got = {c.name: c for c in DESIGN.judge(CFG, changed)}
    assert not got["independent activity grows ~nothing"].holds
    assert got["independent activity grows ~nothing"].value > 0.5


def test_groups_are_disjoint_blocks():
    g = groups(CFG)
    assert [len(x) for x in g] == [CFG.group_size] * CFG.n_groups
    assert np.array_equal(np.concatenate(g), np.arange(CFG.n_groups * CFG.group_size))
