"""Experiment "quickprop": Fahlman's encoder benchmarks, the S' offset and Quickprop vs backprop."""

import dataclasses
import json

import numpy as np
import pytest

from neuronet.errors import ConfigError
from neuronet.experiments import VERDICTS, Result, get_experiment
from neuronet.experiments.quickprop_encoder import (
    CAP,
    LEARNED,
    Config,
    build,
    learned,
    run_trial,
    select_lr,
    worst_error,
)


@pytest.fixture(scope="module")
def quick():
    exp = get_experiment("quickprop")
    return exp.run(exp.default_config(quick=True))


def _row(result, method):
    rows = result.tables[0]["rows"]
    return next(r for r in rows if r["problem"] == "8-3-8" and r["method"] == method)


# -- the "learned" criterion, on hand-made outputs -----------------------------------------------
def test_learned_needs_every_output_of_every_pattern_strictly_within_tolerance():
    Y = np.eye(3)
    out = np.array([[0.61, 0.39, 0.0], [0.2, 0.9, 0.1], [0.0, 0.3, 0.65]])  # worst error 0.39 (row 0 and 2): learned
    assert learned(out, Y), "every |z - y| < 0.4 must count as learned"
    assert worst_error(out, Y) == pytest.approx(0.39)
    one_bad = out.copy()
    one_bad[1, 2] = 0.41  # a single 0-target output above 0.4
    assert not learned(one_bad, Y), "one output 0.41 away from its 0 target must block 'learned'"
    one_bad = out.copy()
    one_bad[2, 2] = 0.55  # a single 1-target output below 0.6
    assert not learned(one_bad, Y), "a 1-target output at 0.55 (error 0.45) must block 'learned'"
    edge = np.full((3, 3), 0.25) + 0.5 * Y  # 1-targets at 0.75, 0-targets at 0.25
    edge[0, 1] = 0.4  # exactly 0.4 away: not yet learned (strict)
    assert not learned(edge, Y), "an error of exactly 0.4 is not within tolerance (Fahlman: < 0.4)"
    assert learned(edge, Y, tolerance=0.41)
    nan = out.copy()
    nan[0, 0] = np.nan
    assert not learned(nan, Y), "a NaN output must never count as learned"


def test_trial_stops_at_the_first_epoch_that_meets_the_criterion():
    cfg = Config()
    epochs, outcome = run_trial("8-3-8", "quickprop", 16.0, (0, 0, 8, 3), cfg)
    assert outcome == LEARNED and 5 < epochs < 200, (epochs, outcome)
    # one update fewer is not enough: the trial reports a failure at that cap
    assert run_trial("8-3-8", "quickprop", 16.0, (0, 0, 8, 3), cfg, max_epochs=epochs - 1) == (None, CAP)
    # replay by hand with the same weights: learned after exactly `epochs` updates, not before
    net, opt = build("8-3-8", "quickprop", 16.0, (0, 0, 8, 3), cfg)
    X = np.eye(8)
    for _ in range(epochs - 1):
        net.loss_and_grads(X, X)
        opt.step(net.parameters)
    assert not learned(net.predict(X), X, cfg.tolerance)
    net.loss_and_grads(X, X)
    opt.step(net.parameters)
    assert learned(net.predict(X), X, cfg.tolerance)


def test_initial_weights_and_biases_are_uniform_and_shared_by_all_methods():
    cfg = Config()
    nets = [build("10-5-10", m, 1.0, (3, 0, 10, 5), cfg)[0] for m in ("backprop", "quickprop+offset")]
    for a, b in zip(nets[0].params, nets[1].params):
        np.testing.assert_array_equal(a, b, err_msg="paired trials must start from the same weights")
    allw = np.concatenate([p.ravel() for p in nets[0].params])
    assert np.abs(allw).max() <= 0.7 and np.abs(nets[0].layers[0].b).max() > 0, "U(±0.7), biases included"
    assert nets[0].params[0].dtype == np.float64
    other = build("10-5-10", "backprop", 1.0, (3, 1, 10, 5), cfg)[0]
    assert not np.array_equal(other.params[0], nets[0].params[0]), "selection trials must use other weights"


def test_pruned_selection_picks_the_same_step_size_as_the_exhaustive_search():
    cfg = Config(lr_grid=(0.25, 2.0, 16.0, 64.0), max_epochs=300)
    seeds = (0, 1, 2)
    best, rows = select_lr("8-3-8", "quickprop", cfg, seeds)
    medians = []
    for lr in cfg.lr_grid:
        e = [run_trial("8-3-8", "quickprop", lr, (s, 1, 8, 3), cfg)[0] for s in seeds]
        medians.append(float(np.median([cfg.max_epochs if v is None else v for v in e])))
    assert best == cfg.lr_grid[int(np.argmin(medians))], (best, medians, rows)
    assert [r["chosen"] for r in rows].count(True) == 1
    assert any(r["median epochs"].startswith("≥") for r in rows), "the test should exercise the pruning"


# -- the claims, at quick size with fixed seeds --------------------------------------------------
def test_quickprop_needs_fewer_epochs_than_backprop(quick):
    bp = _row(quick, "backprop")["median, failures = cap"]
    for method in ("Quickprop", "Quickprop + S' offset"):
        qp = _row(quick, method)["median, failures = cap"]
        assert qp * 3 <= bp, f"{method}: median {qp} epochs vs backprop {bp}; expected at least 3x fewer"


def test_offset_speeds_up_backprop(quick):
    # on 8-3-8 the offset wins in every paired quick trial (plain backprop's output units get stuck near 0)
    plain = _row(quick, "backprop")["median, failures = cap"]
    offset = _row(quick, "backprop + S' offset")["median, failures = cap"]
    assert offset < plain, f"offset median {offset} should be below plain backprop's {plain}"
    verdicts = {r["statement"]: r["verdict"] for r in quick.tables[1]["rows"]}
    assert verdicts["the S' offset speeds up backprop"] == "supported", verdicts


def test_result_is_json_serialisable_with_a_valid_verdict(quick):
    assert quick.verdict in VERDICTS
    assert all(r["verdict"] in VERDICTS for r in quick.tables[1]["rows"])
    d = json.loads(json.dumps(quick.to_dict()))
    back = Result.from_dict(d)
    assert back.verdict == quick.verdict and len(back.plots) == 2  # bar summary + one distribution
    assert back.plots[0].kind == "bar" and back.plots[0].logy and back.plots[1].logy
    assert d["config"]["max_epochs"] == 5000 and d["seeds"] == list(range(10))
    rows = quick.tables[0]["rows"]
    assert len(rows) == 4 and all(r["trials"] == 10 and r["lr"] in Config().lr_grid for r in rows)


def test_bad_configs_are_refused():
    exp = get_experiment("quickprop")
    with pytest.raises(ConfigError, match="selection_trials"):
        exp.run(dataclasses.replace(Config.quick(), selection_trials=11))
    with pytest.raises(ConfigError, match="8-3-7"):
        exp.run(dataclasses.replace(Config.quick(), problems=("8-3-7",)))
