"""Tabular files: CSV text and numpy ``.npz`` archives.

Both readers return raw arrays; :func:`encode_labels` then turns the label
column into class indices ``0 .. k-1`` (classification) or float targets
(regression).  Nothing is unpickled: ``.npz`` archives are opened with
``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
import zipfile

import numpy as np

from ..errors import DataError
from .validate import check_dtype, check_features, check_labels

__all__ = ["encode_labels", "read_csv", "read_features", "read_npz"]

TASKS = ("classification", "regression")


def _check_file(path) -> str:
    """Return ``path`` as a string after checking that it is an existing file."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise DataError(f"{name}: no such file")
    if not os.path.isfile(name):
        raise DataError(f"{name}: is not a regular file")
    return name


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_rows(name: str) -> list[tuple[int, list[str]]]:
    """Return ``(line_number, stripped_cells)`` for every non-blank CSV record."""
    rows = []
    try:
        with open(name, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for cells in reader:
                cells = [cell.strip() for cell in cells]
                if any(cells):
                    rows.append((reader.line_num, cells))
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at offset {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{name}: line {reader.line_num + 1}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return rows


def _parse_label_column(labels: list[str]) -> np.ndarray:
    """Label cells as int64 if all are integers, float64 if all are numbers, else strings."""
    try:
        return np.array([int(cell) for cell in labels], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        return np.array([float(cell) for cell in labels], dtype=np.float64)
    except ValueError:
        return np.array(labels, dtype=str)


def read_csv(
    path, *, label_column: int | None = None, dtype=np.float32, task: str | None = None, header: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file of numeric features and one label column.

    With ``header=None`` the first row is taken as a header when one of its
    feature cells is not a number, or when its label cell is the only
    non-numeric label in the column (a header such as ``x0,x1,class`` above
    numeric labels); the decision is announced with ``warnings.warn``, naming
    the cells that made it.  With ``task=None`` labels that are numbers but
    not all integers are regression targets, announced the same way, as are
    labels that mix numbers and text (all then read as class names).  Blank
    lines are skipped; line numbers in messages are those of the file.

    Parameters
    ----------
    path : str or os.PathLike
        A comma-separated UTF-8 text file.
    label_column : int, optional
        Index of the label column; negative values count from the end.
        Default: the last column.
    dtype : numpy floating dtype, default float32
        Type of the feature matrix.
    task : {None, "classification", "regression"}
        None: detect (see above).  ``"classification"``: numeric labels must
        all be integers (``2`` or ``2.0``), or else every label is text (class
        names).  ``"regression"``: every label must be a finite number.
    header : {None, True, False}
        None: detect (see above).  True: the first row is a header, whatever
        it holds.  False: the first row is data, so a non-numeric cell in it
        is an error.

    Returns
    -------
    X : numpy.ndarray, shape (n_samples, n_columns - 1)
        The features, finite, C-contiguous.
    labels : numpy.ndarray, shape (n_samples,)
        The label column: int64 when every label is an integer, float64 when
        every label is a number (always with ``task="regression"``), strings
        otherwise.

    Raises
    ------
    DataError
        If the file is missing or empty, has fewer than 2 columns, has a row
        with a different number of fields (the message gives its line), a
        non-numeric, missing, NaN or infinite feature value (line and
        column), a missing label, a label that does not fit ``task`` (its
        line), a non-numeric first row with ``header=False`` (line and
        column), or ``label_column``, ``task`` or ``header`` is invalid.
    """
    name = _check_file(path)
    dtype = check_dtype(dtype)
    if task is not None and task not in TASKS:
        raise DataError(f"task: {task!r} is not a task; valid: {', '.join(TASKS)}")
    if header is not None and not isinstance(header, bool):
        raise DataError(f"header: expected True, False or None (detect), got {header!r}")
    rows = _read_rows(name)
    if not rows:
        raise DataError(f"{name}: empty file (no rows)")
    col, features = _label_and_features(name, rows, label_column)
    head, rows = _split_header(name, rows, col, features, header)
    lines = [line for line, _ in rows]
    for line, cells in rows:
        if not cells[col]:
            raise DataError(f"{name}: line {line}: missing label (column {col + 1})")
    labels = _labels(name, lines, [cells[col] for _, cells in rows], task)
    table = [[cells[c] for c in features] for _, cells in rows]
    X = _parse_features(name, table, lines, features, head)
    return _finite_features(name, X, table, lines, features, head, dtype), labels


def _finite_features(name, X, table, lines, features, head, dtype) -> np.ndarray:
    """``X`` as ``dtype``; a NaN, an infinity or a value that overflows ``dtype`` is named by its
    line and column in the file."""
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{name}: line {lines[i]}, {_column(features[j], head)}: {table[i][j]!r} is NaN or infinity; "
            "features must be finite"
        )
    with np.errstate(over="ignore"):
        X_out = np.ascontiguousarray(X, dtype=dtype)
    if not np.isfinite(X_out).all():
        i, j = np.argwhere(~np.isfinite(X_out))[0]
        raise DataError(f"{name}: line {lines[i]}, {_column(features[j], head)}: {table[i][j]!r} overflows {dtype}")
    return X_out


def _labels(name: str, lines: list[int], cells: list[str], task: str | None) -> np.ndarray:
    """The label column as ``read_csv`` documents it: checked against ``task``, or the detected task announced."""
    numeric = [_is_number(c) for c in cells]
    if task == "regression":
        for line, cell, ok in zip(lines, cells, numeric):
            if not ok or not np.isfinite(float(cell)):
                raise DataError(f"{name}: line {line}: label {cell!r} is not a finite number (task regression)")
        return np.array([float(c) for c in cells], dtype=np.float64)
    if task == "classification" and any(numeric):
        for line, cell, ok in zip(lines, cells, numeric):
            if not ok or not _is_integral(cell):
                raise DataError(
                    f"{name}: line {line}: class labels must be integers, got {cell!r} (task classification)"
                )
        return _parse_label_column(cells)
    labels = _parse_label_column(cells)
    if task is None and labels.dtype.kind == "f" and np.isfinite(labels).all():
        fractional = labels != np.round(labels)
        if fractional.any():
            i = int(np.argmax(fractional))
            warnings.warn(
                f"{name}: labels are not all integers (line {lines[i]}: {cells[i]!r}), so the task is regression; "
                "--task classification (task='classification') refuses them",
                stacklevel=3,
            )
    elif task is None and labels.dtype.kind == "U" and any(numeric):
        i = numeric.index(False)
        warnings.warn(
            f"{name}: labels mix numbers and text (line {lines[i]}: {cells[i]!r}), so every label is a class "
            "name; --task classification (task='classification') refuses them",
            stacklevel=3,
        )
    return labels


def _is_integral(cell: str) -> bool:
    """Whether a numeric cell is an integer value (``2``, ``2.0``, ``2e3``)."""
    try:
        int(cell)
        return True
    except ValueError:
        x = float(cell)
        return math.isfinite(x) and x == round(x)


def _label_and_features(name: str, rows, label_column) -> tuple[int, list[int]]:
    """The label column (0-based) and the feature columns, after checking that every row has as many fields."""
    first_line, first = rows[0]
    n_cols = len(first)
    if n_cols < 2:
        raise DataError(
            f"{name}: line {first_line} has {n_cols} column; need at least one feature column and a label column"
        )
    col = -1 if label_column is None else int(label_column)
    if not -n_cols <= col < n_cols:
        raise DataError(
            f"label_column: {label_column} is out of range for the {n_cols} columns of {name} "
            f"(valid: {-n_cols}..{n_cols - 1})"
        )
    col %= n_cols
    for line, cells in rows:
        if len(cells) != n_cols:
            raise DataError(f"{name}: line {line} has {len(cells)} fields, expected {n_cols} (as on line {first_line})")
    return col, [c for c in range(n_cols) if c != col]


def _split_header(name: str, rows, col: int, features: list[int], header: bool | None):
    """``(header or None, data rows)``: the first row is a header by the rule ``read_csv`` documents."""
    first_line, first = rows[0]
    if header is False:
        for c in features:
            if not _is_number(first[c]):
                what = f"{first[c]!r} is not a number" if first[c] else "missing value"
                raise DataError(
                    f"{name}: line {first_line}, {_column(c, None)}: {what} (the first row is data: no header)"
                )
        if not _is_number(first[col]) and len(rows) > 1 and all(_is_number(cells[col]) for _, cells in rows[1:]):
            raise DataError(
                f"{name}: line {first_line}, {_column(col, None)}: label {first[col]!r} is not a number, unlike "
                "every label below it (the first row is data: no header)"
            )
        return None, rows
    if header is None:
        text = [first[c] for c in features if not _is_number(first[c])]
        if text:
            shown = ", ".join(map(repr, text[:3])) + (", ..." if len(text) > 3 else "")
            reason = f"non-numeric cells: {shown}"
        elif not _is_number(first[col]) and len(rows) > 1 and all(_is_number(cells[col]) for _, cells in rows[1:]):
            reason = f"its label {first[col]!r} is the only non-numeric label"
        else:
            return None, rows
        warnings.warn(
            f"{name}: first row read as a header ({reason}); --no-header (header=False) reads it as data",
            stacklevel=3,
        )
    if len(rows) == 1:
        raise DataError(f"{name}: has a header but no data rows")
    return first, rows[1:]


def _column(index: int, header: list[str] | None) -> str:
    """Describe column ``index`` (0-based) as 'column 3' or "column 3 ('age')"."""
    if header is not None and header[index]:
        return f"column {index + 1} ({header[index]!r})"
    return f"column {index + 1}"


def _parse_features(name, table, lines, features, header) -> np.ndarray:
    """Parse the feature cells to float64, naming the first bad cell on failure."""
    try:
        return np.array(table, dtype=str).astype(np.float64)
    except ValueError:
        pass
    X = np.empty((len(table), len(features)), dtype=np.float64)
    for i, cells in enumerate(table):
        for j, cell in enumerate(cells):
            try:
                X[i, j] = float(cell)
            except ValueError:
                what = "missing value" if not cell else f"{cell!r} is not a number"
                raise DataError(f"{name}: line {lines[i]}, {_column(features[j], header)}: {what}") from None
    return X


def read_npz(path, *, dtype=np.float32):
    """Read a ``.npz`` archive with arrays ``X``, ``y`` and optionally ``X_test``, ``y_test``.

    Parameters
    ----------
    path : str or os.PathLike
        Archive written by ``numpy.savez(path, X=X, y=y)`` (or ``savez_compressed``).
    dtype : numpy floating dtype, default float32
        Type of the feature matrices.

    Returns
    -------
    X : numpy.ndarray, shape (n_samples, n_features)
    y : numpy.ndarray, shape (n_samples,)
        Raw labels or targets, as stored.
    X_test, y_test : numpy.ndarray or None
        The archive's own test split, or ``None`` when it has none.

    Raises
    ------
    DataError
        If the file is missing or not a zip/npz archive, lacks ``X`` or
        ``y`` (or has only one of ``X_test`` / ``y_test``), holds an object
        array (which would need unpickling), an array whose header claims
        more memory than the machine has or more bytes than the archive holds
        (checked from the ``.npy`` headers, before anything is allocated), or
        ``X`` / ``X_test`` is not a finite 2-D numeric matrix with the same
        number of features.
    """
    name = _check_file(path)
    dtype = check_dtype(dtype)
    archive = _open_npz(name)
    with archive:
        keys = set(archive.files)
        expected = "expected arrays X (n_samples, n_features) and y (n_samples,)"
        for key in ("X", "y"):
            if key not in keys:
                raise DataError(f"{name}: no array {key!r} (found: {', '.join(sorted(keys)) or 'none'}); {expected}")
        if ("X_test" in keys) != ("y_test" in keys):
            have, lack = ("X_test", "y_test") if "X_test" in keys else ("y_test", "X_test")
            raise DataError(f"{name}: has {have} but no {lack}; give both or neither")
        arrays = {key: _member(archive, key, name) for key in ("X", "y", "X_test", "y_test") if key in keys}
    X = check_features(arrays["X"], name=f"{name}[X]", dtype=dtype)
    X_test = arrays.get("X_test")
    if X_test is not None:
        X_test = check_features(X_test, name=f"{name}[X_test]", dtype=dtype)
        if X_test.shape[1] != X.shape[1]:
            raise DataError(f"{name}[X_test]: has {X_test.shape[1]} features, but X has {X.shape[1]}")
    return X, arrays["y"], X_test, arrays.get("y_test")


def _memory_bytes() -> int | None:
    """This machine's physical memory, where the OS tells."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _check_npy_header(fh, what: str, stored: int | None = None) -> None:
    """Read an ``.npy`` header from ``fh`` and refuse, before anything is allocated, an array that
    holds Python objects, would not fit in memory, or claims more bytes than ``stored``.

    ``what`` names the array in messages: ``"d.npz: array 'X'"``, ``"x.npy: the array"``.
    """
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, descr = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, descr = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{what} is not a readable .npy array ({_one_line(exc)})") from None
    if descr.hasobject:
        raise DataError(
            f"{what} holds Python objects (dtype=object); refusing to unpickle it, save plain numeric or string arrays"
        )
    if any(d < 0 for d in shape):
        raise DataError(f"{what} is corrupt: its header claims the shape {shape}")
    need = math.prod(shape) * descr.itemsize
    have = _memory_bytes()
    if have is not None and need > have:
        raise DataError(
            f"{what} is too large: shape {shape} of dtype {descr} would need {need / 2**30:.1f} GB, "
            f"and this machine has {have / 2**30:.1f} GB"
        )
    if stored is not None and need > stored:
        raise DataError(f"{what} is corrupt: its header claims shape {shape} ({need} bytes), it holds {stored} bytes")


def _is_npy(name: str) -> bool:
    """Whether the file starts with the ``.npy`` magic string (one array, not an archive)."""
    try:
        with open(name, "rb") as fh:
            return fh.read(6) == b"\x93NUMPY"
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror or exc})") from None


def _open_npz(name: str):
    """``numpy.load`` of a zip of ``.npy`` arrays, after reading every array's header (shape, dtype) first."""
    if _is_npy(name):
        raise DataError(
            f"{name}: holds a single array; expected an .npz archive with arrays X and y (numpy.savez(path, X=X, y=y))"
        )
    if not zipfile.is_zipfile(name):
        raise DataError(f"{name}: not a zip/npz archive (numpy.savez(path, X=X, y=y) writes one)")
    try:
        with zipfile.ZipFile(name) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".npy"):
                    with zf.open(info) as fh:
                        _check_npy_header(fh, f"{name}: array {info.filename[:-4]!r}", info.file_size)
        return np.load(name, allow_pickle=False)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise DataError(f"{name}: not a readable zip/npz archive ({_one_line(exc)})") from None


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _member(archive, key: str, name: str) -> np.ndarray:
    """Load one array of an open archive, refusing object arrays."""
    try:
        return archive[key]
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise DataError(
                f"{name}: array {key!r} holds Python objects (dtype=object); refusing to unpickle it, "
                "save plain numeric or string arrays"
            ) from None
        raise DataError(f"{name}: array {key!r} is unreadable ({_one_line(exc)})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{name}: array {key!r} is unreadable ({_one_line(exc)})") from None


def encode_labels(y, n_samples: int, *, task: str | None = None, name: str = "y", dtype=np.float32):
    """Turn raw labels into the targets a :class:`~neuronet.data.Dataset` holds.

    Parameters
    ----------
    y : array-like, shape (n_samples,)
        Raw labels (ints, integral floats, strings) or continuous targets.
    n_samples : int
        Number of rows of the matching feature matrix.
    task : {"classification", "regression"}, optional
        Default: regression when ``y`` holds floats that are not all
        integers, classification otherwise.
    name : str
        How to name ``y`` in error messages (e.g. ``"data.csv: label column"``).
    dtype : numpy floating dtype, default float32
        Type of regression targets.

    Returns
    -------
    y_out : numpy.ndarray, shape (n_samples,)
        int64 class indices 0..k-1, or float regression targets.
    classes : tuple
        The original label of each class index (empty for regression).
    task : str
        The resolved task.

    Raises
    ------
    DataError
        As :func:`~neuronet.data.validate.check_labels` for classification;
        for regression, if ``y`` is not numeric, not 1-D, of the wrong
        length, or not finite; if ``task`` is not a known task.
    """
    arr = np.asarray(y)
    if task is None:
        continuous = arr.dtype.kind == "f" and bool(np.all(np.isfinite(arr))) and bool(np.any(arr != np.round(arr)))
        task = "regression" if continuous else "classification"
    if task not in TASKS:
        raise DataError(f"task: {task!r} is not a task; valid: {', '.join(TASKS)}")
    if task == "classification":
        y_int, classes = check_labels(arr, n_samples, name=name)
        return y_int, tuple(classes.tolist()), task
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name}: regression targets must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise DataError(f"{name}: expected {n_samples} targets in a 1-D array, got shape {arr.shape}")
    out = arr.astype(check_dtype(dtype))
    bad = ~np.isfinite(out)
    if bad.any():
        raise DataError(f"{name}: contains NaN or infinity (first at index {int(np.argmax(bad))})")
    return out, (), task


