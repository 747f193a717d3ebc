"""ONNX export: onnxruntime must compute what ``Network.predict`` computes, for every unit."""

import os
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
# onnxruntime 1.17 fuses Gemm + activation into FusedGemm, which has no float64 kernel there.
ort = pytest.importorskip("onnxruntime", minversion="1.18")

import neuronet  # noqa: E402
from neuronet import Dense, Network, mlp  # noqa: E402
from neuronet.errors import ConfigError, ModelFileError  # noqa: E402
from neuronet.modelfile import load_model, save_model  # noqa: E402
from neuronet.onnx_export import IR_VERSION, OPSET, export_model_file, network_to_onnx, save_onnx  # noqa: E402
from neuronet.units import Unit  # noqa: E402

HIDDEN = ["identity", "sigmoid", "tanh", "lecun-tanh", "relu", "leaky-relu", "softplus"]
OUTPUTS = ["softmax", "sigmoid", "identity", "tanh"]
SLOPE = 0.23  # not leaky-relu's default 0.01
TOL = {np.float32: 1e-5, np.float64: 1e-12}


# -- helpers ------------------------------------------------------------------------------------
def _unit(name):
    return {"name": "leaky-relu", "slope": SLOPE} if name == "leaky-relu" else name


def _trained_looking(net, seed=7):
    """Overwrite the initial weights with larger ones and non-zero biases, as training leaves them.

    Pre-activations then spread over roughly [-6, 6]: sigmoid and tanh units saturate on both
    sides, ReLUs are silent for about half the samples, and every bias matters.
    """
    rng = np.random.default_rng(seed)
    weights = []
    for L in net.layers:
        weights.append(rng.normal(0.0, 2.0 / np.sqrt(L.n_in), size=(L.n_in, L.n_out)))
        weights.append(rng.normal(0.0, 1.0, size=L.n_out))
    net.set_weights(weights)
    return net


def _net(hidden, output, sizes=(6, 9, 4), dtype=np.float32, seed=0):
    return _trained_looking(mlp(list(sizes), hidden=_unit(hidden), output=output, dtype=dtype, seed=seed), seed)


def _inputs(n, d, dtype=np.float32, seed=1):
    return (2.0 * np.random.default_rng(seed).standard_normal((n, d))).astype(dtype)


def _session(model):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _run(model, X):
    (Y,) = _session(model).run(None, {"X": X})
    return Y


def _assert_matches(net, model, X, tol=None):
    expected = net.predict(X)
    got = _run(model, X)
    assert got.dtype == net.dtype, f"onnxruntime returned {got.dtype}, the network computes in {net.dtype}"
    assert got.shape == expected.shape, f"output shape {got.shape}, expected {expected.shape}"
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64)).max()
    tol = TOL[net.dtype.type] if tol is None else tol
    assert diff <= tol, f"onnxruntime differs from Network.predict by {diff:.3g} (tolerance {tol:g})"


# -- every unit, float32 and float64 -------------------------------------------------------------
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_float32_export_matches_predict_for_every_hidden_and_output_unit(hidden, output):
    net = _net(hidden, output)
    model = network_to_onnx(net)
    X = _inputs(257, 6)
    # The test is only meaningful when the units work away from their linear region.
    a = X @ net.layers[0].W + net.layers[0].b
    assert (a < -2).mean() > 0.1 and (a > 2).mean() > 0.1, "pre-activations should reach both tails"
    _assert_matches(net, model, X)


@pytest.mark.parametrize(
    "hidden, output",
    [
        ("sigmoid", "softmax"),
        ("leaky-relu", "identity"),
        ("softplus", "sigmoid"),
        ("lecun-tanh", "tanh"),
        ("relu", "softmax"),
    ],
)
def test_float64_export_matches_predict_to_1e_12(hidden, output):
    net = _net(hidden, output, dtype=np.float64)
    model = network_to_onnx(net, input_dtype="float64")  # float64 in and out: no Cast anywhere
    assert "Cast" not in {n.op_type for n in model.graph.node}
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert all(t.data_type == onnx.TensorProto.DOUBLE for t in model.graph.initializer)
    _assert_matches(net, model, _inputs(200, 6, np.float64))


