"""``inspect_model``: a validated summary of a model file or checkpoint, for ``neuronet inspect``."""

from __future__ import annotations

import os

import numpy as np

from .checkpoint import load_checkpoint
from .container import parse_container, read_file
from .schema import CHECKPOINT_FORMAT, MAX_CHECKPOINT_HEADER_BYTES, load_model

__all__ = ["inspect_model"]


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
    data = read_file(path)
    meta, _ = parse_container(path, data, MAX_CHECKPOINT_HEADER_BYTES)
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
