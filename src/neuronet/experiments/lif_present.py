"""Presentation of the ``lif`` experiment: the measurement in words, tables and plots (no judgement here)."""

from __future__ import annotations

import warnings

import numpy as np

from ..bio.lif import fit_logistic
from .base import Plot, Series
from .lif_runs import fi_currents, leak_rates, mu_grid, theta_mv, upstream_currents

CAVEATS = (
    "The sigmoid needs noise: with constant input the rate against linear drive is 0 up to threshold and concave "
    "above it (a hard threshold); only on a log axis of the current does that curve look like a logistic.",
    "The LIF sigmoid is lopsided: a convex foot a few σ wide below threshold, then a concave approach to 1/t_ref "
    "over hundreds of mV; a symmetric logistic in linear drive misses it by tens of Hz (table).",
    "The 1000/s ceiling is the refractory period's (t_ref = 1 ms); the rate gets near it only for drives far above "
    "threshold, and inhibition-dominated input sits on the other bound, 0/s.",
    "White-noise input is the diffusion limit of many small inputs; the mixed Poisson inputs (jumps up to 1.5 mV) "
    "follow Siegert's formula within a few per cent.",
    "The white-noise simulation counts t_ref on its 0.1 ms grid and runs 2–4% low above 300/s; those points are "
    "plotted, not judged.",
)


def _fmt(x, digits=3):
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def check_rows(checks):
    """One row per check: what was measured, the rule, and whether it held."""
    return [
        {
            "check": c.name,
            "value": _fmt(c.value),
            "95% CI": "" if c.ci is None else f"[{_fmt(c.ci[0])}, {_fmt(c.ci[1])}]",
            "rule": c.threshold,
            "n": c.n,
            "holds": c.holds,
        }
        for c in checks
    ]


def _mixed_plot(cfg, runs):
    mu = np.concatenate([d["mu_mv"] for _, d in runs])
    total = np.concatenate([d["total_mv"] for _, d in runs])
    rate = np.concatenate([d["rate_hz"] for _, d in runs])
    siegert = np.concatenate([d["siegert_hz"] for _, d in runs])
    ladder = runs[0][1]
    ceiling = 1000.0 / cfg.t_ref_ms
    return Plot(
        title="Mixed excitatory/inhibitory Poisson input: rate vs the weighted sum",
        xlabel="drive τ_m Σ w r (mV; inhibitory w < 0)",
        ylabel="rate (spikes/s)",
        series=[
            Series("vs signed sum τ Σ w r", mu.tolist(), rate.tolist(), style="points"),
            Series("same rates vs unsigned sum τ Σ |w| r", total.tolist(), rate.tolist(), style="points"),
            Series("Siegert at (τ Σ w r, τ Σ w² r)", mu.tolist(), siegert.tolist(), style="points"),
            Series(
                f"ladder (80% excitatory), seed {runs[0][0]['seed']}", ladder["ladder_mu_mv"], ladder["ladder_rate_hz"]
            ),
        ],
        hlines=[(ceiling, f"1/t_ref = {ceiling:g}/s")],
        vlines=[(theta_mv(cfg), "threshold θ")],
        caption=f"{cfg.n_exc_inputs} excitatory and {cfg.n_inh_inputs} inhibitory inputs per neuron, "
        f"{len(runs)} seeds × {cfg.n_patterns} patterns. Ranked by the signed sum the rates line up; by the "
        "unsigned sum they do not.",
    )


def _sigmoid_plot(cfg, p):
    grid = mu_grid(cfg).tolist()
    noiseless = p["noiseless"][0][1]
    series = [Series("no noise (constant current)", grid, noiseless["rate_hz"])]
    curves = {}
    for key, d in p["noise"]:
        curves.setdefault(key["sigma"], []).append(d["rate_hz"])
    theory = {k["sigma"]: d["rate_hz"] for k, d in p["siegert"]}
    for s, rows in sorted(curves.items()):
        rows = np.asarray(rows, dtype=float)
        sd = rows.std(axis=0, ddof=1) if len(rows) > 1 else np.zeros(rows.shape[1])
        series.append(
            Series(f"white noise σ = {s:g} mV (mean ± sd over seeds)", grid, rows.mean(0).tolist(), sd.tolist())
        )
        series.append(Series(f"Siegert σ = {s:g} mV", grid, theory[s], style="points"))
    return Plot(
        title="The sigmoid needs noise: rate vs mean drive on a linear axis",
        xlabel="mean drive mu (mV above rest, linear)",
        ylabel="rate (spikes/s)",
        series=series,
        vlines=[(theta_mv(cfg), "threshold θ")],
        caption="Without noise: 0 up to θ, then concave (a hard threshold). With noise: a convex foot below θ, "
        "concave above: a sigmoid, on Siegert's curve.",
    )


