"""Memory in synapses: Hebbian plasticity, Hopfield networks, Dale's principle, lesions."""

import numpy as np
import pytest

from neuronet import mlp
from neuronet.bio.hopfield import GrandmotherStore, Hopfield, flip_bits, overlap, random_patterns, relax_async, sign
from neuronet.bio.lesion import cut_synapses, silence_units
from neuronet.bio.plasticity import (
    abs_cosine,
    anti_hebb_update,
    correlated_gaussian,
    first_principal_component,
    hebb_update,
    oja_update,
    run_rule,
)


# -- plasticity ------------------------------------------------------------------------------------
def test_rules_one_step_by_hand():
    # w = (1, 0), x = (2, 1): y = w·x = 2; η = 0.5
    w, x, y, eta = np.array([1.0, 0.0]), np.array([2.0, 1.0]), 2.0, 0.5
    assert np.allclose(hebb_update(w, x, y, eta), [2.0, 1.0]), "Hebb: Δw = η x y = 0.5·2·(2, 1)"
    assert np.allclose(anti_hebb_update(w, x, y, eta), [-2.0, -1.0]), "anti-Hebb: Δw = −η x y"
    # Oja: η y (x − y w) = 0.5·2·((2, 1) − 2·(1, 0)) = (0, 1)
    assert np.allclose(oja_update(w, x, y, eta), [0.0, 1.0])


def _cloud(seed=0, n=1500, dim=5):
    X, _ = correlated_gaussian(n, dim, np.random.default_rng(seed), top_variance=2.0, ratio=0.4)
    return X - X.mean(axis=0)


def test_hebb_norm_grows_monotonically_without_bound():
    X = _cloud()
    w0 = np.full(X.shape[1], 0.05)
    tr = run_rule("hebb", X, w0, eta=0.01, epochs=3, rng=np.random.default_rng(1))
    steps = np.diff(tr.norms)
    assert (steps >= 0).all(), f"|w| decreased at update {np.argmin(steps)}"
    assert tr.norms[-1] > 1e6 * tr.norms[0], f"|w| grew only {tr.norms[-1] / tr.norms[0]:.3g}x"
    n = X.shape[0]
    last, before = tr.norms[-1], tr.norms[-1 - n]
    assert last > 10 * before, "still growing fast in the last epoch: no sign of a bound"


def test_oja_converges_to_unit_norm_and_first_principal_component():
    X = _cloud()
    pc1 = first_principal_component(X)
    assert np.isclose(np.linalg.norm(pc1), 1.0)
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=X.shape[1]) * 0.1
    tr = run_rule("oja", X, w0, eta=0.01, epochs=15, rng=rng, eta_decay_updates=X.shape[0])
    assert abs(np.linalg.norm(tr.w) - 1.0) < 0.02, f"|w| = {np.linalg.norm(tr.w):.4f}, expected 1"
    cos = abs_cosine(tr.w, pc1)
    assert cos >= 0.99, f"|cos(w, PC1)| = {cos:.4f}"
    # the same start under plain Hebb explodes along the same direction
    hebb = run_rule("hebb", X, w0, eta=0.01, epochs=15, rng=np.random.default_rng(2), eta_decay_updates=X.shape[0])
    assert hebb.norms[-1] > 1e6


def test_anti_hebb_silences_the_correlated_drive():
    X = _cloud()
    w0 = np.random.default_rng(3).normal(size=X.shape[1])
    tr = run_rule("anti-hebb", X, w0, eta=0.005, epochs=5, rng=np.random.default_rng(3))
    assert np.var(X @ tr.w) < 0.05 * np.var(X @ w0), "anti-Hebb should shrink the output variance"


