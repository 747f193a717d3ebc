"""The saturation experiment: quick-mode numbers in the direction each check reports, and a negative control
per key check that makes it fail (real runs where cheap, synthetic ``measured`` lists for the judgement)."""

import dataclasses
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from neuronet.experiments import get_experiment
from neuronet.experiments.design import conclude, measure_safely, roundtrip
from neuronet.experiments.saturation import Config
from neuronet.experiments.saturation_runs import (
    chosen_points,
    epochs_to_threshold,
    fan_in_run,
    select_rates,
    sweep_run,
    within_run,
)
from neuronet.stats import verdict_from

NAMES = [
    "saturation slows descent",
    "saturation ends worse",
    "saturated units move less",
    "fan-in saturates",
    "σ = 1/√n keeps it flat",
]


@pytest.fixture(scope="module")
def quick():
    """The quick config, its measured runs (as the runner hands them to judge) and the Result."""
    design = get_experiment("saturation").design
    cfg = Config.quick()
    with threadpool_limits(limits=1, user_api="blas"):  # tiny matrices: extra BLAS threads only wait
        measured = [(roundtrip(k), measure_safely(design, cfg, roundtrip(k))) for k in design.runs(cfg)]
    return cfg, design, measured, conclude(design, cfg, measured)


def _checks(result):
    return {c["name"]: c for c in result.checks}


# -- the quick run: complete, honest, and its numbers -----------------------------------------------------
def test_quick_result_is_complete_and_its_verdict_comes_from_the_checks(quick):
    cfg, design, measured, result = quick
    json.dumps(result.to_dict(), allow_nan=False)  # strict JSON
    checks = _checks(result)
    assert list(checks) == NAMES, list(checks)
    for c in checks.values():
        assert c["statistic"] and c["threshold"] and c["could_fail"] and c["n"] >= 3, c
    assert result.verdict == verdict_from(design.judge(cfg, measured)), result.verdict
    assert result.measurement and result.tables and len(result.plots) == 4
    for plot in result.plots:
        for s in plot.series:
            assert len(s.x) == len(s.y) and s.y, f"{plot.title!r} / {s.label!r}"


def test_larger_init_scale_saturates_more_and_has_a_smaller_derivative(quick):
    _, _, _, result = quick
    m = result.metrics
    sat = [m[f"saturated fraction at init, c = {c}"] for c in ("1", "4", "16")]
    assert sat[0] < 0.01 and 0.05 < sat[1] < 0.3 and sat[2] > 0.5, f"expected ~0, ~0.13, ~0.7; got {sat}"
    rows = result.tables[0]["rows"]
    dS = [float(r["mean S' at init"]) for r in rows]
    assert dS[0] > 0.2 > dS[1] > dS[2] and dS[2] < 0.08, f"mean S' should fall from ~0.24 with c: {dS}"


def test_quick_digits_saturated_networks_are_not_slower(quick):
    """The measured direction on digits with a softmax + CE output: saturated networks train faster."""
    _, _, _, result = quick
    checks, m = _checks(result), result.metrics
    assert checks["saturation slows descent"]["value"] < -0.5, checks["saturation slows descent"]
    assert not checks["saturation slows descent"]["holds"]
    assert m["epochs to the threshold, c = 16"] < m["epochs to the threshold, c = 1"], m


def test_fan_in_raises_saturation_and_the_fan_in_init_keeps_it_flat(quick):
    _, _, _, result = quick
    checks = _checks(result)
    assert checks["fan-in saturates"]["holds"] and checks["fan-in saturates"]["value"] > 0.8, checks["fan-in saturates"]
    assert checks["σ = 1/√n keeps it flat"]["holds"], checks["σ = 1/√n keeps it flat"]
    rows = {r["fan-in n"]: r for r in result.tables[2]["rows"]}
    assert float(rows[16]["saturated, W ~ N(0, 1)"]) < 0.3, rows
    assert float(rows[1024]["saturated, W ~ N(0, 1)"]) > 0.7, rows
    assert all(float(r["saturated, W ~ N(0, 1/n)"]) < 0.01 for r in rows.values()), rows


def test_boosted_units_start_saturated_with_a_smaller_gradient(quick):
    _, _, measured, _ = quick
    for key, d in measured:
        if key["part"] != "within":
            continue
        b = np.asarray(d["boosted"], bool)
        sat0, grad0 = np.asarray(d["sat0"]), np.asarray(d["grad0"])
        assert b.sum() == b.size // 2, "half the units are boosted"
        assert sat0[b].mean() > 0.5 and sat0[~b].mean() < 0.05, (key, sat0[b].mean(), sat0[~b].mean())
        # S' ≈ 0 → a small gradient at init: the boosted half's is several times smaller
        assert grad0[b].mean() < 0.5 * grad0[~b].mean(), (key, grad0[b].mean(), grad0[~b].mean())


