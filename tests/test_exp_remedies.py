"""The remedies experiment: the factorial design, the directions of its checks, and negative controls.

The quick run (3 test seeds) gives the directions of the data; the judgement is also run on
synthetic measurements where each lecture statement is true, and on controls built to make each
check fail (additive effects for the interaction, identical arms for "helps", a large shift or an
untrained arm for the equivalence, identical stuck fractions for the output checks).
"""

import dataclasses
import json

import numpy as np
import pytest

from neuronet.errors import ConfigError
from neuronet.experiments import Result
from neuronet.experiments import remedies_runs as rr
from neuronet.experiments.base import EXPERIMENTS
from neuronet.experiments.remedies import Config, Remedies
from neuronet.stats import Check, verdict_from

DESIGN = Remedies()


@pytest.fixture(scope="module")
def result():
    return EXPERIMENTS["remedies"].run(Config.quick())


def _checks(result):
    return {c["name"]: c for c in result.checks}


# -- the design ---------------------------------------------------------------------------------
def test_registered_full_and_quick_configs():
    exp = EXPERIMENTS["remedies"]
    assert exp.order == 30 and exp.config_cls is Config and exp.design is not None
    full, quick = Config(), Config.quick()
    assert len(full.seeds) >= 20 and full.n_init_seeds >= 10, f"full mode: 20 seeds (10 for ①), got {full}"
    assert not set(full.select_seeds) & set(full.seeds), "selection seeds must be disjoint from the test seeds"
    assert 4 <= full.hidden_layers <= 6, f"the design asks for 4-6 hidden layers, got {full.hidden_layers}"
    assert full.useless_margin > 0 and full.sigmoid_init == "fan-in" and full.relu_init == "he"
    assert len(quick.seeds) < len(full.seeds) and quick.epochs <= full.epochs


def test_runs_are_one_per_arm_and_seed_with_the_n01_arm_on_fewer_seeds():
    cfg = Config()
    keys = DESIGN.runs(cfg)
    arms = [a.key for a in rr.arms()]
    assert len(arms) == 9 and len({json.dumps(k, sort_keys=True) for k in keys}) == len(keys)
    per_arm = {a: [k["seed"] for k in keys if k["arm"] == a] for a in arms}
    assert per_arm["sigmoid/no-1"] == list(cfg.seeds[: cfg.n_init_seeds]), per_arm["sigmoid/no-1"]
    for a in arms:
        if a != "sigmoid/no-1":
            assert per_arm[a] == list(cfg.seeds), f"{a}: every test seed once, got {per_arm[a]}"


def test_config_errors_name_the_problem():
    with pytest.raises(ConfigError, match="disjoint"):
        DESIGN.runs(dataclasses.replace(Config.quick(), select_seeds=(0,)))
    with pytest.raises(ConfigError, match="ce_form"):
        DESIGN.runs(dataclasses.replace(Config.quick(), ce_form="hinge"))


def test_each_arm_changes_only_its_own_ingredient():
    cfg = Config()
    base = {row: rr.network_options(cfg, rr.Arm(row, "base")) for row in rr.ROWS}
    assert base["sigmoid"]["init"] == "fan-in" and base["relu"]["init"] == "he", "sane init in every arm"
    changed = {
        ("sigmoid", "no-1"): {"init": "normal:1"},
        ("sigmoid", "2"): {"target_range": (0.15, 0.85)},
        ("relu", "3"): {"prime_offset": 0.1},
        ("relu", "4"): {"loss": "logistic"},
    }
    for (row, remedy), diff in changed.items():
        opts = rr.network_options(cfg, rr.Arm(row, remedy))
        got = {k: v for k, v in opts.items() if base[row][k] != v}
        assert got == diff, f"{row}/{remedy} should change only {diff}, changed {got}"
    soft = rr.network_options(dataclasses.replace(cfg, ce_form="softmax"), rr.Arm("sigmoid", "4"))
    assert soft["output"] == "softmax" and soft["loss"] == "cross-entropy"


# -- learning-rate choice -----------------------------------------------------------------------
def test_pick_takes_the_smallest_of_tied_rates():
    scores = {0.1: (0.90, 0.20), 0.3: (0.935, 0.10), 1.0: (0.95, 0.05)}
    assert rr.pick(scores, tie_tol=0.02) == 0.3, "0.3 ties with the best (1.0) within 0.02: the smaller wins"
    assert rr.pick(scores, tie_tol=0.001) == 1.0, "without ties the best validation accuracy wins"


