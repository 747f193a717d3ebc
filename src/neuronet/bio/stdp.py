"""Pair-based spike-timing-dependent plasticity (STDP) for excitatory and inhibitory synapses.

"One cell's firing tends to make another cell fire more often, and their excitatory synaptic
connection tends to grow stronger.  Similarly, there's a reverse rule for inhibitory
connections" (the lecture).  STDP is the spike-timing form of that statement: Bi & Poo (1998,
J. Neurosci. 18:10464) paired spikes of cultured hippocampal neurons and found that a
presynaptic spike a few ms *before* the postsynaptic one (the pre "took part in firing" the post)
potentiates the synapse, and one a few ms *after* it depresses it, both decaying with the delay.
Song, Miller & Abbott (2000, Nat. Neurosci. 3:919) wrote it as the pair rule used here::

    dt = t_post − t_pre
    dw(dt) = +a_plus  exp(−dt / tau_plus)     dt > 0   (causal: pre before post)
    dw(dt) = −a_minus exp(+dt / tau_minus)    dt < 0   (anti-causal)
    dw(0)  = 0                                          (a tie has no order; by convention)

Defaults are Song et al.'s: ``a_plus = 0.005``, ``a_minus = 1.05 a_plus``, ``tau = 20 ms``; the
slight dominance of depression (``a_minus tau_minus > a_plus tau_plus``) makes uncorrelated
firing weaken a synapse on average.  Bi & Poo's own fits give ``tau_plus ≈ 17 ms`` and
``tau_minus ≈ 34 ms`` (Bi & Poo 2001, Annu. Rev. Neurosci. 24:139).

Synapse types (``RULES``)
-------------------------
``"excitatory"``
    The rule above, applied to the synapse's strength ``|w|``.
``"inhibitory"`` (the lecture's "reverse rule")
    The sign-reversed window, ``dw_inh(dt) = −dw_exc(dt)``, applied to the strength of the
    inhibition: causal pairings *weaken* an inhibitory synapse and anti-causal ones strengthen
    it.  Equivalently, the excitatory rule applied to the *signed* weight ``−|w|``: the synapse
    becomes less negative when the pre spike was followed by a post spike it failed to prevent.
    This is the lecture's "reverse rule" taken literally: a modelling choice.  The windows
    measured at inhibitory synapses are diverse (Hebbian, reversed and symmetric shapes; review:
    Vogels et al. 2013, Front. Neural Circuits 7:119), and no single one is established.
``"inhibitory-symmetric"``
    Vogels, Sprekeler, Zenke, Clopath & Gerstner (2011, Science 334:1569), "Inhibitory plasticity
    balances excitation and inhibition": near-coincident spikes in *either* order potentiate,
    ``dw = eta exp(−|dt| / tau)``, and every presynaptic spike depresses by ``eta · alpha``
    with ``alpha = 2 rho0 tau`` (``rho0`` the target postsynaptic rate), so inhibition grows
    until the postsynaptic rate falls to ``rho0``.  Provided for comparison; it is *not* a
    reversal of the excitatory window.

All changes are additive and unbounded here (Song et al. clip ``w`` to ``[0, w_max]``; the caller
applies any bound).  Spike trains are in ms.  numpy only; randomness from a passed-in Generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .lif import LIFPopulation

__all__ = [
    "RULES",
    "PairingResult",
    "expected_dw_independent",
    "offset_poisson_trains",
    "pairing_protocol",
    "poisson_train",
    "stdp_dw",
    "train_dw",
]

RULES = ("excitatory", "inhibitory", "inhibitory-symmetric")
A_PLUS, TAU_MS = 0.005, 20.0  # Song, Miller & Abbott 2000
A_MINUS = 1.05 * A_PLUS


def _rule(synapse):
    if synapse not in RULES:
        raise ConfigError(f"unknown synapse type {synapse!r}; valid: {', '.join(RULES)}")
    return synapse


# -- the window ---------------------------------------------------------------------------------
def stdp_dw(dt_ms, *, a_plus=A_PLUS, a_minus=A_MINUS, tau_plus_ms=TAU_MS, tau_minus_ms=TAU_MS, synapse="excitatory"):
    """Weight change for one pre/post spike pair, ``dt_ms = t_post − t_pre``.

    ``"excitatory"``: ``+a_plus exp(−dt/tau_plus)`` for dt > 0, ``−a_minus exp(dt/tau_minus)`` for
    dt < 0, 0 at dt = 0 (Song, Miller & Abbott 2000).  ``"inhibitory"``: the negative of that.
    ``"inhibitory-symmetric"``: ``a_plus exp(−|dt|/tau_plus)`` for every dt (Vogels et al. 2011,
    the pair part only; its per-spike depression is added by ``train_dw``).

    Returns a float64 array shaped like ``dt_ms`` (a float for a scalar).
    """
    _rule(synapse)
    taus = {"tau_plus_ms": tau_plus_ms, "tau_minus_ms": tau_minus_ms}
    for name, v in {"a_plus": a_plus, "a_minus": a_minus, **taus}.items():
        if not math.isfinite(v) or v < 0 or (name in taus and v == 0):
            raise ConfigError(f"{name} must be a finite number {'> 0' if name in taus else '>= 0'}, got {v!r}")
    dt = np.asarray(dt_ms, dtype=np.float64)
    if synapse == "inhibitory-symmetric":
        dw = a_plus * np.exp(-np.abs(dt) / tau_plus_ms)
    else:
        ltp = a_plus * np.exp(-np.where(dt > 0, dt, 0.0) / tau_plus_ms)  # exponents <= 0: no overflow
        ltd = -a_minus * np.exp(np.where(dt < 0, dt, 0.0) / tau_minus_ms)
        dw = np.where(dt > 0, ltp, np.where(dt < 0, ltd, 0.0))
        if synapse == "inhibitory":
            dw = -dw
    return float(dw) if dw.ndim == 0 else dw


def train_dw(pre_ms, post_ms, *, synapse="excitatory", cutoff_taus=12.0, alpha=0.0, **window) -> float:
    """Total weight change from two spike trains, summed over *all* pre/post pairs.

    The all-to-all pair interaction of Song et al. (2000)::

        Δw = Σ_i Σ_j dw(t_post[j] − t_pre[i])       (+ for "inhibitory-symmetric": − a_plus · alpha · n_pre)

    Pairs further apart than ``cutoff_taus`` time constants are skipped (their terms are below
    ``exp(−cutoff_taus)`` ≈ 6e-6 of the peak); ``cutoff_taus=inf`` sums every pair.  ``alpha`` is
    Vogels et al.'s depression per presynaptic spike (``2 rho0 tau``, rates in spikes/ms), used
    only by ``"inhibitory-symmetric"``.  ``window`` holds ``stdp_dw``'s parameters.
    """
    _rule(synapse)
    pre = np.sort(np.asarray(pre_ms, dtype=np.float64).ravel())
    post = np.sort(np.asarray(post_ms, dtype=np.float64).ravel())
    if not (np.isfinite(pre).all() and np.isfinite(post).all()):
        raise ConfigError("spike times must be finite")
    tau = max(window.get("tau_plus_ms", TAU_MS), window.get("tau_minus_ms", TAU_MS))
    reach = cutoff_taus * tau
    lo = np.searchsorted(pre, post - reach, side="left")  # (n_post,) first pre in the window of each post
    hi = np.searchsorted(pre, post + reach, side="right")
    counts = hi - lo
    total = 0.0
    if counts.sum():
        post_of_pair = np.repeat(post, counts)  # (n_pairs,)
        first = np.repeat(lo - np.cumsum(counts) + counts, counts)  # offset of each pair's block
        pre_of_pair = pre[first + np.arange(counts.sum())]
        total = float(stdp_dw(post_of_pair - pre_of_pair, synapse=synapse, **window).sum())
    if synapse == "inhibitory-symmetric":
        total -= window.get("a_plus", A_PLUS) * alpha * pre.size
    return total


def expected_dw_independent(
    rate_pre_hz, rate_post_hz, duration_ms, *, a_plus=A_PLUS, a_minus=A_MINUS, tau_plus_ms=TAU_MS, tau_minus_ms=TAU_MS
) -> float:
    """Expected ``train_dw`` (``"excitatory"``) for independent Poisson trains on ``[0, T]``.

    For independent trains the pair density is ``r_pre r_post`` everywhere, so
    ``E Δw = r_pre r_post ∫₀ᵀ∫₀ᵀ dw(t₂ − t₁) dt₁ dt₂`` and, with ``∫₀ᵀ (T − s) e^{−s/τ} ds =
    τ (T − τ (1 − e^{−T/τ}))`` (the edge term counts pairs cut off by the ends)::

        E Δw = r_pre r_post [a_plus τ+ (T − τ+ (1 − e^{−T/τ+})) − a_minus τ− (T − τ− (1 − e^{−T/τ−}))]

    Rates are in Hz and converted to spikes/ms.  This is the balance point of the negative
    control: without timing correlations the mean change is this, not the causal potentiation.
    """
    r1, r2, T = rate_pre_hz / 1000.0, rate_post_hz / 1000.0, float(duration_ms)

    def side(a, tau):
        return a * tau * (T - tau * (1.0 - math.exp(-T / tau)))

    return r1 * r2 * (side(a_plus, tau_plus_ms) - side(a_minus, tau_minus_ms))


# -- spike trains -------------------------------------------------------------------------------
def poisson_train(rate_hz, duration_ms, rng) -> np.ndarray:
    """Sorted spike times (ms) of a homogeneous Poisson process on ``[0, duration_ms)``."""
    if rate_hz < 0 or duration_ms < 0:
        raise ConfigError(f"rate_hz and duration_ms must be >= 0, got {rate_hz!r}, {duration_ms!r}")
    n = rng.poisson(rate_hz * duration_ms / 1000.0)
    return np.sort(rng.uniform(0.0, duration_ms, n))


def offset_poisson_trains(rate_hz, duration_ms, offset_ms, rng, *, p_follow=1.0, jitter_ms=0.0, background_hz=0.0):
    """A Poisson presynaptic train and a postsynaptic train that follows it by ``offset_ms``.

    Each pre spike is copied into the post train with probability ``p_follow``, shifted by
    ``offset_ms`` plus Gaussian jitter (sd ``jitter_ms``); independent Poisson background at
    ``background_hz`` is added.  ``p_follow = 0`` gives independent trains (the negative control).
    Post spikes outside ``[0, duration_ms)`` are dropped.  Returns ``(pre_ms, post_ms)``, sorted.
    """
    if not 0.0 <= p_follow <= 1.0:
        raise ConfigError(f"p_follow must lie in [0, 1], got {p_follow!r}")
    pre = poisson_train(rate_hz, duration_ms, rng)
    copies = pre[rng.random(pre.size) < p_follow] + offset_ms
    if jitter_ms > 0:
        copies = copies + rng.normal(0.0, jitter_ms, copies.size)
    post = np.concatenate([copies, poisson_train(background_hz, duration_ms, rng)])
    post = post[(post >= 0) & (post < duration_ms)]
    return pre, np.sort(post)


# -- the pairing experiment ---------------------------------------------------------------------
@dataclass(frozen=True)
class PairingResult:
    """What one pairing protocol did.

    ``dw`` is the total weight change, ``pre_ms``/``post_ms`` the spike trains it came from, and
    ``measured_offset_ms`` the mean of (first post spike − first pre spike) per pairing (LIF only;
    NaN for Poisson trains).
    """

    dw: float
    pre_ms: np.ndarray
    post_ms: np.ndarray
    measured_offset_ms: float


def _lif_pairings(offset_ms, n_pairs, jitter_ms, rng, pulse_na, pulse_ms, dt_ms, lif):
    """Spike times of ``n_pairs`` independent pre/post LIF pairs, each kicked by a current pulse.

    Pairing ``k`` uses neurons ``2k`` (pre) and ``2k + 1`` (post): the pre pulse starts at
    ``t0 = 10 ms``, the post pulse at ``t0 + offset (+ jitter)``.  Each pulse is strong enough for
    exactly one spike (25 nA for 1 ms: R I = 250 mV crosses the 20 mV gap in 0.83 ms, and the
    1 ms refractory period outlasts the pulse).
    """
    t0 = 10.0
    onset = np.empty(2 * n_pairs)
    onset[0::2] = t0
    onset[1::2] = t0 + offset_ms + (rng.normal(0.0, jitter_ms, n_pairs) if jitter_ms > 0 else 0.0)
    onset -= min(0.0, onset.min() - t0)  # a negative offset: move both pulses so everything starts at t0
    window_ms = float(onset.max()) + pulse_ms + 5.0 * lif.get("tau_m_ms", 10.0)
    n_steps = math.ceil(window_ms / dt_ms)
    t = np.arange(n_steps)[:, None] * dt_ms  # (n_steps, 1)
    i_na = np.where((t >= onset[None, :]) & (t < onset[None, :] + pulse_ms), pulse_na, 0.0)  # (n_steps, 2 n_pairs)
    rec = LIFPopulation(2 * n_pairs, dt_ms=dt_ms, **lif).run(n_steps * dt_ms, i_na=i_na)
    trains = rec.spike_trains()
    return trains[0::2], trains[1::2]


def pairing_protocol(
    offset_ms,
    *,
    neuron="lif",
    synapse="excitatory",
    n_pairs=60,
    jitter_ms=0.0,
    rng=None,
    rate_hz=10.0,
    duration_ms=60_000.0,
    p_follow=1.0,
    background_hz=0.0,
    pulse_na=25.0,
    pulse_ms=1.0,
    dt_ms=0.05,
    lif=None,
    **window,
) -> PairingResult:
    """Drive a pre and a post neuron with a controlled timing offset; return the weight change.

    ``neuron="lif"``: Bi & Poo's protocol with model neurons.  ``n_pairs`` independent pairings
    (as at 1 Hz, far apart compared with ``tau``), in each of which a current pulse makes the pre
    LIF neuron spike and another, ``offset_ms`` later (+ Gaussian jitter), makes the post one
    spike.  ``dw`` is summed over the spikes the neurons actually fired (``train_dw`` within each
    pairing).  ``lif`` passes LIF parameters (``tau_m_ms``, ``t_ref_ms``, …; see ``LIFPopulation``).

    ``neuron="poisson"``: a Poisson pre train at ``rate_hz`` for ``duration_ms`` and a post train
    that repeats each pre spike ``offset_ms`` later with probability ``p_follow``, plus
    ``background_hz`` of independent spikes (``offset_poisson_trains``).

    ``rng`` (a Generator) is needed for jitter and for Poisson trains.
    """
    _rule(synapse)
    if neuron == "lif":
        if int(n_pairs) != n_pairs or n_pairs < 1:
            raise ConfigError(f"n_pairs must be a positive integer, got {n_pairs!r}")
        if jitter_ms > 0 and rng is None:
            raise ConfigError("pairing_protocol: jitter_ms > 0 needs an rng")
        pres, posts = _lif_pairings(offset_ms, int(n_pairs), jitter_ms, rng, pulse_na, pulse_ms, dt_ms, lif or {})
        if any(p.size != 1 for p in pres) or any(p.size != 1 for p in posts):
            raise ConfigError("pairing_protocol: the pulse did not make each neuron fire exactly once; raise pulse_na")
        dw = sum(train_dw(a, b, synapse=synapse, **window) for a, b in zip(pres, posts))
        offset = float(np.mean([b[0] - a[0] for a, b in zip(pres, posts)]))
        return PairingResult(float(dw), np.concatenate(pres), np.concatenate(posts), offset)
    if neuron == "poisson":
        if rng is None:
            raise ConfigError("pairing_protocol(neuron='poisson') needs an rng")
        pre, post = offset_poisson_trains(
            rate_hz, duration_ms, offset_ms, rng, p_follow=p_follow, jitter_ms=jitter_ms, background_hz=background_hz
        )
        return PairingResult(train_dw(pre, post, synapse=synapse, **window), pre, post, math.nan)
    raise ConfigError(f"unknown neuron {neuron!r}; valid: lif, poisson")