def test_float32_graph_is_float_throughout():
    model = network_to_onnx(_net("lecun-tanh", "softmax"))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.FLOAT}


def test_softplus_does_not_overflow_for_large_pre_activations():
    # softplus(a) = a for large a; a naive log(1 + exp(a)) gives inf from a ~ 89 (float32) / 710 (float64).
    for dtype in (np.float32, np.float64):
        net = Network([Dense(2, 3, "softplus", dtype=dtype, rng=np.random.default_rng(0))], "squared-error")
        net.set_weights([np.array([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]]), np.zeros(3)])
        X = np.array([[800.0, 1.0], [-800.0, 1.0], [30.0, 0.0], [0.0, 0.0]], dtype=dtype)
        model = network_to_onnx(net, input_dtype=np.dtype(dtype).name)  # the network's own dtype end to end
        got = _run(model, X)
        assert np.isfinite(got).all(), f"{dtype.__name__}: softplus export overflowed: {got}"
        _assert_matches(net, model, X)


# -- the graph itself ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hidden, ops",
    [
        ("identity", ["Gemm", "Gemm", "Softmax"]),
        ("sigmoid", ["Gemm", "Sigmoid", "Gemm", "Softmax"]),
        ("tanh", ["Gemm", "Tanh", "Gemm", "Softmax"]),
        ("lecun-tanh", ["Gemm", "Mul", "Tanh", "Mul", "Gemm", "Softmax"]),
        ("relu", ["Gemm", "Relu", "Gemm", "Softmax"]),
        ("leaky-relu", ["Gemm", "LeakyRelu", "Gemm", "Softmax"]),
        ("softplus", ["Gemm", "Softplus", "Gemm", "Softmax"]),
    ],
)
def test_each_unit_becomes_the_documented_onnx_nodes(hidden, ops):
    model = network_to_onnx(_net(hidden, "softmax"))
    assert [n.op_type for n in model.graph.node] == ops
    nodes = {n.op_type: n for n in model.graph.node}
    for gemm in (n for n in model.graph.node if n.op_type == "Gemm"):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in gemm.attribute}
        assert attrs.get("transA", 0) == 0 and attrs.get("transB", 0) == 0, f"Gemm should not transpose: {attrs}"
    if hidden == "leaky-relu":
        alpha = onnx.helper.get_attribute_value(nodes["LeakyRelu"].attribute[0])
        assert alpha == pytest.approx(SLOPE, rel=1e-7), f"LeakyRelu alpha {alpha}, expected the slope {SLOPE}"
    if hidden == "lecun-tanh":
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
        consts = sorted(float(v) for k, v in inits.items() if v.ndim == 0)
        assert consts == pytest.approx([2 / 3, 1.7159], rel=1e-7), f"LeCun constants {consts}"
    assert model.graph.node[-1].output[0] == "Y"


def test_weights_are_initializers_in_the_network_layout():
    net = _net("tanh", "softmax", sizes=(6, 9, 5, 4))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in network_to_onnx(net).graph.initializer}
    for i, L in enumerate(net.layers):
        np.testing.assert_array_equal(inits[f"layers.{i}.W"], L.W, err_msg=f"W{i} should be stored (n_in, n_out)")
        np.testing.assert_array_equal(inits[f"layers.{i}.b"], L.b, err_msg=f"b{i}")


def test_opset_ir_version_producer_and_doc_are_pinned_in_the_file(tmp_path):
    path = tmp_path / "m.onnx"
    save_onnx(_net("relu", "softmax"), path, doc_string="digits classifier")
    model = onnx.load(str(path))
    assert (OPSET, IR_VERSION) == (17, 8)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    assert model.ir_version == IR_VERSION
    # The pinned IR version is the lowest that can carry the pinned opset: old runtimes load it.
    assert onnx.helper.find_min_ir_version_for([onnx.helper.make_opsetid("", OPSET)]) == IR_VERSION
    assert (model.producer_name, model.producer_version) == ("neuronet", neuronet.__version__)
    assert model.doc_string == "digits classifier"
    assert "neuronet.network" in {p.key for p in model.metadata_props}
    onnx.checker.check_model(model, full_check=True)