def _fi_plot(cfg, p):
    i_na = fi_currents(cfg).tolist()
    series = [
        Series(f"τ_m = {k['tau']:g} ms, t_ref = {t:g} ms", i_na, rates)
        for k, d in sorted(p["fi"], key=lambda kd: kd[0]["tau"])
        for t, rates in zip(cfg.fi_t_refs_ms, d["rate_hz"])
    ]
    return Plot(
        title="f–I curves across τ_m and t_ref: the ceiling is 1/t_ref",
        xlabel="input current (nA, log scale)",
        ylabel="rate (spikes/s)",
        logx=True,
        series=series,
        hlines=[(1000.0 / t, f"1/t_ref = {1000.0 / t:g}/s") for t in cfg.fi_t_refs_ms],
        caption="τ_m sets how fast the rate rises; t_ref alone sets where it stops.",
    )


def _mean_sd(rows):
    a = np.asarray(rows, dtype=float)
    return a.mean(0).tolist(), (a.std(0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])).tolist()


def _downstream_plot(cfg, runs):
    i_up = upstream_currents(cfg).tolist()
    background = np.mean([d["down_rate_background_hz"] for _, d in runs])
    b, b_sd = _mean_sd([d["down_rate_bounded_hz"] for _, d in runs])
    u, u_sd = _mean_sd([d["down_rate_unbounded_hz"] for _, d in runs])
    return Plot(
        title="Drive passed downstream: bounded vs unbounded upstream rate",
        xlabel="current into the upstream neuron (nA, log scale)",
        ylabel="downstream rate (spikes/s)",
        logx=True,
        series=[
            Series(f"upstream with t_ref = {cfg.t_ref_ms:g} ms (rate < 1/t_ref)", i_up, b, b_sd),
            Series("upstream without refractory period (rate unbounded)", i_up, u, u_sd),
        ],
        hlines=[(cfg.overpower_hz, f"overpowered: > {cfg.overpower_hz:g}/s")],
        caption=f"One {cfg.syn_w_mv:g} mV synapse; the downstream neuron sits at mu = {cfg.down_mu_mv:g} mV, "
        f"σ = {cfg.down_sigma_mv:g} mV ({background:.1f}/s without the upstream neuron). Mean ± sd over "
        f"{len(runs)} seeds.",
    )


def _leak_plot(cfg, runs):
    rates = leak_rates(cfg).tolist()
    leak, leak_sd = _mean_sd([d["p_fire_leak"] for _, d in runs])
    none, none_sd = _mean_sd([d["p_fire_no_leak"] for _, d in runs])
    return Plot(
        title=f"{cfg.n_input_spikes} input spikes of {cfg.w_mv:g} mV: does the neuron fire?",
        xlabel="input rate (Hz, log scale)",
        ylabel="fraction of trials with an output spike",
        logx=True,
        series=[
            Series(f"leaky, τ_m = {cfg.tau_m_ms:g} ms", rates, leak, leak_sd),
            Series("no leak", rates, none, none_sd),
        ],
        caption="Slow input decays between arrivals and never reaches threshold; without leak it always does.",
    )


def _logistic_rows(cfg, p):
    """A logistic fitted in *linear* drive to each mean curve: good with noise, poor at the hard threshold."""
    grid = mu_grid(cfg)
    curves = {"no noise": np.asarray(p["noiseless"][0][1]["rate_hz"])}
    by_sigma = {}
    for key, d in p["noise"]:
        by_sigma.setdefault(key["sigma"], []).append(d["rate_hz"])
    curves.update({f"σ = {s:g} mV": np.mean(v, axis=0) for s, v in sorted(by_sigma.items())})
    rows = []
    for label, rate in curves.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = fit_logistic(grid, rate, log_x=False)
            except RuntimeError:  # did not converge
                fit = None
        rows.append(
            {
                "input": label,
                "R²": "n/a" if fit is None else f"{fit.r2:.4f}",
                "largest miss (Hz)": "n/a" if fit is None else f"{fit.max_abs_residual:.1f}",
                "rate at θ (Hz)": f"{np.interp(theta_mv(cfg), grid, rate):.1f}",
            }
        )
    return rows


