"""Who owns the weights: the ``Parameters`` invariant, and that copies keep it.

The invariant: every layer's ``W``/``b``/``dW``/``db`` is a view of its network's
``parameters.data``/``parameters.grad``, so writing through either side is seen by the
other, and optimizers stepping the flat buffer move the layers' weights.
"""

import copy
import json
import pickle

import numpy as np
import pytest

from neuronet.bio.lesion import silence_units
from neuronet.errors import ConfigError
from neuronet.layers import Dense
from neuronet.network import Network, mlp
from neuronet.optim import get_optimizer
from neuronet.parameters import Parameters


def _views_ok(net):
    """True when every layer array is a view of the network's flat buffers."""
    p = net.parameters
    for i, L in enumerate(net.layers):
        for arr, buf in ((L.W, p.data), (L.b, p.data), (L.dW, p.grad), (L.db, p.grad)):
            if not np.shares_memory(arr, buf):
                return False
        if L.owner is not net:
            return False
        if p[f"layers.{i}.W"] is not L.W and not np.shares_memory(p[f"layers.{i}.W"], L.W):
            return False
    return True


def _rich_net():
    """A network that uses every layer option: dropout, a lesion mask, Dale signs, S' offset, float64."""
    net = mlp(
        [6, 5, 4, 3],
        hidden="sigmoid",
        output="softmax",
        prime_offset=0.1,
        prime_offset_on="hidden",
        dropout=[0.2, 0.0],
        dale=0.75,
        dtype=np.float64,
        seed=3,
    )
    net.layers[0].set_unit_mask([1, 0, 1, 1, 0])
    return net


def _data(seed=0, n=16):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    Y = np.eye(3)[rng.integers(0, 3, n)]
    return X, Y


def test_parameters_layout_and_views():
    p = Parameters([("W", np.arange(6.0).reshape(2, 3)), ("b", [7.0, 8.0, 9.0])], np.float32)
    assert p.size == 9 and p.offsets == (0, 6)
    np.testing.assert_array_equal(p.data, [0, 1, 2, 3, 4, 5, 7, 8, 9])
    p.data[6] = -1.0
    assert p["b"][0] == -1.0
    p.grads[0][1, 2] = 5.0
    assert p.grad[5] == 5.0
    with pytest.raises(ConfigError, match="distinct"):
        Parameters([("W", np.ones(2)), ("W", np.ones(2))])
    with pytest.raises(ConfigError, match="flat array of 9"):
        p.split(np.zeros(8, np.float32))


def test_a_new_network_binds_its_layers():
    net = _rich_net()
    assert _views_ok(net)
    net.parameters.data[:] = 0.5
    assert np.all(net.layers[1].W == 0.5)


@pytest.mark.parametrize("how", ["deepcopy", "copy", "pickle"])
def test_copies_keep_the_invariant_and_are_independent(how):
    net = _rich_net()
    if how == "deepcopy":
        twin = copy.deepcopy(net)
    elif how == "copy":
        twin = net.copy()
    else:  # pickling is only used for in-process copies (multiprocessing); users never load pickles
        twin = pickle.loads(pickle.dumps(net))
    assert _views_ok(twin) and _views_ok(net)
    assert not np.shares_memory(twin.parameters.data, net.parameters.data)
    np.testing.assert_array_equal(twin.parameters.data, net.parameters.data)
    # the copy's optimizer moves the copy's layers, and only them
    before = net.parameters.data.copy()
    X, Y = _data()
    twin.loss_and_grads(X, Y, train=True, rng=np.random.default_rng(0))
    get_optimizer("sgd", lr=0.5).step(twin.parameters)
    twin.after_update()
    assert not np.array_equal(twin.layers[0].W, before[:30].reshape(6, 5))
    np.testing.assert_array_equal(net.parameters.data, before)
    # and the options travelled
    assert twin.layers[0].dropout == 0.2
    np.testing.assert_array_equal(twin.layers[0].unit_mask, [1, 0, 1, 1, 0])
    np.testing.assert_array_equal(twin.layers[1].dale_signs, net.layers[1].dale_signs)


def test_lesioned_copy_trains_through_its_own_buffer():
    """bio.lesion deep-copies a network; the copy must still be one flat buffer."""
    net = mlp([6, 8, 3], hidden="tanh", output="softmax", seed=1)
    hurt = silence_units(net, 0.5, np.random.default_rng(0))
    assert _views_ok(hurt)
    X, Y = _data(1)
    hurt.loss_and_grads(X, Y)
    dead = hurt.layers[0].unit_mask == 0
    assert dead.sum() == 4
    # a silenced unit receives no gradient, through the flat buffer too
    assert np.all(hurt.layers[0].dW[:, dead] == 0) and np.any(hurt.layers[0].dW[:, ~dead] != 0)
    get_optimizer("sgd", lr=0.1).step(hurt.parameters)
    np.testing.assert_array_equal(hurt.layers[0].W[:, dead], net.layers[0].W[:, dead])


def test_config_round_trips_every_layer_option_through_json():
    net = _rich_net()
    cfg = json.loads(json.dumps(net.config()))
    twin = Network.from_config(cfg, rng=np.random.default_rng(99))
    assert twin.config() == net.config()
    assert twin.dtype == np.float64
    # fresh weights, then the originals: identical outputs, in training mode too
    twin.set_weights(net.get_weights())
    assert _views_ok(twin)
    X, Y = _data(2)
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))
    la = net.loss_and_grads(X, Y, train=True, rng=np.random.default_rng(5))
    lb = twin.loss_and_grads(X, Y, train=True, rng=np.random.default_rng(5))
    assert la == lb
    np.testing.assert_array_equal(twin.parameters.grad, net.parameters.grad)
    # S' offset only on the hidden layers, as built
    assert [L.unit.config().get("prime_offset", 0.0) for L in twin.layers] == [0.1, 0.1, 0.0]


def test_set_weights_refuses_weights_that_break_dale():
    net = _rich_net()
    w = net.get_weights()
    signs = net.layers[1].dale_signs
    i = int(np.flatnonzero(signs > 0)[0])
    w[2][i, 0] = -1.0
    with pytest.raises(ConfigError, match="Dale"):
        net.set_weights(w)


def test_a_layer_belongs_to_one_network():
    layer = Dense(3, 2, "sigmoid", rng=np.random.default_rng(0))
    Network([layer], "squared-error")
    with pytest.raises(ConfigError, match="belongs"):
        Network([layer], "squared-error")
    with pytest.raises(ConfigError, match="twice"):
        L2 = Dense(2, 2, "sigmoid", rng=np.random.default_rng(0))
        Network([L2, L2], "squared-error")


def test_optimizer_state_follows_the_flat_layout():
    """The flat path and the list path give bit-identical weights; state is one flat buffer."""
    X, Y = _data(3)
    a = mlp([6, 5, 3], hidden="sigmoid", output="softmax", seed=4)
    b = a.copy()
    oa, ob = get_optimizer("adam", lr=0.01), get_optimizer("adam", lr=0.01)
    for _ in range(5):
        a.loss_and_grads(X, Y)
        oa.step(a.parameters)
        b.loss_and_grads(X, Y)
        ob.step(list(b.params), list(b.grads))
    np.testing.assert_array_equal(a.parameters.data, b.parameters.data)
    state = oa.state_dict()
    assert state  # Adam keeps moments
