"""Hebbian plasticity of a single linear neuron: Hebb, anti-Hebb and Oja's rule.

One neuron with synaptic weights ``w`` (d,) sees a presynaptic rate vector ``x`` (d,)
and fires at the linear rate ``y = w · x``.  Each rule is one line of the equation::

    Hebb       Δw = η x y               "cells that fire together, wire together" (Hebb 1949)
    anti-Hebb  Δw = −η x y              the same correlation, opposite sign: inhibitory synapses
    Oja        Δw = η y (x − y w)       Hebb plus a decay ∝ y² that keeps |w| near 1 (Oja 1982)

Plain Hebb is unstable: ``|w + η y x|² = |w|² + 2η y² + η² y² |x|²``, so the norm grows at
every update with ``y ≠ 0`` and, averaged over the inputs, ``w`` grows like ``(I + η C)^t w``
without bound (``C`` the input correlation matrix).  Oja's decay term makes ``|w| = 1`` and
the leading eigenvector of ``C`` (the first principal component of centered data) the
stable fixed point.  Anti-Hebb shrinks ``w`` fastest along the directions in which the
input varies most: an inhibitory synapse learns to cancel correlated drive.

``run_rule`` streams a data set through one rule (epochs of seeded shuffles) and records
the trajectory.  numpy only; randomness comes from a passed-in ``Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError


def hebb_update(w, x, y, eta):
    """Plain Hebb: ``Δw = η x y``.  Returns the change (same shape as ``w``)."""
    return eta * x * y


def anti_hebb_update(w, x, y, eta):
    """Anti-Hebb, for inhibitory synapses: ``Δw = −η x y``."""
    return -eta * x * y


def oja_update(w, x, y, eta):
    """Oja's rule (Oja 1982): ``Δw = η y (x − y w)``."""
    return eta * y * (x - y * w)


RULES = {"hebb": hebb_update, "anti-hebb": anti_hebb_update, "oja": oja_update}


def get_rule(name):
    """The update function registered under ``name`` (``RULES``)."""
    if name not in RULES:
        raise ConfigError(f"unknown plasticity rule {name!r}; valid: {', '.join(RULES)}")
    return RULES[name]


@dataclass(repr=False)
class Trajectory:
    """What a rule did to the weights of one neuron.

    Attributes
    ----------
    w : ndarray (d,)
        Final weights.
    steps : ndarray (R,)
        Update counts at which a snapshot was taken (0 = the initial weights).
    norms : ndarray (R,)
        ``|w|`` at each snapshot.
    weights : ndarray (R, d)
        ``w`` at each snapshot.
    n_updates : int
        Updates performed (fewer than planned when ``stopped_early``).
    stopped_early : bool
        True when ``|w|`` passed ``stop_norm`` (a run of plain Hebb is cut short
        there before float64 overflows; the norm was still growing).
    """

    w: np.ndarray
    steps: np.ndarray
    norms: np.ndarray
    weights: np.ndarray
    n_updates: int
    stopped_early: bool = False

    def __repr__(self):
        norms = np.asarray(self.norms)
        grew = f"|w| {norms[0]:.3g}→{norms[-1]:.3g}" if norms.size else "|w| not recorded"
        return (
            f"Trajectory(d={np.size(self.w)}, n_updates={self.n_updates}, {grew}, "
            f"snapshots={len(self.steps)}, stopped_early={self.stopped_early})"
        )


