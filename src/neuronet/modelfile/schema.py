"""The model schema: the file format's constants, the network config, and network <-> tensors.

``save_model`` and ``load_model`` live here; checkpoints (``neuronet.modelfile.checkpoint``)
share the format check, the network config and the tensor names.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import NeuronetError
from ..layers import Dense
from ..losses import check_pairing, get_loss
from ..network import Network
from ..units import get_unit
from .container import (
    DTYPE_CODES,
    check_digest,
    check_entries,
    fail,
    from_json,
    is_int,
    load_tensors,
    meta_json,
    parse_container,
    read_file,
    short,
    to_json,
    write_container,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "FORMAT_VERSION",
    "MAX_CHECKPOINT_HEADER_BYTES",
    "MAX_HEADER_BYTES",
    "MODEL_FORMAT",
    "READABLE_VERSIONS",
    "build_network",
    "check_format",
    "check_user_metadata",
    "decode",
    "header_limit",
    "layer_specs",
    "load_model",
    "network_config",
    "network_tensors",
    "read_model",
    "save_model",
]


MODEL_FORMAT = "neuronet-model"
CHECKPOINT_FORMAT = "neuronet-checkpoint"
FORMAT_VERSION = "2"
#: Versions this neuronet reads: 1 kept lesion masks and Dale signs as tensors, 2 in the layer config.
READABLE_VERSIONS = ("1", "2")
#: Largest JSON header a model file may declare (weights are tensors, so 1 MiB is plenty).
MAX_HEADER_BYTES = 1 << 20
#: Checkpoints carry the training history (with per-epoch diagnostics) in their header.
MAX_CHECKPOINT_HEADER_BYTES = 64 << 20
_LAYER_TENSORS = ("W", "b")


def header_limit(fmt) -> int:
    """The largest header a file of format ``fmt`` may declare: the one cap every reader of it applies."""
    return MAX_CHECKPOINT_HEADER_BYTES if fmt == CHECKPOINT_FORMAT else MAX_HEADER_BYTES


# -- the schema ------------------------------------------------------------------------------------
def check_format(path, meta, expected):
    fmt = meta.get("format")
    if fmt != expected:
        if fmt is None:
            fail(path, "not a neuronet file: no 'format' in the safetensors metadata")
        if fmt == CHECKPOINT_FORMAT:
            fail(path, "is a neuronet checkpoint, not a model file (use load_checkpoint)")
        if fmt == MODEL_FORMAT:
            fail(path, "is a neuronet model file, not a checkpoint (use load_model)")
        fail(path, f"unknown format {short(fmt)}; expected {expected!r}")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        fail(
            path,
            f"unsupported format_version {short(version)}; this neuronet reads format_version "
            f"{' or '.join(map(repr, READABLE_VERSIONS))}",
        )


def network_config(path, meta) -> dict:
    """The network config, checked field by field before anything is built from it."""
    if "network" not in meta:
        fail(path, "metadata has no 'network' entry (the architecture)")
    cfg = from_json(path, meta["network"], "network config")
    if not isinstance(cfg, dict):
        fail(path, "network config is not a JSON object")
    dtype = cfg.get("dtype")
    if not isinstance(dtype, str) or dtype not in DTYPE_CODES:
        fail(path, f"network config: unsupported dtype {short(dtype)}; valid: float32, float64")
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not layers:
        fail(path, "network config has no layers")
    units = []
    for i, spec in enumerate(layers):
        if not isinstance(spec, dict):
            fail(path, f"layer {i}: not a JSON object")
        if spec.get("type") != "dense":
            fail(path, f"layer {i}: unknown layer type {short(spec.get('type'))}; valid: dense")
        for key in ("n_in", "n_out"):
            v = spec.get(key)
            if not is_int(v) or v < 1:
                fail(path, f"layer {i}: {key} must be a positive integer, got {short(v)}")
        drop = spec.get("dropout", 0.0)
        if not isinstance(drop, (int, float)) or isinstance(drop, bool) or not 0.0 <= drop < 1.0:
            fail(path, f"layer {i}: dropout must be a number in [0, 1), got {short(drop)}")
        if not isinstance(spec.get("unit"), (str, dict)):
            fail(path, f"layer {i}: unit must be a name or a JSON object, got {short(spec.get('unit'))}")
        try:
            units.append(get_unit(spec["unit"]))
        except (NeuronetError, TypeError, ValueError, ArithmeticError) as e:
            fail(path, f"layer {i}: {e}")
    for i in range(len(layers) - 1):
        if layers[i]["n_out"] != layers[i + 1]["n_in"]:
            fail(
                path,
                f"layer sizes do not chain: layer {i} has {layers[i]['n_out']} outputs "
                f"but layer {i + 1} has {layers[i + 1]['n_in']} inputs",
            )
    try:
        check_pairing(units[-1], get_loss(cfg.get("loss")))
    except (NeuronetError, TypeError, ValueError, AttributeError) as e:
        fail(path, f"network config: {e}")
    return cfg


# -- the metadata neuronet reads --------------------------------------------------------------------
TASKS = ("classification", "regression")
_LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v) -> bool:
    try:
        return _number(v) and math.isfinite(v)
    except OverflowError:  # an integer too large for a float
        return False


def check_user_metadata(path, user: dict, cfg: dict) -> None:
    """The user-metadata keys neuronet itself reads, checked against the network before anything trusts them.

    ``task`` (classification or regression; not regression for a softmax output), ``classes``
    (distinct scalars, as many as the outputs), ``preprocessing`` (``mean`` and ``std``, one
    finite number per input, every ``std > 0``), ``target_range`` (``[low, high]``), ``n_features``,
    ``config``, ``test``, ``epochs_trained``, ``stop_reason``, ``versions``, and the estimator keys
    (``estimator``, ``params``, ``fitted``, ``label_type``, ``y_ndim``, ``feature_names_in``).  Any
    other key is the caller's own and is returned as saved.  Each failure is one line naming the
    key: ``"<path>: metadata <key>: <problem>"``.
    """
    n_in, n_out = cfg["layers"][0]["n_in"], cfg["layers"][-1]["n_out"]
    output = get_unit(cfg["layers"][-1]["unit"]).name

    def bad(key, problem):
        fail(path, f"metadata {key}: {problem}")

    task = user.get("task")
    if task is not None and task not in TASKS:
        bad("task", f"{short(task)} is not a task; valid: {', '.join(TASKS)}")
    if task == "regression" and output == "softmax":
        bad("task", "'regression' does not fit the network's softmax output (class probabilities that sum to 1)")
    _check_classes(bad, user.get("classes"), task, n_out, output)
    _check_preprocessing(bad, user.get("preprocessing"), n_in, cfg["dtype"])
    tr = user.get("target_range")
    if tr is not None and not (isinstance(tr, list) and len(tr) == 2 and all(map(_finite, tr)) and tr[0] < tr[1]):
        bad("target_range", f"expected [low, high], two finite numbers with low < high, got {short(tr)}")
    for key in ("n_features", "epochs_trained", "y_ndim"):
        v = user.get(key)
        if v is not None and (not is_int(v) or v < 0):
            bad(key, f"expected an integer >= 0, got {short(v)}")
    if user.get("n_features") not in (None, n_in):
        bad("n_features", f"{user['n_features']}, but the network has {n_in} inputs")
    for key in ("config", "params", "fitted", "versions"):
        if user.get(key) is not None and not isinstance(user[key], dict):
            bad(key, f"expected a JSON object, got {short(user[key])}")
    seed = (user.get("config") or {}).get("seed")
    if seed is not None and (not is_int(seed) or seed < 0):  # evaluate splits the data with it
        bad("config", f"seed: expected an integer >= 0, got {short(seed)}")
    for key in ("stop_reason", "estimator"):
        if user.get(key) is not None and not isinstance(user[key], str):
            bad(key, f"expected a string, got {short(user[key])}")
    test = user.get("test")
    if test is not None and (not isinstance(test, dict) or not all(v is None or _number(v) for v in test.values())):
        bad("test", f"expected a JSON object of numbers (the test results), got {short(test)}")
    label_type = user.get("label_type")
    if label_type is not None and label_type not in _LABEL_TYPES:
        bad("label_type", f"{short(label_type)} is not one of {', '.join(_LABEL_TYPES)}")
    names = user.get("feature_names_in")
    if names is not None and (
        not isinstance(names, list) or len(names) != n_in or not all(isinstance(n, str) for n in names)
    ):
        bad("feature_names_in", f"expected {n_in} strings, one per input, got {short(names)}")


def _check_classes(bad, classes, task, n_out, output):
    """Distinct scalar labels; for a classifier, one per output (or two for a single sigmoid-like output)."""
    if classes is None:
        return
    if not isinstance(classes, list):
        bad("classes", f"expected a list of labels, got {short(classes)}")
    for c in classes:
        if not isinstance(c, (str, int, float)) or (isinstance(c, float) and not math.isfinite(c)):
            bad("classes", f"label {short(c)} is not a string or a finite number")
        if isinstance(c, int) and not -(2**63) <= c < 2**63:  # labels are int64 (ONNX, NumPy)
            bad("classes", f"label {short(c)} does not fit a 64-bit integer")
    seen = set()
    for c in classes:
        if c in seen:
            bad("classes", f"label {short(c)} appears twice; each output needs its own class")
        seen.add(c)
    if task == "regression":
        if classes:
            bad("classes", f"a regression model has no classes, got {len(classes)}")
        return
    if not classes:
        return
    if len(classes) < 2:
        bad("classes", f"a classifier needs a list of at least 2 classes, got {len(classes)}")
    if len(classes) != n_out and not (n_out == 1 and len(classes) == 2 and output != "softmax"):
        bad("classes", f"{len(classes)} classes for a network with {n_out} outputs")


def _check_preprocessing(bad, pre, n_in, dtype):
    """``None`` or ``{}`` (no standardization), or exactly ``mean`` and ``std``: one number per input,
    finite in the network's dtype, every ``std > 0``."""
    if pre is None or pre == {}:
        return
    if not isinstance(pre, dict):
        bad("preprocessing", f"expected a JSON object with mean and std, got {short(pre)}")
    if set(pre) != {"mean", "std"}:
        missing = sorted({"mean", "std"} - set(pre))
        extra = sorted(set(pre) - {"mean", "std"})
        what = f"lacks {', '.join(missing)}" if missing else f"has unknown keys {short(extra)}"
        bad("preprocessing", f"{what}; standardization needs exactly mean and std")
    for key in ("mean", "std"):
        v = pre[key]
        if not isinstance(v, list) or len(v) != n_in:
            bad(f"preprocessing.{key}", f"expected {n_in} numbers (one per input), got {short(v)}")
        for j, x in enumerate(v):
            if not _finite(x):
                bad(f"preprocessing.{key}", f"entry {j} is {short(x)}, not a finite number")
        with np.errstate(over="ignore", under="ignore"):
            a = np.asarray(v, dtype=dtype)
        for j, x in enumerate(v):
            if not np.isfinite(a[j]):
                bad(f"preprocessing.{key}", f"entry {j} is {short(x)}, too large for {dtype}")
            if key == "std" and not a[j] > 0:
                bad(f"preprocessing.{key}", f"entry {j} is {short(x)}; a standard deviation must be > 0")


