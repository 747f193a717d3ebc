"""The runs of the saturation experiment: one training run or one probe, a pure function of (config, key).

Three kinds of run, each returning JSON-able numbers (``saturation.py`` judges and presents them):

``sweep_run(cfg, c, lr, seed)``
    A sigmoid network (softmax + cross-entropy output) whose hidden weights start as
    ``W ~ N(0, c² / n)`` (``n`` the fan-in; the output layer always at ``c = 1``), trained with
    plain SGD at rate ``lr``.  On a selection seed it records the validation loss after every
    epoch (to choose the rate); on a test seed the exact training loss after every epoch.
``within_run(cfg, seed)``
    One network at ``c = within_scale`` in which a random half of the hidden units has its
    incoming weights multiplied by ``boost``; per unit, its saturation at the start and the end and
    how far its incoming weights moved.
``fan_in_run(cfg, n, seed)``
    A probe layer of ``n_probe_units`` sigmoid units with fan-in ``n`` on top of ``n`` sigmoid
    units (fan-in init); the saturated fraction of the probe at initialisation with
    ``W ~ N(0, 1)`` (the notes' baseline) and with ``W ~ N(0, 1/n)`` (remedy ①), from the same draws.

A sigmoid output counts as saturated when it lies within ``TOL`` of 0 or 1 (there
``S' = S(1 − S) < 0.0475``, a fifth of its largest value 1/4).

The functions at the end read finished runs for the judgement: ``select_rates`` (each ``c``'s rate,
from the selection seeds only), ``chosen_points`` (the test runs at those rates) and
``within_pairs`` (per seed, the boosted and the plain half of one network).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..network import mlp
from ..train import LambdaCallback, Trainer
from .common import fit_quietly, load_data
from .design import finite

TOL = 0.05  # a sigmoid output within TOL of 0 or 1 counts as saturated (the Trainer's default)


@lru_cache(maxsize=16)
def dataset(spec: str, seed: int, max_train, max_test):
    """``load_data`` (train, validation, test, n_classes), cached per process: a worker reuses a seed's split."""
    return load_data(spec, seed=seed, max_train=max_train, max_test=max_test)


def _data(cfg, seed):
    return dataset(cfg.data, int(seed), cfg.max_train, cfg.max_test)


def saturated(z):
    """Boolean mask (same shape as ``z``): sigmoid outputs within ``TOL`` of 0 or 1."""
    return (z <= TOL) | (z >= 1.0 - TOL)


def hidden_outputs(net, X):
    """The hidden layers' outputs for ``X``, joined unit-wise: (n_samples, total hidden units)."""
    return np.concatenate(net.activations(X)[:-1], axis=1)


def _network(cfg, n_in, n_classes, seed, c):
    """Sigmoid hidden layers with ``W ~ N(0, c²/n)``, softmax + cross-entropy output with ``N(0, 1/n)``.

    Every ``c`` scales the same fan-in draws of one seed, so the arms of a seed differ only in scale.
    """
    net = mlp([n_in, *cfg.hidden, n_classes], hidden="sigmoid", output="softmax", init="fan-in", seed=seed)
    for layer in net.layers[:-1]:
        layer.W *= np.float32(c)  # in place: W is a view of net.parameters
    return net


def _train(cfg, net, lr, seed, X, y, monitor, callbacks=()):
    """Plain SGD for ``cfg.epochs`` epochs, mini-batches of ``cfg.batch_size``.

    Returns ``(losses, diverged, trainer)``: the loss on ``monitor`` (X, y) after every epoch, and
    the Trainer's reason (a string) if the run diverged, else None; a diverged run's list stops
    at its last good epoch.
    """
    trainer = Trainer(
        net,
        "sgd",
        lr=lr,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        diagnostics=False,
        callbacks=callbacks,
    )
    history = fit_quietly(trainer, X, y, validation=monitor)
    losses = [float(v) for v in history.history.get("val_loss", [])]
    return losses, (history.stop_reason if history.diverged else None), trainer


def sweep_run(cfg, c, lr, seed):
    """One arm of the init-scale sweep: saturation at init, the loss curve, and (test seeds) the test score."""
    Xtr, ytr, Xv, yv, Xte, yte, k = _data(cfg, seed)
    net = _network(cfg, Xtr.shape[1], k, seed, c)
    z0 = hidden_outputs(net, Xtr)  # (n_train, hidden units)
    selecting = seed in cfg.selection_seeds
    # selection seeds watch the validation split; test seeds the exact training loss after each epoch
    losses, diverged, trainer = _train(cfg, net, lr, seed, Xtr, ytr, (Xv, yv) if selecting else (Xtr, ytr))
    out = {
        "sat0": float(saturated(z0).mean()),
        "dS0": float((z0 * (1.0 - z0)).mean()),  # mean S' over (sample, unit) at init
        "losses": losses,
        "monitor": "validation" if selecting else "training",
        "diverged": diverged,
    }
    if not selecting and diverged is None:
        score = trainer.evaluate(Xte, yte)
        out.update(
            sat_end=float(saturated(hidden_outputs(net, Xtr)).mean()),
            test_loss=float(score["loss"]),
            test_accuracy=float(score["accuracy"]),
        )
    return out


