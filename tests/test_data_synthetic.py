"""Synthetic sets: exact patterns, seeded generation, balanced classes."""

import numpy as np
import pytest

from neuronet.data import load, synthetic
from neuronet.errors import DataError


def test_xor_is_the_xor_truth_table():
    ds = load("xor")
    table = {(int(a), int(b)): int(label) for (a, b), label in zip(ds.X_train, ds.y_train)}
    assert table == {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}
    np.testing.assert_array_equal(ds.X_test, ds.X_train)
    np.testing.assert_array_equal(ds.y_test, ds.y_train)
    assert ds.X_test is not ds.X_train, "train and test are equal but independent arrays"
    assert ds.n_classes == 2 and ds.classes == (0, 1)


@pytest.mark.parametrize("spec, n", [("encoder:8-3-8", 8), ("encoder:4-2-4", 4), ("ENCODER:10-5-10", 10)])
def test_encoder_patterns_are_one_hot_and_their_own_targets(spec, n):
    ds = load(spec)
    assert ds.X_train.shape == (n, n)
    assert np.all(ds.X_train.sum(axis=1) == 1) and set(np.unique(ds.X_train)) == {0.0, 1.0}
    # The target of pattern i is pattern i: its label is the position of its single 1.
    np.testing.assert_array_equal(np.argmax(ds.X_train, axis=1), ds.y_train)
    np.testing.assert_array_equal(np.eye(n)[ds.y_train], ds.X_train)
    assert ds.n_classes == n and len(set(ds.y_train.tolist())) == n


@pytest.mark.parametrize(
    "spec, problem",
    [
        ("encoder:8-3-9", "input size 8 differs from output size 9"),
        ("encoder:x", "expected encoder:N-M-N"),
        ("encoder:8-3", "expected encoder:N-M-N"),
        ("encoder:1-1-1", "N >= 2 patterns"),
        ("encoder:8-0-8", "M >= 1 hidden units"),
    ],
)
def test_bad_encoder_spec_is_explained(spec, problem):
    with pytest.raises(DataError) as info:
        load(spec)
    message = str(info.value)
    assert message.startswith(f"--data {spec!r}: ") and problem in message and "e.g. encoder:8-3-8" in message


@pytest.mark.parametrize("name", ["spirals", "circles"])
def test_spirals_and_circles_are_seeded_and_balanced(name):
    a, b, c = load(name, seed=4), load(name, seed=4), load(name, seed=5)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.allclose(a.X_train[:10], c.X_train[:10]), "another seed must give other points"
    y = np.concatenate([a.y_train, a.y_test])
    assert np.bincount(y).tolist() == [200, 200]
    assert np.bincount(a.y_test).tolist() == [40, 40], "stratified 20% test split"
    assert a.X_train.shape[1] == 2 and a.X_train.dtype == np.float32


def test_generators_leave_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    load("spirals")
    load("circles")
    assert np.random.random() == expected


def test_circles_lie_on_their_radii():
    X, y = synthetic.circles(2000, np.random.default_rng(0), factor=0.5, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.5, atol=1e-6)


def test_spirals_are_point_reflections_of_each_other():
    X, y = synthetic.spirals(1000, np.random.default_rng(0), noise=0.0)
    radius, angle = np.hypot(X[:, 0], X[:, 1]), np.arctan2(X[:, 1], X[:, 0])
    turns = 1.5
    # class 0 lies on r = theta / (2 pi turns): the angle matches r modulo one turn
    theta0 = radius[y == 0] * 2 * np.pi * turns
    np.testing.assert_allclose(np.cos(theta0), np.cos(angle[y == 0]), atol=1e-4)
    # class 1 is the same curve turned by 180 degrees
    theta1 = radius[y == 1] * 2 * np.pi * turns
    np.testing.assert_allclose(np.cos(theta1 + np.pi), np.cos(angle[y == 1]), atol=1e-4)
    assert radius.max() <= 1.0 + 1e-6


def test_odd_n_splits_classes_as_evenly_as_possible():
    _, y = synthetic.spirals(7, np.random.default_rng(0))
    assert np.bincount(y).tolist() == [4, 3]
    with pytest.raises(DataError, match="n must be at least 4"):
        synthetic.circles(3, np.random.default_rng(0))
    with pytest.raises(DataError, match="rng must be a numpy.random.Generator"):
        synthetic.spirals(10, 0)
