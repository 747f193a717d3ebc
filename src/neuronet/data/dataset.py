"""The :class:`Dataset` every loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError

__all__ = ["Dataset"]


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A train/test pair of validated arrays, ready for the engine.

    Attributes
    ----------
    name : str
        The spec it was loaded from (``"digits"``, ``"encoder:8-3-8"``, a path...).
    X_train : numpy.ndarray, shape (n_train, n_features)
        Finite float features, C-contiguous.
    y_train : numpy.ndarray, shape (n_train,)
        int64 class indices 0..k-1 (classification) or float targets (regression).
    X_test : numpy.ndarray, shape (n_test, n_features)
    y_test : numpy.ndarray, shape (n_test,)
    n_classes : int or None
        Number of classes k; None for regression.
    task : {"classification", "regression"}
    classes : tuple
        ``classes[i]`` is the original label (from the file) of class index
        ``i``; empty for regression.
    source : str
        Where the data came from (a path, a folder, a generator and its seed).

    Raises
    ------
    DataError
        On construction, if the arrays are inconsistent: wrong dimensions,
        non-float or non-contiguous features, different feature counts,
        label counts that differ from sample counts, class indices outside
        0..n_classes-1, or ``classes`` of the wrong length.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None
    task: str
    classes: tuple = ()
    source: str = ""

    def __post_init__(self):
        where = f"dataset {self.name!r}"
        if self.task not in ("classification", "regression"):
            raise DataError(f"{where}: task must be 'classification' or 'regression', got {self.task!r}")
        for part in ("train", "test"):
            X = getattr(self, f"X_{part}")
            y = getattr(self, f"y_{part}")
            if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f" and X.flags.c_contiguous):
                raise DataError(f"{where}: X_{part} must be a 2-D C-contiguous float array")
            if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.shape[0] == X.shape[0]):
                raise DataError(f"{where}: y_{part} must be a 1-D array with one entry per row of X_{part}")
            if self.task == "classification":
                if y.dtype != np.int64:
                    raise DataError(f"{where}: y_{part} must hold int64 class indices, got {y.dtype}")
                if y.size and (y.min() < 0 or y.max() >= (self.n_classes or 0)):
                    raise DataError(f"{where}: y_{part} holds class indices outside 0..{(self.n_classes or 0) - 1}")
            elif y.dtype.kind != "f":
                raise DataError(f"{where}: y_{part} must hold float regression targets, got {y.dtype}")
        if self.X_train.shape[1] != self.X_test.shape[1]:
            raise DataError(
                f"{where}: X_train has {self.X_train.shape[1]} features but X_test has {self.X_test.shape[1]}"
            )
        if self.task == "classification":
            if self.n_classes is None or self.n_classes < 2 or len(self.classes) != self.n_classes:
                raise DataError(
                    f"{where}: a classification set needs n_classes >= 2 and one entry of classes per class"
                )
        elif self.n_classes is not None:
            raise DataError(f"{where}: n_classes must be None for regression")

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X_train``)."""
        return self.X_train.shape[1]

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return self.X_train.shape[0]

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return self.X_test.shape[0]

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.task == "classification" else "regression"
        return (
            f"Dataset({self.name!r}, train={self.n_train}x{self.n_features}, test={self.n_test}, "
            f"{kind}, {self.X_train.dtype}, source={self.source!r})"
        )