def test_every_export_passes_the_full_onnx_check(monkeypatch):
    calls = []
    real = onnx.checker.check_model

    def recording(model, full_check=False, **kw):
        calls.append(full_check)
        return real(model, full_check=full_check, **kw)

    monkeypatch.setattr(onnx.checker, "check_model", recording)
    network_to_onnx(_net("softplus", "softmax"))
    assert calls == [True], f"expected one check_model(full_check=True) call, got {calls}"


def test_another_opset_gets_the_lowest_ir_version_that_carries_it():
    net = _net("sigmoid", "softmax")
    model = network_to_onnx(net, opset=13)
    assert model.opset_import[0].version == 13 and model.ir_version == 7
    _assert_matches(net, model, _inputs(50, 6))
    for bad in (12, 10_000, "17", 17.0, True):
        with pytest.raises(ConfigError, match="opset"):
            network_to_onnx(net, opset=bad)


def test_custom_names_and_metadata():
    net = _net("tanh", "softmax")
    model = network_to_onnx(net, input_name="pixels", output_name="probs", metadata={"classes": [0, 1, 2, 3]})
    assert [i.name for i in model.graph.input] == ["pixels"]
    assert [o.name for o in model.graph.output] == ["probs"]
    assert {p.key: p.value for p in model.metadata_props}["classes"] == "[0, 1, 2, 3]"
    X = _inputs(10, 6)
    (Y,) = _session(model).run(["probs"], {"pixels": X})
    np.testing.assert_allclose(Y, net.predict(X), atol=1e-5)
    with pytest.raises(ConfigError, match="differ"):
        network_to_onnx(net, input_name="Z", output_name="Z")


# -- structure: lesions, depth, dropout, batch sizes ---------------------------------------------
def test_lesioned_layers_export_and_silenced_units_output_exactly_zero():
    net = _net("relu", "sigmoid", sizes=(6, 10, 8, 5))
    net.layers[0].set_unit_mask([1, 0, 1, 1, 0, 1, 1, 1, 0, 1])
    net.layers[2].set_unit_mask([1, 1, 0, 1, 1])
    model = network_to_onnx(net)
    assert [n.op_type for n in model.graph.node].count("Mul") == 2, "one Mul per lesioned layer"
    X = _inputs(300, 6)
    _assert_matches(net, model, X)
    got = _run(model, X)
    assert np.all(got[:, 2] == 0), "a lesioned output unit should output exactly 0"
    assert (got[:, [0, 1, 3, 4]] > 0).mean(axis=0).min() > 0.5, "intact sigmoid outputs should be mostly positive"
    # Without the masks the outputs differ: the lesion is really in the graph.
    net.layers[0].set_unit_mask(None)
    assert np.abs(net.predict(X) - got).max() > 1e-2


def test_depth_3_network_with_a_different_unit_in_every_layer():
    rng = np.random.default_rng(3)
    layers = [
        Dense(8, 16, "lecun-tanh", rng=rng),
        Dense(16, 12, {"name": "leaky-relu", "slope": SLOPE}, rng=rng),
        Dense(12, 10, "softplus", rng=rng),
        Dense(10, 4, "softmax", rng=rng),
    ]
    net = _trained_looking(Network(layers, "cross-entropy"))
    model = network_to_onnx(net)
    assert [n.op_type for n in model.graph.node].count("Gemm") == 4
    _assert_matches(net, model, _inputs(500, 8))


def test_dropout_is_not_exported_and_predictions_still_match():
    net = _trained_looking(mlp([6, 12, 9, 3], hidden="sigmoid", output="softmax", dropout=0.5, seed=0))
    model = network_to_onnx(net)
    assert "Dropout" not in {n.op_type for n in model.graph.node}
    _assert_matches(net, model, _inputs(100, 6))


def test_sigmoid_prime_offset_does_not_change_the_export():
    net = _trained_looking(mlp([6, 9, 4], hidden="sigmoid", output="sigmoid", prime_offset=0.1, seed=0))
    _assert_matches(net, network_to_onnx(net), _inputs(100, 6))


