"""Trainer: learning on real data, divergence guard, early stopping, diagnostics, targets."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from neuronet import EarlyStopping, LambdaCallback, Trainer, encode_targets, mlp
from neuronet.errors import ConfigError, DivergenceError


@pytest.fixture(scope="module")
def digits():
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.25, random_state=0, stratify=d.target)
    return Xtr, ytr, Xte, yte


def test_learns_digits_to_high_test_accuracy(digits):
    X, y, Xt, yt = digits
    net = mlp([64, 64, 10], hidden="relu", output="softmax", seed=0)
    tr = Trainer(net, "momentum", lr=0.1, epochs=15, batch_size=32, validation_split=0.1, seed=0)
    h = tr.fit(X, y)
    assert h["loss"][-1] < 0.5 * h["loss"][0], h["loss"]
    assert tr.evaluate(Xt, yt)["accuracy"] >= 0.93
    assert len(h) == 15 and h.stop_reason == "completed 15 epochs"
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}


def test_full_batch_quickprop_learns_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])
    solved = 0
    for seed in range(10):
        net = mlp([2, 4, 1], hidden="tanh", output="sigmoid", init="uniform:0.7", dtype=np.float64, seed=seed)
        tr = Trainer(net, "quickprop", lr=0.5, epochs=300, batch_size=None, seed=seed, diagnostics=False)
        tr.fit(X, y)
        solved += tr.evaluate(X, y)["accuracy"] == 1.0
    assert solved >= 8, f"quickprop solved XOR in {solved}/10 seeds"


def test_divergence_guard_restores_last_good_weights_and_says_what_to_try(digits):
    X, y, _, _ = digits
    net = mlp([64, 32, 10], hidden="relu", output="identity", loss="squared-error", init="normal:1", seed=0)
    seen = []
    tr = Trainer(
        net,
        "sgd",
        lr=50.0,
        epochs=5,
        batch_size=64,
        callbacks=[LambdaCallback(lambda t, e, logs: seen.append(t.network.get_weights()))],
    )
    with pytest.raises(DivergenceError, match="lower learning rate") as info:
        tr.fit(X, y)
    h = info.value.history
    assert h.diverged and "diverged in epoch" in h.stop_reason
    assert all(np.isfinite(p).all() for p in net.params)
    good = seen[-1] if seen else None
    if good is not None:  # restored to the end of the last completed epoch
        assert all(np.array_equal(a, b) for a, b in zip(good, net.get_weights()))


def test_early_stopping_stops_and_restores_best(digits):
    X, y, _, _ = digits
    net = mlp([64, 64, 10], hidden="relu", output="softmax", seed=0)
    es = EarlyStopping(monitor="val_loss", patience=2, min_delta=10.0)  # nothing improves by 10
    tr = Trainer(net, "momentum", lr=0.1, epochs=50, batch_size=32, validation_split=0.2, callbacks=[es])
    h = tr.fit(X, y)
    assert len(h) == 3, "stops after patience epochs without improvement"
    assert "early stopping" in h.stop_reason
    assert es.best_epoch == 0 and es.best == h["val_loss"][0]
    tr2 = Trainer(net, "sgd", epochs=0, batch_size=32, validation_split=0.2)
    assert tr2.evaluate(*tr2._split(*tr2.prepare(X, y))[1][::2])["loss"] == pytest.approx(h["val_loss"][0], rel=1e-5)


def test_validation_split_is_seeded_and_stratified(digits):
    X, y, _, _ = digits
    net = mlp([64, 10], seed=0)
    a = Trainer(net, validation_split=0.2, seed=1)._split(*a_prep(net, X, y))
    b = Trainer(net, validation_split=0.2, seed=1)._split(*a_prep(net, X, y))
    c = Trainer(net, validation_split=0.2, seed=2)._split(*a_prep(net, X, y))
    assert np.array_equal(a[1][2], b[1][2]) and not np.array_equal(a[1][0], c[1][0])
    counts = np.bincount(a[1][2], minlength=10) / np.bincount(y, minlength=10)
    assert np.allclose(counts, 0.2, atol=0.02), counts


def a_prep(net, X, y):
    return Trainer(net).prepare(X, y)


def test_a_split_too_small_for_any_class_still_validates_on_some_rows():
    # 10 samples, 5 classes of 2: 10% is one row overall but rounds to none in every class
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.repeat(np.arange(5), 2)
    net = mlp([2, 5], seed=0)
    tr = Trainer(net, epochs=1, batch_size=4, validation_split=0.1, seed=0)
    (Xt, _, _), (Xv, _, _), _ = tr._split(*a_prep(net, X, y))
    assert (Xt.shape[0], Xv.shape[0]) == (9, 1)
    h = tr.fit(X, y)
    assert np.isfinite(h["val_loss"][0]) and h["val_accuracy"][0] in (0.0, 1.0)


def test_a_split_whose_classes_round_up_to_every_row_is_refused():
    # xor's 4 rows, 2 per class: 80% rounds to both rows of each class, so nothing is left to train on
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    net = mlp([2, 3, 2], seed=0)
    with pytest.raises(ConfigError, match=r"validation_split=0.8 leaves no training samples"):
        Trainer(net, epochs=1, validation_split=0.8).fit(X, y)


def test_diagnostics_show_saturation_of_the_normal_1_baseline(digits):
    X, y, _, _ = digits
    sat = {}
    for init in ["normal:1", "fan-in"]:
        net = mlp([64, 100, 100, 10], hidden="sigmoid", output="sigmoid", loss="squared-error", init=init, seed=0)
        h = Trainer(net, "sgd", lr=0.5, epochs=1, batch_size=32, seed=0).fit(X, y)
        sat[init] = [d["saturated"] for d in h.diagnostics[-1]]
        d0 = h.diagnostics[-1][0]
        assert set(d0) >= {"saturated", "mean_derivative", "dead", "grad_norm", "weight_norm", "update_ratio"}
        assert d0["dead"] is None and d0["update_ratio"] > 0
    # N(0,1) weights on 64 (then 100) inputs drive sigmoids to their asymptotes; fan-in does not
    assert min(sat["normal:1"]) > 0.3 and max(sat["fan-in"]) < 0.05, sat


def test_dead_relu_units_are_counted(digits):
    X, y, _, _ = digits
    net = mlp([64, 20, 10], hidden="relu", seed=0)
    net.layers[0].b[:5] = -1e3  # 5 of 20 units can never fire
    h = Trainer(net, "sgd", lr=0.01, epochs=1, seed=0).fit(X, y)
    assert h.diagnostics[0][0]["dead"] == pytest.approx(0.25)


def test_gradient_clipping_bounds_the_update():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32) * 100
    net = mlp([4, 8, 1], hidden="relu", output="identity", seed=0)
    w0 = net.get_weights()
    Trainer(net, "sgd", lr=0.1, epochs=1, batch_size=None, max_grad_norm=1.0, diagnostics=False).fit(X, y)
    step = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(net.get_weights(), w0)))
    assert step == pytest.approx(0.1, rel=1e-4), "one full-batch step of length lr * max_grad_norm"


def test_soft_targets_for_sigmoid_and_softmax():
    Y = encode_targets(np.array([0, 2]), 3, "sigmoid", (0.15, 0.85))
    np.testing.assert_allclose(Y, [[0.85, 0.15, 0.15], [0.15, 0.15, 0.85]])
    Ys = encode_targets(np.array([1]), 4, "softmax", (0.15, 0.85))
    np.testing.assert_allclose(Ys, [[0.05, 0.85, 0.05, 0.05]])
    assert Ys.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(encode_targets(np.array([0, 1]), 1, "tanh"), [[-1.0], [1.0]])
    with pytest.raises(ConfigError, match="low must be below high"):
        encode_targets(np.array([0]), 2, "sigmoid", (0.9, 0.1))


def test_trainer_rejects_bad_options():
    net = mlp([2, 2], seed=0)
    with pytest.raises(ConfigError, match="batch_size"):
        Trainer(net, batch_size=0)
    with pytest.raises(ConfigError, match="validation_split"):
        Trainer(net, validation_split=1.0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        Trainer(net, "lbfgs")


def _blobs(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, y


def _fit_full_batch(X, y, sw=None, l2=0.0):
    net = mlp([5, 6, 3], hidden="tanh", dtype=np.float64, seed=0)
    Trainer(net, "adam", lr=0.05, epochs=30, batch_size=None, shuffle=False, diagnostics=False, l2=l2).fit(
        X, y, sample_weight=sw
    )
    return net


def test_sample_weights_equal_repeated_samples_in_full_batch_training():
    X, y = _blobs()
    sw = np.random.default_rng(1).integers(0, 4, len(y))
    a = _fit_full_batch(X, y, sw, l2=0.01)
    b = _fit_full_batch(X.repeat(sw, axis=0), y.repeat(sw), None, l2=0.01)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-9, atol=1e-12)
    c = _fit_full_batch(X, y, np.ones(len(y)))
    d = _fit_full_batch(X, y, None)
    assert all(np.array_equal(p, q) for p, q in zip(c.params, d.params)), "unit weights must change nothing"
    with pytest.raises(ConfigError, match="sample_weight: must be finite and >= 0"):
        _fit_full_batch(X, y, -np.ones(len(y)))
    with pytest.raises(ConfigError, match=r"sample_weight: expected shape \(30,\)"):
        _fit_full_batch(X, y, np.ones(3))


def test_l2_penalty_shrinks_weights_and_is_part_of_the_loss():
    X, y = _blobs()
    plain, decayed = _fit_full_batch(X, y), _fit_full_batch(X, y, l2=1.0)

    def norm(net):
        return sum(float((p**2).sum()) for p in net.params if p.ndim == 2)

    assert norm(decayed) < 0.8 * norm(plain)


def test_lr_schedule_is_applied_after_every_update():
    X, y = _blobs(64)
    seen = []
    net = mlp([5, 4, 3], seed=0)
    tr = Trainer(
        net,
        "sgd",
        lr=0.1,
        epochs=2,
        batch_size=16,
        diagnostics=False,
        lr_schedule=lambda t: seen.append(t) or 0.1 / (t + 1) ** 0.5,
    )
    tr.fit(X, y)
    assert seen == [16, 32, 48, 64, 80, 96, 112, 128] and tr.samples_seen == 128
    assert tr.optimizer.lr == pytest.approx(0.1 / 129**0.5)


def test_history_of_a_run_that_diverged_in_its_first_epoch_reads_as_empty(digits):
    X, y, _, _ = digits
    net = mlp([64, 32, 10], hidden="relu", output="identity", loss="squared-error", init="normal:1", seed=0)
    tr = Trainer(net, "sgd", lr=1e4, epochs=3, batch_size=64)
    with pytest.raises(DivergenceError, match="epoch 1") as info:
        tr.fit(X, y)
    h = info.value.history
    assert len(h) == 0 and h["loss"] == [] and h["accuracy"] == []
    with pytest.raises(KeyError, match="recorded: accuracy, loss, seconds"):
        h["val_los"]


def test_integer_targets_of_one_linear_output_are_values_not_classes():
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = np.arange(40)  # counts, say: a regression target
    net = mlp([3, 4, 1], output="identity", loss="squared-error", seed=0)
    h = Trainer(net, "sgd", lr=1e-3, epochs=3, batch_size=8, seed=0).fit(X, y)
    assert h["accuracy"] == [None, None, None] and h["loss"][-1] < h["loss"][0]
    # one sigmoid output still reads 0/1 integers as two classes
    h = Trainer(mlp([3, 4, 1], output="sigmoid", seed=0), epochs=1).fit(X, np.arange(40) % 2)
    assert h["accuracy"][0] is not None


def test_validation_data_must_be_a_pair():
    X = np.zeros((8, 3), np.float32)
    y = np.arange(8) % 2
    for bad in (X, (X, y, y), (X,)):
        with pytest.raises(ConfigError, match=r"validation_data: expected a pair \(X_val, y_val\)"):
            Trainer(mlp([3, 2], seed=0), epochs=1).fit(X, y, validation_data=bad)


def test_trainer_checks_target_range_callbacks_and_early_stopping_when_built():
    net = mlp([3, 2], seed=0)
    for kw, needle in [
        ({"target_range": (0, 0.5, 1)}, r"Trainer\(target_range=...\)"),
        ({"target_range": "ab"}, r"Trainer\(target_range=...\)"),
        ({"callbacks": None}, r"Trainer\(callbacks=...\): expected a list of callbacks"),
        ({"callbacks": [1]}, r"Trainer\(callbacks=...\): 1 is not a callback"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            Trainer(net, **kw)
    with pytest.raises(ConfigError, match=r"EarlyStopping\(patience=...\): expected an integer >= 0, got -1"):
        EarlyStopping(patience=-1)
    assert Trainer(net, target_range=(0.15, 0.85)).target_range == (0.15, 0.85)
