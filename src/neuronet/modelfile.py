"""Model files and checkpoints: safetensors tensors + a JSON schema, written atomically.

A model file is one ``.safetensors`` file::

    [8 bytes: header length N, little-endian] [N bytes: JSON header] [tensor data]

The JSON header maps each tensor name to its dtype, shape and byte range, and
holds ``__metadata__``, a dict of strings:

==================  =================================================================
``format``          ``"neuronet-model"`` (``"neuronet-checkpoint"`` for checkpoints)
``format_version``  ``"2"`` (``"1"`` files, with lesion masks and Dale signs as tensors, still load)
``network``         ``json.dumps(network.config())``: layers, units, loss, dtype
``user``            model files: JSON of the caller's metadata (classes, history, ...)
``trainer``         checkpoints: JSON of the trainer state minus its arrays
``config_hash``     checkpoints: ``config_hash(config)`` of the run
``config``          checkpoints: JSON of the run's configuration (or ``null``)
==================  =================================================================

Tensors: ``layers.{i}.W`` (n_in, n_out) and ``layers.{i}.b`` (n_out,) in the network's
dtype (a lesioned layer's ``unit_mask`` and a Dale layer's ``dale_signs`` are part of its
config; format 1 stored them as tensors ``layers.{i}.unit_mask`` / ``layers.{i}.dale_signs``);
checkpoints add ``optimizer.{state}.{k}`` (the optimizer's per-parameter arrays, shaped like
parameter ``k``).

Nothing on load ever runs code from the file: there is no pickle here.  A file
is trusted only after every check below has passed, in this order (cheap ones
first, and nothing is allocated beyond the file's own size):

1. a regular file, at least 8 bytes, a JSON object header of sane length;
2. ``format`` and ``format_version``;
3. the network config: known layer type, known units and loss, sizes that chain;
4. the tensor table: exactly the expected names, shapes and dtype, byte ranges
   inside the file (then safetensors re-checks every offset);
5. every value finite.

Each failure raises ``ModelFileError`` with one line, ``"<path>: <problem>"``.
Files are written with ``atomic_write_bytes``: a crash at any moment leaves
either the old file or the new one at the target path, never a mixture.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

import numpy as np
import safetensors
import safetensors.numpy

from .errors import ConfigError, ModelFileError, NeuronetError
from .files import atomic_write_bytes, numpy_default
from .layers import Dense
from .losses import check_pairing, get_loss
from .network import Network
from .units import get_unit

__all__ = [
    "CHECKPOINT_FORMAT",
    "FORMAT_VERSION",
    "MAX_CHECKPOINT_HEADER_BYTES",
    "MAX_HEADER_BYTES",
    "MODEL_FORMAT",
    "atomic_write_bytes",
    "config_hash",
    "inspect_model",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
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

_DTYPE_CODES = {"float32": "F32", "float64": "F64"}  # network dtype -> safetensors code
_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}
_LAYER_TENSORS = ("W", "b")


# -- small helpers ----------------------------------------------------------------------------
def _one_line(text, limit=300) -> str:
    """Collapse whitespace (newlines included) and cut long text, for one-line messages."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value, limit=80) -> str:
    """``repr`` of a value read from a file, cut to a readable length."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _fail(path, problem):
    raise ModelFileError(f"{path}: {_one_line(problem)}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _to_json(path, obj, what) -> str:
    try:
        return json.dumps(obj, default=numpy_default)
    except (TypeError, ValueError, RecursionError) as e:
        _fail(path, f"cannot save: {what} is not JSON-serialisable ({e})")


def _no_duplicate_keys(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {_short(k)}")
        d[k] = v
    return d


def _from_json(path, text, what):
    """Parse JSON read from a file; any failure becomes a ``ModelFileError``."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, int too long, duplicate key, deep nesting
        _fail(path, f"{what} is not valid JSON ({e})")


