"""scikit-learn drop-in estimators: ``MLPClassifier`` and ``MLPRegressor``.

They accept every parameter of scikit-learn's estimators of the same name, with
the same meaning and defaults, plus the variations scikit-learn does not offer:
``output_activation``, ``loss``, ``init``, ``target_range`` (soft targets),
``sigmoid_prime_offset``, ``optimizer`` (including ``"quickprop"``), ``dropout``,
``dtype`` and ``callbacks``.  Training runs on neuronet's engine
(``neuronet.Trainer``); ``solver="lbfgs"`` uses SciPy's L-BFGS-B on the same
hand-derived gradients.

Differences from scikit-learn worth knowing:

* weights start from Glorot-uniform with zero biases (``init=None``), not
  scikit-learn's uniform biases;
* ``dtype=None`` keeps float32 input in float32 and computes everything else in
  float64, as scikit-learn does; pass ``dtype="float32"`` for speed;
* sparse input is accepted and densified.

The package, by job:

===============  ===========================================================================
``params``       the hyperparameters' options and their one check (``neuronet.options``)
``base``         ``BaseMLP``: building the network, fitting, saving (its model-file metadata)
``monitor``      scikit-learn's per-epoch bookkeeping and stopping rule, as a callback
``lbfgs``        ``solver="lbfgs"``: SciPy's L-BFGS-B on the network's gradients
``classifier``   ``MLPClassifier``
``regressor``    ``MLPRegressor``
``loading``      estimators from a loaded model file (used by ``neuronet.load``)
===============  ===========================================================================
"""

from .base import ESTIMATOR_KEY
from .classifier import MLPClassifier
from .loading import ESTIMATORS, from_metadata, from_train_metadata
from .regressor import MLPRegressor

__all__ = ["ESTIMATORS", "ESTIMATOR_KEY", "MLPClassifier", "MLPRegressor", "from_metadata", "from_train_metadata"]
