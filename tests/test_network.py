"""Network: a hand-worked SGD step, masks, dropout, dtype, determinism, bad input."""

import numpy as np
import pytest

from neuronet import SGD, Dense, Network, Trainer, mlp
from neuronet.errors import ConfigError


def test_one_sgd_step_on_a_2_2_1_sigmoid_network_worked_by_hand():
    # Network: x (2) -> 2 sigmoid hidden units -> 1 sigmoid output, squared error, one sample.
    net = mlp([2, 2, 1], hidden="sigmoid", output="sigmoid", loss="squared-error", dtype=np.float64, seed=0)
    W1, b1, W2, b2 = net.params
    W1[...] = [[0.1, 0.2], [0.3, 0.4]]  # W1[i, j]: input i -> hidden j
    b1[...] = [0.1, -0.1]
    W2[...] = [[0.5], [-0.6]]
    b2[...] = [0.2]
    x = np.array([[1.0, 0.5]])
    y = np.array([[1.0]])
    # Forward:
    #   a1 = x W1 + b1 = [1*0.1 + 0.5*0.3 + 0.1, 1*0.2 + 0.5*0.4 - 0.1] = [0.35, 0.30]
    #   h  = S(a1)     = [0.586617576, 0.574442517]
    #   a2 = h W2 + b2 = 0.586617576*0.5 - 0.574442517*0.6 + 0.2 = 0.148643278
    #   z  = S(a2)     = 0.537092548
    #   L  = 1/2 (z - y)^2 = 1/2 (-0.462907452)^2 = 0.107141654
    # Backward:
    #   d2 = (z - y) z (1 - z) = -0.462907452 * 0.537092548 * 0.462907452 = -0.115089968
    #   dL/dW2 = h^T d2 = [-0.067513802, -0.066112571];  dL/db2 = -0.115089968
    #   dL/dh  = d2 W2^T = [-0.057544984, 0.069053981]
    #   d1 = dL/dh * h (1 - h) = [-0.057544984 * 0.242497395, 0.069053981 * 0.244458312]
    #      = [-0.0139545087, 0.0168808196]
    #   dL/dW1 = x^T d1 = [[-0.0139545087, 0.0168808196], [-0.0069772544, 0.0084404098]]
    # SGD step with lr = 0.5: w <- w - 0.5 * dL/dw
    loss = net.loss_and_gradients(x, y)
    assert loss == pytest.approx(0.107141654, abs=1e-9)
    np.testing.assert_allclose(net.grads[2].ravel(), [-0.067513802, -0.066112571], atol=1e-9)
    np.testing.assert_allclose(net.grads[0], [[-0.0139545087, 0.0168808196], [-0.0069772544, 0.0084404098]], atol=1e-10)
    np.testing.assert_allclose(net.grads[1], [-0.0139545087, 0.0168808196], atol=1e-10)
    SGD(lr=0.5).step(net.params, net.grads)
    np.testing.assert_allclose(W1, [[0.1069772544, 0.1915595902], [0.3034886272, 0.3957797951]], atol=1e-10)
    np.testing.assert_allclose(b1, [0.1069772544, -0.1084404098], atol=1e-10)
    np.testing.assert_allclose(W2.ravel(), [0.5337568993, -0.5669437145], atol=1e-10)
    np.testing.assert_allclose(b2, [0.2575449841], atol=1e-10)
    # and the step lowered the loss, as a gradient step with a small enough rate must
    assert net.loss_and_gradients(x, y) < loss


def test_lesioned_units_output_exactly_zero_and_get_no_gradient(rng):
    net = mlp([4, 6, 3], hidden="sigmoid", output="softmax", dtype=np.float64, seed=1)
    mask = np.array([1, 0, 1, 1, 0, 1])
    net.layers[0].set_unit_mask(mask)
    X = rng.normal(size=(8, 4))
    Y = np.eye(3)[rng.integers(0, 3, 8)]
    acts = net.activations(X)
    assert (acts[0][:, mask == 0] == 0).all() and (acts[0][:, mask == 1] != 0).all()
    net.loss_and_gradients(X, Y)
    assert (net.grads[0][:, mask == 0] == 0).all() and (net.grads[1][mask == 0] == 0).all()
    assert (np.abs(net.grads[0][:, mask == 1]) > 0).all()
    # downstream weights out of a dead unit get no gradient either (its output is 0)
    assert (net.grads[2][mask == 0] == 0).all()
    with pytest.raises(ConfigError, match="unit_mask"):
        net.layers[0].set_unit_mask([1, 0])


