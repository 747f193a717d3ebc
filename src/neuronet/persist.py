"""``neuronet.load``: a model file back as a fitted scikit-learn estimator.

The file is an ordinary neuronet model file (``neuronet.modelfile``).  ``load`` reads it and
dispatches on its metadata, knowing two keys and nothing behind them:

* ``"estimator"`` (``estimators.ESTIMATOR_KEY``): written by ``estimator.save(path)``;
  the estimator class rebuilds itself (``estimators.from_metadata``);
* ``"config"`` with ``"task"``: written by ``neuronet train --out``; the estimators package
  turns the training options into an estimator (``estimators.from_train_metadata``).
"""

from __future__ import annotations

from .errors import ModelFileError
from .estimators import ESTIMATOR_KEY, from_metadata, from_train_metadata
from .modelfile import load_model

__all__ = ["load"]

#: The metadata key ``neuronet train`` writes its training options under (``trainjob.model_metadata``).
TRAIN_CONFIG_KEY = "config"


def load(path):
    """Load a model file as a fitted scikit-learn estimator.

    Files written by ``estimator.save(path)`` come back as that estimator; files
    written by ``neuronet train --out`` come back as an ``MLPClassifier`` or
    ``MLPRegressor``, inside a ``Pipeline`` with a ``StandardScaler`` when the
    model was trained with ``--standardize``.  Nothing is unpickled.
    """
    net, meta = load_model(path)
    if ESTIMATOR_KEY in meta:
        return from_metadata(net, meta, path)
    if TRAIN_CONFIG_KEY in meta and meta.get("task") in ("classification", "regression"):
        return from_train_metadata(net, meta, path)
    raise ModelFileError(
        f"{path}: has no estimator or training metadata; use neuronet.modelfile.load_model to get the bare network"
    )
