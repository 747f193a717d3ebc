"""The estimators in scikit-learn's machinery, the variations, save/load and ONNX."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_multilabel_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import neuronet
from neuronet import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return train_test_split(d.data / 16.0, d.target, test_size=0.25, random_state=0, stratify=d.target)


def test_same_parameters_and_defaults_as_scikit_learn():
    ours, theirs = MLPClassifier().get_params(), SkMLPClassifier().get_params()
    for k, v in theirs.items():
        assert k in ours, f"missing scikit-learn parameter {k}"
        assert ours[k] == v, f"{k}: default {ours[k]!r}, scikit-learn has {v!r}"
    extra = set(ours) - set(theirs)
    assert extra == {
        "output_activation",
        "loss",
        "init",
        "target_range",
        "sigmoid_prime_offset",
        "optimizer",
        "dropout",
        "dtype",
        "callbacks",
    }


@pytest.mark.parametrize(
    ("param", "value", "problem"),
    [
        ("hidden_layer_sizes", (10, 0), "layer sizes must be >= 1"),
        ("learning_rate_init", 0.0, "must be > 0"),
        ("alpha", -1e-3, "must be >= 0"),
        ("target_range", (0.9, 0.1), "low must be below high"),
        ("dtype", "float16", "must be one of float32, float64"),
        ("solver", "newton", "must be one of sgd, adam, lbfgs"),
        ("learning_rate", "cosine", "must be one of constant, invscaling, adaptive"),
        ("momentum", 1.5, "must be <= 1"),
        ("batch_size", 0, "expected 'auto' or an integer >= 1"),
        ("validation_fraction", 1.0, "must be < 1"),
        ("beta_2", 1.0, "must be < 1"),
        ("max_iter", 2.5, "expected an integer"),
        ("epsilon", 0.0, "must be > 0"),
        ("tol", -1.0, "must be >= 0"),
    ],
)
def test_bad_hyperparameters_raise_value_errors_that_name_them(param, value, problem):
    X, y = np.eye(4), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError) as info:
        MLPClassifier(**{param: value}).fit(X, y)
    message = str(info.value)
    assert message.startswith(f"{param}: ") and problem in message, (
        f"expected '{param}: ...{problem}...', got {message!r}"
    )


def test_scikit_learns_rules_where_they_differ_from_the_training_options(tmp_path):
    # momentum may be 1 (a training option's must stay below 1), batch_size may be "auto", numpy
    # integers and arrays and numpy dtypes are accepted; a numpy dtype also survives save/load
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20) % 2
    kw = {"solver": "sgd", "momentum": 1.0, "batch_size": "auto", "max_iter": np.int64(2), "dtype": np.float32}
    est = MLPClassifier(hidden_layer_sizes=np.array([3, 2]), target_range=np.array([0.1, 0.9]), **kw).fit(X, y)
    assert [c.shape for c in est.coefs_] == [(4, 3), (3, 2), (2, 1)], "layers (3, 2) and one output for 2 classes"
    assert est.network_.dtype == np.float32 and est.n_iter_ == 2
    est.save(tmp_path / "m.safetensors")
    back = neuronet.load(tmp_path / "m.safetensors")
    assert back.get_params()["dtype"] == "float32" and back.network_.dtype == np.float32
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def test_the_train_file_mapping_names_real_training_options_and_estimator_parameters():
    from neuronet.estimators.loading import TRAIN_CONFIG_PARAMS
    from neuronet.options import TRAIN

    unknown = {key for key, _ in TRAIN_CONFIG_PARAMS.values()} - set(TRAIN)
    assert not unknown, f"not training options: {sorted(unknown)}"
    assert set(TRAIN_CONFIG_PARAMS) <= set(MLPClassifier().get_params()), "not estimator parameters"


def test_accuracy_on_digits_is_at_least_scikit_learns(digits):
    Xtr, Xte, ytr, yte = digits
    ours = MLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0).fit(Xtr, ytr)
    theirs = SkMLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= theirs.score(Xte, yte) - 0.01
    assert ours.score(Xte, yte) > 0.95
    assert len(ours.loss_curve_) == ours.n_iter_ and ours.loss_curve_[-1] < ours.loss_curve_[0] / 5
    assert ours.out_activation_ == "softmax" and ours.n_layers_ == 3 and ours.n_outputs_ == 10
    assert [c.shape for c in ours.coefs_] == [(64, 64), (64, 10)]
    P = ours.predict_proba(Xte)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    assert np.array_equal(ours.classes_[P.argmax(1)], ours.predict(Xte))


def test_variations_are_wired_through(digits):
    Xtr, Xte, ytr, yte = digits
    est = MLPClassifier(
        hidden_layer_sizes=(32,),
        activation="logistic",
        output_activation="logistic",
        loss="squared-error",
        init="normal:1",
        target_range=(0.15, 0.85),
        sigmoid_prime_offset=0.1,
        optimizer="quickprop",
        learning_rate_init=0.05,
        batch_size=len(Xtr),
        max_iter=20,
        dtype="float32",
        random_state=0,
    ).fit(Xtr, ytr)
    net = est.network_
    assert net.output_unit.name == "sigmoid" and net.loss.name == "squared-error"
    assert net.layers[0].unit.prime_offset == 0.1 and est.coefs_[0].dtype == np.float32
    d = est.diagnostics_[-1]
    assert len(est.diagnostics_) == est.n_iter_ and d[0]["saturated"] is not None and d[1]["grad_norm"] > 0
    acts = est.hidden_activations(Xte)
    assert len(acts) == 1 and acts[0].shape == (len(Xte), 32) and ((acts[0] > 0) & (acts[0] < 1)).all()
    assert est.score(Xte, yte) > 0.5


def test_dropout_and_callbacks(digits):
    Xtr, _, ytr, _ = digits
    seen = []
    est = MLPClassifier(
        hidden_layer_sizes=(32,),
        dropout=0.2,
        max_iter=3,
        random_state=0,
        callbacks=[neuronet.LambdaCallback(lambda t, e, logs: seen.append(e))],
    ).fit(Xtr, ytr)
    assert seen == [0, 1, 2] and est.network_.layers[0].dropout == 0.2


def test_works_in_pipeline_gridsearch_cross_val_and_clone(digits):
    Xtr, _, ytr, _ = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=0))
    scores = cross_val_score(pipe, Xtr, ytr, cv=3)
    assert scores.mean() > 0.88
    grid = GridSearchCV(
        MLPClassifier(max_iter=15, random_state=0),
        {"hidden_layer_sizes": [(8,), (32,)], "activation": ["relu", "tanh"]},
        cv=2,
    ).fit(Xtr, ytr)
    assert grid.best_params_["hidden_layer_sizes"] == (32,)
    c = clone(grid.best_estimator_)
    assert c.get_params() == grid.best_estimator_.get_params() and not hasattr(c, "coefs_")


def test_multilabel_and_multioutput():
    X, Y = make_multilabel_classification(n_samples=300, n_classes=4, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X / X.max(), Y)
    assert est.out_activation_ == "logistic" and est.predict(X / X.max()).shape == Y.shape
    assert est.score(X / X.max(), Y) > 0.5  # exact-match ratio
    X, Y = make_regression(n_samples=200, n_features=6, n_targets=3, noise=1.0, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=500, learning_rate_init=0.01, random_state=0)
    reg.fit(StandardScaler().fit_transform(X), Y / Y.std())
    assert reg.predict(StandardScaler().fit_transform(X)).shape == (200, 3)
    assert reg.score(StandardScaler().fit_transform(X), Y / Y.std()) > 0.9


def test_partial_fit_equals_epochs_of_fit(digits):
    Xtr, _, ytr, _ = digits
    a = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, shuffle=False)
    for _ in range(3):
        a.partial_fit(Xtr, ytr, classes=np.arange(10))
    b = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, shuffle=False, max_iter=3, tol=0).fit(Xtr, ytr)
    assert a.n_iter_ == 3
    for x, y in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(Xtr, ytr)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")


def test_early_stopping_keeps_the_best_validation_weights(digits):
    Xtr, _, ytr, _ = digits
    est = MLPClassifier(
        hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3, max_iter=300, random_state=0
    ).fit(Xtr, ytr)
    assert est.n_iter_ < 300 and len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_) and est.best_loss_ is None


def test_lbfgs_and_sgd_schedules(digits):
    Xtr, Xte, ytr, yte = digits
    lb = MLPClassifier(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=200, random_state=0).fit(Xtr, ytr)
    assert lb.score(Xte, yte) > 0.93 and lb.loss_curve_ is None and lb.n_iter_ > 10
    inv = MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.5,
        power_t=0.5,
        max_iter=2,
        random_state=0,
    ).fit(Xtr, ytr)
    assert inv._trainer is None and inv.t_ == 2 * len(Xtr)
    ad = MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.2,
        n_iter_no_change=2,
        tol=10.0,
        max_iter=12,
        random_state=0,
        verbose=True,
    )
    ad.fit(Xtr, ytr)
    assert ad.n_iter_ == 12, "adaptive: divides the rate by 5 instead of stopping while the rate is > 1e-6"


def test_sample_weight_zero_equals_dropping_samples_in_full_batch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    sw = (rng.random(60) > 0.3).astype(float)
    kw = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "random_state": 0, "max_iter": 50}
    a = MLPClassifier(**kw).fit(X, y, sample_weight=sw)
    b = MLPClassifier(**kw).fit(X[sw > 0], y[sw > 0])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-9)


def test_save_and_load_round_trip(tmp_path, digits):
    Xtr, Xte, ytr, _yte = digits
    labels = np.array(list("abcdefghij"))
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit(Xtr, labels[ytr])
    est.save(tmp_path / "c.safetensors")
    back = neuronet.load(tmp_path / "c.safetensors")
    assert type(back) is MLPClassifier and back.get_params() == {**est.get_params(), "callbacks": None}
    assert np.array_equal(back.predict(Xte), est.predict(Xte)) and back.predict(Xte).dtype.kind == "U"
    np.testing.assert_array_equal(back.predict_proba(Xte), est.predict_proba(Xte))
    assert back.loss_curve_ == est.loss_curve_ and back.n_iter_ == est.n_iter_
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(Xtr, ytr.astype(float))
    reg.save(tmp_path / "r.safetensors")
    np.testing.assert_array_equal(neuronet.load(tmp_path / "r.safetensors").predict(Xte), reg.predict(Xte))


# -- files written before the estimators owned their metadata -------------------------------------
_LEGACY = Path(__file__).parent / "data"
_XQ = np.array(
    [
        [0.346, 0.822, 0.33, -1.303],
        [0.905, 0.446, -0.537, 0.581],
        [0.365, 0.294, 0.028, 0.547],
        [-0.736, -0.163, -0.482, 0.599],
        [0.04, -0.292, -0.782, -0.257],
    ]
)


def test_estimator_files_from_before_the_estimators_package_still_load():
    # written by neuronet.sklearn (persist.save_estimator) before the move to neuronet.estimators:
    # X = default_rng(0).normal(size=(60, 4)); y = ["ant", "bee", "cat"][argmax(X[:, :3] + noise)];
    # MLPClassifier((5,), max_iter=30, random_state=0, target_range=(0.1, 0.9), learning_rate_init=0.01,
    # dtype="float32"); MLPRegressor((3,), solver="lbfgs", max_iter=20, random_state=0, alpha=0.01) on two
    # targets.  The expected outputs were computed by that version.
    clf = neuronet.load(_LEGACY / "legacy_estimator_classifier.safetensors")
    assert type(clf) is MLPClassifier, f"expected an MLPClassifier, got {type(clf).__name__}"
    assert clf.get_params()["target_range"] == (0.1, 0.9) and clf.get_params()["hidden_layer_sizes"] == (5,)
    assert clf.classes_.tolist() == ["ant", "bee", "cat"] and clf.n_iter_ == 30 and len(clf.loss_curve_) == 30
    assert clf.predict(_XQ).tolist() == ["bee", "bee", "bee", "ant", "ant"]
    expected = [
        [0.30340627, 0.36219713, 0.3343966],
        [0.3214951, 0.51402175, 0.16448319],
        [0.36078945, 0.39156264, 0.24764794],
        [0.44233122, 0.39529777, 0.16237102],
        [0.45264485, 0.3826934, 0.1646618],
    ]
    np.testing.assert_allclose(clf.predict_proba(_XQ), expected, rtol=1e-6)
    reg = neuronet.load(_LEGACY / "legacy_estimator_regressor.safetensors")
    assert type(reg) is MLPRegressor and reg.get_params()["solver"] == "lbfgs" and reg.n_iter_ == 20
    expected = [
        [-0.5355505031101879, 0.0281632457369268],
        [0.42620597833886176, 0.10798462218615713],
        [0.05053451132096964, 0.07680561360293464],
        [-0.584900807711816, -0.2048679968353837],
        [0.33644984627165375, -0.30340762029183904],
    ]
    np.testing.assert_allclose(reg.predict(_XQ), expected, rtol=1e-12)


def test_a_train_file_from_before_the_estimators_package_still_loads_as_a_pipeline():
    # written by `neuronet train --data circles --hidden 4 --epochs 40 --lr 0.5 --standardize --seed 1 --out ...`
    # before the move to neuronet.estimators; the expected outputs were computed by that version
    from sklearn.pipeline import Pipeline

    est = neuronet.load(_LEGACY / "legacy_train_circles.safetensors")
    assert isinstance(est, Pipeline) and [name for name, _ in est.steps] == ["standardize", "mlp"]
    mlp = est[-1]
    assert type(mlp) is MLPClassifier and mlp.n_iter_ == 40 and mlp.classes_.tolist() == [0, 1]
    assert mlp.get_params()["activation"] == "sigmoid" and mlp.get_params()["hidden_layer_sizes"] == (4,)
    Xc = np.vstack([_XQ[:, :2], [[1.2, -0.9]]])
    assert est.predict(Xc).tolist() == [0, 0, 1, 0, 1, 0]
    expected = [
        [0.95715624, 0.04284379],
        [0.97759938, 0.02240068],
        [0.01861284, 0.98138714],
        [0.9014532, 0.09854683],
        [0.00191564, 0.99808443],
        [0.99078232, 0.0092177],
    ]
    np.testing.assert_allclose(est.predict_proba(Xc), expected, rtol=1e-5)


def test_load_a_cli_model_as_a_pipeline(tmp_path):
    from sklearn.pipeline import Pipeline
    from typer.testing import CliRunner

    from neuronet.cli import app

    m = tmp_path / "m.safetensors"
    r = CliRunner().invoke(
        app, ["train", "--data", "digits", "--hidden", "16", "--epochs", "3", "--standardize", "--out", str(m)]
    )
    assert r.exit_code == 0, r.output
    acc = float(r.stdout.splitlines()[-2].split("test accuracy")[1])
    est = neuronet.load(m)
    assert isinstance(est, Pipeline)
    ds = neuronet.data.load("digits", seed=0)
    assert est.score(ds.X_test, ds.y_test) == pytest.approx(acc, abs=1e-4)


@pytest.mark.parametrize(
    "est",
    [
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, dtype="float32"),
        MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, dtype="float32"),
    ],
)
def test_to_onnx_matches(tmp_path, est, digits):
    # a classifier's file outputs label and probabilities (they replaced the raw outputs), a regressor's Y
    ort = pytest.importorskip("onnxruntime")
    Xtr, Xte, ytr, _ = digits
    est.fit(Xtr, ytr if isinstance(est, MLPClassifier) else ytr.astype(float))
    est.to_onnx(tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"X": Xte.astype(np.float32)})))
    if isinstance(est, MLPClassifier):
        assert out["label"].tolist() == est.predict(Xte).tolist()
        np.testing.assert_allclose(out["probabilities"], est.predict_proba(Xte), atol=1e-5)
    else:
        np.testing.assert_allclose(out["Y"].ravel(), est.predict(Xte), atol=1e-5)


def test_load_refuses_files_it_cannot_turn_into_an_estimator(tmp_path):
    from neuronet.errors import ModelFileError
    from neuronet.modelfile import save_model

    net = neuronet.mlp([3, 4, 2], seed=0)
    for meta, problem in [
        ({}, "has no estimator or training metadata"),
        ({"estimator": "MLPRanker"}, "unknown estimator 'MLPRanker'; valid: MLPClassifier, MLPRegressor"),
        ({"estimator": "MLPRegressor", "params": {"colour": "red"}}, "estimator parameters do not fit MLPRegressor"),
    ]:
        save_model(tmp_path / "m.safetensors", net, metadata=meta)
        with pytest.raises(ModelFileError, match=problem):
            neuronet.load(tmp_path / "m.safetensors")
    # metadata the loader's schema refuses is not even written
    with pytest.raises(ModelFileError, match="a classifier needs a list of at least 2 classes"):
        save_model(tmp_path / "one.safetensors", net, metadata={"estimator": "MLPClassifier", "classes": ["a"]})
    assert not (tmp_path / "one.safetensors").exists()


@pytest.mark.parametrize(
    ("weights", "needle"),
    [
        (np.zeros(20), "sample_weight: all weights are zero"),
        (np.ones(3), r"sample_weight: expected shape \(20,\), got \(3,\)"),
        (np.r_[-1.0, np.ones(19)], "sample_weight: must be finite and >= 0"),
    ],
)
def test_estimators_and_trainer_check_sample_weights_alike(weights, needle):
    from neuronet import MLPClassifier, Trainer, mlp

    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=needle):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match=needle):
        Trainer(mlp([3, 4, 2], seed=0), epochs=1).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_the_html_repr_and_the_docstring_parse_without_warnings(cls):
    # scikit-learn's HTML repr reads the class docstring with numpydoc, which warned "Unknown section
    # Extra Parameters" for a non-standard section name; it caches the parse, so parse it here too.
    import inspect
    import warnings

    from sklearn.externals._numpydoc import docscrape

    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 3
    est = cls(max_iter=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = docscrape.NumpyDocString(inspect.getdoc(cls))
        html = est._repr_html_()
    assert "max_iter" in html and "fitted" in html
    names = {p.name for p in doc["Parameters"]}
    assert names <= set(cls().get_params()), f"documented parameters that do not exist: {names}"
    if cls is MLPClassifier:  # the parameters scikit-learn does not have, each under its own name
        assert names == set(cls().get_params()) - set(SkMLPClassifier().get_params()), names


@pytest.mark.parametrize("param", ["early_stopping", "warm_start", "nesterovs_momentum", "shuffle", "verbose"])
def test_switches_must_be_booleans_not_truthy_strings(param):
    from neuronet import MLPClassifier

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=rf"^{param}: expected .*got 'no'"):
        MLPClassifier(max_iter=2, **{param: "no"}).fit(X, y)  # "no" is truthy: it switched early stopping on
    MLPClassifier(max_iter=2, **{param: np.False_}).fit(X, y)  # numpy's booleans are booleans


def test_lbfgs_with_a_non_finite_loss_raises_like_the_stochastic_solvers():
    import warnings

    from neuronet import MLPRegressor
    from neuronet.errors import DivergenceError

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X[:, 0] * 1e200  # squared error overflows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in ("lbfgs", "adam"):
            m = MLPRegressor(solver=solver, random_state=0, max_iter=5)
            with pytest.raises(DivergenceError):
                m.fit(X, y)
            assert all(np.isfinite(w).all() for w in m.network_.get_weights())  # weights restored


def test_save_to_an_onnx_name_points_to_to_onnx(tmp_path):
    from neuronet import MLPClassifier

    X = np.random.default_rng(0).normal(size=(20, 3))
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(ValueError, match="save writes a .safetensors model file; for ONNX call to_onnx"):
        clf.save(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
