"""The Hopfield experiment's measurements: capacity, replica theory, partial cues, neuron death.

Each function is one run of ``experiments.hopfield``: a pure function of the config and a seed,
its randomness from ``numpy.random.default_rng([seed, part, …])``, returning JSON-able data.

``retrieval_overlap`` and ``critical_load`` solve the replica-symmetric zero-temperature
equations of Amit, Gutfreund & Sompolinsky (1985, Phys. Rev. Lett. 55, 1530; the full
derivation in Ann. Phys. 173, 30, 1987).  With ``y = m / √(2 α r)`` their three equations

    m = erf(y),   C = √(2 / (π α r)) · exp(−y²),   r = 1 / (1 − C)²

reduce to one equation in ``y``:

    erf(y) / y − (2/√π) · exp(−y²) = √(2α)

Its largest root gives the retrieval overlap ``m(α) = erf(y)``.  The left side has a maximum
at ``y_c ≈ 1.51``; the retrieval solution disappears when ``√(2α)`` exceeds it, at
``α_c = max² / 2 ≈ 0.138`` with ``m(α_c) ≈ 0.967``.  Nothing here is fitted: 0.138 is computed.
"""

from __future__ import annotations

import math

import numpy as np

from ..bio.hopfield import GrandmotherStore, Hopfield, flip_bits, overlap, random_patterns, relax_async

__all__ = [
    "capacity_run",
    "critical_load",
    "cue_run",
    "death_run",
    "mean_threshold",
    "retrieval_overlap",
]

_SQRT_PI_2 = 2.0 / math.sqrt(math.pi)
_BLOCK = 5  # loads relaxed together by one relax_async call (speed and memory only: 80 MB at N = 2000)


# -- replica-symmetric theory (Amit, Gutfreund & Sompolinsky 1985) ----------------------------------
def _rs_lhs(y):
    """``erf(y)/y − (2/√π) e^{−y²}``: equals ``√(2α)`` at a retrieval solution."""
    return math.erf(y) / y - _SQRT_PI_2 * math.exp(-y * y)


def _rs_peak():
    """``(y_c, value)`` at the maximum of ``_rs_lhs`` (golden-section search on [0.5, 3])."""
    lo, hi = 0.5, 3.0
    g = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(200):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if _rs_lhs(a) < _rs_lhs(b):
            lo = a
        else:
            hi = b
    y = (lo + hi) / 2.0
    return y, _rs_lhs(y)


def critical_load():
    """``(α_c, m(α_c))`` of the replica-symmetric theory: about ``(0.1379, 0.967)``."""
    y, peak = _rs_peak()
    return peak * peak / 2.0, math.erf(y)


def retrieval_overlap(alpha):
    """The retrieval overlap ``m(α)`` at zero temperature; ``None`` above ``α_c`` (no retrieval state).

    Solves ``_rs_lhs(y) = √(2α)`` for its largest root by bisection on ``[y_c, 40]`` (the left
    side falls monotonically from its peak towards 0 there).
    """
    alpha = float(alpha)
    if alpha <= 0.0:
        return 1.0
    y_c, peak = _rs_peak()
    target = math.sqrt(2.0 * alpha)
    if target > peak:
        return None
    lo, hi = y_c, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if _rs_lhs(mid) > target:
            lo = mid
        else:
            hi = mid
    return math.erf((lo + hi) / 2.0)


# -- capacity at one N ----------------------------------------------------------------------------
def _n_patterns(load, n):
    return max(1, round(load * n))


def _relax_staged(Js, owner, S0, rng, cfg):
    """Relax ``S0`` (K, N) in the networks ``Js`` (T, N, N), giving up on states that have fallen out.

    ``relax_async`` runs in stages of ``capacity_stage_sweeps`` sweeps.  After each stage a state
    is done when it is a fixed point, or given up (counted as not recalled) once its overlap with
    its start has fallen below ``capacity_give_up``: a state that far out does not come back to
    ``success_overlap`` (checked in tests/test_exp_hopfield.py) and its further wandering, hundreds
    of flips at N = 2000, would only cost time.  At most ``capacity_max_sweeps`` sweeps in all.

    Returns ``(m, gave_up, unsettled)``, each (K,): final overlaps, the states given up, and the
    states still moving when the sweeps ran out.
    """
    K = S0.shape[0]
    S = S0.copy()
    gave_up = np.zeros(K, bool)
    moving = np.ones(K, bool)
    done = 0
    while moving.any() and done < cfg.capacity_max_sweeps:
        stage = min(cfg.capacity_stage_sweeps, cfg.capacity_max_sweeps - done)
        idx = np.flatnonzero(moving)
        S[idx], sweeps = relax_async(Js, owner[idx], S[idx], rng, stage)
        done += stage
        m = overlap(S0[idx], S[idx])
        settled = sweeps < stage  # a sweep changed nothing: a fixed point
        gave_up[idx] = ~settled & (m < cfg.capacity_give_up)
        moving[idx] = ~settled & ~gave_up[idx]
    return overlap(S0, S), gave_up, moving


