"""Export a trained network to ONNX, to run it anywhere onnxruntime (or any ONNX runtime) runs.

Each ``Dense`` layer becomes one ``Gemm`` node followed by its unit::

    a = Gemm(h, W, b)           # (N, n_out) = h @ W + b; W is (n_in, n_out), no transposes
    z = f(a)                    # the unit, as ONNX nodes (table below)
    z = Mul(z, unit_mask)       # only for a lesioned layer: silenced units output exactly 0

==============  ======================================================================
neuronet unit   ONNX nodes
==============  ======================================================================
identity        none: the ``Gemm`` output is the layer output
sigmoid         ``Sigmoid`` (the prime offset only changes training, not the output)
tanh            ``Tanh``
lecun-tanh      ``Mul(2/3) -> Tanh -> Mul(1.7159)``
relu            ``Relu``
leaky-relu      ``LeakyRelu(alpha=slope)``; DOUBLE graphs: ``Max(a, Mul(a, slope))``
softplus        ``Softplus``; DOUBLE graphs: ``Relu(a) + Log(1 + Exp(-|a|))``
softmax         ``Softmax(axis=1)``
==============  ======================================================================

Two units take a different route in DOUBLE (float64) graphs: ``LeakyRelu``'s ``alpha`` is a
32-bit float attribute, so a float64 slope would lose digits, and onnxruntime has no float64
``Softplus`` kernel.  Both replacements are the same functions written with standard operators
(``Max(a, slope * a)`` is exactly how ``LeakyReLU.forward`` computes), so the exported model
agrees with ``Network.predict`` to rounding in either dtype.

Dropout does nothing at prediction time (inverted dropout scales while training), so it is
not exported.  The batch dimension is symbolic (``"N"``): one file serves any batch size.

Element types: the layers compute in the network's dtype (float32 -> FLOAT, float64 -> DOUBLE),
with its weights exactly as trained.  The graph's input, and its real-valued outputs, have the
type ``input_dtype`` says, ``"float32"`` by default, what most clients send; where that differs
from the network's, a ``Cast`` node converts the input on the way in and the outputs on the way
out.  A float64 network therefore serves float32 requests with float64 arithmetic inside: the
outputs equal ``Network.predict`` on the same (float32) numbers to float32 rounding.

Classifiers.  Given the class labels (``classes=``; the estimators' ``to_onnx`` and
``export_model_file`` pass them), the graph has two outputs instead of one, and serves
predictions on its own:

``probabilities`` (N, n_classes), of ``input_dtype``
    what ``MLPClassifier.predict_proba`` computes: a softmax output as it is; any other output
    unit rescaled from its range (``output_range``: the soft-target range, else (-1, 1) for
    tanh units and (0, 1) for the rest) and clipped into the open interval (0, 1), ``[1 - p, p]``
    for a single output unit of two classes, normalised to sum 1 for more than two classes
    (not for multilabel problems, whose outputs are independent).
``label`` (N,)
    the class of the largest probability (the first one on a tie, as ``numpy.argmax``),
    computed before the cast to ``input_dtype``: int64 for integer labels, double for real ones,
    string otherwise.  For a multilabel problem (``multilabel=True``) it is the (N, n_classes)
    int64 indicator matrix ``probabilities > 0.5``, as ``MLPClassifier.predict``.

``standardize=(mean, std)`` puts ``(X - mean) / std`` (two nodes) in front of the first layer,
for a model trained on standardized inputs (``neuronet train --standardize``).

The opset and the IR version are pinned (``OPSET``, ``IR_VERSION``) so that the same network
always gives the same file, whatever version of the ``onnx`` package wrote it.  ``onnx`` is
imported only inside the functions: ``import neuronet.onnx_export`` works without it, and a
missing package is reported as a ``ConfigError`` that says how to install it.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .errors import ConfigError, ModelFileError
from .files import numpy_default
from .layers import Dense
from .network import Network
from .units import UNITS

__all__ = [
    "IR_VERSION",
    "LABEL_OUTPUT",
    "MIN_OPSET",
    "OPSET",
    "PROBABILITIES_OUTPUT",
    "export_model_file",
    "network_to_onnx",
    "options_from_metadata",
    "save_onnx",
]

#: Default ONNX operator set (ai.onnx).  Opset 17 (onnx 1.12, 2022) is read by onnxruntime
#: 1.12 and later and by the other common runtimes, and every operator used here is defined in it
#: for float32 and float64.  A newer default would only lock out older runtimes.
OPSET = 17
#: IR version written into the file: 8, the lowest that can carry opset 17 (both came with
#: onnx 1.12), so that every runtime which knows opset 17 can load the file.
IR_VERSION = 8
#: Lowest opset accepted: by opset 13 Softmax, Gemm and the element-wise operators used here had
#: their current definitions; older opsets are not tested.
MIN_OPSET = 13

#: Output names of a classifier's graph (``classes=`` given).
LABEL_OUTPUT = "label"
PROBABILITIES_OUTPUT = "probabilities"

_INSTALL_HINT = "ONNX export needs the onnx package: pip install 'neuronet[onnx]'"
_ELEM_TYPES = {"float32": 1, "float64": 11}  # onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE
_INT64, _STRING, _BOOL = 7, 8, 9  # onnx.TensorProto.INT64, STRING, BOOL
#: Prefixes of the graph's own tensor names, refused as input or output names.
_INTERNAL = ("layers.", "classifier.")


def _import_onnx():
    """The ``onnx`` module, or a ``ConfigError`` that says how to install it."""
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise ConfigError(_INSTALL_HINT) from None
    return onnx


def _ir_version_for(onnx, opset: int) -> int:
    """The IR version written for ``opset``: the pinned one for ``OPSET``, else the lowest that fits."""
    if opset == OPSET:
        return IR_VERSION
    return int(onnx.helper.find_min_ir_version_for([onnx.helper.make_opsetid("", opset)]))


class _Graph:
    """Nodes and initializers of the graph being built, with unique tensor names."""

    def __init__(self, onnx, dtype):
        self.onnx = onnx
        self.dtype = np.dtype(dtype)
        self.nodes = []
        self.initializers = []

    def constant(self, name, value):
        """An initializer named ``name`` holding ``value`` in the graph's dtype."""
        a = np.array(value, dtype=self.dtype, order="C")  # a copy; scalars stay 0-d
        self.initializers.append(self.onnx.numpy_helper.from_array(a, name))
        return name

    def int64_constant(self, name, value):
        """An int64 initializer (shapes, axes)."""
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(value, dtype=np.int64), name))
        return name

    def node(self, op, inputs, output, **attrs):
        """Append ``output = op(*inputs)``; the node is named after its output tensor."""
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [output], name=output, **attrs))
        return output

    def output(self, tensor, name, dtype):
        """Make ``tensor`` the graph output ``name`` of ``dtype``: a ``Cast`` to it, or renaming the last node.

        Returns the name under which ``tensor`` (in the graph's dtype) is read from now on.
        Renaming needs ``tensor`` to come from the last node and to be read by no node yet.
        """
        if np.dtype(dtype) != self.dtype:
            self.node("Cast", [tensor], name, to=_ELEM_TYPES[np.dtype(dtype).name])
            return tensor
        last = self.nodes[-1]
        if last.output[0] != tensor:  # cannot happen: callers emit an output right after computing it
            raise AssertionError(f"{tensor!r} is not the output of the last node")
        last.output[0] = name
        last.name = name
        return name


