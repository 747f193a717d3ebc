"""Experiment "quickprop": S′ + 0.1 is not steepest descent; Quickprop converges quicker than tuned backprop."""

import dataclasses
import json
import math

import numpy as np
import pytest

from neuronet.errors import ConfigError
from neuronet.experiments import VERDICTS, Result, get_experiment
from neuronet.experiments.design import evaluate, roundtrip
from neuronet.experiments.quickprop_encoder import Config, QuickpropEncoder, choose, runs_by
from neuronet.experiments.quickprop_runs import (
    CUT,
    LEARNED,
    METHODS,
    Stack,
    engine_network,
    grid,
    initial_weights,
    lr_grid,
    train_grid,
)
from neuronet.optim import Momentum, Quickprop

DESIGN = QuickpropEncoder()
SMALL = Config(problems=("8-3-8",), seeds=(0, 1, 2), select_seeds=(1000,), step_grid=(4.0, 16.0), momenta=(0.0, 0.5))


@pytest.fixture(scope="module")
def quick():
    exp = get_experiment("quickprop")
    return evaluate(exp.design, exp.default_config(quick=True))


def _checks(result):
    return {c["name"]: c for c in result.checks}


def _engine_epochs(spec, seed, method, lr, momentum, cfg, limit=3000):
    """Replay one trial through the engine: Network.loss_and_grads + the optimizer, criterion checked by hand."""
    offset = cfg.prime_offset if METHODS[method][1] else 0.0
    net = engine_network(spec, seed, cfg.init_range, offset)
    opt = Momentum(lr=lr, momentum=momentum) if METHODS[method][0] == "momentum" else Quickprop(lr=lr, mu=cfg.mu)
    X = np.eye(net.n_inputs)
    for epoch in range(limit + 1):
        _, out = net.loss_and_grads(X, X, return_outputs=True)
        if np.abs(out - X).max() < cfg.tolerance:
            return epoch, net
        opt.step(net.parameters)
    return None, net


# -- the stacked trials are the engine's trials ---------------------------------------------------------
@pytest.mark.parametrize("method", ["backprop", "backprop+offset", "quickprop", "quickprop+offset"])
def test_every_stacked_trial_learns_in_the_same_epoch_as_the_engine(method):
    points = train_grid("8-3-8", 3, method, SMALL)
    assert [(p["lr"], p["momentum"]) for p in points] == grid(SMALL, method)
    for p in points:
        if p["outcome"] != LEARNED:
            continue
        e, _ = _engine_epochs("8-3-8", 3, method, p["lr"], p["momentum"] or 0.0, SMALL, limit=p["epochs"] + 5)
        assert e == p["epochs"], f"{method} lr {p['lr']} momentum {p['momentum']}: engine {e}, stacked {p['epochs']}"
    assert any(p["outcome"] == LEARNED for p in points), f"{method}: no grid point learned, nothing compared"


def test_stacked_offset_gradient_equals_the_engines_prime_offset_backprop():
    cfg = Config()
    stack = Stack(initial_weights("10-5-10", 7, cfg.init_range), 1, 1)
    Y = np.eye(10)
    z1, z2 = stack.forward()
    stack.backward(Y, z1, z2, 0.1, stack.grads)
    net = engine_network("10-5-10", 7, cfg.init_range, 0.1)
    net.loss_and_grads(Y, Y)
    for name, mine, eng in zip(("W1", "b1", "W2", "b2"), stack.grads, net.grads):
        np.testing.assert_allclose(mine[0, 0], eng, rtol=1e-12, atol=1e-15, err_msg=f"{name}: S′ + 0.1 gradient")
    cos = stack.cosines(Y, z1, z2, 0.1)[0]
    assert 0 < cos < 1 - 1e-6, f"the offset direction must differ from the gradient, got cosine {cos}"
    assert stack.cosines(Y, z1, z2, 0.0)[0] == pytest.approx(1.0, abs=1e-12), "c = 0 is the gradient itself"


def test_initial_weights_are_uniform_shared_and_seeded():
    a, b = initial_weights("10-5-10", 3, 0.7), initial_weights("10-5-10", 3, 0.7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y, err_msg="every method of a seed starts from the same weights")
    flat = np.concatenate([p.ravel() for p in a])
    assert np.abs(flat).max() <= 0.7 and np.abs(a[1]).min() > 0, "weights and biases from U(±0.7)"
    other = initial_weights("10-5-10", 1003, 0.7)
    assert not np.array_equal(other[0], a[0]), "a selection seed must draw other weights"


def test_momentum_grid_covers_the_same_effective_steps_and_the_step_grid_is_sqrt2():
    assert lr_grid(1.0, 4.0) == (1.0, 1.41421, 2.0, 2.82843, 4.0)
    pts = grid(SMALL, "backprop")
    assert pts == [(4.0, 0.0), (16.0, 0.0), (2.0, 0.5), (8.0, 0.5)], "lr = step × (1 − momentum)"
    assert grid(SMALL, "quickprop") == [(4.0, None), (16.0, None)]


