"""The runs of the ``lif`` experiment: one pure function per part, ``(cfg, key) -> JSON-able dict``.

Every function takes its randomness from ``numpy.random.default_rng`` seeded from the key, and
returns plain lists and numbers.  The neuron is ``neuronet.bio.lif.LIFPopulation`` (exact
integration, exact spike times) unless a part says otherwise; ``mu`` is always the mean drive as
a voltage above rest, ``mu = tau_m Σ_k w_k r_k`` for synaptic input (w in mV, r in spikes/ms) or
``R I`` for a current, so that every part shares one x-axis with Siegert's formula.

Parts
-----
``mixed``
    Mixed excitatory and inhibitory Poisson inputs with signed weights (Dale: each input is one
    or the other), delivered as voltage jumps.  Random patterns whose net drive Σ w r and whose
    total drive Σ |w| r vary independently, each neuron paired with a twin that gets the same
    excitatory events and no inhibitory ones; plus a ladder of growing drive for the saturation.
``noise`` / ``noiseless`` / ``siegert``
    The rate against the mean drive on a *linear* grid: white-noise input (the diffusion limit of
    many small Poisson inputs, ``bio.siegert.simulate_diffusion_lif``), constant current, and
    Siegert's formula for the noisy case.
``fi``
    f–I curves (constant current) for several membrane time constants and refractory periods.
``downstream``
    A downstream neuron D, held below threshold by noisy background input, receives the spikes
    of one upstream neuron U through a 1 mV synapse.  U is driven by currents over three decades;
    its spike train is the exact regular LIF train (``analytic_rate_hz``), once with the
    refractory period (rate < 1/t_ref) and once without (rate grows without bound).
``leak``
    A fixed number of input spikes, together more than enough to reach threshold, arriving as
    Poisson trains of different rates, into a leaky neuron and into one without leak.
"""

from __future__ import annotations

import math

import numpy as np

from ..bio.lif import LIFPopulation, SpikeInput, analytic_rate_hz
from ..bio.siegert import diffusion_params, siegert_rate_hz, simulate_diffusion_lif

__all__ = ["MEASURES", "lif_params", "mu_grid", "theta_mv"]


def lif_params(cfg, **changes) -> dict:
    """The neuron's parameters from the config (``changes`` override, e.g. another ``tau_m_ms``)."""
    p = {
        "tau_m_ms": cfg.tau_m_ms,
        "r_mohm": cfg.r_mohm,
        "v_rest_mv": cfg.v_rest_mv,
        "v_thresh_mv": cfg.v_thresh_mv,
        "t_ref_ms": cfg.t_ref_ms,
    }
    p.update(changes)
    return p


def theta_mv(cfg) -> float:
    """Threshold above rest: the mean drive at which a noiseless neuron starts to fire."""
    return cfg.v_thresh_mv - cfg.v_rest_mv


def mu_grid(cfg) -> np.ndarray:
    """Mean drives (mV above rest) of the noise parts: a fine linear grid, then ``mu_far_mv`` towards the ceiling."""
    far = np.asarray(cfg.mu_far_mv, dtype=float)
    return np.concatenate([np.linspace(cfg.mu_lo_mv, cfg.mu_hi_mv, cfg.n_mu), far[far > cfg.mu_hi_mv]])


def _siegert_params(cfg) -> dict:
    p = lif_params(cfg)
    del p["r_mohm"]
    return p


def _rng(*parts):
    return np.random.default_rng([int(p) for p in parts])


def _poisson_events(rng, w_mv, rates_hz, duration_ms, target):
    """Events of independent Poisson inputs (one per entry of ``w_mv``/``rates_hz``) onto neuron ``target``."""
    counts = rng.poisson(np.asarray(rates_hz) * duration_ms / 1000.0)  # (m,)
    times = rng.uniform(0.0, duration_ms, int(counts.sum()))
    return times, np.full(times.size, target, dtype=np.int64), np.repeat(w_mv, counts)


def _counted_rates(rec, n, warmup_ms, duration_ms):
    """Spikes per second of each of ``n`` neurons after ``warmup_ms``."""
    late = rec.spike_time_ms >= warmup_ms
    return np.bincount(rec.spike_neuron[late], minlength=n) / (duration_ms / 1000.0)


