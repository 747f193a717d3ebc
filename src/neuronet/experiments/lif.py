"""Claim: the leaky integrate-and-fire neuron is where the sigmoid unit comes from.

The notes link the abstract unit to a neuron: its output is a firing rate, its weighted sum is
the membrane integrating (and leaking) its inputs, and "a neuron can't fire more than 1000
times a second", so the rate saturates like a sigmoid.  With ``neuronet.bio.lif``:

(a) the simulated rate–current curve matches the analytic LIF rate
    ``r = 1 / (t_ref + tau_m ln(RI / (RI - (v_thresh - v_rest))))`` within 1 % wherever the
    neuron fires (rate = 1 / mean interspike interval; crossing time solved inside the step);
(b) the rate stays below ``1 / t_ref`` (1000 spikes/s for t_ref = 1 ms) and approaches it for
    large currents;
(c) below the threshold current ``(v_thresh - v_rest) / R`` the neuron never fires;
(d) input spikes arriving slowly never make it fire, while the same number arriving quickly
    does (Poisson trains, one per seed; and regular trains against the analytic critical
    interval);
(e) a logistic curve fits the rate curve (R² reported), the biological origin of the sigmoid.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..bio.lif import LIFPopulation, SpikeInput, analytic_rate_hz, fit_logistic, threshold_current_na
from .base import Plot, Result, Series, experiment

CLAIM = (
    "A neuron's firing rate is the unit's output and its leaky integration of input is the weighted sum; "
    "a neuron can't fire more than 1000 times a second, so its rate saturates like a sigmoid. If input "
    "action potentials come in slowly enough, the neuron might not fire at all."
)


@dataclass(frozen=True)
class Config:
    seeds: tuple = (0, 1, 2, 3, 4)  # the Poisson input trains of (d)
    dt_ms: float = 0.1
    tau_m_ms: float = 10.0
    r_mohm: float = 10.0
    v_rest_mv: float = -70.0  # reset = rest, as the analytic formula assumes
    v_thresh_mv: float = -50.0
    t_ref_ms: float = 1.0
    spike_timing: str = "exact"  # how the crossing time inside a step is found
    # (a, b, e) the rate–current curve: log-spaced currents
    n_currents: int = 120
    i_min_na: float = 0.5
    i_max_na: float = 2000.0
    i_huge_na: float = 1.0e4  # for the ceiling
    rate_duration_ms: float = 2000.0
    rate_tolerance: float = 0.01
    ceiling_fraction: float = 0.99  # rate at i_huge_na must exceed this fraction of 1/t_ref
    # (c) below threshold
    n_subthreshold: int = 40
    subthreshold_duration_ms: float = 5000.0
    # (d) input spikes: voltage jumps of w_mv
    n_input_spikes: int = 20
    w_mv: float = 2.0
    slow_rate_hz: float = 50.0
    fast_rate_hz: float = 2000.0
    # regular intervals, multiples of dt (input times are rounded to the step grid)
    regular_isi_ms: tuple = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
    # (e) the logistic fit
    fit_r2_min: float = 0.99

    @classmethod
    def quick(cls):
        return cls(
            seeds=(0, 1, 2),
            n_currents=50,
            rate_duration_ms=1000.0,
            n_subthreshold=20,
            subthreshold_duration_ms=1000.0,
            regular_isi_ms=(0.4, 0.8, 0.9, 1.2, 2.0, 5.0, 20.0),
        )


def _params(cfg):
    return {
        "tau_m_ms": cfg.tau_m_ms,
        "r_mohm": cfg.r_mohm,
        "v_rest_mv": cfg.v_rest_mv,
        "v_thresh_mv": cfg.v_thresh_mv,
        "t_ref_ms": cfg.t_ref_ms,
    }


def _population(cfg, n, spike_timing=None):
    return LIFPopulation(n, **_params(cfg), dt_ms=cfg.dt_ms, spike_timing=spike_timing or cfg.spike_timing)


def _rel_err(measured, expected):
    return np.abs(measured / expected - 1.0)


# -- (a), (b): the rate–current curve ----------------------------------------------------------
def _rate_curve(cfg):
    currents = np.append(np.geomspace(cfg.i_min_na, cfg.i_max_na, cfg.n_currents), cfg.i_huge_na)  # (m,)
    analytic = analytic_rate_hz(currents, **_params(cfg))
    by_mode = {}
    for mode in dict.fromkeys((cfg.spike_timing, "exact", "linear", "none")):
        rec = _population(cfg, currents.size, mode).run(cfg.rate_duration_ms, i_na=currents)
        by_mode[mode] = {"isi_rate": rec.isi_rates_hz(), "count_rate": rec.rates_hz, "counts": rec.spike_counts}
    return currents, analytic, by_mode


def _agreement(analytic, run):
    defined = (analytic > 0) & (run["counts"] >= 2)  # the ISI rate needs two spikes
    err = _rel_err(run["isi_rate"][defined], analytic[defined])
    count_err = _rel_err(run["count_rate"][defined], analytic[defined])
    return defined, float(err.max()) if err.size else float("nan"), float(count_err.max()) if err.size else float("nan")


# -- (c): below threshold ----------------------------------------------------------------------
def _subthreshold(cfg):
    i_th = threshold_current_na(r_mohm=cfg.r_mohm, v_rest_mv=cfg.v_rest_mv, v_thresh_mv=cfg.v_thresh_mv)
    # from no current up to one part in 10^4 below the rheobase
    currents = np.linspace(0.0, i_th * (1 - 1e-4), cfg.n_subthreshold)
    pop = _population(cfg, currents.size)
    # v rises monotonically towards v_rest + R I, so the largest current gets closest to threshold
    rec = pop.run(cfg.subthreshold_duration_ms, i_na=currents, record_v=[currents.size - 1])
    return {
        "i_th_na": i_th,
        "currents": currents,
        "spikes": int(rec.spike_counts.sum()),
        "v_max_mv": float(rec.v_trace_mv.max()),
    }


# -- (d): slow vs fast input spikes ------------------------------------------------------------
def _poisson_train(rng, n, rate_hz, t0_ms):
    """``n`` spike times of a Poisson process of ``rate_hz``, the first at ``t0_ms``."""
    isi_ms = rng.exponential(1000.0 / rate_hz, n - 1)
    return t0_ms + np.concatenate([[0.0], np.cumsum(isi_ms)])


def _slow_fast(cfg):
    t0 = 5.0
    trains = []  # neuron 2s: slow train of seed s; 2s + 1: fast
    for seed in cfg.seeds:
        rng = np.random.default_rng(seed)
        trains.append(_poisson_train(rng, cfg.n_input_spikes, cfg.slow_rate_hz, t0))
        trains.append(_poisson_train(rng, cfg.n_input_spikes, cfg.fast_rate_hz, t0))
    duration = max(t[-1] for t in trains) + 5 * cfg.tau_m_ms
    pop = _population(cfg, len(trains))
    rec = pop.run(duration, spikes=SpikeInput.from_trains(trains, cfg.w_mv), record_v=[0, 1])
    rows = []
    for j, seed in enumerate(cfg.seeds):
        slow, fast = trains[2 * j], trains[2 * j + 1]
        rows.append(
            {
                "seed": seed,
                "input spikes": cfg.n_input_spikes,
                "slow: input span (ms)": round(float(slow[-1] - slow[0]), 1),
                "slow: output spikes": int(rec.spike_counts[2 * j]),
                "fast: input span (ms)": round(float(fast[-1] - fast[0]), 2),
                "fast: output spikes": int(rec.spike_counts[2 * j + 1]),
            }
        )
    return rows, rec, trains


def _critical_isi_ms(cfg):
    """Longest regular input interval that still reaches threshold with ``n_input_spikes`` jumps.

    After n jumps of w arriving every T the depolarisation peaks at ``w (1 - q^n) / (1 - q)``,
    ``q = exp(-T / tau_m)`` (each jump has decayed by q per interval); it falls as T grows.
    """
    gap = cfg.v_thresh_mv - cfg.v_rest_mv
    n, w = cfg.n_input_spikes, cfg.w_mv

    def peak(T):
        q = math.exp(-T / cfg.tau_m_ms)
        return w * (1 - q**n) / (1 - q)

    if n * w < gap:
        return 0.0  # even simultaneous input is too little
    lo, hi = 1e-9, 1e6  # peak(lo) ~ n w >= gap > peak(hi) ~ w
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if peak(mid) >= gap else (lo, mid)
    return lo


def _regular(cfg):
    isis = np.asarray(cfg.regular_isi_ms, dtype=float)
    t0 = 5.0
    trains = [t0 + isi * np.arange(cfg.n_input_spikes) for isi in isis]
    duration = max(t[-1] for t in trains) + 5 * cfg.tau_m_ms
    rec = _population(cfg, isis.size).run(duration, spikes=SpikeInput.from_trains(trains, cfg.w_mv))
    t_crit = _critical_isi_ms(cfg)
    predicted = isis < t_crit
    fired = rec.spike_counts > 0
    return isis, rec.spike_counts, t_crit, predicted, fired


# -- the experiment ----------------------------------------------------------------------------
@experiment("lif", CLAIM, Config, order=90)
def run(cfg: Config) -> Result:
    t_ref_s = cfg.t_ref_ms / 1000.0
    ceiling_hz = 1.0 / t_ref_s

    # (a) rate–current curve vs the analytic rate
    currents, analytic, by_mode = _rate_curve(cfg)
    main = by_mode[cfg.spike_timing]
    defined, err_a, count_err_a = _agreement(analytic, main)
    ok_a = bool(defined.any()) and err_a <= cfg.rate_tolerance
    mode_rows = []
    for mode, run_ in sorted(by_mode.items(), key=lambda kv: ("exact", "linear", "none").index(kv[0])):
        _, err, cerr = _agreement(analytic, run_)
        mode_rows.append(
            {
                "spike timing": mode,
                "max |ISI rate / analytic - 1|": err,
                "max |count rate / analytic - 1|": cerr,
                "within 1%": err <= cfg.rate_tolerance,
            }
        )

    # (b) the ceiling 1 / t_ref
    sim = main["isi_rate"]
    top = float(sim[-1])  # at i_huge_na
    monotone = bool(np.all(np.diff(sim[main["counts"] >= 2]) >= -1e-9 * ceiling_hz))
    ok_b = bool(sim.max() < ceiling_hz and top > cfg.ceiling_fraction * ceiling_hz and monotone)

    # (c) nothing below the threshold current
    sub = _subthreshold(cfg)
    ok_c = sub["spikes"] == 0 and sub["v_max_mv"] < cfg.v_thresh_mv

    # (d) slow vs fast input
    sf_rows, sf_rec, sf_trains = _slow_fast(cfg)
    isis, reg_counts, t_crit, predicted, fired = _regular(cfg)
    slow_silent = all(r["slow: output spikes"] == 0 for r in sf_rows)
    fast_fires = all(r["fast: output spikes"] > 0 for r in sf_rows)
    regular_match = bool(np.all(predicted == fired))
    ok_d = slow_silent and fast_fires and regular_match

    # (e) a logistic fitted to the simulated rate curve (the huge-current point is left out of the fit range)
    curve_i, curve_r = currents[:-1], sim[:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # curve_fit's covariance warnings
        fit = fit_logistic(curve_i, curve_r, log_x=True)
        try:
            fit_lin = fit_logistic(curve_i, curve_r, log_x=False)
        except RuntimeError:  # did not converge
            fit_lin = None
    ok_e = fit.r2 >= cfg.fit_r2_min

    i_th = sub["i_th_na"]
    verdicts = [
        {
            "statement": "(a) simulated rate = analytic LIF rate within 1% wherever defined",
            "measured": (
                f"max relative error {err_a:.2g} over {int(defined.sum())} currents "
                f"({cfg.spike_timing} crossing times, dt = {cfg.dt_ms:g} ms); without interpolation "
                f"{mode_rows[-1]['max |ISI rate / analytic - 1|']:.2g}"
            ),
            "criterion": f"≤ {cfg.rate_tolerance:g}",
            "verdict": "supported" if ok_a else "not supported",
        },
        {
            "statement": f"(b) rate saturates at 1/t_ref = {ceiling_hz:g} spikes/s",
            "measured": (
                f"max {sim.max():.1f} /s; {top:.1f} /s at {cfg.i_huge_na:g} nA; rising with current: {monotone}"
            ),
            "criterion": f"< {ceiling_hz:g} always, > {cfg.ceiling_fraction * ceiling_hz:g} at {cfg.i_huge_na:g} nA",
            "verdict": "supported" if ok_b else "not supported",
        },
        {
            "statement": f"(c) below the threshold current ({i_th:g} nA) it never fires",
            "measured": (
                f"{sub['spikes']} spikes from {cfg.n_subthreshold} currents in [0, {i_th * (1 - 1e-4):.4f}] nA "
                f"over {cfg.subthreshold_duration_ms / 1000:g} s; highest voltage {sub['v_max_mv']:.4f} mV"
            ),
            "criterion": f"0 spikes, v < {cfg.v_thresh_mv:g} mV",
            "verdict": "supported" if ok_c else "not supported",
        },
        {
            "statement": "(d) slow input spikes never make it fire; the same number arriving quickly does",
            "measured": (
                f"{cfg.n_input_spikes} jumps of {cfg.w_mv:g} mV: slow ({cfg.slow_rate_hz:g} Hz) → "
                f"{sum(r['slow: output spikes'] for r in sf_rows)} output spikes over {len(sf_rows)} seeds, "
                f"fast ({cfg.fast_rate_hz:g} Hz) → fired in "
                f"{sum(r['fast: output spikes'] > 0 for r in sf_rows)}/{len(sf_rows)}; regular trains fire "
                f"exactly when the interval < {t_crit:.3f} ms: {int((predicted == fired).sum())}/{isis.size}"
            ),
            "criterion": "slow: 0 spikes for every seed; fast: ≥ 1 for every seed; regular: as predicted",
            "verdict": "supported" if ok_d else "not supported",
        },
        {
            "statement": "(e) a logistic curve fits the rate–current curve",
            "measured": (
                f"logistic in log10(I): R² = {fit.r2:.4f}, largest miss {fit.max_abs_residual:.0f} /s "
                f"(at the abrupt onset)"
                + (f"; logistic in linear I: R² = {fit_lin.r2:.4f}" if fit_lin is not None else "")
            ),
            "criterion": f"R² ≥ {cfg.fit_r2_min:g}",
            "verdict": "supported" if ok_e else "not supported",
        },
    ]
    n_ok = sum(v["verdict"] == "supported" for v in verdicts)
    verdict = "supported" if n_ok == len(verdicts) else ("not supported" if n_ok == 0 else "mixed")
    failed = [v["statement"].split(")")[0] + ")" for v in verdicts if v["verdict"] != "supported"]
    reason = f"{n_ok} of {len(verdicts)} statements hold" + (
        f"; not: {', '.join(failed)}"
        if failed
        else f": rates match the analytic curve within {err_a:.1g}, stay below {ceiling_hz:g}/s and reach "
        f"{top:.0f}/s, nothing fires below {i_th:g} nA, slow input never fires while fast input does, "
        f"and a logistic fits the curve with R² = {fit.r2:.3f}"
    )

    # plots
    dense = np.geomspace(cfg.i_min_na, cfg.i_huge_na, 400)
    rate_plot = Plot(
        title="LIF firing rate vs input current: simulation, analytic rate, logistic fit",
        xlabel="input current I (nA, log scale)",
        ylabel="firing rate (spikes/s)",
        logx=True,
        series=[
            Series("simulated (1 / mean ISI)", currents.tolist(), sim.tolist(), style="points"),
            Series("analytic LIF rate", dense.tolist(), analytic_rate_hz(dense, **_params(cfg)).tolist()),
            Series(f"logistic in log10 I (R² = {fit.r2:.3f})", dense.tolist(), fit(dense).tolist()),
        ],
        hlines=[(ceiling_hz, f"1/t_ref = {ceiling_hz:g} /s")],
        vlines=[(i_th, f"threshold current {i_th:g} nA")],
        caption=(
            f"dt = {cfg.dt_ms:g} ms, {cfg.spike_timing} crossing times, {cfg.rate_duration_ms / 1000:g} s per "
            "current. The rate is zero up to the threshold current, rises steeply, then creeps towards "
            "1/t_ref: a sigmoid in log current."
        ),
    )
    trace_plots = []
    for col, label, rate in ((0, "slow", cfg.slow_rate_hz), (1, "fast", cfg.fast_rate_hz)):
        train = sf_trains[col]
        t_end = train[-1] + 3 * cfg.tau_m_ms
        keep = sf_rec.v_trace_t_ms <= t_end
        t, v = sf_rec.v_trace_t_ms[keep], sf_rec.v_trace_mv[keep, col]
        out = sf_rec.spike_time_ms[(sf_rec.spike_neuron == col) & (sf_rec.spike_time_ms <= t_end)]
        series = [
            Series("membrane voltage", np.round(t, 2).tolist(), np.round(v, 3).tolist()),
            Series(
                f"input spikes (+{cfg.w_mv:g} mV each)",
                train.tolist(),
                [cfg.v_rest_mv - 1.0] * train.size,
                style="points",
            ),
        ]
        if out.size:
            series.append(Series("output spikes", out.tolist(), [cfg.v_thresh_mv] * out.size, style="points"))
        trace_plots.append(
            Plot(
                title=(
                    f"{cfg.n_input_spikes} input spikes arriving {label}ly ({rate:g} Hz Poisson, seed {cfg.seeds[0]})"
                ),
                xlabel="time (ms)",
                ylabel="v (mV)",
                series=series,
                hlines=[(cfg.v_thresh_mv, "threshold")],
                caption=f"{out.size} output spike(s). Each input adds {cfg.w_mv:g} mV, which leaks away with "
                f"τ_m = {cfg.tau_m_ms:g} ms.",
            )
        )
    regular_plot = Plot(
        title=f"Output spikes vs interval between {cfg.n_input_spikes} regular input spikes",
        xlabel="input interval (ms, log scale)",
        ylabel="output spikes",
        logx=True,
        series=[Series("simulated", isis.tolist(), reg_counts.tolist())],
        vlines=[(t_crit, f"analytic critical interval {t_crit:.3f} ms")],
        caption="Above the critical interval each jump has leaked away too far before the next arrives.",
    )

    tables = [
        {"title": "Verdict per statement", "rows": verdicts},
        {"title": f"Rate accuracy by spike timing (same currents, dt = {cfg.dt_ms:g} ms)", "rows": mode_rows},
        {"title": "Slow vs fast input spikes (Poisson, per seed)", "rows": sf_rows},
        {
            "title": "Regular input trains",
            "rows": [
                {"input interval (ms)": float(i), "output spikes": int(c), "predicted to fire": bool(p)}
                for i, c, p in zip(isis, reg_counts, predicted)
            ],
        },
        {
            "title": "Logistic fit r(I) = a + b / (1 + exp(-(x - c) / d))",
            "rows": [
                {
                    "x": "log10(I / nA)",
                    "a (/s)": fit.a,
                    "b (/s)": fit.b,
                    "midpoint (nA)": fit.midpoint_na,
                    "d": fit.d,
                    "R²": fit.r2,
                    "largest miss (/s)": fit.max_abs_residual,
                }
            ]
            + (
                [
                    {
                        "x": "I (nA)",
                        "a (/s)": fit_lin.a,
                        "b (/s)": fit_lin.b,
                        "midpoint (nA)": fit_lin.midpoint_na,
                        "d": fit_lin.d,
                        "R²": fit_lin.r2,
                        "largest miss (/s)": fit_lin.max_abs_residual,
                    }
                ]
                if fit_lin is not None
                else []
            ),
        },
    ]
    metrics = {
        "rate_max_rel_error": err_a,
        "rate_max_rel_error_count_based": count_err_a,
        "rate_max_rel_error_no_interpolation": mode_rows[-1]["max |ISI rate / analytic - 1|"],
        "currents_compared": int(defined.sum()),
        "rate_max_hz": float(sim.max()),
        "rate_at_huge_current_hz": top,
        "ceiling_hz": ceiling_hz,
        "threshold_current_na": i_th,
        "subthreshold_spikes": sub["spikes"],
        "subthreshold_v_max_mv": sub["v_max_mv"],
        "slow_output_spikes": [r["slow: output spikes"] for r in sf_rows],
        "fast_output_spikes": [r["fast: output spikes"] for r in sf_rows],
        "critical_isi_ms": t_crit,
        "regular_trains_as_predicted": int((predicted == fired).sum()),
        "logistic_r2": fit.r2,
        "logistic_r2_linear_current": None if fit_lin is None else fit_lin.r2,
        "statements_supported": n_ok,
    }
    return Result(
        name="lif",
        claim=CLAIM,
        measurement=(
            f"LIF neurons (τ_m = {cfg.tau_m_ms:g} ms, R = {cfg.r_mohm:g} MΩ, v_rest = reset = "
            f"{cfg.v_rest_mv:g} mV, v_thresh = {cfg.v_thresh_mv:g} mV, t_ref = {cfg.t_ref_ms:g} ms) "
            f"integrated exactly with dt = {cfg.dt_ms:g} ms, spike times {cfg.spike_timing} "
            f"(crossing solved inside the step). Rate–current curve over {cfg.n_currents} currents "
            f"{cfg.i_min_na:g}–{cfg.i_max_na:g} nA plus {cfg.i_huge_na:g} nA, "
            f"{cfg.rate_duration_ms / 1000:g} s each, rate = 1 / mean ISI, against the analytic rate; "
            f"{cfg.n_subthreshold} sub-threshold currents for {cfg.subthreshold_duration_ms / 1000:g} s; "
            f"{cfg.n_input_spikes} input spikes of {cfg.w_mv:g} mV at {cfg.slow_rate_hz:g} vs "
            f"{cfg.fast_rate_hz:g} Hz (Poisson, {len(cfg.seeds)} seeds) and as regular trains; a "
            "logistic fitted to the rate curve."
        ),
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=tables,
        plots=[rate_plot, *trace_plots, regular_plot],
    )