def test_choose_lr_widens_at_an_edge_then_flags_it(monkeypatch):
    # validation accuracy rises with the rate up to 5, so the grid (0.1, 0.3, 1) must be extended upwards
    def fake_fit(cfg, arm, lr, seed, *, full):
        return {"diverged": lr > 20, "val_accuracy": 1.0 - abs(np.log(lr / 5.0)) / 10, "val_loss": 1.0}

    monkeypatch.setattr(rr, "fit", fake_fit)
    cfg = dataclasses.replace(Config.quick(), relu_lrs=(0.1, 0.3, 1.0), lr_widen=3.0, max_widen=1, seeds=(7, 8))
    rr.choose_lr.cache_clear()
    cfg = dataclasses.replace(cfg, tie_tol=0.001)
    once = rr.choose_lr(cfg, "relu/base")
    assert [t[0] for t in once["tried"]] == pytest.approx([0.1, 0.3, 1.0, 3.0]) and once["lr"] == 3.0
    assert once["edge"] == "high", "still at the top after the one extension allowed: must be flagged"
    rr.choose_lr.cache_clear()
    twice = rr.choose_lr(dataclasses.replace(cfg, max_widen=3), "relu/base")
    assert [t[0] for t in twice["tried"]][-1] == pytest.approx(9.0), twice
    assert twice["lr"] == 3.0 and twice["edge"] == "", f"3 beats 9 (the peak is at 5): inside the grid now, {twice}"
    flat = rr.choose_lr(dataclasses.replace(cfg, tie_tol=1.0), "relu/base")
    assert flat["edge"] == "flat" and flat["lr"] == 0.1 and len(flat["tried"]) == 3, f"all tied: no extension {flat}"
    rr.choose_lr.cache_clear()


# -- the quick run: directions of the data ------------------------------------------------------
def test_quick_run_directions(result):
    c = _checks(result)
    assert len(c) == 14 and result.verdict == verdict_from([Check.from_dict(v) for v in c.values()])
    # ⑤: the deep ReLU network trains, the deep sigmoid network with fan-in init sits at chance
    assert c["⑤ helps"]["value"] > 0.5 and c["⑤ helps"]["holds"], c["⑤ helps"]
    # ① in 4 sigmoid layers: N(0, 1) trains, fan-in N(0, 1/n) does not (the signal shrinks ~4x per layer)
    assert c["① helps (sigmoid)"]["value"] < -0.3 and not c["① helps (sigmoid)"]["holds"], c["① helps (sigmoid)"]
    # ③ is the only remedy that moves the stuck sigmoid network; ② and ④ leave it at chance
    assert c["③ helps (sigmoid)"]["value"] > 0.01, c["③ helps (sigmoid)"]
    for k in ("②", "④"):
        assert abs(c[f"{k} helps (sigmoid)"]["value"]) < 0.03, c[f"{k} helps (sigmoid)"]
    # a forced-stuck output unit: stays stuck under squared error in the sigmoid network, recovers under ④
    still = {label: m["forced-stuck output still stuck"] for label, m in result.metrics.items() if label != "checks"}
    assert still["sigmoid (base)"] > 0.9 and still["sigmoid + ④"] < 0.1 and still["ReLU + ④"] < 0.2, still
    assert c["④ un-sticks a stuck output (ReLU)"]["value"] <= 0, c["④ un-sticks a stuck output (ReLU)"]
    assert "smoke test" in result.measurement, "quick mode must say its 3 seeds cannot decide"


def test_quick_run_reports_every_arm_and_round_trips(result):
    arms = result.tables[2]["rows"]
    assert [r["arm"] for r in arms] == [a.label for a in rr.arms()]
    for r in arms:
        assert r["n"] >= 2 and float(r["learning rate"]) > 0, r
    back = Result.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.verdict == result.verdict and len(back.plots) == 4 and back.checks == result.checks
    effect_plot = result.plots[0]
    assert [s.label for s in effect_plot.series] == ["with sigmoid hidden units", "with ReLU hidden units"]
    assert effect_plot.series[1].y[0] is None, "① is not run in the ReLU row: no bar"


def test_measure_is_pure():
    cfg = dataclasses.replace(Config.quick(), epochs=2, sigmoid_lrs=(3.0,), select_seeds=(1000,))
    key = {"arm": "sigmoid/3", "seed": 1}
    assert DESIGN.measure(cfg, key) == DESIGN.measure(cfg, key)


# -- the judgement on synthetic measurements ------------------------------------------------------
def _synthetic(cfg, acc, stuck, noise=0.01, seed=0):
    """Measured runs: test accuracy ``acc[arm] + noise`` (a seed effect shared by all arms) and the
    fraction of a forced-stuck output unit's images still stuck ``stuck[arm] + noise``."""
    rng = np.random.default_rng(seed)
    shared = {s: rng.normal(0, 0.02) for s in cfg.seeds}
    out = []
    for key in DESIGN.runs(cfg):
        a, s = key["arm"], key["seed"]
        data = {
            "test_accuracy": float(np.clip(acc[a] + shared[s] + rng.normal(0, noise), 0, 1)),
            "still_stuck": float(np.clip(stuck.get(a, 0.9) + rng.normal(0, 0.02), 0, 1)),
            "diverged": False,
            "edge": "",
        }
        out.append((key, data))
    return out


