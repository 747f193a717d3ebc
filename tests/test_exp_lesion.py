"""The lesion experiment: the damage it applies, the direction of every check in quick mode, and a control
that makes each check fail."""

import dataclasses
import json

import numpy as np
import pytest

from neuronet.bio.lesion import cut_synapses, silence_units
from neuronet.experiments.common import load_data
from neuronet.experiments.design import conclude, measure_safely
from neuronet.experiments.lesion import (
    ARMS,
    Config,
    Lesion,
    accuracy_lost,
    choose_lrs,
    chosen_runs,
    cut_accuracy,
    lr_grid,
    silenced_accuracy,
    single_deaths,
    train_network,
)

DESIGN = Lesion()


@pytest.fixture(scope="module")
def quick():
    """The quick experiment, measured once: ``(cfg, measured, checks by name)``."""
    cfg = Config.quick()
    measured = [(k, measure_safely(DESIGN, cfg, k)) for k in DESIGN.runs(cfg)]
    return cfg, measured, {c.name: c for c in DESIGN.judge(cfg, measured)}


@pytest.fixture(scope="module")
def trained():
    cfg = dataclasses.replace(Config.quick(), epochs=5)
    data = load_data(cfg.data, seed=0)
    net, _ = train_network(cfg, data, "plain", 0.4, seed=0)
    return net, data[4], data[5]


def _acc(net, X, y):
    return float(np.mean(np.argmax(net.predict(X), axis=1) == y))


# -- the damage ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_reusable_lesions_equal_the_bio_lesion_functions(trained, p):
    net, X, y = trained
    les = net.copy()
    want = _acc(silence_units(net, p, np.random.default_rng(5)), X, y)
    assert silenced_accuracy(les, p, np.random.default_rng(5), X, y) == want, "same draws, same dead units"
    want = _acc(cut_synapses(net, p, np.random.default_rng(6)), X, y)
    assert cut_accuracy(les, p, np.random.default_rng(6), X, y) == want, "same draws, same cut weights"
    assert np.array_equal(les.predict(X), net.predict(X)), "the reusable copy is restored after each lesion"


def test_single_deaths_kill_each_hidden_unit_once(trained):
    net, X, y = trained
    accs = single_deaths(net, X, y)
    assert len(accs) == net.layers[0].n_out, "one entry per hidden unit"
    # unit 7 alone, by hand
    les = net.copy()
    mask = np.ones(net.layers[0].n_out)
    mask[7] = 0
    les.layers[0].set_unit_mask(mask)
    assert accs[7] == _acc(les, X, y)
    assert all(L.unit_mask is None for L in net.layers), "the trained network is not touched"


def test_runs_pair_the_arms_and_keep_selection_seeds_apart():
    cfg = Config()
    keys = DESIGN.runs(cfg)
    assert len({json.dumps(k, sort_keys=True) for k in keys}) == len(keys)
    select = {k["seed"] for k in keys if k["phase"] == "select"}
    test = {k["seed"] for k in keys if k["phase"] == "test"}
    assert not select & test, "learning rates are chosen on seeds disjoint from the test seeds"
    assert len(test) >= 10
    for arm in ARMS:
        assert {(k["lr"], k["seed"]) for k in keys if k["phase"] == "test" and k["arm"] == arm} == {
            (float(lr), s) for lr in lr_grid(cfg) for s in cfg.seeds
        }
    assert lr_grid(cfg) == (0.2, 0.4, 0.8) and lr_grid(dataclasses.replace(cfg, data="fashion-mnist"))[1] == 0.05
    assert lr_grid(dataclasses.replace(cfg, lrs=(0.3,))) == (0.3,)


# -- quick mode: the direction of every check -------------------------------------------------------
def test_quick_single_deaths_cost_little(quick):
    cfg, _, checks = quick
    c = checks["single death"]
    assert c.holds and 0 < c.value < cfg.single_death_margin and c.ci[1] < cfg.single_death_margin, c


def test_quick_accuracy_falls_with_the_dead_fraction(quick):
    cfg, measured, checks = quick
    c = checks["graceful"]
    assert c.holds and c.value < -0.8 and c.p_value < 0.01, c
    chosen, _ = choose_lrs(cfg, measured)
    for d in chosen_runs(cfg, measured, chosen)["plain"]:
        assert d["units"][0] > 0.9 and d["units"][-1] < d["units"][0] - 0.3, "intact near 0.97, 90% dead far below"


def test_quick_dropout_comparison_is_judged_on_paired_seeds(quick):
    cfg, measured, checks = quick
    chosen, _ = choose_lrs(cfg, measured)
    runs = chosen_runs(cfg, measured, chosen)
    diff = [accuracy_lost(cfg, a) - accuracy_lost(cfg, b) for a, b in zip(runs["plain"], runs["dropout"])]
    c = checks["dropout"]
    assert c.n == len(cfg.seeds) and c.value == pytest.approx(np.mean(diff))
    # dropout helps at moderate damage, hurts at 90% dead: over the grid the CI covers 0
    j30, j90 = cfg.fractions.index(0.3), cfg.fractions.index(0.9)
    assert np.mean([d["units"][j30] for d in runs["dropout"]]) > np.mean([d["units"][j30] for d in runs["plain"]])
    assert np.mean([d["units"][j90] for d in runs["dropout"]]) < np.mean([d["units"][j90] for d in runs["plain"]])
    assert not c.holds and c.ci[0] < 0 < c.ci[1], c


def test_quick_result_is_a_report(quick):
    cfg, measured, _ = quick
    d = json.loads(json.dumps(conclude(DESIGN, cfg, measured).to_dict()))
    assert d["verdict"] == "mixed" and [c["name"] for c in d["checks"]] == ["single death", "graceful", "dropout"]
    assert d["plots"] and d["tables"] and "Spearman" in d["measurement"]


# -- negative controls: each check can fail -------------------------------------------------------------
def test_single_death_check_fails_for_a_narrow_network():
    cfg = dataclasses.replace(Config.quick(), hidden=(3,), fractions=(0.0, 0.5), lesions_per_point=1)
    measured = [(k, measure_safely(DESIGN, cfg, k)) for k in DESIGN.runs(cfg) if k["arm"] == "plain"]
    measured += [(dict(k, arm="dropout"), d) for k, d in measured]  # judge needs both arms
    c = {c.name: c for c in DESIGN.judge(cfg, measured)}["single death"]
    assert not c.holds and c.value > 0.1, f"with 3 hidden units one death costs much more than the margin: {c}"


def test_graceful_check_fails_when_accuracy_does_not_follow_the_damage(quick):
    cfg, measured, _ = quick
    rng = np.random.default_rng(0)
    shuffled = [(k, dict(d, units=rng.permutation(d["units"]).tolist()) if "units" in d else d) for k, d in measured]
    c = {c.name: c for c in DESIGN.judge(cfg, shuffled)}["graceful"]
    assert not c.holds, c


def test_dropout_check_fails_for_identical_arms(quick):
    cfg, measured, _ = quick
    plain = {(k["phase"], k["lr"], k["seed"]): d for k, d in measured if k["arm"] == "plain"}
    same = [(k, plain[k["phase"], k["lr"], k["seed"]]) for k, _ in measured]
    c = {c.name: c for c in DESIGN.judge(cfg, same)}["dropout"]
    assert not c.holds and c.value == 0.0, c
