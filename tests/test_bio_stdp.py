"""Plasticity the lecture states: pair-based STDP (signs, decay, LIF pairings, a negative control) and
structural plasticity (co-active unconnected neurons grow connections; unused ones are pruned)."""

import math

import numpy as np
import pytest

from neuronet.bio.stdp import (
    A_MINUS,
    A_PLUS,
    expected_dw_independent,
    offset_poisson_trains,
    pairing_protocol,
    poisson_train,
    stdp_dw,
    train_dw,
)
from neuronet.bio.structural import StructuralConfig, StructuralNetwork, assembly_activity
from neuronet.errors import ConfigError
from neuronet.stats import mean_ci

DTS = np.array([1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0])  # ms


# -- the window ----------------------------------------------------------------------------------
def test_window_hand_worked():
    # Song, Miller & Abbott 2000: a+ = 0.005, a− = 1.05 a+, tau = 20 ms
    assert stdp_dw(10.0) == pytest.approx(0.005 * math.exp(-0.5), rel=1e-12)
    assert stdp_dw(-10.0) == pytest.approx(-0.00525 * math.exp(-0.5), rel=1e-12)
    assert stdp_dw(0.0) == 0.0, "a tie has no order: dw(0) = 0 by convention"
    assert stdp_dw(17.0, a_plus=1.0, tau_plus_ms=17.0) == pytest.approx(math.exp(-1))
    assert stdp_dw(-34.0, a_minus=1.0, tau_minus_ms=34.0) == pytest.approx(-math.exp(-1))


def test_excitatory_causal_strengthens_and_anticausal_weakens():
    assert (stdp_dw(DTS) > 0).all(), "pre before post (dt > 0) must potentiate an excitatory synapse"
    assert (stdp_dw(-DTS) < 0).all(), "post before pre (dt < 0) must depress an excitatory synapse"


def test_inhibitory_rule_is_the_sign_reversed_window():
    inh = stdp_dw(np.concatenate([-DTS, DTS]), synapse="inhibitory")
    exc = stdp_dw(np.concatenate([-DTS, DTS]))
    np.testing.assert_array_equal(inh, -exc)
    assert (stdp_dw(DTS, synapse="inhibitory") < 0).all(), "causal pairing weakens an inhibitory synapse"
    assert (stdp_dw(-DTS, synapse="inhibitory") > 0).all(), "anti-causal pairing strengthens it"


def test_vogels_symmetric_rule_potentiates_both_orders():
    sym = stdp_dw(np.concatenate([-DTS, DTS]), synapse="inhibitory-symmetric")
    assert (sym > 0).all()
    np.testing.assert_allclose(
        stdp_dw(DTS, synapse="inhibitory-symmetric"), stdp_dw(-DTS, synapse="inhibitory-symmetric")
    )


@pytest.mark.parametrize("synapse", ["excitatory", "inhibitory", "inhibitory-symmetric"])
def test_magnitude_decays_with_the_delay(synapse):
    for side in (1.0, -1.0):
        mag = np.abs(stdp_dw(side * DTS, synapse=synapse))
        assert (np.diff(mag) < 0).all(), f"{synapse}, dt sign {side:+.0f}: |dw| must fall with |dt|, got {mag}"
    assert abs(stdp_dw(200.0, synapse=synapse)) < 1e-4 * abs(stdp_dw(1.0, synapse=synapse))


def test_window_refuses_bad_parameters():
    with pytest.raises(ConfigError, match="unknown synapse"):
        stdp_dw(1.0, synapse="gabaergic")
    with pytest.raises(ConfigError, match="tau_plus_ms"):
        stdp_dw(1.0, tau_plus_ms=0.0)
    with pytest.raises(ConfigError, match="a_minus"):
        stdp_dw(1.0, a_minus=-0.1)