def test_one_model_serves_batch_sizes_1_and_1000():
    net = _net("tanh", "softmax", sizes=(6, 20, 4))
    model = network_to_onnx(net)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert (dims[0].dim_param, dims[1].dim_value) == ("N", 6), "batch dimension should be symbolic"
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "N"
    sess = _session(model)
    for n in (1, 1000):
        X = _inputs(n, 6, seed=n)
        (Y,) = sess.run(None, {"X": X})
        assert Y.shape == (n, 4)
        assert np.abs(Y - net.predict(X)).max() <= 1e-5, f"batch of {n}"


# -- refusals ------------------------------------------------------------------------------------
class _Swish(Unit):
    name = "swish"

    def forward(self, a, out):
        np.multiply(a, 1 / (1 + np.exp(-a)), out=out)
        return out


def test_unknown_unit_is_refused_with_its_name():
    net = Network([Dense(3, 2, _Swish(), rng=np.random.default_rng(0))], "squared-error")
    with pytest.raises(ConfigError, match="'swish'"):
        network_to_onnx(net)


def test_subclass_of_a_builtin_unit_is_refused():
    class Sharper(neuronet.Sigmoid):
        def forward(self, a, out):
            return super().forward(2 * a, out)

    net = Network([Dense(3, 2, Sharper(), rng=np.random.default_rng(0))], "squared-error")
    with pytest.raises(ConfigError, match="Sharper"):
        network_to_onnx(net)


def test_non_finite_weights_and_non_networks_are_refused():
    net = _net("relu", "softmax")
    net.layers[1].b[0] = np.nan
    with pytest.raises(ConfigError, match=r"layers\.1\.b"):
        network_to_onnx(net)
    with pytest.raises(ConfigError, match="Network"):
        network_to_onnx("model.safetensors")


def test_missing_onnx_package_gives_one_line_install_hint(monkeypatch, tmp_path):
    import neuronet.onnx_export as ox

    for mod in [m for m in sys.modules if m == "onnx" or m.startswith("onnx.")]:
        monkeypatch.setitem(sys.modules, mod, None)  # None in sys.modules: import raises ImportError
    hint = "ONNX export needs the onnx package: pip install 'neuronet[onnx]'"
    for call in (
        lambda: ox.network_to_onnx(_net("relu", "softmax")),
        lambda: ox.save_onnx(_net("relu", "softmax"), tmp_path / "a.onnx"),
        lambda: ox.export_model_file(tmp_path / "missing.safetensors", tmp_path / "b.onnx"),
    ):
        with pytest.raises(ConfigError) as e:
            call()
        assert str(e.value) == hint
    assert os.listdir(tmp_path) == []


def test_module_imports_without_onnx():
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "import neuronet.onnx_export as ox\n"
        "try:\n    ox.network_to_onnx(None)\n"
        "except ox.ConfigError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ONNX export needs the onnx package: pip install 'neuronet[onnx]'"


# -- files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_export_model_file_from_a_saved_model_loads_and_matches(tmp_path, dtype):
    # The file's `classes` metadata makes it a classifier: outputs `label` and `probabilities` (they
    # replaced the single output `Y` of a file with classes); the input is float32 by default.
    net = _net("lecun-tanh", "softmax", sizes=(6, 9, 7, 4), dtype=dtype)
    net.layers[1].set_unit_mask([1, 1, 0, 1, 1, 1, 0])
    src, out = tmp_path / "model.safetensors", tmp_path / "model.onnx"
    save_model(src, net, metadata={"classes": ["a", "b", "c", "d"]})
    returned = export_model_file(src, out)
    model = onnx.load(str(out))
    assert model.SerializeToString() == returned.SerializeToString(), "the returned model is the written one"
    onnx.checker.check_model(model, full_check=True)
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    loaded, _ = load_model(src)
    X = _inputs(64, 6, np.float32)
    label, proba = _session(model).run(None, {"X": X})
    for which in (loaded, net):
        expected = which.predict(X.astype(dtype))
        assert np.abs(proba - expected).max() <= 1e-5, "probabilities should be the softmax outputs"
        assert label.tolist() == np.array(list("abcd"))[expected.argmax(axis=1)].tolist(), "label = class of the max"
    assert sorted(os.listdir(tmp_path)) == ["model.onnx", "model.safetensors"], "no temp files left"
    # and a file without classes keeps its single output, here in float64 on request
    save_model(src, net)
    plain = export_model_file(src, out, input_dtype="float64")
    assert [o.name for o in plain.graph.output] == ["Y"]
    X = _inputs(64, 6, np.float64)
    got = _run(plain, X)
    assert got.dtype == np.float64, f"outputs follow input_dtype: expected float64, got {got.dtype}"
    diff = np.abs(got - net.predict(X.astype(dtype))).max()
    assert diff <= TOL[dtype], f"the float64 export differs from predict by {diff:.3g}"


