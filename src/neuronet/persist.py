"""Saving fitted estimators in the safe model file, and ``neuronet.load``.

An estimator's file is an ordinary neuronet model file (``neuronet.modelfile``):
the weights as tensors, and in the JSON metadata the estimator's class, its
parameters, its classes and its fitted attributes.  ``neuronet.load`` also turns
a file written by ``neuronet train`` into an estimator, so the two worlds share
one format.
"""

from __future__ import annotations

import numpy as np

from .errors import ModelFileError
from .modelfile import load_model, save_model

_FITTED = ("n_iter_", "t_", "loss_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")


def _plain(v):
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def save_estimator(est, path):
    """Write a fitted ``MLPClassifier``/``MLPRegressor`` to ``path``."""
    params = {k: _plain(v) for k, v in est.get_params().items() if k != "callbacks"}
    if isinstance(params.get("random_state"), (np.random.RandomState, np.random.Generator)):
        params["random_state"] = None
    if params.get("dtype") is not None:
        params["dtype"] = np.dtype(params["dtype"]).name
    meta = {
        "estimator": type(est).__name__,
        "params": params,
        "task": est._task,
        "fitted": {k: _plain(getattr(est, k, None)) for k in _FITTED},
        "n_features": int(est.n_features_in_),
    }
    if est._task == "classification":
        meta["classes"] = _plain(est.classes_)
        meta["label_type"] = est._label_type
        meta["target_range"] = _plain(est.target_range)
    else:
        meta["y_ndim"] = int(est._y_ndim)
    if hasattr(est, "feature_names_in_"):
        meta["feature_names_in"] = [str(f) for f in est.feature_names_in_]
    save_model(path, est.network_, metadata=meta)


def _estimator_from(net, meta, path):
    from sklearn.preprocessing import LabelBinarizer

    from .sklearn import MLPClassifier, MLPRegressor

    kind = meta.get("estimator")
    cls = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}.get(kind)
    if cls is None:
        raise ModelFileError(f"{path}: unknown estimator {kind!r}; valid: MLPClassifier, MLPRegressor")
    params = dict(meta.get("params") or {})
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if isinstance(params.get("target_range"), list):
        params["target_range"] = tuple(params["target_range"])
    try:
        est = cls(**params)
    except TypeError as e:
        raise ModelFileError(f"{path}: estimator parameters do not fit {kind}: {e}") from None
    est.network_ = net
    est.n_features_in_ = net.n_inputs
    if meta.get("feature_names_in"):
        est.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
    for k, v in (meta.get("fitted") or {}).items():
        if k in _FITTED:
            setattr(est, k, v)
    if kind == "MLPClassifier":
        classes = meta.get("classes")
        label_type = meta.get("label_type", "multiclass")
        if not isinstance(classes, list) or len(classes) < 2:
            raise ModelFileError(f"{path}: a classifier needs a list of at least 2 classes in its metadata")
        lb = LabelBinarizer()
        if label_type == "multilabel-indicator":
            lb.fit(np.eye(len(classes), dtype=int))
        else:
            lb.fit(np.asarray(classes))
        est._label_binarizer = lb
        est._label_type = label_type
        est.classes_ = lb.classes_
        want = 1 if label_type == "binary" and net.output_unit.name != "softmax" else len(classes)
        if net.n_outputs != want:
            raise ModelFileError(
                f"{path}: {len(classes)} classes need {want} output(s), the network has {net.n_outputs}"
            )
    else:
        est._y_ndim = int(meta.get("y_ndim", 1 if net.n_outputs == 1 else 2))
    est._expose()
    return est


def _estimator_from_cli(net, meta, path):
    """A model trained by ``neuronet train``, as an estimator (with its standardization, if any)."""
    cfg = meta.get("config") or {}
    task = meta.get("task")
    params = {
        "hidden_layer_sizes": tuple(cfg.get("hidden", ())),
        "activation": cfg.get("activation", "sigmoid"),
        "output_activation": net.output_unit.name,
        "init": cfg.get("init"),
        "target_range": tuple(cfg["targets"]) if cfg.get("targets") else None,
        "sigmoid_prime_offset": cfg.get("prime_offset", 0.0),
        "dropout": cfg.get("dropout", 0.0),
        "dtype": net.dtype.name,
        "random_state": cfg.get("seed"),
    }
    classes = meta.get("classes") or []
    fake = {
        "estimator": "MLPClassifier" if task == "classification" else "MLPRegressor",
        "params": params,
        "classes": classes,
        "label_type": "binary" if len(classes) == 2 else "multiclass",
        "y_ndim": 1,
        "fitted": {"n_iter_": meta.get("epochs_trained")},
    }
    est = _estimator_from(net, fake, path)
    pre = meta.get("preprocessing")
    if not pre:
        return est
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    mean = np.asarray(pre["mean"], dtype=np.float64)
    std = np.asarray(pre["std"], dtype=np.float64)
    if mean.shape != (net.n_inputs,) or std.shape != mean.shape or not (std > 0).all():
        raise ModelFileError(f"{path}: standardization statistics do not match the network's {net.n_inputs} inputs")
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = mean, std, std**2
    scaler.n_features_in_, scaler.n_samples_seen_ = net.n_inputs, 0
    return Pipeline([("standardize", scaler), ("mlp", est)])


def load(path):
    """Load a model file as a fitted scikit-learn estimator.

    Files written by ``estimator.save(path)`` come back as that estimator; files
    written by ``neuronet train --out`` come back as an ``MLPClassifier`` or
    ``MLPRegressor``, inside a ``Pipeline`` with a ``StandardScaler`` when the
    model was trained with ``--standardize``.  Nothing is unpickled.
    """
    net, meta = load_model(path)
    if "estimator" in meta:
        return _estimator_from(net, meta, path)
    if "config" in meta and meta.get("task") in ("classification", "regression"):
        return _estimator_from_cli(net, meta, path)
    raise ModelFileError(
        f"{path}: has no estimator or training metadata; use neuronet.modelfile.load_model to get the bare network"
    )
