"""Estimators rebuilt from a loaded model file: their own files, and files written by ``neuronet train``.

``neuronet.load`` reads the file (``neuronet.modelfile.load_model``) and hands the network and
its metadata here: ``from_metadata`` for a file an estimator saved (metadata key
``ESTIMATOR_KEY``), ``from_train_metadata`` for one ``neuronet train --out`` wrote.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import ModelFileError
from .base import ESTIMATOR_KEY
from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["ESTIMATORS", "TRAIN_CONFIG_PARAMS", "from_metadata", "from_train_metadata"]

#: class name (the value of the metadata key ``ESTIMATOR_KEY``) -> class
ESTIMATORS = {cls.__name__: cls for cls in (MLPClassifier, MLPRegressor)}

#: estimator parameter -> (training option in the file's ``config``, value when the file has none):
#: what a ``neuronet train`` file says about the fitted network.  The optimizer's settings are not
#: carried over; the estimator keeps its own defaults for them.
TRAIN_CONFIG_PARAMS = {
    "hidden_layer_sizes": ("hidden", ()),
    "activation": ("activation", "sigmoid"),
    "init": ("init", None),
    "target_range": ("targets", None),
    "sigmoid_prime_offset": ("prime_offset", 0.0),
    "dropout": ("dropout", 0.0),
    "random_state": ("seed", None),
}


def from_metadata(net, meta: dict, path):
    """The estimator ``est.save(path)`` wrote, from the loaded network and metadata."""
    kind = meta.get(ESTIMATOR_KEY)
    cls = ESTIMATORS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ModelFileError(f"{path}: unknown estimator {kind!r}; valid: {', '.join(ESTIMATORS)}")
    return cls._from_model_metadata(net, meta, path)


def from_train_metadata(net, meta: dict, path):
    """A model trained by ``neuronet train``, as an estimator (in a Pipeline after its standardization, if any).

    Reads the metadata keys ``trainjob.model_metadata`` writes: ``config`` (the training options,
    see ``TRAIN_CONFIG_PARAMS``), ``task``, ``classes``, ``epochs_trained`` and ``preprocessing``.
    """
    cfg = meta.get("config") or {}
    if not isinstance(cfg, dict):
        raise ModelFileError(f"{path}: the training config in its metadata is not a JSON object")
    params = {name: cfg.get(key, default) for name, (key, default) in TRAIN_CONFIG_PARAMS.items()}
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    params["target_range"] = tuple(params["target_range"]) if params["target_range"] else None
    params.update(output_activation=net.output_unit.name, dtype=net.dtype.name)
    classes = meta.get("classes") or []
    cls = MLPClassifier if meta.get("task") == "classification" else MLPRegressor
    own = {
        "params": params,
        "classes": classes,
        "label_type": "binary" if len(classes) == 2 else "multiclass",
        "y_ndim": 1,
        "fitted": {"n_iter_": meta.get("epochs_trained")},
    }
    est = cls._from_model_metadata(net, own, path)
    pre = meta.get("preprocessing")
    if not pre:
        return est
    mean = np.asarray(pre["mean"], dtype=np.float64)
    std = np.asarray(pre["std"], dtype=np.float64)
    if mean.shape != (net.n_inputs,) or std.shape != mean.shape or not (std > 0).all():
        raise ModelFileError(f"{path}: standardization statistics do not match the network's {net.n_inputs} inputs")
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = mean, std, std**2
    scaler.n_features_in_, scaler.n_samples_seen_ = net.n_inputs, 0
    return Pipeline([("standardize", scaler), ("mlp", est)])