def test_dropout_zeroes_a_fraction_and_scales_survivors_only_in_training(rng):
    net = mlp([10, 400, 2], hidden="relu", output="softmax", dropout=0.25, seed=0)
    X = np.abs(rng.normal(size=(50, 10))).astype(np.float32)
    pre = net.activations(X)[0]  # prediction mode: the hidden outputs before dropout
    Y = np.eye(2, dtype=np.float32)[np.arange(50) % 2]
    _, acts = net.loss_and_grads(X, Y, train=True, rng=np.random.default_rng(0), return_activations=True)
    h_train = acts[0].copy()
    live = pre > 0
    dropped = (h_train == 0) & live
    assert dropped.sum() / live.sum() == pytest.approx(0.25, abs=0.02)
    np.testing.assert_allclose(h_train[~dropped & live], pre[~dropped & live] / 0.75, rtol=1e-6)
    out_eval = net.forward(X)
    assert np.array_equal(out_eval, net.forward(X)), "prediction must be deterministic"


def test_float32_stays_float32_end_to_end():
    net = mlp([5, 7, 3], hidden="tanh", output="softmax", dtype=np.float32, seed=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))  # float64 input is converted once
    y = rng.integers(0, 3, 40)
    for opt in ["sgd", "momentum", "nesterov", "adam", "quickprop"]:
        net2 = mlp([5, 7, 3], hidden="tanh", output="softmax", dtype=np.float32, seed=0)
        tr = Trainer(net2, opt, lr=0.01, epochs=2, batch_size=16, validation_split=0.2)
        tr.fit(X, y)
        arrays = net2.params + net2.grads + [net2.forward(X), net2.predict(X)] + net2.activations(X)
        for arrs in (getattr(tr.optimizer, n) for n in tr.optimizer.state_names):
            arrays += list(arrs)
        assert {a.dtype for a in arrays} == {np.dtype(np.float32)}, opt
    assert net.forward(X).dtype == np.float32


def test_float64_on_request():
    net = mlp([3, 4, 2], dtype=np.float64, seed=0)
    assert net.forward(np.ones((2, 3), np.float32)).dtype == np.float64
    with pytest.raises(ConfigError, match="float32 or float64"):
        mlp([3, 2], dtype=np.float16)


def test_same_seed_gives_bit_identical_weights():
    def run(seed):
        rng = np.random.default_rng(3)
        X = rng.normal(size=(100, 6)).astype(np.float32)
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
        net = mlp([6, 8, 8, 3], hidden="relu", dropout=0.2, seed=seed)
        Trainer(net, "momentum", lr=0.05, epochs=3, batch_size=10, seed=seed, validation_split=0.1).fit(X, y)
        return net.get_weights()

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)), "same seed, different weights"
    assert not all(np.array_equal(x, y) for x, y in zip(a, c)), "different seeds gave the same weights"


def test_bad_input_raises_valueerror_naming_the_problem():
    net = mlp([4, 3, 2], seed=0)
    with pytest.raises(ValueError, match="has 5 features, but the network expects 4"):
        net.forward(np.zeros((2, 5)))
    X = np.zeros((3, 4))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity \(first at row 1, column 2\)"):
        net.forward(X)
    with pytest.raises(ValueError, match="2-D"):
        net.forward(np.zeros(4))
    tr = Trainer(net, "sgd", epochs=1)
    with pytest.raises(ValueError, match=r"class labels must be integers in \[0, 2\).*got 5"):
        tr.fit(np.zeros((3, 4)), np.array([0, 1, 5]))
    with pytest.raises(ValueError, match=r"class labels must be integers in \[0, 2\).*got -1"):
        tr.fit(np.zeros((3, 4)), np.array([0, -1, 1]))
    with pytest.raises(ValueError, match="y: has 2 rows, but X has 3"):
        tr.fit(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match="layer sizes do not chain"):
        Network([Dense(3, 4), Dense(5, 2)])


