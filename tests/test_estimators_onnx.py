"""An estimator's ONNX file serves its predictions: ``label`` as ``predict``, ``probabilities`` as ``predict_proba``."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime", minversion="1.18")

from sklearn.datasets import make_multilabel_classification  # noqa: E402

import neuronet  # noqa: E402
from neuronet import MLPClassifier, MLPRegressor  # noqa: E402
from neuronet.errors import ConfigError  # noqa: E402
from neuronet.onnx_export import export_model_file  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, D = 300, 5


def _X(seed=0):
    return np.random.default_rng(seed).normal(size=(N, D))  # float64, as most data is


def _outputs(path, X):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"X": X})))


def _labels(kind, X):
    if kind == "strings":
        return np.array(["no", "yes"])[(X[:, 0] + X[:, 1] > 0).astype(int)]
    if kind == "floats":
        return 10.0 + np.argmax(X[:, :3], axis=1)
    return np.argmax(X[:, :4] + 0.3 * X[:, 4:], axis=1)


CASES = {
    "multiclass softmax": ({}, "ints", np.int64),
    "binary, one logistic unit, string labels": ({}, "strings", object),
    "real-valued labels": ({}, "floats", np.float64),
    "logistic outputs, soft targets": ({"output_activation": "logistic", "target_range": (0.1, 0.9)}, "ints", np.int64),
    "tanh outputs": ({"output_activation": "tanh", "loss": "squared-error"}, "ints", np.int64),
    "float32 network": ({"dtype": "float32"}, "ints", np.int64),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_classifier_fitted_on_float64_serves_float32_requests(tmp_path, case):
    params, kind, label_dtype = CASES[case]
    X = _X()
    y = _labels(kind, X)
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.01, random_state=0, **params)
    est.fit(X, y)
    est.to_onnx(tmp_path / "m.onnx")
    X32 = _X(seed=1).astype(np.float32)  # before input_dtype, this was refused: "expected tensor(double)"
    out = _outputs(tmp_path / "m.onnx", X32)
    assert list(out) == ["label", "probabilities"]
    assert out["label"].dtype == label_dtype, f"label dtype {out['label'].dtype}"
    expected = est.predict(X32)
    assert out["label"].tolist() == expected.tolist(), f"{(out['label'] != expected).sum()} labels differ"
    assert len(set(expected.tolist())) == len(est.classes_), "the test data should reach every class"
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X32), rtol=1e-6, atol=1e-7)


def test_a_multilabel_classifier_outputs_the_indicator_matrix(tmp_path):
    X, Y = make_multilabel_classification(n_samples=N, n_features=D, n_classes=4, random_state=0)
    X = X / X.max()
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0).fit(X, Y)
    est.to_onnx(tmp_path / "m.onnx")
    out = _outputs(tmp_path / "m.onnx", X.astype(np.float32))
    np.testing.assert_array_equal(out["label"], est.predict(X))
    assert (out["label"].sum(axis=1) > 1).any(), "some samples should get several labels"
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), rtol=1e-6, atol=1e-7)


def test_input_dtype_float64_agrees_to_float64_rounding(tmp_path):
    X = _X()
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(X, _labels("ints", X))
    model = est.to_onnx(tmp_path / "m.onnx", input_dtype="float64")
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    out = _outputs(tmp_path / "m.onnx", X)
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert out["label"].tolist() == est.predict(X).tolist()
    with pytest.raises(ConfigError, match="^input_dtype must be 'float32' or 'float64', got 'float16'"):
        est.to_onnx(tmp_path / "bad.onnx", input_dtype="float16")
    assert not (tmp_path / "bad.onnx").exists()


@pytest.mark.parametrize("n_targets", [1, 2])
def test_a_regressor_keeps_its_one_output(tmp_path, n_targets):
    X = _X()
    y = X[:, :n_targets] @ np.eye(n_targets) * 2 + 0.5 if n_targets > 1 else 2 * X[:, 0] + 0.5
    est = MLPRegressor(hidden_layer_sizes=(16,), max_iter=50, random_state=0).fit(X, y)
    est.to_onnx(tmp_path / "r.onnx")
    X32 = _X(seed=1).astype(np.float32)
    out = _outputs(tmp_path / "r.onnx", X32)
    assert list(out) == ["Y"] and out["Y"].dtype == np.float32
    np.testing.assert_allclose(out["Y"].reshape(est.predict(X32).shape), est.predict(X32), rtol=1e-6, atol=1e-6)


def test_the_file_of_a_saved_estimator_exports_the_same_graph(tmp_path):
    X = _X()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0, output_activation="logistic")
    est.set_params(target_range=(0.2, 0.8)).fit(X, _labels("strings", X))
    est.save(tmp_path / "m.safetensors")
    direct = est.to_onnx(tmp_path / "a.onnx")
    via_file = export_model_file(tmp_path / "m.safetensors", tmp_path / "b.onnx")
    assert [n.op_type for n in via_file.graph.node] == [n.op_type for n in direct.graph.node]
    X32 = _X(seed=2).astype(np.float32)
    a, b = _outputs(tmp_path / "a.onnx", X32), _outputs(tmp_path / "b.onnx", X32)
    assert a["label"].tolist() == b["label"].tolist() == neuronet.load(tmp_path / "m.safetensors").predict(X32).tolist()
    np.testing.assert_array_equal(a["probabilities"], b["probabilities"])


def test_to_onnx_exports_assigned_weights(tmp_path):
    X = _X()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, _labels("ints", X))
    rng = np.random.default_rng(3)
    est.coefs_ = [rng.normal(size=c.shape) for c in est.coefs_]
    est.to_onnx(tmp_path / "m.onnx", input_dtype="float64")
    h = np.maximum(X @ est.coefs_[0] + est.intercepts_[0], 0)
    a = h @ est.coefs_[1] + est.intercepts_[1]
    P = np.exp(a - a.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(_outputs(tmp_path / "m.onnx", X)["probabilities"], P, rtol=1e-10, atol=1e-15)
