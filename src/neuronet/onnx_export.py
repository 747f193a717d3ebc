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
not exported.  The graph's element type follows the network (float32 -> FLOAT, float64 ->
DOUBLE), and the batch dimension is symbolic (``"N"``): one file serves any batch size.

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

__all__ = ["IR_VERSION", "MIN_OPSET", "OPSET", "export_model_file", "network_to_onnx", "save_onnx"]

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

_INSTALL_HINT = "ONNX export needs the onnx package: pip install 'neuronet[onnx]'"
_ELEM_TYPES = {"float32": 1, "float64": 11}  # onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE


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

    def node(self, op, inputs, output, **attrs):
        """Append ``output = op(*inputs)``; the node is named after its output tensor."""
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [output], name=output, **attrs))
        return output


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
):
    """The ONNX model of ``network``'s prediction function.

    Parameters
    ----------
    network : Network
        Dense layers of float32 or float64; lesion masks are kept, dropout is dropped
        (it does nothing at prediction time).
    opset : int, default ``OPSET`` (17)
        ai.onnx operator set.  With the default the IR version is ``IR_VERSION`` (8);
        any other opset in ``[MIN_OPSET, newest known to the installed onnx]`` gets the
        lowest IR version that can carry it.
    input_name, output_name : str
        Names of the graph's input ``(N, n_inputs)`` and output ``(N, n_outputs)``.
    doc_string : str
        Stored as the model's ``doc_string``.
    metadata : dict, optional
        Extra ``metadata_props`` (for example the class labels); values that are not
        strings are stored as JSON.  ``neuronet.network`` (the architecture as JSON) is
        always present.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker.check_model(model, full_check=True)``.

    Raises
    ------
    ConfigError
        The ``onnx`` package is missing, the network holds something ONNX export does not
        know (a custom unit, non-finite weights), or an argument is invalid.

    Examples
    --------
    >>> from neuronet import mlp
    >>> model = network_to_onnx(mlp([4, 8, 3], hidden="relu", seed=0))  # doctest: +SKIP
    >>> [n.op_type for n in model.graph.node]                          # doctest: +SKIP
    ['Gemm', 'Relu', 'Gemm', 'Softmax']
    """
    onnx = _import_onnx()
    _check_network(network)
    opset = _check_options(onnx, opset, input_name, output_name, doc_string, metadata)
    helper = onnx.helper
    g = _Graph(onnx, network.dtype)
    _layer_nodes(g, network, input_name, output_name)
    elem = _ELEM_TYPES[network.dtype.name]
    graph = helper.make_graph(
        g.nodes,
        "neuronet",
        inputs=[helper.make_tensor_value_info(input_name, elem, ["N", network.n_inputs])],
        outputs=[helper.make_tensor_value_info(output_name, elem, ["N", network.n_outputs])],
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


def _check_options(onnx, opset, input_name, output_name, doc_string, metadata) -> int:
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
        if name.startswith("layers."):
            raise ConfigError(f"{what} {name!r} would clash with the graph's own tensors (named 'layers.*')")
    if input_name == output_name:
        raise ConfigError(f"input_name and output_name must differ, both are {input_name!r}")
    if not isinstance(doc_string, str):
        raise ConfigError(f"doc_string must be a string, got {type(doc_string).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    return int(opset)


def _layer_nodes(g: _Graph, network, input_name: str, output_name: str) -> None:
    """Append each layer's nodes (``Gemm``, the unit, the lesion mask) from ``input_name`` to ``output_name``."""
    h = input_name
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
    if g.nodes[-1].output[0] != h:  # cannot happen: every layer ends in a node
        raise AssertionError("the last node does not produce the network output")
    g.nodes[-1].output[0] = output_name  # nothing else reads the last tensor
    g.nodes[-1].name = output_name


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


def save_onnx(network, path, **kw):
    """Export ``network`` (see ``network_to_onnx`` for ``kw``) and write it atomically to ``path``.

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

    model = network_to_onnx(network, **kw)
    data = model.SerializeToString()
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ModelFileError(f"{os.fspath(path)}: cannot write the file: {e.strerror or e}") from None
    return model


def export_model_file(model_path, onnx_path, **kw):
    """Load a neuronet model file (``.safetensors``) and write its ONNX export to ``onnx_path``.

    This is ``neuronet export-onnx MODEL OUT.onnx``.  ``kw`` goes to ``network_to_onnx``.
    Returns the ``onnx.ModelProto``.

    Raises
    ------
    ConfigError
        The ``onnx`` package is missing (checked before the model file is read).
    ModelFileError
        The model file is missing, corrupt or invalid (see ``load_model``), or the
        ONNX file cannot be written.
    """
    _import_onnx()
    from .modelfile import load_model

    network, _ = load_model(model_path)
    return save_onnx(network, onnx_path, **kw)