# -- real negative controls -------------------------------------------------------------------------------
def test_within_network_check_fails_when_no_unit_is_boosted():
    """boost = 1: the two halves are the same kind of unit, so their difference must not look significant."""
    cfg = dataclasses.replace(Config.quick(), boost=1.0, epochs=4)
    design = get_experiment("saturation").design
    with threadpool_limits(limits=1, user_api="blas"):
        within = [({"part": "within", "seed": s}, within_run(cfg, s)) for s in (0, 1, 2, 3)]
    checks = design.judge(cfg, roundtrip(_synthetic(cfg, within=False) + within))
    check = next(c for c in checks if c.name == NAMES[2])
    assert not check.holds and check.ci[0] < 0 < check.ci[1], check


def test_fan_in_trend_fails_on_the_fan_in_initialised_probe():
    """The remedy's column as the 'N(0, 1)' column: no rise, so the trend check must fail."""
    cfg = Config.quick()
    design = get_experiment("saturation").design
    with threadpool_limits(limits=1, user_api="blas"):
        fan = [({"part": "fan-in", "n": n, "seed": s}, fan_in_run(cfg, n, s)) for n in cfg.fan_ins for s in (0, 1)]
    swapped = [(k, {"normal": d["fan_in"], "fan_in": d["normal"]}) for k, d in fan]
    checks = {c.name: c for c in design.judge(cfg, roundtrip(_synthetic(cfg, fan=False) + swapped))}
    assert not checks[NAMES[3]].holds, checks[NAMES[3]]
    assert not checks[NAMES[4]].holds, checks[NAMES[4]]  # N(0, 1) is not flat: its rise exceeds the margin


# -- the judgement on synthetic runs: each key check can hold and can fail --------------------------------
def _curve(cfg, reach, level=0.3):
    """A training-loss curve that first falls below ``level`` at epoch ``reach`` and ends just below it."""
    return [level * 2 if e < reach else level * (0.95 - 0.001 * e) for e in range(1, cfg.epochs + 1)]


