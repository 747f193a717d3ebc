"""exploding-gradients: the 2 × 2 of (ReLU, tanh) × (gain 1, N(0, 1)); each check's direction and a failing control."""

import copy
import json

import numpy as np
import pytest

from neuronet.experiments import exploding_gradients as eg
from neuronet.experiments.common import load_data
from neuronet.experiments.design import conclude, measure_safely, roundtrip
from neuronet.network import mlp
from neuronet.stats import verdict_from
from neuronet.train import Trainer

DESIGN = eg.ExplodingGradients()


@pytest.fixture(scope="module")
def quick():
    cfg = eg.Config.quick()
    measured = [(k, measure_safely(DESIGN, cfg, k)) for k in (roundtrip(k) for k in DESIGN.runs(cfg))]
    return cfg, measured


def _checks(cfg, measured):
    return {c.name: c for c in DESIGN.judge(cfg, measured)}


def _as(measured, source, target, fields=None):
    """A copy where each run of cell ``target`` carries cell ``source``'s data (or only ``fields`` of it)."""
    by = {(k["unit"], k["init"], k["seed"]): d for k, d in measured}
    out = []
    for k, d in measured:
        if (k["unit"], k["init"]) == target:
            src = copy.deepcopy(by[(*source, k["seed"])])
            d = src if fields is None else {**d, **{f: src[f] for f in fields}}
        out.append((k, d))
    return out


def test_quick_result_is_complete_and_its_verdict_comes_from_the_checks(quick):
    cfg, measured = quick
    r = conclude(DESIGN, cfg, measured)
    assert r.verdict == verdict_from(DESIGN.judge(cfg, measured))
    assert len(r.checks) == 4 and all(c["could_fail"] and c["threshold"] and c["n"] >= 4 for c in r.checks)
    json.dumps(r.to_dict(), allow_nan=False)
    assert len(r.tables[0]["rows"]) == 4, "one row per cell of the 2 x 2"


def test_relu_at_large_init_explodes_and_the_bounded_control_less(quick):
    cfg, measured = quick
    checks = _checks(cfg, measured)
    rho = checks["gradient explodes toward the input"]
    assert rho.holds and rho.value < -0.9, f"δ should grow layer by layer toward the input, ρ = {rho.value:.3f}"
    inter = checks["unboundedness adds to the explosion"]
    assert inter.holds and inter.value > 1.0, f"ReLU's growth should exceed tanh's by > 1 decade: {inter.value:.2f}"
    c = eg.cells(cfg, measured)
    tanh_gain = np.mean(c[("tanh", "normal:1")]["delta"]) - np.mean(c[("tanh", "fan-in")]["delta"])
    assert tanh_gain > 1.0, f"the bounded control still grows with gain > 1 (reported, not judged): {tanh_gain:.2f}"
    assert max(c[("tanh", "normal:1")]["act"]) < 0.1, "tanh activations cannot grow"


def test_relu_pins_the_output_and_diverges_where_tanh_does_not(quick):
    cfg, measured = quick
    checks = _checks(cfg, measured)
    assert checks["large outputs overwhelm the output layer"].holds
    assert checks["large outputs overwhelm the output layer"].value > 0.3
    div = checks["plain SGD diverges"]
    assert div.holds and div.value == 1.0, f"every ReLU N(0,1) run diverges, no tanh one: {div.value}"
    c = eg.cells(cfg, measured)
    assert sum(c[("relu", "he")]["diverged"]) == 0, "the rate is one at which the He network trains"


# -- negative controls ------------------------------------------------------------------------------------------
def test_trend_fails_on_the_he_network_whose_gain_is_one(quick):
    cfg, measured = quick
    flat = _as(measured, ("relu", "he"), ("relu", "normal:1"), fields=["delta"])
    assert not _checks(cfg, flat)["gradient explodes toward the input"].holds


def test_interaction_fails_when_both_units_behave_alike(quick):
    cfg, measured = quick
    alike = _as(_as(measured, ("relu", "he"), ("tanh", "fan-in")), ("relu", "normal:1"), ("tanh", "normal:1"))
    assert not _checks(cfg, alike)["unboundedness adds to the explosion"].holds, "additive rows: no interaction"


def test_overwhelm_and_divergence_fail_when_the_bounded_unit_behaves_like_relu(quick):
    cfg, measured = quick
    same = _as(measured, ("relu", "normal:1"), ("tanh", "normal:1"), fields=["pinned", "diverged"])
    checks = _checks(cfg, same)
    assert not checks["large outputs overwhelm the output layer"].holds
    assert not checks["plain SGD diverges"].holds


# -- the measurement ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["relu", "tanh"])
def test_float64_backprop_of_the_deltas_matches_the_engine(unit):
    """‖h_{l−1}ᵀ δ_l‖ from the hand-propagated deltas equals the engine's ‖∇W_l‖ for every layer."""
    Xtr, ytr, *_, k = load_data("digits", seed=0)
    net = mlp([64, 16, 16, 16, k], hidden=unit, output="softmax", init="normal:0.3", seed=1, dtype=np.float64)
    X, Y, _ = Trainer(net).prepare(Xtr[:200], ytr[:200])
    acts = net.activations(X)
    net.loss_and_grads(X, Y)
    d = (acts[-1] - Y) / X.shape[0]
    for i in range(len(net.layers) - 1, -1, -1):
        below = X if i == 0 else acts[i - 1]
        np.testing.assert_allclose(below.T @ d, net.grads[2 * i], rtol=1e-10, atol=1e-14, err_msg=f"layer {i}")
        if i:
            d = (d @ net.layers[i].W.T) * net.layers[i - 1].unit.derivative(acts[i - 1], np.empty_like(acts[i - 1]))
    out = eg.at_init(net, X, Y, 0.99)
    norms = [float(np.linalg.norm(g)) for g in net.grads[::2]]
    np.testing.assert_allclose(out["grad"], norms, rtol=1e-12)
    assert len(out["delta"]) == len(net.layers) and len(out["act"]) == len(net.layers) - 1
