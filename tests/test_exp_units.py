"""Experiments on units: stuck (saturated) units under SE vs CE, and XOR with ReLU networks."""

import json

import numpy as np
import pytest

from neuronet.data import load
from neuronet.diagnostics import layer_diagnostics
from neuronet.experiments import VERDICTS, Result, get_experiment, stuck_units, xor_relu
from neuronet.experiments.common import load_data
from neuronet.network import mlp
from neuronet.train import Trainer


def _check_result(r, name):
    assert r.name == name and r.verdict in VERDICTS, f"verdict {r.verdict!r} not in {VERDICTS}"
    assert r.claim and r.measurement and r.reason.startswith("Rule:"), "claim, measurement and a stated rule"
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)  # raises on anything json cannot hold (NaN included)
    back = Result.from_dict(json.loads(text))
    assert back.verdict == r.verdict and len(back.plots) == len(r.plots), "round trip through JSON"
    return d


def _series(result, title_start, label):
    plot = next(p for p in result.plots if p.title.startswith(title_start))
    return next(s for s in plot.series if s.label == label)


# -- stuck-units ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stuck():
    exp = get_experiment("stuck-units")
    return exp.run(exp.default_config(quick=True, seeds=(0, 1)))


def test_stuck_units_result_is_complete_and_serialisable(stuck):
    d = _check_result(stuck, "stuck-units")
    cfg = stuck_units.Config.quick()
    assert d["seeds"] == [0, 1] and d["config"]["epochs"] == cfg.epochs
    for p in stuck.plots:
        assert len(p.series) == 6, f"{p.title}: one series per (case, loss), got {len(p.series)}"
        for s in p.series:
            assert len(s.x) == len(s.y) == cfg.epochs + 1, f"{p.title} / {s.label}: epochs 0..{cfg.epochs}"


def test_ce_rescues_stuck_outputs(stuck):
    m = stuck.metrics
    ce = m["stuck outputs · CE: test accuracy"]["mean"]
    se = m["stuck outputs · SE: test accuracy"]["mean"]
    assert ce > se + 0.2, f"with pinned outputs CE should end far more accurate than SE: CE {ce:.3f}, SE {se:.3f}"
    # mechanism: at the start CE's output delta z - y is large exactly where SE's (z - y) z(1 - z) vanishes
    g_ce = _series(stuck, "Gradient norm reaching the output", "stuck outputs · CE").y[0]
    g_se = _series(stuck, "Gradient norm reaching the output", "stuck outputs · SE").y[0]
    assert g_ce > 5 * g_se, f"initial output-layer gradient: CE {g_ce:.3g} should exceed 5x SE {g_se:.3g}"
    wrong = m["stuck outputs · CE: outputs stuck wrong (start → end)"]
    w0, w1 = wrong["start"]["mean"], wrong["end"]["mean"]
    assert w0 > 0.05 and w1 < 0.01, f"CE should unpin the outputs stuck at the wrong bound: {w0:.3f} → {w1:.3f}"


def test_ce_does_not_unstick_hidden_units(stuck):
    for loss in ("CE", "SE"):
        sat = stuck.metrics[f"stuck hidden · {loss}: hidden saturated (start → end)"]
        start, end = sat["start"]["mean"], sat["end"]["mean"]
        assert start > 0.8, f"{loss}: hidden weights x{stuck_units.Config.hidden_scale} should pin the hidden layer"
        assert end >= 0.8 * start, f"{loss}: hidden layer should stay stuck, saturation {start:.2f} → {end:.2f}"
    g_stuck = _series(stuck, "Gradient norm reaching the hidden", "stuck hidden · CE").y[0]
    g_ok = _series(stuck, "Gradient norm reaching the hidden", "healthy · CE").y[0]
    assert g_stuck < 0.5 * g_ok, f"CE: stuck hidden layer gets {g_stuck:.3g}, a healthy one {g_ok:.3g}"


def test_stuck_constructions_start_from_the_same_weights_and_pin_the_chosen_layer():
    cfg = stuck_units.Config.quick()
    Xtr, ytr, *_, k = load_data("digits", seed=0)
    for case, pinned in (("stuck outputs", 1), ("stuck hidden", 0)):
        se = stuck_units._network(cfg, k, Xtr.shape[1], case, "SE", seed=3)
        ce = stuck_units._network(cfg, k, Xtr.shape[1], case, "CE", seed=3)
        for a, b in zip(se.params, ce.params):
            np.testing.assert_array_equal(a, b, err_msg=f"{case}: SE and CE must start from identical weights")
        X, Y, _ = Trainer(se).prepare(Xtr, ytr)
        sat = [d["saturated"] for d in layer_diagnostics(se, X, Y)]
        assert sat[pinned] > 0.8, f"{case}: layer {pinned} should start saturated, got {sat}"
        if pinned == 0:
            assert sat[1] < 0.2, f"{case}: the output layer should start unsaturated, got {sat}"
        else:
            assert sat[0] < 0.2, f"{case}: the hidden layer should start unsaturated, got {sat}"


