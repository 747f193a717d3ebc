"""The shared base of ``MLPClassifier`` and ``MLPRegressor``: parameters, the network, fitting, saving.

Subclasses say what their targets are: ``_task``, ``_default_output()``, ``_encode_y``,
``_score_raw`` (the early-stopping score), and the two halves of their model-file metadata,
``_target_metadata()`` and ``_restore_targets(meta, net, path)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ..diagnostics import layer_diagnostics
from ..errors import ConfigError, DivergenceError, ModelFileError
from ..files import to_jsonable
from ..modelfile import save_model
from ..network import mlp
from ..onnx_export import save_onnx
from ..optim import Adam, Momentum, get_optimizer
from ..train import Trainer, check_sample_weight
from .lbfgs import minimize_lbfgs
from .monitor import Monitor
from .params import check_hyperparameters, seed_from

__all__ = ["ESTIMATOR_KEY", "FITTED_ATTRIBUTES", "BaseMLP"]

_SK_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}

#: The model-file metadata key that marks an estimator's file; its value is the class name.
ESTIMATOR_KEY = "estimator"
#: Fitted attributes a model file carries besides the network (``coefs_`` etc. are views of its weights).
FITTED_ATTRIBUTES = (
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
)


class BaseMLP(BaseEstimator):
    """What ``MLPClassifier`` and ``MLPRegressor`` share: parameters, fitting, saving and loading."""

    _task = None

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        output_activation=None,
        loss=None,
        init=None,
        target_range=None,
        sigmoid_prime_offset=0.0,
        optimizer=None,
        dropout=0.0,
        dtype=None,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.output_activation = output_activation
        self.loss = loss
        self.init = init
        self.target_range = target_range
        self.sigmoid_prime_offset = sigmoid_prime_offset
        self.optimizer = optimizer
        self.dropout = dropout
        self.dtype = dtype
        self.callbacks = callbacks

    # -- parameters ---------------------------------------------------------------------------
    def _validate_hyperparameters(self) -> dict:
        """The checked, normalised hyperparameters (see ``estimators.params``); ConfigError names a bad one."""
        return check_hyperparameters(self)

    def _dtype_for(self, X):
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)

    # -- the network ----------------------------------------------------------------------------
    def _default_output(self):
        raise NotImplementedError

    def _build(self, n_features, n_outputs, hidden, dtype, seed):
        output = self.output_activation or self._default_output()
        loss = self.loss
        if isinstance(loss, str):
            loss = {"log_loss": None, "squared_error": "squared-error"}.get(loss, loss)
        try:
            return mlp(
                [n_features, *hidden, n_outputs],
                hidden=self.activation,
                output=output,
                loss=loss,
                init=self.init or "glorot-uniform",
                prime_offset=self.sigmoid_prime_offset,
                dropout=self.dropout,
                dtype=dtype,
                seed=seed,
            )
        except ConfigError as e:
            raise ValueError(str(e)) from None

    def _make_optimizer(self):
        if self.optimizer is not None:
            kw = {"lr": self.learning_rate_init}
            if self.optimizer in ("momentum", "nesterov"):
                kw["momentum"] = min(self.momentum, 0.999)
            try:
                return get_optimizer(self.optimizer, **kw)
            except ConfigError as e:
                raise ValueError(str(e)) from None
        if self.solver == "sgd":
            return Momentum(
                lr=self.learning_rate_init,
                momentum=min(self.momentum, 0.999),
                nesterov=self.nesterovs_momentum and self.momentum > 0,
            )
        return Adam(lr=self.learning_rate_init, beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)

    @property
    def _adaptive(self):
        return self.optimizer is None and self.solver == "sgd" and self.learning_rate == "adaptive"

    def _lr_schedule(self):
        if self.optimizer is None and self.solver == "sgd" and self.learning_rate == "invscaling":
            lr0, p = float(self.learning_rate_init), float(self.power_t)
            return lambda t: lr0 / (t + 1) ** p
        return None

    def _expose(self):
        net = self.network_
        self.coefs_ = [L.W for L in net.layers]
        self.intercepts_ = [L.b for L in net.layers]
        self.n_layers_ = len(net.layers) + 1
        self.n_outputs_ = net.n_outputs
        self.out_activation_ = _SK_OUT_NAMES.get(net.output_unit.name, net.output_unit.name)

    def _adopt_assigned_weights(self):
        """Copy assigned ``coefs_``/``intercepts_`` into the network, as scikit-learn trains and predicts from them.

        ``_expose`` makes the public arrays views of the network's weights, so changing them in
        place changes the network already.  An array *assigned* in their place (``est.coefs_ =
        [...]`` or ``est.coefs_[0] = W``) is a new object: it is checked against the network's
        architecture (one array per layer, each of the layer's shape, real and finite; a wrong
        one raises ``ConfigError`` naming it), copied in (cast to the network's dtype), and the
        public arrays become views again.  Called before anything reads the weights: a warm
        ``fit``, ``partial_fit``, prediction, ``save`` and ``to_onnx``.
        """
        net = self.network_
        coefs, intercepts = getattr(self, "coefs_", None), getattr(self, "intercepts_", None)
        if _are_views(coefs, [L.W for L in net.layers]) and _are_views(intercepts, [L.b for L in net.layers]):
            return
        weights = []
        for i, L in enumerate(net.layers):
            weights.append(_assigned_array(coefs, "coefs_", i, L.W.shape, len(net.layers)))
            weights.append(_assigned_array(intercepts, "intercepts_", i, L.b.shape, len(net.layers)))
        net.set_weights(weights)
        self._expose()

    def __setstate__(self, state):
        super().__setstate__(state)
        # Unpickling and deep copies rebuild the network's parameter views, leaving coefs_ and
        # intercepts_ as equal copies: make them views again, unless they were assigned new values.
        net = self.__dict__.get("network_")
        own = [] if net is None else [a for L in net.layers for a in (L.W, L.b)]
        coefs, intercepts = self.__dict__.get("coefs_", []), self.__dict__.get("intercepts_", [])
        public = [a for pair in zip(coefs, intercepts) for a in pair]
        if own and len(public) == len(own) and all(np.array_equal(a, b) for a, b in zip(public, own)):
            self._expose()

    # -- fitting --------------------------------------------------------------------------------
    def _validate_X(self, X, reset):
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"], dtype=[np.float64, np.float32])
        return X.toarray() if hasattr(X, "toarray") else X

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hp = self._validate_hyperparameters()
        first = incremental and not hasattr(self, "network_")
        reset = not incremental or first
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc", "coo"],
            multi_output=True,
            dtype=[np.float64, np.float32],
            y_numeric=self._task == "regression",
        )
        X = X.toarray() if hasattr(X, "toarray") else X
        dtype = self._dtype_for(X) if reset else self.network_.dtype
        X = X.astype(dtype, copy=False)
        sw = check_sample_weight(sample_weight, X.shape[0])
        Y = self._encode_y(y, reset=reset, classes=classes, dtype=dtype)
        warm = (self.warm_start and hasattr(self, "network_")) or (incremental and not first)
        if not warm:
            self._seed = seed_from(self.random_state)
            self.network_ = self._build(X.shape[1], Y.shape[1], hp["hidden_layer_sizes"], dtype, self._seed)
            self.n_iter_, self.t_ = 0, 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self.best_loss_ = math.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self._trainer = None
        else:
            self._adopt_assigned_weights()  # continue from assigned coefs_/intercepts_, as scikit-learn
        if warm and self.network_.n_outputs != Y.shape[1]:
            raise ValueError(f"warm_start: the network has {self.network_.n_outputs} outputs, but y needs {Y.shape[1]}")
        self._expose()
        if self.solver == "lbfgs" and self.optimizer is None:
            if incremental:
                raise AttributeError("partial_fit is only available for stochastic optimizers; lbfgs is not stochastic")
            self._fit_lbfgs(X, Y, sw, hp)
        else:
            self._fit_stochastic(X, Y, y, sw, incremental, hp)
        self._expose()
        return self

    def _batch_size(self, n, hp):
        if hp["batch_size"] == "auto":
            return min(200, n)
        if hp["batch_size"] > n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                UserWarning,
                stacklevel=3,
            )
        return int(np.clip(hp["batch_size"], 1, n))

    def _hold_out(self, X, Y, y, sw, hp):
        """Split off ``validation_fraction`` for early stopping (stratified for classes)."""
        stratify = y if (self._task == "classification" and type_of_target(y) != "multilabel-indicator") else None
        parts = train_test_split(
            X,
            Y,
            y,
            *(() if sw is None else (sw,)),
            random_state=self._seed,
            test_size=hp["validation_fraction"],
            stratify=stratify,
        )
        X, Xv, Y, _, _, yv = parts[:6]
        sw, swv = (parts[6], parts[7]) if sw is not None else (None, None)
        if Xv.shape[0] < 2:
            raise ValueError(
                f"The validation set is too small: validation_fraction={self.validation_fraction}"
                f" leaves {Xv.shape[0]} sample(s)"
            )
        return X, Y, sw, (Xv, yv, swv)

    def _trainer_for(self, batch, callbacks, incremental, hp):
        """A new Trainer, or (``partial_fit`` after the first call) the kept one, set for one more epoch."""
        if incremental and self._trainer is not None:
            tr = self._trainer
            tr.callbacks = callbacks
            tr.batch_size = batch
            tr.epochs = tr.epoch + 1
            return tr
        tr = Trainer(
            self.network_,
            self._make_optimizer(),
            epochs=1 if incremental else hp["max_iter"],
            batch_size=batch,
            shuffle=self.shuffle,
            seed=self._seed,
            callbacks=callbacks,
            diagnostics=True,
            l2=hp["alpha"],
            lr_schedule=self._lr_schedule(),
        )
        if incremental:
            self._trainer = tr
        return tr

    def _fit_stochastic(self, X, Y, y, sw, incremental, hp):
        batch = self._batch_size(X.shape[0], hp)
        validation = None
        if self.early_stopping and not incremental:
            X, Y, sw, validation = self._hold_out(X, Y, y, sw, hp)
            self.validation_scores_ = []
            self.best_validation_score_ = -math.inf
            self._best_weights = None
        self._converged = False
        callbacks = [Monitor(self, validation, incremental), *(self.callbacks or [])]
        history = self._trainer_for(batch, callbacks, incremental, hp).fit(X, Y, sample_weight=sw)
        self.history_ = history
        self.diagnostics_ = history.diagnostics
        if validation is not None and self._best_weights is not None:
            self.network_.set_weights(self._best_weights)
            self.best_loss_ = None
        if not incremental and not self._converged and self.n_iter_ > 0 and history.stop_reason.startswith("completed"):
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({hp['max_iter']}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )

    def _fit_lbfgs(self, X, Y, sw, hp):
        net = self.network_
        start = net.parameters.data.copy()
        res = minimize_lbfgs(
            net, X, Y, sw, alpha=hp["alpha"], max_iter=hp["max_iter"], max_fun=hp["max_fun"], tol=hp["tol"]
        )
        if not math.isfinite(float(res.fun)) or not np.isfinite(net.parameters.data).all():
            np.copyto(net.parameters.data, start)  # as the stochastic solvers do: the last good weights
            raise DivergenceError(
                f"lbfgs: the loss became {float(res.fun)} (NaN or infinite); weights restored to their "
                "initial values. Scale the targets or standardize the inputs."
            )
        self.n_iter_ = int(res.nit)
        self.loss_ = float(res.fun)
        if self.verbose:
            print(f"L-BFGS-B: {self.n_iter_} iterations, loss = {self.loss_:.8f} ({res.message})")
        self.loss_curve_ = None
        self.best_loss_ = None
        if res.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s): {res.message}",
                ConvergenceWarning,
                stacklevel=2,
            )
        k = min(1024, X.shape[0])
        self.diagnostics_ = [layer_diagnostics(net, net.check_input(X[:k]), net.check_targets(Y[:k], k))]
        self.history_ = None

    # -- shared public API ----------------------------------------------------------------------
    def _check_solver(self):
        if self.solver == "lbfgs" and self.optimizer is None:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers; {self.solver} is not stochastic"
            )
        return True

    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and ``y`` (optionally weighting each sample)."""
        return self._fit(X, y, sample_weight=sample_weight)

    def _forward(self, X):
        check_is_fitted(self)
        self._adopt_assigned_weights()
        X = self._validate_X(X, reset=False)
        return self.network_.predict(X.astype(self.network_.dtype, copy=False))

    def hidden_activations(self, X):
        """Outputs of each hidden layer for ``X``: a list of arrays (n_samples, n_units)."""
        check_is_fitted(self)
        self._adopt_assigned_weights()
        X = self._validate_X(X, reset=False)
        return self.network_.activations(X.astype(self.network_.dtype, copy=False))[:-1]

    def to_onnx(self, path, *, input_dtype="float32", **kwargs):
        """Write the fitted model to an ONNX file that serves its predictions on its own.

        A classifier's graph has two outputs, ``label`` (what ``predict`` returns) and
        ``probabilities`` (what ``predict_proba`` returns); a regressor's has one, ``Y``, of
        shape (N, n_outputs).  ``input_dtype`` (``"float32"``, the default, or ``"float64"``)
        is the element type of the input and the real-valued outputs; the network computes
        in its own dtype inside (see ``neuronet.onnx_export``).  ``kwargs`` go to
        ``neuronet.onnx_export.save_onnx``.  Returns the ``onnx.ModelProto``.
        """
        check_is_fitted(self)
        self._adopt_assigned_weights()
        return save_onnx(self.network_, path, input_dtype=input_dtype, **{**self._onnx_outputs(), **kwargs})

    def _onnx_outputs(self) -> dict:
        """The ``network_to_onnx`` keywords that give the exported graph this estimator's outputs."""
        return {}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- the model file -------------------------------------------------------------------------
    def save(self, path):
        """Write the fitted estimator to a safe ``.safetensors`` model file (see ``neuronet.load``).

        The file is an ordinary model file (``neuronet.modelfile``): the weights as tensors, and
        as metadata ``_model_metadata()``, which ``_from_model_metadata`` reads back.
        """
        if str(path).lower().endswith(".onnx"):  # an ONNX file is another format: to_onnx writes it
            raise ConfigError(f"{path}: save writes a .safetensors model file; for ONNX call to_onnx")
        check_is_fitted(self)
        self._adopt_assigned_weights()
        save_model(path, self.network_, metadata=self._model_metadata())

    def _model_metadata(self) -> dict:
        """The class, its parameters, the fitted attributes and (``_target_metadata``) the targets."""
        params = self.get_params()
        del params["callbacks"]  # code, not data
        if isinstance(params["random_state"], (np.random.RandomState, np.random.Generator)):
            params["random_state"] = None  # a generator's state is not a parameter
        if params["dtype"] is not None:
            params["dtype"] = np.dtype(params["dtype"]).name
        meta = {
            ESTIMATOR_KEY: type(self).__name__,
            "params": params,
            "task": self._task,
            "fitted": to_jsonable({k: getattr(self, k, None) for k in FITTED_ATTRIBUTES}),  # inf becomes None
            "n_features": int(self.n_features_in_),
            **self._target_metadata(),
        }
        if hasattr(self, "feature_names_in_"):
            meta["feature_names_in"] = [str(f) for f in self.feature_names_in_]
        return meta

    @classmethod
    def _from_model_metadata(cls, net, meta, path):
        """A fitted estimator from a loaded network and the metadata ``_model_metadata`` wrote."""
        params = dict(meta.get("params") or {})
        for key in ("hidden_layer_sizes", "target_range"):  # tuples came back from JSON as lists
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        try:
            est = cls(**params)
        except TypeError as e:
            raise ModelFileError(f"{path}: estimator parameters do not fit {cls.__name__}: {e}") from None
        est.network_ = net
        est.n_features_in_ = net.n_inputs
        if meta.get("feature_names_in"):
            est.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
        for k, v in (meta.get("fitted") or {}).items():
            if k in FITTED_ATTRIBUTES:
                setattr(est, k, v)
        est._restore_targets(meta, net, path)
        est._expose()
        return est

    def _target_metadata(self) -> dict:
        raise NotImplementedError

    def _restore_targets(self, meta, net, path):
        raise NotImplementedError


def _are_views(arrays, own) -> bool:
    """True when ``arrays`` is still, element by element, the network's own arrays ``own``."""
    return isinstance(arrays, list) and len(arrays) == len(own) and all(a is b for a, b in zip(arrays, own))


def _assigned_array(arrays, attr, i, shape, n_layers):
    """``arrays[i]`` as a real, finite ndarray of ``shape``; ``ConfigError`` naming ``attr[i]`` otherwise."""
    if not isinstance(arrays, (list, tuple)) or len(arrays) != n_layers:
        got = f"{len(arrays)} arrays" if isinstance(arrays, (list, tuple)) else type(arrays).__name__
        raise ConfigError(f"{attr}: expected a list of {n_layers} arrays (one per layer), got {got}")
    a = np.asarray(arrays[i])
    if a.dtype.kind not in "fiu":
        raise ConfigError(f"{attr}[{i}]: expected real numbers, got dtype {a.dtype}")
    if a.shape != shape:
        raise ConfigError(f"{attr}[{i}]: expected shape {shape} for layer {i} of this network, got {a.shape}")
    if not np.isfinite(a).all():
        raise ConfigError(f"{attr}[{i}]: contains NaN or infinity")
    return a