def layer_specs(cfg):
    """Required ``{name: shape}`` and optional (lesion mask) ``{name: shape}`` for the network tensors."""
    required, optional = {}, {}
    for i, spec in enumerate(cfg["layers"]):
        required[f"layers.{i}.W"] = (spec["n_in"], spec["n_out"])
        required[f"layers.{i}.b"] = (spec["n_out"],)
        optional[f"layers.{i}.unit_mask"] = (spec["n_out"],)
        optional[f"layers.{i}.dale_signs"] = (spec["n_in"],)
    return required, optional


def network_tensors(path, network) -> dict:
    """``layers.{i}.W``, ``layers.{i}.b`` and lesion masks, C-contiguous, finite, in the network dtype."""
    if not isinstance(network, Network):
        fail(path, f"cannot save: expected a neuronet Network, got {type(network).__name__}")
    dtype = np.dtype(network.dtype)
    if dtype.name not in DTYPE_CODES:
        fail(path, f"cannot save: unsupported dtype {dtype}")
    tensors = {}
    for i, layer in enumerate(network.layers):
        if not isinstance(layer, Dense) or layer.config().get("type") != "dense":
            fail(path, f"cannot save: layer {i} is a {type(layer).__name__}; model files hold dense layers")
        arrays = {"W": layer.W, "b": layer.b}  # lesion masks and Dale signs travel in the layer config
        for name, a in arrays.items():
            key = f"layers.{i}.{name}"
            a = np.ascontiguousarray(a)
            if a.dtype != dtype:
                fail(path, f"cannot save: tensor {key!r} has dtype {a.dtype}, but the network's dtype is {dtype}")
            if not np.isfinite(a).all():
                fail(path, f"refusing to save non-finite weights: tensor {key!r} contains NaN or infinity")
            tensors[key] = a
    return tensors


