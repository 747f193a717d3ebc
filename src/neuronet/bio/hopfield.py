"""Associative memory in one set of weights: the Hopfield network (Hopfield 1982).

``N`` binary neurons ``s_i ∈ {−1, +1}`` are coupled by symmetric weights learned with
Hebb's rule from ``P`` patterns ``ξ^μ ∈ {−1, +1}^N``::

    W = (1/N) Σ_μ ξ^μ ξ^μᵀ,   W_ii = 0            storage (one outer product per memory)
    h_i = Σ_j W_ij s_j                            local field
    s_i ← sign(h_i),   sign(0) = +1               update; ties go to +1
    E(s) = −½ sᵀ W s                              energy
    m^μ = (1/N) ξ^μ · s                           overlap: 1 = perfect recall, ~0 = unrelated

Asynchronous updates (one neuron at a time, a fresh random order in every sweep) never
increase ``E``: flipping ``s_i`` to ``sign(h_i)`` changes it by ``ΔE = −(s_i' − s_i) h_i ≤ 0``
(this needs ``W_ii = 0`` and ``W`` symmetric), so recall ends in a fixed point.  Synchronous
updates (every neuron at once) can end in a 2-cycle instead.  Below the capacity
``P ≈ 0.138 N`` (Amit, Gutfreund & Sompolinsky 1985) the stored patterns are (nearly)
fixed points with large basins of attraction; above it recall collapses.

Exactness: the network keeps the integer couplings ``J = N W = Σ_μ ξ^μ ξ^μᵀ`` and computes
fields as ``h = (J s) / N``.  ``J s`` is a sum of integers, exact in floating point, so a
tie ``h_i = 0`` is a true tie and ``sign(0) = +1`` decides it, never rounding noise.

Neuron death (``remove_neurons``) deletes the rows and columns of dead neurons after
storage: the survivors keep their synapses and recall on their own.  ``GrandmotherStore``
is the localist alternative with the same number of neurons (one memory per neuron).

numpy only; every random choice comes from a passed-in ``Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

#: Retrieval capacity of the Hopfield network for large N (Amit, Gutfreund & Sompolinsky 1985).
CAPACITY_ALPHA = 0.138


def sign(h):
    """``+1`` where ``h >= 0``, ``−1`` where ``h < 0``: the tie ``sign(0)`` is ``+1`` (not numpy's 0)."""
    return np.where(np.asarray(h) >= 0, 1.0, -1.0)


def random_patterns(n_patterns, n_neurons, rng):
    """``P`` random patterns of ``N`` unbiased ±1 bits, shape (P, N), float64."""
    if n_patterns < 0 or n_neurons < 1:
        raise ConfigError(f"need n_patterns >= 0 and n_neurons >= 1, got {n_patterns}, {n_neurons}")
    return np.where(rng.random((int(n_patterns), int(n_neurons))) < 0.5, -1.0, 1.0)


def flip_bits(pattern, fraction, rng):
    """A copy of ``pattern`` (N,) or (K, N) with exactly ``round(fraction·N)`` bits of each row flipped."""
    s = np.array(pattern, dtype=np.float64, copy=True)
    rows = np.atleast_2d(s)
    n = rows.shape[1]
    k = round(float(fraction) * n)
    if not 0 <= k <= n:
        raise ConfigError(f"fraction must lie in [0, 1], got {fraction}")
    for row in rows:
        row[rng.choice(n, size=k, replace=False)] *= -1.0
    return s


def overlap(patterns, states):
    """``m = (1/N) ξ · s`` of matching rows: an array (K,); a Python float for one pattern and one state (N,)."""
    patterns, states = np.asarray(patterns, dtype=np.float64), np.asarray(states, dtype=np.float64)
    m = np.sum(patterns * states, axis=-1) / patterns.shape[-1]
    return float(m) if m.ndim == 0 else m


@dataclass(repr=False)
class Recall:
    """The end of a recall run.

    ``states`` (K, N) or (N,); ``sweeps``: sweeps (async) or steps (sync) in which at
    least one neuron changed; ``converged``: the final state is a fixed point;
    ``energies``: the energy before the first and after every single-neuron update
    (async ``recall_async(trace_energy=True)`` only).
    """

    states: np.ndarray
    sweeps: np.ndarray
    converged: np.ndarray
    energies: np.ndarray | None = None

    def __repr__(self):
        states = np.asarray(self.states)
        conv, sweeps = np.asarray(self.converged), np.asarray(self.sweeps)
        if states.ndim == 1:
            head = f"Recall(1 state of {states.size} neurons, converged={bool(conv)}, sweeps={int(sweeps)}"
        else:
            k, n = states.shape
            span = f"{sweeps.min()}" if sweeps.min() == sweeps.max() else f"{sweeps.min()}–{sweeps.max()}"
            head = f"Recall({k} states of {n} neurons, converged {int(conv.sum())}/{k}, sweeps {span}"
        tail = "" if self.energies is None else f", energies: {len(self.energies)} values"
        return head + tail + ")"


class Hopfield:
    """A Hopfield network holding ``patterns`` (P, N) by Hebbian storage.

    Parameters
    ----------
    patterns : ndarray (P, N) of ±1
        The memories ``ξ^μ``.
    n_normalize : int, optional
        The ``N`` of ``W = J / N``; defaults to the number of neurons.  After neuron
        death the survivors keep their synapses, so it stays the original ``N``.
    dtype : float64 (default) or float32
        Storage of ``J``; float32 is exact while ``P · N < 2**24``.

    Attributes
    ----------
    J : ndarray (N, N)
        Integer couplings ``Σ_μ ξ^μ ξ^μᵀ`` with zero diagonal; ``W = J / n_normalize``.
    patterns : ndarray (P, N)
    """

    def __init__(self, patterns, *, n_normalize=None, dtype=np.float64):
        xi = np.asarray(patterns)
        if xi.ndim != 2 or xi.shape[1] < 1:
            raise ConfigError(f"patterns: expected shape (P, N), got {xi.shape}")
        if not np.isin(xi, (-1, 1)).all():
            raise ConfigError("patterns: every entry must be -1 or +1")
        dtype = np.dtype(dtype)
        if dtype == np.float32 and xi.shape[0] * xi.shape[1] >= 2**24:
            raise ConfigError("float32 couplings are exact only while P * N < 2**24; use float64")
        self.patterns = xi.astype(dtype)
        self.J = self.patterns.T @ self.patterns  # Σ_μ ξ^μ ξ^μᵀ, (N, N)
        np.fill_diagonal(self.J, 0.0)  # no self-coupling
        self.n_normalize = int(xi.shape[1] if n_normalize is None else n_normalize)

    def __repr__(self):
        p, n = self.patterns.shape[0], self.n_neurons
        extra = "" if self.n_normalize == n else f", n_normalize={self.n_normalize} (after neuron death)"
        return (
            f"Hopfield({p} patterns in {n} neurons, load P/N={p / self.n_normalize:.3g} "
            f"(capacity {CAPACITY_ALPHA}), dtype={self.J.dtype}{extra})"
        )

    @classmethod
    def from_couplings(cls, J, patterns, n_normalize):
        """A network with given integer couplings (used after neuron death)."""
        net = cls.__new__(cls)
        net.J, net.patterns, net.n_normalize = J, patterns, int(n_normalize)
        return net

    @property
    def n_neurons(self) -> int:
        return self.J.shape[0]

    @property
    def W(self):
        """``W = J / N`` (a new array)."""
        return self.J / self.n_normalize

    def _states(self, s, name="state", *, spins=False):
        """``s`` as an array of the couplings' dtype, a state (N,) or states (K, N); ConfigError for
        another shape, or (``spins``) for an entry other than −1 and +1, which recall cannot start from."""
        s = np.asarray(s, dtype=self.J.dtype)
        if s.ndim not in (1, 2) or s.shape[-1] != self.n_neurons:
            raise ConfigError(f"{name}: expected shape ({self.n_neurons},) or (K, {self.n_neurons}), got {s.shape}")
        if spins and not np.isin(s, (-1.0, 1.0)).all():
            raise ConfigError(f"{name}: every entry must be -1 or +1")
        return s

    def field(self, s):
        """Local fields ``h = W s`` for a state (N,) or states (K, N); ``J`` is symmetric."""
        return (self._states(s) @ self.J) / self.n_normalize

    def energy(self, s):
        """``E = −½ sᵀ W s`` of a state (N,) or of each of states (K, N)."""
        s = self._states(s)
        return -0.5 * np.sum((s @ self.J) * s, axis=-1) / self.n_normalize

    def is_fixed_point(self, s):
        """True where ``sign(W s) == s`` (row by row for (K, N))."""
        s = self._states(s)
        return np.all(sign(s @ self.J) == s, axis=-1)

    # -- recall --------------------------------------------------------------------------
    def recall_sync(self, states, max_steps=100):
        """Synchronous recall: ``s ← sign(W s)`` for all neurons at once, until nothing changes.

        A state may end in a 2-cycle rather than a fixed point (``converged`` False).
        """
        S = np.array(np.atleast_2d(self._states(states, "states", spins=True)))
        steps = np.zeros(S.shape[0], int)
        active = np.ones(S.shape[0], bool)
        for _ in range(int(max_steps)):
            if not active.any():
                break
            new = sign(S[active] @ self.J)
            changed = np.any(new != S[active], axis=1)
            idx = np.flatnonzero(active)
            S[idx] = new
            steps[idx[changed]] += 1
            active[idx[~changed]] = False
        out = S if np.ndim(states) == 2 else S[0]
        conv = self.is_fixed_point(S)
        return Recall(out, steps if np.ndim(states) == 2 else steps[0], conv if np.ndim(states) == 2 else conv[0])

    def recall_async(self, state, rng, max_sweeps=100, trace_energy=False):
        """Asynchronous recall of one state: sweeps over the neurons in a fresh random order.

        In each sweep the neurons are visited in ``rng.permutation(N)`` order and each is
        set to ``sign(h_i)`` with the field of the current state.  Stops after a sweep in
        which no neuron changed, or after ``max_sweeps`` sweeps.  With ``trace_energy`` the
        energy is recorded before the first and after every single-neuron update.

        This is the reference implementation; ``recall_async_batch`` gives the same final
        state with the same ``rng`` and is much faster for many states.
        """
        s = np.array(state, dtype=self.J.dtype)
        if s.shape != (self.n_neurons,):
            raise ConfigError(f"state: expected shape ({self.n_neurons},), got {s.shape}")
        self._states(s, spins=True)
        N = self.n_normalize
        q = float(s @ self.J @ s)  # sᵀ J s, exact: E = −q / (2N)
        energies = [-0.5 * q / N] if trace_energy else None
        sweeps = 0
        for _ in range(int(max_sweeps)):
            changed = False
            for i in rng.permutation(self.n_neurons):
                h_i = float(self.J[i] @ s)  # N·h_i, exact
                new = 1.0 if h_i >= 0 else -1.0  # sign(0) = +1
                if new != s[i]:
                    q += 2.0 * (new - s[i]) * h_i  # Δ(sᵀJs) for one flip (J_ii = 0)
                    s[i] = new
                    changed = True
                if trace_energy:
                    energies.append(-0.5 * q / N)
            if not changed:
                break
            sweeps += 1
        return Recall(
            s, np.int64(sweeps), bool(self.is_fixed_point(s)), None if energies is None else np.array(energies)
        )

    def recall_async_batch(self, states, rng, max_sweeps=100):
        """Asynchronous recall of many states (K, N) at once, each with its own random orders.

        The same dynamics as ``recall_async``, event by event: in a sweep with order ``π``
        the next neuron that changes is the first ``π_j`` (after the current position)
        whose sign disagrees with its current field; the neurons visited before it are
        stable and change nothing.  A sweep ends at the end of ``π``; a new sweep (a new
        ``rng.permutation(N)``) starts only if some neuron is still unstable, otherwise the
        state is a fixed point.  With one state and the same ``rng`` the final state equals
        ``recall_async``'s.  See ``relax_async`` for the algorithm.
        """
        S = np.atleast_2d(states)
        if S.ndim != 2 or S.shape[1] != self.n_neurons:
            raise ConfigError(f"states: expected {self.n_neurons} neurons, got shape {S.shape}")
        self._states(S, "states", spins=True)
        final, sweeps = relax_async(self.J[None], np.zeros(S.shape[0], np.int64), S, rng, max_sweeps)
        conv = self.is_fixed_point(final)
        if np.ndim(states) == 1:
            return Recall(final[0], sweeps[0], bool(conv[0]))
        return Recall(final, sweeps, conv)

    def plot_recall(self, cues, rng=None, *, shape=None, max_sweeps=100, max_rows=8):
        """Recall ``cues`` and draw cue → recalled → nearest stored pattern as images.

        Asynchronous recall (``recall_async_batch``) with ``rng``, synchronous without.  The
        stored pattern of each row is the one with the largest overlap with the recalled state.
        Returns the ``Figure`` of ``neuronet.report.notebook.hopfield_recall_figure``
        (``shape``, e.g. ``(8, 8)``, and ``max_rows`` are passed on); the module is imported
        only here, so ``bio`` needs no matplotlib.
        """
        from ..report.notebook import hopfield_recall_figure  # plotting lives in report/ (see pyproject)

        cues = np.atleast_2d(cues)
        rec = self.recall_sync(cues, max_sweeps) if rng is None else self.recall_async_batch(cues, rng, max_sweeps)
        nearest = self.patterns[np.argmax(rec.states @ self.patterns.T, axis=1)]
        return hopfield_recall_figure(cues, rec.states, nearest, shape=shape, max_rows=max_rows)

    # -- neuron death ----------------------------------------------------------------------
    def remove_neurons(self, fraction, rng):
        """Kill ``round(fraction·N)`` random neurons after storage.

        Returns ``(survivors_network, alive)`` where ``alive`` (N,) bool marks the
        surviving neurons; the new network's couplings are ``J[alive][:, alive]`` (the
        survivors keep their synapses, ``W = J / N`` with the original ``N``) and its
        ``patterns`` are the stored patterns restricted to the survivors, so overlaps
        are measured on surviving neurons.  ``self`` is not changed.
        """
        alive = death_mask(self.n_neurons, fraction, rng)
        J = self.J[np.ix_(alive, alive)].copy()
        return Hopfield.from_couplings(J, self.patterns[:, alive].copy(), self.n_normalize), alive


def death_mask(n_neurons, fraction, rng):
    """Bool (N,): True for the survivors when ``round(fraction·N)`` random neurons die."""
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"fraction must lie in [0, 1], got {fraction}")
    alive = np.ones(int(n_neurons), bool)
    alive[rng.choice(int(n_neurons), size=round(fraction * n_neurons), replace=False)] = False
    return alive