# the lecture's world: ① ② ③ ④ help sigmoid units; with ReLU ② ③ ④ change nothing; ③ ④ un-stick outputs
TRUE_WORLD = {
    "sigmoid/base": 0.70,
    "sigmoid/no-1": 0.50,
    "sigmoid/2": 0.78,
    "sigmoid/3": 0.80,
    "sigmoid/4": 0.82,
    "relu/base": 0.95,
    "relu/2": 0.95,
    "relu/3": 0.95,
    "relu/4": 0.95,
}
TRUE_STUCK = {"relu/3": 0.3, "relu/4": 0.05}  # every other arm: 0.9 (stays stuck)


def test_judge_supports_the_lecture_when_the_data_say_so():
    cfg = Config()
    checks = DESIGN.judge(cfg, _synthetic(cfg, TRUE_WORLD, TRUE_STUCK))
    failed = [(c.name, c.value, c.ci, c.note) for c in checks if not c.holds]
    assert not failed and verdict_from(checks) == "supported", failed
    n = {c.name: c.n for c in checks}
    assert n.pop("① helps (sigmoid)") == 10 and n.pop("⑤ leaves a stuck output stuck") == 10, "the N(0,1) arm: 10 seeds"
    assert set(n.values()) == {20}, n


def test_negative_control_additive_effects_fail_the_interaction():
    cfg = Config()
    additive = {**TRUE_WORLD, "relu/base": 0.80, "relu/2": 0.80 + 0.08, "relu/3": 0.80 + 0.10, "relu/4": 0.80 + 0.12}
    additive["sigmoid/2"], additive["sigmoid/3"], additive["sigmoid/4"] = 0.78, 0.80, 0.82  # the same effects
    checks = {c.name: c for c in DESIGN.judge(cfg, _synthetic(cfg, additive, TRUE_STUCK))}
    for k in ("②", "③", "④"):
        inter, eq = checks[f"⑤ makes {k} useless: interaction"], checks[f"⑤ makes {k} useless: equivalence"]
        assert not inter.holds and inter.ci[0] < 0 < inter.ci[1], f"additive data: CI must cover 0, got {inter}"
        assert not eq.holds, f"a +0.08..0.12 effect with ReLU is not 'useless': {eq}"


def test_negative_control_identical_arms_fail_helps():
    cfg = Config()
    same = {**TRUE_WORLD, **{f"sigmoid/{k}": TRUE_WORLD["sigmoid/base"] for k in ("no-1", "2", "3", "4")}}
    checks = {c.name: c for c in DESIGN.judge(cfg, _synthetic(cfg, same, TRUE_STUCK))}
    for name in ("① helps (sigmoid)", "② helps (sigmoid)", "③ helps (sigmoid)", "④ helps (sigmoid)"):
        assert not checks[name].holds, f"identical arms cannot 'help': {checks[name]}"


def test_negative_control_untrained_relu_arms_are_not_judged_equivalent():
    cfg = Config()
    chance = {**TRUE_WORLD, **{f"relu/{r}": 0.10 for r in ("base", "2", "3", "4")}}
    checks = {c.name: c for c in DESIGN.judge(cfg, _synthetic(cfg, chance, TRUE_STUCK))}
    for k in ("②", "③", "④"):
        eq = checks[f"⑤ makes {k} useless: equivalence"]
        assert not eq.holds and "did not train" in eq.note, f"two arms at chance say nothing: {eq}"


def test_negative_control_output_checks_fail_when_relu_alone_unsticks():
    cfg = Config()
    recovered = {"relu/base": 0.05, "relu/3": 0.05, "relu/4": 0.05}  # ReLU alone un-sticks: ③ ④ add nothing
    checks = {c.name: c for c in DESIGN.judge(cfg, _synthetic(cfg, TRUE_WORLD, recovered))}
    for k in ("③", "④"):
        c = checks[f"{k} un-sticks a stuck output (ReLU)"]
        assert not c.holds and c.ci[0] < 0 < c.ci[1], f"same recovery with and without {k}: {c}"
    c = checks["⑤ leaves a stuck output stuck"]
    assert not c.holds and c.value < -0.8, f"ReLU recovering (0.05) vs sigmoid stuck (0.9) is not 'untouched': {c}"


def test_judge_survives_failed_runs():
    cfg = Config()
    measured = _synthetic(cfg, TRUE_WORLD, TRUE_STUCK)
    measured = [(k, {"diverged": "boom"}) if k["arm"] == "relu/3" and k["seed"] < 19 else (k, d) for k, d in measured]
    checks = {c.name: c for c in DESIGN.judge(cfg, measured)}
    inter = checks["⑤ makes ③ useless: interaction"]
    assert not inter.holds and inter.n == 1 and inter.note.startswith("not judged"), inter
    assert checks["⑤ makes ② useless: interaction"].n == 20