def test_export_model_file_reports_a_bad_model_file_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="bad.safetensors"):
        export_model_file(bad, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    net = _net("relu", "softmax")
    target = tmp_path / "model.onnx"

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ModelFileError, match="model.onnx.*No space left"):
        save_onnx(net, target)
    assert os.listdir(tmp_path) == [], f"expected nothing written, found {os.listdir(tmp_path)}"

    src = tmp_path / "m.safetensors"
    monkeypatch.undo()
    save_model(src, net)
    target.write_bytes(b"old content")
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ModelFileError):
        export_model_file(src, target)
    assert target.read_bytes() == b"old content", "a failed export must leave the old file untouched"
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors", "model.onnx"], "no temp files left"


# -- the input's element type ---------------------------------------------------------------------
def test_a_float64_network_serves_float32_input_by_default_with_float64_arithmetic_inside():
    # Before input_dtype, a float64 network's graph refused float32 input ("expected tensor(double)").
    net = _net("softplus", "softmax", dtype=np.float64)
    model = network_to_onnx(net)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    ops = [n.op_type for n in model.graph.node]
    assert ops[0] == "Cast" and ops[-1] == "Cast", f"a Cast in and a Cast out, got {ops}"
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    for i, L in enumerate(net.layers):  # the weights stay float64, bit for bit
        assert inits[f"layers.{i}.W"].dtype == np.float64
        np.testing.assert_array_equal(inits[f"layers.{i}.W"], L.W, err_msg=f"W{i}")
    X = _inputs(300, 6, np.float32)
    got = _run(model, X)
    assert got.dtype == np.float32, f"the output follows input_dtype, got {got.dtype}"
    expected = net.predict(X.astype(np.float64))  # float32 -> float64 is exact: the same numbers
    # computed in float64 and rounded once to float32: within one float32 ulp (2**-23 relative); the
    # whole network in float32 would be off by many ulps
    np.testing.assert_allclose(got, expected, rtol=2.0**-23, atol=1e-30)


def test_a_float32_network_can_take_float64_input():
    net = _net("tanh", "identity")
    model = network_to_onnx(net, input_dtype="float64")
    X = _inputs(100, 6, np.float64)
    got = _run(model, X)
    assert got.dtype == np.float64, f"the output follows input_dtype, got {got.dtype}"
    np.testing.assert_allclose(got, net.predict(X.astype(np.float32)), atol=1e-5)


@pytest.mark.parametrize("bad", ["float16", "int64", "f8x", None, True, 32])
def test_an_invalid_input_dtype_is_refused_naming_the_option(tmp_path, bad):
    net = _net("relu", "softmax")
    src = tmp_path / "m.safetensors"
    save_model(src, net)
    for call in (
        lambda: network_to_onnx(net, input_dtype=bad),
        lambda: save_onnx(net, tmp_path / "a.onnx", input_dtype=bad),
        lambda: export_model_file(src, tmp_path / "b.onnx", input_dtype=bad),
    ):
        with pytest.raises(ConfigError, match=r"^input_dtype must be 'float32' or 'float64', got "):
            call()
    assert os.listdir(tmp_path) == ["m.safetensors"], "nothing written"


# -- classifiers: label and probabilities ----------------------------------------------------------
def _outputs(model, X):
    sess = _session(model)
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"X": X})))