def build_network(path, cfg, tensors) -> Network:
    cfg = {**cfg, "layers": [dict(spec) for spec in cfg["layers"]]}
    for i, spec in enumerate(cfg["layers"]):
        # files written before masks and signs moved into the layer config hold them as tensors
        for key in ("unit_mask", "dale_signs"):
            legacy = tensors.get(f"layers.{i}.{key}")
            if legacy is None:
                continue
            if key in spec:
                fail(path, f"layer {i}: {key} is given twice (in the config and as a tensor)")
            spec[key] = legacy.tolist()
    try:
        net = Network.from_config(cfg, rng=np.random.default_rng(0))  # random init, overwritten below
    except (NeuronetError, KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as e:
        fail(path, f"invalid network config: {e}")
    weights = [tensors[f"layers.{i}.{t}"] for i in range(len(net.layers)) for t in _LAYER_TENSORS]
    try:
        net.set_weights(weights)
    except NeuronetError as e:
        fail(path, f"weights do not fit the network: {e}")
    return net


def decode(path, data, fmt):
    """Everything shared by model files and checkpoints: returns ``(meta, cfg, entries)``."""
    meta, entries = parse_container(path, data, header_limit(fmt))
    check_format(path, meta, fmt)
    cfg = network_config(path, meta)
    return meta, cfg, entries


# -- model files -----------------------------------------------------------------------------------
def save_model(path, network, *, metadata: dict | None = None) -> None:
    """Save ``network`` (architecture and weights) and JSON ``metadata`` to one safetensors file.

    Parameters
    ----------
    path : str or PathLike
        Target file, replaced atomically (see ``atomic_write_bytes``).
    network : Network
        Its weights must be finite.
    metadata : dict, optional
        Anything JSON-serialisable (training config, classes, history summary...);
        ``load_model`` returns it.  numpy scalars and arrays are stored as numbers
        and lists.

    Raises
    ------
    ModelFileError
        Non-finite weights, metadata that is not JSON, or a file that cannot be written.
    """
    if metadata is not None and not isinstance(metadata, dict):
        fail(path, f"cannot save: metadata must be a dict, got {type(metadata).__name__}")
    tensors = network_tensors(path, network)
    meta = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "network": to_json(path, network.config(), "the network config"),
        "user": to_json(path, metadata or {}, "metadata"),
    }
    # what load_model would refuse is not written: the same checks, on what the file would hold
    check_user_metadata(path, json.loads(meta["user"]), json.loads(meta["network"]))
    write_container(path, tensors, meta, header_limit(MODEL_FORMAT))


def load_model(path) -> tuple[Network, dict]:
    """Load a model file written by ``save_model``.

    Returns
    -------
    network : Network
        Architecture and weights, bit for bit as saved.
    metadata : dict
        The ``metadata`` given to ``save_model`` (``{}`` if none).

    Raises
    ------
    ModelFileError
        ``"<path>: <problem>"`` for a missing, truncated, corrupt, hostile or
        schema-violating file.  Nothing in the file is ever executed.
    """
    network, user, _ = read_model(path)
    return network, user


def read_model(path) -> tuple[Network, dict, bool]:
    """``load_model``, and whether the file carried a checksum of its tensors (and it matched)."""
    data = read_file(path)
    meta, cfg, entries = decode(path, data, MODEL_FORMAT)
    user = meta_json(path, meta, "user")
    if not isinstance(user, dict):
        fail(path, "user metadata is not a JSON object")
    check_user_metadata(path, user, cfg)
    required, optional = layer_specs(cfg)
    check_entries(path, entries, required, optional, cfg["dtype"])
    tensors = load_tensors(path, data, entries, cfg["dtype"])
    network = build_network(path, cfg, tensors)
    verified = check_digest(path, meta, tensors)  # last: every schema check names its own problem first
    return network, user, verified