def config_hash(config: dict) -> str:
    """SHA-256 (hex) of ``config`` as canonical JSON (sorted keys, no spaces).

    Two configurations hash alike exactly when they are equal as JSON data, so a
    checkpoint can tell whether it belongs to the run that wants to resume it.

    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    """
    from .errors import ConfigError

    try:
        text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=numpy_default)
    except (TypeError, ValueError, RecursionError) as e:
        raise ConfigError(f"config is not JSON-serialisable: {e}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write(path, tensors, metadata, limit):
    """Serialise with safetensors, check the header size, write atomically."""
    data = safetensors.numpy.save(tensors, metadata=metadata)
    n = int.from_bytes(data[:8], "little")
    if n > limit:
        _fail(
            path,
            f"cannot save: the metadata/header would take {n} bytes, more than the {limit} "
            f"a file of this kind may hold",
        )
    try:
        atomic_write_bytes(path, data)
    except ConfigError as e:  # the target itself is unusable (no folder, a device, a directory)
        raise ModelFileError(str(e)) from None
    except OSError as e:
        _fail(path, f"cannot write the file: {e.strerror or e}")


# -- saving -----------------------------------------------------------------------------------
def _network_tensors(path, network) -> dict:
    """``layers.{i}.W``, ``layers.{i}.b`` and lesion masks, C-contiguous, finite, in the network dtype."""
    if not isinstance(network, Network):
        _fail(path, f"cannot save: expected a neuronet Network, got {type(network).__name__}")
    dtype = np.dtype(network.dtype)
    if dtype.name not in _DTYPE_CODES:
        _fail(path, f"cannot save: unsupported dtype {dtype}")
    tensors = {}
    for i, layer in enumerate(network.layers):
        if not isinstance(layer, Dense) or layer.config().get("type") != "dense":
            _fail(path, f"cannot save: layer {i} is a {type(layer).__name__}; model files hold dense layers")
        arrays = {"W": layer.W, "b": layer.b}  # lesion masks and Dale signs travel in the layer config
        for name, a in arrays.items():
            key = f"layers.{i}.{name}"
            a = np.ascontiguousarray(a)
            if a.dtype != dtype:
                _fail(path, f"cannot save: tensor {key!r} has dtype {a.dtype}, but the network's dtype is {dtype}")
            if not np.isfinite(a).all():
                _fail(path, f"refusing to save non-finite weights: tensor {key!r} contains NaN or infinity")
            tensors[key] = a
    return tensors


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
        _fail(path, f"cannot save: metadata must be a dict, got {type(metadata).__name__}")
    tensors = _network_tensors(path, network)
    meta = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "network": _to_json(path, network.config(), "the network config"),
        "user": _to_json(path, metadata or {}, "metadata"),
    }
    _write(path, tensors, meta, MAX_HEADER_BYTES)