# -- Hopfield --------------------------------------------------------------------------------------
def test_sign_of_zero_is_plus_one_and_decides_ties():
    assert sign(np.array([0.0, -0.0, 1e-300, -1e-300, 3.0])).tolist() == [1, 1, 1, -1, 1]
    # ξ1 = (1, 1, 1), ξ2 = (1, 1, −1): J01 = 2, J02 = J12 = 0 -> neuron 2 has field exactly 0
    net = Hopfield(np.array([[1, 1, 1], [1, 1, -1]]))
    assert net.J.tolist() == [[0, 2, 0], [2, 0, 0], [0, 0, 0]]
    s = np.array([1.0, 1.0, -1.0])
    assert net.field(s)[2] == 0.0
    assert not net.is_fixed_point(s), "h = 0 with s = −1: sign(0) = +1 makes the neuron flip"
    assert net.is_fixed_point([1.0, 1.0, 1.0])
    assert net.recall_async(s, np.random.default_rng(0)).states.tolist() == [1, 1, 1]
    assert net.recall_sync(s).states.tolist() == [1, 1, 1]
    assert net.recall_async_batch(np.stack([s, s]), np.random.default_rng(0)).states.tolist() == [[1, 1, 1]] * 2
    for seed in range(6):  # window=1: the tie is also found beyond the look-ahead
        final, sweeps = relax_async(net.J[None], [0], s[None], np.random.default_rng(seed), window=1)
        assert final.tolist() == [[1, 1, 1]] and sweeps.tolist() == [1], "one sweep flips the tied neuron"


def test_stored_patterns_are_fixed_points_far_below_capacity():
    rng = np.random.default_rng(0)
    xi = random_patterns(10, 500, rng)  # P/N = 0.02 ≪ 0.138
    net = Hopfield(xi)
    assert np.allclose(net.W, net.W.T) and np.all(np.diag(net.W) == 0)
    assert np.allclose(net.W, xi.T @ xi / 500 - np.eye(500) * 10 / 500)
    assert net.is_fixed_point(xi).all()
    rec = net.recall_async_batch(xi, rng)
    assert np.array_equal(rec.states, xi) and (rec.sweeps == 0).all()


@pytest.mark.parametrize("n_patterns", [20, 40])  # below and above capacity for N = 200
def test_asynchronous_updates_never_increase_the_energy(n_patterns):
    rng = np.random.default_rng(n_patterns)
    N = 200
    xi = random_patterns(n_patterns, N, rng)
    net = Hopfield(xi)
    W = net.W
    s = flip_bits(xi[0], 0.3, rng)
    # an independent loop: one neuron at a time, energy recomputed from scratch after each update
    E = -0.5 * s @ W @ s
    updates = 0
    for _ in range(50):
        changed = False
        for i in rng.permutation(N):
            new = 1.0 if net.J[i] @ s >= 0 else -1.0  # the exact integer field: sign(0) = +1
            changed |= new != s[i]
            s[i] = new
            E_new = -0.5 * s @ W @ s
            assert E_new <= E + 1e-12, f"energy rose from {E} to {E_new} at update {updates}"
            E, updates = E_new, updates + 1
        if not changed:
            break
    assert net.is_fixed_point(s)
    # the library's trace: energy after every single-neuron update
    rec = net.recall_async(flip_bits(xi[0], 0.3, rng), rng, trace_energy=True)
    assert (np.diff(rec.energies) <= 0).all()
    assert len(rec.energies) == N * (rec.sweeps + 1) + 1 or not rec.converged
    assert np.isclose(rec.energies[-1], net.energy(rec.states))


