"""The playground's engine side: options, sessions, presets, export and the biology demos (no server)."""

import base64
import itertools
import shlex

import numpy as np
import pytest

from neuronet.config import TrainConfig, resolve, validate
from neuronet.playground.biology import HopfieldDemo, digit_patterns, lif_view, plasticity_view
from neuronet.playground.datasets import PLANE_EXTENT, make_data, plane_grid
from neuronet.playground.export import export, train_config
from neuronet.playground.options import DEFAULTS, OptionError, remedy_changes, remedy_state, validate_changes
from neuronet.playground.session import NetSession

# -- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"learning-rate": 0}, "learning-rate", "> 0"),
        ({"learning-rate": -1}, "learning-rate", "> 0"),
        ({"learning-rate": "abc"}, "learning-rate", "expected a number"),
        ({"learning-rate": "nan"}, "learning-rate", "finite"),
        ({"hidden-layers": "4,0"}, "hidden-layers", "layer 2"),
        ({"hidden-layers": [1_000_000]}, "hidden-layers", "≤ 128"),
        ({"hidden-layers": "8,8,8,8,8,8,8"}, "hidden-layers", "at most 6"),
        ({"hidden-layers": "a,b"}, "hidden-layers", "expected a number"),
        ({"batch-size": 2.5}, "batch-size", "whole number"),
        ({"activation": "gelu"}, "activation", "valid: sigmoid, tanh, relu"),
        ({"soft-targets": "yes"}, "soft-targets", "true or false"),
        ({"warp-speed": 9}, "warp-speed", "unknown option"),
        ({"output": "linear-se"}, "output", "regression set"),
    ],
)
def test_invalid_option_names_the_field_and_keeps_the_config(changes, field, words):
    with pytest.raises(OptionError) as e:
        validate_changes(DEFAULTS, changes)
    assert e.value.field == field, f"expected the error on {field}, got {e.value.field}"
    assert words in str(e.value), f"expected {words!r} in {e.value}"
    s = NetSession()
    before = dict(s.config)
    with pytest.raises(OptionError):
        s.apply(changes)
    assert s.config == before, "a rejected change must leave the session's options as they were"


def test_text_from_the_page_is_converted_and_the_regression_set_switches_the_output():
    new, notes = validate_changes(DEFAULTS, {"learning-rate": "0.25", "hidden-layers": " 8, 4 ", "dataset": "wave"})
    assert new["learning-rate"] == 0.25 and new["hidden-layers"] == (8, 4)
    assert new["output"] == "linear-se" and "linear" in notes[0], f"regression needs a linear output, got {new}"
    back, _ = validate_changes(new, {"dataset": "xor"})
    assert back["output"] == "softmax-ce"


def test_each_remedy_toggles_exactly_its_own_state():
    base = {**DEFAULTS, "init": "normal", "output": "sigmoid-se", "activation": "sigmoid"}
    assert not any(remedy_state(base).values()), "the baseline applies no remedy"
    for k in range(1, 6):
        on, _ = validate_changes(base, remedy_changes(base, k, True))
        state = remedy_state(on)
        assert state[k] and sum(state.values()) == 1, f"remedy {k} on should switch on remedy {k} only: {state}"
        off, _ = validate_changes(on, remedy_changes(on, k, False))
        assert not any(remedy_state(off).values()), f"remedy {k} off should restore the baseline"


# -- training sessions -----------------------------------------------------------------------------


def test_xor_with_relu_learns_and_the_test_loss_falls_below_0_05():
    s = NetSession()
    s.apply_preset("xor-relu")
    first = s.frame()
    for _ in range(250):
        s.train(5, max_seconds=60)
    last = s.frame()
    assert last["test_loss"] < 0.05 < first["test_loss"], f"test loss {first['test_loss']} -> {last['test_loss']}"
    assert last["test_acc"] > 0.95, f"XOR test accuracy {last['test_acc']}"


def test_xor_without_a_hidden_layer_stays_near_ln2():
    s = NetSession()
    s.apply_preset("xor-no-hidden")
    for _ in range(100):
        s.train(5, max_seconds=60)
    loss = s.frame()["train_loss"]
    assert abs(loss - np.log(2)) < 0.05, f"a linear boundary cannot do better than chance on XOR; loss {loss}"


def test_saturation_preset_saturates_and_fan_in_init_lowers_it():
    s = NetSession()
    s.apply_preset("saturation")
    baseline = s.frame()["layers"][0]["saturated"]
    s.apply_remedy(1, True)
    remedied = s.frame()["layers"][0]["saturated"]
    assert baseline > 0.5, f"normal:1 weights on 64 standardized inputs should saturate most hidden outputs: {baseline}"
    assert remedied < 0.1 < baseline, f"fan-in init should remove most saturation: {baseline} -> {remedied}"


