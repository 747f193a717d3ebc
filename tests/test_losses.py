"""Losses: values, deltas, the fused z - y shortcut, numerical stability."""

import numpy as np
import pytest

from neuronet import mlp
from neuronet.errors import ConfigError
from neuronet.losses import FUSED, CrossEntropy, Logistic, SquaredError, get_loss
from neuronet.units import get_unit


def test_values_match_definitions(rng):
    z = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # squared error: mean over samples of 1/2 sum (z - y)^2
    assert SquaredError().value(z, y) == pytest.approx(((0.04 + 0.09 + 0.01) / 2 + (0.25 + 0.0625 * 2) / 2) / 2)
    # cross-entropy: mean of -ln z_true
    assert CrossEntropy().value(z, y) == pytest.approx((-np.log(0.7) - np.log(0.5)) / 2)
    zs = np.array([[0.9], [0.2]])
    ys = np.array([[1.0], [0.0]])
    assert Logistic().value(zs, ys) == pytest.approx((-np.log(0.9) - np.log(0.8)) / 2)


@pytest.mark.parametrize("unit,loss", sorted(FUSED))
def test_fused_delta_equals_chain_rule(unit, loss, rng):
    """z - y equals dL/dz pushed through the unit's own backward (the notes' derivation)."""
    u, L = get_unit(unit), get_loss(loss)
    k = 1 if unit == "sigmoid" else 4
    a = rng.normal(0, 1.5, size=(5, k))
    z = u(a)
    y = np.eye(k)[rng.integers(0, k, 5)] if unit == "softmax" else rng.uniform(0, 1, size=(5, k))
    chain = u.backward(z, L.delta(z, y, np.empty_like(z)), np.empty_like(z))
    np.testing.assert_allclose(chain, z - y, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_huge_logits_give_finite_loss_and_gradient(output):
    net = mlp([2, 3 if output == "softmax" else 1], output=output, seed=0, dtype=np.float32)
    net.params[0][...] = np.array([[1e4, -1e4, 0.0][: net.n_outputs]] * 2, dtype=np.float32)
    X = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    Y = (
        np.array([[0, 1, 0], [0, 0, 1]], np.float32)[:, : net.n_outputs]
        if output == "softmax"
        else np.array([[0.0], [1.0]], np.float32)
    )
    loss = net.loss_and_gradients(X, Y)
    assert np.isfinite(loss) and loss > 1e3, f"loss {loss}: the true loss here is about 1e4"
    assert all(np.isfinite(g).all() for g in net.grads)


def test_cross_entropy_from_logits_is_exact_for_huge_logits():
    a = np.array([[1e4, -1e4, 0.0]])
    y = np.array([[0.0, 1.0, 0.0]])
    assert CrossEntropy().value_from_logits(a, y) == pytest.approx(2e4)
    assert Logistic().value_from_logits(np.array([[-1e4]]), np.array([[1.0]])) == pytest.approx(1e4)


def test_cross_entropy_never_takes_log_of_zero():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v = CrossEntropy().value(np.array([[0.0, 1.0]], np.float32), np.array([[1.0, 0.0]], np.float32))
        d = CrossEntropy().delta(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]), np.empty((1, 2)))
    assert np.isfinite(v) and v > 80, v
    assert np.isfinite(d).all()


def test_pairing_and_registry_errors():
    with pytest.raises(ConfigError, match="cross-entropy.*softmax.*got 'sigmoid'"):
        mlp([3, 2], output="sigmoid", loss="cross-entropy")
    with pytest.raises(ValueError, match="unknown loss 'hinge'; valid losses: squared-error, cross-entropy, logistic"):
        get_loss("hinge")
    assert mlp([3, 2], output="softmax").loss.name == "cross-entropy"
    assert mlp([3, 1], output="sigmoid").loss.name == "logistic"
    assert mlp([3, 2], output="tanh").loss.name == "squared-error"


def test_batch_mean_has_the_bits_of_ndarray_mean():
    """``losses._mean`` skips ``np.mean``'s Python overhead but must round exactly as it does."""
    from neuronet.losses import _mean

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        for n in (1, 3, 9, 128, 200, 1001, 2**24 + 1):  # past 2**24, n itself is not a float32
            v = (rng.random(n) * 10.0 ** rng.integers(-3, 3, n)).astype(dtype)
            assert _mean(v, None) == float(v.mean()), (dtype, n)


def test_cross_entropy_from_the_softmaxs_kept_statistics_has_the_same_bits():
    """The loss reuses the row maxima and sums of the softmax forward pass: the same numbers as computing them."""
    from neuronet.losses import CrossEntropy
    from neuronet.units import Softmax

    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        for scale in (1.0, 30.0, 1e4):  # ordinary, saturated and huge logits
            a = (rng.standard_normal((257, 10)) * scale).astype(dtype)
            y = np.eye(10, dtype=dtype)[rng.integers(0, 10, 257)] * dtype(0.7) + dtype(0.03)  # soft targets too
            stats = (np.empty((257, 1), dtype), np.empty((257, 1), dtype))
            z_kept = Softmax().forward(a, np.empty_like(a), stats)
            assert np.array_equal(z_kept, Softmax().forward(a, np.empty_like(a)))
            plain = CrossEntropy().values_from_logits(a, y)
            kept = CrossEntropy().values_from_logits(a, y, stats)
            assert np.isfinite(plain).all() and np.array_equal(plain, kept)