class GrandmotherStore:
    """The localist alternative: each memory lives in its own dedicated neurons.

    ``P`` memories in ``N`` neurons (``N >= P · copies``): memory ``μ`` is held by neurons
    ``μ·copies … μ·copies + copies − 1`` (a lookup table, one "grandmother cell" per
    memory when ``copies = 1``); the other neurons are unused.  A memory is recalled
    perfectly (overlap 1) while at least one of its neurons lives and is gone (overlap 0:
    nothing of it remains, the best guess is chance) once all of them are dead.  With
    ``copies = 1`` every death of a used neuron erases exactly one whole memory, and a
    random fraction ``f`` of dead neurons erases on average a fraction ``f`` of memories.
    """

    def __init__(self, n_memories, n_neurons, copies=1):
        n_memories, n_neurons, copies = int(n_memories), int(n_neurons), int(copies)
        if n_memories < 1 or copies < 1 or n_memories * copies > n_neurons:
            raise ConfigError(
                f"a grandmother store of {n_neurons} neurons cannot hold {n_memories} memories "
                f"with {copies} neuron(s) each"
            )
        self.n_memories, self.n_neurons, self.copies = n_memories, n_neurons, copies
        self.owner = np.full(n_neurons, -1)  # memory held by each neuron, -1 unused
        self.owner[: n_memories * copies] = np.repeat(np.arange(n_memories), copies)

    def __repr__(self):
        return f"GrandmotherStore(n_memories={self.n_memories}, n_neurons={self.n_neurons}, copies={self.copies})"

    def recall_overlaps(self, alive):
        """Overlap of each memory's recall given the survivors ``alive`` (N,) bool: 1 or 0."""
        alive = np.asarray(alive, bool)
        kept = np.zeros(self.n_memories, bool)
        kept[self.owner[alive & (self.owner >= 0)]] = True
        return kept.astype(np.float64)


