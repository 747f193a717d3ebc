"""Training: mini-batch loop, history, callbacks, divergence guard.

One ``numpy.random.SeedSequence(seed)`` feeds three generators: the validation
split and the diagnostics probe (both fixed for a seed), and shuffling plus
dropout (its state is what a checkpoint saves).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..diagnostics import layer_diagnostics
from ..errors import ConfigError, DivergenceError
from ..network import Network, check_sample_weight
from ..optim import get_optimizer
from ..options import Option, convert
from ..targets import decode_outputs, default_target_range, encode_targets
from .history import Callback, EarlyStopping, History, LambdaCallback, format_epoch
from .progress import ProgressBar

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ProgressBar",
    "Trainer",
    "check_sample_weight",
    "format_epoch",
]

#: Trainer's scalar arguments, checked by the one strict converter (``options.convert``): an integer
#: refuses 2.5, True and "64"; a flag refuses 1 and "yes".  Ranges the optimizer checks (lr, momentum)
#: are left to it.
_ARGS = {
    "lr": Option("lr", "float", optional=True),
    "momentum": Option("momentum", "float", optional=True),
    "epochs": Option("epochs", "int", low=0),
    "batch_size": Option("batch_size", "int", low=1, optional=True),
    "shuffle": Option("shuffle", "bool"),
    "seed": Option("seed", "int", low=0),
    "validation_split": Option("validation_split", "float", low=0, high=1, high_open=True),
    "diagnostics": Option("diagnostics", "bool"),
    "probe_size": Option("probe_size", "int", low=1),
    "saturation_tol": Option("saturation_tol", "float", low=0),
    "max_grad_norm": Option("max_grad_norm", "float", low=0, low_open=True, optional=True),
    "l2": Option("l2", "float", low=0),
    "verbose": Option("verbose", "bool"),
    "target_range": Option("target_range", "pair", optional=True),
}


def _arg(name, value):
    """``value`` of Trainer argument ``name``, checked (``ConfigError "Trainer(name=...): problem"``)."""
    if isinstance(value, np.bool_):
        value = bool(value)
    return convert(_ARGS[name], value, where=f"Trainer({name}=...)")


# -- history ---------------------------------------------------------------------------------
@dataclass
class _Run:
    """What one ``Trainer.fit`` works on: the training split, validation data, probe and buffers."""

    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray | None
    sample_weight: np.ndarray | None
    val: tuple | None
    batch: int
    probe: tuple | None
    xbuf: np.ndarray
    ybuf: np.ndarray
    weights: list
    good: np.ndarray


class Trainer:
    """Trains a ``Network`` with an optimizer on mini-batches.

    Parameters
    ----------
    network : Network
    optimizer : str, dict or Optimizer
        ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``, ``"quickprop"``.
    lr, momentum : float, optional
        Learning rate (and momentum) when ``optimizer`` is a name.
    epochs : int
    batch_size : int or None
        None (or a size >= the number of samples) trains on the full batch.
    shuffle : bool
        Reshuffle the training set each epoch (seeded).
    seed : int
        Seeds the validation split, the probe batch, shuffling and dropout.
    validation_split : float in [0, 1)
        Fraction of the training data held out (stratified for classification)
        when ``fit`` gets no ``validation_data``.
    target_range : (low, high), optional
        Remedy (2): targets for class labels (e.g. ``(0.15, 0.85)``).
    callbacks : list of Callback
    diagnostics : bool
        Record per-layer diagnostics each epoch (see ``neuronet.diagnostics``).
    probe_size : int
        Samples in the diagnostics probe batch.
    saturation_tol : float
        Distance from a bound below which a unit counts as saturated.
    max_grad_norm : float, optional
        Clip the global gradient norm to this value before each update.
    l2 : float
        L2 penalty in scikit-learn's ``alpha`` convention: each mini-batch's loss
        gets ``l2 / 2 * sum ||W||^2 / n_b`` (``n_b`` the batch size, or its sum of
        sample weights), included in the recorded loss.  Biases are not penalised.
    lr_schedule : callable, optional
        ``lr_schedule(samples_seen) -> lr``, applied after every update.
    verbose : bool
        Show progress once per epoch: a bar with the loss, accuracy and saturation
        (``ProgressBar``; one line rewritten in a terminal, one line per epoch in Jupyter
        or a file), or, when ``log`` is given, each epoch's line passed to ``log``.
    log : callable, optional
        ``log(line)`` receives one line per epoch instead of the bar (e.g. ``print``).
    stream : file-like, optional
        Where the bar goes; default ``sys.stdout`` at the start of ``fit``.

    Every argument is checked when the trainer is made: ``Trainer(None)``,
    ``epochs=2.5``, ``epochs=True`` or ``batch_size="64"`` raise ``ConfigError`` naming it.
    """

    def __init__(
        self,
        network,
        optimizer="sgd",
        *,
        lr=None,
        momentum=None,
        epochs=20,
        batch_size=64,
        shuffle=True,
        seed=0,
        validation_split=0.0,
        target_range=None,
        callbacks=(),
        diagnostics=True,
        probe_size=1024,
        saturation_tol=0.05,
        max_grad_norm=None,
        l2=0.0,
        lr_schedule=None,
        verbose=False,
        log=None,
        stream=None,
    ):
        if not isinstance(network, Network):
            raise ConfigError(f"Trainer(network=...): expected a neuronet Network, got {type(network).__name__}")
        self.network = network
        kw = {} if lr is None else {"lr": _arg("lr", lr)}
        if momentum is not None:
            kw["momentum"] = _arg("momentum", momentum)
        self.optimizer = get_optimizer(optimizer, **kw)
        self.epochs = _arg("epochs", epochs)
        self.batch_size = _arg("batch_size", batch_size)
        self.shuffle = _arg("shuffle", shuffle)
        self.seed = _arg("seed", seed)
        self.validation_split = _arg("validation_split", validation_split)
        target_range = _arg("target_range", target_range)
        self.target_range = None if target_range is None else tuple(map(float, target_range))
        if callbacks is None or isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
            raise ConfigError(f"Trainer(callbacks=...): expected a list of callbacks, got {callbacks!r}")
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not all(callable(getattr(cb, m, None)) for m in ("on_train_begin", "on_epoch_end", "on_train_end")):
                raise ConfigError(
                    f"Trainer(callbacks=...): {cb!r} is not a callback (on_train_begin, on_epoch_end, on_train_end)"
                )
        self.diagnostics = _arg("diagnostics", diagnostics)
        self.probe_size = _arg("probe_size", probe_size)
        self.saturation_tol = _arg("saturation_tol", saturation_tol)
        self.max_grad_norm = _arg("max_grad_norm", max_grad_norm)
        self.l2 = _arg("l2", l2)
        for name, f in (("lr_schedule", lr_schedule), ("log", log)):
            if f is not None and not callable(f):
                raise ConfigError(f"Trainer({name}=...): expected a function or None, got {type(f).__name__}")
        self.lr_schedule = lr_schedule
        self.verbose, self.log, self.stream = _arg("verbose", verbose), log, stream
        self._progress = None  # the ProgressBar of a verbose fit
        # children of one SeedSequence: validation split, shuffling + dropout, diagnostics probe
        self._split_seq, train_seq, self._probe_seq = np.random.SeedSequence(self.seed).spawn(3)
        self.rng = np.random.default_rng(train_seq)  # shuffling and dropout
        self.history = History()
        self.epoch = 0  # epochs completed
        self.samples_seen = 0  # training samples processed (for lr schedules)
        self.stop_training = False

    def __repr__(self):
        net = self.network
        parts = [
            "network " + "→".join(str(n) for n in [net.n_inputs, *(L.n_out for L in net.layers)]),
            f"optimizer={self.optimizer!r}",
            f"epoch {self.epoch}/{self.epochs}",
            f"batch_size={'full' if self.batch_size is None else self.batch_size}",
            f"seed={self.seed}",
        ]
        if self.validation_split:
            parts.append(f"validation_split={self.validation_split:g}")
        if self.l2:
            parts.append(f"l2={self.l2:g}")
        if self.max_grad_norm is not None:
            parts.append(f"max_grad_norm={self.max_grad_norm:g}")
        if self.callbacks:
            parts.append("callbacks=[" + ", ".join(type(cb).__name__ for cb in self.callbacks) + "]")
        return "Trainer(" + ", ".join(parts) + ")"

    # -- data preparation --------------------------------------------------------------
    def _classification(self, y):
        y = np.asarray(y)
        net = self.network
        if net.n_outputs == 1 and net.output_unit.name == "identity":
            return False  # one linear output: integer targets are values (counts, years), not classes
        return y.ndim == 1 and (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_))

    @property
    def n_classes(self):
        k = self.network.n_outputs
        return 2 if k == 1 else k

    def prepare(self, X, y, name="X", yname="y"):
        """Validate ``(X, y)``; return ``(X, Y, labels)`` with targets encoded (labels None for regression)."""
        net = self.network
        X = net.check_input(X, name)
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ConfigError(f"{yname}: has {y.shape[0]} rows, but {name} has {X.shape[0]}")
        if self._classification(y):
            labels = y.astype(np.int64)
            bad = (labels < 0) | (labels >= self.n_classes)
            if bad.any():
                raise ConfigError(
                    f"{yname}: class labels must be integers in [0, {self.n_classes}) for a network "
                    f"with {net.n_outputs} output(s); got {labels[bad][0]}"
                )
            Y = encode_targets(labels, net.n_outputs, net.output_unit.name, self.target_range, net.dtype)
            return X, Y, labels
        if y.ndim == 1 and np.issubdtype(y.dtype, np.floating) and net.n_outputs > 1:
            raise ConfigError(
                f"{yname}: class labels must be integers; got floats for a network with {net.n_outputs} outputs"
            )
        return X, net.check_targets(y, X.shape[0], yname), None

    def _split(self, X, Y, labels, sw=None):
        n = X.shape[0]
        n_val = round(self.validation_split * n)
        if n_val == 0:
            return (X, Y, labels), None, sw
        if n - n_val < 1:
            raise ConfigError(f"validation_split={self.validation_split} leaves no training samples")
        rng = np.random.default_rng(self._split_seq)
        if labels is not None:
            # stratified: take the same fraction of each class
            order = rng.permutation(n)
            val = []
            for c in np.unique(labels):
                idx = order[labels[order] == c]
                val.append(idx[: round(self.validation_split * idx.size)])
            val_idx = np.sort(np.concatenate(val))
            if val_idx.size == 0:  # every class too small to give a row: n_val rows of any class
                val_idx = np.sort(order[:n_val])
            if val_idx.size >= n:
                raise ConfigError(
                    f"validation_split={self.validation_split} leaves no training samples "
                    "(taken class by class, each class's share rounds up to all of its rows)"
                )
        else:
            val_idx = np.sort(rng.permutation(n)[:n_val])
        mask = np.ones(n, bool)
        mask[val_idx] = False
        tr = (X[mask], Y[mask], None if labels is None else labels[mask])
        va = (X[val_idx], Y[val_idx], None if labels is None else labels[val_idx])
        return tr, va, None if sw is None else sw[mask]

    # -- evaluation ----------------------------------------------------------------------
    def _evaluate(self, X, Y, labels, chunk=4096):
        net = self.network
        total, correct = 0.0, 0
        for s in range(0, X.shape[0], chunk):
            Yb = Y[s : s + chunk]
            loss, out = net.loss_value(X[s : s + chunk], Yb, validate=False, return_outputs=True)
            total += loss * Yb.shape[0]
            if labels is not None:
                correct += int(np.count_nonzero(self._decode(out) == labels[s : s + chunk]))
        n = X.shape[0]
        return total / n, (correct / n if labels is not None else None)

    def _decode(self, out):
        tr = self.target_range or default_target_range(self.network.output_unit.name)
        return decode_outputs(out, tr, self.network.output_unit.name)

    def evaluate(self, X, y):
        """``{"loss": ..., "accuracy": ...}`` on ``(X, y)`` (accuracy None for regression)."""
        X, Y, labels = self.prepare(X, y)
        loss, acc = self._evaluate(X, Y, labels)
        return {"loss": loss, "accuracy": acc}

    # -- state for checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "samples_seen": self.samples_seen,
            "rng": self.rng.bit_generator.state,
            "optimizer": self.optimizer.state_dict(),
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state):
        self.epoch = int(state["epoch"])
        self.samples_seen = int(state.get("samples_seen", 0))
        self.rng.bit_generator.state = state["rng"]
        self.optimizer.load_state_dict(state["optimizer"], self.network.parameters)
        self.history = History.from_dict(state["history"])

    # -- the loop --------------------------------------------------------------------------
    def fit(self, X, y, *, sample_weight=None, validation_data=None) -> History:
        """Train for ``epochs`` epochs (counting those already done); return the ``History``.

        ``sample_weight`` (n,) weights each sample's loss: a mini-batch's loss is
        ``sum_i w_i L_i / sum_i w_i``.  Raises ``DivergenceError`` (weights restored
        to the end of the last good epoch) if a loss becomes NaN or infinite.
        """
        run = self._start(X, y, sample_weight, validation_data)
        # compiled kernels load in the background for a fit long enough to repay them; NumPy (same bits) until then
        kernels.warm_up(saving=self._kernel_saving(run))
        self.stop_training = False
        self.history.stop_reason = ""
        if self.verbose and self.log is None:
            self._progress = ProgressBar(self.epochs, self.stream)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        # overflow on the way to a NaN loss is what the divergence guard reports; no warnings
        errstate = np.errstate(over="ignore", invalid="ignore")
        errstate.__enter__()
        try:
            while self.epoch < self.epochs and not self.stop_training:
                epoch, t0 = self.epoch, time.perf_counter()
                np.copyto(run.good, self.network.parameters.data)
                total, correct = self._run_epoch(run, epoch)
                self._end_epoch(run, epoch, total, correct, t0)
            if not self.history.stop_reason:
                self.history.stop_reason = (
                    "stopped by a callback" if self.stop_training else f"completed {self.epoch} epochs"
                )
        finally:
            errstate.__exit__(None, None, None)
            if self._progress is not None:
                self._progress.close()
                self._progress = None
            for cb in self.callbacks:
                cb.on_train_end(self)
        return self.history

    def _start(self, X, y, sample_weight, validation_data) -> _Run:
        """Checked data, the validation split, the diagnostics probe and the reusable buffers of a fit."""
        net = self.network
        X, Y, labels = self.prepare(X, y)
        sw = check_sample_weight(sample_weight, X.shape[0])
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ConfigError("validation_data: expected a pair (X_val, y_val)")
            (Xt, Yt, lt), val = (X, Y, labels), self.prepare(*validation_data, name="X_val", yname="y_val")
            swt = sw
        else:
            (Xt, Yt, lt), val, swt = self._split(X, Y, labels, sw)
        n = Xt.shape[0]
        B = n if self.batch_size is None else min(self.batch_size, n)
        probe = None
        if self.diagnostics:
            k = min(self.probe_size, n)
            pidx = np.sort(np.random.default_rng(self._probe_seq).permutation(n)[:k])
            probe = (np.ascontiguousarray(Xt[pidx]), np.ascontiguousarray(Yt[pidx]))
        params = net.parameters
        weights = [(p, g, np.empty_like(p)) for p, g, w in zip(params, params.grads, params.is_weight) if w]
        return _Run(
            Xt,
            Yt,
            lt,
            swt,
            val,
            B,
            probe,
            xbuf=np.empty((B, Xt.shape[1]), net.dtype),
            ybuf=np.empty((B, Yt.shape[1]), net.dtype),
            weights=weights if self.l2 else [],
            good=params.data.copy(),  # last good weights, for the divergence guard
        )

    def _run_epoch(self, run: _Run, epoch: int) -> tuple[float, int]:
        """One pass over the training data, one optimizer step per mini-batch: (summed loss, correct)."""
        net, opt, params = self.network, self.optimizer, self.network.parameters
        Xt, Yt, lt, swt, B = run.X, run.Y, run.labels, run.sample_weight, run.batch
        n = Xt.shape[0]
        idx = self.rng.permutation(n) if self.shuffle else None  # from the RNG state alone, so resumable
        total, correct = 0.0, 0
        for s in range(0, n, B):
            e = min(s + B, n)
            if idx is None:
                Xb, Yb = Xt[s:e], Yt[s:e]
            elif e - s == B:
                Xb = np.take(Xt, idx[s:e], axis=0, out=run.xbuf, mode="clip")  # idx is a permutation: in range
                Yb = np.take(Yt, idx[s:e], axis=0, out=run.ybuf, mode="clip")
            else:
                Xb, Yb = Xt[idx[s:e]], Yt[idx[s:e]]
            swb = None if swt is None else (swt[s:e] if idx is None else swt[idx[s:e]])
            nb = (e - s) if swb is None else float(swb.sum())
            if nb == 0:
                continue  # only zero-weight samples: nothing to learn
            # the one training path: forward, loss and backward into params.grad
            loss, out = net.loss_and_grads(Xb, Yb, swb, train=True, rng=self.rng, validate=False, return_outputs=True)
            if run.weights:  # L2 penalty, scikit-learn's alpha convention
                loss += 0.5 * self.l2 * sum(float(np.dot(p.ravel(), p.ravel())) for p, _, _ in run.weights) / nb
            if not math.isfinite(loss):
                self._diverged(run.good, epoch, loss)
            total += loss * (e - s)
            if lt is not None:
                bl = lt[s:e] if idx is None else lt[idx[s:e]]
                correct += int(np.count_nonzero(self._decode(out) == bl))
            if run.weights:
                self._l2_grad(run.weights, nb)
            if self.max_grad_norm is not None:
                self._clip(params.grads)
            opt.step(params)
            net.after_update()  # layer constraints, e.g. Dale's principle: signs never flip
            self.samples_seen += e - s
            if self.lr_schedule is not None:
                opt.lr = float(self.lr_schedule(self.samples_seen))
        return total, correct

    def _kernel_saving(self, run: _Run) -> float:
        """What the compiled kernels would save in the rest of this training (``kernels.expected_saving``)."""
        layers = self.network.layers
        passes = getattr(self.optimizer, "kernel_passes_saved", 0) + (1 if run.weights else 0)  # L2: one more
        left = max(self.epochs - self.epoch, 0)
        if left:
            left = max(left, self.epoch)  # a run that has gone on this long (partial_fit) goes on as long again
        return kernels.expected_saving(
            steps=math.ceil(run.X.shape[0] / run.batch) * left,
            params=self.network.parameters.size,
            optimizer_passes=passes,
            batch=run.batch,
            units=sum(layer.n_out for layer in layers[:-1]),  # the hidden units: the output has no kernel
        )

    def _end_epoch(self, run: _Run, epoch: int, total: float, correct: int, t0: float):
        """Divergence check, the epoch's logs and diagnostics, history and callbacks."""
        net, params = self.network, self.network.parameters
        n = run.X.shape[0]
        if not np.isfinite(params.data).all():
            self._diverged(run.good, epoch, float("nan"))
        logs = {"loss": total / n, "accuracy": correct / n if run.labels is not None else None}
        if run.val is not None:
            logs["val_loss"], logs["val_accuracy"] = self._evaluate(*run.val)
        diag = None
        if run.probe is not None:
            diag = layer_diagnostics(net, *run.probe, start_weights=params.split(run.good), tol=self.saturation_tol)
        logs["seconds"] = time.perf_counter() - t0
        self.epoch += 1
        self.history.append(epoch, logs, diag)
        if self._progress is not None:
            self._progress.update(self.epoch, format_epoch(epoch, self.epochs, logs, diag))
        elif self.verbose:
            self.log(format_epoch(epoch, self.epochs, logs, diag))
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, logs)

    def _l2_grad(self, weights, nb):
        """``g += (l2 / nb) * W`` for every weight matrix (a compiled kernel when loaded; same bits)."""
        k = kernels.active()
        c = float(self.l2) / nb  # a Python float: the same rounding on both paths
        for p, g, tmp in weights:
            if k is not None and p.flags.c_contiguous and g.flags.c_contiguous:
                k.add_scaled(g.reshape(-1), p.reshape(-1), p.dtype.type(c))
            else:
                np.multiply(p, c, out=tmp)
                g += tmp

    def _clip(self, grads):
        sq = sum(float(np.dot(g.ravel(), g.ravel())) for g in grads)
        norm = math.sqrt(sq)
        if norm > self.max_grad_norm:
            scale = self.max_grad_norm / norm
            for g in grads:
                g *= scale

    def _diverged(self, good, epoch, loss):
        np.copyto(self.network.parameters.data, good)
        self.history.diverged = True
        restored = f"the end of epoch {epoch}" if epoch else "their initial values"
        self.history.stop_reason = (
            f"training diverged in epoch {epoch + 1} (loss {loss}); weights restored to {restored}. "
            f"Try a lower learning rate (now {self.optimizer.lr:g}), fan-in initialization, or max_grad_norm."
        )
        raise DivergenceError(self.history.stop_reason, self.history)
