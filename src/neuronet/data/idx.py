"""IDX files: the format of MNIST and Fashion-MNIST (LeCun et al. 1998).

An IDX file is a 4-byte magic number, the dimensions, then the data::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                           0x0D float32, 0x0E float64
    byte  3     number of dimensions, ndim
    4 * ndim    each dimension as a big-endian uint32
    rest        prod(dims) values, big-endian, C order

So ``train-images-idx3-ubyte`` starts with ``0x00000803`` (uint8, 3-D:
images x rows x cols) and ``train-labels-idx1-ubyte`` with ``0x00000801``.
Files may be gzipped; compression is recognised by the gzip magic bytes
``1f 8b``, never by the file name.

The reader trusts nothing: every header field is checked, the data length
must match the header exactly, and a header that promises more than
:data:`MAX_DATA_BYTES` is refused before anything is allocated.  Every
failure is a :class:`~neuronet.errors.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import os
import threading
import weakref
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..files import atomic_write_bytes

__all__ = [
    "IDX_FILES",
    "MAX_DATA_BYTES",
    "find_idx_file",
    "idx_to_float",
    "keep_pairs",
    "load_idx_pair",
    "read_idx",
    "write_idx",
]

#: Type code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_NAMES = "0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64"

#: Largest data section read_idx accepts (2 GiB); bigger headers are refused as corrupt.
MAX_DATA_BYTES = 2**31

#: The four standard file names of an MNIST-style set, by role (without ``.gz``).
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class _Source:
    """Sequential reader over a plain or gzipped file that knows its name.

    ``read(n)`` returns at most ``n`` bytes, fewer only at the end of the
    data.  gzip, zlib and I/O failures become DataError naming the file.
    """

    def __init__(self, path: str, fh, *, compressed: bool):
        self.path = path
        self.fh = fh
        self.compressed = compressed

    def read(self, n: int) -> bytes:
        parts, remaining = [], n
        try:
            while remaining > 0:
                part = self.fh.read(min(remaining, _CHUNK))
                if not part:
                    break
                parts.append(part)
                remaining -= len(part)
        except (OSError, EOFError, zlib.error) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problem = "corrupt gzip stream" if self.compressed else "cannot read"
            raise DataError(f"{self.path}: {problem} ({reason})") from None
        return b"".join(parts)


def read_idx(path) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a native-endian numpy array.

    Parameters
    ----------
    path : str or os.PathLike
        The file.  Gzip compression is detected from the first two bytes.

    Returns
    -------
    numpy.ndarray
        Array of the file's shape and type (uint8, int8, int16, int32,
        float32 or float64), in native byte order.

    Raises
    ------
    DataError
        If the file is missing or unreadable, the gzip stream is corrupt,
        the magic number is wrong (non-zero first bytes, unknown type code),
        ndim is 0 or above 4, the header is cut short, the header promises
        more than :data:`MAX_DATA_BYTES`, or the data is shorter (truncated)
        or longer (trailing bytes) than the header says.
    """
    name = os.fspath(path)
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed by the `with fh:` below, after the open errors are told apart
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, expected an IDX file") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot open ({exc.strerror or exc})") from None
    with fh:
        head = fh.read(2)
        fh.seek(0)
        if head == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                return _parse(_Source(name, gz, compressed=True), name, compressed=True, size=None)
        size = os.fstat(fh.fileno()).st_size
        return _parse(_Source(name, fh, compressed=False), name, compressed=False, size=size)


