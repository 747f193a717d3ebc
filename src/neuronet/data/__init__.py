"""Datasets: one :func:`load` for every spec that ``--data`` accepts.

========================  =====================================================
spec                      what it loads
========================  =====================================================
``digits``                scikit-learn's bundled 8x8 digits (1797 images, 10
                          classes), pixels scaled to [0, 1]; seeded split
``fashion-mnist``         Fashion-MNIST IDX files from ``$NEURONET_DATA/
                          fashion-mnist/`` or ``/usr/share/datasets/
                          fashion-mnist`` (Debian's dataset-fashion-mnist)
``mnist``                 MNIST IDX files from ``$NEURONET_DATA/mnist/``
``idx:DIR``               the four standard IDX files in ``DIR`` (gzipped or not)
``FILE.csv``              numeric features, label in the last column
``FILE.npz``              arrays ``X``, ``y`` (and optionally ``X_test``, ``y_test``)
``xor``                   the four XOR patterns (train = test)
``encoder:N-M-N``         Fahlman's N one-hot patterns (train = test)
``spirals``               two interleaved spirals, 400 points, seeded
``circles``               two concentric circles, 400 points, seeded
========================  =====================================================

IDX sets keep the files' own train/test split; the others are split with a
seeded, stratified draw of ``test_fraction``.  All randomness comes from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import synthetic
from .dataset import Dataset
from .idx import IDX_FILES, find_idx_file, idx_to_float, load_idx_pair, read_idx, write_idx
from .tabular import encode_labels, read_csv, read_npz
from .validate import (
    check_dtype,
    check_features,
    check_fraction,
    check_labels,
    split_indices,
    standardize,
    train_validation_split,
)

__all__ = [
    "DATASETS",
    "IDX_FILES",
    "SPEC_FORMS",
    "SYSTEM_DATA_DIRS",
    "Dataset",
    "UnseenClassesWarning",
    "check_features",
    "check_labels",
    "check_spec",
    "load",
    "load_idx_pair",
    "read_csv",
    "read_idx",
    "read_npz",
    "split_indices",
    "standardize",
    "takes_task",
    "train_validation_split",
    "write_idx",
]

#: Every form of spec :func:`load` accepts, in the order error messages list them.
SPEC_FORMS = (
    "digits",
    "fashion-mnist",
    "mnist",
    "idx:DIR",
    "FILE.csv",
    "FILE.npz",
    "xor",
    "encoder:N-M-N",
    "spirals",
    "circles",
)

#: System-wide folders searched (after ``$NEURONET_DATA/<name>``) for named IDX sets.
SYSTEM_DATA_DIRS = {"fashion-mnist": ("/usr/share/datasets/fashion-mnist",), "mnist": ()}

_HOW_TO_GET = {
    "fashion-mnist": (
        "install them with 'apt-get install dataset-fashion-mnist', or put the four IDX files "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz) in $NEURONET_DATA/fashion-mnist/"
    ),
    "mnist": (
        "put the four MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in $NEURONET_DATA/mnist/"
    ),
}


@dataclass(frozen=True)
class _Request:
    """The options of one :func:`load` call, as the loaders see them."""

    spec: str
    label_column: int | None
    test_fraction: float
    dtype: np.dtype
    task: str | None
    rng: np.random.Generator
    header: bool | None = None


@dataclass(frozen=True)
class _Parts:
    """What a loader returns: arrays before subsampling and float conversion."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    task: str
    source: str
    to_float: Callable[[np.ndarray, str], np.ndarray] | None = None


