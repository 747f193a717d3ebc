"""Assigned ``coefs_``/``intercepts_``: training and prediction continue from them, as in scikit-learn.

The oracle is one full-batch gradient step written out in numpy below; its gradient is itself
checked by central differences, so the loss convention it encodes (mean loss over the batch plus
``alpha / (2 n) * sum ||W||^2``, biases not decayed) is the one it differentiates.
"""

import itertools
import pickle

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from neuronet import MLPClassifier, MLPRegressor
from neuronet.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, D, HIDDEN, LR = 40, 4, (5, 3), 0.3


# -- the oracle ----------------------------------------------------------------------------------
def _forward(X, W, b, output):
    """Activations ``[X, H1, ..., Z]``: ReLU hidden layers, then softmax / logistic / identity outputs."""
    hs = [X]
    for i, (Wi, bi) in enumerate(zip(W, b)):
        a = hs[-1] @ Wi + bi
        if i < len(W) - 1:
            hs.append(np.maximum(a, 0.0))
        elif output == "softmax":
            e = np.exp(a - a.max(axis=1, keepdims=True))
            hs.append(e / e.sum(axis=1, keepdims=True))
        elif output == "logistic":
            hs.append(1.0 / (1.0 + np.exp(-a)))
        else:
            hs.append(a)
    return hs


def _loss(X, Y, W, b, output, alpha):
    """Mean loss over the batch + alpha / (2 n) * sum of squared weights (biases excluded)."""
    n, Z = X.shape[0], _forward(X, W, b, output)[-1]
    if output == "softmax":
        per_sample = -(Y * np.log(Z)).sum(axis=1)  # cross-entropy
    elif output == "logistic":
        per_sample = -(Y * np.log(Z) + (1 - Y) * np.log(1 - Z)).sum(axis=1)  # logistic loss
    else:
        per_sample = 0.5 * ((Z - Y) ** 2).sum(axis=1)  # squared error
    return per_sample.mean() + alpha / (2 * n) * sum((Wi**2).sum() for Wi in W)


def _gradients(X, Y, W, b, output, alpha):
    """Backpropagation by hand: dL/dA = (Z - Y) / n at the output for all three output/loss pairs."""
    n, hs = X.shape[0], _forward(X, W, b, output)
    delta = (hs[-1] - Y) / n  # (n, n_out)
    gW, gb = [None] * len(W), [None] * len(W)
    for i in reversed(range(len(W))):
        gW[i] = hs[i].T @ delta + (alpha / n) * W[i]
        gb[i] = delta.sum(axis=0)
        if i > 0:
            delta = (delta @ W[i].T) * (hs[i] > 0)  # ReLU: f'(a) = 1 where the output is > 0
    return gW, gb


def _oracle_step(X, Y, W, b, output, alpha, lr=LR):
    gW, gb = _gradients(X, Y, W, b, output, alpha)
    return [Wi - lr * g for Wi, g in zip(W, gW)], [bi - lr * g for bi, g in zip(b, gb)]


# -- data and weights ----------------------------------------------------------------------------
def _problem(kind, seed=0):
    """X, labels y, the one-hot targets Y the oracle trains on, and the output unit."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    if kind == "multiclass":
        y = np.arange(N) % 3
        return X, y, np.eye(3)[y], "softmax"
    if kind == "binary":
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
        return X, y, y[:, None].astype(float), "logistic"
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1
    return X, y, y[:, None], "identity"


def _weights(n_out, seed=1):
    """Weights unlike any initializer's: non-zero biases, every ReLU active for some samples only."""
    rng = np.random.default_rng(seed)
    sizes = [D, *HIDDEN, n_out]
    W = [rng.normal(0.0, 1.0, size=(m, k)) for m, k in itertools.pairwise(sizes)]
    b = [rng.normal(0.0, 0.5, size=k) for k in sizes[1:]]
    return W, b


def _one_step_params(alpha):
    # one full-batch step of plain gradient descent: batch = the data set, no momentum, no shuffling,
    # one epoch, no early stopping
    return {
        "hidden_layer_sizes": HIDDEN,
        "solver": "sgd",
        "momentum": 0.0,
        "alpha": alpha,
        "batch_size": N,
        "shuffle": False,
        "max_iter": 1,
        "learning_rate_init": LR,
        "random_state": 0,
    }


def _assign(est, W, b):
    est.coefs_ = [w.copy() for w in W]
    est.intercepts_ = [c.copy() for c in b]


