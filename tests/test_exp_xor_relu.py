"""Experiment "xor-relu": ReLU computes XOR; dead units against theory; bias init and the r′(0) = 1 convention."""

import dataclasses
import json

import numpy as np
import pytest

from neuronet.errors import ConfigError
from neuronet.experiments import VERDICTS, Result, get_experiment
from neuronet.experiments.design import evaluate, roundtrip
from neuronet.experiments.xor_relu import Config, XorReLU
from neuronet.experiments.xor_relu_runs import (
    ReLUKinkOne,
    copies,
    dead_probability,
    engine_network,
    hand_set_xor,
    initial_weights,
    train_lockstep,
    wilson,
    xor_data,
)
from neuronet.network import mlp
from neuronet.train import Trainer

DESIGN = XorReLU()


@pytest.fixture(scope="module")
def quick():
    exp = get_experiment("xor-relu")
    return evaluate(exp.design, exp.default_config(quick=True))


def _checks(result):
    return {c["name"]: c for c in result.checks}


# -- the units and the lockstep trainer -------------------------------------------------------------------
def test_kink_one_relu_passes_gradient_at_zero_and_the_engine_relu_does_not():
    X = np.zeros((1, 2))  # input (0, 0): with zero biases every hidden unit sits at a = 0
    grads = {}
    for name, unit in (("engine", "relu"), ("notes", ReLUKinkOne())):
        net = mlp([2, 3, 1], hidden=unit, output="sigmoid", dtype=np.float64, seed=0)
        net.loss_and_grads(X, np.zeros((1, 1)))
        grads[name] = net.grads[1].copy()  # hidden biases
    assert np.all(grads["engine"] == 0), f"engine ReLU: r′(0) = 0, so no bias gradient at a = 0; got {grads['engine']}"
    assert np.all(grads["notes"] != 0), f"notes' ReLU: r′(0) = 1 passes the gradient; got {grads['notes']}"
    u = ReLUKinkOne()
    a = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(u(a), [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(u.derivative(u(a), np.empty_like(a)), [[0.0, 1.0, 1.0]])


@pytest.mark.parametrize("bias", ["zero", "const", "normal"])
def test_lockstep_copies_match_the_engine_trainer(bias):
    cfg = dataclasses.replace(Config.quick(), lr_grid=(1.0,), epochs=120)
    plan, _, final = train_lockstep(5, 4, cfg)
    X, Y = xor_data()
    for k, (b, kink, lr) in enumerate(plan):
        if b != bias:
            continue
        net = engine_network(5, 4, b, kink, cfg)
        Trainer(net, "sgd", lr=lr, epochs=cfg.epochs, batch_size=None, shuffle=False, diagnostics=False).fit(
            X, Y[:, 0].astype(int)
        )
        for j, (p, q) in enumerate(zip(net.params, final)):
            np.testing.assert_allclose(q[k], p, rtol=1e-12, atol=1e-14, err_msg=f"{b}, r′(0)={kink}, param {j}")


def test_initial_weights_are_paired_across_bias_inits():
    cfg = Config()
    zero, const, normal = (initial_weights(3, 4, b, cfg) for b in ("zero", "const", "normal"))
    for i in (0, 2):
        np.testing.assert_array_equal(zero[i], const[i], err_msg="same weights for every bias init")
        np.testing.assert_array_equal(zero[i], normal[i])
    assert np.all(zero[1] == 0) and np.all(const[1] == cfg.bias_const) and np.all(normal[1] != 0)


def test_with_zero_biases_and_r0_one_a_silent_unit_revives_exactly_when_its_outgoing_weight_is_negative():
    cfg = dataclasses.replace(Config.quick(), lr_grid=(0.5,), epochs=1)
    seen = 0
    for seed in range(12):
        plan, start, final = train_lockstep(seed, 4, cfg)
        k = plan.index(("zero", 1, 0.5))
        silent = np.all(start[0][k] <= 0, axis=0)  # w1, w2 <= 0: a <= 0 on all four inputs
        b_after = final[1][k]
        for j in np.flatnonzero(silent):
            seen += 1
            assert (b_after[j] > 0) == (start[2][k, j, 0] < 0), f"seed {seed} unit {j}: b {b_after[j]:.3g}"
    assert seen >= 3, f"only {seen} silent units met: the property was barely tested"


def test_hand_set_network_is_exact():
    X, Y = xor_data()
    np.testing.assert_array_equal(hand_set_xor().predict(X)[:, 0], Y[:, 0])


# -- theory ---------------------------------------------------------------------------------------------
def test_dead_probabilities_against_monte_carlo():
    cfg = Config()
    assert dead_probability("zero", 0, cfg) == 0.25 and dead_probability("zero", 1, cfg) == 0.0
    assert dead_probability("const", 0, cfg) == 0.0, "a positive bias keeps a(0,0) > 0"
    rng = np.random.default_rng(0)
    n = 400_000
    w, b = rng.standard_normal((n, 2)), rng.normal(0, cfg.bias_std, n)
    a = np.stack([b, b + w[:, 1], b + w[:, 0], b + w.sum(1)], axis=1)
    mc = np.all(a < 0, axis=1).mean()
    assert dead_probability("normal", 0, cfg) == pytest.approx(mc, abs=0.003), "N(0, σ²) biases: the integral"
    neg = dataclasses.replace(cfg, bias_const=-0.3)
    a = np.stack([np.full(n, -0.3), -0.3 + w[:, 1], -0.3 + w[:, 0], -0.3 + w.sum(1)], axis=1)
    assert dead_probability("const", 0, neg) == pytest.approx(np.all(a < 0, axis=1).mean(), abs=0.003)


def test_wilson_interval_known_values():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4), f"Wilson 0/10: got ({lo}, {hi})"
    lo, hi = wilson(15, 20)
    assert (lo, hi) == (pytest.approx(0.5313, abs=1e-4), pytest.approx(0.8881, abs=1e-4)), (lo, hi)


# -- the claims at quick size ----------------------------------------------------------------------------
def test_quick_directions(quick):
    c = _checks(quick)
    assert c["hand-set XOR"]["holds"] and c["hand-set XOR"]["value"] == 0
    learn = c["trained ReLU networks learn XOR"]
    assert learn["holds"] and learn["value"] > 0.7, f"notes' ReLU learns XOR in {learn['value']:.2f} of runs"
    theory = c["dead at init matches theory"]
    assert theory["holds"] and theory["value"] < 0.01, f"dead at init deviates {theory['value']:.4f} from theory"
    rare = c["dead units rare on XOR"]
    assert not rare["holds"] and rare["value"] > 0.05, f"dead units on XOR: {rare['value']:.3f}, not rare"
    size = c["rare with many points"]
    assert size["holds"] and size["value"] < -0.9, f"dead fraction vs n: Spearman {size['value']:.2f}"
    for name in ("r′(0) = 1 keeps units alive", "r′(0) = 1 helps learn XOR", "positive bias init helps learn XOR"):
        assert c[name]["holds"] and c[name]["ci"][0] > 0, f"{name}: {c[name]['value']:+.2f}, CI {c[name]['ci']}"
    assert quick.verdict == "mixed", "'rare on XOR' fails while the rest hold"


def test_quick_result_is_json_serialisable(quick):
    assert quick.verdict in VERDICTS
    back = Result.from_dict(json.loads(json.dumps(quick.to_dict(), allow_nan=False)))
    assert back.verdict == quick.verdict and len(back.plots) == len(quick.plots)
    image = next(p for p in quick.plots if p.kind == "image")
    P = np.asarray(image.image)
    n = Config.quick().grid_points
    g = np.linspace(-0.5, 1.5, n)
    X, Y = xor_data()
    for (x1, x2), y in zip(X, Y[:, 0]):
        assert abs(P[int(np.argmin(abs(g - x2))), int(np.argmin(abs(g - x1)))] - y) < 1e-9, f"corner ({x1}, {x2})"


# -- negative controls: the judgement on altered runs -------------------------------------------------------
def _quick_measured(cfg):
    return [(k, roundtrip(DESIGN.measure(cfg, k))) for k in DESIGN.runs(cfg)]


@pytest.fixture(scope="module")
def small():
    cfg = dataclasses.replace(Config.quick(), seeds=tuple(range(20)), select_seeds=(1000, 1001), lr_grid=(0.5,))
    return cfg, _quick_measured(cfg)


def _edit_copies(measured, fn):
    out = []
    for key, data in measured:
        if key["part"] == "train":
            data = {**data, "copies": [fn(dict(r)) for r in data["copies"]]}
        out.append((key, data))
    return out


def test_no_convention_effect_when_biases_are_random(small):
    cfg, measured = small
    for _, data in measured:
        if "copies" in data:
            rows = {(r["bias"], r["kink"]): r for r in data["copies"]}
            assert rows["normal", 0] == {**rows["normal", 1], "kink": 0}, "a = 0 never happens with random biases"

    def swap(r):  # label the random-bias arms as the zero-bias ones: now r′(0) cannot matter
        if r["bias"] == "normal":
            r["bias"] = "zero"
        elif r["bias"] == "zero":
            r["bias"] = "normal"
        return r

    checks = {c.name: c for c in DESIGN.judge(cfg, _edit_copies(measured, swap))}
    assert not checks["r′(0) = 1 helps learn XOR"].holds and not checks["r′(0) = 1 keeps units alive"].holds


def test_theory_check_fails_when_frequencies_are_off(small):
    cfg, measured = small
    bent = []
    for key, data in measured:
        if key["part"] == "train":
            init = data["init"]
            dead = {**init["dead"], "zero/0": init["units"] // 8}  # 1/8 instead of 1/4
            data = {**data, "init": {**init, "dead": dead}}
        bent.append((key, data))
    c = {c.name: c for c in DESIGN.judge(cfg, bent)}["dead at init matches theory"]
    assert not c.holds and c.value > 0.1, f"a 1/8 frequency must fail the 1/4 theory (deviation {c.value})"


def test_rare_and_learns_checks_can_go_either_way(small):
    cfg, measured = small
    ideal = {
        c.name: c for c in DESIGN.judge(cfg, _edit_copies(measured, lambda r: {**r, "dead_end": 0, "success": True}))
    }
    assert ideal["dead units rare on XOR"].holds, "no dead units at all must count as rare"
    bad = {c.name: c for c in DESIGN.judge(cfg, _edit_copies(measured, lambda r: {**r, "success": False}))}
    assert not bad["trained ReLU networks learn XOR"].holds


def test_size_check_fails_without_a_falling_trend(small):
    cfg, measured = small
    flat = [
        (k, {**d, "dead": {**d["dead"], "centred": [d["units"] // 4] * len(cfg.sizes)}})
        if k["part"] == "size"
        else (k, d)
        for k, d in measured
    ]
    assert not {c.name: c for c in DESIGN.judge(cfg, flat)}["rare with many points"].holds


def test_bad_configs_are_refused():
    with pytest.raises(ConfigError, match="disjoint"):
        DESIGN.runs(dataclasses.replace(Config.quick(), select_seeds=(0,)))
    with pytest.raises(ConfigError, match="main_hidden"):
        DESIGN.runs(dataclasses.replace(Config.quick(), main_hidden=3))
    assert len(copies(Config.quick())) == 3 * 2 * len(Config.quick().lr_grid)