def _unit_nodes(g: _Graph, unit, a: str, prefix: str) -> str:
    """Append the nodes computing ``z = unit(a)``; return the name of ``z``."""
    name = unit.config().get("name")
    if not isinstance(name, str) or type(unit) is not UNITS.get(name):
        # A custom Unit (or a subclass of a built-in one) may compute anything: refuse to guess.
        raise ConfigError(
            f"cannot export unit {name!r} ({type(unit).__name__}) to ONNX; exportable units: "
            f"identity, sigmoid, tanh, lecun-tanh, relu, leaky-relu, softplus, softmax"
        )
    double = g.dtype == np.float64
    z = f"{prefix}.z"
    if name == "identity":
        return a
    if name == "sigmoid":
        return g.node("Sigmoid", [a], z)
    if name == "tanh":
        return g.node("Tanh", [a], z)
    if name == "lecun-tanh":  # 1.7159 tanh(2a/3), as LeCunTanh.forward
        s = g.constant(f"{prefix}.lecun_tanh.S", unit.S)
        A = g.constant(f"{prefix}.lecun_tanh.A", unit.A)
        t = g.node("Mul", [a, s], f"{prefix}.lecun_tanh.Sa")
        t = g.node("Tanh", [t], f"{prefix}.lecun_tanh.tanh")
        return g.node("Mul", [t, A], z)
    if name == "relu":
        return g.node("Relu", [a], z)
    if name == "leaky-relu":
        if not double:
            return g.node("LeakyRelu", [a], z, alpha=float(unit.slope))
        slope = g.constant(f"{prefix}.leaky_relu.slope", unit.slope)  # max(a, slope a), 0 < slope < 1
        t = g.node("Mul", [a, slope], f"{prefix}.leaky_relu.slope_a")
        return g.node("Max", [a, t], z)
    if name == "softplus":
        if not double:
            return g.node("Softplus", [a], z)
        # ln(1 + e^a) = max(a, 0) + ln(1 + e^-|a|): never overflows, and 1 + e^-|a| lies in (1, 2].
        one = g.constant(f"{prefix}.softplus.one", 1.0)
        r = g.node("Relu", [a], f"{prefix}.softplus.relu")
        t = g.node("Abs", [a], f"{prefix}.softplus.abs")
        t = g.node("Neg", [t], f"{prefix}.softplus.neg_abs")
        t = g.node("Exp", [t], f"{prefix}.softplus.exp")
        t = g.node("Add", [t, one], f"{prefix}.softplus.one_plus_exp")
        t = g.node("Log", [t], f"{prefix}.softplus.log")
        return g.node("Add", [r, t], z)
    if name == "softmax":
        return g.node("Softmax", [a], z, axis=1)  # over the units of each sample
    raise ConfigError(f"cannot export unit {name!r} to ONNX")  # a unit added to UNITS but not here