def test_deep_sigmoid_gradient_vanishes_towards_the_input():
    s = NetSession()
    s.apply_preset("vanishing")
    norms = [layer["grad_norm"] for layer in s.frame()["layers"]]
    assert all(a < b for a, b in itertools.pairwise(norms)), f"gradient norms should grow towards the output: {norms}"
    assert norms[0] < 1e-3 * norms[-1], f"the first layer's gradient should be tiny next to the last's: {norms}"


def test_exploding_preset_diverges_rolls_back_and_stays_usable():
    s = NetSession()
    s.apply_preset("exploding")
    before = s.net.get_weights()
    s.train(5, max_seconds=60)
    assert s.diverged, "deep ReLUs with σ = 1 weights and SGD should diverge"
    for w0, w1 in zip(before, s.net.get_weights()):
        np.testing.assert_array_equal(w0, w1, err_msg="the weights must be rolled back to the last good frame")
    assert s.updates == 0 and np.isfinite(s.frame()["train_loss"])
    s.apply({"init": "fan-in", "learning-rate": 0.01})
    s.train(5, max_seconds=60)
    assert not s.diverged and s.updates > 0, "after a change of options the session trains again"


def test_quickprop_solves_8_3_8_faster_than_momentum():
    def updates_to_solve(optimizer, lr):
        s = NetSession()
        s.apply_preset("quickprop")
        s.apply({"optimizer": optimizer, "learning-rate": lr})
        for i in range(1, 1500):
            s.train(1, max_seconds=60)
            f = s.frame()
            if f["train_acc"] == 1.0 and f["train_loss"] < 0.02:
                return i
        return 1500

    quick, momentum = updates_to_solve("quickprop", 2.0), updates_to_solve("momentum", 0.5)
    assert quick * 3 < momentum, f"Quickprop took {quick} epochs, momentum {momentum}"


def test_live_options_keep_the_weights_and_structural_ones_start_over():
    s = NetSession()
    s.train(10, max_seconds=60)
    run, w = s.run_id, s.net.get_weights()[0].copy()
    s.apply({"learning-rate": 0.05, "optimizer": "adam"})
    assert s.run_id == run and s.optimizer.lr == 0.05 and s.updates == 10
    np.testing.assert_array_equal(s.net.get_weights()[0], w)
    s.apply({"hidden-layers": "3"})
    assert s.run_id == run + 1 and s.updates == 0 and s.net.layers[0].n_out == 3


def test_maps_follow_the_plane_grid_and_mark_saturation():
    grid = plane_grid(4)
    assert grid[0].tolist() == [-PLANE_EXTENT, PLANE_EXTENT], "the first grid point is the top-left corner"

    def marked(std):
        s = NetSession({**DEFAULTS, "init": "normal", "init-std": std, "hidden-layers": (4,)})
        f = s.frame()
        assert f["grid"] ** 2 == len(base64.b64decode(f["output_map"]))
        maps = [np.frombuffer(base64.b64decode(m), np.uint8) for m in f["unit_maps"][0]]
        return np.mean([np.isin(m, (0, 255)).mean() for m in maps])

    big, small = marked(5.0), marked(0.1)
    assert big > 0.3 and small == 0, f"σ = 5 weights saturate much of the plane, σ = 0.1 none: {big}, {small}"


# -- export --------------------------------------------------------------------------------------


def _parse_command(command: str) -> TrainConfig:
    """The exported command line through the real CLI's parser and ``neuronet.config.resolve``."""
    import typer

    from neuronet.cli import app

    words = shlex.split(command)
    assert words[:2] == ["neuronet", "train"], command
    train = typer.main.get_command(app).commands["train"]
    ctx = train.make_context("train", words[2:])
    return resolve({k: v for k, v in ctx.params.items() if k != "config"})


@pytest.mark.parametrize("preset", ["saturation", "xor-relu", "xor-no-hidden", "quickprop", "exploding"])
def test_export_command_and_toml_parse_to_the_same_configuration(preset, tmp_path):
    s = NetSession()
    s.apply_preset(preset)
    s.train(3, max_seconds=60)
    out = s.export()
    expected = train_config(s.config, s.data, s.epoch)
    assert _parse_command(out["command"]) == expected, out["command"]
    path = tmp_path / "run.toml"
    path.write_text(out["toml"], encoding="utf-8")
    assert resolve({}, path) == expected, out["toml"]
    assert expected.lr == s.config["learning-rate"] and expected.hidden == tuple(s.config["hidden-layers"])


def test_export_names_the_cli_data_sets_and_offers_a_file_for_the_others():
    cfg = {**DEFAULTS, "dataset": "digits", "train-fraction": 0.8}
    digits = export(cfg, make_data("digits", train_fraction=0.8), 2.0)
    assert digits["data_file"] is None and "--data digits" in digits["command"] and "--standardize" in digits["command"]
    xor = export(DEFAULTS, make_data("xor"), 2.0)
    assert xor["data_file"] == "playground-xor-seed0.npz" and xor["data_file"] in xor["command"]