def relax_async(couplings, owner, states, rng, max_sweeps=100, window=32):
    """Asynchronous random-order sweeps for many states, each in its own network.

    Parameters
    ----------
    couplings : ndarray (T, N, N)
        Integer couplings ``J`` of ``T`` networks of ``N`` neurons (symmetric, zero diagonal).
    owner : ndarray (K,) of int
        The network of each state.
    states : ndarray (K, N) of ±1
        Start states (not modified).
    rng : numpy.random.Generator
        One ``rng.permutation(N)`` per started sweep, drawn for the states in index order.
    max_sweeps : int
    window : int
        How many positions of a sweep are examined at once (speed only, not the result).

    Returns
    -------
    final : ndarray (K, N)
    sweeps : ndarray (K,)
        Sweeps started, each of which changed at least one neuron.

    Algorithm (exactly the dynamics of one-neuron-at-a-time updates in a random order
    per sweep): keep the fields ``H = S J`` (exact integers).  From the current position
    of a state's sweep, look at the next ``window`` neurons of its order and find the first
    whose sign disagrees with its field (``sign(0) = +1``); the ones before it are stable,
    so visiting them changes nothing.  Flip it, add ``2 s_i' J_i`` to its fields, and go on
    from the next position.  At the end of the order, start a new sweep if any neuron is
    unstable; otherwise the state is a fixed point.  The cost is one row of ``J`` per flip
    plus ``window`` entries per look, instead of a Python step per neuron.
    """
    J = np.asarray(couplings)
    S = np.array(states, dtype=J.dtype)
    K, n = S.shape
    owner = np.asarray(owner, dtype=np.int64)
    final = S.copy()
    sweeps = np.zeros(K, np.int64)
    H = np.empty_like(S)
    for t in np.unique(owner):
        H[owner == t] = S[owner == t] @ J[t]  # N·h, exact
    # working set: the states still moving, in index order
    ids = np.arange(K)
    perm = np.zeros((K, n), np.int64)
    ptr = np.full(K, n)  # position in the sweep; n = sweep over
    offsets, positions = np.arange(window), np.arange(n)
    while ids.size:
        # states at the end of a sweep: done if nothing is unstable, else a fresh order
        ended = np.flatnonzero(ptr >= n)
        if ended.size:
            keep = _start_sweeps(ended, ids, S, H, perm, ptr, sweeps, rng, max_sweeps)
            if not keep.all():
                final[ids[~keep]] = S[~keep]
                ids, S, H, perm, ptr, owner = ids[keep], S[keep], H[keep], perm[keep], ptr[keep], owner[keep]
                if not ids.size:
                    break
        # look at the next `window` neurons of each state's order
        pos = ptr[:, None] + offsets  # (k, window)
        valid = pos < n
        neur = np.take_along_axis(perm, np.minimum(pos, n - 1), axis=1)
        s_w = np.take_along_axis(S, neur, axis=1)
        h_w = np.take_along_axis(H, neur, axis=1)
        unstable = ((h_w >= 0) != (s_w > 0)) & valid  # sign(h) != s, sign(0) = +1
        first = np.argmax(unstable, axis=1)
        rows = np.arange(ids.size)
        found = unstable[rows, first]
        pos_next = ptr + first  # position of the next flip
        i = neur[rows, first]
        far = rows[~found]
        if far.size:  # nothing unstable in the window: search the rest of the sweep
            _search_rest(far, S, H, perm, ptr[far] + window, positions, found, pos_next, i)
        r = rows[found]
        if r.size:
            i = i[r]
            new = -S[r, i]
            S[r, i] = new
            H[r] += (2.0 * new)[:, None] * J[owner[r], i]  # row i of J = column i
            ptr[r] = pos_next[r] + 1
        ptr[~found] = n  # no unstable neuron left in this sweep
    return final, sweeps


