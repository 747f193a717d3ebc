"""Synaptic plasticity as the lecture states it: causal firing strengthens, a reverse rule for inhibition,
and unconnected neurons growing connections.

The lecture (lines 90–94): "Weight change/learning ⟺ synaptic plasticity.  Hebb's rule: cells
that fire together, wire together.  Typically, one cell's firing tends to make another cell fire
more often, and their excitatory synaptic connection tends to grow stronger.  Similarly, there's
a reverse rule for inhibitory connections, and there are ways for neurons that aren't even
connected to grow connections."  Tested on spiking LIF neurons (``hebb_runs``):

* **causal firing.**  A presynaptic Poisson neuron connected to a LIF neuron by an excitatory
  synapse makes it fire more often in the 20 ms after each of its spikes than an identical,
  unconnected control neuron with the same background (paired over seeds).
* **causal pre → post strengthens, anti-causal weakens.**  The pair-based STDP rule (Bi & Poo
  1998; Song, Miller & Abbott 2000) applied to the spikes those neurons actually fired: the
  forward synapse (pre spikes that helped fire the post) gains weight; the backward synapse
  post → pre, which sees the same pairs in anti-causal order, loses more than under independent
  firing.
* **a reverse rule for inhibitory synapses.**  An inhibitory synapse makes the post neuron pause
  after each pre spike.  Under the sign-reversed window (``bio.stdp`` "inhibitory") that
  effective inhibitory synapse strengthens relative to the unconnected control; under the
  unreversed (excitatory) window it would weaken, so the reversal is what keeps "an effective
  synapse grows" true for inhibition.
* **unconnected neurons grow connections.**  Structural plasticity (``bio.structural``): co-active
  unconnected neurons in assemblies grow synapses, pairs in different assemblies do not, and the
  same activity with each neuron shuffled on its own (rates kept, co-activity gone) grows almost
  nothing.

Hebb's rule diverging and Oja's rule finding the first principal component are kept as context
(a table and a plot): they are algebraic facts about Δw = η x y and Δw = η y (x − y w), which the
lecture does not state, so they carry no verdict.  Caveats: the reverse rule is a modelling
choice (inhibitory windows measured in the brain vary: Hebbian, reversed and symmetric; Vogels et
al. 2013); the STDP rule here is additive and unbounded (weights grow without limit under
persistent causal firing unless clipped, e.g. to [0, w_max] as Song et al. do); the structural rule
is a minimal co-activity threshold, with the threshold set between the co-activity of assembly
members and of independent neurons.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..stats import Check, helps, mean_ci
from .base import Plot, Series
from .design import Design, register_design
from .hebb_runs import ARMS, MEASURES
from .lif_present import check_rows

CLAIM = (
    "One cell's firing tends to make another fire more often, and their excitatory synaptic connection grows "
    "stronger; there is a reverse rule for inhibitory connections; neurons that aren't connected can grow connections."
)


CAVEATS = (
    "The reverse rule for inhibitory synapses is a modelling choice: the windows measured at inhibitory synapses "
    "vary (Hebbian, reversed and symmetric shapes; Vogels et al. 2013, Front. Neural Circuits 7:119).",
    "The STDP rule is additive and unbounded: under sustained causal firing a weight grows without limit unless it "
    "is clipped (Song, Miller & Abbott 2000 clip to [0, w_max]). Here Δw is measured on fixed synapses over a few "
    "seconds and not fed back.",
    "The structural rule is a minimal co-activity threshold; its threshold lies between the co-activity of "
    "assembly members and of independent neurons, so the check shows that growth follows co-activity, not rates.",
    "Plain Hebb diverging and Oja's rule finding the first principal component are algebraic facts of the update "
    "rules, not statements of the lecture: shown as context, they carry no verdict.",
)


@dataclass(frozen=True)
class Config:
    seeds: tuple = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    # spiking neurons and the STDP rule (Song, Miller & Abbott 2000)
    dt_ms: float = 0.25
    tau_m_ms: float = 10.0
    t_ref_ms: float = field(default=1.0, metadata={"low": 0})  # 0: no refractory period
    n_pairs: int = 40  # pre/post pairs per seed
    stdp_duration_ms: float = 2000.0
    pre_rate_hz: float = 10.0
    syn_w_mv: float = 2.0  # jump per pre spike; + excitatory, − inhibitory
    bg_mu_mv: float = 15.0  # background drive of the post neurons (below the 20 mV threshold)
    bg_sigma_mv: float = 4.0
    follow_window_ms: float = 20.0
    a_plus: float = 0.005
    a_minus: float = 0.00525
    tau_stdp_ms: float = 20.0
    window_offsets_ms: tuple = (-40.0, -20.0, -10.0, -5.0, 5.0, 10.0, 20.0, 40.0)
    n_window_pairs: int = 10
    # structural plasticity
    n_groups: int = 3
    group_size: int = 10
    n_steps: int = 1000
    p_group: float = 0.3
    p_member: float = 0.95
    p_background: float = 0.02
    tau_steps: float = 100.0
    grow_threshold: float = 0.2  # between the co-activity of members (≈ 0.27) and of independent neurons (≈ 0.09)
    p_grow: float = 0.05
    grow_margin: float = 0.01  # "grows ~nothing": at most this fraction of pairs
    # context: Hebb and Oja on a Gaussian cloud
    cloud_samples: int = 1000
    cloud_dim: int = 10
    cloud_epochs: int = 10

    @classmethod
    def quick(cls):
        return cls(seeds=(0, 1, 2), n_pairs=30, stdp_duration_ms=1500.0, n_steps=600, cloud_samples=500)


def _parts(measured):
    out = {}
    for key, data in measured:
        if "diverged" not in data:
            out.setdefault(key["part"], []).append((key, data))
    return out


def _arm(runs, arm, field):
    return [d[arm][field] for _, d in runs]


def _stdp_checks(cfg, runs):
    follow_exc, follow_ctrl = _arm(runs, "exc", "follow"), _arm(runs, "ctrl", "follow")
    fwd = _arm(runs, "exc", "fwd_exc")
    ci = mean_ci(fwd)
    expected = float(np.mean([d["expected_independent"] for _, d in runs]))
    fwd_ctrl = float(np.mean(_arm(runs, "ctrl", "fwd_exc")))
    return [
        helps(
            follow_exc,
            follow_ctrl,
            name="one cell's firing makes another fire more",
            claim="a pre neuron with an excitatory synapse makes its target fire more often just after its spikes",
            statistic=f"mean paired difference of post spikes within {cfg.follow_window_ms:g} ms after a pre spike, "
            "connected − unconnected control (same background)",
            could_fail="a synapse too weak to change when the target fires",
        ),
        Check(
            name="causal pre → post strengthens the excitatory synapse",
            claim="STDP on the spikes the neurons fired strengthens the excitatory synapse that helped fire them",
            statistic="mean over seeds of the weight change of the forward synapse (per pair, 2 s of firing)",
            value=float(np.mean(fwd)),
            ci=ci.ci,
            threshold=f"95% CI > 0 (unconnected control: {fwd_ctrl:.2g}; independent firing expects {expected:.2g})",
            n=len(fwd),
            holds=bool(ci.ci is not None and ci.ci[0] > 0),
            could_fail="firing not caused by the pre neuron: independent trains weaken it slightly "
            "(depression dominates the window), as the control shows",
            note="additive and unbounded: sustained causal firing grows the weight without limit unless it is "
            "clipped (Song et al. 2000 clip to [0, w_max])",
        ),
        helps(
            _arm(runs, "exc", "back_exc"),
            _arm(runs, "ctrl", "back_exc"),
            direction="less",
            name="anti-causal order weakens",
            claim="the backward synapse post → pre, which sees the same spike pairs in anti-causal order, weakens "
            "more than under independent firing",
            statistic="mean paired difference of its weight change, connected − control",
            could_fail="a window that did not depend on the order of the spikes (e.g. symmetric)",
        ),
        replace(
            helps(
                _arm(runs, "inh", "fwd_inh"),
                _arm(runs, "ctrl", "fwd_inh"),
                name="reverse rule: the inhibitory synapse strengthens",
                claim="an inhibitory synapse that makes its target pause strengthens under the sign-reversed window "
                "(it would weaken under the excitatory one)",
                statistic="mean paired difference of the weight change (strength of inhibition), inhibitory synapse − "
                "control, under the reversed window",
                could_fail="inhibition that did not suppress the target's firing after pre spikes, or an unreversed "
                "window (its sign would flip)",
            ),
            note="the reversed window is a modelling choice: windows measured at inhibitory synapses vary "
            "(Hebbian, reversed, symmetric; Vogels et al. 2013)",
        ),
    ]


def _structural_checks(cfg, runs):
    within = [d["within"] for _, d in runs]
    across = [d["across"] for _, d in runs]
    shuffled = [d["shuffled"] for _, d in runs]
    m = mean_ci(shuffled, lo=0.0, hi=1.0)
    upper = m.mean if m.ci is None else m.ci[1]
    return [
        helps(
            within,
            across,
            name="co-active unconnected neurons grow connections",
            claim="unconnected neurons that are often active together grow synapses; pairs in different assemblies "
            "do not",
            statistic="mean paired difference of the fraction of pairs that grew a synapse, within − across assemblies",
            could_fail="growth unrelated to co-activity (equal fractions within and across)",
        ),
        Check(
            name="independent activity grows ~nothing",
            claim="the same activity with each neuron shuffled on its own (rates kept, co-activity gone) grows "
            "almost no synapses",
            statistic="fraction of all pairs that grew a synapse, shuffled activity, mean over seeds",
            value=m.mean,
            ci=m.ci,
            threshold=f"upper 95% CI ≤ {cfg.grow_margin:g}",
            n=len(shuffled),
            holds=bool(upper <= cfg.grow_margin),
            could_fail="a rule that grows synapses between active neurons whatever their timing",
        ),
    ]


@register_design
class Hebb(Design):
    name = "hebb"
    claim = CLAIM
    config_cls = Config
    order = 91

    def runs(self, cfg):
        seeds = [int(s) for s in cfg.seeds]
        keys = [{"part": "stdp", "seed": s} for s in seeds]
        keys += [{"part": "structural", "seed": s} for s in seeds]
        return keys + [{"part": "window"}, {"part": "oja", "seed": seeds[0]}]

    def measure(self, cfg, key):
        return MEASURES[key["part"]](cfg, key)

    def judge(self, cfg, measured):
        p = _parts(measured)
        return [*_stdp_checks(cfg, p["stdp"]), *_structural_checks(cfg, p["structural"])]

    def present(self, cfg, measured, checks):
        return _present(cfg, _parts(measured), checks)


# -- presentation -------------------------------------------------------------------------------------
def _stdp_rows(runs):
    rows = []
    for arm, label in zip(ARMS, ("excitatory synapse", "inhibitory synapse", "no synapse (control)")):
        mean = {
            f: float(np.mean(_arm(runs, arm, f))) for f in ("post_rate_hz", "follow", "fwd_exc", "fwd_inh", "back_exc")
        }
        rows.append(
            {
                "pre → post": label,
                "post rate (Hz)": f"{mean['post_rate_hz']:.1f}",
                "post spikes / pre spike (20 ms)": f"{mean['follow']:.3f}",
                "Δw forward, excitatory window": f"{mean['fwd_exc']:+.2e}",
                "Δw forward, reversed window": f"{mean['fwd_inh']:+.2e}",
                "Δw backward (post → pre)": f"{mean['back_exc']:+.2e}",
            }
        )
    return rows


def _plots(cfg, p):
    window = p["window"][0][1]
    stdp = p["stdp"]
    oja = p["oja"][0][1]
    dw = {arm: [float(np.mean(_arm(stdp, arm, f))) for f in ("fwd_exc", "fwd_inh", "back_exc")] for arm in ARMS}
    cats = ["forward, excitatory window", "forward, reversed window", "backward, excitatory window"]
    return [
        Plot(
            title="Weight change of the synapses of real spike trains (mean over seeds)",
            kind="bar",
            ylabel="Δw per pair",
            series=[
                Series(f"{arm} synapse" if arm != "ctrl" else "no synapse", cats, dw[arm], style="bar") for arm in ARMS
            ],
            caption=f"{cfg.n_pairs} pairs × {cfg.stdp_duration_ms / 1000:g} s per seed. Excitatory: forward grows, "
            "backward shrinks. Inhibitory: grows under the reversed window.",
        ),
        Plot(
            title="The STDP window (Bi & Poo pairing with LIF neurons)",
            xlabel="t_post − t_pre (ms)",
            ylabel="Δw per pairing",
            series=[
                Series("excitatory synapse", list(cfg.window_offsets_ms), window["dw_exc"], style="points"),
                Series("inhibitory synapse (reversed)", list(cfg.window_offsets_ms), window["dw_inh"], style="points"),
            ],
            hlines=[(0.0, "")],
            caption="The rule itself (context): causal pairings potentiate, anti-causal depress.",
        ),
        Plot(
            title="Context: plain Hebb diverges, Oja settles at |w| = 1 (algebraic, no verdict)",
            xlabel="updates",
            ylabel="|w|",
            logy=True,
            series=[Series(rule, oja[rule]["steps"], oja[rule]["norms"]) for rule in ("hebb", "oja")],
            hlines=[(1.0, "|w| = 1")],
            caption="Gaussian cloud; Hebb is stopped at |w| > 1e150.",
        ),
    ]


def _present(cfg, p, checks):
    stdp, st = p["stdp"], p["structural"]
    oja = p["oja"][0][1]
    fwd = float(np.mean(_arm(stdp, "exc", "fwd_exc")))
    within = float(np.mean([d["within"] for _, d in st]))
    shuffled = float(np.mean([d["shuffled"] for _, d in st]))
    coact = {k: float(np.mean([d[f"coactivity_{k}"] for _, d in st])) for k in ("within", "across", "shuffled")}
    measurement = (
        f"Poisson pre neurons ({cfg.pre_rate_hz:g} Hz) drive LIF neurons through ±{cfg.syn_w_mv:g} mV synapses next to "
        f"unconnected controls with the same background; pair-based STDP on the fired spikes gives the excitatory "
        f"forward synapse Δw = {fwd:+.2g} per pair, weakens the anti-causal backward one, and strengthens the "
        f"effective inhibitory synapse only under the reversed window. Co-active unconnected neurons grew "
        f"{within:.0%} of possible synapses; with the same activity shuffled per neuron, {shuffled:.1%}. Hebb "
        "diverging and Oja finding PC1 are shown as context only: they are algebra, not the lecture's claims."
    )
    metrics = {c.name: c.value for c in checks}
    metrics.update({f"co-activity {k}": v for k, v in coact.items()})
    metrics.update({f"context: {r} final |w|": oja[r]["final_norm"] for r in ("hebb", "oja")})
    struct_rows = [
        {
            "pairs": label,
            "co-activity (mean x_i x_j)": f"{coact[k]:.3f}",
            "grew a synapse": f"{np.mean([d[k] for _, d in st]):.3f}",
        }
        for k, label in (("within", "same assembly"), ("across", "different assemblies"), ("shuffled", "shuffled"))
    ]
    context_rows = [
        {"rule": r, "final |w|": f"{oja[r]['final_norm']:.3g}", "|cos(w, PC1)|": f"{oja[r]['final_cos']:.4f}"}
        for r in ("hebb", "oja")
    ]
    return {
        "measurement": measurement,
        "metrics": metrics,
        "tables": [
            {"title": "Checks", "rows": check_rows(checks)},
            {"title": "Spiking pairs, mean over seeds", "rows": _stdp_rows(stdp)},
            {"title": f"Structural plasticity (grow threshold {cfg.grow_threshold:g})", "rows": struct_rows},
            {"title": "Context (algebraic, no verdict): Hebb and Oja on a Gaussian cloud", "rows": context_rows},
            {"title": "Caveats", "rows": [{"caveat": c} for c in CAVEATS]},
        ],
        "plots": _plots(cfg, p),
    }


__all__ = ["CLAIM", "Config", "Hebb"]