# -- mixed excitatory and inhibitory input ------------------------------------------------------
def _input_set(cfg, rng, total_mv, exc_share):
    """Weights (m,) in mV, signed, and rates (m,) in Hz of one neuron's inputs.

    ``exc_share`` of the total drive ``tau Σ |w| r = total_mv`` comes from the excitatory inputs.
    """
    w_e = rng.uniform(*cfg.w_exc_mv, cfg.n_exc_inputs)
    w_i = -rng.uniform(*cfg.w_inh_mv, cfg.n_inh_inputs)
    u_e, u_i = rng.uniform(0.0, 1.0, cfg.n_exc_inputs), rng.uniform(0.0, 1.0, cfg.n_inh_inputs)
    tau = cfg.tau_m_ms
    r_e = u_e * exc_share * total_mv / (tau * np.sum(w_e * u_e)) * 1000.0  # Hz
    r_i = u_i * (1.0 - exc_share) * total_mv / (tau * np.sum(-w_i * u_i)) * 1000.0
    return np.concatenate([w_e, w_i]), np.concatenate([r_e, r_i]), cfg.n_exc_inputs


def measure_mixed(cfg, key):
    """Patterns (each with an excitation-only twin) and a ladder of growing drive, one population."""
    rng = _rng(key["seed"], 1)
    n_pat, tau = cfg.n_patterns, cfg.tau_m_ms
    lo, hi = cfg.drive_range_mv
    totals = np.exp(rng.uniform(math.log(lo), math.log(hi), n_pat))
    shares = rng.uniform(0.0, 1.0, n_pat)
    ladder = np.asarray(cfg.ladder_mu_mv, dtype=float)
    share = cfg.ladder_exc_share
    inputs = [_input_set(cfg, rng, t, s) for t, s in zip(totals, shares)]
    inputs += [_input_set(cfg, rng, m / (2.0 * share - 1.0), share) for m in ladder]
    n = 2 * n_pat + ladder.size  # patterns, their excitation-only twins, the ladder
    span = cfg.warmup_ms + cfg.mixed_duration_ms
    events = []
    for j, (w, r, _n_e) in enumerate(inputs):
        t, g, ww = _poisson_events(rng, w, r, span, j if j < n_pat else j + n_pat)
        events.append((t, g, ww))
        if j < n_pat:  # the twin: the same excitatory events, no inhibitory ones
            keep = ww > 0
            events.append((t[keep], np.full(int(keep.sum()), j + n_pat, dtype=np.int64), ww[keep]))
    spikes = SpikeInput(*(np.concatenate([e[k] for e in events]) for k in range(3)))
    rec = LIFPopulation(n, **lif_params(cfg), dt_ms=cfg.dt_ms).run(span, spikes=spikes)
    rates = _counted_rates(rec, n, cfg.warmup_ms, cfg.mixed_duration_ms)
    mu, sigma = (np.array(v) for v in zip(*(diffusion_params(r, w, tau_m_ms=tau) for w, r, _ in inputs)))
    total = [tau * float(np.sum(np.abs(w) * r)) / 1000.0 for w, r, _ in inputs]
    siegert = np.atleast_1d(siegert_rate_hz(mu[:n_pat], sigma[:n_pat], **_siegert_params(cfg)))
    return {
        "mu_mv": mu[:n_pat].tolist(),
        "total_mv": total[:n_pat],
        "sigma_mv": sigma[:n_pat].tolist(),
        "siegert_hz": siegert.tolist(),
        "rate_hz": rates[:n_pat].tolist(),
        "rate_exc_only_hz": rates[n_pat : 2 * n_pat].tolist(),
        "ladder_mu_mv": mu[n_pat:].tolist(),
        "ladder_rate_hz": rates[2 * n_pat :].tolist(),
        "input_events_per_s": float(sum(np.sum(r) for _, r, _ in inputs)),
    }


