"""Central-difference gradient checks in float64 for every hidden unit x output/loss pair x depth."""

import numpy as np
import pytest

from neuronet import Dense, Network, mlp
from neuronet.gradcheck import check_gradients, numerical_gradients, relative_errors
from neuronet.losses import FUSED
from neuronet.units import UNITS

HIDDEN = sorted({cls.name for cls in UNITS.values()})
# every output unit with squared error, plus the fused pairs with their own losses
PAIRS = [(u, "squared-error") for u in HIDDEN] + sorted(p for p in FUSED if p[1] != "squared-error")


def _problem(n_out, output, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 4))
    if output == "softmax":
        Y = np.eye(n_out)[rng.integers(0, n_out, 6)]
        Y = 0.8 * Y + 0.2 / n_out  # soft targets still summing to 1
    elif output == "sigmoid":
        Y = rng.uniform(0.1, 0.9, size=(6, n_out))
    else:
        Y = rng.normal(size=(6, n_out))
    return X, Y


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("output,loss", PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_central_differences(hidden, output, loss, depth):
    n_out = 1 if (output, loss) == ("sigmoid", "logistic") else 3
    sizes = [4] + [5] * depth + [n_out]
    net = mlp(
        sizes,
        hidden=hidden,
        output=output,
        loss=loss,
        init="normal:0.7",
        dtype=np.float64,
        seed=depth * 100 + len(hidden),
    )
    for L in net.layers:  # non-zero biases exercise dL/db
        L.b[...] = np.random.default_rng(7).normal(0, 0.3, L.b.shape)
    X, Y = _problem(n_out, output, seed=depth)
    err = check_gradients(net, X, Y)
    assert err <= 1e-6, f"{hidden} hidden, {output}+{loss}, depth {depth}: max relative error {err:.2e}"


def test_gradient_check_catches_a_wrong_derivative():
    """The check itself can fail: a unit with a deliberately wrong derivative is caught."""
    from neuronet.units import Tanh

    class WrongTanh(Tanh):
        def derivative(self, z, out):
            np.subtract(1, z, out=out)  # 1 - z instead of 1 - z**2
            return out

    net = Network(
        [
            Dense(4, 5, WrongTanh(), "normal:0.7", rng=np.random.default_rng(0), dtype=np.float64),
            Dense(5, 2, "identity", "normal:0.7", rng=np.random.default_rng(1), dtype=np.float64),
        ]
    )
    X, Y = _problem(2, "identity", 0)
    assert check_gradients(net, X, Y) > 1e-2


@pytest.mark.parametrize("where", ["hidden", "output", "all"])
def test_prime_offset_backprop_equals_its_own_definition(where):
    """With S' + c the backward pass is not a true gradient; check it against a direct implementation."""
    c = 0.1
    net = mlp(
        [4, 5, 3],
        hidden="sigmoid",
        output="sigmoid",
        loss="squared-error",
        init="normal:1",
        prime_offset=c,
        prime_offset_on=where,
        dtype=np.float64,
        seed=3,
    )
    X, Y = _problem(3, "sigmoid", 4)
    net.loss_and_gradients(X, Y)
    W1, b1, W2, b2 = net.params

    def s(a):
        return 1 / (1 + np.exp(-a))

    h = s(X @ W1 + b1)
    z = s(h @ W2 + b2)
    c_out = c if where in ("output", "all") else 0.0
    c_hid = c if where in ("hidden", "all") else 0.0
    d2 = (z - Y) * (z * (1 - z) + c_out) / X.shape[0]
    d1 = (d2 @ W2.T) * (h * (1 - h) + c_hid)
    expected = [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]
    for got, exp in zip(net.grads, expected):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-15)
    # and it really differs from the true gradient
    num = numerical_gradients(net, X, Y)
    assert max(relative_errors(net.grads, num)) > 1e-2


def test_dropout_gradient_with_a_fixed_mask():
    net = mlp([4, 6, 6, 3], hidden="tanh", output="softmax", dropout=0.3, dtype=np.float64, seed=5)
    X, Y = _problem(3, "softmax", 5)

    def loss_with_fixed_mask():
        return net.loss_and_grads(X, Y, train=True, rng=np.random.default_rng(99))

    loss_with_fixed_mask()
    analytic = [g.copy() for g in net.grads]
    numeric = []
    for p in net.params:
        g = np.zeros_like(p)
        for j in range(p.size):
            old = p.flat[j]
            p.flat[j] = old + 1e-6
            lp = loss_with_fixed_mask()
            p.flat[j] = old - 1e-6
            lm = loss_with_fixed_mask()
            p.flat[j] = old
            g.flat[j] = (lp - lm) / 2e-6
        numeric.append(g)
    assert (
        max(
            relative_errors(
                analytic,
                numeric,
            )
        )
        <= 1e-6
    )
