"""The bottom I/O module: atomic writes, strict JSON, version stamps.

Every file neuronet writes (models, checkpoints, reports, results, trials) goes
through ``atomic_write_bytes``: the bytes go to a temporary file in the target's
folder, are flushed and ``fsync``-ed, and the temporary file is renamed over the
target with ``os.replace`` (atomic on POSIX and Windows).  A reader therefore sees
the old content or the new, never part of one, and a crash leaves no partial file.

The new file gets the mode of the file it replaces, or ``0o666 & ~umask`` (0644
under the usual umask): results are meant to be read by others.  A target that
exists but is not a regular file (``/dev/null``, a folder, a FIFO) is refused,
because renaming over it would replace the device or special file.

This module imports nothing else from neuronet but ``errors``: every other
module may use it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np

from .errors import ConfigError

__all__ = [
    "atomic_write_bytes",
    "check_out_folder",
    "check_parent_folders",
    "check_target",
    "dumps_strict",
    "refuse_empty_path",
    "refuse_overwriting_inputs",
    "same_file",
    "to_jsonable",
    "versions",
    "write_json_atomic",
    "write_text_atomic",
]


# -- atomic writes ----------------------------------------------------------------------------
def _umask() -> int:
    try:  # thread-safe on Linux
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it back
    os.umask(mask)
    return mask


def check_target(path) -> None:
    """Raise ``ConfigError`` when ``path`` cannot be (re)written as a regular file.

    Checks, in this order: the parent exists and is a folder; the target, if it
    exists, is a regular file (not a device such as ``/dev/null``, a folder or a FIFO), and neither
    it nor a link on the way to it is under ``/dev`` or ``/proc`` (``_system_location``).
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    system = _system_location(path)
    if system is not None:
        raise ConfigError(
            f"{path}: cannot write: it leads to {system}, a device or a process's file, not a regular file; "
            "choose a file path"
        )
    if not os.path.exists(parent):
        raise ConfigError(f"{path}: cannot write: folder {parent} does not exist")
    if not os.path.isdir(parent):
        raise ConfigError(f"{path}: cannot write: parent {parent} is not a directory")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise ConfigError(f"{path}: cannot write: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{path}: cannot write: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: cannot write: not a regular file (a device, FIFO or socket); choose a file path")


def _system_location(path) -> str | None:
    """The place under ``/dev`` or ``/proc`` that ``path`` is or leads to through its links, or None.

    ``/dev/stdout`` is a link to ``/proc/self/fd/1``, itself a link to whatever file descriptor 1 is:
    following it to the end would replace the file that standard output is redirected to.  So each
    link is followed one step at a time, and the first step into ``/dev`` (but ``/dev/shm``, a folder
    of ordinary files) or ``/proc`` is the answer."""

    def system(p):
        dev = p == "/dev" or (p.startswith("/dev/") and p != "/dev/shm" and not p.startswith("/dev/shm/"))
        return dev or p == "/proc" or p.startswith("/proc/")

    p = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links in a path
        p = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
        if system(p):
            return p
        if not os.path.islink(p):
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
    return p  # a loop of links: nothing to write to


def same_file(a, b) -> bool:
    """Whether paths ``a`` and ``b`` name the same existing file (links and ``..`` resolved)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def refuse_overwriting_inputs(output: tuple[str, object], *inputs: tuple[str, object]) -> None:
    """ConfigError naming both paths when the output (``(option, path)``) is one of the inputs."""
    out_name, out_path = output
    for in_name, in_path in inputs:
        if in_path is not None and out_path is not None and same_file(out_path, in_path):
            raise ConfigError(
                f"{out_name} {out_path}: is the same file as {in_name} {in_path}; writing it would destroy the input"
            )


def check_parent_folders(path) -> None:
    """ConfigError when an existing ancestor of ``path`` is a file (so its folders cannot be made)."""
    p = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(p)
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    if parent and not os.path.isdir(parent):
        raise ConfigError(f"{path}: cannot write: parent {parent} is not a directory")


def refuse_empty_path(path, option: str, what: str) -> None:
    """ConfigError ``"<option>: an empty path; give <what>"`` for ``""`` or blanks: the one message
    for every output a command takes."""
    if not str(path).strip():
        raise ConfigError(f"{option}: an empty path; give {what}")


def check_out_folder(path, option: str) -> None:
    """ConfigError, before any work, when folder ``path`` (given as ``option``) cannot be made or
    written into: it is an existing file, or a file stands where one of its parents should be."""
    if path is None:
        return
    refuse_empty_path(path, option, "a folder name")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"{option} {path}: exists and is not a folder")
    try:
        check_parent_folders(path)
    except ConfigError as e:
        raise ConfigError(f"{option} {e}") from None


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that ``path`` holds either the old or the new content.

    On any exception the temporary file is removed and the exception propagates;
    an ``OSError`` carries ``path`` as its ``filename`` (``ENOSPC`` included).  Returns ``Path(path)``.
    """
    check_target(path)
    path = os.fspath(path)
    # through a symbolic link to the file it names: the link stays a link, its file gets the new content
    real = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(real))
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=".tmp")
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException as e:  # KeyboardInterrupt too: never leave the temp file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.filename is None:  # e.g. ENOSPC from write(): name the file
            raise OSError(e.errno, e.strerror or str(e), path) from None
        raise
    _fsync_folder(folder)
    return Path(path)


def _fsync_folder(folder):
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return  # e.g. Windows: folders cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path, text: str, encoding: str = "utf-8") -> Path:
    """``atomic_write_bytes`` for text (``\\n`` line endings)."""
    return atomic_write_bytes(path, text.encode(encoding))


def write_json_atomic(path, obj, *, indent=2) -> Path:
    """Write ``to_jsonable(obj)`` as strict JSON (UTF-8, no NaN), atomically."""
    return write_text_atomic(path, dumps_strict(obj, indent=indent) + "\n")


# -- JSON ---------------------------------------------------------------------------------------
def to_jsonable(obj):
    """Plain JSON types for ``obj``: numpy scalars and arrays, tuples, sets, paths and dataclasses converted.

    Non-finite floats (NaN, inf) become None, so the output is strict JSON that any
    parser reads; objects with ``to_dict()`` are converted through it; other unknown
    objects become their ``str``.
    """
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def numpy_default(obj):
    """A strict ``json.dumps`` ``default`` hook: numpy scalars and arrays only, anything else is a TypeError.

    For files whose content must round-trip exactly (model metadata, config hashes),
    where silently turning an object into its ``str`` would hide a bug.
    """
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def dumps_strict(obj, *, indent=None) -> str:
    """``json.dumps(to_jsonable(obj))`` refusing NaN: what every results file uses."""
    return json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False)


# -- provenance -------------------------------------------------------------------------------
def versions() -> dict:
    """Versions of neuronet, numpy, scikit-learn (without importing it), Python, the platform,
    and dask.distributed when it is loaded: the stamp every results file carries."""
    from importlib.metadata import PackageNotFoundError, version

    from .version import __version__

    try:
        sk = version("scikit-learn")
    except PackageNotFoundError:  # not installed as a distribution: ask the module
        import sklearn

        sk = sklearn.__version__
    out = {
        "neuronet": __version__,
        "numpy": np.__version__,
        "scikit-learn": sk,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if "distributed" in sys.modules:
        out["distributed"] = sys.modules["distributed"].__version__
    return out