def load(
    spec: str,
    *,
    label_column: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    dtype=np.float32,
    max_train: int | None = None,
    max_test: int | None = None,
    task: str | None = None,
    csv_task: str | None = None,
    csv_header: bool | None = None,
) -> Dataset:
    """Load a dataset from a spec string (the value of ``--data``).

    Parameters
    ----------
    spec : str
        One of :data:`SPEC_FORMS` (see the module docstring).  Names are
        case-insensitive; paths are not.
    label_column : int, optional
        CSV only: index of the label column (negative counts from the end);
        default the last column.
    test_fraction : float, default 0.2
        Share of samples held out for testing, for sets without their own
        test split (digits, CSV, NPZ without ``X_test``, spirals, circles).
    seed : int, default 0
        Seeds ``numpy.random.default_rng``, which drives generation,
        splitting and subsampling.
    dtype : numpy floating dtype, default float32
        Type of the features (and of regression targets).
    max_train, max_test : int, optional
        Keep at most this many training / test samples: the first ones of a
        seeded permutation.  Handy for quick runs on Fashion-MNIST.
    task : {"classification", "regression"}, optional
        CSV and NPZ only.  Default: regression when the labels are floats
        that are not all integers, classification otherwise (for a CSV, said
        with ``warnings.warn``).  Given, a CSV label that does not fit the
        task is an error naming its line (see :func:`read_csv`).
    csv_task : {"classification", "regression"}, optional
        ``task`` for a CSV file only (the ``--task`` of a CSV); given with
        ``task``, both must agree.
    csv_header : bool, optional
        CSV only: whether the first row is a header; default detected (and the
        detection said with ``warnings.warn``), see :func:`read_csv`.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If the spec is unknown (the message lists the valid forms), a file
        is missing or malformed, or an option is invalid.

    Examples
    --------
    >>> ds = load("xor")
    >>> ds.y_train.tolist()
    [0, 1, 1, 0]
    """
    _check_load_options(spec, seed, max_train, max_test)
    if csv_task is not None and task is not None and csv_task != task:
        raise DataError(f"csv_task: {csv_task!r} contradicts task {task!r}")
    request = _Request(
        spec=spec,
        label_column=label_column,
        test_fraction=check_fraction(test_fraction),
        dtype=check_dtype(dtype),
        task=task if task is not None else csv_task,
        rng=np.random.default_rng(int(seed)),
        header=csv_header,
    )
    loader, is_tabular = _resolve(spec)
    for option, value in (("label_column", label_column), ("csv_task", csv_task), ("csv_header", csv_header)):
        if value is not None and loader is not _load_csv:
            raise DataError(f"{option}: applies to CSV files only, not to --data {spec!r}")
    if task is not None and not is_tabular:
        raise DataError(f"task: applies to CSV and NPZ files only, not to --data {spec!r}")
    return _dataset(request, loader(request), max_train, max_test)


def takes_task(spec) -> bool:
    """Whether ``load(spec, task=...)`` accepts a task: ``spec`` names a CSV or NPZ file."""
    try:
        return _resolve(spec)[1]
    except (DataError, AttributeError):
        return False


