"""``inspect_model``: a validated summary of a model file or checkpoint, for ``neuronet inspect``."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelFileError
from .checkpoint import load_checkpoint
from .container import DIGEST_KEY, parse_container, read_file
from .schema import CHECKPOINT_FORMAT, header_limit, read_model

__all__ = ["inspect_model"]

#: Metadata keys ``inspect_model`` reports as fields of their own (the others are listed by name).
_SHOWN = ("task", "classes", "config", "test", "epochs_trained", "stop_reason", "preprocessing", "target_range")


def inspect_model(path) -> dict:
    """A summary of a model file (or checkpoint) for ``neuronet inspect``; validates it fully.

    A model file is read by the loader ``load_model`` uses, with the same header cap, so
    ``neuronet inspect`` and ``neuronet evaluate`` accept and refuse the same files with the same
    message; a checkpoint by ``load_checkpoint``.

    Returns
    -------
    dict
        ``path``, ``format``, ``format_version``, ``file_size`` (bytes), ``checksum``
        (``"verified"``, or ``"none"`` for files written before checksums), ``dtype``, ``loss``,
        ``n_parameters``, ``layers`` (one dict per layer: ``n_in``, ``n_out``, ``unit``,
        ``unit_params``, ``dropout``, ``lesioned`` units), what training recorded (``task``,
        ``classes``, ``config``, ``test`` results, ``epochs_trained``, ``stop_reason``,
        ``standardized``, ``target_range``; None when absent) and ``metadata_keys`` (sorted keys
        of the user metadata).  Checkpoints add ``epoch``, ``optimizer`` and ``config_hash``, and
        their ``config`` is the run's configuration.
    """
    data = read_file(path)
    meta = _metadata(path, data)
    if meta is not None and meta.get("format") == CHECKPOINT_FORMAT:
        ck = load_checkpoint(path)  # verifies the checksum when the file has one
        net, user, verified = ck["network"], {"config": ck["config"]}, DIGEST_KEY in meta
        st = ck["trainer_state"]
        extra = {"epoch": st["epoch"], "optimizer": st["optimizer"]["config"], "config_hash": ck["config_hash"]}
    else:  # a model file, or no neuronet file at all: the model loader says what is wrong
        net, user, verified = read_model(path)
        extra = {}
    out = {
        "path": os.fspath(path),
        "format": meta["format"],
        "format_version": meta["format_version"],
        "file_size": len(data),
        "checksum": "verified" if verified else "none",
        **extra,
    }
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
        **{key: user.get(key) for key in _SHOWN if key != "preprocessing"},
        standardized=bool(user.get("preprocessing")),
        metadata_keys=sorted(user),
    )
    return out


def _metadata(path, data) -> dict | None:
    """The file's ``__metadata__`` under the largest cap, to tell a checkpoint from a model file; None if unreadable."""
    try:
        meta, _ = parse_container(path, data, header_limit(CHECKPOINT_FORMAT))
    except ModelFileError:
        return None
    return meta