# -- xor-relu -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xor():
    exp = get_experiment("xor-relu")
    return exp.run(exp.default_config(quick=True, seeds=tuple(range(20))))


def test_xor_result_is_complete_and_serialisable(xor):
    _check_result(xor, "xor-relu")
    assert xor.metrics["hand-set network exact"] is True, "relu(x1+x2) - 2 relu(x1+x2-1) is XOR exactly"
    assert xor.metrics["hand-set 2-2-1 ReLU output"] == [0.0, 1.0, 1.0, 0.0]


def test_xor_241_relu_learns_xor_in_most_runs(xor):
    rate = xor.metrics["2-4-1 relu: success rate"]
    assert rate["n"] == 20 and rate["rate"] >= 0.5, f"2-4-1 ReLU success rate {rate['rate']} below 0.5"
    lo, hi = rate["wilson"]
    assert lo <= rate["rate"] <= hi, f"Wilson interval [{lo}, {hi}] must contain the rate"
    narrow = xor.metrics["2-2-1 relu: success rate"]["rate"]
    assert narrow < rate["rate"], f"2-2-1 ReLU ({narrow}) should fail more often than 2-4-1 ({rate['rate']})"
    fails = next(t for t in xor.tables if t["title"] == "How the failures fail")["rows"]
    row = next(r for r in fails if r["network"] == "2-4-1 relu")
    assert row["failures"] == 0 or row["with a dead hidden unit"] >= 1, "2-4-1 ReLU failures: dead units expected"


def test_xor_decision_regions_classify_the_corners(xor):
    img = next(p for p in xor.plots if p.kind == "image")
    P = np.asarray(img.image)
    n = xor_relu.Config.quick().grid_points
    assert P.shape == (n, n) and img.extent == [-0.5, 1.5, -0.5, 1.5]
    assert P.min() >= 0 and P.max() <= 1, "pixels are probabilities"
    g = np.linspace(-0.5, 1.5, n)
    X, y = load("xor").X_train, load("xor").y_train
    for (x1, x2), label in zip(X, y):
        col, row = int(np.argmin(abs(g - x1))), int(np.argmin(abs(g - x2)))  # image row = x2 (origin lower)
        assert (P[row, col] > 0.5) == bool(label), f"corner ({x1}, {x2}): P(class 1) = {P[row, col]:.3f}, label {label}"
    points = [s for s in img.series if s.style == "points"]
    assert sum(len(s.x) for s in points) == 4, "the four XOR patterns drawn on top"


@pytest.mark.parametrize("unit", ["relu", "sigmoid"])
def test_lockstep_training_matches_the_engine(unit):
    ds = load("xor")
    X, y = ds.X_train, ds.y_train
    seeds = [0, 1, 7]
    w = xor_relu.train_lockstep(xor_relu.initial_weights(4, unit, seeds), unit, X, y.astype(X.dtype)[:, None], 0.5, 150)
    for i, s in enumerate(seeds):
        net = mlp([2, 4, 1], hidden=unit, output="sigmoid", init=xor_relu.INIT[unit], seed=s)
        Trainer(net, "sgd", lr=0.5, epochs=150, batch_size=None, shuffle=False, diagnostics=False).fit(X, y)
        for j, (p, q) in enumerate(zip(net.params, w)):
            np.testing.assert_allclose(
                q[i], p, rtol=1e-5, atol=1e-6, err_msg=f"{unit}, seed {s}, param {j}: lockstep drifted from the engine"
            )


def test_wilson_interval_known_values():
    lo, hi = xor_relu.wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4), f"Wilson 0/10: got ({lo}, {hi})"
    lo, hi = xor_relu.wilson(15, 20)
    assert (lo, hi) == (pytest.approx(0.5313, abs=1e-4), pytest.approx(0.8881, abs=1e-4)), (lo, hi)
    lo2, hi2 = xor_relu.wilson(5, 20)
    assert (lo2, hi2) == (pytest.approx(1 - hi), pytest.approx(1 - lo)), "symmetric under k -> n - k"
