"""The saturation, vanishing- and exploding-gradient experiments: quick runs, the notes' directions, valid results."""

import json
import math

import pytest

from neuronet.errors import ConfigError
from neuronet.experiments import VERDICTS, get_experiment
from neuronet.experiments.exploding_gradients import ScaledHe, _init
from neuronet.experiments.saturation import StandardUniform


def _run(name, **overrides):
    exp = get_experiment(name)
    return exp.run(exp.default_config(quick=True, **overrides))


@pytest.fixture(scope="module")
def saturation():
    return _run("saturation", seeds=(0, 1))


@pytest.fixture(scope="module")
def vanishing():
    return _run("vanishing-gradients", seeds=(0, 1))


@pytest.fixture(scope="module")
def exploding():
    return _run("exploding-gradients", seeds=(0, 1))


def _check_result(result):
    d = result.to_dict()
    json.dumps(d, allow_nan=False)  # strict JSON: no NaN or infinity slips through
    assert result.verdict in VERDICTS, result.verdict
    assert result.claim and result.measurement and result.reason.startswith("Rule:"), result.reason[:40]
    assert result.metrics and result.tables and result.plots
    for plot in result.plots:
        assert plot.series, f"plot {plot.title!r} has no series"
        for s in plot.series:
            assert len(s.x) == len(s.y), f"{plot.title!r} / {s.label!r}: x and y differ in length"
            finite = [v for v in s.y if v is not None and math.isfinite(v)]
            assert finite, f"{plot.title!r} / {s.label!r}: no finite y value"
            if plot.logy:
                assert all(v > 0 for v in finite), f"{plot.title!r} / {s.label!r}: log axis with y <= 0"


def _verdict_follows_parts(result):
    """'supported' iff every part holds, 'not supported' iff none does (the rule both experiments state)."""
    parts = [row["holds"] for row in result.tables[-1]["rows"]]
    expected = "supported" if all(parts) else "not supported" if not any(parts) else "mixed"
    assert result.verdict == expected, (parts, result.verdict)


# -- saturation --------------------------------------------------------------------------------------------
def test_saturation_result_is_complete_and_serialisable(saturation):
    _check_result(saturation)
    _verdict_follows_parts(saturation)
    assert saturation.seeds == [0, 1]


def test_normal_init_saturates_more_and_has_smaller_derivative_than_fan_in(saturation):
    m = saturation.metrics
    for layer in (1, 2):
        bad = m[f"saturated fraction, hidden {layer}, normal:1, init"]
        good = m[f"saturated fraction, hidden {layer}, fan-in, init"]
        assert bad["min"] > good["max"] + 0.2, (layer, bad, good)  # N(0,1): ~0.4-0.6, fan-in: ~0
        bad_d = m[f"mean S', hidden {layer}, normal:1, init"]
        good_d = m[f"mean S', hidden {layer}, fan-in, init"]
        assert bad_d["max"] < good_d["min"], (layer, bad_d, good_d)
        assert good_d["min"] > 0.2, good_d  # fan-in units sit near S' = 1/4


def test_saturated_units_stay_stuck_and_move_less(saturation):
    m = saturation.metrics
    for layer in (1, 2):
        still = m[f"saturated units still saturated at the end, hidden {layer}, normal:1"]
        moved = m[f"weight change of saturated / unsaturated units, hidden {layer}, normal:1"]
        assert still["mean"] >= 0.5, (layer, still)
        assert moved["mean"] < 1.0, (layer, moved)


def test_glorot_top_hidden_layer_is_driven_toward_zero(saturation):
    m = saturation.metrics
    n = 5  # quick config: 5 epochs
    top = m[f"Glorot: mean activation of hidden 4 after {n} epochs"]["mean"]
    lower = [m[f"Glorot: mean activation of hidden {k} after {n} epochs"]["mean"] for k in (1, 2, 3)]
    assert top < 0.4 and top < min(lower), (top, lower)  # starts at ~0.5 like the others
    assert all(0.45 < v < 0.6 for v in lower), lower


def test_standard_uniform_init_limit():
    assert StandardUniform().limit(64, 100) == pytest.approx(1 / 8)


# -- vanishing gradients -----------------------------------------------------------------------------------
def test_vanishing_result_is_complete_and_serialisable(vanishing):
    _check_result(vanishing)
    assert vanishing.seeds == [0, 1]


def test_sigmoid_gradient_ratio_falls_with_depth_and_relu_does_not(vanishing):
    m = vanishing.metrics
    for when in ("init", "trained"):
        d1 = m[f"log10 ratio, sigmoid, fan-in, depth 1, {when}"]
        d2 = m[f"log10 ratio, sigmoid, fan-in, depth 2, {when}"]
        d4 = m[f"log10 ratio, sigmoid, fan-in, depth 4, {when}"]
        # S' <= 1/4 per layer: each seed at depth 4 at least a decade below every seed at depth 1
        assert d4["max"] < d1["min"] - 1.0, (when, d1, d4)
        assert d4["mean"] < d2["mean"] < d1["mean"], (when, d1, d2, d4)
        r1 = m[f"log10 ratio, relu, fan-in, depth 1, {when}"]["mean"]
        r4 = m[f"log10 ratio, relu, fan-in, depth 4, {when}"]["mean"]
        assert abs(r4 - r1) < 1.0, (when, r1, r4)  # ReLU with fan-in: within a decade


# -- exploding gradients -----------------------------------------------------------------------------------
def test_exploding_result_is_complete_and_serialisable(exploding):
    _check_result(exploding)
    _verdict_follows_parts(exploding)


def test_large_init_activations_and_gradients_grow_with_depth_he_does_not(exploding):
    m = exploding.metrics
    for init in ("he*2", "normal:1"):
        assert m[f"activation RMS top/first hidden layer, {init}"]["min"] >= 10, init
        assert m[f"delta RMS first/top hidden layer, {init}"]["min"] >= 10, init
        assert m[f"||dL/dW|| first layer, {init}"]["min"] > 10 * m["||dL/dW|| first layer, he"]["max"], init
    he = m["activation RMS top/first hidden layer, he"]
    assert he["min"] >= 1 / 3 and he["max"] <= 3, he
    he_d = m["delta RMS first/top hidden layer, he"]
    assert he_d["min"] >= 1 / 3 and he_d["max"] <= 3, he_d


def test_unclipped_large_init_diverges_clipping_prevents_it(exploding):
    m = exploding.metrics
    assert m["diverged fraction, normal:1, unclipped"] == 1.0
    assert m["diverged fraction, normal:1, clipped"] == 0.0
    assert m["diverged fraction, he, unclipped"] == 0.0
    assert m["final training loss, he, unclipped"]["mean"] < 2.3  # below chance level ln 10 ≈ 2.30


def test_scaled_he_init_parsing():
    assert _init("he*2").std(50, 10) == pytest.approx(2 * math.sqrt(2 / 50))
    assert isinstance(_init("he*0.5"), ScaledHe)
    assert _init("normal:1").std(50, 10) == 1.0
    with pytest.raises(ConfigError, match="only 'he\\*k'"):
        _init("glorot*2")
    with pytest.raises(ConfigError, match="not a number"):
        _init("he*x")