def test_a_run_stops_at_relative_cap_times_its_first_learning_epoch():
    cfg = dataclasses.replace(SMALL, step_grid=(0.05, 16.0), momenta=(0.0,), relative_cap=2.0)
    pts = train_grid("8-3-8", 0, "backprop", cfg)
    fast, slow = pts[1], pts[0]
    assert fast["outcome"] == LEARNED and slow["outcome"] == CUT, pts
    assert slow["stop"] == math.ceil(2.0 * fast["epochs"]), f"cut at {slow['stop']}, first learned {fast['epochs']}"


# -- the claims at quick size ----------------------------------------------------------------------------
def test_quick_directions(quick):
    checks = _checks(quick)
    for name in (
        "offset speeds up backprop (8-3-8)",
        "Quickprop beats backprop (8-3-8)",
        "Quickprop + offset beats backprop + offset (8-3-8)",
    ):
        c = checks[name]
        assert c["holds"] and c["ci"][0] > 0, f"{name}: mean ln-ratio {c['value']:.3f}, CI {c['ci']} should be > 0"
    qp = checks["Quickprop beats backprop (8-3-8)"]["value"]
    assert math.exp(qp) > 3, f"Quickprop vs tuned backprop: ×{math.exp(qp):.1f}, expected several times fewer epochs"
    cos = checks["S′ + 0.1 is not steepest descent (8-3-8)"]
    assert cos["holds"] and 0.5 < cos["value"] < 0.99, f"median cosine {cos['value']}: turned, yet downhill"


def test_quick_result_is_json_serialisable_and_presents_fahlman(quick):
    assert quick.verdict in VERDICTS
    back = Result.from_dict(json.loads(json.dumps(quick.to_dict(), allow_nan=False)))
    assert back.verdict == quick.verdict and len(back.plots) == len(quick.plots)
    titles = [t["title"] for t in quick.tables]
    fahlman = next(t for t in quick.tables if t["title"].startswith("Fahlman"))["rows"]
    assert any("order of magnitude" in r["Fahlman (1988)"] for r in fahlman), titles
    assert any(r["Fahlman (1988)"] == "not reproduced here" for r in fahlman), "unverified numbers are not quoted"
    method_rows = quick.tables[0]["rows"]
    assert {r["method"] for r in method_rows} == {
        "backprop",
        "backprop + S′ offset",
        "Quickprop",
        "Quickprop + S′ offset",
    }


# -- the judgement on synthetic runs: negative controls ----------------------------------------------------
def _synthetic(cfg, epochs_of, cosine=0.9):
    """Measured runs where every grid point of (method, role, seed) learns in ``epochs_of(method, point, seed)``."""
    measured = []
    for key in DESIGN.runs(cfg):
        pts = []
        for k, (lr, mom) in enumerate(grid(cfg, key["method"])):
            e = epochs_of(key["method"], k, key["seed"])
            cos = [cosine] * 4 if METHODS[key["method"]][1] else []
            pts.append({"lr": lr, "momentum": mom, "epochs": e, "outcome": LEARNED, "stop": 3000, "cosines": cos})
        measured.append((key, roundtrip({"points": pts})))
    return measured


def test_identical_methods_do_not_count_as_quicker():
    cfg = dataclasses.replace(SMALL, seeds=tuple(range(6)))
    same = _synthetic(cfg, lambda method, k, seed: 100 + 7 * seed + 3 * k)  # every method alike
    checks = {c.name: c for c in DESIGN.judge(cfg, same)}
    for name in ("offset speeds up backprop (8-3-8)", "Quickprop beats backprop (8-3-8)"):
        assert not checks[name].holds, f"{name}: identical epochs must not 'converge quicker' ({checks[name].ci})"
    faster = _synthetic(cfg, lambda method, k, seed: (30 if method.startswith("quick") else 100) + seed % 3)
    assert {c.name: c for c in DESIGN.judge(cfg, faster)}["Quickprop beats backprop (8-3-8)"].holds


@pytest.mark.parametrize("cosine", [0.999, -0.2])
def test_direction_check_fails_for_the_gradient_itself_or_an_uphill_direction(cosine):
    cfg = dataclasses.replace(SMALL, seeds=tuple(range(6)))
    measured = _synthetic(cfg, lambda method, k, seed: 50 + seed, cosine=cosine)
    c = {c.name: c for c in DESIGN.judge(cfg, measured)}["S′ + 0.1 is not steepest descent (8-3-8)"]
    assert not c.holds, f"cosine {cosine}: the check must fail (value {c.value}, CI {c.ci})"


def test_the_step_size_is_chosen_on_selection_seeds_only():
    cfg = dataclasses.replace(SMALL, seeds=tuple(range(4)))

    def epochs(method, k, seed):  # grid point 0 wins on selection seeds, grid point 1 on test seeds
        return (20 if k == 0 else 90) if seed >= 1000 else (90 if k == 0 else 20)

    chosen = choose(runs_by(_synthetic(cfg, epochs), cfg), cfg)
    assert all(ch["index"] == 0 for ch in chosen.values()), "test seeds must not influence the choice"


def test_bad_configs_are_refused():
    with pytest.raises(ConfigError, match="disjoint"):
        DESIGN.runs(dataclasses.replace(Config.quick(), select_seeds=(0, 1000)))
    with pytest.raises(ConfigError, match="8-3-7"):
        DESIGN.runs(dataclasses.replace(Config.quick(), problems=("8-3-7",)))
