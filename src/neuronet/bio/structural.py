"""Structural plasticity: unconnected neurons that are often active together grow a connection.

"There are ways for neurons that aren't even connected to grow connections" (the lecture).  In
cortex, new dendritic spines appear and stabilise where pre- and postsynaptic activity is
correlated, and unused synapses are removed ("use it or lose it"; Holtmaat & Svoboda 2009,
Nat. Rev. Neurosci. 10:647).  Models grow synapses where activity calls for them and prune
those that are not used (Butz, Wörgötter & van Ooyen 2009, Brain Res. Rev. 60:287).  The
co-activity criterion below is a minimal rule in the spirit of Knoblauch, Palm & Sommer (2010,
Neural Comput. 22:289), not a fit to data.

The model, for ``n`` rate or binary neurons with activity ``x(t) ∈ [0, 1]^n``::

    C ← C + (x xᵀ − C) / tau_steps              co-activity trace: a running mean of x_i x_j
    grow   i→j  if not M_ij, C_ij ≥ grow_threshold,  with probability p_grow per step
    prune  i→j  if     M_ij, C_ij <  prune_threshold, with probability p_prune per step
                (only after a warm-up of prune_after_steps, while the trace fills)

``M`` (n, n) is the connection mask (``M[i, j]``: a synapse from ``i`` to ``j``), never on the
diagonal.  ``C`` is symmetric, so co-activity grows both directions independently.  The trace
starts at 0: a pair must be co-active for about ``tau_steps · ln(1 / (1 − grow_threshold / c))``
steps at co-activity ``c`` before it may grow.  New synapses get ``w_init``; existing weights are
left alone (combine with a Hebbian rule from ``plasticity`` for that).

numpy only; every random draw comes from a passed-in ``Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

__all__ = ["StructuralConfig", "StructuralNetwork", "StructuralRun", "assembly_activity"]


@dataclass(frozen=True)
class StructuralConfig:
    """Parameters of the grow/prune rule (module docstring).

    ``tau_steps``: time constant of the co-activity trace, in steps.  ``grow_threshold`` /
    ``p_grow``: how co-active an unconnected pair must be, and the chance per step that it then
    grows.  ``prune_threshold`` / ``p_prune``: below which co-activity a synapse may be removed,
    and the chance per step (0 disables pruning).  ``w_init``: weight of a new synapse.
    ``prune_after_steps``: no pruning before this many steps (default ``3 tau_steps``, when the
    trace, which starts at 0, has reached 95% of its running mean); without it every initial
    synapse would look unused at the start.
    """

    tau_steps: float = 100.0
    grow_threshold: float = 0.3
    p_grow: float = 0.05
    prune_threshold: float = 0.02
    p_prune: float = 0.0
    w_init: float = 0.1
    prune_after_steps: int | None = None

    def __post_init__(self):
        if not self.tau_steps >= 1:
            raise ConfigError(f"tau_steps must be >= 1, got {self.tau_steps!r}")
        for name in ("grow_threshold", "p_grow", "prune_threshold", "p_prune"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name} must lie in [0, 1], got {v!r}")
        if self.prune_after_steps is not None and self.prune_after_steps < 0:
            raise ConfigError(f"prune_after_steps must be >= 0, got {self.prune_after_steps!r}")
        if self.prune_threshold > self.grow_threshold:
            raise ConfigError(
                f"prune_threshold ({self.prune_threshold}) must not exceed grow_threshold ({self.grow_threshold}):"
                " a synapse would be grown and pruned on the same evidence"
            )


@dataclass
class StructuralRun:
    """What ``StructuralNetwork.run`` did.

    ``grown`` / ``pruned`` (n, n) bool: pairs that gained / lost a synapse during the run (a pair
    that did both is in both); ``n_grown`` / ``n_pruned`` (T,): events per step; ``n_synapses``
    (T + 1,): the count before the first step and after each.
    """

    grown: np.ndarray
    pruned: np.ndarray
    n_grown: np.ndarray
    n_pruned: np.ndarray
    n_synapses: np.ndarray


@dataclass
class StructuralNetwork:
    """A population with a connection mask that grows and prunes by co-activity.

    Parameters
    ----------
    n : int
        Number of neurons.
    config : StructuralConfig
    mask : bool array (n, n), optional
        Initial synapses (``mask[i, j]``: ``i → j``); default none.  The diagonal is ignored.
    weights : float array (n, n), optional
        Initial weights, default ``w_init`` where ``mask`` is set and 0 elsewhere.
    """

    n: int
    config: StructuralConfig = field(default_factory=StructuralConfig)
    mask: np.ndarray | None = None
    weights: np.ndarray | None = None
    trace: np.ndarray = field(init=False)

    def __post_init__(self):
        if int(self.n) != self.n or self.n < 2:
            raise ConfigError(f"n must be an integer >= 2, got {self.n!r}")
        self.n = int(self.n)
        shape = (self.n, self.n)
        mask = np.zeros(shape, dtype=bool) if self.mask is None else np.array(self.mask, dtype=bool)
        if mask.shape != shape:
            raise ConfigError(f"mask must have shape {shape}, got {mask.shape}")
        np.fill_diagonal(mask, False)
        self.mask = mask
        if self.weights is None:
            self.weights = np.where(mask, self.config.w_init, 0.0)
        else:
            self.weights = np.array(self.weights, dtype=np.float64)
            if self.weights.shape != shape or not np.isfinite(self.weights).all():
                raise ConfigError(f"weights must be a finite array of shape {shape}")
            self.weights[~mask] = 0.0
        self.trace = np.zeros(shape)  # (n, n) running mean of x_i x_j
        self.t = 0  # steps taken
        self._off_diagonal = ~np.eye(self.n, dtype=bool)

    @property
    def n_synapses(self) -> int:
        return int(self.mask.sum())

    def step(self, x, rng) -> tuple[np.ndarray, np.ndarray]:
        """One step with activity ``x`` (n,) in [0, 1]; returns the ``(grown, pruned)`` masks (n, n)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n,) or not np.isfinite(x).all() or (x < 0).any() or (x > 1).any():
            raise ConfigError(f"activity must be an array of {self.n} values in [0, 1]")
        cfg = self.config
        self.trace += (np.outer(x, x) - self.trace) / cfg.tau_steps  # C ← C + (x xᵀ − C) / tau
        draw = rng.random((self.n, self.n))  # one uniform per ordered pair and step
        grown = ~self.mask & self._off_diagonal & (self.trace >= cfg.grow_threshold) & (draw < cfg.p_grow)
        after = cfg.prune_after_steps if cfg.prune_after_steps is not None else 3 * cfg.tau_steps
        pruned = self.mask & (self.trace < cfg.prune_threshold) & (draw < cfg.p_prune) & (self.t >= after)
        self.t += 1
        self.mask |= grown
        self.mask &= ~pruned
        self.weights[grown] = cfg.w_init
        self.weights[pruned] = 0.0
        return grown, pruned

    def run(self, activity, rng) -> StructuralRun:
        """Step through ``activity`` (T, n), one row per step."""
        activity = np.asarray(activity, dtype=np.float64)
        if activity.ndim != 2 or activity.shape[1] != self.n:
            raise ConfigError(f"activity must have shape (T, {self.n}), got {activity.shape}")
        t_steps = activity.shape[0]
        grown_any = np.zeros_like(self.mask)
        pruned_any = np.zeros_like(self.mask)
        n_grown = np.zeros(t_steps, dtype=np.int64)
        n_pruned = np.zeros(t_steps, dtype=np.int64)
        n_syn = np.empty(t_steps + 1, dtype=np.int64)
        n_syn[0] = self.n_synapses
        for t in range(t_steps):
            grown, pruned = self.step(activity[t], rng)
            grown_any |= grown
            pruned_any |= pruned
            n_grown[t], n_pruned[t] = grown.sum(), pruned.sum()
            n_syn[t + 1] = n_syn[t] + n_grown[t] - n_pruned[t]
        return StructuralRun(grown_any, pruned_any, n_grown, n_pruned, n_syn)


def assembly_activity(n, groups, t_steps, rng, *, p_group=0.3, p_member=0.95, p_background=0.02):
    """Binary activity (t_steps, n) in which the neurons of each group tend to fire together.

    At each step each group is "on" with probability ``p_group``; while on, each member fires
    with probability ``p_member``.  Every neuron also fires independently with probability
    ``p_background``.  ``groups`` is a list of index arrays (neurons in no group fire only from
    the background).  Members of one group are co-active at rate ``≈ p_group p_member²``; members
    of different groups at ``≈ (p_group p_member)²``.
    """
    x = rng.random((t_steps, n)) < p_background  # (T, n)
    for g in groups:
        g = np.asarray(g, dtype=np.int64)
        on = rng.random(t_steps) < p_group  # (T,)
        x[:, g] |= on[:, None] & (rng.random((t_steps, g.size)) < p_member)
    return x.astype(np.float64)
