"""The runs of the ``hebb`` experiment: one pure function per part, ``(cfg, key) -> JSON-able dict``.

Parts
-----
``stdp``
    Pairs of real spiking neurons.  ``n_pairs`` presynaptic Poisson trains; each drives one LIF
    neuron through an excitatory synapse (``+syn_w_mv`` jumps), a second one through an inhibitory
    synapse (``−syn_w_mv``), and a third, the control, not at all.  The three neurons of a pair
    share the same background (white noise of mean ``bg_mu_mv`` and amplitude ``bg_sigma_mv``: the
    diffusion limit of many small inputs), so they differ only in the synapse.  The pair-based
    STDP rule (``bio.stdp.train_dw``, Song, Miller & Abbott 2000) is then applied to the spike
    trains the neurons actually fired: the forward synapse pre → post (causal when the pre spike
    helped fire the post), the backward synapse post → pre (the same spikes, anti-causal), with the
    excitatory window and with the sign-reversed inhibitory one.
``window``
    Bi & Poo's pairing protocol with LIF neurons (``bio.stdp.pairing_protocol``): the weight change
    per pairing against the imposed pre → post offset.  Context: the rule's shape, not a test.
``structural``
    Unconnected neurons in assemblies (``bio.structural.assembly_activity``) grow connections by
    co-activity (``bio.structural.StructuralNetwork``); the control is the same activity with each
    neuron's time series shuffled on its own (firing rates kept, co-activity destroyed).
``oja``
    Context only: plain Hebb and Oja's rule on a correlated Gaussian cloud (``bio.plasticity``).
"""

from __future__ import annotations

import math

import numpy as np

from ..bio.lif import LIFPopulation, SpikeInput
from ..bio.plasticity import abs_cosine, correlated_gaussian, first_principal_component, run_rule
from ..bio.stdp import expected_dw_independent, pairing_protocol, poisson_train, train_dw
from ..bio.structural import StructuralConfig, StructuralNetwork, assembly_activity

__all__ = ["ARMS", "MEASURES", "groups"]

ARMS = ("exc", "inh", "ctrl")  # synapse onto the post neuron: excitatory, inhibitory, none


def _rng(*parts):
    return np.random.default_rng([int(p) for p in parts])


def _follow(pre, post, window_ms):
    """Post spikes in ``(0, window_ms]`` after a pre spike, per pre spike."""
    if pre.size == 0:
        return 0.0
    hi = np.searchsorted(post, pre + window_ms, side="right")
    lo = np.searchsorted(post, pre, side="right")
    return float(np.mean(hi - lo))


# -- STDP on spike trains of connected LIF neurons ---------------------------------------------
def measure_stdp(cfg, key):
    """Per arm, the mean over the ``n_pairs`` pairs of the post rate, the follow count and each weight change."""
    rng = _rng(key["seed"], 1)
    k, span = cfg.n_pairs, cfg.stdp_duration_ms
    pres = [poisson_train(cfg.pre_rate_hz, span, rng) for _ in range(k)]
    n_steps = round(span / cfg.dt_ms)
    a = math.exp(-cfg.dt_ms / cfg.tau_m_ms)
    s = cfg.bg_sigma_mv * math.sqrt((1.0 + a) / (2.0 * (1.0 - a)))  # held for a step: free sd sigma/√2
    bg_mv = cfg.bg_mu_mv + s * rng.standard_normal((n_steps, k))  # (n_steps, k), shared by the three arms
    w = np.concatenate([np.full(k, cfg.syn_w_mv), np.full(k, -cfg.syn_w_mv), np.zeros(k)])
    spikes = SpikeInput.from_trains(pres + pres + [np.zeros(0)] * k, w)
    pop = LIFPopulation(3 * k, tau_m_ms=cfg.tau_m_ms, t_ref_ms=cfg.t_ref_ms, dt_ms=cfg.dt_ms)
    rec = pop.run(span, i_na=np.tile(bg_mv, 3) / pop.r_mohm, spikes=spikes)
    posts = rec.spike_trains()
    window = {
        "a_plus": cfg.a_plus,
        "a_minus": cfg.a_minus,
        "tau_plus_ms": cfg.tau_stdp_ms,
        "tau_minus_ms": cfg.tau_stdp_ms,
    }
    out = {}
    for j, arm in enumerate(ARMS):
        post = posts[j * k : (j + 1) * k]
        pairs = list(zip(pres, post))
        out[arm] = {
            "post_rate_hz": float(np.mean([p.size for p in post])) / (span / 1000.0),
            "follow": float(np.mean([_follow(a, b, cfg.follow_window_ms) for a, b in pairs])),
            "fwd_exc": float(np.mean([train_dw(a, b, **window) for a, b in pairs])),
            "fwd_inh": float(np.mean([train_dw(a, b, synapse="inhibitory", **window) for a, b in pairs])),
            "back_exc": float(np.mean([train_dw(b, a, **window) for a, b in pairs])),
        }
    rate_pre = float(np.mean([p.size for p in pres])) / (span / 1000.0)
    out["expected_independent"] = expected_dw_independent(rate_pre, out["ctrl"]["post_rate_hz"], span, **window)
    out["pre_rate_hz"] = rate_pre
    return out


