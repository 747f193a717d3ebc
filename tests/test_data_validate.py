"""Boundary validation: features, labels, splits, standardization."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuronet.data.validate import (
    check_features,
    check_labels,
    split_indices,
    standardize,
    train_validation_split,
)
from neuronet.errors import DataError, NeuronetError

# --- check_features ------------------------------------------------------------------


def test_features_become_float32_c_contiguous_without_needless_copies():
    X = np.arange(12, dtype=np.int64).reshape(3, 4)
    out = check_features(X)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, X)
    fortran = np.asfortranarray(np.ones((3, 2), np.float32))
    assert check_features(fortran).flags.c_contiguous
    ready = np.ones((2, 2), np.float32)
    assert check_features(ready) is ready, "an array already in shape must not be copied"
    assert check_features(ready, dtype=np.float64).dtype == np.float64


def test_nan_location_is_reported():
    X = np.zeros((5, 7))
    X[3, 5] = np.nan
    X[4, 0] = np.inf
    with pytest.raises(DataError) as info:
        check_features(X)
    assert str(info.value) == "X: contains NaN or infinity (first at row 3, column 5)"


def test_float64_overflowing_float32_is_refused():
    with pytest.raises(DataError, match=r"X_test: value 1e\+300 overflows float32 \(first at row 0, column 1\)"):
        check_features(np.array([[0.0, 1e300]]), name="X_test")


def test_feature_count_mismatch_message():
    with pytest.raises(DataError) as info:
        check_features(np.zeros((2, 5)), n_features=64)
    assert str(info.value) == "X: has 5 features, but the model expects 64"


@pytest.mark.parametrize(
    "X, problem",
    [
        (np.zeros(4), r"expected a 2-D array \(n_samples, n_features\), got shape \(4,\) \(use X.reshape"),
        (np.zeros((2, 2, 2)), r"expected a 2-D array .* got shape \(2, 2, 2\)"),
        (np.zeros((0, 3)), "has no samples"),
        (np.zeros((3, 0)), "has no features"),
        (np.array([["a", "b"]]), "must be numeric, got dtype <U1"),
        (np.array([[1 + 2j]]), "must be numeric, got dtype complex128"),
        ([[1, 2], [3]], "cannot be made into an array"),
    ],
)
def test_malformed_features_are_refused(X, problem):
    with pytest.raises(DataError, match=f"^X: {problem}"):
        check_features(X)


def test_errors_are_value_errors_for_sklearn_style_callers():
    with pytest.raises(ValueError):
        check_features(np.zeros(3))
    assert issubclass(DataError, NeuronetError)


def test_non_float_dtype_is_refused():
    with pytest.raises(DataError, match="dtype: must be a floating-point type"):
        check_features(np.zeros((1, 1)), dtype=np.int32)


# --- check_labels ----------------------------------------------------------------------


def test_labels_are_encoded_against_sorted_classes():
    y_int, classes = check_labels(np.array(["cat", "dog", "ant", "dog"]), 4)
    assert classes.tolist() == ["ant", "cat", "dog"]
    assert y_int.dtype == np.int64 and y_int.tolist() == [1, 2, 0, 2]
    assert classes[y_int].tolist() == ["cat", "dog", "ant", "dog"], "classes[y_int] must give y back"


def test_integral_floats_are_labels_but_fractions_are_not():
    y_int, classes = check_labels(np.array([2.0, 5.0, 2.0]), 3)
    assert y_int.tolist() == [0, 1, 0] and classes.tolist() == [2.0, 5.0]
    with pytest.raises(DataError) as info:
        check_labels(np.array([0.0, 1.0, 1.5]), 3)
    assert "label 1.5 at index 2 is not an integer" in str(info.value)
    assert "regressor" in str(info.value)


@pytest.mark.parametrize(
    "y, n, problem",
    [
        (np.array([1, 1, 1]), 3, "only class 1; a classifier needs at least 2 classes"),
        (np.array([0, 1]), 3, "has 2 labels, but X has 3 samples"),
        (np.array([[0], [1]]), 2, r"expected a 1-D array of class labels, got shape \(2, 1\)"),
        (np.array([0.0, np.nan]), 2, r"contains NaN or infinity \(first at index 1\)"),
        (np.array([1, "a"], dtype=object), 2, "values of mixed types cannot be compared"),
        (np.array([], dtype=np.int64), 0, "no labels"),
    ],
)
def test_bad_labels_are_refused(y, n, problem):
    with pytest.raises(DataError, match=f"^labels: {problem}"):
        check_labels(y, n, name="labels")


def test_boolean_labels_work():
    y_int, classes = check_labels(np.array([True, False, True]), 3)
    assert y_int.tolist() == [1, 0, 1] and classes.tolist() == [False, True]


# --- splits ----------------------------------------------------------------------------


def test_split_is_a_partition_and_stratified():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, held = split_indices(y, 0.2, np.random.default_rng(0))
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(100)), "must partition the samples"
    assert np.bincount(y[held]).tolist() == [10, 6, 4], "each class keeps 20% in the held-out part"


def test_split_keeps_each_class_on_both_sides():
    y = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    train, held = split_indices(y, 0.1, np.random.default_rng(3))
    assert set(y[train]) == {0, 1} and set(y[held]) == {0, 1}


def test_split_is_shuffled_not_grouped_by_class():
    y = np.repeat([0, 1], 100)
    train, _ = split_indices(y, 0.2, np.random.default_rng(0))
    assert np.count_nonzero(np.diff(y[train])) > 10, "training part should interleave the classes"


def test_split_is_deterministic_per_seed():
    y = np.repeat([0, 1], 50)
    a = split_indices(y, 0.3, np.random.default_rng(7))
    b = split_indices(y, 0.3, np.random.default_rng(7))
    c = split_indices(y, 0.3, np.random.default_rng(8))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1])), "another seed must give another split"


def test_split_of_continuous_targets_is_plain_random():
    y = np.linspace(0, 1, 10)
    train, held = split_indices(y, 0.3, np.random.default_rng(0))
    assert len(held) == 3 and len(train) == 7


def test_split_refuses_bad_fraction_and_tiny_sets():
    with pytest.raises(DataError, match="fraction: must be between 0 and 1"):
        split_indices(np.arange(10), 1.0, np.random.default_rng(0))
    with pytest.raises(DataError, match="cannot split 1 sample"):
        split_indices(np.array([0]), 0.5, np.random.default_rng(0))


def test_train_validation_split_keeps_rows_with_their_labels():
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.repeat([0, 1], 10)
    X_tr, X_val, y_tr, y_val = train_validation_split(X, y, 0.25, np.random.default_rng(1))
    assert len(X_val) == len(y_val) and len(X_tr) + len(X_val) == 20
    for X_part, y_part in ((X_tr, y_tr), (X_val, y_val)):
        np.testing.assert_array_equal(y[(X_part[:, 0] // 2).astype(int)], y_part)
    again = train_validation_split(X, y, 0.25, 1)  # an int seeds a Generator
    np.testing.assert_array_equal(again[1], X_val)
    with pytest.raises(DataError, match="rng: expected a numpy.random.Generator"):
        train_validation_split(X, y, 0.25, None)


# --- standardize -----------------------------------------------------------------------


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(0.0, 2.0, (500, 3)).astype(np.float32)
    X_test = X_train[:100] + 10.0  # shifted test data
    mean, std, train_s, test_s = standardize(X_train, X_test)
    np.testing.assert_allclose(train_s.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_s.std(axis=0), 1.0, atol=1e-4)
    # Test data is transformed with the *training* mean and std, so its shift survives.
    np.testing.assert_allclose(test_s.mean(axis=0), (X_test.mean(axis=0) - mean) / std, rtol=1e-5)
    assert np.all(test_s.mean(axis=0) > 4.0), "a +10 shift is about +5 training standard deviations"
    assert train_s.dtype == test_s.dtype == mean.dtype == np.float32


def test_standardize_centres_constant_features_without_dividing_by_zero():
    X = np.array([[3.0, 1.0], [3.0, 2.0], [3.0, 3.0]], np.float64)
    mean, std, Xs = standardize(X)
    assert std[0] == 1.0 and mean[0] == 3.0
    assert np.all(Xs[:, 0] == 0.0) and np.isfinite(Xs).all()
    assert Xs.dtype == np.float64, "a float64 input keeps its dtype"


def test_standardize_refuses_mismatched_features():
    with pytest.raises(DataError, match="array 1: has 3 features, but X_train has 2"):
        standardize(np.zeros((4, 2)), np.zeros((2, 3)))


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(2, 60), min_size=1, max_size=8),
    fraction=st.floats(0.01, 0.99),
)
def test_split_sizes_are_exact_and_proportional(counts, fraction):
    y = np.repeat(np.arange(len(counts)), counts)
    n, k = len(y), len(counts)
    _train, held = split_indices(y, fraction, np.random.default_rng(0))
    target = min(max(int(np.floor(n * fraction + 0.5)), 1), n - 1)
    per_class = np.bincount(y[held], minlength=k)
    assert np.all(per_class >= 1) and np.all(per_class <= np.array(counts) - 1), "each class on both sides"
    if k <= target <= n - k:  # feasible with at least one sample of each class on each side
        assert len(held) == target, f"held out {len(held)}, expected round({n} * {fraction}) = {target}"
        exact = np.array(counts) * target / n
        if np.all((exact >= 1) & (exact <= np.array(counts) - 1)):  # no share had to be clamped
            assert np.all(np.abs(per_class - exact) < 1), f"shares {per_class} stray from {exact}"


# --- all_finite: the NaN/infinity check at every boundary ---------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 70_000, 199_999])  # first element, a later block, the last element
def test_all_finite_finds_one_bad_value_anywhere(bad, where):
    from neuronet._finite import all_finite

    a = np.random.default_rng(0).standard_normal(200_000).astype(np.float32).reshape(400, 500)
    assert all_finite(a)
    a.reshape(-1)[where] = bad
    assert not all_finite(a)


def test_all_finite_is_exact_when_finite_values_overflow_the_sum():
    from neuronet._finite import all_finite

    big = np.full((300, 300), np.finfo(np.float32).max, np.float32)  # the sum overflows to inf
    assert all_finite(big) and all_finite(-big)
    big[-1, -1] = np.nan
    assert not all_finite(big)
    assert all_finite(np.zeros((0, 3), np.float32)) and all_finite(np.arange(5))
    strided = np.ones((6, 4))[:, ::2].copy(order="F")[::2]
    assert not strided.flags.c_contiguous and all_finite(strided)
    strided[1, 1] = np.inf
    assert not all_finite(strided)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 3000),
    specials=st.lists(st.tuples(st.integers(0, 2999), st.sampled_from([np.nan, np.inf, -np.inf, 3e38, -3e38]))),
)
def test_all_finite_agrees_with_numpy(n, specials):
    from neuronet._finite import all_finite

    a = np.linspace(-1, 1, n, dtype=np.float32)
    for i, v in specials:
        if i < n:
            a[i] = v
    assert all_finite(a) == bool(np.isfinite(a).all())


def test_checking_features_allocates_no_temporary_the_size_of_the_data():
    import tracemalloc

    import neuronet as nn

    X = np.random.default_rng(0).random((20_000, 100), dtype=np.float32)  # 8 MB; its boolean mask would be 2 MB
    net = nn.mlp([100, 3, 2], seed=0)
    tracemalloc.start()
    try:
        assert check_features(X) is X
        assert net.check_input(X) is X
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 500_000, f"validating 8 MB of features peaked at {peak / 1e6:.1f} MB of new memory"
