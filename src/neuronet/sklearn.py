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
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .diagnostics import layer_diagnostics
from .errors import ConfigError
from .network import mlp
from .optim import Adam, Momentum, get_optimizer
from .train import Callback, Trainer

_SOLVERS = ("sgd", "adam", "lbfgs")
_LEARNING_RATES = ("constant", "invscaling", "adaptive")
_SK_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}


def _seed_from(random_state):
    """An int seed from scikit-learn's random_state conventions (None: fresh entropy)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int32).max))
    raise ValueError(f"random_state must be None, an int, a RandomState or a Generator; got {random_state!r}")


class _Monitor(Callback):
    """scikit-learn's per-iteration bookkeeping and stopping rule, as a Trainer callback."""

    def __init__(self, est, validation=None, incremental=False):
        self.est = est
        self.validation = validation
        self.incremental = incremental

    def on_epoch_end(self, trainer, epoch, logs):
        est = self.est
        loss = logs["loss"]
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += trainer.samples_seen - self._seen
        self._seen = trainer.samples_seen
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.incremental:
            est.loss_ = loss
            return
        if self.validation is not None:
            Xv, yv, swv = self.validation
            score = est._score_raw(trainer.network, Xv, yv, swv)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            if score < est.best_validation_score_ + est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_weights = trainer.network.get_weights()
        else:
            if loss > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, loss)
        est.loss_ = loss
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            if est._adaptive and trainer.optimizer.lr > 1e-6:
                trainer.optimizer.lr /= 5.0
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"Setting learning rate to {trainer.optimizer.lr:f}")
                return
            if est.verbose:
                print(
                    f"{what} did not improve more than tol={est.tol} for {est.n_iter_no_change} consecutive "
                    "epochs. Stopping."
                )
            est._converged = True
            trainer.stop_training = True

    def on_train_begin(self, trainer):
        self._seen = trainer.samples_seen