# -- the window ----------------------------------------------------------------------------------
def measure_window(cfg, key):
    """Weight change per pairing against the pre → post offset (LIF pairs, Bi & Poo's protocol)."""
    window = {
        "a_plus": cfg.a_plus,
        "a_minus": cfg.a_minus,
        "tau_plus_ms": cfg.tau_stdp_ms,
        "tau_minus_ms": cfg.tau_stdp_ms,
    }
    exc, inh, measured = [], [], []
    for off in cfg.window_offsets_ms:
        r = pairing_protocol(off, n_pairs=cfg.n_window_pairs, **window)
        exc.append(r.dw / cfg.n_window_pairs)
        inh.append(
            pairing_protocol(off, n_pairs=cfg.n_window_pairs, synapse="inhibitory", **window).dw / cfg.n_window_pairs
        )
        measured.append(r.measured_offset_ms)
    return {"dw_exc": exc, "dw_inh": inh, "measured_offset_ms": measured}


# -- structural plasticity ---------------------------------------------------------------------
def groups(cfg) -> list:
    """Index arrays of the assemblies: ``n_groups`` consecutive blocks of ``group_size`` neurons."""
    return [np.arange(g * cfg.group_size, (g + 1) * cfg.group_size) for g in range(cfg.n_groups)]


def measure_structural(cfg, key):
    """Fraction of unconnected pairs that grew a synapse: within assemblies, across, and with shuffled activity."""
    rng = _rng(key["seed"], 3)
    n = cfg.n_groups * cfg.group_size
    activity = assembly_activity(
        n, groups(cfg), cfg.n_steps, rng, p_group=cfg.p_group, p_member=cfg.p_member, p_background=cfg.p_background
    )
    shuffled = np.stack([rng.permutation(col) for col in activity.T], axis=1)  # (T, n) rates kept, timing not
    same = np.zeros((n, n), dtype=bool)
    for g in groups(cfg):
        same[np.ix_(g, g)] = True
    off = ~np.eye(n, dtype=bool)
    rule = StructuralConfig(tau_steps=cfg.tau_steps, grow_threshold=cfg.grow_threshold, p_grow=cfg.p_grow)
    grown = StructuralNetwork(n, rule).run(activity, rng).grown
    grown_shuffled = StructuralNetwork(n, rule).run(shuffled, rng).grown
    coact = activity.T @ activity / activity.shape[0]  # (n, n) mean x_i x_j
    coact_shuffled = shuffled.T @ shuffled / shuffled.shape[0]
    return {
        "within": float(grown[same & off].mean()),
        "across": float(grown[~same].mean()),
        "shuffled": float(grown_shuffled[off].mean()),
        "coactivity_within": float(coact[same & off].mean()),
        "coactivity_across": float(coact[~same].mean()),
        "coactivity_shuffled": float(coact_shuffled[off].mean()),
        "firing_probability": float(activity.mean()),
    }


# -- context: Hebb and Oja -----------------------------------------------------------------------
def measure_oja(cfg, key):
    """Final |w| and |cos(w, PC1)| of plain Hebb and Oja on a centered correlated Gaussian cloud."""
    rng = _rng(key["seed"], 4)
    X, _ = correlated_gaussian(cfg.cloud_samples, cfg.cloud_dim, rng)
    X = X - X.mean(axis=0)
    pc1 = first_principal_component(X)
    w0 = rng.normal(size=cfg.cloud_dim)
    w0 *= 0.1 / np.linalg.norm(w0)
    eta0 = 0.25 / float(np.mean(np.sum(X * X, axis=1)))
    out = {}
    for rule in ("hebb", "oja"):
        tr = run_rule(
            rule, X, w0, eta=eta0, epochs=cfg.cloud_epochs, rng=_rng(key["seed"], 5), eta_decay_updates=X.shape[0]
        )
        out[rule] = {
            "final_norm": float(tr.norms[-1]),
            "final_cos": abs_cosine(tr.w, pc1),
            "stopped_early": bool(tr.stopped_early),
            "steps": tr.steps.tolist()[:: max(1, tr.steps.size // 60)],
            "norms": tr.norms.tolist()[:: max(1, tr.steps.size // 60)],
        }
    return out


MEASURES = {"stdp": measure_stdp, "window": measure_window, "structural": measure_structural, "oja": measure_oja}
