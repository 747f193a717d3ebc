"""The firing rate of a leaky integrate-and-fire neuron under noisy (diffusion) input: Siegert's formula.

With constant input a LIF neuron's rate is a hard-threshold, concave curve of the current
(``lif.analytic_rate_hz``): zero up to the rheobase, then a vertical rise that bends over
towards ``1/t_ref``.  A sigmoid in *linear* input, the shape the lecture gives the firing rate,
appears only when the input is noisy: fluctuations make a neuron below threshold fire now and
then, which rounds the corner into a convex foot.

The membrane, in the notation of Brunel (2000, J. Comput. Neurosci. 8:183), with ``V``
measured from ``v_rest`` and white noise ``ξ(t)`` (``<ξ(t) ξ(t')> = δ(t − t')``)::

    tau_m dV/dt = −V + mu + sigma sqrt(tau_m) ξ(t)        spike and reset to V_r when V reaches θ

``mu_mv`` is the mean drive as a voltage (``R · I_mean``: where ``V`` would settle without
noise) and ``sigma_mv`` the noise amplitude (the free membrane's sd is ``sigma / √2``).  The
mean first-passage time from ``V_r`` to ``θ`` gives the rate (Siegert 1951, Phys. Rev. 81:617;
Ricciardi 1977; Amit & Brunel 1997; Brunel 2000)::

    1/nu = t_ref + tau_m √π ∫_{(V_r − mu)/sigma}^{(θ − mu)/sigma} e^{u²} (1 + erf u) du

The integrand is evaluated as ``erfcx(−u)`` (``e^{u²}(1 + erf u) = e^{u²} erfc(−u)``), which
neither overflows for very negative ``u`` (strong drive) nor loses digits to ``1 + erf u → 0``.
As ``sigma → 0`` the formula tends to the deterministic rate (for ``mu > θ``,
``tau_m ln((mu − V_r)/(mu − θ))`` per interval) and to 0 below threshold.

Where the input comes from many Poisson synapses with voltage jumps ``J_k`` (mV) at rates ``r_k``,
the diffusion approximation (Brunel 2000) gives ``mu = tau_m Σ J_k r_k`` and
``sigma² = tau_m Σ J_k² r_k`` (``diffusion_params``), valid when each jump is small against
``θ − V_r``.

``simulate_diffusion_lif`` integrates the same equation for many neurons at once
(Euler–Maruyama, or the exact Ornstein–Uhlenbeck step) with an optional Brownian-bridge test for
threshold crossings between grid points, without which a discrete-time simulation misses
excursions and underestimates the rate by O(√dt) (Mannella 1999; Giraudo & Sacerdote 1999).
Parameter names and defaults follow ``neuronet.bio.lif``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .lif import analytic_rate_hz

__all__ = ["DiffusionRecord", "diffusion_params", "inflection_mu_mv", "siegert_rate_hz", "simulate_diffusion_lif"]

_U_MAX = 26.0  # erfcx(−u) ≈ 2 e^{u²} overflows float64 near u = 26.6; beyond u = 26 the rate is < 1e-290 Hz
_SCHEMES = ("euler", "exact")


def _lif_params(tau_m_ms, v_rest_mv, v_reset_mv, v_thresh_mv, t_ref_ms):
    """Validated ``(tau, theta, v_r, t_ref)`` with voltages measured from ``v_rest``."""
    v_reset_mv = v_rest_mv if v_reset_mv is None else v_reset_mv
    for name, v in (("tau_m_ms", tau_m_ms), ("t_ref_ms", t_ref_ms)):
        if not (math.isfinite(v) and v >= 0) or (name == "tau_m_ms" and v == 0):
            raise ConfigError(f"{name} must be a finite number {'> 0' if name == 'tau_m_ms' else '>= 0'}, got {v!r}")
    if not v_reset_mv < v_thresh_mv:
        raise ConfigError(f"v_reset_mv ({v_reset_mv}) must lie below v_thresh_mv ({v_thresh_mv})")
    return float(tau_m_ms), v_thresh_mv - v_rest_mv, v_reset_mv - v_rest_mv, float(t_ref_ms)


def _siegert_one(mu, sigma, tau, theta, v_r, t_ref):
    """Rate (Hz) for one (mu, sigma) pair; all times in ms, voltages from rest."""
    from scipy.integrate import quad
    from scipy.special import erfcx

    if sigma == 0.0:  # the noiseless rate, with R = 1 MΩ so that I in nA is mu in mV
        return analytic_rate_hz(
            mu, tau_m_ms=tau, r_mohm=1.0, v_rest_mv=0.0, v_reset_mv=v_r, v_thresh_mv=theta, t_ref_ms=t_ref
        )
    y_th, y_r = (theta - mu) / sigma, (v_r - mu) / sigma
    if y_th > _U_MAX:
        return 0.0
    integral = 0.0
    if y_r < -1.0:
        # the strongly driven part, u = −e^s: ∫ erfcx(−u) du = ∫ erfcx(e^s) e^s ds, smooth (→ 1/√π) however long
        s_lo, s_hi = math.log(-min(y_th, -1.0)), math.log(-y_r)
        integral += quad(lambda s: erfcx(math.exp(s)) * math.exp(s), s_lo, s_hi, limit=200, epsabs=0.0, epsrel=1e-10)[0]
    if y_th > -1.0:
        integral += quad(lambda u: erfcx(-u), max(y_r, -1.0), y_th, limit=200, epsabs=0.0, epsrel=1e-10)[0]
    return 1000.0 / (t_ref + tau * math.sqrt(math.pi) * integral)


def siegert_rate_hz(
    mu_mv, sigma_mv, *, tau_m_ms=10.0, v_rest_mv=-70.0, v_reset_mv=None, v_thresh_mv=-50.0, t_ref_ms=1.0
):
    """Stationary firing rate of a LIF neuron driven by white noise of mean ``mu`` and amplitude ``sigma``.

    ``nu = 1 / (t_ref + tau_m √π ∫_{(V_r − mu)/sigma}^{(θ − mu)/sigma} erfcx(−u) du)`` (Siegert 1951;
    Brunel 2000), with ``θ = v_thresh − v_rest`` and ``V_r = v_reset − v_rest``.

    Parameters
    ----------
    mu_mv : float or array
        Mean drive as a voltage above rest (``R · I_mean``), in mV.
    sigma_mv : float or array, >= 0
        Noise amplitude in mV (``tau_m dV = … + sigma √tau_m dW``).  ``0`` gives the noiseless rate,
        identical to ``lif.analytic_rate_hz(mu_mv / r_mohm, ...)``.
    tau_m_ms, v_rest_mv, v_reset_mv, v_thresh_mv, t_ref_ms : float
        As in ``neuronet.bio.lif``.

    Returns
    -------
    float64 array (broadcast of ``mu_mv`` and ``sigma_mv``), or a float: spikes per second.
    Always below ``1000 / t_ref_ms``.
    """
    tau, theta, v_r, t_ref = _lif_params(tau_m_ms, v_rest_mv, v_reset_mv, v_thresh_mv, t_ref_ms)
    mu, sigma = np.broadcast_arrays(np.asarray(mu_mv, dtype=np.float64), np.asarray(sigma_mv, dtype=np.float64))
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ConfigError("mu_mv and sigma_mv must be finite")
    if (sigma < 0).any():
        raise ConfigError("sigma_mv must be >= 0")
    out = np.array([_siegert_one(m, s, tau, theta, v_r, t_ref) for m, s in zip(mu.ravel(), sigma.ravel())])
    out = out.reshape(mu.shape)
    return float(out) if out.ndim == 0 else out


def diffusion_params(rates_hz, w_mv, *, tau_m_ms=10.0):
    """``(mu_mv, sigma_mv)`` of many Poisson inputs with voltage jumps (the diffusion approximation).

    ``mu = tau_m Σ_k w_k r_k`` and ``sigma = sqrt(tau_m Σ_k w_k² r_k)`` (Brunel 2000), with
    ``r_k`` in Hz converted to spikes/ms.  Inhibitory inputs have ``w_k < 0``: they lower ``mu`` but
    *raise* ``sigma``.  Sums run over the last axis.
    """
    r = np.asarray(rates_hz, dtype=np.float64) / 1000.0
    w = np.asarray(w_mv, dtype=np.float64)
    if (r < 0).any():
        raise ConfigError("rates_hz must be >= 0")
    mu = tau_m_ms * np.sum(w * r, axis=-1)
    sigma = np.sqrt(tau_m_ms * np.sum(w**2 * r, axis=-1))
    return mu, sigma


def inflection_mu_mv(sigma_mv, *, mu_lo_mv=-20.0, mu_hi_mv=80.0, n=801, **lif):
    """Where the rate–mu curve turns from convex to concave (the sigmoid's inflection point).

    Found on a linear grid of ``n`` points in ``[mu_lo_mv, mu_hi_mv]`` from the sign change of the
    second difference (linear interpolation between grid points), among points where the rate is
    above 0.  ``nan`` when the curve has no convex part there (``sigma = 0``: zero up to the
    threshold, a corner, then concave).
    """
    mu = np.linspace(mu_lo_mv, mu_hi_mv, n)
    rate = siegert_rate_hz(mu, sigma_mv, **lif)
    d2 = np.diff(rate, 2)  # (n − 2,) second difference at mu[1:-1]
    firing = (rate[:-2] > 0) & (rate[1:-1] > 0) & (rate[2:] > 0)  # a kink from 0 is a threshold, not a foot
    convex = firing & (d2 > 1e-9 * rate.max())
    concave = firing & (d2 < -1e-9 * rate.max())
    if not convex.any() or not concave.any():
        return math.nan
    k = int(np.flatnonzero(convex)[-1])  # last convex point; concave from the next sign change on
    j = k + 1 + int(np.argmax(concave[k + 1 :]))
    x0, x1, y0, y1 = mu[k + 1], mu[j + 1], d2[k], d2[j]
    return float(x0 + (x1 - x0) * y0 / (y0 - y1))


# -- simulation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffusionRecord:
    """Spike counts of ``simulate_diffusion_lif``.

    ``counts`` (m, n_trials): spikes per neuron after the warm-up; ``rates_hz`` (m,) their mean rate;
    ``se_hz`` (m,) its standard error across trials; ``duration_ms`` the counting window.
    """

    mu_mv: np.ndarray
    sigma_mv: np.ndarray
    counts: np.ndarray
    duration_ms: float
    rates_hz: np.ndarray
    se_hz: np.ndarray


def simulate_diffusion_lif(
    mu_mv,
    sigma_mv,
    *,
    rng,
    n_trials=100,
    duration_ms=1000.0,
    warmup_ms=50.0,
    dt_ms=0.1,
    scheme="euler",
    bridge=True,
    tau_m_ms=10.0,
    v_rest_mv=-70.0,
    v_reset_mv=None,
    v_thresh_mv=-50.0,
    t_ref_ms=1.0,
    block_steps=256,
) -> DiffusionRecord:
    """Simulate ``n_trials`` independent LIF neurons for each ``(mu, sigma)`` pair under white-noise input.

    ``scheme="euler"`` (Euler–Maruyama): ``V += dt/tau (mu − V) + sigma √(dt/tau) ξ``.
    ``scheme="exact"``: the exact Ornstein–Uhlenbeck step
    ``V = mu + (V − mu) e^{−dt/tau} + sigma √((1 − e^{−2dt/tau}) / 2) ξ``.
    With ``bridge``, a neuron that ends a step below threshold still spikes with the Brownian-bridge
    probability ``exp(−2 (θ − V₀)(θ − V₁) / s²)`` that its path crossed in between (``s²`` the
    step's noise variance).  A spike resets ``V`` to ``V_r`` at the end of the step and clamps it for
    ``round(t_ref / dt)`` steps.  Neurons start at ``V_r``; spikes in the first ``warmup_ms`` are not
    counted.

    Parameters
    ----------
    mu_mv, sigma_mv : float or array (m,)
        Broadcast together; one row of ``counts`` per pair.
    rng : numpy.random.Generator
        The only source of randomness.
    """
    tau, theta, v_r, t_ref = _lif_params(tau_m_ms, v_rest_mv, v_reset_mv, v_thresh_mv, t_ref_ms)
    if scheme not in _SCHEMES:
        raise ConfigError(f"unknown scheme {scheme!r}; valid: {', '.join(_SCHEMES)}")
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not (dt_ms > 0 and duration_ms > 0 and warmup_ms >= 0 and int(n_trials) == n_trials and n_trials >= 1):
        raise ConfigError("dt_ms and duration_ms must be > 0, warmup_ms >= 0 and n_trials a positive integer")
    mu, sigma = (a.ravel() for a in np.broadcast_arrays(np.atleast_1d(mu_mv), np.atleast_1d(sigma_mv)))
    mu, sigma = mu.astype(np.float64), sigma.astype(np.float64)
    if (sigma < 0).any() or not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ConfigError("mu_mv must be finite and sigma_mv finite and >= 0")
    m, n_trials = mu.size, int(n_trials)
    mu_n = np.repeat(mu, n_trials)  # (M,) one entry per simulated neuron
    if scheme == "euler":
        decay, noise_sd = 1.0 - dt_ms / tau, np.repeat(sigma, n_trials) * math.sqrt(dt_ms / tau)
    else:
        decay = math.exp(-dt_ms / tau)
        noise_sd = np.repeat(sigma, n_trials) * math.sqrt((1.0 - decay**2) / 2.0)
    drive = mu_n * (1.0 - decay)  # (M,)
    two_over_s2 = np.full(mu_n.size, np.inf)  # (M,) 2 / s²; no noise: no crossings between grid points
    np.divide(2.0, noise_sd**2, out=two_over_s2, where=noise_sd > 0)
    n_ref = round(t_ref / dt_ms)
    n_warm, n_count = round(warmup_ms / dt_ms), round(duration_ms / dt_ms)

    steps = (n_warm, n_count, n_ref, block_steps)
    counts = _integrate(mu_n.size, decay, drive, noise_sd, two_over_s2, theta, v_r, steps, bridge, rng)
    counts = counts.reshape(m, n_trials)
    per_trial_hz = counts / (n_count * dt_ms / 1000.0)
    se = per_trial_hz.std(axis=1, ddof=1) / math.sqrt(n_trials) if n_trials > 1 else np.full(m, np.nan)
    return DiffusionRecord(mu, sigma, counts, n_count * dt_ms, per_trial_hz.mean(axis=1), se)


def _integrate(size, decay, drive, noise_sd, two_over_s2, theta, v_r, steps, bridge, rng):
    """The step loop of ``simulate_diffusion_lif``: spike counts (size,) after the warm-up.

    One step: ``V ← V decay + drive + noise_sd ξ`` for every neuron, refractory ones clamped at
    ``V_r``; a spike when ``V ≥ θ`` at the step's end, or (``bridge``) when a uniform draw falls
    below the bridge-crossing probability.  Noise is drawn in blocks of ``block_steps`` steps.
    """
    n_warm, n_count, n_ref, block_steps = steps
    v = np.full(size, v_r)  # (M,)
    ref_left = np.zeros(size, dtype=np.int64)  # steps of refractoriness still to serve
    counts = np.zeros(size, dtype=np.int64)
    n_total = n_warm + n_count
    for start in range(0, n_total, block_steps):
        k = min(block_steps, n_total - start)
        xi = rng.standard_normal((k, size))  # (k, M)
        uni = rng.random((k, size)) if bridge else None
        for j in range(k):
            refractory = ref_left > 0
            v_old = v
            v = v_old * decay + drive + noise_sd * xi[j]
            v[refractory] = v_r
            ref_left -= refractory
            spike = v >= theta
            if bridge:
                with np.errstate(over="ignore", invalid="ignore"):
                    p_cross = np.exp(-(theta - v_old) * (theta - v) * two_over_s2)
                spike |= uni[j] < p_cross
            spike &= ~refractory
            v[spike] = v_r
            ref_left[spike] = n_ref
            if start + j >= n_warm:
                counts += spike
    return counts