def run_rule(rule, X, w0, *, eta, epochs, rng, eta_decay_updates=None, record_every=1, stop_norm=1e150):
    """Stream the rows of ``X`` through one neuron ``y = w · x`` that learns by ``rule``.

    Parameters
    ----------
    rule : str or callable
        ``"hebb"``, ``"anti-hebb"``, ``"oja"``, or ``f(w, x, y, eta) -> Δw``.
    X : ndarray (n, d)
        The input stream (center it first if the rule should find principal components).
    w0 : ndarray (d,)
        Initial weights (copied; float64).
    eta : float
        Learning rate ``η`` (of the first update when decaying).
    epochs : int
        Passes through ``X``, each in a fresh order drawn from ``rng``.
    rng : numpy.random.Generator
        Source of the presentation order.
    eta_decay_updates : float, optional
        If given, ``η_t = η / (1 + t / eta_decay_updates)`` at update ``t`` (a
        Robbins–Monro schedule: the fluctuations around the fixed point shrink);
        otherwise ``η`` is constant.
    record_every : int
        Take a snapshot every this many updates (and after the last one).
    stop_norm : float
        Stop once ``|w|`` exceeds this (only plain Hebb gets there).

    Returns
    -------
    Trajectory
    """
    update = get_rule(rule) if isinstance(rule, str) else rule
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ConfigError(f"X: expected a non-empty 2-D array (samples, inputs), got shape {X.shape}")
    w = np.array(w0, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ConfigError(f"w0: expected shape ({X.shape[1]},), got {w.shape}")
    if not np.isfinite(X).all() or not np.isfinite(w).all():
        raise ConfigError(f"{'X' if not np.isfinite(X).all() else 'w0'}: contains NaN or infinity")
    if isinstance(eta, bool) or not isinstance(eta, (int, float, np.floating)) or not math.isfinite(eta):
        raise ConfigError(f"eta: must be a finite number, got {eta!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ConfigError(f"epochs: must be an integer >= 0, got {epochs!r}")
    if eta_decay_updates is not None and not (math.isfinite(eta_decay_updates) and eta_decay_updates > 0):
        raise ConfigError(f"eta_decay_updates: must be a finite number > 0, got {eta_decay_updates!r}")
    record_every = max(1, int(record_every))
    steps, norms, weights = [0], [float(np.linalg.norm(w))], [w.copy()]
    t = 0
    stopped = False
    for _ in range(int(epochs)):
        for i in rng.permutation(X.shape[0]):
            x = X[i]
            eta_t = eta if eta_decay_updates is None else eta / (1.0 + t / eta_decay_updates)
            y = float(w @ x)  # linear rate of the neuron
            w += update(w, x, y, eta_t)
            t += 1
            norm = float(np.sqrt(w @ w))
            if norm > stop_norm:
                stopped = True
            if t % record_every == 0 or stopped:
                steps.append(t)
                norms.append(norm)
                weights.append(w.copy())
            if stopped:
                break
        if stopped:
            break
    if steps[-1] != t:
        steps.append(t)
        norms.append(float(np.linalg.norm(w)))
        weights.append(w.copy())
    return Trajectory(
        w=w, steps=np.array(steps), norms=np.array(norms), weights=np.array(weights), n_updates=t, stopped_early=stopped
    )


def first_principal_component(X):
    """Unit vector of the largest right singular vector of ``X`` (center ``X`` first for PC1)."""
    _, _, vt = np.linalg.svd(np.asarray(X, dtype=np.float64), full_matrices=False)
    return vt[0]


def abs_cosine(W, v):
    """``|cos|`` between each row of ``W`` (R, d) and ``v`` (d,): an (R,) array; a float for a vector ``W``.

    A zero row gives 0.
    """
    one = np.ndim(W) == 1
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    denom = np.linalg.norm(W, axis=1) * np.linalg.norm(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(denom > 0, np.abs(W @ v) / denom, 0.0)
    return float(c[0]) if one else c


def correlated_gaussian(n_samples, dim, rng, *, top_variance=3.0, ratio=0.5):
    """A correlated Gaussian cloud: covariance ``R diag(λ) Rᵀ`` with ``λ_k = top_variance · ratio^k``.

    ``R`` is a random rotation, so every coordinate pair is correlated.  Returns
    ``(X, principal_axis)`` with ``X`` (n_samples, dim) of zero population mean and
    the population's leading eigenvector.
    """
    if dim < 1 or n_samples < 1:
        raise ConfigError(f"need n_samples >= 1 and dim >= 1, got {n_samples}, {dim}")
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    rot = q * np.sign(np.diag(r))  # a uniformly random orthogonal matrix
    std = np.sqrt(top_variance * ratio ** np.arange(dim))
    X = (rng.normal(size=(n_samples, dim)) * std) @ rot.T
    return X, rot[:, 0]