# -- sums over spike trains ----------------------------------------------------------------------
def test_train_dw_equals_the_all_pairs_sum():
    rng = np.random.default_rng(0)
    pre, post = np.sort(rng.uniform(0, 3000, 200)), np.sort(rng.uniform(0, 3000, 150))
    brute = stdp_dw(post[None, :] - pre[:, None]).sum()  # (n_pre, n_post) every pair
    assert train_dw(pre, post, cutoff_taus=np.inf) == pytest.approx(brute, rel=1e-12)
    assert train_dw(pre, post) == pytest.approx(brute, rel=1e-4), "12 tau cutoff drops terms < 6e-6 of the peak"
    assert train_dw(pre[::-1], post) == pytest.approx(train_dw(pre, post)), "order of the input does not matter"
    assert train_dw([], post) == 0.0 and train_dw(pre, []) == 0.0
    inh = train_dw(pre, post, synapse="inhibitory")
    assert inh == pytest.approx(-train_dw(pre, post), rel=1e-12)


def test_vogels_rule_drives_the_post_rate_to_its_target():
    # independent trains: E Δw per pre spike = a+ (2 tau r_post − alpha); zero at r_post = rho0
    rho0_per_ms, tau = 5.0 / 1000, 20.0
    alpha = 2 * rho0_per_ms * tau
    rng = np.random.default_rng(1)
    for post_hz, sign in ((20.0, 1.0), (1.0, -1.0)):
        pre, post = poisson_train(20.0, 20_000.0, rng), poisson_train(post_hz, 20_000.0, rng)
        dw = train_dw(pre, post, synapse="inhibitory-symmetric", alpha=alpha)
        assert sign * dw > 0, (
            f"post at {post_hz} Hz vs target 5 Hz: inhibition should {'grow' if sign > 0 else 'shrink'}"
        )


# -- the pairing protocol on LIF neurons ---------------------------------------------------------
@pytest.mark.parametrize("offset_ms", [-20.0, -5.0, 5.0, 20.0])
def test_lif_pairing_sign_and_magnitude(offset_ms):
    exc = pairing_protocol(offset_ms, n_pairs=20)
    assert exc.measured_offset_ms == pytest.approx(offset_ms, abs=0.05), "both neurons fire one latency after the pulse"
    assert exc.pre_ms.size == exc.post_ms.size == 20, "one spike per neuron per pairing"
    assert exc.dw == pytest.approx(20 * stdp_dw(offset_ms), rel=1e-3)
    assert math.copysign(1.0, exc.dw) == math.copysign(1.0, offset_ms), "excitatory: causal +, anti-causal −"
    inh = pairing_protocol(offset_ms, n_pairs=20, synapse="inhibitory")
    assert inh.dw == pytest.approx(-exc.dw), "inhibitory: the reverse"


def test_lif_pairing_with_jitter_decays_with_the_offset():
    rng = np.random.default_rng(2)
    dws = [pairing_protocol(off, n_pairs=30, jitter_ms=1.0, rng=rng).dw for off in (5.0, 15.0, 40.0)]
    assert dws[0] > dws[1] > dws[2] > 0, f"causal pairings weaken with the delay, got {dws}"
    with pytest.raises(ConfigError, match="rng"):
        pairing_protocol(5.0, jitter_ms=1.0)


# -- Poisson trains and the negative control -----------------------------------------------------
def test_offset_poisson_trains_follow_the_pre_train():
    rng = np.random.default_rng(3)
    pre, post = offset_poisson_trains(20.0, 10_000.0, 7.0, rng)
    assert pre.size == pytest.approx(200, rel=0.25)
    lag = post[:, None] - pre[None, :]  # (n_post, n_pre)
    assert np.isclose(lag, 7.0).any(axis=1).all(), "every post spike is a pre spike 7 ms later"


def test_uncorrelated_trains_give_the_balanced_expectation_not_causal_potentiation():
    # per-trial sd ≈ 0.023 against an expectation of −0.005: 400 trials give a 99% CI of ±0.003
    rate, T = 10.0, 10_000.0
    rng = np.random.default_rng(4)

    def trial_dws(p_follow, trials=400, **window):
        return [
            pairing_protocol(
                5.0, neuron="poisson", rng=rng, rate_hz=rate, duration_ms=T, p_follow=p_follow,
                background_hz=rate * (1 - p_follow), **window,
            ).dw
            for _ in range(trials)
        ]  # fmt: skip

    expected = expected_dw_independent(rate, rate, T)
    assert expected == pytest.approx(1e-4 * (A_PLUS - A_MINUS) * 20 * T, rel=1e-2), "depression dominates slightly"
    null = mean_ci(trial_dws(0.0), confidence=0.99)
    assert null.ci[0] < expected < null.ci[1], f"independent trains: CI {null.ci} should cover {expected:.4g}"
    balanced = mean_ci(trial_dws(0.0, a_minus=A_PLUS), confidence=0.99)  # a− τ− = a+ τ+: expectation exactly 0
    assert balanced.ci[0] < 0.0 < balanced.ci[1], f"balanced window: CI {balanced.ci} should cover 0"
    # the same check on causally correlated trains (same rates) must fail: the control can fail
    causal = mean_ci(trial_dws(0.3, trials=100), confidence=0.99)
    assert causal.ci[0] > expected + 10 * null.se, f"causal trains: CI {causal.ci} should sit far above {expected:.4g}"