def _unit_gradients(net, X, Y):
    """Per hidden unit: ‖∂L/∂(incoming weights, bias)‖ of the mean loss on ``(X, Y)``, (total hidden units,)."""
    net.loss_and_grads(X, Y)
    return np.concatenate(
        [np.sqrt((L.dW.astype(np.float64) ** 2).sum(axis=0) + L.db.astype(np.float64) ** 2) for L in net.layers[:-1]]
    )


def _incoming(net):
    """Per hidden layer: incoming weights with the bias as the last row, (n_in + 1, n_out), float64."""
    return [np.vstack([L.W, L.b[None, :]]).astype(np.float64) for L in net.layers[:-1]]


def within_run(cfg, seed):
    """Scale the incoming weights of a random half of the hidden units by ``boost``; train; per-unit changes."""
    Xtr, ytr, _, _, _, _, k = _data(cfg, seed)
    Ytr = np.eye(k, dtype=np.float32)[ytr]  # (n_train, k) one-hot
    net = _network(cfg, Xtr.shape[1], k, seed, cfg.within_scale)
    rng = np.random.default_rng([int(seed), 1])  # which units are boosted: its own stream
    boosted = []
    for layer in net.layers[:-1]:
        mask = np.zeros(layer.n_out, bool)
        mask[rng.permutation(layer.n_out)[: layer.n_out // 2]] = True
        layer.W[:, mask] *= np.float32(cfg.boost)  # (n_in, n_out): column j is unit j's incoming weights
        boosted.append(mask)
    W0 = _incoming(net)
    sat0 = saturated(hidden_outputs(net, Xtr)).mean(axis=0)  # (units,) fraction of points saturated
    grad0 = _unit_gradients(net, Xtr, Ytr)
    b_all = np.concatenate(boosted)
    by_epoch = {"boosted": [], "plain": []}  # mean ‖W_j(epoch) − W_j(0)‖ of each half after every epoch

    def record(*_):
        d = np.concatenate([np.linalg.norm(b - a, axis=0) for a, b in zip(W0, _incoming(net))])
        by_epoch["boosted"].append(float(d[b_all].mean()))
        by_epoch["plain"].append(float(d[~b_all].mean()))

    _, diverged, _ = _train(cfg, net, cfg.within_lr, seed, Xtr, ytr, (Xtr, ytr), [LambdaCallback(record)])
    sat1 = saturated(hidden_outputs(net, Xtr)).mean(axis=0)
    grad1 = _unit_gradients(net, Xtr, Ytr)
    W1 = _incoming(net)
    return {
        "boosted": b_all.tolist(),
        "sat0": sat0.tolist(),
        "sat1": sat1.tolist(),
        "moved": np.concatenate([np.linalg.norm(b - a, axis=0) for a, b in zip(W0, W1)]).tolist(),  # ‖ΔW_j‖
        "norm0": np.concatenate([np.linalg.norm(a, axis=0) for a in W0]).tolist(),
        "grad0": grad0.tolist(),
        "grad1": grad1.tolist(),
        "moved_by_epoch": by_epoch,
        "diverged": diverged,
    }


def fan_in_run(cfg, n, seed):
    """Saturated fraction of a probe layer with fan-in ``n`` at init, ``W ~ N(0, 1)`` and ``W ~ N(0, 1/n)``.

    The network is ``[inputs, n, n_probe_units, classes]``; its first layer (fan-in init, sigmoid)
    feeds the probe layer ``n`` inputs in (0, 1).  Both probe initialisations use the same draws
    (``N(0, 1)`` is ``√n`` times the fan-in draw), so they differ only in scale.
    """
    Xtr, _, _, _, _, _, k = _data(cfg, seed)
    net = mlp([Xtr.shape[1], int(n), cfg.n_probe_units, k], hidden="sigmoid", output="softmax", seed=seed)
    probe = net.layers[1]
    sat = {}
    for name, factor in (("normal", math.sqrt(n)), ("fan_in", 1.0)):
        w = probe.W.copy()
        probe.W *= np.float32(factor)
        sat[name] = float(saturated(net.activations(Xtr)[1]).mean())
        probe.W[...] = w
    return sat


# -- reading the runs (for judge and present) ------------------------------------------------------------
def by_part(measured):
    """``{part: [(key, data), ...]}`` in run order."""
    parts = {}
    for key, data in measured:
        parts.setdefault(key["part"], []).append((key, data))
    return parts


def _diverged(data) -> bool:
    return bool(data.get("diverged"))


def _selection_score(cfg, data) -> float:
    """Mean validation loss over the epochs (rewards both speed and final level); inf if the run failed."""
    losses = data.get("losses") or []
    if _diverged(data) or len(losses) < cfg.epochs or any(finite(v) is None for v in losses):
        return float("inf")
    return float(np.mean(losses))


def select_rates(cfg, sweep) -> dict:
    """Per ``c``: ``{"lr": best, "scores": {lr: mean score}, "edge": bool}`` from the selection seeds only."""
    chosen = {}
    for c in cfg.scales:
        scores = {}
        for lr in cfg.lrs:
            runs = [d for k, d in sweep if k["c"] == c and k["lr"] == lr and k["seed"] in cfg.selection_seeds]
            scores[lr] = float(np.mean([_selection_score(cfg, d) for d in runs])) if runs else float("inf")
        best = min(cfg.lrs, key=lambda lr: scores[lr])  # the first of equal scores
        edge = len(cfg.lrs) > 1 and best in (min(cfg.lrs), max(cfg.lrs))
        chosen[c] = {"lr": best, "scores": scores, "edge": edge}
    return chosen


def epochs_to_threshold(losses, threshold, epochs) -> int:
    """First epoch (1-based) whose training loss is ≤ ``threshold``; ``epochs + 1`` if none (censored)."""
    for i, v in enumerate(losses):
        if v is not None and v <= threshold:
            return i + 1
    return epochs + 1


def chosen_points(cfg, sweep, chosen):
    """One point per (c, test seed) at the c's chosen rate: saturation at init, speed, final loss.

    Returns ``(points, threshold)``.  The loss threshold is ``cfg.loss_threshold``, or when that
    is None the highest final training loss among these runs, so that every run that completes
    reaches it within the budget whatever the dataset (the same level for every c).
    """
    points = []
    for key, data in sweep:
        c = key["c"]
        if key["seed"] in cfg.selection_seeds or key["lr"] != chosen[c]["lr"] or "sat0" not in data:
            continue
        losses = data.get("losses") or []
        complete = not _diverged(data) and len(losses) == cfg.epochs
        points.append(
            {
                "c": c,
                "seed": key["seed"],
                "sat0": data["sat0"],
                "dS0": data["dS0"],
                "final": finite(losses[-1]) if complete else None,
                "sat_end": data.get("sat_end"),
                "test_accuracy": data.get("test_accuracy"),
                "losses": losses,
            }
        )
    threshold = cfg.loss_threshold
    if threshold is None:
        finals = [p["final"] for p in points if p["final"] is not None]
        threshold = max(finals) if finals else 0.0
    for p in points:
        p["epochs"] = epochs_to_threshold(p["losses"], threshold, cfg.epochs)
    return points, float(threshold)


def final_for_ranks(points):
    """Final losses with a diverged run ranked worst (twice the worst finite loss)."""
    done = [p["final"] for p in points if p["final"] is not None]
    worst = 2.0 * max(done) if done else 1.0
    return [worst if p["final"] is None else p["final"] for p in points]


def within_pairs(within):
    """Per seed: mean ‖ΔW‖ (and relative change, saturation) of the boosted and the plain units."""
    rows = []
    for key, data in within:
        if "boosted" not in data or _diverged(data):
            continue
        b = np.asarray(data["boosted"], bool)
        moved, norm0 = np.asarray(data["moved"], float), np.asarray(data["norm0"], float)
        sat0, sat1 = np.asarray(data["sat0"], float), np.asarray(data["sat1"], float)
        rel = moved / np.maximum(norm0, 1e-12)
        grad0, grad1 = np.asarray(data["grad0"], float), np.asarray(data["grad1"], float)
        row = {"seed": key["seed"]}
        for name, m in (("boosted", b), ("plain", ~b)):
            row[name] = {
                "moved": float(moved[m].mean()),
                "relative": float(rel[m].mean()),
                "sat0": float(sat0[m].mean()),
                "sat1": float(sat1[m].mean()),
                "grad0": float(grad0[m].mean()),
                "grad1": float(grad1[m].mean()),
                "moved_epoch1": (data.get("moved_by_epoch") or {}).get(name, [None])[0],
            }
        rows.append(row)
    return rows