def test_config_round_trip_rebuilds_the_same_function(rng):
    net = mlp([4, 5, 3], hidden="leaky-relu", output="softmax", prime_offset=0.1, seed=0)
    net2 = Network.from_config(net.config())
    net2.set_weights(net.get_weights())
    X = rng.normal(size=(6, 4))
    assert np.array_equal(net.forward(X), net2.forward(X))
    assert net2.config() == net.config()


def test_predict_refuses_a_chunk_size_below_one():
    net = mlp([3, 4, 2], seed=0)
    X = np.zeros((5, 3), np.float32)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="chunk_size: must be an integer >= 1"):
            net.predict(X, chunk_size=bad)
    assert np.array_equal(net.predict(X, chunk_size=2), net.predict(X))


def test_a_softmax_over_one_output_unit_is_refused():
    with pytest.raises(ConfigError, match="a softmax output needs at least 2 units"):
        mlp([3, 4, 1], output="softmax")


def test_set_weights_refuses_non_finite_or_non_numeric_arrays():
    net = mlp([3, 4, 2], seed=0)
    before = [w.copy() for w in net.get_weights()]
    for i, bad in [(0, np.full((3, 4), np.nan)), (1, np.array(["a"] * 4)), (2, np.full((4, 2), np.inf))]:
        w = net.get_weights()
        w[i] = bad
        with pytest.raises(ConfigError, match=rf"weights\[{i}\] \(layers\.\d\.[Wb]\)"):
            net.set_weights(w)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))  # nothing half-copied


def test_loss_and_grads_checks_sample_weight_values_not_only_shape():
    net = mlp([3, 4, 2], seed=0)
    X = np.zeros((4, 3), np.float32)
    Y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    for sw, needle in [
        (np.zeros(4), "all weights are zero"),
        (np.array([1, np.nan, 1, 1]), "must be finite and >= 0"),
        (-np.ones(4), "must be finite and >= 0"),
    ]:
        with pytest.raises(ConfigError, match=f"sample_weight: {needle}"):
            net.loss_and_grads(X, Y, sw)
        with pytest.raises(ConfigError, match=f"sample_weight: {needle}"):
            net.loss_value(X, Y, sw)
    assert net.loss_value(X, Y, np.ones(4)) == pytest.approx(net.loss_value(X, Y))


def test_encode_targets_refuses_labels_outside_the_classes():
    from neuronet import encode_targets

    for labels, n_out, needle in [
        ([0, -1], 2, r"labels: class labels must lie in \[0, 2\) for 2 output\(s\), got -1"),
        ([0, 5], 3, r"must lie in \[0, 3\) for 3 output\(s\), got 5"),
        ([0, 2], 1, r"must lie in \[0, 2\) for 1 output\(s\), got 2"),
        ([0.0, 1.5], 2, "expected a 1-D array of integer class labels"),
        ([0, 1], 0, "n_outputs: must be an integer >= 1"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            encode_targets(labels, n_out, "softmax")
    assert encode_targets(np.array([True, False]), 2, "sigmoid").tolist() == [[0, 1], [1, 0]]


def test_mlp_names_a_bad_sizes_seed_or_rng():
    for kw, needle in [
        ({"sizes": 5}, "sizes: expected a list of layer sizes"),
        ({"sizes": "3,4,2"}, "sizes: expected a list of layer sizes"),
        ({"sizes": [3, 2], "seed": -1}, "seed: expected an integer >= 0 or None, got -1"),
        ({"sizes": [3, 2], "seed": "a"}, "seed: expected an integer >= 0 or None"),
        ({"sizes": [3, 2], "rng": 3}, "rng: expected a numpy.random.Generator, got int"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            mlp(**kw)
    assert mlp([3, 2], seed=np.int64(1)).n_outputs == 2