def capacity_run(cfg, n, seed):
    """Recall from stored patterns at every load of ``cfg.capacity_loads`` in one network of ``n`` neurons.

    Patterns are added to one network load by load (the couplings grow by one outer product per
    added pattern).  The first ``min(capacity_starts, P)`` stored patterns are the start states
    (the stored patterns of one network are exchangeable, so which ones does not matter); each
    relaxes asynchronously (``_relax_staged``) and its final overlap ``m`` is recorded.  Loads are
    relaxed ``_BLOCK`` at a time (``relax_async`` takes a stack of couplings); the record stops
    once ``capacity_stop_after`` consecutive loads recalled nothing (the curve is 0 beyond).

    Returns the loads (P/N), the overlaps per load (k,), and per load the number of states given
    up and of states cut short by the sweep limit.
    """
    rng = np.random.default_rng([int(seed), 4, int(n)])
    Ps = sorted({_n_patterns(a, n) for a in cfg.capacity_loads})
    xi = random_patterns(Ps[-1], n, rng).astype(np.float32)  # (P_max, N); J exact in float32 (|J| ≤ P)
    J = np.zeros((n, n), np.float32)
    out = {"n": int(n), "loads": [], "overlaps": [], "gave_up": [], "unsettled": []}
    prev, zeros = 0, 0
    for b in range(0, len(Ps), _BLOCK):
        chunk = Ps[b : b + _BLOCK]
        ks = [min(cfg.capacity_starts, P) for P in chunk]  # start patterns per network: stored ones
        Js = np.empty((len(chunk), n, n), np.float32)  # (L, N, N)
        for j, P in enumerate(chunk):
            J += xi[prev:P].T @ xi[prev:P]
            np.fill_diagonal(J, 0.0)
            Js[j], prev = J, P
        S0 = np.concatenate([xi[:k] for k in ks])  # (Σk, N): the first k stored patterns of each network
        owner = np.repeat(np.arange(len(chunk)), ks)
        m, gave_up, unsettled = _relax_staged(Js, owner, S0, rng, cfg)
        for j, P in enumerate(chunk):
            mine = owner == j
            out["loads"].append(P / n)
            out["overlaps"].append([round(float(v), 6) for v in m[mine]])
            out["gave_up"].append(int(gave_up[mine].sum()))
            out["unsettled"].append(int(unsettled[mine].sum()))
            zeros = zeros + 1 if not np.any(m[mine] >= cfg.success_overlap) else 0
            if zeros >= cfg.capacity_stop_after:
                return out  # nothing recalled at the last loads: the curve is 0 beyond
    return out


def mean_threshold(loads, success):
    """The mean load at which a stored pattern stops being recalled: ``α_1 + ∫ success dα``.

    ``success`` (fraction recalled at each load) is the survival function of the per-pattern
    threshold, so its area is the threshold's mean; between grid points it is interpolated
    linearly (trapezoids), below ``α_1`` taken as 1 and beyond the last load as 0.  Linear in
    ``success``, so the mean over networks of this estimate is the estimate of the mean curve.
    """
    a = np.asarray(loads, float)
    s = np.asarray(success, float)
    return float(a[0] + np.sum((s[1:] + s[:-1]) / 2.0 * np.diff(a)))


# -- partial cues: associative recall vs key lookup -------------------------------------------------
def _cue(pattern, known, flip, rng):
    """A partial, corrupted cue: the first ``known``·N bits given, ``flip`` of them flipped, the rest random."""
    n = pattern.size
    n_known = round(known * n)
    cue = pattern.copy()
    cue[n_known:] = np.where(rng.random(n - n_known) < 0.5, -1.0, 1.0)
    cue[rng.choice(n_known, size=round(flip * n_known), replace=False)] *= -1.0
    return cue, n_known