def _check_network(network):
    if not isinstance(network, Network):
        raise ConfigError(f"ONNX export needs a neuronet Network, got {type(network).__name__}")
    if network.dtype.name not in _ELEM_TYPES:
        raise ConfigError(f"ONNX export supports float32 and float64 networks, got {network.dtype}")
    for i, layer in enumerate(network.layers):
        if not isinstance(layer, Dense):
            raise ConfigError(f"cannot export layer {i} ({type(layer).__name__}) to ONNX; only Dense layers")
        for key, a in (("W", layer.W), ("b", layer.b)):
            if not np.isfinite(a).all():
                raise ConfigError(f"refusing to export non-finite weights: layers.{i}.{key} contains NaN or infinity")


def network_to_onnx(
    network,
    *,
    opset: int = OPSET,
    input_name: str = "X",
    output_name: str = "Y",
    doc_string: str = "",
    metadata: dict | None = None,
    input_dtype: str = "float32",
    classes=None,
    multilabel: bool = False,
    output_range=None,
    standardize=None,
):
    """The ONNX model of ``network``'s prediction function (with ``classes``: of a classifier's).

    Parameters
    ----------
    network : Network
        Dense layers of float32 or float64; lesion masks are kept, dropout is dropped
        (it does nothing at prediction time).  The layers compute in its dtype.
    opset : int, default ``OPSET`` (17)
        ai.onnx operator set.  With the default the IR version is ``IR_VERSION`` (8);
        any other opset in ``[MIN_OPSET, newest known to the installed onnx]`` gets the
        lowest IR version that can carry it.
    input_name : str
        Name of the graph's input ``(N, n_inputs)``.
    output_name : str
        Name of the single output ``(N, n_outputs)`` (the network's outputs) when ``classes``
        is None.  A classifier's outputs are ``"label"`` and ``"probabilities"``.
    doc_string : str
        Stored as the model's ``doc_string``.
    metadata : dict, optional
        Extra ``metadata_props`` (for example the class labels); values that are not
        strings are stored as JSON.  ``neuronet.network`` (the architecture as JSON) is
        always present.
    input_dtype : {"float32", "float64"}, default "float32"
        Element type of the input and of the real-valued outputs; ``Cast`` nodes convert to
        and from the network's dtype where they differ (see the module notes).
    classes : sequence of labels, optional
        The class of each output unit (two classes may share one sigmoid unit): the graph
        then outputs ``label`` and ``probabilities`` (see the module notes).  Integers,
        real numbers or strings, distinct.
    multilabel : bool
        With ``classes``: each output unit is an independent yes/no (``label`` is the
        indicator matrix).
    output_range : (low, high), optional
        With ``classes`` and an output unit other than softmax: the range its targets span
        (``target_range`` of the estimators); default (-1, 1) for tanh units, else (0, 1).
    standardize : (mean, std), optional
        Per-input mean and standard deviation, shape ``(n_inputs,)`` each: the graph
        computes ``(X - mean) / std`` before the first layer.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker.check_model(model, full_check=True)``.

    Raises
    ------
    ConfigError
        The ``onnx`` package is missing, the network holds something ONNX export does not
        know (a custom unit, non-finite weights), or an argument is invalid (the message
        names it).

    Examples
    --------
    >>> from neuronet import mlp
    >>> model = network_to_onnx(mlp([4, 8, 3], hidden="relu", seed=0))  # doctest: +SKIP
    >>> [n.op_type for n in model.graph.node]                          # doctest: +SKIP
    ['Gemm', 'Relu', 'Gemm', 'Softmax']
    >>> model = network_to_onnx(mlp([4, 8, 3], seed=0), classes=["a", "b", "c"])  # doctest: +SKIP
    >>> [o.name for o in model.graph.output]                                     # doctest: +SKIP
    ['label', 'probabilities']
    """
    onnx = _import_onnx()
    _check_network(network)
    opset = _check_options(onnx, opset, input_name, output_name, doc_string, metadata, classes)
    io_dtype = _check_input_dtype(input_dtype)
    helper = onnx.helper
    g = _Graph(onnx, network.dtype)
    h = input_name
    if io_dtype != network.dtype:
        h = g.node("Cast", [h], "layers.input", to=_ELEM_TYPES[network.dtype.name])
    if standardize is not None:
        h = _standardize_nodes(g, h, standardize, network.n_inputs)
    z = _layer_nodes(g, network, h)
    elem = _ELEM_TYPES[io_dtype.name]
    if classes is None:
        g.output(z, output_name, io_dtype)
        outputs = [helper.make_tensor_value_info(output_name, elem, ["N", network.n_outputs])]
    else:
        head = _check_classifier(network, classes, multilabel, output_range)
        label_type, label_shape = _classifier_nodes(g, network, z, head, io_dtype)
        outputs = [
            helper.make_tensor_value_info(LABEL_OUTPUT, label_type, label_shape),
            helper.make_tensor_value_info(PROBABILITIES_OUTPUT, elem, ["N", len(head["classes"])]),
        ]
    graph = helper.make_graph(
        g.nodes,
        "neuronet",
        inputs=[helper.make_tensor_value_info(input_name, elem, ["N", network.n_inputs])],
        outputs=outputs,
        initializer=g.initializers,
    )
    from . import __version__

    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="neuronet",
        producer_version=__version__,
        doc_string=doc_string,
    )
    model.ir_version = _ir_version_for(onnx, opset)
    helper.set_model_props(model, _metadata_props(network, metadata))
    onnx.checker.check_model(model, full_check=True)
    return model


