"""Speed must not change results: the buffered engine against a plain, obviously-correct implementation."""

import numpy as np
import pytest

from neuronet import Trainer, kernels, mlp


def reference_training(params, X, Y, hidden, lr, mu, batch, steps):
    """Textbook mini-batch SGD with momentum, written for clarity, not speed (float64 math)."""
    Ws = [W.astype(np.float64) for W in params[0::2]]
    bs = [b.astype(np.float64) for b in params[1::2]]
    vW = [np.zeros_like(W) for W in Ws]
    vb = [np.zeros_like(b) for b in bs]
    f = {"relu": lambda a: np.maximum(a, 0), "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh}[hidden]
    df = {"relu": lambda z: (z > 0).astype(float), "sigmoid": lambda z: z * (1 - z), "tanh": lambda z: 1 - z * z}[
        hidden
    ]
    for step in range(steps):
        s = (step * batch) % X.shape[0]
        x, y = X[s : s + batch].astype(np.float64), Y[s : s + batch]
        hs = [x]
        for i, (W, b) in enumerate(zip(Ws, bs)):
            a = hs[-1] @ W + b
            if i < len(Ws) - 1:
                hs.append(f(a))
            else:
                e = np.exp(a - a.max(axis=1, keepdims=True))
                hs.append(e / e.sum(axis=1, keepdims=True))
        delta = (hs[-1] - y) / x.shape[0]
        for i in range(len(Ws) - 1, -1, -1):
            gW, gb = hs[i].T @ delta, delta.sum(axis=0)
            if i > 0:
                delta = (delta @ Ws[i].T) * df(hs[i])
            vW[i] = mu * vW[i] - lr * gW
            vb[i] = mu * vb[i] - lr * gb
            Ws[i] = Ws[i] + vW[i]
            bs[i] = bs[i] + vb[i]
    return [p for pair in zip(Ws, bs) for p in pair]


@pytest.fixture(params=["numpy", "compiled"])
def engine_path(request):
    """Both paths of the engine: NumPy, and the compiled kernels (``neuronet.kernels``)."""
    if request.param == "compiled":
        pytest.importorskip("numba")
        kernels.enable()
        assert kernels.warm_up(wait=True) is not None, kernels.status()
    else:
        kernels.disable()
    yield request.param
    kernels.enable()


@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh"])
def test_engine_matches_the_reference_after_many_steps(hidden, engine_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 20)).astype(np.float32)
    y = rng.integers(0, 5, 256)
    net = mlp([20, 32, 16, 5], hidden=hidden, output="softmax", seed=1)
    start = [p.copy() for p in net.params]
    steps, batch = 24, 32
    Trainer(net, "momentum", lr=0.1, momentum=0.9, epochs=3, batch_size=batch, shuffle=False, diagnostics=True).fit(
        X, y
    )
    ref = reference_training(start, X, np.eye(5)[y], hidden, 0.1, 0.9, batch, steps)
    for got, want in zip(net.params, ref):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
