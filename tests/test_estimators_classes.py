"""Class labels across calls: partial_fit's ``classes`` and warm starts, as scikit-learn checks them."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from neuronet import MLPClassifier
from neuronet.errors import DataError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    X = np.random.default_rng(0).normal(size=(40, 3))
    return X, np.arange(40) % 10


def test_the_first_partial_fit_refuses_labels_outside_classes(data):
    X, y = data
    with pytest.raises(ValueError, match="has classes not in"):  # the reference behaviour
        SkMLPClassifier().partial_fit(X, y, classes=np.arange(5))
    est = MLPClassifier(hidden_layer_sizes=(4,))
    with pytest.raises(DataError, match=r"^y contains labels not in classes: \[5, 6, 7, 8, 9\]; classes are \[0, 1"):
        est.partial_fit(X, y, classes=np.arange(5))
    assert not hasattr(est, "classes_") and not hasattr(est, "network_"), "a refused first call fits nothing"
    est.partial_fit(X, y % 5, classes=np.arange(5))  # the same estimator, with valid labels
    assert est.classes_.tolist() == [0, 1, 2, 3, 4]


def test_string_labels_outside_classes_are_named(data):
    X, _ = data
    y = np.array(["ant", "bee", "cat", "dog"])[np.arange(40) % 4]
    with pytest.raises(DataError, match=r"^y contains labels not in classes: \['cat', 'dog'\]"):
        MLPClassifier().partial_fit(X, y, classes=["ant", "bee"])
    with pytest.raises(DataError, match=r"labels not in classes: \['ant', 'bee', 'cat', 'dog'\]; classes are \[0, 1\]"):
        MLPClassifier().partial_fit(X, y, classes=[0, 1])


def test_a_later_partial_fit_refuses_unseen_labels_and_learns_nothing_from_them(data):
    X, y = data
    est = MLPClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y % 5, classes=np.arange(5))
    before = est.network_.get_weights()
    with pytest.raises(DataError, match=r"^y contains labels not in classes: \[5, 6, 7, 8, 9\]"):
        est.partial_fit(X, y)
    for w, w0 in zip(est.network_.get_weights(), before):
        np.testing.assert_array_equal(w, w0, err_msg="a refused call must not train")
    assert est.n_iter_ == 1


def test_a_later_partial_fit_takes_classes_as_a_set_as_scikit_learn(data):
    X, y = data
    y = y % 3
    for cls in (MLPClassifier, SkMLPClassifier):
        est = cls(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
        est.partial_fit(X, y, classes=[2, 0, 1])  # the same classes in another order
        assert est.classes_.tolist() == [0, 1, 2], cls.__module__
        for other in ([0, 1, 2, 3], [0, 1]):
            with pytest.raises(ValueError, match="is not the same as"):
                est.partial_fit(X, y, classes=other)
    with pytest.raises(ValueError, match=r"^`classes=\[0, 1\]` is not the same as on the first call .*\(\[0, 1, 2\]\)"):
        est = MLPClassifier(hidden_layer_sizes=(4,)).partial_fit(X, y, classes=[0, 1, 2])
        est.partial_fit(X, y, classes=np.array([0, 1]))


def test_a_warm_started_fit_refuses_other_classes_as_scikit_learn(data):
    X, y = data
    for cls in (MLPClassifier, SkMLPClassifier):
        est = cls(hidden_layer_sizes=(4,), warm_start=True, max_iter=3, random_state=0).fit(X, y % 3)
        before = est.predict_proba(X)
        with pytest.raises(ValueError, match="warm_start can only be used where `?y`? has the same classes"):
            est.fit(X, y % 3 + 3)  # as many classes as before, other labels: once relabelled silently
        with pytest.raises(ValueError, match="warm_start can only be used"):
            est.fit(X, y % 2)
        np.testing.assert_array_equal(est.predict_proba(X), before, err_msg=cls.__module__)
    with pytest.raises(DataError, match=r"previously got \[0, 1, 2\], y has \[3, 4, 5\]"):
        est = MLPClassifier(hidden_layer_sizes=(4,), warm_start=True, max_iter=3).fit(X, y % 3)
        est.fit(X, y % 3 + 3)
    est.fit(X, (y % 3)[::-1])  # the same classes: continues
    assert est.n_iter_ == 6