def _check_options(onnx, opset, input_name, output_name, doc_string, metadata, classes) -> int:
    """Refuse invalid options of ``network_to_onnx`` with a ``ConfigError``; return ``opset`` as an int."""
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version()
    ):
        raise ConfigError(
            f"opset must be an integer from {MIN_OPSET} to {onnx.defs.onnx_opset_version()} "
            f"(the newest this onnx package knows), got {opset!r}"
        )
    for what, name in (("input_name", input_name), ("output_name", output_name)):
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{what} must be a non-empty string, got {name!r}")
        if name.startswith(_INTERNAL):
            raise ConfigError(
                f"{what} {name!r} would clash with the graph's own tensors (named 'layers.*', 'classifier.*')"
            )
    if classes is None and input_name == output_name:
        raise ConfigError(f"input_name and output_name must differ, both are {input_name!r}")
    if classes is not None:
        if output_name != "Y":
            raise ConfigError(
                f"output_name names the single output of a network without classes; a classifier's outputs "
                f"are {LABEL_OUTPUT!r} and {PROBABILITIES_OUTPUT!r} (got output_name={output_name!r})"
            )
        if input_name in (LABEL_OUTPUT, PROBABILITIES_OUTPUT):
            raise ConfigError(f"input_name {input_name!r} would clash with the classifier's output of that name")
    if not isinstance(doc_string, str):
        raise ConfigError(f"doc_string must be a string, got {type(doc_string).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    return int(opset)


def _check_input_dtype(input_dtype) -> np.dtype:
    """``input_dtype`` as a numpy dtype, float32 or float64; ``ConfigError`` naming the option otherwise."""
    try:
        dtype = None if input_dtype is None or isinstance(input_dtype, bool) else np.dtype(input_dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in _ELEM_TYPES:
        raise ConfigError(f"input_dtype must be 'float32' or 'float64', got {input_dtype!r}")
    return dtype


def _standardize_nodes(g: _Graph, h: str, standardize, n_inputs: int) -> str:
    """Append ``(h - mean) / std``; return the name of the standardized input."""
    try:
        mean, std = (np.asarray(a, dtype=np.float64) for a in standardize)
    except (TypeError, ValueError):
        raise ConfigError(f"standardize must be a pair (mean, std) of numbers, got {standardize!r}") from None
    if mean.shape != (n_inputs,) or std.shape != (n_inputs,):
        raise ConfigError(
            f"standardize: mean and std need shape ({n_inputs},) for the network's inputs, "
            f"got {mean.shape} and {std.shape}"
        )
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise ConfigError("standardize: mean must be finite and std finite and > 0")
    t = g.node("Sub", [h, g.constant("layers.standardize.mean", mean)], "layers.standardize.centred")
    return g.node("Div", [t, g.constant("layers.standardize.std", std)], "layers.standardize.X")


def _layer_nodes(g: _Graph, network, h: str) -> str:
    """Append each layer's nodes (``Gemm``, the unit, the lesion mask) from ``h``; return the network output."""
    for i, layer in enumerate(network.layers):
        p = f"layers.{i}"
        W = g.constant(f"{p}.W", layer.W)  # (n_in, n_out)
        b = g.constant(f"{p}.b", layer.b)  # (n_out,), broadcast over the batch
        a = g.node("Gemm", [h, W, b], f"{p}.a")  # (N, n_out) = h @ W + b
        z = _unit_nodes(g, layer.unit, a, p)
        if layer.unit_mask is not None:
            mask = g.constant(f"{p}.unit_mask", layer.unit_mask)
            z = g.node("Mul", [z, mask], f"{p}.z_lesioned")  # silenced units output exactly 0
        h = z
    return h


# -- the classifier head -----------------------------------------------------------------------
def _label_tensor(classes) -> tuple[np.ndarray, int]:
    """The labels as an array ONNX can hold, and its element type: bool, int64, double or string."""
    labels = np.asarray(classes)
    if labels.dtype.kind == "b":
        return labels.astype(bool), _BOOL
    if labels.dtype.kind == "O" and all(isinstance(c, str) for c in labels.ravel()):
        labels = labels.astype(str)
    elif labels.dtype.kind == "O" and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in labels):
        labels = labels.astype(np.int64)
    if labels.dtype.kind in "iu":
        return labels.astype(np.int64), _INT64
    if labels.dtype.kind == "f":
        return labels.astype(np.float64), _ELEM_TYPES["float64"]
    if labels.dtype.kind == "U":
        return labels.astype(object), _STRING
    kinds = "booleans, integers, real numbers or strings"
    raise ConfigError(f"classes must be {kinds}, got {labels.dtype} labels: {classes!r}")


def _check_classifier(network, classes, multilabel, output_range) -> dict:
    """The checked classifier options: labels, their ONNX type, multilabel, the output range."""
    labels = np.asarray(classes)
    if labels.ndim != 1 or len(labels) < 2:
        raise ConfigError(f"classes must be a list of at least 2 labels, got {classes!r}")
    values, label_type = _label_tensor(labels)
    if len(set(labels.tolist())) != len(labels):
        raise ConfigError(f"classes must be distinct, got {labels.tolist()}")
    if not isinstance(multilabel, (bool, np.bool_)):
        raise ConfigError(f"multilabel must be True or False, got {multilabel!r}")
    unit = network.output_unit.name
    k, n = network.n_outputs, len(labels)
    if k != n and not (n == 2 and k == 1 and not multilabel and unit != "softmax"):
        want = f"{n}" if unit == "softmax" or multilabel or n > 2 else f"1 or {n}"
        raise ConfigError(f"classes: {n} classes need {want} output unit(s), the network has {k}")
    if output_range is None:
        low, high = (-1.0, 1.0) if unit in ("tanh", "lecun-tanh") else (0.0, 1.0)
    else:
        try:
            low, high = map(float, output_range)
        except (TypeError, ValueError):
            raise ConfigError(f"output_range must be a pair (low, high), got {output_range!r}") from None
        if not (np.isfinite([low, high]).all() and low < high):
            raise ConfigError(f"output_range must be finite with low < high, got {output_range!r}")
    return {"classes": values, "label_type": label_type, "multilabel": bool(multilabel), "range": (low, high)}


def _classifier_nodes(g: _Graph, network, z: str, head: dict, io_dtype) -> tuple[int, list]:
    """Append the outputs ``probabilities`` and ``label``; return the label's ONNX type and shape.

    They compute what ``MLPClassifier.predict_proba`` and ``predict`` compute (``_proba_from_outputs``).
    """
    unit, k, n = network.output_unit.name, network.n_outputs, len(head["classes"])
    c = "classifier"
    p = z
    if unit != "softmax":  # independent outputs: rescaled into (0, 1), then as probabilities
        low, high = head["range"]
        if (low, high) != (0.0, 1.0):
            p = g.node("Sub", [p, g.constant(f"{c}.low", low)], f"{c}.centred")
            p = g.node("Div", [p, g.constant(f"{c}.width", high - low)], f"{c}.scaled")
        tiny, below_one = np.finfo(g.dtype).tiny, np.nextafter(g.dtype.type(1), g.dtype.type(0))
        p = g.node("Clip", [p, g.constant(f"{c}.tiny", tiny), g.constant(f"{c}.below_one", below_one)], f"{c}.clipped")
        if k == 1:  # one unit for two classes: [1 - p, p]
            q = g.node("Sub", [g.constant(f"{c}.one", 1.0), p], f"{c}.complement")
            p = g.node("Concat", [q, p], f"{c}.two_columns", axis=1)
        elif n > 2 and not head["multilabel"]:  # more classes than two: normalised to sum 1
            axes = g.int64_constant(f"{c}.axis_1", [1])
            s = g.node("ReduceSum", [p, axes], f"{c}.sum", keepdims=1)
            p = g.node("Div", [p, s], f"{c}.normalised")
    p = g.output(p, PROBABILITIES_OUTPUT, io_dtype)  # cast to input_dtype, or renamed
    if head["multilabel"]:  # the indicator matrix probabilities > 0.5
        t = g.node("Greater", [p, g.constant(f"{c}.half", 0.5)], f"{c}.above_half")
        g.node("Cast", [t], LABEL_OUTPUT, to=_INT64)
        return _INT64, ["N", n]
    i = g.node("ArgMax", [p], f"{c}.index", axis=1, keepdims=0)  # the first maximum, as numpy.argmax
    g.initializers.append(g.onnx.numpy_helper.from_array(head["classes"], f"{c}.classes"))
    g.node("Gather", [f"{c}.classes", i], LABEL_OUTPUT, axis=0)
    return head["label_type"], ["N"]


def _metadata_props(network, metadata: dict | None) -> dict:
    """The model's ``metadata_props``: ``neuronet.network`` (the architecture as JSON) and ``metadata``."""
    props = {"neuronet.network": json.dumps(network.config())}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str):
            raise ConfigError(f"metadata keys must be strings, got {k!r}")
        try:
            props[k] = v if isinstance(v, str) else json.dumps(v, default=numpy_default)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"metadata[{k!r}] is not JSON-serialisable: {e}") from None
    return props