def _start_sweeps(ended, ids, S, H, perm, ptr, sweeps, rng, max_sweeps):
    """Start a new sweep for each state in ``ended`` (rows at the end of their sweep) that can still move.

    A state gets a fresh order ``rng.permutation(N)`` (drawn in row order, so in index order)
    when some neuron is unstable and it has started fewer than ``max_sweeps`` sweeps; ``perm``,
    ``ptr`` and ``sweeps`` are updated in place.  Returns ``keep`` (k,) bool, False for the rows
    that are done: a fixed point, or out of sweeps.
    """
    n = S.shape[1]
    unstable_any = ((H[ended] >= 0) != (S[ended] > 0)).any(axis=1)
    keep = np.ones(ids.size, bool)
    for r, still in zip(ended, unstable_any):
        if still and sweeps[ids[r]] < max_sweeps:
            perm[r] = rng.permutation(n)
            ptr[r] = 0
            sweeps[ids[r]] += 1
        else:
            keep[r] = False
    return keep


def _search_rest(far, S, H, perm, start, positions, found, pos_next, i):
    """For the rows ``far``, find the first unstable neuron at positions ``>= start`` (m,) of their order.

    ``positions`` is ``arange(N)``.  Fills ``found``, ``pos_next`` (the position in the order)
    and ``i`` (the neuron) in place; ``found`` stays False for a row with no unstable neuron
    left in its sweep.
    """
    rest = np.take_along_axis((H[far] >= 0) != (S[far] > 0), perm[far], axis=1)
    rest &= positions[None, :] >= start[:, None]
    first_far = np.argmax(rest, axis=1)
    found[far] = rest[np.arange(far.size), first_far]
    pos_next[far] = first_far
    i[far] = perm[far, first_far]