def _sanity_rows(cfg, p):
    rows = [
        {
            "curve": f"f–I, τ_m = {k['tau']:g} ms, t_ref = {t:g} ms",
            "max |simulated / closed form − 1|": f"{e:.1e}",
        }
        for k, d in sorted(p["fi"], key=lambda kd: kd[0]["tau"])
        for t, e in zip(cfg.fi_t_refs_ms, d["max_rel_error"])
    ]
    nl = p["noiseless"][0][1]
    rows.append(
        {"curve": "rate vs mean drive, no noise", "max |simulated / closed form − 1|": _fmt(nl["max_rel_error"], 2)}
    )
    return rows


def present(cfg, p, checks):
    """The report's view of the runs ``p`` (``{part: [(key, data)]}``) and the ``checks``."""
    leak = p["leak"]
    down = p["downstream"]
    slow_span = np.median([d["input_span_ms"][0] for _, d in leak])
    down_b = np.mean([max(d["down_rate_bounded_hz"]) for _, d in down])
    down_u = np.mean([d["down_rate_unbounded_hz"][-1] for _, d in down])
    ladder_top = np.mean([d["ladder_rate_hz"][-1] for _, d in p["mixed"]])
    metrics = {c.name: c.value for c in checks}
    metrics.update(
        {
            "ladder rate at top drive (Hz)": float(ladder_top),
            "downstream rate, bounded upstream, max (Hz)": float(down_b),
            "downstream rate, unbounded upstream, top (Hz)": float(down_u),
        }
    )
    leak_rows = []
    for j, rate in enumerate(leak_rates(cfg)):
        leak_rows.append(
            {
                "input rate (Hz)": f"{rate:.0f}",
                "input span (ms, median)": f"{np.median([d['input_span_ms'][j] for _, d in leak]):.1f}",
                "fired, leaky": f"{np.mean([d['p_fire_leak'][j] for _, d in leak]):.2f}",
                "fired, no leak": f"{np.mean([d['p_fire_no_leak'][j] for _, d in leak]):.2f}",
            }
        )
    measurement = (
        f"LIF neurons (τ_m = {cfg.tau_m_ms:g} ms, θ = {theta_mv(cfg):g} mV above rest, t_ref = {cfg.t_ref_ms:g} ms) "
        f"with {cfg.n_exc_inputs} excitatory and {cfg.n_inh_inputs} inhibitory Poisson inputs fire at a rate that "
        f"rises with the signed sum τ Σ w r and saturates ({ladder_top:.0f}/s at {cfg.ladder_mu_mv[-1]:g} mV, "
        f"below 1/t_ref); on a linear axis the rate is a sigmoid only with noisy input (Siegert), without noise "
        f"it is a hard threshold followed by a concave rise. A neuron driven ever harder moves its target to at "
        f"most {down_b:.0f}/s, against {down_u:.0f}/s without the refractory ceiling; "
        f"{cfg.n_input_spikes} inputs spread over ~{slow_span:.0f} ms never fire it."
    )
    return {
        "measurement": measurement,
        "metrics": metrics,
        "tables": [
            {"title": "Checks", "rows": check_rows(checks)},
            {"title": "A logistic fitted in linear drive", "rows": _logistic_rows(cfg, p)},
            {"title": "Slow input leaks away (mean over seeds)", "rows": leak_rows},
            {"title": "Caveats", "rows": [{"caveat": c} for c in CAVEATS]},
            {
                "title": "Sanity: the integrator against the closed-form rate (not a verdict)",
                "rows": _sanity_rows(cfg, p),
            },
        ],
        "plots": [
            _mixed_plot(cfg, p["mixed"]),
            _sigmoid_plot(cfg, p),
            _fi_plot(cfg, p),
            _downstream_plot(cfg, down),
            _leak_plot(cfg, leak),
        ],
    }
