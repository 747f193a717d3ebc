"""Checkpoints: weights plus the trainer's state (optimizer arrays, RNG, epoch, history), to resume exactly.

A checkpoint is a model file of format ``"neuronet-checkpoint"``: the network as in
``neuronet.modelfile.schema``, the optimizer's per-parameter arrays as tensors
``optimizer.{state}.{k}``, the rest of the trainer state as JSON, and ``config_hash`` of the run.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..errors import ConfigError, NeuronetError
from ..files import numpy_default
from ..optim import get_optimizer
from .container import (
    check_digest,
    check_entries,
    fail,
    is_int,
    load_tensors,
    meta_json,
    read_file,
    short,
    to_json,
    write_container,
)
from .schema import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    build_network,
    decode,
    header_limit,
    layer_specs,
    network_tensors,
)

__all__ = ["config_hash", "load_checkpoint", "save_checkpoint"]


_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}


def config_hash(config: dict) -> str:
    """SHA-256 (hex) of ``config`` as canonical JSON (sorted keys, no spaces).

    Two configurations hash alike exactly when they are equal as JSON data, so a
    checkpoint can tell whether it belongs to the run that wants to resume it.

    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    """
    try:
        text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=numpy_default)
    except (TypeError, ValueError, RecursionError) as e:
        raise ConfigError(f"config is not JSON-serialisable: {e}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    tensors = network_tensors(path, network)
    if not isinstance(trainer_state, dict):
        fail(path, f"cannot save: trainer_state must be a dict, got {type(trainer_state).__name__}")
    missing = [k for k in ("epoch", "rng", "optimizer", "history") if k not in trainer_state]
    if missing:
        fail(path, f"cannot save: trainer_state lacks {', '.join(missing)}")
    opt = trainer_state["optimizer"]
    if not isinstance(opt, dict) or not {"config", "iterations", "arrays"} <= set(opt):
        fail(path, "cannot save: trainer_state['optimizer'] must have config, iterations and arrays")
    shapes = [p.shape for p in network.params]
    for name, a in opt["arrays"].items():
        key = f"optimizer.{name}"
        k = _state_index(name, len(shapes)) if isinstance(name, str) else None
        if k is None:
            fail(path, f"cannot save: optimizer array name {name!r} is not '<state>.<parameter index>'")
        a = np.ascontiguousarray(a)
        if a.shape != shapes[k] or a.dtype != network.dtype:
            fail(
                path,
                f"cannot save: optimizer array {name!r} has shape {a.shape} and dtype {a.dtype}, "
                f"expected {shapes[k]} and {network.dtype}",
            )
        if not np.isfinite(a).all():
            fail(path, f"refusing to save non-finite optimizer state: tensor {key!r} contains NaN or infinity")
        tensors[key] = a
    if not isinstance(config_hash, str):
        fail(path, f"cannot save: config_hash must be a string, got {type(config_hash).__name__}")
    trainer = {
        "epoch": trainer_state["epoch"],
        "rng": trainer_state["rng"],
        "optimizer": {"config": opt["config"], "iterations": opt["iterations"], "arrays": sorted(opt["arrays"])},
        "history": trainer_state["history"],
    }
    meta = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "network": to_json(path, network.config(), "the network config"),
        "trainer": to_json(path, trainer, "trainer_state"),
        "config_hash": config_hash,
        "config": to_json(path, config, "config"),
    }
    # Apply the loader's schema now: a checkpoint that cannot be resumed should fail at save time,
    # not when the run is resumed (e.g. an optimizer missing from the registry).
    _check_trainer_meta(f"{path}: cannot save", json.loads(meta["trainer"]), len(shapes))
    write_container(path, tensors, meta, header_limit(CHECKPOINT_FORMAT))


def _state_index(name, n_params):
    """``"velocity.3"`` -> 3 when 3 indexes a parameter; None otherwise."""
    state, _, k = name.rpartition(".")
    if not state or not k.isdigit() or k != str(int(k)) or int(k) >= n_params:
        return None
    return int(k)


def _check_trainer_meta(path, trainer, n_params):
    """The JSON part of a trainer state: types and ranges, and a usable RNG state."""
    if not isinstance(trainer, dict) or not {"epoch", "rng", "optimizer", "history"} <= set(trainer):
        fail(path, "trainer metadata must be an object with epoch, rng, optimizer and history")
    if not is_int(trainer["epoch"]) or trainer["epoch"] < 0:
        fail(path, f"trainer epoch must be an integer >= 0, got {short(trainer['epoch'])}")
    rng = trainer["rng"]
    if (
        not isinstance(rng, dict)
        or not isinstance(rng.get("bit_generator"), str)
        or rng["bit_generator"] not in _BIT_GENERATORS
    ):
        fail(path, f"rng state must name a numpy bit generator ({', '.join(_BIT_GENERATORS)})")
    try:
        _BIT_GENERATORS[rng["bit_generator"]](0).state = rng
    except Exception as e:  # numpy's setter raises several types
        fail(path, f"invalid rng state ({type(e).__name__}: {e})")
    opt = trainer["optimizer"]
    if not isinstance(opt, dict) or not {"config", "iterations", "arrays"} <= set(opt):
        fail(path, "optimizer state must have config, iterations and arrays")
    if not is_int(opt["iterations"]) or opt["iterations"] < 0:
        fail(path, f"optimizer iterations must be an integer >= 0, got {short(opt['iterations'])}")
    if not isinstance(opt["config"], dict):
        fail(path, "optimizer config is not a JSON object")
    try:
        optimizer = get_optimizer(opt["config"])
    except (NeuronetError, TypeError, ValueError, AttributeError, ArithmeticError) as e:
        fail(path, f"optimizer config: {e}")
    names = opt["arrays"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        fail(path, "optimizer arrays must be a list of distinct names")
    for name in names:
        state = name.rpartition(".")[0]
        if _state_index(name, n_params) is None or state not in optimizer.state_names:
            fail(
                path,
                f"optimizer array {short(name)} is not a state of {optimizer.name!r} "
                f"({', '.join(optimizer.state_names) or 'which keeps none'})",
            )
    for state in optimizer.state_names:
        have = sum(n.rpartition(".")[0] == state for n in names)
        if have not in (0, n_params):
            fail(path, f"optimizer state {state!r} is incomplete ({have} of {n_params} arrays)")
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
        fail(path, "training history must have lists epoch and diagnostics and a dict of lists history")
    if not all(is_int(e) and e >= 0 for e in h["epoch"]):
        fail(path, "training history: epoch must list integers >= 0")
    for key, values in h["history"].items():
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
            fail(path, f"training history: {short(key)} must list numbers (or null)")
    for d in h["diagnostics"]:
        if d is not None and not (isinstance(d, list) and all(isinstance(layer, dict) for layer in d)):
            fail(path, "training history: each epoch's diagnostics must be null or a list of per-layer objects")


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
    data = read_file(path)
    meta, cfg, entries = decode(path, data, CHECKPOINT_FORMAT)
    n_params = 2 * len(cfg["layers"])
    trainer = meta_json(path, meta, "trainer")
    _check_trainer_meta(path, trainer, n_params)
    if not isinstance(meta.get("config_hash"), str):
        fail(path, "metadata has no 'config_hash' entry")
    config = meta_json(path, meta, "config")
    if config is not None and not isinstance(config, dict):
        fail(path, "config metadata is neither a JSON object nor null")
    required, optional = layer_specs(cfg)
    param_shapes = [
        s for i in range(len(cfg["layers"])) for s in (required[f"layers.{i}.W"], required[f"layers.{i}.b"])
    ]
    for name in trainer["optimizer"]["arrays"]:
        required[f"optimizer.{name}"] = param_shapes[_state_index(name, n_params)]
    check_entries(path, entries, required, optional, cfg["dtype"])
    tensors = load_tensors(path, data, entries, cfg["dtype"])
    network = build_network(path, cfg, tensors)
    check_digest(path, meta, tensors)  # after the schema checks, which name their own problems
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