def test_batch_recall_equals_the_one_neuron_at_a_time_reference():
    rng = np.random.default_rng(5)
    xi = random_patterns(30, 200, rng)  # P/N = 0.15: long, wandering recalls
    net = Hopfield(xi)
    for k in range(5):
        cue = flip_bits(xi[k], 0.25, rng)
        ref = net.recall_async(cue, np.random.default_rng(100 + k))
        fast = net.recall_async_batch(cue, np.random.default_rng(100 + k))
        assert np.array_equal(ref.states, fast.states) and ref.sweeps == fast.sweeps
        for window in (1, 4):  # the look-ahead changes the speed, never the result
            final, sweeps = relax_async(net.J[None], [0], cue[None], np.random.default_rng(100 + k), window=window)
            assert np.array_equal(final[0], ref.states) and sweeps[0] == ref.sweeps
    cues = flip_bits(xi[:8], 0.3, rng)
    rec = net.recall_async_batch(cues, rng)
    assert rec.converged.all() and net.is_fixed_point(rec.states).all()
    assert (net.energy(rec.states) <= net.energy(cues)).all()
    # several networks at once: each state relaxes in its own network
    J2 = np.stack([net.J, Hopfield(xi[:5]).J])
    final, _ = relax_async(J2, np.array([0, 1]), np.stack([xi[0], xi[1]]), rng)
    assert np.array_equal(final[1], xi[1]), "pattern 1 is a fixed point of the 5-pattern network"


@pytest.mark.parametrize("flip", [0.1, 0.2, 0.3])
def test_recall_from_flipped_cues_below_capacity(flip):
    rng = np.random.default_rng(7)
    xi = random_patterns(25, 500, rng)  # P/N = 0.05
    net = Hopfield(xi)
    cues = flip_bits(xi, flip, rng)
    assert np.allclose(overlap(xi, cues), 1 - 2 * flip)
    m = overlap(xi, net.recall_async_batch(cues, rng).states)
    assert m.mean() >= 0.95, f"mean overlap {m.mean():.3f} from {flip:.0%} flipped bits"