def _parse(src: _Source, name: str, *, compressed: bool, size: int | None) -> np.ndarray:
    """Check the header read from ``src``, then read exactly the promised data."""
    magic = src.read(4)
    if len(magic) < 4:
        raise DataError(f"{name}: truncated header ({len(magic)} bytes; an IDX file starts with a 4-byte magic number)")
    magic_value = int.from_bytes(magic, "big")
    code, ndim = magic[2], magic[3]
    if magic[:2] != b"\x00\x00":
        raise DataError(
            f"{name}: bad magic number 0x{magic_value:08X} (expected 0x00000803 for uint8 images, "
            "0x00000801 for uint8 labels; an IDX file starts with two zero bytes)"
        )
    if code not in IDX_DTYPES:
        raise DataError(
            f"{name}: bad magic number 0x{magic_value:08X} (unknown type code 0x{code:02X}; valid: {_CODE_NAMES})"
        )
    if not 1 <= ndim <= 4:
        raise DataError(f"{name}: bad magic number 0x{magic_value:08X} ({ndim} dimensions; expected 1 to 4)")
    dims_raw = src.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DataError(f"{name}: truncated header ({4 + len(dims_raw)} bytes; {ndim} dimensions need {4 + 4 * ndim})")
    shape = tuple(int.from_bytes(dims_raw[4 * i : 4 * i + 4], "big") for i in range(ndim))
    dtype = IDX_DTYPES[code]
    n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    described = f"shape {shape} of {dtype.name}"
    if n_bytes > MAX_DATA_BYTES:
        raise DataError(
            f"{name}: header promises {n_bytes} data bytes ({described}), "
            f"more than the {MAX_DATA_BYTES} allowed; the file is corrupt"
        )
    header_bytes = 4 + 4 * ndim
    if size is not None and size != header_bytes + n_bytes:
        found = size - header_bytes
        if found < n_bytes:
            raise DataError(
                f"{name}: truncated: header promises {n_bytes} data bytes ({described}), only {found} present"
            )
        raise DataError(
            f"{name}: {found - n_bytes} trailing bytes after the {n_bytes} data bytes the header promises ({described})"
        )
    data = src.read(n_bytes)
    if len(data) < n_bytes:
        raise DataError(
            f"{name}: truncated: header promises {n_bytes} data bytes ({described}), only {len(data)} present"
            + (" after decompression" if compressed else "")
        )
    if src.read(1):
        raise DataError(f"{name}: trailing bytes after the {n_bytes} data bytes the header promises ({described})")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path, array) -> Path:
    """Write ``array`` as an IDX file; gzipped when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    array : array-like
        1- to 4-D array of uint8, int8, int16, int32, float32 or float64.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    DataError
        If the array's type or number of dimensions cannot be stored in IDX.
    """
    arr = np.asarray(array)
    code = next((c for c, dt in IDX_DTYPES.items() if dt.newbyteorder("=") == arr.dtype.newbyteorder("=")), None)
    if code is None:
        raise DataError(f"{os.fspath(path)}: cannot store dtype {arr.dtype} in IDX (valid: {_CODE_NAMES})")
    if not 1 <= arr.ndim <= 4:
        raise DataError(f"{os.fspath(path)}: cannot store a {arr.ndim}-D array in IDX (1 to 4 dimensions)")
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    atomic_write_bytes(path, payload)  # a failed write (ENOSPC) names the file and leaves no part of it
    return path