def _assert_close(got, expected, what, tol=1e-10):
    for i, (g, e) in enumerate(zip(got, expected)):
        diff = np.abs(np.asarray(g) - e).max()
        assert diff <= tol, f"{what}[{i}] differs from the expected step by {diff:.3g} (tolerance {tol:g})"


# -- the oracle checks itself --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["multiclass", "binary", "regression"])
def test_the_oracle_gradient_is_the_gradient_of_its_loss(kind):
    X, _, Y, output = _problem(kind)
    W, b = _weights(Y.shape[1])
    alpha, h = 0.7, 1e-6
    gW, gb = _gradients(X, Y, W, b, output, alpha)
    for params, grads in ((W, gW), (b, gb)):
        for p, g in zip(params, grads):
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + h
                up = _loss(X, Y, W, b, output, alpha)
                p[idx] = old - h
                down = _loss(X, Y, W, b, output, alpha)
                p[idx] = old
                assert (up - down) / (2 * h) == pytest.approx(g[idx], abs=1e-7), f"{kind}: {idx}"


# -- (a) warm start from assigned weights against the oracle and (b) against scikit-learn -------------
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("kind", ["multiclass", "binary"])
def test_warm_start_continues_from_assigned_weights_by_one_hand_worked_step(kind, alpha):
    X, y, Y, output = _problem(kind)
    W, b = _weights(Y.shape[1])
    est = MLPClassifier(**_one_step_params(alpha)).fit(X, y)
    assert est.out_activation_ == output
    assert np.abs(est.coefs_[0] - W[0]).max() > 0.1, "the assigned weights must differ from the fitted ones"
    _assign(est, W, b)
    est.set_params(warm_start=True).fit(X, y)
    W1, b1 = _oracle_step(X, Y, W, b, output, alpha)
    _assert_close(est.coefs_, W1, "coefs_")
    _assert_close(est.intercepts_, b1, "intercepts_")
    assert max(np.abs(w1 - w).max() for w1, w in zip(W1, W)) > 1e-2, "the step should move the weights"
    # the loss of the epoch was measured before the step: the oracle's loss at the assigned weights,
    # with scikit-learn's alpha / (2 n) convention for the penalty
    assert est.loss_ == pytest.approx(_loss(X, Y, W, b, output, alpha), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("kind", ["multiclass", "binary"])
def test_warm_start_from_assigned_weights_takes_scikit_learns_step(kind, alpha):
    X, y, Y, _ = _problem(kind)
    W, b = _weights(Y.shape[1])
    ours = MLPClassifier(**_one_step_params(alpha)).fit(X, y)
    theirs = SkMLPClassifier(**_one_step_params(alpha)).fit(X, y)
    for est in (ours, theirs):
        _assign(est, W, b)
        est.set_params(warm_start=True).fit(X, y)
    _assert_close(ours.coefs_, theirs.coefs_, "coefs_")
    _assert_close(ours.intercepts_, theirs.intercepts_, "intercepts_")
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)


# -- (c) partial_fit and prediction ------------------------------------------------------------
def test_partial_fit_continues_from_assigned_weights():
    X, y, Y, output = _problem("multiclass")
    W, b = _weights(3)
    est = MLPClassifier(**_one_step_params(0.1))
    theirs = SkMLPClassifier(**_one_step_params(0.1))
    for e in (est, theirs):
        e.partial_fit(X, y, classes=[0, 1, 2])
        _assign(e, W, b)
        e.partial_fit(X, y)
    W1, b1 = _oracle_step(X, Y, W, b, output, 0.1)
    _assert_close(est.coefs_, W1, "coefs_")
    _assert_close(est.intercepts_, b1, "intercepts_")
    _assert_close(theirs.coefs_, W1, "scikit-learn's coefs_")
    # and the next partial_fit continues from there (the network's own weights again)
    est.partial_fit(X, y)
    W2, b2 = _oracle_step(X, Y, W1, b1, output, 0.1)
    _assert_close(est.coefs_, W2, "coefs_ after a second step")
    _assert_close(est.intercepts_, b2, "intercepts_ after a second step")