def cue_run(cfg, seed):
    """Recall of every memory from partial, corrupted cues by three memories holding the same patterns.

    * key lookup (a CPU's memory): the given bits are an address; the memory is returned only
      if they match a stored address exactly (a hash table: ``dict``);
    * nearest-neighbour search (a CPU running a search program): the stored pattern closest in
      Hamming distance on the given bits;
    * Hopfield: asynchronous relaxation from the cue (unknown bits random).

    A memory counts as recalled when the returned state's overlap with it reaches
    ``success_overlap`` (key lookup and search return whole stored patterns: overlap 1 or a
    wrong pattern).
    """
    rng = np.random.default_rng([int(seed), 2])
    n = cfg.cue_n
    xi = random_patterns(_n_patterns(cfg.cue_load, n), n, rng)  # (P, N)
    net = Hopfield(xi)
    out = {}
    conditions = sorted({(float(k), float(f)) for k in cfg.cue_known for f in cfg.cue_flips} | {tuple(cfg.cue_judged)})
    for known, flip in sorted(conditions, key=lambda c: (-c[0], c[1])):
        cues, n_known = zip(*(_cue(x, known, flip, rng) for x in xi))
        cues, n_known = np.stack(cues), n_known[0]
        table = {x[:n_known].tobytes(): mu for mu, x in enumerate(xi)}  # address -> memory
        key = np.mean([table.get(c[:n_known].tobytes()) == mu for mu, c in enumerate(cues)])
        dist = (n_known - cues[:, :n_known] @ xi[:, :n_known].T) / 2  # (P, P) Hamming on the given bits
        search = np.mean(np.argmin(dist, axis=1) == np.arange(len(xi)))
        m = overlap(xi, net.recall_async_batch(cues, rng, cfg.max_sweeps).states)
        out[f"{known:g}/{flip:g}"] = {
            "key": float(key),
            "search": float(search),
            "hopfield": float(np.mean(m >= cfg.success_overlap)),
            "hopfield_overlap": float(m.mean()),
            "cue_overlap": float(overlap(xi, cues).mean()),
        }
    return out


# -- neuron death -----------------------------------------------------------------------------------
def _single_deaths(net, cfg, rng):
    """Every neuron killed alone: how many (death, memory) pairs change a bit, and how many are forgotten.

    A memory can only be forgotten if the intact network recalls it (from its own pattern).
    Killing neuron ``j`` removes ``J_ij ξ_j`` from each surviving field ``N h_i``; a memory whose
    restricted pattern stays a fixed point is still recalled exactly.  The others are relaxed
    from their restricted pattern in the reduced network and count as forgotten below
    ``success_overlap``.
    """
    J, xi = net.J, net.patterns
    n = J.shape[0]
    known = overlap(xi, net.recall_async_batch(xi, rng, cfg.max_sweeps).states) >= cfg.success_overlap
    H = xi @ J  # (P, N) exact integer fields N·h
    changed = forgotten = 0
    for j in range(n):
        Hj = H - xi[:, j : j + 1] * J[j][None, :]  # (P, N) fields without neuron j
        unstable = (Hj >= 0) != (xi > 0)
        unstable[:, j] = False
        hit = np.flatnonzero(unstable.any(axis=1) & known)
        if hit.size:
            alive = np.arange(n) != j
            survivors = Hopfield.from_couplings(J[np.ix_(alive, alive)], xi[:, alive], net.n_normalize)
            start = survivors.patterns[hit]
            m = overlap(start, survivors.recall_async_batch(start, rng, cfg.max_sweeps).states)
            changed += int(np.count_nonzero(m < 1.0))
            forgotten += int(np.count_nonzero(m < cfg.success_overlap))
    return changed, forgotten


def death_run(cfg, seed):
    """Neuron death in a Hopfield network and in two localist stores, the same dead neurons in all three.

    ``P = death_load · N`` patterns; for each dead fraction ``f`` the same random neurons die in
    the Hopfield network, in a grandmother store (one neuron per memory) and in a redundant
    localist store with ``N // P`` neurons per memory (as many neurons per memory as the Hopfield
    network has).  Hopfield memories are cued on the survivors with ``death_cue_flip`` of their
    bits flipped; the stores need no cue (a memory is there while one of its neurons lives).
    """
    rng = np.random.default_rng([int(seed), 5])
    n = cfg.death_n
    P = _n_patterns(cfg.death_load, n)
    net = Hopfield(random_patterns(P, n, rng))
    stores = {"grandmother": GrandmotherStore(P, n, copies=1), "redundant": GrandmotherStore(P, n, copies=n // P)}
    out = {"hopfield": [], "hopfield_overlap": [], "grandmother": [], "redundant": []}
    for f in cfg.death_fractions:
        survivors, alive = net.remove_neurons(f, rng)  # the same dead neurons for every store
        cues = flip_bits(survivors.patterns, cfg.death_cue_flip, rng)
        m = overlap(survivors.patterns, survivors.recall_async_batch(cues, rng, cfg.max_sweeps).states)
        out["hopfield"].append(float(np.mean(m >= cfg.success_overlap)))
        out["hopfield_overlap"].append(float(m.mean()))
        for name, store in stores.items():
            out[name].append(float(store.recall_overlaps(alive).mean()))
    out["single_changed"], out["single_forgotten"] = _single_deaths(net, cfg, rng)
    out["n_patterns"], out["copies"] = P, n // P
    return out