def _synthetic(cfg, *, speed=None, final=None, moved=(0.5, 1.0), within=True, fan=True):
    """Runs for ``judge``: ``speed[c]`` epochs to the threshold and ``final[c]`` end loss per scale (test seeds).

    Selection runs make the second rate the best for every c.
    """
    rng = np.random.default_rng(0)
    speed = speed or {c: 3 + i for i, c in enumerate(cfg.scales)}
    out = []
    for i, c in enumerate(cfg.scales):
        for lr in cfg.lrs:
            for s in (*cfg.selection_seeds, *cfg.seeds):
                if s in cfg.selection_seeds:
                    loss = 0.1 if lr == cfg.lrs[1] else 0.5
                    data = {"sat0": 0.0, "dS0": 0.25, "losses": [loss] * cfg.epochs, "diverged": None}
                else:
                    losses = _curve(cfg, speed[c])
                    if final is not None:
                        losses[-1] = final[c] + 0.001 * rng.standard_normal()
                    data = {"sat0": 0.1 * i + 0.001 * s, "dS0": 0.2, "losses": losses, "diverged": None}
                out.append(({"part": "sweep", "c": c, "lr": lr, "seed": s}, data))
    units = 8
    for s in cfg.seeds if within else ():
        mv = [moved[0] + 0.05 * rng.standard_normal() if j < units // 2 else moved[1] for j in range(units)]
        data = {"boosted": [j < units // 2 for j in range(units)], "sat0": [0.5] * units, "sat1": [0.5] * units}
        data.update(moved=mv, norm0=[1.0] * units, grad0=[0.1] * units, grad1=[0.1] * units, diverged=None)
        out.append(({"part": "within", "seed": s}, data))
    if fan:
        for n in cfg.fan_ins:
            for s in cfg.seeds:
                out.append(
                    ({"part": "fan-in", "n": n, "seed": s}, {"normal": np.log(n) / 10 + 0.01 * s, "fan_in": 0.0})
                )
    return out


def _judge(cfg, measured):
    return {c.name: c for c in get_experiment("saturation").design.judge(cfg, roundtrip(measured))}


def test_speed_and_final_checks_hold_when_saturation_slows_and_fail_when_it_does_not():
    cfg = dataclasses.replace(Config.quick(), seeds=tuple(range(6)), loss_threshold=0.3)
    slow = {c: 2 + 2 * i for i, c in enumerate(cfg.scales)}  # more saturated → more epochs
    worse = {c: 0.05 + 0.05 * i for i, c in enumerate(cfg.scales)}
    checks = _judge(cfg, _synthetic(cfg, speed=slow, final=worse))
    assert checks[NAMES[0]].holds and checks[NAMES[0]].value > 0.8, checks[NAMES[0]]
    assert checks[NAMES[1]].holds, checks[NAMES[1]]
    flat = dict.fromkeys(cfg.scales, 5)
    same = dict.fromkeys(cfg.scales, 0.2)
    checks = _judge(cfg, _synthetic(cfg, speed=flat, final=same))
    assert not checks[NAMES[0]].holds, checks[NAMES[0]]  # constant epochs: nothing to rank
    assert not checks[NAMES[1]].holds, checks[NAMES[1]]  # final loss is noise, unrelated to saturation
    fast = {c: 8 - 2 * i for i, c in enumerate(cfg.scales)}
    assert not _judge(cfg, _synthetic(cfg, speed=fast))[NAMES[0]].holds


def test_within_check_holds_when_boosted_units_move_less_and_fails_on_identical_halves():
    cfg = dataclasses.replace(Config.quick(), seeds=tuple(range(10)))
    assert _judge(cfg, _synthetic(cfg, moved=(0.5, 1.0)))[NAMES[2]].holds
    check = _judge(cfg, _synthetic(cfg, moved=(1.0, 1.0)))[NAMES[2]]
    assert not check.holds and check.ci[0] < 0 < check.ci[1], check


def test_rates_are_chosen_on_selection_seeds_only_and_edges_are_flagged():
    cfg = Config.quick()
    measured = roundtrip(_synthetic(cfg))
    sweep = [(k, d) for k, d in measured if k["part"] == "sweep"]
    chosen = select_rates(cfg, sweep)
    assert all(v["lr"] == cfg.lrs[1] and not v["edge"] for v in chosen.values()), chosen
    # a test seed that looks much better at another rate changes nothing
    for k, d in sweep:
        if k["seed"] in cfg.seeds and k["lr"] == cfg.lrs[0]:
            d["losses"] = [0.0] * cfg.epochs
    assert select_rates(cfg, sweep) == chosen
    # a diverged selection run is never chosen; the best then sits at the grid's edge and says so
    for k, d in sweep:
        if k["seed"] in cfg.selection_seeds and k["lr"] == cfg.lrs[1]:
            d["diverged"] = "training diverged"
        if k["seed"] in cfg.selection_seeds and k["lr"] == cfg.lrs[0]:
            d["losses"] = [0.2] * cfg.epochs
    again = select_rates(cfg, sweep)
    assert all(v["lr"] == cfg.lrs[0] and v["edge"] for v in again.values()), again


def test_epochs_to_threshold_counts_from_one_and_censors_at_epochs_plus_one():
    assert epochs_to_threshold([1.0, 0.3, 0.0], 0.3, 10) == 2
    assert epochs_to_threshold([1.0] * 10, 0.3, 10) == 11
    assert epochs_to_threshold([], 0.3, 10) == 11


def test_the_default_threshold_is_the_level_every_completed_run_reaches():
    cfg = dataclasses.replace(Config.quick(), seeds=tuple(range(4)))
    sweep = [(k, d) for k, d in roundtrip(_synthetic(cfg)) if k["part"] == "sweep"]
    points, threshold = chosen_points(cfg, sweep, select_rates(cfg, sweep))
    assert threshold == max(p["final"] for p in points)
    assert all(p["epochs"] <= cfg.epochs for p in points), [p["epochs"] for p in points]
    fixed, t = chosen_points(dataclasses.replace(cfg, loss_threshold=1e-9), sweep, select_rates(cfg, sweep))
    assert t == 1e-9 and all(p["epochs"] == cfg.epochs + 1 for p in fixed), "a level nobody reaches is censored"


def test_runs_are_unique_and_selection_seeds_must_be_disjoint():
    design = get_experiment("saturation").design
    cfg = Config()
    keys = design.runs(cfg)
    assert len({json.dumps(k, sort_keys=True) for k in keys}) == len(keys)
    n_sweep = len(cfg.scales) * len(cfg.lrs) * (len(cfg.seeds) + len(cfg.selection_seeds))
    assert len(keys) == n_sweep + len(cfg.seeds) * (1 + len(cfg.fan_ins))
    with pytest.raises(ValueError, match="disjoint"):
        design.runs(dataclasses.replace(cfg, selection_seeds=(3, 1000)))


def test_a_run_is_a_pure_function_of_its_key():
    cfg = dataclasses.replace(Config.quick(), epochs=2)
    with threadpool_limits(limits=1, user_api="blas"):
        a, b = sweep_run(cfg, 4.0, 2.0, 1), sweep_run(cfg, 4.0, 2.0, 1)
        other = sweep_run(cfg, 4.0, 2.0, 2)
    assert a == b, "the same key must give the same numbers"
    assert a["losses"] != other["losses"], "another seed (data split and weights) must differ"
    assert a["monitor"] == "training" and "test_accuracy" in a
    with threadpool_limits(limits=1, user_api="blas"):
        sel = sweep_run(cfg, 4.0, 2.0, cfg.selection_seeds[0])
    assert sel["monitor"] == "validation" and "test_accuracy" not in sel, "selection runs never look at test data"


def test_runs_that_failed_are_reported_as_not_judged_not_as_support():
    cfg = Config.quick()
    failed = [({"part": "within", "seed": s}, {"diverged": "training diverged in epoch 1"}) for s in cfg.seeds]
    check = _judge(cfg, _synthetic(cfg, within=False) + failed)[NAMES[2]]
    assert not check.holds and check.note.startswith("not judged"), check
    sweep_failed = [(k, {"diverged": "boom"}) if k["part"] == "sweep" else (k, d) for k, d in _synthetic(cfg)]
    checks = _judge(cfg, sweep_failed)
    assert not checks[NAMES[0]].holds and checks[NAMES[0]].note.startswith("not judged"), checks[NAMES[0]]