@pytest.mark.parametrize(
    ("classes", "onnx_type", "np_kind"),
    [
        ([3, 5, 7, 11], onnx.TensorProto.INT64, "i"),
        (["ant", "bee", "cat", "dog"], onnx.TensorProto.STRING, "O"),
        ([0.5, 1.5, 2.5, 3.5], onnx.TensorProto.DOUBLE, "f"),
    ],
)
def test_a_softmax_classifier_outputs_its_labels_and_probabilities(classes, onnx_type, np_kind):
    net = _net("relu", "softmax", dtype=np.float64)
    model = network_to_onnx(net, classes=classes)
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    assert model.graph.output[0].type.tensor_type.elem_type == onnx_type
    assert [n.op_type for n in model.graph.node] == [
        "Cast",
        "Gemm",
        "Relu",
        "Gemm",
        "Softmax",
        "Cast",
        "ArgMax",
        "Gather",
    ]
    X = _inputs(400, 6)
    out = _outputs(model, X)
    P = net.predict(X.astype(np.float64))
    assert out["label"].dtype.kind == np_kind, f"label dtype {out['label'].dtype}"
    assert out["label"].tolist() == np.array(classes)[P.argmax(axis=1)].tolist(), "label is the class of the max"
    assert len(set(out["label"].tolist())) == 4, "the test data should reach every class"
    np.testing.assert_allclose(out["probabilities"], P, rtol=2.0**-23, atol=1e-30)


def test_a_single_sigmoid_unit_gives_two_columns_and_the_label_by_p_above_half():
    net = _net("tanh", "sigmoid", sizes=(6, 9, 1))
    model = network_to_onnx(net, classes=["no", "yes"])
    X = _inputs(500, 6)
    out = _outputs(model, X)
    p = net.predict(X)[:, 0]
    tiny, below_one = np.finfo(np.float32).tiny, np.nextafter(np.float32(1), np.float32(0))
    p = np.clip(p, tiny, below_one)  # kept inside (0, 1), as MLPClassifier.predict_proba
    np.testing.assert_allclose(out["probabilities"], np.stack([1 - p, p], axis=1), atol=1e-6)
    assert out["label"].tolist() == np.where(p > 0.5, "yes", "no").tolist()
    assert 0.2 < (out["label"] == "yes").mean() < 0.8, "the test data should reach both classes"
    assert (out["probabilities"] > 0).all() and (out["probabilities"] < 1).all()


@pytest.mark.parametrize(
    ("output", "output_range", "low", "high"), [("tanh", None, -1.0, 1.0), ("sigmoid", (0.1, 0.9), 0.1, 0.9)]
)
def test_independent_outputs_are_rescaled_clipped_and_normalised(output, output_range, low, high):
    # what MLPClassifier.predict_proba does with outputs that are not a softmax, written out in numpy
    net = _net("relu", output, dtype=np.float64)
    model = network_to_onnx(net, classes=[0, 1, 2, 3], output_range=output_range, input_dtype="float64")
    X = _inputs(400, 6, np.float64)
    out = _outputs(model, X)
    Z = np.clip((net.predict(X) - low) / (high - low), np.finfo(np.float64).tiny, np.nextafter(1.0, 0.0))
    P = Z / Z.sum(axis=1, keepdims=True)
    # saturated units: (z - low) cancels, so compare absolutely (float64 rounding of onnxruntime's units)
    np.testing.assert_allclose(out["probabilities"], P, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-12)
    assert out["label"].tolist() == P.argmax(axis=1).tolist()


def test_multilabel_outputs_are_independent_and_the_label_is_the_indicator_matrix():
    net = _net("relu", "sigmoid")
    model = network_to_onnx(net, classes=[0, 1, 2, 3], multilabel=True)
    X = _inputs(300, 6)
    out = _outputs(model, X)
    Z = net.predict(X)
    np.testing.assert_allclose(out["probabilities"], Z, atol=1e-6)  # not normalised
    assert out["label"].dtype == np.int64 and out["label"].shape == (300, 4)
    np.testing.assert_array_equal(out["label"], (Z > 0.5).astype(np.int64))
    assert out["label"].sum(axis=1).max() > 1, "the test data should give some samples several labels"


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"classes": [0, 1, 2]}, "3 classes need 3 output unit"),
        ({"classes": [0, 1, 1, 2]}, "classes must be distinct"),
        ({"classes": [0]}, "at least 2 labels"),
        ({"classes": [1j, 2j, 3j, 4j]}, "booleans, integers, real numbers or strings"),
        ({"classes": [0, 1, 2, 3], "output_name": "probs"}, "a classifier's outputs are 'label' and 'probabilities'"),
        ({"classes": [0, 1, 2, 3], "input_name": "label"}, "would clash"),
        ({"classes": [0, 1, 2, 3], "output_range": (1, 0)}, "output_range must be finite with low < high"),
        ({"classes": [0, 1, 2, 3], "multilabel": "yes"}, "multilabel must be True or False"),
        ({"input_name": "classifier.x"}, "would clash"),
    ],
)
def test_invalid_classifier_options_are_refused(kw, problem):
    with pytest.raises(ConfigError, match=problem):
        network_to_onnx(_net("relu", "softmax"), **kw)