def read_features(path, *, dtype=np.float32) -> np.ndarray:
    """Read a feature matrix without labels, for prediction.

    ``.csv``: every column is a feature; a first row with a non-numeric cell is
    a header.  ``.npy``: a 2-D numeric array.  ``.npz``: the array ``X``.
    Nothing is unpickled.
    """
    name = _check_file(path)
    dtype = check_dtype(dtype)
    lower = name.lower()
    if lower.endswith(".csv"):
        rows = _read_rows(name)
        if not rows:
            raise DataError(f"{name}: empty file (no rows)")
        header = None
        if not all(_is_number(c) for c in rows[0][1]):
            (head_line, header), rows = rows[0], rows[1:]
            if not rows:
                raise DataError(f"{name}: has a header but no data rows")
        width = len(rows[0][1])
        for line, cells in rows:
            if len(cells) != width:
                raise DataError(f"{name}: line {line}: has {len(cells)} columns, expected {width} (ragged rows)")
        if header is not None and len(header) != width:
            raise DataError(
                f"{name}: the header (line {head_line}) has {len(header)} columns, but the rows have {width}"
            )
        table, lines = [c for _, c in rows], [ln for ln, _ in rows]
        X = _parse_features(name, table, lines, list(range(width)), header)
        X = _finite_features(name, X, table, lines, list(range(width)), header, dtype)
        return check_features(X, name=name, dtype=dtype)
    if lower.endswith(".npy") or (lower.endswith(".npz") and _is_npy(name)):  # a lone array named .npz: fine here
        with open(name, "rb") as fh:
            _check_npy_header(fh, f"{name}: the array", os.path.getsize(name))
        try:
            X = np.load(name, allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"{name}: not a plain numeric .npy array ({_one_line(exc)})") from None
        except (OSError, EOFError) as exc:
            raise DataError(f"{name}: not a readable .npy file ({_one_line(exc)})") from None
        return check_features(X, name=name, dtype=dtype)
    if lower.endswith(".npz"):
        archive = _open_npz(name)
        with archive:
            if "X" not in archive.files:
                raise DataError(f"{name}: no array 'X' (found: {', '.join(sorted(archive.files)) or 'none'})")
            X = _member(archive, "X", name)
        return check_features(X, name=f"{name}[X]", dtype=dtype)
    raise DataError(f"{name}: unsupported input format; use .csv, .npy or .npz")
