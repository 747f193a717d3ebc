"""The safetensors container of model files and checkpoints: framing, JSON header, tensor table.

Reading and writing bytes, with nothing about networks: ``read_file`` and ``parse_container``
check the framing and the JSON header, ``check_entries`` and ``load_tensors`` the tensor table
against the names and shapes a schema (``neuronet.modelfile.schema``) expects, and
``write_container`` serialises and writes atomically.  Every failure is ``fail(path, problem)``:
a one-line ``ModelFileError`` ``"<path>: <problem>"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

import numpy as np
import safetensors
import safetensors.numpy

from ..errors import ConfigError, ModelFileError
from ..files import atomic_write_bytes, numpy_default

__all__ = [
    "DIGEST_KEY",
    "DTYPE_CODES",
    "METADATA_DIGEST_KEY",
    "check_digest",
    "check_entries",
    "fail",
    "from_json",
    "is_int",
    "load_tensors",
    "meta_json",
    "metadata_digest",
    "one_line",
    "parse_container",
    "read_file",
    "short",
    "tensor_digest",
    "to_json",
    "write_container",
]


DTYPE_CODES = {"float32": "F32", "float64": "F64"}  # network dtype -> safetensors code
#: The metadata key holding ``tensor_digest`` of the file's tensors (absent in files before it).
DIGEST_KEY = "tensors_sha256"
#: The metadata key holding ``metadata_digest`` of every other metadata entry (absent in older files).
METADATA_DIGEST_KEY = "metadata_sha256"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


# -- small helpers ---------------------------------------------------------------------------------
def one_line(text, limit=300) -> str:
    """Collapse whitespace (newlines included) and cut long text, for one-line messages."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short(value, limit=80) -> str:
    """``repr`` of a value read from a file, cut to a readable length."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def fail(path, problem):
    raise ModelFileError(f"{path}: {one_line(problem)}")


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def to_json(path, obj, what) -> str:
    try:
        return json.dumps(obj, default=numpy_default)
    except (TypeError, ValueError, RecursionError) as e:
        fail(path, f"cannot save: {what} is not JSON-serialisable ({e})")


def _no_duplicate_keys(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {short(k)}")
        d[k] = v
    return d


def from_json(path, text, what):
    """Parse JSON read from a file; any failure becomes a ``ModelFileError``."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, int too long, duplicate key, deep nesting
        fail(path, f"{what} is not valid JSON ({e})")


