"""The leaky integrate-and-fire neuron against the lecture's unit: weighted sum, saturating rate, leak.

The lecture (lines 82–88) maps the unit onto a neuron: "linear combination of inputs ⟺
summation", "logistic/sigmoid function ⟺ firing rate saturation: a neuron can't fire more
than 1000 times a second, nor less than zero times a second.  This limits its ability to
overpower downstream neurons", and "the neuron body voltage also decays with time, so if the
action potentials are coming in slowly enough, the neuron might not fire at all".  Tested with
``neuronet.bio.lif`` (exact integration) and ``neuronet.bio.siegert`` (noisy input):

* **weighted sum with signed weights.**  Mixed excitatory and inhibitory Poisson inputs
  (voltage jumps, Dale: each input one sign).  The rate rises with the net drive
  ``mu = tau_m Σ w r`` (Spearman), follows the *signed* sum better than the unsigned
  ``tau_m Σ |w| r`` (per-seed ρ, paired), and removing the inhibitory inputs raises it (paired).
* **saturation.**  Along a ladder of growing drive the gain falls (top gain / middle gain
  below ``saturation_gain_ratio_max``) and no rate reaches ``1/t_ref``; f–I curves for three
  ``tau_m`` and three ``t_ref`` all stay below, and approach, ``1/t_ref``: the ceiling is the
  refractory period's, whatever ``tau_m``.
* **the sigmoid needs noise.**  In *linear* drive the noiseless rate is 0 up to threshold and
  concave from there (a hard threshold, no convex foot: not a sigmoid).  With white-noise input
  (the diffusion limit of many small inputs) the rate has a convex foot and a concave top — a
  sigmoid — and matches Siegert's formula.
* **bounded drive downstream.**  A downstream neuron fed by one neuron through a 1 mV synapse is
  never overpowered, however strongly that neuron is driven, while the same neuron without a
  refractory period (its rate unbounded) drives it to hundreds of spikes per second.
* **slow input leaks away.**  20 input spikes of 2 mV (40 mV in all, twice the gap to
  threshold) never fire the neuron when they come slowly, and always do when fast; a neuron
  without leak fires at every rate.

The runs live in ``lif_runs``; the match of the simulation with the closed-form rate (to ~1e-14)
is kept as a sanity table, not a verdict: it checks the integrator, not the biology.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..stats import Check, helps, mean_ci, spearman
from .design import Design, register_design
from .lif_runs import MEASURES, leak_rates, mu_grid, theta_mv

CLAIM = (
    "A neuron sums its inputs (excitatory = positive, inhibitory = negative weights) and its firing rate "
    "saturates like a sigmoid: it can't fire more than 1000 times a second nor less than 0, which limits its "
    "ability to overpower downstream neurons; slow input leaks away without firing it."
)


@dataclass(frozen=True)
class Config:
    seeds: tuple = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    dt_ms: float = 0.1
    tau_m_ms: float = 10.0
    r_mohm: float = 10.0
    v_rest_mv: float = -70.0  # reset = rest
    v_thresh_mv: float = -50.0
    t_ref_ms: float = 1.0  # the lecture's 1000 spikes/s
    warmup_ms: float = field(default=50.0, metadata={"low": 0})  # spikes before this are not counted
    # mixed excitatory / inhibitory Poisson input
    n_patterns: int = 24
    n_exc_inputs: int = 80
    n_inh_inputs: int = 20
    w_exc_mv: tuple = (0.25, 0.75)  # jump per spike, uniform in this range
    w_inh_mv: tuple = (0.5, 1.5)  # magnitude; the jump is negative
    drive_range_mv: tuple = (5.0, 300.0)  # tau Σ |w| r, log-uniform
    ladder_mu_mv: tuple = (25.0, 50.0, 100.0, 200.0, 400.0)  # net drives of the saturation ladder (>= 4, rising)
    ladder_exc_share: float = 0.8
    mixed_duration_ms: float = 500.0
    saturation_gain_ratio_max: float = 0.5  # gain 200→400 mV / gain 50→100 mV; 1 for a linear unit
    # rate against mean drive, linear grid
    noise_sigmas_mv: tuple = (2.0, 5.0)
    mu_lo_mv: float = -10.0
    mu_hi_mv: float = 100.0
    n_mu: int = 23
    mu_far_mv: tuple = (150.0, 200.0, 300.0, 400.0)  # coarser, towards the ceiling
    n_noise_trials: int = 10
    noise_duration_ms: float = 500.0
    foot_mu_mv: tuple = (0.0, 10.0, 20.0)  # θ − 20, θ − 10, θ: convex here for a sigmoid, flat 0 without noise
    top_mu_mv: tuple = (40.0, 70.0, 100.0)  # concave here
    siegert_rel_tol: float = 0.05
    siegert_mixed_tol: float = 0.1  # median relative miss of Siegert's rate for the mixed-input patterns
    siegert_min_hz: float = 5.0  # patterns predicted to fire at least this are compared
    siegert_abs_tol_hz: float = 1.0
    # f–I curves
    fi_taus_ms: tuple = (5.0, 10.0, 20.0)
    fi_t_refs_ms: tuple = (0.5, 1.0, 2.0)
    n_fi_currents: int = 10
    fi_i_max_na: float = 1.0e4
    fi_duration_ms: float = 200.0
    ceiling_fraction: float = 0.95  # the rate at fi_i_max_na reaches this fraction of 1/t_ref
    # downstream
    up_i_range_na: tuple = (2.5, 1000.0)
    n_up_levels: int = 8
    syn_w_mv: float = 1.0
    down_mu_mv: float = 6.0
    down_sigma_mv: float = 3.0
    down_duration_ms: float = 500.0
    overpower_hz: float = 100.0  # D "overpowered": firing above this (its background alone: ~0)
    # slow input
    n_input_spikes: int = 20
    w_mv: float = 2.0
    leak_rate_range_hz: tuple = (50.0, 5000.0)
    n_leak_rates: int = 8
    n_leak_trials: int = 10
    no_leak_tau_ms: float = 1.0e9
    leak_p_max: float = 0.05  # "never fires": at most this fraction of slow trials fire

    @classmethod
    def quick(cls):
        return cls(
            seeds=(0, 1, 2),
            n_patterns=16,
            mixed_duration_ms=300.0,
            n_noise_trials=5,
            noise_duration_ms=300.0,
            fi_taus_ms=(5.0, 20.0),
            n_fi_currents=6,
            fi_duration_ms=100.0,
            down_duration_ms=300.0,
        )


def _parts(measured):
    """``{part: [(key, data), ...]}``, runs that diverged left out (none of these parts can diverge)."""
    out = {}
    for key, data in measured:
        if "diverged" not in data:
            out.setdefault(key["part"], []).append((key, data))
    return out


def _upper(x):
    m = mean_ci(x)
    return m.mean if m.ci is None else m.ci[1]


def _lower(x):
    m = mean_ci(x)
    return m.mean if m.ci is None else m.ci[0]


def _rank_rho(x, y):
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic) if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan")


# -- checks -----------------------------------------------------------------------------------------
def _mixed_checks(cfg, runs):
    data = [d for _, d in runs]
    mu = np.concatenate([d["mu_mv"] for d in data])
    rate = np.concatenate([d["rate_hz"] for d in data])  # (seeds × patterns,) each pattern its own neuron
    rho_signed = [_rank_rho(d["mu_mv"], d["rate_hz"]) for d in data]
    rho_unsigned = [_rank_rho(d["total_mv"], d["rate_hz"]) for d in data]
    ok = [i for i, (a, b) in enumerate(zip(rho_signed, rho_unsigned)) if np.isfinite(a) and np.isfinite(b)]
    exc_only = np.concatenate([d["rate_exc_only_hz"] for d in data])
    predicted = np.concatenate([d["siegert_hz"] for d in data])
    firing = predicted >= cfg.siegert_min_hz
    rel = np.abs(rate[firing] - predicted[firing]) / predicted[firing]
    median_rel = float(np.median(rel)) if rel.size else float("nan")
    return [
        spearman(
            mu,
            rate,
            direction="rises",
            rng=0,
            name="rate rises with Σ w r",
            claim="with mixed excitatory (w > 0) and inhibitory (w < 0) Poisson inputs the rate rises with the "
            "signed weighted sum mu = τ Σ w r",
            statistic="Spearman ρ of rate vs τ Σ w r over all patterns",
            could_fail="a rate unrelated to the signed sum, e.g. if inhibitory jumps excited the neuron",
        ),
        helps(
            [rho_signed[i] for i in ok],
            [rho_unsigned[i] for i in ok],
            name="the sign of the weight matters",
            claim="the rate follows the signed sum τ Σ w r better than the unsigned τ Σ |w| r",
            statistic="mean paired difference ρ(rate, Σ w r) − ρ(rate, Σ |w| r) over seeds",
            could_fail="inhibitory inputs acting like excitatory ones (then Σ |w| r would rank the rates as well)",
        ),
        Check(
            name="the rate is Siegert's function of the sums",
            claim="the rate with mixed signed inputs is Siegert's rate at mean τ Σ w r and variance τ Σ w² r "
            "(the diffusion approximation): the f in rate = f(Σ w r)",
            statistic=f"median |rate − Siegert| / Siegert over patterns predicted to fire ≥ {cfg.siegert_min_hz:g} Hz",
            value=median_rel,
            ci=None,
            threshold=f"≤ {cfg.siegert_mixed_tol:g}",
            n=int(rel.size),
            holds=bool(rel.size >= 3 and median_rel <= cfg.siegert_mixed_tol),
            could_fail="a rate that depends on the inputs otherwise than through their summed mean and variance "
            "(e.g. inhibition acting divisively, or jumps too large for the diffusion limit)",
        ),
        helps(
            rate,
            exc_only,
            direction="less",
            name="inhibition subtracts",
            claim="adding the inhibitory inputs (negative weights) to the same excitatory input lowers the rate",
            statistic="mean paired difference of the rate (Hz), with − without the inhibitory inputs, over all "
            "patterns (each an independent neuron and input set)",
            could_fail="inhibition whose added fluctuations outweigh its negative mean, raising the rate",
        ),
    ]


def _saturation_check(cfg, runs):
    data = [d for _, d in runs]
    ceiling = 1000.0 / cfg.t_ref_ms
    gain_ratio = []
    for d in data:
        m, r = np.asarray(d["ladder_mu_mv"]), np.asarray(d["ladder_rate_hz"])
        gain_ratio.append(((r[-1] - r[-2]) / (m[-1] - m[-2])) / max((r[2] - r[1]) / (m[2] - m[1]), 1e-12))
    top = max(max(d["ladder_rate_hz"] + d["rate_hz"] + d["rate_exc_only_hz"]) for d in data)
    return Check(
        name="the rate saturates below 1/t_ref",
        claim="at large drive the gain (Hz per mV of drive) falls well below its mid-range value, and the rate "
        f"stays below 1/t_ref = {ceiling:g}/s",
        statistic=f"gain (Hz/mV) from {cfg.ladder_mu_mv[-2]:g} to {cfg.ladder_mu_mv[-1]:g} mV / gain from "
        f"{cfg.ladder_mu_mv[1]:g} to {cfg.ladder_mu_mv[2]:g} mV (mean over seeds)",
        value=float(np.mean(gain_ratio)),
        ci=mean_ci(gain_ratio).ci,
        threshold=f"upper 95% CI < {cfg.saturation_gain_ratio_max:g} and every rate < {ceiling:g}/s "
        f"(highest: {top:.0f}/s)",
        n=len(gain_ratio),
        holds=bool(_upper(gain_ratio) < cfg.saturation_gain_ratio_max and top < ceiling),
        could_fail="a non-saturating (linear or threshold-linear) rate keeps its gain: ratio ≥ 1",
    )


def _noise_curves(cfg, runs, field="rate_hz"):
    """``{sigma: (n_seeds, n_mu)}`` of ``field`` (rates or their standard errors) of the noise runs."""
    out = {}
    for key, d in runs:
        out.setdefault(key["sigma"], []).append(d[field])
    return {s: np.asarray(v, dtype=float) for s, v in out.items()}


def _second_diff(cfg, rates, at):
    """Second difference r(a) − 2 r(b) + r(c) of each row of ``rates`` at the equally spaced drives ``at``."""
    grid = mu_grid(cfg)
    r = np.array([[np.interp(m, grid, row) for m in at] for row in np.atleast_2d(rates)])  # (rows, 3)
    return r[:, 0] - 2.0 * r[:, 1] + r[:, 2]


def _noise_checks(cfg, runs, siegert_runs, noiseless):
    curves, errors = _noise_curves(cfg, runs), _noise_curves(cfg, runs, "se_hz")
    theory = {k["sigma"]: np.asarray(d["rate_hz"]) for k, d in siegert_runs}
    worst, where = 0.0, ""
    fine = mu_grid(cfg) <= cfg.mu_hi_mv  # above, the simulation's t_ref on the time grid biases it 2–4% low
    for s, rates in curves.items():
        se = np.sqrt(np.sum(errors[s] ** 2, axis=0)) / len(rates)  # (n_mu,) standard error of the seed mean
        allowed = cfg.siegert_rel_tol * theory[s] + cfg.siegert_abs_tol_hz + 3.0 * se
        dev = np.abs(rates.mean(axis=0) - theory[s]) / allowed
        dev = np.where(fine, dev, 0.0)
        k = int(np.argmax(dev))
        if dev[k] >= worst:
            worst, where = float(dev[k]), f"σ = {s:g} mV, mu = {mu_grid(cfg)[k]:g} mV"
    n_seeds = min(len(r) for r in curves.values())
    foot = {s: _second_diff(cfg, r, cfg.foot_mu_mv) for s, r in curves.items()}
    top = {s: _second_diff(cfg, r, cfg.top_mu_mv) for s, r in curves.items()}
    sig_holds = n_seeds >= 2 and all(_lower(foot[s]) > 0 and _upper(top[s]) < 0 for s in curves)
    weakest = min(curves, key=lambda s: float(np.mean(foot[s])))
    flat = _second_diff(cfg, noiseless["rate_hz"], cfg.foot_mu_mv)[0]
    flat_top = _second_diff(cfg, noiseless["rate_hz"], cfg.top_mu_mv)[0]
    foot_txt = ", ".join(f"{m:g}" for m in cfg.foot_mu_mv)
    return [
        Check(
            name="noisy rate = Siegert's formula",
            claim="with white-noise input the simulated rate is Siegert's first-passage rate at every mean drive",
            statistic="largest |simulated − Siegert| / (tolerance) over mean drives and σ (seeds pooled)",
            value=worst,
            ci=None,
            threshold=f"≤ 1, tolerance {cfg.siegert_rel_tol:g} × Siegert + {cfg.siegert_abs_tol_hz:g} Hz + 3 SE, "
            f"for mu ≤ {cfg.mu_hi_mv:g} mV (worst at {where})",
            n=sum(len(r) for r in curves.values()),
            holds=worst <= 1.0,
            could_fail="a neuron that did not integrate the noisy drive as the diffusion model says "
            "(e.g. missed threshold crossings between steps: rates 10–20% low near threshold)",
            note=f"above {cfg.mu_hi_mv:g} mV (rates > 300/s) the simulation counts t_ref on its {cfg.dt_ms:g} ms "
            "grid and runs 2–4% low; those points are plotted, not judged",
        ),
        Check(
            name="with noise the rate is a sigmoid in linear drive",
            claim="with noise the rate vs mean drive (linear axis) is convex at its foot and concave at its top",
            statistic=f"second difference of the rate (Hz) at mu = {foot_txt} mV (foot; σ = {weakest:g} mV, the "
            "weakest), mean over seeds",
            value=float(np.mean(foot[weakest])),
            ci=mean_ci(foot[weakest]).ci,
            threshold="for every σ > 0: 95% CI of the foot's second difference > 0 and of the top's "
            f"(mu = {', '.join(f'{m:g}' for m in cfg.top_mu_mv)} mV) < 0",
            n=n_seeds,
            holds=bool(sig_holds),
            could_fail="a hard threshold: without noise the foot's second difference is exactly "
            f"{flat:g} Hz (no firing below θ) and the curve is concave from θ on (top: {flat_top:.1f} Hz)",
            note="not a sigmoid without noise: in linear drive the noiseless rate is 0 up to θ, then concave",
        ),
    ]


def _ceiling_check(cfg, runs):
    worst_over, lowest_top, at = 0.0, np.inf, ""
    for key, d in runs:
        for t_ref, rates in zip(cfg.fi_t_refs_ms, d["rate_hz"]):
            frac = np.asarray(rates) * t_ref / 1000.0
            worst_over = max(worst_over, float(frac.max()))
            if frac[-1] < lowest_top:
                lowest_top, at = float(frac[-1]), f"τ_m = {key['tau']:g} ms, t_ref = {t_ref:g} ms"
    n = len(runs) * len(cfg.fi_t_refs_ms)
    return Check(
        name="the ceiling is 1/t_ref for every τ_m",
        claim="every f–I curve stays below 1/t_ref and approaches it for large input, whatever the membrane "
        "time constant",
        statistic=f"lowest rate × t_ref at {cfg.fi_i_max_na:g} nA over the (τ_m, t_ref) curves",
        value=lowest_top,
        ci=None,
        threshold=f"≥ {cfg.ceiling_fraction:g} (lowest at {at}) and every rate × t_ref < 1 (highest {worst_over:.4f})",
        n=n,
        holds=lowest_top >= cfg.ceiling_fraction and worst_over < 1.0,
        could_fail="a ceiling set by τ_m or the input instead of t_ref, or a rate above 1/t_ref",
        note="t_ref is built into the model: this shows that it alone sets the ceiling, and how far above threshold "
        "the rate comes near it",
    )


def _downstream_check(cfg, runs):
    bounded = [max(d["down_rate_bounded_hz"]) for _, d in runs]
    unbounded = [d["down_rate_unbounded_hz"][-1] for _, d in runs]
    holds = len(runs) >= 2 and _upper(bounded) < cfg.overpower_hz < _lower(unbounded)
    return Check(
        name="a bounded rate cannot overpower downstream",
        claim="a neuron driven ever harder never drives its target above "
        f"{cfg.overpower_hz:g}/s through a {cfg.syn_w_mv:g} mV synapse, while the same neuron without a "
        "refractory period (unbounded rate) does",
        statistic="largest downstream rate (Hz) over the upstream inputs, bounded upstream, mean over seeds",
        value=float(np.mean(bounded)),
        ci=mean_ci(bounded, lo=0.0).ci,
        threshold=f"upper 95% CI < {cfg.overpower_hz:g}/s, and the unbounded control's lower CI > "
        f"{cfg.overpower_hz:g}/s at {cfg.up_i_range_na[1]:g} nA (mean {np.mean(unbounded):.0f}/s)",
        n=len(runs),
        holds=bool(holds),
        could_fail="an upstream rate that kept growing with its input (as without t_ref) pushes the target past "
        f"{cfg.overpower_hz:g}/s",
    )


def _leak_checks(cfg, runs):
    slow = [d["p_fire_leak"][0] for _, d in runs]
    fast = [d["p_fire_leak"][-1] for _, d in runs]
    slow_no_leak = [d["p_fire_no_leak"][0] for _, d in runs]
    rates = leak_rates(cfg)
    total = cfg.n_input_spikes * cfg.w_mv
    return [
        Check(
            name="slow input never fires the neuron",
            claim=f"{cfg.n_input_spikes} input spikes of {cfg.w_mv:g} mV ({total:g} mV in all) never fire it at "
            f"{rates[0]:g} Hz, and always do at {rates[-1]:g} Hz",
            statistic=f"fraction of trials that fired at {rates[0]:g} Hz (mean over seeds)",
            value=float(np.mean(slow)),
            ci=mean_ci(slow, lo=0.0, hi=1.0).ci,
            threshold=f"upper 95% CI ≤ {cfg.leak_p_max:g}, and ≥ {1 - cfg.leak_p_max:g} at {rates[-1]:g} Hz "
            f"(mean {np.mean(fast):.2f})",
            n=len(runs),
            holds=_upper(slow) <= cfg.leak_p_max and _lower(fast) >= 1 - cfg.leak_p_max,
            could_fail=f"the slow spikes summing to threshold ({total:g} mV > θ = {theta_mv(cfg):g} mV) as they "
            "would without leak, or the fast ones failing too",
        ),
        helps(
            slow_no_leak,
            slow,
            name="the leak is what silences slow input",
            claim=f"the same slow trains fire a neuron without leak (τ_m = {cfg.no_leak_tau_ms:g} ms)",
            statistic=f"mean paired difference of the fraction fired at {rates[0]:g} Hz, no leak − leak",
            could_fail="slow trains failing for another reason (too little input, refractoriness): then the "
            "neuron without leak would stay silent too",
        ),
    ]


# -- the design -------------------------------------------------------------------------------------
@register_design
class LIF(Design):
    name = "lif"
    claim = CLAIM
    config_cls = Config
    order = 90

    def runs(self, cfg):
        seeds = [int(s) for s in cfg.seeds]
        keys = [{"part": "mixed", "seed": s} for s in seeds]
        keys += [{"part": "noise", "sigma": float(sg), "seed": s} for sg in cfg.noise_sigmas_mv for s in seeds]
        keys += [{"part": "noiseless"}] + [{"part": "siegert", "sigma": float(sg)} for sg in cfg.noise_sigmas_mv]
        keys += [{"part": "fi", "tau": float(t)} for t in cfg.fi_taus_ms]
        keys += [{"part": "downstream", "seed": s} for s in seeds]
        keys += [{"part": "leak", "seed": s} for s in seeds]
        return keys

    def measure(self, cfg, key):
        return MEASURES[key["part"]](cfg, key)

    def judge(self, cfg, measured):
        p = _parts(measured)
        return [
            *_mixed_checks(cfg, p["mixed"]),
            _saturation_check(cfg, p["mixed"]),
            *_noise_checks(cfg, p["noise"], p["siegert"], p["noiseless"][0][1]),
            _ceiling_check(cfg, p["fi"]),
            _downstream_check(cfg, p["downstream"]),
            *_leak_checks(cfg, p["leak"]),
        ]

    def present(self, cfg, measured, checks):
        from .lif_present import present

        return present(cfg, _parts(measured), checks)


__all__ = ["CLAIM", "LIF", "Config"]
