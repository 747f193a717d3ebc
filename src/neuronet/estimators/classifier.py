"""``MLPClassifier``: labels in, a network with one output per class (one for two classes) inside."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ..errors import ConfigError, DataError, ModelFileError
from ..files import to_jsonable
from ..units import get_unit
from .base import BaseMLP

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier, a drop-in for ``sklearn.neural_network.MLPClassifier``.

    Defaults as scikit-learn: ReLU hidden units, Adam, 200 iterations; binary and
    multilabel problems use logistic output units with the logistic loss,
    multiclass problems a softmax with cross-entropy.  Every parameter of
    scikit-learn's ``MLPClassifier`` is accepted, with its meaning and default;
    the parameters listed below are the ones it does not have.

    Parameters
    ----------
    output_activation : str, optional
        Output unit (e.g. ``"logistic"`` for a multiclass problem, to study stuck outputs).
    loss : str, optional
        ``"cross-entropy"``, ``"logistic"`` or ``"squared-error"`` (default: the output unit's partner).
    init : str, optional
        ``"fan-in"``, ``"normal:1"``, ``"glorot"``, ``"he"``, ``"uniform:0.7"``...; default Glorot-uniform.
    target_range : (low, high), optional
        Soft targets such as ``(0.15, 0.85)``.
    sigmoid_prime_offset : float
        Fahlman's ``S' + c`` for sigmoid units.
    optimizer : str, optional
        Overrides ``solver``: ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``, ``"quickprop"``
        (with ``learning_rate_init`` as its step size).
    dropout : float
        Dropout probability of hidden units during training.
    dtype : None, "float32" or "float64"
        None: float32 input stays float32, anything else is computed in float64.
    callbacks : list of neuronet.Callback
        Called by the ``Trainer`` during ``fit`` and ``partial_fit``.

    Attributes
    ----------
    classes_, coefs_, intercepts_, n_iter_, loss_, loss_curve_, best_loss_ : as scikit-learn
        Assigning ``coefs_`` or ``intercepts_`` changes the model, as in scikit-learn.
    validation_scores_, best_validation_score_, t_, n_features_in_, n_layers_, n_outputs_ : as scikit-learn
    out_activation_ : str
        ``"softmax"``, ``"logistic"`` or another output unit's name.
    diagnostics_ : list
        Per epoch, per-layer dicts: saturation, dead units, gradient norms.
    network_ : neuronet.Network
        The network; ``coefs_`` and ``intercepts_`` are views of its weights.
    """

    _task = "classification"

    def _default_output(self):
        return "sigmoid" if self._label_type in ("binary", "multilabel-indicator") else "softmax"

    def _output_name(self):
        try:
            return get_unit(self.output_activation or self._default_output()).name
        except ConfigError as e:
            raise ValueError(f"output_activation: {e}") from None

    def _encode_y(self, y, reset, classes, dtype):
        check_classification_targets(y)
        if reset:
            if self.warm_start and hasattr(self, "network_") and classes is None:
                self._refuse_new_classes_on_warm_start(y)
            labels = y if classes is None else np.asarray(classes)
            if classes is not None:
                check_classification_targets(labels)
            lb = LabelBinarizer().fit(labels)
            label_type = type_of_target(labels)
            if label_type != "multilabel-indicator" and len(lb.classes_) == 2:
                label_type = "binary"
            if label_type != "multilabel-indicator" and len(lb.classes_) < 2:
                raise ValueError(f"MLPClassifier needs samples of at least 2 classes; got 1 class ({lb.classes_[0]!r})")
            if classes is not None:
                _refuse_unknown_labels(y, lb.classes_, label_type)  # before any fitted attribute is set
            self._label_binarizer, self._label_type, self.classes_ = lb, label_type, lb.classes_
        else:
            _refuse_unknown_labels(y, self.classes_, self._label_type)
        if self._label_type != "multilabel-indicator" and np.ndim(y) == 2 and np.shape(y)[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected.", DataConversionWarning, stacklevel=2
            )
            y = column_or_1d(y)
        Y = self._label_binarizer.transform(y).astype(dtype)
        if self._label_type == "binary" and self._output_name() == "softmax":
            Y = np.hstack([1 - Y, Y])  # a softmax needs one unit per class
        if self.target_range is not None:
            low, high = map(float, self.target_range)
            if self._output_name() == "softmax":
                k = Y.shape[1]
                Y = np.where(Y > 0.5, high, (1.0 - high) / (k - 1)).astype(dtype)
            else:
                Y = (Y * (high - low) + low).astype(dtype)
        return Y

    def _refuse_new_classes_on_warm_start(self, y):
        """As scikit-learn: a warm-started ``fit`` must see the classes of the previous fit, no more, no fewer."""
        if self._label_type == "multilabel-indicator" or type_of_target(y) == "multilabel-indicator":
            return
        seen = unique_labels(y)
        if not np.array_equal(seen, self.classes_):
            raise DataError(
                "warm_start can only be used where y has the same classes as in the previous call to fit; "
                f"previously got {self.classes_.tolist()}, y has {seen.tolist()}"
            )

    @property
    def _out_range(self):
        return tuple(map(float, self.target_range)) if self.target_range is not None else (0.0, 1.0)

    def _proba_from_outputs(self, Z):
        unit = self.network_.output_unit.name
        if unit != "softmax":
            low, high = self._out_range
            if unit in ("tanh", "lecun-tanh") and self.target_range is None:
                low, high = -1.0, 1.0
            # independent output probabilities: exactly 0 or 1 is only float rounding of a
            # saturated unit, so keep them inside the open interval (0, 1)
            Z = np.clip((Z - low) / (high - low), np.finfo(Z.dtype).tiny, np.nextafter(Z.dtype.type(1), 0))
            if self._label_type == "multiclass":
                s = Z.sum(axis=1, keepdims=True)
                Z = np.where(s > 0, Z / np.where(s > 0, s, 1), 1.0 / Z.shape[1])
        if self._label_type == "binary" and Z.shape[1] == 1:
            Z = np.hstack([1 - Z, Z])
        return Z

    def _predict_from_outputs(self, Z):
        P = self._proba_from_outputs(Z)
        if self._label_type == "multilabel-indicator":
            return self._label_binarizer.inverse_transform((P > 0.5).astype(int))
        return self.classes_[P.argmax(axis=1)]

    def predict(self, X):
        """Predicted class labels."""
        return self._predict_from_outputs(self._forward(X))

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        return self._proba_from_outputs(self._forward(X))

    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _score_raw(self, network, X, y, sw):
        return accuracy_score(y, self._predict_from_outputs(network.predict(X)), sample_weight=sw)

    @available_if(BaseMLP._check_solver)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``; ``classes`` must be given on the first call.

        Every label in ``y`` must be one of ``classes`` (``DataError``, a ``ValueError``, names the
        others).  ``classes`` may be passed again on a later call, in any order, but must be the
        same set (``ValueError`` otherwise), as in scikit-learn.
        """
        if not hasattr(self, "network_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(
                f"`classes={np.asarray(classes).tolist()}` is not the same as on the first call to partial_fit "
                f"({self.classes_.tolist()})"
            )
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def _onnx_outputs(self) -> dict:
        # label and probabilities as predict and predict_proba (see neuronet.onnx_export)
        return {
            "classes": self.classes_,
            "multilabel": self._label_type == "multilabel-indicator",
            "output_range": self.target_range,
            "metadata": {"classes": to_jsonable(self.classes_)},
        }

    # -- the model file -------------------------------------------------------------------------
    def _target_metadata(self) -> dict:
        return {
            "classes": to_jsonable(self.classes_),
            "label_type": self._label_type,
            "target_range": to_jsonable(self.target_range),
        }

    def _restore_targets(self, meta, net, path):
        classes = meta.get("classes")
        label_type = meta.get("label_type", "multiclass")
        if not isinstance(classes, list) or len(classes) < 2:
            raise ModelFileError(f"{path}: a classifier needs a list of at least 2 classes in its metadata")
        lb = LabelBinarizer()
        if label_type == "multilabel-indicator":
            lb.fit(np.eye(len(classes), dtype=int))
        else:
            lb.fit(np.asarray(classes))
        self._label_binarizer = lb
        self._label_type = label_type
        self.classes_ = lb.classes_
        want = 1 if label_type == "binary" and net.output_unit.name != "softmax" else len(classes)
        if net.n_outputs != want:
            raise ModelFileError(
                f"{path}: {len(classes)} classes need {want} output(s), the network has {net.n_outputs}"
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _refuse_unknown_labels(y, classes, label_type):
    """``DataError`` naming the labels of ``y`` outside ``classes`` (LabelBinarizer would encode them as all zeros)."""
    if label_type == "multilabel-indicator":
        return
    unknown = np.setdiff1d(unique_labels(y), classes)
    if unknown.size:
        raise DataError(f"y contains labels not in classes: {unknown.tolist()}; classes are {classes.tolist()}")