# -- the tensors' checksum -------------------------------------------------------------------------
def tensor_digest(tensors) -> str:
    """SHA-256 (hex) of the tensors' raw bytes: C order, little-endian, tensors in sorted name order.

    Names, shapes and dtypes are checked against the schema on their own; the digest catches
    what no schema can, a flipped bit inside the weights.
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        h.update(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())
    return h.hexdigest()


def metadata_digest(meta: dict) -> str:
    """SHA-256 (hex) of the metadata entries (strings, as stored) other than the two checksums, keys sorted.

    A flipped bit in the text of a stored mean, class list or configuration would pass every schema
    check and change every prediction; this catches it.
    """
    rest = {k: v for k, v in meta.items() if k not in (DIGEST_KEY, METADATA_DIGEST_KEY)}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def check_digest(path, meta, tensors) -> bool:
    """Verify the checksums of the tensors and of the metadata; False when the file has none (older files)."""
    found = False
    for key, actual, what in (
        (DIGEST_KEY, lambda: tensor_digest(tensors), "corrupt tensor data: the weights do not"),
        (METADATA_DIGEST_KEY, lambda: metadata_digest(meta), "corrupt or edited metadata: it does not"),
    ):
        want = meta.get(key)
        if want is None:
            continue
        if not isinstance(want, str) or not _HEX_DIGEST.fullmatch(want):
            fail(path, f"metadata {key} is not a SHA-256 hex digest: {short(want)}")
        if actual() != want:
            fail(path, f"{what} match the checksum in the metadata ({key})")
        found = True
    return found


# -- writing ---------------------------------------------------------------------------------------
def write_container(path, tensors, metadata, limit):
    """Serialise with safetensors (adding the tensors' checksum to ``metadata``), check the header size,
    write atomically."""
    metadata = {**metadata, DIGEST_KEY: tensor_digest(tensors)}
    metadata[METADATA_DIGEST_KEY] = metadata_digest(metadata)
    data = safetensors.numpy.save(tensors, metadata=metadata)
    n = int.from_bytes(data[:8], "little")
    if n > limit:
        fail(
            path,
            f"cannot save: the metadata/header would take {n} bytes, more than the {limit} "
            f"a file of this kind may hold",
        )
    try:
        atomic_write_bytes(path, data)
    except ConfigError as e:  # the target itself is unusable (no folder, a device, a directory)
        raise ModelFileError(str(e)) from None
    except OSError as e:
        fail(path, f"cannot write the file: {e.strerror or e}")


# -- reading ---------------------------------------------------------------------------------------
def read_file(path) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        fail(path, "no such file")
    except OSError as e:
        fail(path, f"cannot read: {e.strerror or e}")
    if stat.S_ISDIR(st.st_mode):
        fail(path, "is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        fail(path, "is not a regular file")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        fail(path, f"cannot read: {e.strerror or e}")


def parse_container(path, data: bytes, limit: int):
    """Check the framing and the JSON header; return ``(metadata, tensor entries)``."""
    size = len(data)
    if size == 0:
        fail(path, "empty file (0 bytes): not a model file")
    if size < 8:
        fail(path, f"truncated file: {size} bytes, shorter than the 8-byte header length of a safetensors file")
    n = int.from_bytes(data[:8], "little")
    # A safetensors header is a JSON object, so byte 8 is "{".  When it is not, a framing
    # problem is most likely just a file of another kind (random bytes, a pickle, a zip).
    alien = data[8:9] != b"{"

    def bad_frame(problem):
        fail(path, f"not a safetensors file ({problem})" if alien else problem)

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
        fail(path, f"header is not a JSON object (got {type(header).__name__})")
    meta = header.pop("__metadata__", None)
    if meta is None:
        fail(path, "a safetensors file without __metadata__: not a neuronet model file")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        fail(path, "__metadata__ must map strings to strings")
    for name, entry in header.items():
        if (
            not isinstance(entry, dict)
            or set(entry) != {"dtype", "shape", "data_offsets"}
            or not isinstance(entry["dtype"], str)
            or not isinstance(entry["shape"], list)
            or not all(is_int(d) and d >= 0 for d in entry["shape"])
            or not isinstance(entry["data_offsets"], list)
            or len(entry["data_offsets"]) != 2
            or not all(is_int(o) for o in entry["data_offsets"])
            or not 0 <= entry["data_offsets"][0] <= entry["data_offsets"][1]
        ):
            fail(path, f"tensor {short(name)}: malformed entry in the header (needs dtype, shape, data_offsets)")
    return meta, header


def meta_json(path, meta, key):
    if key not in meta:
        fail(path, f"metadata has no {key!r} entry")
    return from_json(path, meta[key], f"{key} metadata")


def check_entries(path, entries, required, optional, dtype):
    """Names, shapes and dtypes in the header against the schema."""

    def more(names):
        return f" (and {len(names) - 1} more)" if len(names) > 1 else ""

    missing = [k for k in required if k not in entries]
    if missing:
        fail(path, f"missing tensor {missing[0]!r}{more(missing)}")
    extra = sorted(k for k in entries if k not in required and k not in optional)
    if extra:
        fail(path, f"unexpected tensor {short(extra[0])}{more(extra)}")
    code = DTYPE_CODES[dtype]
    for name, entry in entries.items():
        shape = tuple(entry["shape"])
        want = required[name] if name in required else optional[name]
        if shape != want:
            fail(path, f"tensor {name!r} has shape {shape}, expected {want}")
        if entry["dtype"] != code:
            got = entry["dtype"]
            shown = got if got.isalnum() and len(got) <= 16 else short(got)
            fail(path, f"tensor {name!r} has dtype {shown}, expected {code} (the network's dtype {dtype})")


def load_tensors(path, data, entries, dtype):
    """Decode the tensors with safetensors (which re-checks every byte range); all finite."""
    data_len = len(data) - 8 - int.from_bytes(data[:8], "little")
    end = max(e["data_offsets"][1] for e in entries.values())
    if end > data_len:
        fail(path, f"truncated file: the tensors need {end} bytes of data but only {data_len} are present")
    if end < data_len:
        fail(path, f"{data_len - end} unexpected bytes after the tensor data")
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as e:  # SafetensorError and anything else from parsing
        fail(path, f"corrupt tensor data: {type(e).__name__}: {e}")
    if set(tensors) != set(entries):
        fail(path, "corrupt file: safetensors read a different set of tensors than the header lists")
    for name, a in tensors.items():
        if a.dtype != np.dtype(dtype) or a.shape != tuple(entries[name]["shape"]):
            fail(path, f"corrupt file: tensor {name!r} decoded as {a.dtype} {a.shape}")
        if not np.isfinite(a).all():
            fail(path, f"non-finite values (NaN or infinity) in tensor {name!r}")
    return tensors