class _BaseMLP(BaseEstimator):
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
    def _validate_hyperparameters(self):
        def check(cond, msg):
            if not cond:
                raise ValueError(msg)

        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        check(
            all(isinstance(h, numbers.Integral) and h > 0 for h in hidden),
            f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}",
        )
        check(self.solver in _SOLVERS, f"solver must be one of {', '.join(_SOLVERS)}; got {self.solver!r}")
        check(
            self.learning_rate in _LEARNING_RATES,
            f"learning_rate must be one of {', '.join(_LEARNING_RATES)}; got {self.learning_rate!r}",
        )
        for name in ("alpha", "tol", "power_t"):
            v = getattr(self, name)
            check(isinstance(v, numbers.Real) and v >= 0, f"{name} must be a number >= 0, got {v!r}")
        for name in ("learning_rate_init", "epsilon"):
            v = getattr(self, name)
            check(isinstance(v, numbers.Real) and v > 0, f"{name} must be a number > 0, got {v!r}")
        for name in ("max_iter", "n_iter_no_change", "max_fun"):
            v = getattr(self, name)
            check(isinstance(v, numbers.Integral) and v >= 1, f"{name} must be an integer >= 1, got {v!r}")
        check(
            isinstance(self.momentum, numbers.Real) and 0 <= self.momentum <= 1,
            f"momentum must lie in [0, 1], got {self.momentum!r}",
        )
        check(
            isinstance(self.validation_fraction, numbers.Real) and 0 < self.validation_fraction < 1,
            f"validation_fraction must lie in (0, 1), got {self.validation_fraction!r}",
        )
        for name in ("beta_1", "beta_2"):
            v = getattr(self, name)
            check(isinstance(v, numbers.Real) and 0 <= v < 1, f"{name} must lie in [0, 1), got {v!r}")
        check(
            self.batch_size == "auto" or (isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1),
            f"batch_size must be 'auto' or an integer >= 1, got {self.batch_size!r}",
        )
        check(
            self.dtype in (None, "float32", "float64", np.float32, np.float64),
            f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}",
        )
        if self.target_range is not None:
            tr = tuple(self.target_range)
            check(len(tr) == 2 and tr[0] < tr[1], f"target_range must be (low, high) with low < high, got {tr!r}")
        return tuple(int(h) for h in hidden)

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

    # -- fitting --------------------------------------------------------------------------------
    def _validate_X(self, X, reset):
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"], dtype=[np.float64, np.float32])
        return X.toarray() if hasattr(X, "toarray") else X

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden = self._validate_hyperparameters()
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
        sw = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            if sw.ndim == 0:
                sw = np.full(X.shape[0], float(sw))
            if sw.shape != (X.shape[0],):
                raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({X.shape[0]},)!")
            if not np.isfinite(sw).all() or (sw < 0).any():
                raise ValueError("sample_weight must be finite and non-negative")
            if not sw.any():
                raise ValueError("Sample weights must contain at least one non-zero number.")
        Y = self._encode_y(y, reset=reset, classes=classes, dtype=dtype)
        warm = (self.warm_start and hasattr(self, "network_")) or (incremental and not first)
        if not warm:
            self._seed = _seed_from(self.random_state)
            self.network_ = self._build(X.shape[1], Y.shape[1], hidden, dtype, self._seed)
            self.n_iter_, self.t_ = 0, 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self.best_loss_ = math.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self._trainer = None
        elif self.network_.n_outputs != Y.shape[1]:
            raise ValueError(f"warm_start: the network has {self.network_.n_outputs} outputs, but y needs {Y.shape[1]}")
        self._expose()
        if self.solver == "lbfgs" and self.optimizer is None:
            if incremental:
                raise AttributeError("partial_fit is only available for stochastic optimizers; lbfgs is not stochastic")
            self._fit_lbfgs(X, Y, sw)
        else:
            self._fit_stochastic(X, Y, y, sw, incremental)
        self._expose()
        return self

    def _fit_stochastic(self, X, Y, y, sw, incremental):
        n = X.shape[0]
        if self.batch_size == "auto":
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                    UserWarning,
                    stacklevel=2,
                )
            batch = int(np.clip(self.batch_size, 1, n))
        validation = None
        if self.early_stopping and not incremental:
            stratify = y if (self._task == "classification" and type_of_target(y) != "multilabel-indicator") else None
            parts = train_test_split(
                X,
                Y,
                y,
                *(() if sw is None else (sw,)),
                random_state=self._seed,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            X, Xv, Y, _, _, yv = parts[:6]
            sw, swv = (parts[6], parts[7]) if sw is not None else (None, None)
            if Xv.shape[0] < 2:
                raise ValueError(
                    f"The validation set is too small: validation_fraction={self.validation_fraction}"
                    f" leaves {Xv.shape[0]} sample(s)"
                )
            validation = (Xv, yv, swv)
            self.validation_scores_ = []
            self.best_validation_score_ = -math.inf
            self._best_weights = None
        self._converged = False
        monitor = _Monitor(self, validation, incremental)
        callbacks = [monitor, *(self.callbacks or [])]
        if incremental and self._trainer is not None:
            tr = self._trainer
            tr.callbacks = callbacks
            tr.batch_size = batch
            tr.epochs = tr.epoch + 1
        else:
            tr = Trainer(
                self.network_,
                self._make_optimizer(),
                epochs=1 if incremental else self.max_iter,
                batch_size=batch,
                shuffle=self.shuffle,
                seed=self._seed,
                callbacks=callbacks,
                diagnostics=True,
                l2=self.alpha,
                lr_schedule=self._lr_schedule(),
            )
            if incremental:
                self._trainer = tr
        history = tr.fit(X, Y, sample_weight=sw)
        self.history_ = history
        self.diagnostics_ = history.diagnostics
        if validation is not None and self._best_weights is not None:
            self.network_.set_weights(self._best_weights)
            self.best_loss_ = None
        if not incremental and not self._converged and self.n_iter_ > 0 and history.stop_reason.startswith("completed"):
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )

    def _fit_lbfgs(self, X, Y, sw):
        from scipy.optimize import minimize

        net = self.network_
        P = net.parameters
        X, Y = net.check_input(X), net.check_targets(Y, X.shape[0])  # once: every call passes validate=False
        denom = X.shape[0] if sw is None else float(sw.sum())
        alpha = float(self.alpha)

        def fun(x):
            np.copyto(P.data, x, casting="unsafe")
            loss = net.loss_and_grads(X, Y, sw, validate=False)
            if alpha:  # scikit-learn's L2 penalty on the weight matrices
                for p, g, is_weight in zip(P.values, P.grads, P.is_weight):
                    if is_weight:
                        loss += 0.5 * alpha * float(np.dot(p.ravel(), p.ravel())) / denom
                        g += (alpha / denom) * p
            return loss, P.grad.astype(np.float64)

        x0 = P.data.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            res = minimize(
                fun,
                x0,
                method="L-BFGS-B",
                jac=True,
                options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
            )
        np.copyto(P.data, res.x, casting="unsafe")
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
        self.diagnostics_ = [layer_diagnostics(net, np.ascontiguousarray(X[:k]), np.ascontiguousarray(Y[:k]))]
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
        X = self._validate_X(X, reset=False)
        return self.network_.predict(X.astype(self.network_.dtype, copy=False))

    def hidden_activations(self, X):
        """Outputs of each hidden layer for ``X``: a list of arrays (n_samples, n_units)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self.network_.activations(X.astype(self.network_.dtype, copy=False))[:-1]

    def save(self, path):
        """Write the fitted estimator to a safe ``.safetensors`` model file (see ``neuronet.load``)."""
        from .persist import save_estimator

        check_is_fitted(self)
        save_estimator(self, path)

    def to_onnx(self, path, **kwargs):
        """Export the fitted network (its raw outputs) to an ONNX file."""
        from .onnx_export import save_onnx

        check_is_fitted(self)
        if hasattr(self, "classes_"):
            kwargs.setdefault("metadata", {"classes": [c.item() if hasattr(c, "item") else c for c in self.classes_]})
        save_onnx(self.network_, path, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier, a drop-in for ``sklearn.neural_network.MLPClassifier``.

    Defaults as scikit-learn: ReLU hidden units, Adam, 200 iterations; binary and
    multilabel problems use logistic output units with the logistic loss,
    multiclass problems a softmax with cross-entropy.

    Extra parameters
    ----------------
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
    callbacks : list of neuronet.Callback

    Attributes
    ----------
    classes_, coefs_, intercepts_, n_iter_, loss_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, t_, n_features_in_, n_layers_, n_outputs_, out_activation_ : as scikit-learn
    diagnostics_ : list (per epoch) of per-layer dicts: saturation, dead units, gradient norms
    network_ : neuronet.Network
    """

    _task = "classification"

    def _default_output(self):
        return "sigmoid" if self._label_type in ("binary", "multilabel-indicator") else "softmax"

    def _output_name(self):
        from .units import get_unit

        try:
            return get_unit(self.output_activation or self._default_output()).name
        except ConfigError as e:
            raise ValueError(f"output_activation: {e}") from None

    def _encode_y(self, y, reset, classes, dtype):
        if reset:
            if classes is not None:
                check_classification_targets(np.asarray(classes))
                self._label_binarizer = LabelBinarizer().fit(classes)
                self._label_type = type_of_target(np.asarray(classes))
                if self._label_type != "multilabel-indicator" and len(self._label_binarizer.classes_) == 2:
                    self._label_type = "binary"
            else:
                check_classification_targets(y)
                self._label_binarizer = LabelBinarizer().fit(y)
                self._label_type = type_of_target(y)
            self.classes_ = self._label_binarizer.classes_
            if self._label_type != "multilabel-indicator" and len(self.classes_) < 2:
                raise ValueError(
                    f"MLPClassifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})"
                )
        else:
            check_classification_targets(y)
            if self._label_type != "multilabel-indicator":
                unseen = np.setdiff1d(unique_labels(y), self.classes_)
                if unseen.size:
                    raise ValueError(
                        f"`y` has classes not in `self.classes_`: {unseen.tolist()}; "
                        f"classes are {self.classes_.tolist()}"
                    )
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

    @available_if(_BaseMLP._check_solver)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``; ``classes`` must be given on the first call."""
        if not hasattr(self, "network_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
        elif classes is not None and not np.array_equal(np.asarray(classes), self.classes_):
            raise ValueError(
                f"`classes={list(classes)}` is not the same as on the first call to partial_fit "
                f"({self.classes_.tolist()})"
            )
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
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

    @available_if(_BaseMLP._check_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