def find_idx_file(folder, stem: str) -> Path | None:
    """Return ``folder/stem`` or ``folder/stem.gz``, whichever exists (plain first), else None."""
    for candidate in (Path(folder) / stem, Path(folder) / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


#: Pairs read more than once by ``load_idx_pair`` in this process, kept; keyed by both files' path,
#: inode, size and times.
_PAIRS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
_MAX_PAIRS = 4
#: Pairs read once: a weak reference to the pixels (with their shape) and the labels, so a process that
#: loads a set once (``neuronet train``, an estimator's fit) does not keep the raw pixels (55 MB for
#: Fashion-MNIST) beside its float copy.
_ONCE: dict[tuple, tuple[weakref.ref, tuple, np.ndarray]] = {}
_MAX_ONCE = 16
_LOCK = threading.Lock()  # load_idx_pair is public: two threads may load at once
_KEEP = {"from_first_read": False}


def keep_pairs() -> None:
    """Keep every pair this process reads from its first read on, not from its second.

    For processes that load the same files again and again: every experiment run (``run_task``,
    ``run_one`` in this process) and sweep trial (``run_trial``) calls it before it loads anything,
    so a lecture or sweep worker decompresses Fashion-MNIST at most once.  It lasts for the life of
    the process.
    """
    _KEEP["from_first_read"] = True


def _file_key(path) -> tuple:
    st = os.stat(path)  # a replaced file (new inode) or a rewritten one (new ctime) is read again
    return (os.path.abspath(os.fspath(path)), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def load_idx_pair(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and its labels file and check that they match.

    The arrays come back read-only, over immutable bytes.  A pair read a second time in this
    process is kept from then on (the last few such pairs, keyed by each file's path, inode, size
    and times, so an edited or replaced file is read again): the lecture's image experiments load
    Fashion-MNIST once per run, thousands of times, and decompressing its 26 MB of gzip took about
    0.4 s of each run.  A pair read once is not kept beyond its callers' use, so a process that loads
    a set once does not hold its raw pixels (55 MB for Fashion-MNIST) beside the float copy; after
    :func:`keep_pairs` every pair is kept from its first read.

    Parameters
    ----------
    images : str or os.PathLike
        IDX file of shape (n, rows, cols).
    labels : str or os.PathLike
        IDX file of shape (n,) with integer labels in 0..255.

    Returns
    -------
    X : numpy.ndarray, shape (n, rows * cols)
        Images flattened row by row, still in the file's type (see
        :func:`idx_to_float` to scale them).
    y : numpy.ndarray of int64, shape (n,)
        The labels.

    Raises
    ------
    DataError
        If either file fails :func:`read_idx`, the images are not 3-D or
        are empty, the labels are not 1-D integers in 0..255, or the counts
        differ (the message names both files).
    """
    try:
        key = (_file_key(images), _file_key(labels))
    except OSError:
        key = None  # read_idx names the file that cannot be read
    entry = None
    if key is not None:
        with _LOCK:
            if key in _PAIRS:
                return _PAIRS[key]
            entry = _ONCE.get(key)
            pixels = entry[0]() if entry is not None else None
            if pixels is not None:  # read once and still in use: a caller holds the images or a view of them
                return pixels.reshape(entry[1]), entry[2]
    X, y = (_frozen(a) for a in _read_pair(images, labels))
    if key is not None:
        with _LOCK:
            if entry is not None or _KEEP["from_first_read"]:  # a second read, or a process of many runs: keep it
                _ONCE.pop(key, None)
                if len(_PAIRS) >= _MAX_PAIRS:
                    _PAIRS.pop(next(iter(_PAIRS)))
                _PAIRS[key] = (X, y)
            else:  # the pixels (the flat array every view of X points to) weakly; the labels are small
                if len(_ONCE) >= _MAX_ONCE:
                    _ONCE.pop(next(iter(_ONCE)))
                _ONCE[key] = (weakref.ref(X.base if X.base is not None else X), X.shape, y)
    return X, y


def _frozen(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` over immutable bytes: no caller can make it writable again."""
    return np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape)


def _read_pair(images, labels) -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(images)
    y = read_idx(labels)
    if X.ndim != 3:
        raise DataError(f"{os.fspath(images)}: expected images of shape (n, rows, cols), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] * X.shape[2] == 0:
        raise DataError(f"{os.fspath(images)}: holds no pixels (shape {X.shape})")
    if y.ndim != 1:
        raise DataError(f"{os.fspath(labels)}: expected labels of shape (n,), got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise DataError(f"{os.fspath(labels)}: labels must be integers, got {y.dtype}")
    if y.shape[0] != X.shape[0]:
        raise DataError(
            f"{os.fspath(images)} holds {X.shape[0]} images but {os.fspath(labels)} holds {y.shape[0]} labels"
        )
    if y.min() < 0 or y.max() > 255:
        raise DataError(f"{os.fspath(labels)}: labels must lie in 0..255, found {int(y.min())}..{int(y.max())}")
    return X.reshape(X.shape[0], -1), y.astype(np.int64)


def idx_to_float(X: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Convert IDX pixels to a float array; uint8 pixels are scaled to [0, 1].

    ``uint8`` values are divided by 255; other types are converted unscaled
    (their range is unknown).  The result is C-contiguous.
    """
    if X.dtype == np.uint8:
        out = np.ascontiguousarray(X, dtype=dtype)
        np.divide(out, 255, out=out)
        return out
    return np.array(X, dtype=dtype, order="C")  # a copy, also of a float file's cached, read-only pixels
