"""scikit-learn's own conformance suite over both estimators, in several configurations."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuronet import MLPClassifier, MLPRegressor

ESTIMATORS = [
    MLPClassifier(),
    MLPClassifier(
        activation="logistic",
        output_activation="softmax",
        loss="cross-entropy",
        init="fan-in",
        solver="sgd",
        learning_rate_init=0.1,
    ),
    MLPClassifier(optimizer="quickprop", learning_rate_init=0.05),
    MLPClassifier(solver="lbfgs"),
    MLPRegressor(),
    MLPRegressor(activation="tanh", init="fan-in", solver="sgd", learning_rate_init=0.01),
    MLPRegressor(optimizer="quickprop", learning_rate_init=0.001),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