def test_neuron_death_hopfield_degrades_gracefully_grandmother_cells_do_not():
    rng = np.random.default_rng(11)
    N, P = 500, 25
    xi = random_patterns(P, N, rng)
    net = Hopfield(xi)
    J_before = net.J.copy()
    survivors, alive = net.remove_neurons(0.3, rng)
    assert np.array_equal(net.J, J_before), "the original network is not changed"
    assert alive.sum() == 350 and survivors.J.shape == (350, 350)
    assert np.array_equal(survivors.patterns, xi[:, alive])
    cues = flip_bits(survivors.patterns, 0.1, rng)
    m = overlap(survivors.patterns, survivors.recall_async_batch(cues, rng).states)
    store = GrandmotherStore(P, N)
    kept = store.recall_overlaps(alive)
    assert m.mean() >= 0.95, f"Hopfield overlap with 30% dead: {m.mean():.3f}"
    assert kept.mean() <= 0.85, f"grandmother store kept {kept.mean():.2f} of its memories with 30% dead"
    # one grandmother cell's death erases exactly its memory; one Hopfield neuron's death erases nothing
    one_dead = np.ones(N, bool)
    one_dead[3] = False
    assert store.recall_overlaps(one_dead).tolist() == [0.0 if mu == 3 else 1.0 for mu in range(P)]
    alone = Hopfield.from_couplings(net.J[np.ix_(one_dead, one_dead)], xi[:, one_dead], N)
    assert (overlap(alone.patterns, alone.recall_async_batch(alone.patterns, rng).states) == 1.0).all()
    # with N // P neurons per memory a lookup table forgets only when all of them die
    redundant = GrandmotherStore(P, N, copies=N // P)
    assert redundant.recall_overlaps(one_dead).all()


# -- lesions ---------------------------------------------------------------------------------------
def test_silenced_units_output_zero_get_no_gradient_and_the_original_is_untouched(rng):
    net = mlp([8, 20, 12, 3], hidden="sigmoid", seed=0)
    before = net.get_weights()
    X = rng.normal(size=(16, 8)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.integers(3, size=16)]
    out_before = net.predict(X)
    les = silence_units(net, 0.25, np.random.default_rng(1))
    assert all(L.unit_mask is None for L in net.layers), "the caller's network got a mask"
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
    assert np.array_equal(net.predict(X), out_before)
    dead = [np.flatnonzero(L.unit_mask == 0) for L in les.layers[:-1]]
    assert [d.size for d in dead] == [5, 3], "round(0.25 · n) units per hidden layer"
    assert les.layers[-1].unit_mask is None, "output units are not lesioned"
    acts = les.activations(X)
    for z, d in zip(acts, dead):
        assert np.all(z[:, d] == 0.0), "a silenced unit outputs exactly 0"
    les.loss_and_gradients(X, Y)
    gW0, gb0, gW1, gb1 = les.grads[:4]
    assert np.all(gW0[:, dead[0]] == 0) and np.all(gb0[dead[0]] == 0), "no gradient into a silenced unit"
    assert np.all(gW1[dead[0], :] == 0), "no gradient through the synapses out of a silenced unit"
    assert np.all(gW1[:, dead[1]] == 0) and np.all(gb1[dead[1]] == 0)
    assert np.any(gW0 != 0)
    assert not np.array_equal(les.predict(X), out_before)
    # lesioning again keeps the old lesions
    les2 = silence_units(les, 0.25, np.random.default_rng(2))
    assert np.all(les2.layers[0].unit_mask[dead[0]] == 0)


def test_cut_synapses_zeroes_an_exact_fraction_of_a_copy():
    net = mlp([10, 20, 4], seed=0)
    before = net.get_weights()
    cut = cut_synapses(net, 0.3, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
    for L, W0 in zip(cut.layers, before[::2]):
        newly_zero = np.count_nonzero((L.W == 0) & (W0 != 0))
        assert newly_zero == round(0.3 * W0.size)
    assert all(np.array_equal(L.b, b0) for L, b0 in zip(cut.layers, before[1::2])), "biases are not synapses"
    with pytest.raises(ValueError, match="fraction"):
        cut_synapses(net, 1.5, np.random.default_rng(0))


# The experiments built on these blocks (hebb, hopfield, dale, lesion) are Designs with their own tests:
# tests/test_exp_hebb.py, tests/test_exp_hopfield.py, tests/test_exp_dale.py, tests/test_exp_lesion.py.


def test_hopfield_methods_name_a_state_of_the_wrong_size_or_with_non_spin_entries():
    from neuronet.errors import ConfigError

    rng = np.random.default_rng(0)
    net = Hopfield(np.where(rng.random((2, 20)) < 0.5, -1.0, 1.0))
    for method in (net.field, net.energy, net.is_fixed_point, net.recall_sync):
        with pytest.raises(ConfigError, match=r"expected shape \(20,\) or \(K, 20\), got \(7,\)"):
            method(np.ones(7))
    for bad in (np.full(20, 0.5), np.r_[np.nan, np.ones(19)]):
        with pytest.raises(ConfigError, match=r"every entry must be -1 or \+1"):
            net.recall_sync(bad)
        with pytest.raises(ConfigError, match=r"every entry must be -1 or \+1"):
            net.recall_async(bad, rng)
        with pytest.raises(ConfigError, match=r"every entry must be -1 or \+1"):
            net.recall_async_batch(bad[None], rng)
    assert net.recall_sync(net.patterns[0]).states.shape == (20,)  # a stored pattern still recalls


def test_run_rule_refuses_non_finite_inputs_and_rates():
    from neuronet.bio.plasticity import run_rule
    from neuronet.errors import ConfigError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    w0 = np.ones(3) / 3
    X_nan = X.copy()
    X_nan[2, 1] = np.nan
    for kw, needle in [
        ({"eta": np.nan, "epochs": 1}, "eta: must be a finite number"),
        ({"eta": 0.01, "epochs": -1}, "epochs: must be an integer >= 0"),
        ({"eta": 0.01, "epochs": 1, "eta_decay_updates": 0}, "eta_decay_updates: must be a finite number > 0"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            run_rule("oja", X, w0, rng=rng, **kw)
    with pytest.raises(ConfigError, match="X: contains NaN or infinity"):
        run_rule("oja", X_nan, w0, eta=0.01, epochs=1, rng=rng)
