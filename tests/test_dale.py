"""Dale's principle: each presynaptic unit's outgoing weights keep their sign through training."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from neuronet import Dense, Trainer, mlp
from neuronet.errors import ConfigError
from neuronet.modelfile import load_model, save_model


def _digits():
    d = load_digits()
    return (d.data / 16).astype(np.float32), d.target


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "quickprop"])
def test_signs_never_flip_during_training(optimizer):
    X, y = _digits()
    net = mlp([64, 40, 30, 10], hidden="relu", dale=0.8, seed=0)
    assert net.layers[0].dale_signs is None, "input pixels are not neurons: unconstrained by default"
    signs = [L.dale_signs.copy() for L in net.layers[1:]]
    for s in signs:
        assert np.mean(s > 0) == pytest.approx(0.8, abs=0.02)
    w_before = [L.W.copy() for L in net.layers[1:]]
    lr = {"sgd": 0.2, "momentum": 0.05, "adam": 0.01, "quickprop": 0.05}[optimizer]
    Trainer(net, optimizer, lr=lr, epochs=3, batch_size=64, diagnostics=False).fit(X, y)
    for L, s, w0 in zip(net.layers[1:], signs, w_before):
        assert (L.W * s[:, None] >= 0).all(), "a weight crossed to the wrong sign"
        assert not np.array_equal(L.W, w0), "the constrained weights still learn"
    # the projection really does something: without it some weights would have flipped
    free = mlp([64, 40, 30, 10], hidden="relu", dale=0.8, seed=0)
    for L in free.layers:
        L.dale_signs = None
    Trainer(free, optimizer, lr=lr, epochs=3, batch_size=64, diagnostics=False).fit(X, y)
    assert any(((L.W * s[:, None]) < 0).any() for L, s in zip(free.layers[1:], signs))


def test_dale_network_learns_digits():
    X, y = _digits()
    net = mlp([64, 64, 10], hidden="relu", dale=0.8, dale_inputs=True, seed=0)
    tr = Trainer(net, "momentum", lr=0.05, epochs=15, batch_size=32, validation_split=0.2, diagnostics=False)
    h = tr.fit(X, y)
    assert h["val_accuracy"][-1] > 0.85


def test_model_file_keeps_dale_signs(tmp_path):
    net = mlp([5, 6, 3], hidden="tanh", dale=0.5, seed=1)
    save_model(tmp_path / "d.safetensors", net)
    back, _ = load_model(tmp_path / "d.safetensors")
    assert np.array_equal(back.layers[1].dale_signs, net.layers[1].dale_signs)
    assert back.layers[0].dale_signs is None


def test_bad_dale_options():
    with pytest.raises(ConfigError, match="dale"):
        mlp([3, 4, 2], dale=1.5)
    with pytest.raises(ConfigError, match="dale_signs must be"):
        Dense(3, 2, dale_signs=[1, 0, -1])