def test_standardize_puts_the_stored_scaling_in_front_of_the_network():
    net = _net("tanh", "identity")
    mean, std = np.linspace(-1, 1, 6), np.linspace(0.5, 3, 6)
    model = network_to_onnx(net, standardize=(mean, std))
    assert [n.op_type for n in model.graph.node][:2] == ["Sub", "Div"]
    X = _inputs(100, 6)
    np.testing.assert_allclose(_run(model, X), net.predict((X - mean) / std), atol=1e-5)
    assert np.abs(_run(model, X) - net.predict(X)).max() > 1e-2, "the scaling is really in the graph"
    for bad, problem in [((mean[:5], std[:5]), r"need shape \(6,\)"), ((mean, -std), "std finite and > 0")]:
        with pytest.raises(ConfigError, match=problem):
            network_to_onnx(net, standardize=bad)


def test_a_train_file_exports_as_what_neuronet_load_predicts(tmp_path):
    # the metadata `neuronet train --standardize` writes: task, classes, target range, standardization
    net = _net("tanh", "softmax", sizes=(6, 9, 3), seed=1)
    mean, std = np.linspace(-1, 1, 6), np.linspace(0.5, 3, 6)
    meta = {
        "task": "classification",
        "classes": [0, 1, 2],
        "target_range": None,
        "preprocessing": {"mean": mean.tolist(), "std": std.tolist()},
        "config": {"hidden": [9], "activation": "tanh"},
    }
    src, out = tmp_path / "m.safetensors", tmp_path / "m.onnx"
    save_model(src, net, metadata=meta)
    outputs = _outputs(export_model_file(src, out), X := _inputs(300, 6))
    est = neuronet.load(src)  # a Pipeline: StandardScaler, MLPClassifier
    assert outputs["label"].tolist() == est.predict(X).tolist()
    assert len(set(outputs["label"].tolist())) == 3, "the test data should reach every class"
    np.testing.assert_allclose(outputs["probabilities"], est.predict_proba(X), atol=1e-5)


def test_cli_export_serves_digits_labels_from_float32_input(tmp_path):
    from typer.testing import CliRunner

    from neuronet.cli import app
    from neuronet.data import load

    runner = CliRunner()
    model, out = tmp_path / "m.safetensors", tmp_path / "m.onnx"
    r = runner.invoke(app, ["train", "--data", "digits", "--hidden", "16", "--epochs", "3", "--out", str(model)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["export-onnx", str(model), str(out)])
    assert r.exit_code == 0 and "float32 input; outputs: label, probabilities" in r.stdout, r.output
    X = load("digits", seed=0).X_test.astype(np.float32)
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    label, proba = sess.run(["label", "probabilities"], {sess.get_inputs()[0].name: X})
    est = neuronet.load(str(model))
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), atol=1e-5)
    bad = runner.invoke(app, ["export-onnx", str(model), str(tmp_path / "x.onnx"), "--input-dtype", "float16"])
    assert bad.exit_code == 2 and "input_dtype" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert not (tmp_path / "x.onnx").exists(), "nothing half-written"


def test_boolean_labels_export_as_a_bool_label_output(tmp_path):
    from neuronet import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] > 0  # scikit-learn keeps bool labels: classes_ = [False, True]
    clf = MLPClassifier(max_iter=50, random_state=0).fit(X, y)
    path = tmp_path / "b.onnx"
    clf.to_onnx(path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, proba = sess.run(["label", "probabilities"], {sess.get_inputs()[0].name: X.astype(np.float32)})
    assert label.dtype == np.bool_
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