# -- the rate against the mean drive, with and without noise ------------------------------------
def measure_noise(cfg, key):
    """White-noise input of amplitude ``sigma`` at every mean drive of the grid (``n_noise_trials`` neurons each)."""
    p = _siegert_params(cfg)
    rec = simulate_diffusion_lif(
        mu_grid(cfg),
        key["sigma"],
        rng=_rng(key["seed"], 2, round(1000 * key["sigma"])),
        n_trials=cfg.n_noise_trials,
        duration_ms=cfg.noise_duration_ms,
        warmup_ms=cfg.warmup_ms,
        dt_ms=cfg.dt_ms,
        scheme="exact",
        bridge=True,
        **p,
    )
    return {"rate_hz": rec.rates_hz.tolist(), "se_hz": rec.se_hz.tolist()}


def measure_noiseless(cfg, key):
    """Constant current ``mu / R`` at every mean drive of the grid; the simulation against the closed form."""
    mu = mu_grid(cfg)
    i_na = mu / cfg.r_mohm
    rec = LIFPopulation(mu.size, **lif_params(cfg), dt_ms=cfg.dt_ms).run(cfg.noise_duration_ms, i_na=i_na)
    analytic = analytic_rate_hz(i_na, **lif_params(cfg))
    sim = rec.isi_rates_hz()
    both = (analytic > 0) & (rec.spike_counts >= 2)
    err = np.abs(sim[both] / analytic[both] - 1.0)
    return {
        "rate_hz": sim.tolist(),
        "analytic_hz": analytic.tolist(),
        "spikes_below_threshold": int(rec.spike_counts[mu <= theta_mv(cfg)].sum()),
        "max_rel_error": float(err.max()) if err.size else None,
    }


def measure_siegert(cfg, key):
    """Siegert's rate at every mean drive of the grid for noise amplitude ``sigma``."""
    return {"rate_hz": np.atleast_1d(siegert_rate_hz(mu_grid(cfg), key["sigma"], **_siegert_params(cfg))).tolist()}


# -- f–I curves across tau_m and t_ref ----------------------------------------------------------
def fi_currents(cfg) -> np.ndarray:
    """Log-spaced currents (nA) of the f–I curves, from just above the rheobase to ``fi_i_max_na``."""
    rheobase = theta_mv(cfg) / cfg.r_mohm
    return np.geomspace(1.25 * rheobase, cfg.fi_i_max_na, cfg.n_fi_currents)


def measure_fi(cfg, key):
    """One f–I curve per refractory period, at membrane time constant ``key["tau"]``."""
    i_na = fi_currents(cfg)
    out = {"rate_hz": [], "analytic_hz": [], "max_rel_error": []}
    for t_ref in cfg.fi_t_refs_ms:
        p = lif_params(cfg, tau_m_ms=key["tau"], t_ref_ms=t_ref)
        rec = LIFPopulation(i_na.size, **p, dt_ms=cfg.dt_ms).run(cfg.fi_duration_ms, i_na=i_na)
        sim, analytic = rec.isi_rates_hz(), analytic_rate_hz(i_na, **p)
        both = rec.spike_counts >= 2
        out["rate_hz"].append(sim.tolist())
        out["analytic_hz"].append(analytic.tolist())
        out["max_rel_error"].append(float(np.max(np.abs(sim[both] / analytic[both] - 1.0))))
    return out


# -- the drive a neuron passes downstream -------------------------------------------------------
def upstream_currents(cfg) -> np.ndarray:
    """Currents (nA) driving the upstream neuron, log-spaced over ``up_i_range_na``."""
    return np.geomspace(*cfg.up_i_range_na, cfg.n_up_levels)


def _regular_train(rate_hz, duration_ms, phase):
    """Spike times (ms) of a regular train at ``rate_hz`` on ``[0, duration_ms)``, the first at ``phase`` × ISI."""
    if rate_hz <= 0:
        return np.zeros(0)
    isi = 1000.0 / rate_hz
    return (phase + np.arange(math.ceil(duration_ms / isi))) * isi