def save_checkpoint(path, network, trainer_state: dict, *, config_hash: str, config: dict | None = None) -> None:
    """Save weights, optimizer state, RNG state, epoch and history, to resume training exactly.

    Parameters
    ----------
    path : str or PathLike
        Target file, replaced atomically.
    network : Network
    trainer_state : dict
        What ``Trainer.state_dict()`` returns: ``epoch``, ``rng`` (the bit
        generator's state), ``optimizer`` (``config``, ``iterations``, ``arrays``)
        and ``history``.  The arrays become tensors ``optimizer.{name}``; the
        rest is stored as JSON (Python ints of any size and floats round-trip exactly).
    config_hash : str
        ``config_hash(config)`` of the run, compared by whoever resumes.
    config : dict, optional
        The run's configuration, so a mismatch can be explained.
    """
    tensors = _network_tensors(path, network)
    if not isinstance(trainer_state, dict):
        _fail(path, f"cannot save: trainer_state must be a dict, got {type(trainer_state).__name__}")
    missing = [k for k in ("epoch", "rng", "optimizer", "history") if k not in trainer_state]
    if missing:
        _fail(path, f"cannot save: trainer_state lacks {', '.join(missing)}")
    opt = trainer_state["optimizer"]
    if not isinstance(opt, dict) or not {"config", "iterations", "arrays"} <= set(opt):
        _fail(path, "cannot save: trainer_state['optimizer'] must have config, iterations and arrays")
    shapes = [p.shape for p in network.params]
    for name, a in opt["arrays"].items():
        key = f"optimizer.{name}"
        k = _state_index(name, len(shapes)) if isinstance(name, str) else None
        if k is None:
            _fail(path, f"cannot save: optimizer array name {name!r} is not '<state>.<parameter index>'")
        a = np.ascontiguousarray(a)
        if a.shape != shapes[k] or a.dtype != network.dtype:
            _fail(
                path,
                f"cannot save: optimizer array {name!r} has shape {a.shape} and dtype {a.dtype}, "
                f"expected {shapes[k]} and {network.dtype}",
            )
        if not np.isfinite(a).all():
            _fail(path, f"refusing to save non-finite optimizer state: tensor {key!r} contains NaN or infinity")
        tensors[key] = a
    if not isinstance(config_hash, str):
        _fail(path, f"cannot save: config_hash must be a string, got {type(config_hash).__name__}")
    trainer = {
        "epoch": trainer_state["epoch"],
        "rng": trainer_state["rng"],
        "optimizer": {"config": opt["config"], "iterations": opt["iterations"], "arrays": sorted(opt["arrays"])},
        "history": trainer_state["history"],
    }
    meta = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "network": _to_json(path, network.config(), "the network config"),
        "trainer": _to_json(path, trainer, "trainer_state"),
        "config_hash": config_hash,
        "config": _to_json(path, config, "config"),
    }
    # Apply the loader's schema now: a checkpoint that cannot be resumed should fail at save time,
    # not when the run is resumed (e.g. an optimizer missing from the registry).
    _check_trainer_meta(f"{path}: cannot save", json.loads(meta["trainer"]), len(shapes))
    _write(path, tensors, meta, MAX_CHECKPOINT_HEADER_BYTES)


def _state_index(name, n_params):
    """``"velocity.3"`` -> 3 when 3 indexes a parameter; None otherwise."""
    state, _, k = name.rpartition(".")
    if not state or not k.isdigit() or k != str(int(k)) or int(k) >= n_params:
        return None
    return int(k)


