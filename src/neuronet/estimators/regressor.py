"""``MLPRegressor``: real targets, identity outputs and squared error by default."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from .base import BaseMLP

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multilayer perceptron regressor, a drop-in for ``sklearn.neural_network.MLPRegressor``.

    Identity outputs with squared error by default; the extra parameters are
    those of ``MLPClassifier`` (``target_range`` does not apply).
    """

    _task = "regression"

    def _default_output(self):
        return "identity"

    def _encode_y(self, y, reset, classes, dtype):
        y = np.asarray(y)
        if reset:
            self._y_ndim = y.ndim
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return Y.astype(dtype)

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        Z = self._forward(X)
        return Z.ravel() if self._y_ndim == 1 else Z

    def _score_raw(self, network, X, y, sw):
        Z = network.predict(X)
        return r2_score(y, Z.ravel() if self._y_ndim == 1 else Z, sample_weight=sw)

    @available_if(BaseMLP._check_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    # -- the model file -------------------------------------------------------------------------
    def _target_metadata(self) -> dict:
        return {"y_ndim": int(self._y_ndim)}

    def _restore_targets(self, meta, net, path):
        self._y_ndim = int(meta.get("y_ndim", 1 if net.n_outputs == 1 else 2))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
