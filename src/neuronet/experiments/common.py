"""Helpers shared by the experiments: data, training runs, learning-rate selection."""

from __future__ import annotations

import numpy as np

from ..data import load
from ..network import mlp
from ..train import Trainer


def load_data(spec="digits", seed=0, max_train=None, max_test=None):
    """A dataset with a validation split carved from its training part (seeded, stratified).

    Returns ``(X_train, y_train, X_val, y_val, X_test, y_test, n_classes)``.
    """
    ds = load(spec, seed=seed, max_train=max_train, max_test=max_test)
    if ds.task != "classification":
        raise ValueError(f"experiments need a classification dataset; {spec!r} is {ds.task}")
    rng = np.random.default_rng(seed + 7919)
    val_idx = []
    for c in range(ds.n_classes):
        idx = np.flatnonzero(ds.y_train == c)
        rng.shuffle(idx)
        val_idx.append(idx[: max(1, round(0.2 * idx.size))])
    val = np.zeros(ds.n_train, bool)
    val[np.concatenate(val_idx)] = True
    return (ds.X_train[~val], ds.y_train[~val], ds.X_train[val], ds.y_train[val], ds.X_test, ds.y_test, ds.n_classes)


def train(
    X,
    y,
    sizes,
    *,
    hidden="sigmoid",
    output="softmax",
    loss=None,
    init="fan-in",
    lr=0.1,
    optimizer="sgd",
    epochs=20,
    batch_size=32,
    seed=0,
    target_range=None,
    prime_offset=0.0,
    validation=None,
    max_grad_norm=None,
    diagnostics=True,
    callbacks=(),
    dtype=np.float32,
    **opt_kw,
):
    """Build and train an MLP; returns ``(network, trainer, history)``.

    Divergence does not raise: the history is returned with ``diverged=True``.
    """
    from ..errors import DivergenceError
    from ..optim import get_optimizer

    net = mlp(
        sizes, hidden=hidden, output=output, loss=loss, init=init, prime_offset=prime_offset, dtype=dtype, seed=seed
    )
    tr = Trainer(
        net,
        get_optimizer(optimizer, lr=lr, **opt_kw),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        target_range=target_range,
        diagnostics=diagnostics,
        max_grad_norm=max_grad_norm,
        callbacks=callbacks,
    )
    try:
        h = tr.fit(X, y, validation_data=validation)
    except DivergenceError as e:
        h = e.history
    return net, tr, h


def fit_quietly(trainer, X, y, validation=None):
    """``trainer.fit``; a diverged run returns its history (``diverged=True``, weights rolled back)."""
    from ..errors import DivergenceError

    try:
        return trainer.fit(X, y, validation_data=validation)
    except DivergenceError as e:
        return e.history


def select_lr(lrs, seeds, train_one, final_score):
    """Train ``train_one(lr, seed)`` for every rate and seed; pick the rate with the highest mean
    ``final_score(run)`` over the seeds (the first such rate on ties).

    Returns ``(best_lr, runs_at_best_lr, trials)`` where ``trials`` lists ``(lr, runs, spread)``.
    """
    from .base import spread

    trials, best = [], None
    for lr in lrs:
        runs = [train_one(lr, s) for s in seeds]
        st = spread([final_score(r) for r in runs])
        trials.append((lr, runs, st))
        if best is None or st["mean"] > best[2]["mean"]:
            best = (lr, runs, st)
    return best[0], best[1], trials


def accuracy(trainer, X, y):
    return trainer.evaluate(X, y)["accuracy"]


def epochs_to_reach(values, threshold):
    """First epoch (1-based) whose value reaches ``threshold``; None if never."""
    for i, v in enumerate(values):
        if v is not None and v >= threshold:
            return i + 1
    return None