def measure_downstream(cfg, key):
    """D's rate when U fires with (bounded) and without (unbounded) a refractory period, at each input to U.

    Neurons of D: ``[0, L)`` fed by the bounded U at level k, ``[L, 2L)`` by the unbounded U,
    ``2L`` by nothing (its background rate).  Neurons k and L + k get the same background noise.
    """
    rng = _rng(key["seed"], 5)
    i_up = upstream_currents(cfg)
    n_lv = i_up.size
    span = cfg.warmup_ms + cfg.down_duration_ms
    up_bounded = analytic_rate_hz(i_up, **lif_params(cfg))
    up_unbounded = analytic_rate_hz(i_up, **lif_params(cfg, t_ref_ms=0.0))
    phases = rng.uniform(0.0, 1.0, n_lv)
    trains = [_regular_train(r, span, ph) for r, ph in zip(up_bounded, phases)]
    trains += [_regular_train(r, span, ph) for r, ph in zip(up_unbounded, phases)]
    trains.append(np.zeros(0))
    spikes = SpikeInput.from_trains(trains, cfg.syn_w_mv)
    # white-noise background held for one step: the free membrane has mean mu and sd sigma/√2 (module siegert)
    n_steps = round(span / cfg.dt_ms)
    a = math.exp(-cfg.dt_ms / cfg.tau_m_ms)
    s = cfg.down_sigma_mv * math.sqrt((1.0 + a) / (2.0 * (1.0 - a)))
    noise = cfg.down_mu_mv + s * rng.standard_normal((n_steps, n_lv + 1))  # (n_steps, L + 1)
    drive_mv = np.concatenate([noise[:, :n_lv], noise[:, :n_lv], noise[:, n_lv:]], axis=1)  # (n_steps, 2L + 1)
    rec = LIFPopulation(2 * n_lv + 1, **lif_params(cfg), dt_ms=cfg.dt_ms).run(
        span, i_na=drive_mv / cfg.r_mohm, spikes=spikes
    )
    rates = _counted_rates(rec, 2 * n_lv + 1, cfg.warmup_ms, cfg.down_duration_ms)
    return {
        "up_rate_bounded_hz": up_bounded.tolist(),
        "up_rate_unbounded_hz": up_unbounded.tolist(),
        "down_rate_bounded_hz": rates[:n_lv].tolist(),
        "down_rate_unbounded_hz": rates[n_lv : 2 * n_lv].tolist(),
        "down_rate_background_hz": float(rates[-1]),
    }


# -- slow input leaks away ----------------------------------------------------------------------
def leak_rates(cfg) -> np.ndarray:
    """Input rates (Hz) of the leak part, log-spaced."""
    return np.geomspace(*cfg.leak_rate_range_hz, cfg.n_leak_rates)


def measure_leak(cfg, key):
    """Fraction of trials in which ``n_input_spikes`` jumps of ``w_mv`` make the neuron fire, per input rate.

    Trial ``k`` of rate ``j`` is neuron ``j · n + k``; the first input spike arrives at 5 ms, the
    intervals are exponential.  The same trains go into the leaky neuron and the one without leak.
    """
    rng = _rng(key["seed"], 6)
    rates, n_tr = leak_rates(cfg), cfg.n_leak_trials
    trains = []
    for rate in rates:
        for _ in range(n_tr):
            isi = rng.exponential(1000.0 / rate, cfg.n_input_spikes - 1)
            trains.append(5.0 + np.concatenate([[0.0], np.cumsum(isi)]))
    spikes = SpikeInput.from_trains(trains, cfg.w_mv)
    span = max(t[-1] for t in trains) + 5.0 * cfg.tau_m_ms
    out = {}
    for arm, tau in (("leak", cfg.tau_m_ms), ("no_leak", cfg.no_leak_tau_ms)):
        rec = LIFPopulation(len(trains), **lif_params(cfg, tau_m_ms=tau), dt_ms=cfg.dt_ms).run(span, spikes=spikes)
        fired = (rec.spike_counts > 0).reshape(rates.size, n_tr)
        out[f"p_fire_{arm}"] = fired.mean(axis=1).tolist()
    out["input_span_ms"] = [
        float(np.median([t[-1] - t[0] for t in trains[j * n_tr : (j + 1) * n_tr]])) for j in range(rates.size)
    ]
    return out


MEASURES = {
    "mixed": measure_mixed,
    "noise": measure_noise,
    "noiseless": measure_noiseless,
    "siegert": measure_siegert,
    "fi": measure_fi,
    "downstream": measure_downstream,
    "leak": measure_leak,
}