def save_onnx(network, path, *, input_dtype: str = "float32", **kw):
    """Export ``network`` (see ``network_to_onnx`` for ``input_dtype`` and ``kw``) and write it atomically to ``path``.

    The target holds either its old content or the complete new model, never part of
    one (``neuronet.files.atomic_write_bytes``).  Returns the ``onnx.ModelProto``.

    Raises
    ------
    ConfigError
        As for ``network_to_onnx``.
    ModelFileError
        ``"<path>: cannot write the file: <reason>"``.
    """
    from .files import atomic_write_bytes

    model = network_to_onnx(network, input_dtype=input_dtype, **kw)
    data = model.SerializeToString()
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ModelFileError(f"{os.fspath(path)}: cannot write the file: {e.strerror or e}") from None
    return model


def options_from_metadata(metadata: dict) -> dict:
    """The ``network_to_onnx`` keywords a model file's metadata implies: classes and standardization.

    A file whose metadata lists at least two ``classes`` (and whose ``task`` is not
    ``"regression"``) is a classifier: ``neuronet train`` and ``MLPClassifier.save`` write
    ``classes``, ``target_range`` and (estimators) ``label_type``.  ``preprocessing``
    (``{"mean", "std"}``, from ``neuronet train --standardize``) becomes ``standardize``.
    """
    kw = {}
    classes = metadata.get("classes")
    if isinstance(classes, list) and len(classes) >= 2 and metadata.get("task") != "regression":
        kw["classes"] = classes
        kw["multilabel"] = metadata.get("label_type") == "multilabel-indicator"
        kw["output_range"] = metadata.get("target_range") or None
    pre = metadata.get("preprocessing")
    if isinstance(pre, dict) and "mean" in pre and "std" in pre:
        kw["standardize"] = (pre["mean"], pre["std"])
    return kw


def export_model_file(model_path, onnx_path, *, input_dtype: str = "float32", **kw):
    """Load a neuronet model file (``.safetensors``) and write its ONNX export to ``onnx_path``.

    This is ``neuronet export-onnx MODEL OUT.onnx``.  The file's metadata decides the
    outputs (``options_from_metadata``): a classifier's file gets ``label`` and
    ``probabilities``, and stored standardization is put in front of the network, so
    the ONNX file serves predictions on its own.  ``input_dtype`` and ``kw`` go to
    ``network_to_onnx`` (``kw`` overrides what the metadata implies).  Returns the
    ``onnx.ModelProto``.

    Raises
    ------
    ConfigError
        The ``onnx`` package is missing (checked before the model file is read), or an
        option is invalid.
    ModelFileError
        The model file is missing, corrupt or invalid (see ``load_model``), or the
        ONNX file cannot be written.
    """
    _import_onnx()
    _check_input_dtype(input_dtype)
    from .modelfile import load_model

    network, meta = load_model(model_path)
    kw = {**options_from_metadata(meta), **kw}
    return save_onnx(network, onnx_path, input_dtype=input_dtype, **kw)