# -- reading: container ----------------------------------------------------------------------
def _read_file(path) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        _fail(path, "no such file")
    except OSError as e:
        _fail(path, f"cannot read: {e.strerror or e}")
    if stat.S_ISDIR(st.st_mode):
        _fail(path, "is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        _fail(path, "is not a regular file")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        _fail(path, f"cannot read: {e.strerror or e}")


def _parse_container(path, data: bytes, limit: int):
    """Check the framing and the JSON header; return ``(metadata, tensor entries)``."""
    size = len(data)
    if size == 0:
        _fail(path, "empty file (0 bytes): not a model file")
    if size < 8:
        _fail(path, f"truncated file: {size} bytes, shorter than the 8-byte header length of a safetensors file")
    n = int.from_bytes(data[:8], "little")
    # A safetensors header is a JSON object, so byte 8 is "{".  When it is not, a framing
    # problem is most likely just a file of another kind (random bytes, a pickle, a zip).
    alien = data[8:9] != b"{"

    def bad_frame(problem):
        _fail(path, f"not a safetensors file ({problem})" if alien else problem)

    if n > limit:
        bad_frame(f"oversized metadata/header: the file declares {n} bytes of header, more than the {limit} allowed")
    if 8 + n > size:
        bad_frame(f"truncated file: the header declares {n} bytes but only {size - 8} follow")
    try:
        text = data[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError:
        bad_frame("header is not valid UTF-8")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as e:
        bad_frame(f"header is not valid JSON ({e})")
    if not isinstance(header, dict):
        _fail(path, f"header is not a JSON object (got {type(header).__name__})")
    meta = header.pop("__metadata__", None)
    if meta is None:
        _fail(path, "a safetensors file without __metadata__: not a neuronet model file")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        _fail(path, "__metadata__ must map strings to strings")
    for name, entry in header.items():
        if (
            not isinstance(entry, dict)
            or set(entry) != {"dtype", "shape", "data_offsets"}
            or not isinstance(entry["dtype"], str)
            or not isinstance(entry["shape"], list)
            or not all(_is_int(d) and d >= 0 for d in entry["shape"])
            or not isinstance(entry["data_offsets"], list)
            or len(entry["data_offsets"]) != 2
            or not all(_is_int(o) for o in entry["data_offsets"])
            or not 0 <= entry["data_offsets"][0] <= entry["data_offsets"][1]
        ):
            _fail(path, f"tensor {_short(name)}: malformed entry in the header (needs dtype, shape, data_offsets)")
    return meta, header


def _check_format(path, meta, expected):
    fmt = meta.get("format")
    if fmt != expected:
        if fmt is None:
            _fail(path, "not a neuronet file: no 'format' in the safetensors metadata")
        if fmt == CHECKPOINT_FORMAT:
            _fail(path, "is a neuronet checkpoint, not a model file (use load_checkpoint)")
        if fmt == MODEL_FORMAT:
            _fail(path, "is a neuronet model file, not a checkpoint (use load_model)")
        _fail(path, f"unknown format {_short(fmt)}; expected {expected!r}")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        _fail(
            path,
            f"unsupported format_version {_short(version)}; this neuronet reads format_version "
            f"{' or '.join(map(repr, READABLE_VERSIONS))}",
        )


def _meta_json(path, meta, key):
    if key not in meta:
        _fail(path, f"metadata has no {key!r} entry")
    return _from_json(path, meta[key], f"{key} metadata")


# -- reading: network -----------------------------------------------------------------------
def _network_config(path, meta) -> dict:
    """The network config, checked field by field before anything is built from it."""
    if "network" not in meta:
        _fail(path, "metadata has no 'network' entry (the architecture)")
    cfg = _from_json(path, meta["network"], "network config")
    if not isinstance(cfg, dict):
        _fail(path, "network config is not a JSON object")
    dtype = cfg.get("dtype")
    if not isinstance(dtype, str) or dtype not in _DTYPE_CODES:
        _fail(path, f"network config: unsupported dtype {_short(dtype)}; valid: float32, float64")
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not layers:
        _fail(path, "network config has no layers")
    units = []
    for i, spec in enumerate(layers):
        if not isinstance(spec, dict):
            _fail(path, f"layer {i}: not a JSON object")
        if spec.get("type") != "dense":
            _fail(path, f"layer {i}: unknown layer type {_short(spec.get('type'))}; valid: dense")
        for key in ("n_in", "n_out"):
            v = spec.get(key)
            if not _is_int(v) or v < 1:
                _fail(path, f"layer {i}: {key} must be a positive integer, got {_short(v)}")
        drop = spec.get("dropout", 0.0)
        if not isinstance(drop, (int, float)) or isinstance(drop, bool) or not 0.0 <= drop < 1.0:
            _fail(path, f"layer {i}: dropout must be a number in [0, 1), got {_short(drop)}")
        if not isinstance(spec.get("unit"), (str, dict)):
            _fail(path, f"layer {i}: unit must be a name or a JSON object, got {_short(spec.get('unit'))}")
        try:
            units.append(get_unit(spec["unit"]))
        except (NeuronetError, TypeError, ValueError, ArithmeticError) as e:
            _fail(path, f"layer {i}: {e}")
    for i in range(len(layers) - 1):
        if layers[i]["n_out"] != layers[i + 1]["n_in"]:
            _fail(
                path,
                f"layer sizes do not chain: layer {i} has {layers[i]['n_out']} outputs "
                f"but layer {i + 1} has {layers[i + 1]['n_in']} inputs",
            )
    try:
        check_pairing(units[-1], get_loss(cfg.get("loss")))
    except (NeuronetError, TypeError, ValueError, AttributeError) as e:
        _fail(path, f"network config: {e}")
    return cfg


def _layer_specs(cfg):
    """Required ``{name: shape}`` and optional (lesion mask) ``{name: shape}`` for the network tensors."""
    required, optional = {}, {}
    for i, spec in enumerate(cfg["layers"]):
        required[f"layers.{i}.W"] = (spec["n_in"], spec["n_out"])
        required[f"layers.{i}.b"] = (spec["n_out"],)
        optional[f"layers.{i}.unit_mask"] = (spec["n_out"],)
        optional[f"layers.{i}.dale_signs"] = (spec["n_in"],)
    return required, optional


def _check_entries(path, entries, required, optional, dtype):
    """Names, shapes and dtypes in the header against the schema."""

    def more(names):
        return f" (and {len(names) - 1} more)" if len(names) > 1 else ""

    missing = [k for k in required if k not in entries]
    if missing:
        _fail(path, f"missing tensor {missing[0]!r}{more(missing)}")
    extra = sorted(k for k in entries if k not in required and k not in optional)
    if extra:
        _fail(path, f"unexpected tensor {_short(extra[0])}{more(extra)}")
    code = _DTYPE_CODES[dtype]
    for name, entry in entries.items():
        shape = tuple(entry["shape"])
        want = required[name] if name in required else optional[name]
        if shape != want:
            _fail(path, f"tensor {name!r} has shape {shape}, expected {want}")
        if entry["dtype"] != code:
            got = entry["dtype"]
            shown = got if got.isalnum() and len(got) <= 16 else _short(got)
            _fail(path, f"tensor {name!r} has dtype {shown}, expected {code} (the network's dtype {dtype})")


def _load_tensors(path, data, entries, dtype):
    """Decode the tensors with safetensors (which re-checks every byte range); all finite."""
    data_len = len(data) - 8 - int.from_bytes(data[:8], "little")
    end = max(e["data_offsets"][1] for e in entries.values())
    if end > data_len:
        _fail(path, f"truncated file: the tensors need {end} bytes of data but only {data_len} are present")
    if end < data_len:
        _fail(path, f"{data_len - end} unexpected bytes after the tensor data")
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as e:  # SafetensorError and anything else from parsing
        _fail(path, f"corrupt tensor data: {type(e).__name__}: {e}")
    if set(tensors) != set(entries):
        _fail(path, "corrupt file: safetensors read a different set of tensors than the header lists")
    for name, a in tensors.items():
        if a.dtype != np.dtype(dtype) or a.shape != tuple(entries[name]["shape"]):
            _fail(path, f"corrupt file: tensor {name!r} decoded as {a.dtype} {a.shape}")
        if not np.isfinite(a).all():
            _fail(path, f"non-finite values (NaN or infinity) in tensor {name!r}")
    return tensors


def _build_network(path, cfg, tensors) -> Network:
    cfg = {**cfg, "layers": [dict(spec) for spec in cfg["layers"]]}
    for i, spec in enumerate(cfg["layers"]):
        # files written before masks and signs moved into the layer config hold them as tensors
        for key in ("unit_mask", "dale_signs"):
            legacy = tensors.get(f"layers.{i}.{key}")
            if legacy is None:
                continue
            if key in spec:
                _fail(path, f"layer {i}: {key} is given twice (in the config and as a tensor)")
            spec[key] = legacy.tolist()
    try:
        net = Network.from_config(cfg, rng=np.random.default_rng(0))  # random init, overwritten below
    except (NeuronetError, KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as e:
        _fail(path, f"invalid network config: {e}")
    weights = [tensors[f"layers.{i}.{t}"] for i in range(len(net.layers)) for t in _LAYER_TENSORS]
    try:
        net.set_weights(weights)
    except NeuronetError as e:
        _fail(path, f"weights do not fit the network: {e}")
    return net


def _decode(path, data, fmt, limit):
    """Everything shared by model files and checkpoints: returns ``(meta, cfg, entries)``."""
    meta, entries = _parse_container(path, data, limit)
    _check_format(path, meta, fmt)
    cfg = _network_config(path, meta)
    return meta, cfg, entries


# -- loading ------------------------------------------------------------------------------------
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
    data = _read_file(path)
    meta, cfg, entries = _decode(path, data, MODEL_FORMAT, MAX_HEADER_BYTES)
    user = _meta_json(path, meta, "user")
    if not isinstance(user, dict):
        _fail(path, "user metadata is not a JSON object")
    required, optional = _layer_specs(cfg)
    _check_entries(path, entries, required, optional, cfg["dtype"])
    tensors = _load_tensors(path, data, entries, cfg["dtype"])
    return _build_network(path, cfg, tensors), user


def _check_trainer_meta(path, trainer, n_params):
    """The JSON part of a trainer state: types and ranges, and a usable RNG state."""
    if not isinstance(trainer, dict) or not {"epoch", "rng", "optimizer", "history"} <= set(trainer):
        _fail(path, "trainer metadata must be an object with epoch, rng, optimizer and history")
    if not _is_int(trainer["epoch"]) or trainer["epoch"] < 0:
        _fail(path, f"trainer epoch must be an integer >= 0, got {_short(trainer['epoch'])}")
    rng = trainer["rng"]
    if (
        not isinstance(rng, dict)
        or not isinstance(rng.get("bit_generator"), str)
        or rng["bit_generator"] not in _BIT_GENERATORS
    ):
        _fail(path, f"rng state must name a numpy bit generator ({', '.join(_BIT_GENERATORS)})")
    try:
        _BIT_GENERATORS[rng["bit_generator"]](0).state = rng
    except Exception as e:  # numpy's setter raises several types
        _fail(path, f"invalid rng state ({type(e).__name__}: {e})")
    opt = trainer["optimizer"]
    if not isinstance(opt, dict) or not {"config", "iterations", "arrays"} <= set(opt):
        _fail(path, "optimizer state must have config, iterations and arrays")
    if not _is_int(opt["iterations"]) or opt["iterations"] < 0:
        _fail(path, f"optimizer iterations must be an integer >= 0, got {_short(opt['iterations'])}")
    if not isinstance(opt["config"], dict):
        _fail(path, "optimizer config is not a JSON object")
    from .optim import get_optimizer

    try:
        optimizer = get_optimizer(opt["config"])
    except (NeuronetError, TypeError, ValueError, AttributeError, ArithmeticError) as e:
        _fail(path, f"optimizer config: {e}")
    names = opt["arrays"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        _fail(path, "optimizer arrays must be a list of distinct names")
    for name in names:
        state = name.rpartition(".")[0]
        if _state_index(name, n_params) is None or state not in optimizer.state_names:
            _fail(
                path,
                f"optimizer array {_short(name)} is not a state of {optimizer.name!r} "
                f"({', '.join(optimizer.state_names) or 'which keeps none'})",
            )
    for state in optimizer.state_names:
        have = sum(n.rpartition(".")[0] == state for n in names)
        if have not in (0, n_params):
            _fail(path, f"optimizer state {state!r} is incomplete ({have} of {n_params} arrays)")
    h = trainer["history"]
    if (
        not isinstance(h, dict)
        or not isinstance(h.get("epoch"), list)
        or not isinstance(h.get("diagnostics"), list)
        or not isinstance(h.get("history"), dict)
        or not all(isinstance(v, list) for v in h["history"].values())
        or not isinstance(h.get("stop_reason", ""), str)
        or not isinstance(h.get("diverged", False), bool)
    ):
        _fail(path, "training history must have lists epoch and diagnostics and a dict of lists history")


def load_checkpoint(path) -> dict:
    """Load a checkpoint written by ``save_checkpoint``.

    Returns
    -------
    dict with keys
        ``network`` (Network with the saved weights), ``trainer_state`` (for
        ``Trainer.load_state_dict``: every array bit for bit, the RNG state
        exactly), ``config_hash`` (str) and ``config`` (dict or None).

    Raises
    ------
    ModelFileError
        As for ``load_model``.
    """
    data = _read_file(path)
    meta, cfg, entries = _decode(path, data, CHECKPOINT_FORMAT, MAX_CHECKPOINT_HEADER_BYTES)
    n_params = 2 * len(cfg["layers"])
    trainer = _meta_json(path, meta, "trainer")
    _check_trainer_meta(path, trainer, n_params)
    if not isinstance(meta.get("config_hash"), str):
        _fail(path, "metadata has no 'config_hash' entry")
    config = _meta_json(path, meta, "config")
    if config is not None and not isinstance(config, dict):
        _fail(path, "config metadata is neither a JSON object nor null")
    required, optional = _layer_specs(cfg)
    param_shapes = [
        s for i in range(len(cfg["layers"])) for s in (required[f"layers.{i}.W"], required[f"layers.{i}.b"])
    ]
    for name in trainer["optimizer"]["arrays"]:
        required[f"optimizer.{name}"] = param_shapes[_state_index(name, n_params)]
    _check_entries(path, entries, required, optional, cfg["dtype"])
    tensors = _load_tensors(path, data, entries, cfg["dtype"])
    network = _build_network(path, cfg, tensors)
    opt = trainer["optimizer"]
    state = {
        "epoch": trainer["epoch"],
        "rng": trainer["rng"],
        "optimizer": {
            "config": opt["config"],
            "iterations": opt["iterations"],
            "arrays": {n: tensors[f"optimizer.{n}"].copy() for n in opt["arrays"]},
        },
        "history": trainer["history"],
    }
    return {"network": network, "trainer_state": state, "config_hash": meta["config_hash"], "config": config}


# -- inspection ----------------------------------------------------------------------------------
def inspect_model(path) -> dict:
    """A summary of a model file (or checkpoint) for ``neuronet inspect``; validates it fully.

    Returns
    -------
    dict
        ``path``, ``format``, ``format_version``, ``file_size`` (bytes), ``dtype``,
        ``loss``, ``n_parameters``, ``layers`` (one dict per layer: ``n_in``,
        ``n_out``, ``unit``, ``unit_params``, ``dropout``, ``lesioned`` units) and
        ``metadata_keys`` (sorted keys of the user metadata).  Checkpoints add
        ``epoch``, ``optimizer`` and ``config_hash``.
    """
    data = _read_file(path)
    meta, _ = _parse_container(path, data, MAX_CHECKPOINT_HEADER_BYTES)
    fmt = meta.get("format")
    out = {"path": os.fspath(path), "format": fmt, "format_version": meta.get("format_version"), "file_size": len(data)}
    if fmt == CHECKPOINT_FORMAT:
        ck = load_checkpoint(path)
        net, user = ck["network"], ck["config"] or {}
        st = ck["trainer_state"]
        out.update(epoch=st["epoch"], optimizer=st["optimizer"]["config"], config_hash=ck["config_hash"])
    else:
        net, user = load_model(path)
    layers = []
    for L in net.layers:
        ucfg = L.unit.config()
        layers.append(
            {
                "n_in": L.n_in,
                "n_out": L.n_out,
                "unit": ucfg["name"],
                "unit_params": {k: v for k, v in ucfg.items() if k != "name"},
                "dropout": L.dropout,
                "lesioned": 0 if L.unit_mask is None else int(np.count_nonzero(L.unit_mask == 0)),
            }
        )
    out.update(
        dtype=net.dtype.name,
        loss=net.loss.name,
        n_parameters=int(sum(p.size for p in net.params)),
        layers=layers,
        metadata_keys=sorted(user),
    )
    return out