def test_exported_command_runs_in_the_cli_on_the_exported_data(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from neuronet.cli import app

    s = NetSession()
    s.apply_preset("xor-relu")
    s.train(20, max_seconds=60)
    out = s.export()
    (tmp_path / out["data_file"]).write_bytes(s.data.to_npz())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, shlex.split(out["command"])[1:])
    assert result.exit_code == 0, result.output
    assert "test loss" in result.output


def test_validate_accepts_what_export_writes():
    cfg = train_config({**DEFAULTS, "soft-targets": True, "prime-offset": 0.1}, make_data("gauss"), 0.3)
    assert validate(cfg) == cfg and cfg.targets == (0.15, 0.85) and cfg.epochs == 1


# -- biology --------------------------------------------------------------------------------------


@pytest.mark.parametrize("t_ref_ms", [0.5, 2.0])
def test_lif_rate_never_exceeds_one_over_t_ref(t_ref_ms):
    ceiling = 1000.0 / t_ref_ms
    for current in (3.0, 50.0):
        v = lif_view(current, "current", t_ref_ms)
        assert 0 < v["rate_hz"] < ceiling, f"{current} nA: rate {v['rate_hz']} vs ceiling {ceiling}"
        assert abs(v["rate_hz"] - v["analytic_hz"]) < 0.01 * v["analytic_hz"], "simulation and closed form agree"
    assert max(v["fi"]["rate_hz"]) < ceiling and all(r < ceiling for _, r in v["fi"]["simulated"])
    assert lif_view(20.0)["rate_hz"] < 1000.0


def test_lif_slow_input_leaks_away_and_fast_input_fires():
    slow, fast = lif_view(0, "slow"), lif_view(0, "fast")
    assert slow["rate_hz"] == 0 and max(slow["trace"]["v_mv"]) < -60, "4 mV every 25 ms decays before it adds up"
    assert fast["rate_hz"] > 10, f"4 mV every 2 ms sums past threshold; rate {fast['rate_hz']}"
    assert lif_view(1.0)["rate_hz"] == 0, "below the 2 nA rheobase the neuron is silent"


def test_hopfield_recall_improves_the_overlap_step_by_step():
    h = HopfieldDemo((0, 2, 7))
    h.cue(2, corrupt=0.3, kill=0.3, seed=1)
    start = h.view()
    assert start["alive"] == 45 and start["state"].count(0) == 19, "30 % of 64 neurons dead, drawn as 0"
    overlaps, energies = [start["overlap"]], [start["energy"]]
    while not h.converged and h.sweeps < 20:
        h.step()
        overlaps.append(h.view()["overlap"])
        energies.append(h.view()["energy"])
    assert start["overlap"] < 0.7 and overlaps[-1] == 1.0, f"overlap by sweep: {overlaps}"
    assert all(b <= a for a, b in itertools.pairwise(energies)), f"energy never rises: {energies}"
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(h.energies)), "nor within a sweep"


def test_hopfield_validates_its_inputs():
    h = HopfieldDemo()
    for call, field in [
        (lambda: h.store("0 0"), "hopfield-digits"),
        (lambda: h.store("12"), "hopfield-digits"),
        (lambda: h.cue(5, 0.1, 0.0), "hopfield-target"),
        (lambda: h.cue(0, 1.5, 0.0), "hopfield-corrupt"),
        (lambda: h.cue(0, 0.1, "lots"), "hopfield-kill"),
    ]:
        with pytest.raises(OptionError) as e:
            call()
        assert e.value.field == field, f"expected the error on {field}, got {e.value}"
    assert digit_patterns().shape == (10, 64) and set(np.unique(digit_patterns())) == {-1.0, 1.0}


def test_oja_settles_on_pc1_with_unit_norm_while_hebb_grows():
    v = plasticity_view(eta=0.02, epochs=5, seed=0)
    assert abs(v["oja"]["final_norm"] - 1) < 0.05 and v["oja"]["cos_pc1"] > 0.99, v["oja"]
    assert v["hebb"]["final_norm"] > 1e3 and v["hebb"]["norms"][-1] > v["hebb"]["norms"][0], "Hebb's |w| grows"


def test_huge_integers_and_deep_nesting_get_an_error_not_a_dead_session():
    from neuronet.playground.server import CLOSE_INVALID, _decode

    huge = int("9" * 400)  # float() overflows on it
    with pytest.raises(OptionError, match="seed: expected a number"):
        validate_changes(DEFAULTS, {"seed": huge})
    with pytest.raises(OptionError, match="lif-current: expected a number"):
        lif_view(current_na=huge)
    nested = '{"type": "set", "changes": ' + "[" * 20000 + "]" * 20000 + "}"
    assert _decode({"text": nested}) == (None, CLOSE_INVALID, "malformed message: nested too deeply")