def _check_load_options(spec, seed, max_train, max_test) -> None:
    """Refuse a spec that is not a non-empty string, a bad seed or a bad ``max_train`` / ``max_test``."""
    if not isinstance(spec, str) or not spec:
        raise DataError(f"--data {spec!r}: expected a dataset spec; valid: {', '.join(SPEC_FORMS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"seed: must be a non-negative integer, got {seed!r}")
    for option, value in (("max_train", max_train), ("max_test", max_test)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise DataError(f"{option}: must be a positive integer or None, got {value!r}")


def _dataset(req: _Request, parts: _Parts, max_train, max_test) -> Dataset:
    """The ``Dataset`` of a loader's parts: subsampled (train first), features checked and converted."""
    X_train, y_train = _subsample(parts.X_train, parts.y_train, max_train, req.rng)
    X_test, y_test = _subsample(parts.X_test, parts.y_test, max_test, req.rng)
    to_float = parts.to_float or (lambda X, part: check_features(X, name=f"{req.spec} {part}", dtype=req.dtype))
    return Dataset(
        name=req.spec,
        X_train=to_float(X_train, "train"),
        y_train=y_train,
        X_test=to_float(X_test, "test"),
        y_test=y_test,
        n_classes=len(parts.classes) if parts.task == "classification" else None,
        task=parts.task,
        classes=parts.classes,
        source=parts.source,
    )


def check_spec(spec: str) -> None:
    """Raise ``DataError`` now for a ``--data`` value that no loader takes, or that names a file or
    folder that is not there: for commands that load it later, in every run (``neuronet lecture``)."""
    _, table = _resolve(spec)
    path = spec[4:] if spec.lower().startswith("idx:") else spec if table else None
    if path == "":
        raise DataError(f"--data {spec!r}: expected idx:DIR, a folder holding the four IDX files")
    if path is not None and not os.path.exists(path):
        raise DataError(f"--data {spec!r}: {path}: no such file or folder")


def _resolve(spec: str) -> tuple[Callable[[_Request], _Parts], bool]:
    """Find the loader for ``spec``; the flag says whether it reads a CSV or NPZ table."""
    lowered = spec.lower()
    if lowered in DATASETS:
        return DATASETS[lowered], False
    if lowered.startswith("idx:"):
        return _load_idx_spec, False
    if lowered.startswith("encoder:"):
        return _load_encoder, False
    if lowered.endswith(".csv"):
        return _load_csv, True
    if lowered.endswith(".npz"):
        return _load_npz, True
    hint = f"; for a folder of IDX files write idx:{spec}" if os.path.isdir(spec) else ""
    raise DataError(f"--data {spec!r}: unknown dataset; valid: {', '.join(SPEC_FORMS)}{hint}")


def _subsample(X, y, limit, rng):
    """The first ``limit`` samples of a seeded permutation (everything if ``limit`` is None or large)."""
    if limit is None or limit >= len(y):
        return X, y
    keep = rng.permutation(len(y))[:limit]
    return X[keep], y[keep]


def _split(req: _Request, X, y, classes, task, source) -> _Parts:
    """Hold out ``req.test_fraction`` of ``X, y`` with ``split_indices`` (stratified for classification)."""
    train, test = split_indices(y, req.test_fraction, req.rng, stratify=task == "classification")
    return _Parts(X[train], y[train], X[test], y[test], classes, task, source)


# --- bundled and synthetic sets ------------------------------------------------


def _digits_arrays():
    """The 1,797 8x8 digits scikit-learn ships, read from its data file.

    Reading ``sklearn/datasets/data/digits.csv.gz`` directly (the same file and format
    ``sklearn.datasets.load_digits`` reads) avoids importing scikit-learn and SciPy, about
    a second, in every CLI call, lecture and sweep worker.  Falls back to ``load_digits``.
    """
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is not None and path.is_file():
        data = np.loadtxt(path, delimiter=",")
        if data.shape == (1797, 65):
            return data[:, :-1], data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _load_digits(req: _Request) -> _Parts:
    X, y = _digits_arrays()  # pixels are integers 0..16
    X = (X / 16.0).astype(req.dtype)
    return _split(req, X, y.astype(np.int64), tuple(range(10)), "classification", "sklearn.datasets.load_digits")


def _load_xor(req: _Request) -> _Parts:
    X, y = synthetic.xor(dtype=req.dtype)
    return _Parts(X, y, X.copy(), y.copy(), (0, 1), "classification", "synthetic: the 4 XOR patterns")


def _load_encoder(req: _Request) -> _Parts:
    n, _ = synthetic.parse_encoder_spec(req.spec.lower())
    X, y = synthetic.encoder(n, dtype=req.dtype)
    source = f"synthetic: Fahlman's {n} one-hot encoder patterns"
    return _Parts(X, y, X.copy(), y.copy(), tuple(range(n)), "classification", source)


def _load_spirals(req: _Request) -> _Parts:
    X, y = synthetic.spirals(400, req.rng, dtype=req.dtype)
    return _split(req, X, y, (0, 1), "classification", "synthetic: two spirals, n=400")


def _load_circles(req: _Request) -> _Parts:
    X, y = synthetic.circles(400, req.rng, dtype=req.dtype)
    return _split(req, X, y, (0, 1), "classification", "synthetic: two circles, n=400")


# --- files ----------------------------------------------------------------------


def _load_csv(req: _Request) -> _Parts:
    X, labels = read_csv(req.spec, label_column=req.label_column, dtype=req.dtype, task=req.task, header=req.header)
    y, classes, task = encode_labels(
        labels, X.shape[0], task=req.task, name=f"{req.spec}: label column", dtype=req.dtype
    )
    return _split(req, X, y, classes, task, os.path.abspath(req.spec))


def _load_npz(req: _Request) -> _Parts:
    path = req.spec
    X, y, X_test, y_test = read_npz(path, dtype=req.dtype)
    y_train, classes, task = encode_labels(y, X.shape[0], task=req.task, name=f"{path}[y]", dtype=req.dtype)
    source = os.path.abspath(path)
    if X_test is None:
        return _split(req, X, y_train, classes, task, source)
    y_test = np.asarray(y_test)
    if y_test.ndim != 1 or y_test.shape[0] != X_test.shape[0]:
        raise DataError(f"{path}[y_test]: expected {X_test.shape[0]} labels in a 1-D array, got shape {y_test.shape}")
    # Encode train and test together so that both use one class numbering.
    both, classes, task = encode_labels(
        np.concatenate([np.asarray(y), y_test]),
        X.shape[0] + X_test.shape[0],
        task=task,
        name=f"{path}[y, y_test]",
        dtype=req.dtype,
    )
    if task == "classification":
        _warn_unseen(both[: X.shape[0]], both[X.shape[0] :], classes, f"{path}[y_test]", f"{path}[y]")
    return _Parts(X, both[: X.shape[0]], X_test, both[X.shape[0] :], classes, task, source)


class UnseenClassesWarning(UserWarning):
    """A test split holds classes its training split never shows (see ``_warn_unseen``)."""


def _warn_unseen(y_train, y_test, classes, test_name, train_name) -> None:
    """Warn when the test labels hold classes the training labels never show: the network gets an
    output for each, which no training step ever asks for, and every such test sample counts as wrong."""
    unseen = np.setdiff1d(np.unique(y_test), np.unique(y_train))
    if unseen.size:
        names = ", ".join(str(classes[i]) for i in unseen[:10]) + (", ..." if unseen.size > 10 else "")
        warnings.warn(
            f"{test_name}: class{'es' if unseen.size > 1 else ''} {names} never appear{'' if unseen.size > 1 else 's'} "
            f"in {train_name}; a network trained on this set never learns them",
            UnseenClassesWarning,
            stacklevel=4,
        )


def _load_idx_spec(req: _Request) -> _Parts:
    folder = req.spec[len("idx:") :]
    if not folder:
        raise DataError(f"--data {req.spec!r}: expected idx:DIR, a folder holding the four IDX files")
    if not os.path.isdir(folder):
        raise DataError(f"--data {req.spec!r}: {folder} is not a folder")
    missing = _missing_idx_files(folder)
    if missing:
        raise DataError(f"--data {req.spec!r}: {folder} lacks {', '.join(missing)}")
    return _idx_parts(folder, req)


def _missing_idx_files(folder) -> list[str]:
    return [f"{stem}[.gz]" for stem in IDX_FILES.values() if find_idx_file(folder, stem) is None]


def _idx_parts(folder, req: _Request) -> _Parts:
    """Read the four IDX files in ``folder``; pixels stay raw until after subsampling."""
    path = {role: find_idx_file(folder, stem) for role, stem in IDX_FILES.items()}
    X_train, y_train = load_idx_pair(path["train_images"], path["train_labels"])
    X_test, y_test = load_idx_pair(path["test_images"], path["test_labels"])
    if X_test.shape[1] != X_train.shape[1]:
        raise DataError(
            f"{path['test_images']}: images have {X_test.shape[1]} pixels, "
            f"but those in {path['train_images']} have {X_train.shape[1]}"
        )
    check_labels(y_train, y_train.shape[0], name=str(path["train_labels"]))
    classes, y_all = np.unique(np.concatenate([y_train, y_test]), return_inverse=True)
    y_all = y_all.reshape(-1).astype(np.int64)
    n = len(y_train)
    _warn_unseen(y_all[:n], y_all[n:], classes, str(path["test_labels"]), str(path["train_labels"]))

    def to_float(X, part):
        images = path["train_images"] if part == "train" else path["test_images"]
        return check_features(idx_to_float(X, req.dtype), name=str(images), dtype=req.dtype)

    return _Parts(
        X_train,
        y_all[: len(y_train)],
        X_test,
        y_all[len(y_train) :],
        tuple(classes.tolist()),
        "classification",
        str(Path(folder).resolve()),
        to_float,
    )


def _named_idx(name: str) -> Callable[[_Request], _Parts]:
    """Loader for a named IDX set searched in $NEURONET_DATA/<name>, then system folders."""

    def loader(req: _Request) -> _Parts:
        root = os.environ.get("NEURONET_DATA")
        folders = ([Path(root) / name] if root else []) + [Path(d) for d in SYSTEM_DATA_DIRS.get(name, ())]
        looked = [] if root else ["$NEURONET_DATA (not set)"]
        for folder in folders:
            if not folder.is_dir():
                looked.append(f"{folder} (no such folder)")
                continue
            missing = _missing_idx_files(folder)
            if not missing:
                return _idx_parts(folder, req)
            looked.append(f"{folder} (lacks {', '.join(missing)})")
        raise DataError(f"--data {req.spec!r}: IDX files not found; looked in {'; '.join(looked)}; {_HOW_TO_GET[name]}")

    return loader


#: Named datasets: spec name -> loader.  Pattern forms (idx:DIR, encoder:N-M-N,
#: FILE.csv, FILE.npz) are resolved in :func:`_resolve`.
DATASETS: dict[str, Callable[[_Request], _Parts]] = {
    "digits": _load_digits,
    "fashion-mnist": _named_idx("fashion-mnist"),
    "mnist": _named_idx("mnist"),
    "xor": _load_xor,
    "spirals": _load_spirals,
    "circles": _load_circles,
}