def test_a_regressor_continues_from_assigned_weights_like_scikit_learn():
    # one output: scikit-learn's squared loss, mean((z - y)^2) / 2, is the oracle's
    X, y, Y, output = _problem("regression")
    W, b = _weights(1)
    ours = MLPRegressor(**_one_step_params(0.2)).partial_fit(X, y)
    theirs = SkMLPRegressor(**_one_step_params(0.2)).partial_fit(X, y)
    for est in (ours, theirs):
        _assign(est, W, b)
        est.partial_fit(X, y)
    W1, b1 = _oracle_step(X, Y, W, b, output, 0.2)
    _assert_close(ours.coefs_, W1, "coefs_")
    _assert_close(ours.intercepts_, b1, "intercepts_")
    _assert_close(ours.coefs_, theirs.coefs_, "coefs_ against scikit-learn")
    assert ours.loss_ == pytest.approx(_loss(X, Y, W, b, output, 0.2), rel=1e-12)


def test_predictions_use_assigned_weights_even_one_replaced_array():
    X, y, _, output = _problem("multiclass")
    W, b = _weights(3)
    est = MLPClassifier(**_one_step_params(0.0)).fit(X, y)
    _assign(est, W, b)
    np.testing.assert_allclose(est.predict_proba(X), _forward(X, W, b, output)[-1], rtol=1e-12)
    W[1] = W[1] * 2.0
    est.coefs_[1] = W[1].copy()  # one element replaced, the others are the network's again
    np.testing.assert_allclose(est.predict_proba(X), _forward(X, W, b, output)[-1], rtol=1e-12)
    assert est.hidden_activations(X)[0] == pytest.approx(_forward(X, W, b, output)[1], rel=1e-12)


def test_a_float32_estimator_takes_float64_assignments_in_its_own_dtype():
    X, y, _, output = _problem("multiclass")
    W, b = _weights(3)
    est = MLPClassifier(**_one_step_params(0.0), dtype="float32").fit(X, y)
    _assign(est, W, b)
    P = est.predict_proba(X)
    assert P.dtype == np.float32 and est.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(P, _forward(X, W, b, output)[-1], atol=1e-5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: setattr(e, "coefs_", e.coefs_[:2]),
            r"^coefs_: expected a list of 3 arrays \(one per layer\), got 2",
        ),
        (lambda e: e.coefs_.__setitem__(1, np.ones((5, 4))), r"^coefs_\[1\]: expected shape \(5, 3\) for layer 1"),
        (lambda e: e.intercepts_.__setitem__(2, np.ones(4)), r"^intercepts_\[2\]: expected shape \(3,\) for layer 2"),
        (lambda e: e.coefs_.__setitem__(0, np.ones((4, 5), complex)), r"^coefs_\[0\]: expected real numbers"),
        (lambda e: e.intercepts_.__setitem__(0, np.full(5, np.nan)), r"^intercepts_\[0\]: contains NaN"),
        (lambda e: setattr(e, "intercepts_", None), r"^intercepts_: expected a list of 3 arrays .*got NoneType"),
    ],
)
def test_assigned_weights_that_do_not_fit_the_network_are_refused_naming_them(change, message):
    X, y, _, _ = _problem("multiclass")
    est = MLPClassifier(**_one_step_params(0.0)).fit(X, y)
    before = est.network_.get_weights()
    change(est)
    for call in (
        lambda: est.predict(X),
        lambda: est.partial_fit(X, y),
        lambda: est.set_params(warm_start=True).fit(X, y),
    ):
        with pytest.raises(ConfigError, match=message):
            call()
    for w, w0 in zip(est.network_.get_weights(), before):
        np.testing.assert_array_equal(w, w0, err_msg="a refused assignment must leave the network as it was")


def test_a_cold_fit_ignores_assigned_weights_as_scikit_learn():
    X, y, _, _ = _problem("multiclass")
    W, b = _weights(3)
    a = MLPClassifier(**_one_step_params(0.0)).fit(X, y)
    expected = [w.copy() for w in a.coefs_]
    _assign(a, W, b)
    a.fit(X, y)  # warm_start=False: a fresh initialization from random_state
    _assert_close(a.coefs_, expected, "coefs_", tol=0.0)


def test_after_unpickling_the_public_arrays_follow_the_network_again():
    X, y, _, output = _problem("multiclass")
    W, b = _weights(3)
    est = pickle.loads(pickle.dumps(MLPClassifier(**_one_step_params(0.0)).fit(X, y)))
    # weights set on the network are what predicts: the unpickled coefs_ are not stale copies that win
    est.network_.set_weights([a for pair in zip(W, b) for a in pair])
    np.testing.assert_allclose(est.predict_proba(X), _forward(X, W, b, output)[-1], rtol=1e-12)
    _assert_close(est.coefs_, W, "coefs_", tol=0.0)