# -- structural plasticity -----------------------------------------------------------------------
N_NEURONS = 30
GROUPS = [np.arange(0, 10), np.arange(10, 20), np.arange(20, 30)]


def _same_group():
    same = np.zeros((N_NEURONS, N_NEURONS), dtype=bool)
    for g in GROUPS:
        same[np.ix_(g, g)] = True
    np.fill_diagonal(same, False)
    return same


def test_coactive_unconnected_neurons_grow_connections():
    rng = np.random.default_rng(10)
    activity = assembly_activity(N_NEURONS, GROUPS, 1000, rng, p_group=0.4)  # co-activity ≈ 0.36 within, ≈ 0.15 across
    net = StructuralNetwork(N_NEURONS)
    assert net.n_synapses == 0, "no synapses at the start"
    run = net.run(activity, rng)
    same = _same_group()
    across = ~same & ~np.eye(N_NEURONS, dtype=bool)
    within_rate, across_rate = run.grown[same].mean(), run.grown[across].mean()
    assert within_rate > 0.9 and across_rate < 0.02, f"grown within groups {within_rate:.3f}, across {across_rate:.3f}"
    assert (net.weights[net.mask] == net.config.w_init).all() and (net.weights[~net.mask] == 0).all()
    assert run.n_synapses[-1] == net.n_synapses == run.n_grown.sum()
    assert not net.mask.diagonal().any(), "no self-connections"


def test_negative_control_no_coactive_pairs_grow_almost_nothing():
    # the same firing rate per neuron (≈ 0.4), but independent: co-activity ≈ 0.16 < threshold 0.3
    rng = np.random.default_rng(11)
    activity = (rng.random((1000, N_NEURONS)) < 0.4).astype(float)
    run = StructuralNetwork(N_NEURONS).run(activity, rng)
    pairs = N_NEURONS * (N_NEURONS - 1)
    assert run.grown.sum() <= 0.01 * pairs, f"{run.grown.sum()} of {pairs} independent pairs grew a synapse"


def test_unused_synapses_are_pruned_and_used_ones_kept():
    rng = np.random.default_rng(12)
    groups = GROUPS[:2]  # neurons 20..29 fire only from the 2% background
    activity = assembly_activity(N_NEURONS, groups, 600, rng, p_group=0.4)
    full = ~np.eye(N_NEURONS, dtype=bool)
    cfg = StructuralConfig(p_prune=0.05)
    net = StructuralNetwork(N_NEURONS, cfg, mask=full)
    run = net.run(activity, rng)
    silent = np.zeros((N_NEURONS, N_NEURONS), dtype=bool)
    silent[20:, :] = silent[:, 20:] = True
    silent &= full
    assert run.pruned[silent].mean() > 0.95, f"synapses of silent neurons pruned: {run.pruned[silent].mean():.3f}"
    assert not run.pruned[_same_group() & ~silent].any(), "synapses inside an active assembly are used: kept"
    assert (run.n_pruned[: 3 * int(cfg.tau_steps)] == 0).all(), "no pruning while the trace fills"


def test_structural_refuses_bad_input():
    with pytest.raises(ConfigError, match="prune_threshold"):
        StructuralConfig(grow_threshold=0.1, prune_threshold=0.2)
    with pytest.raises(ConfigError, match="p_grow"):
        StructuralConfig(p_grow=1.5)
    with pytest.raises(ConfigError, match="mask must have shape"):
        StructuralNetwork(4, mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(ConfigError, match="activity"):
        StructuralNetwork(4).step(np.array([0.0, 2.0, 0.0, 0.0]), np.random.default_rng(0))
