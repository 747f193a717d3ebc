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
``tensors_sha256``  SHA-256 of the tensors' raw bytes (little-endian, C order, sorted
                    by name); files written before it have none and still load
``metadata_sha256`` SHA-256 of every other metadata entry (sorted JSON of the stored
                    strings): a hand-edited or corrupted class list or mean is refused;
                    checked after the schema, so a malformed entry is named first
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
4. model files: the user metadata neuronet reads (``task``, ``classes``,
   ``preprocessing``, ``target_range``, ...) against the network
   (``schema.check_user_metadata``);
5. the tensor table: exactly the expected names, shapes and dtype, byte ranges
   inside the file (then safetensors re-checks every offset);
6. every value finite, and the tensors' checksum, when the file has one.

A file's header may be at most ``schema.header_limit(format)`` bytes: 1 MiB for a model
file, 64 MiB for a checkpoint; every reader (``load_model``, ``load_checkpoint``,
``inspect_model``) applies the cap of the file's format.

Each failure raises ``ModelFileError`` with one line, ``"<path>: <problem>"``.
Files are written with ``atomic_write_bytes``: a crash at any moment leaves
either the old file or the new one at the target path, never a mixture.

The package, by job:

==========================  ===================================================================
``modelfile.container``     the safetensors container: framing, JSON header, tensor table, writes
``modelfile.schema``        the format constants, the network config, ``save_model``/``load_model``
``modelfile.checkpoint``    ``save_checkpoint``/``load_checkpoint`` and ``config_hash``
``modelfile.summary``       ``inspect_model``
==========================  ===================================================================

Everything public is importable from ``neuronet.modelfile`` itself.
"""

from __future__ import annotations

from ..files import atomic_write_bytes
from .checkpoint import config_hash, load_checkpoint, save_checkpoint
from .schema import (
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    MAX_CHECKPOINT_HEADER_BYTES,
    MAX_HEADER_BYTES,
    MODEL_FORMAT,
    READABLE_VERSIONS,
    load_model,
    save_model,
)
from .summary import inspect_model

__all__ = [
    "CHECKPOINT_FORMAT",
    "FORMAT_VERSION",
    "MAX_CHECKPOINT_HEADER_BYTES",
    "MAX_HEADER_BYTES",
    "MODEL_FORMAT",
    "READABLE_VERSIONS",
    "atomic_write_bytes",
    "config_hash",
    "inspect_model",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "save_model",
]
