"""Associative memory in one set of weights: a Hopfield network against a CPU's memory and localist stores.

The lecture (lines 11–38): a CPU has "perfect key-based memory" and is "fragile if [a] gate fails";
brains are "fault-tolerant", good at "associative memory"; "neurons are always dying ↳ memories
stored in brain in diffuse representation: no single neuron's death will make you forget
something"; "artificial NNs have the same resilience"; "'memories' stored w/ same set of weights".
A Hopfield network (Hopfield 1982; ``neuronet.bio.hopfield``: Hebbian couplings, sign(0) = +1,
asynchronous updates in a fresh random order per sweep) is the textbook network of that kind.
Three parts, each a set of independent runs:

1. **Capacity** (runs ``capacity`` × N × seed).  One network per run; loads ``α = P/N`` from
   ``capacity_loads`` are stored one after the other, and (up to ``capacity_starts`` of) the stored
   patterns are relaxed from themselves at every load.  A pattern is recalled when the final overlap
   reaches ``success_overlap``.  The mean load at which a pattern stops being recalled,
   ``α_c(N)``, is the area under the recall curve (``hopfield_runs.mean_threshold``); it is
   extrapolated by ``α(N) = α∞ + a·N^(−½)`` (weighted by the standard error over seeds) and
   judged against 0.138 ± ``alpha_margin``.  The overlap of the recalled states is set beside
   the replica-symmetric theory ``m(α)`` of Amit, Gutfreund & Sompolinsky (1985), solved
   numerically in ``hopfield_runs``, which also gives α_c = 0.1379 and m(α_c) = 0.967.
2. **Partial cues** (runs ``cue`` × seed).  ``P = cue_load · N`` memories; each is cued by a
   fraction ``known`` of its bits, of which a fraction ``flip`` is wrong (the rest random).  A
   key lookup (the given bits as an address into a hash table, i.e. a CPU's memory) finds a
   memory only when the address matches exactly; the Hopfield network relaxes from the cue.
   A nearest-neighbour search over all stored patterns (a CPU running a search program) is
   shown too: it is the optimal decoder and bounds what any memory can do with the cue.
3. **Neuron death** (runs ``death`` × seed).  ``P = death_load · N`` memories; a random
   fraction ``f`` of neurons dies, the same neurons in three memories: the Hopfield network
   (cued on the survivors), a grandmother store (one neuron per memory) and a redundant
   localist store with ``N // P`` neurons per memory, as many as the Hopfield network has per
   memory.  Separately every single neuron is killed alone and every memory recalled.

Checks (all over the same seeds, paired where two memories are compared): the α∞ band, the
theory curve below capacity, recall from a partial cue beating key lookup, no memory lost to a
single death, and the area under the recall-vs-dead-fraction curve against each localist store.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from ..bio.hopfield import CAPACITY_ALPHA
from ..stats import Check, finite_size_fit, helps
from .design import Design, register_design
from .hopfield_report import present_hopfield
from .hopfield_runs import capacity_run, cue_run, death_run, mean_threshold, retrieval_overlap

CLAIM = (
    "Associative memory in one set of weights: a Hopfield network recalls a memory from a partial, corrupted "
    "cue, where a CPU's key-based lookup fails; it holds about 0.138·N memories; no single neuron's death makes "
    "it forget, and it degrades gracefully as neurons die, unlike grandmother cells."
)


_AT_LEAST_1 = {"low": 1}


def _grid(lo, hi, step):
    return tuple(round(lo + i * step, 4) for i in range(round((hi - lo) / step) + 1))


@dataclass(frozen=True)
class Config:
    capacity_sizes: tuple = (250, 500, 1000, 2000)  # N of the finite-size extrapolation
    capacity_loads: tuple = _grid(0.10, 0.40, 0.01)  # P/N grid (rounded to whole patterns at each N)
    # stored patterns relaxed from themselves per network and load
    capacity_starts: int = field(default=20, metadata=_AT_LEAST_1)
    capacity_max_sweeps: int = field(default=30, metadata=_AT_LEAST_1)
    # sweeps between checks for states that have fallen out
    capacity_stage_sweeps: int = field(default=5, metadata=_AT_LEAST_1)
    capacity_give_up: float = 0.8  # a state below this overlap after a stage counts as not recalled
    # stop a network's load grid after this many loads with nothing recalled
    capacity_stop_after: int = field(default=2, metadata=_AT_LEAST_1)
    success_overlap: float = 0.9  # a memory is recalled when the final overlap reaches this
    alpha_margin: float = 0.02  # α∞ must lie (with its 95% CI) within 0.138 ± this
    theory_max_load: float = 0.12  # m(α) compared with the theory at loads up to this, at the largest N
    theory_tolerance: float = 0.01  # largest allowed |m measured − m theory|
    cue_n: int = field(default=500, metadata=_AT_LEAST_1)
    cue_load: float = 0.05
    cue_known: tuple = (1.0, 0.5)  # fraction of a memory's bits given in the cue
    cue_flips: tuple = (0.0, 0.1, 0.2, 0.3)  # fraction of the given bits that are wrong
    cue_judged: tuple = (0.5, 0.1)  # (known, flip) of the judged comparison: half given, a tenth of it wrong
    death_n: int = field(default=500, metadata=_AT_LEAST_1)
    death_load: float = 0.05  # P/N: N // P = 20 neurons per memory in the redundant store
    death_fractions: tuple = _grid(0.0, 0.9, 0.1)
    death_cue_flip: float = 0.1
    max_sweeps: int = field(default=100, metadata=_AT_LEAST_1)  # cue and death recalls
    seeds: tuple = tuple(range(10))

    @classmethod
    def quick(cls):
        return cls(
            capacity_sizes=(200, 400, 800),
            cue_known=(0.5,),
            cue_flips=(0.0, 0.1),
            death_n=300,
            seeds=(0, 1, 2, 3),
        )


# -- the judgement ------------------------------------------------------------------------------
def capacity_summary(cfg, measured):
    """Per N: the per-seed ``α_c`` estimates, and per load the recall fraction and recalled overlap.

    Returns ``{N: {"alpha_c", "first", "last", "loads", "success", "m_recalled", "n_recalled", …}}``:
    ``first``/``last`` are each run's recall fraction at its first and last load (1 and 0 when the
    grid covers the whole transition).  A run that stopped early (nothing recalled at its last
    loads) counts as recalling nothing at the loads beyond, as ``mean_threshold`` assumes.
    """
    out = defaultdict(lambda: {"alpha_c": [], "first": [], "last": [], "gave_up": 0, "unsettled": 0, "runs": []})
    for key, d in measured:
        if key["part"] != "capacity":
            continue
        s = out[key["n"]]
        succ = [float(np.mean(np.asarray(o) >= cfg.success_overlap)) for o in d["overlaps"]]
        s["alpha_c"].append(mean_threshold(d["loads"], succ))
        s["first"].append(succ[0])
        s["last"].append(succ[-1])
        s["gave_up"] += sum(d["gave_up"])
        s["unsettled"] += sum(d["unsettled"])
        s["runs"].append(d)
    for s in out.values():
        loads = sorted({round(a, 6) for d in s["runs"] for a in d["loads"]})
        recalled = {a: [] for a in loads}  # overlaps of the recalled states
        tried = dict.fromkeys(loads, 0)
        for d in s["runs"]:
            seen = {round(a, 6): o for a, o in zip(d["loads"], d["overlaps"])}
            for a in loads:  # loads beyond a run's stop: its starts count as not recalled
                o = np.asarray(seen.get(a, []))
                recalled[a].extend(o[o >= cfg.success_overlap].tolist())
                tried[a] += len(seen[a]) if a in seen else min(cfg.capacity_starts, round(a * d["n"]))
        s["loads"] = loads
        s["success"] = [len(recalled[a]) / tried[a] for a in loads]
        s["m_recalled"] = [float(np.mean(recalled[a])) if recalled[a] else None for a in loads]
        s["n_recalled"] = [len(recalled[a]) for a in loads]
        del s["runs"]
    return dict(sorted(out.items()))


def capacity_fit(summary):
    """``finite_size_fit`` of the mean ``α_c`` per N, weighted by its standard error over seeds."""
    sizes = list(summary)
    means = [float(np.mean(summary[n]["alpha_c"])) for n in sizes]
    ses = [float(np.std(summary[n]["alpha_c"], ddof=1) / np.sqrt(len(summary[n]["alpha_c"]))) for n in sizes]
    if all(len(summary[n]["alpha_c"]) > 1 and se > 0 for n, se in zip(sizes, ses)):
        return finite_size_fit(sizes, means, sigma=ses), means, ses
    return finite_size_fit(sizes, means), means, ses  # one seed: the error from the residuals (needs ≥ 3 N)


def _capacity_checks(cfg, summary):
    fit, _, _ = capacity_fit(summary)
    edge = [n for n, s in summary.items() if min(s["first"]) < 1.0 or max(s["last"]) > 0.0]
    cap = fit.near(
        CAPACITY_ALPHA,
        cfg.alpha_margin,
        name="capacity",
        claim=f"the network holds about 0.138·N memories: α_c(N) extrapolates to 0.138 ± {cfg.alpha_margin:g}",
        statistic="α∞ of α_c(N) = α∞ + a·N^(−½), weighted by the SE over seeds; α_c(N) = mean load at which a stored "
        f"pattern stops being recalled (final overlap < {cfg.success_overlap:g})",
        could_fail="α_c(N) levelling off above 0.158 or falling below 0.118 (e.g. with a wrong normalisation, "
        "self-couplings or synchronous updates), or α∞ too uncertain to place",
    )
    notes = []
    if edge:
        notes.append(f"the load grid does not cover the whole transition at N = {edge}")
    if max(summary) < 2000:
        notes.append(
            f"the largest N is {max(summary)}: a short extrapolation whose CI reflects the seed-to-seed noise only"
        )
    if notes:
        cap = replace(cap, note="; ".join(notes))
    n_max = max(summary)
    s = summary[n_max]
    diffs, n_states = [], 0
    for a, m, k in zip(s["loads"], s["m_recalled"], s["n_recalled"]):
        theory = retrieval_overlap(a)
        if a <= cfg.theory_max_load + 1e-9 and m is not None and theory is not None:
            diffs.append(abs(m - theory))
            n_states += k
    worst = max(diffs) if diffs else float("nan")
    theory = Check(
        name="m(α) theory",
        claim="below capacity the recalled state's overlap follows the replica-symmetric m(α) of Amit, "
        "Gutfreund & Sompolinsky (1985)",
        statistic=f"largest |m measured − m theory| at N = {n_max}, loads ≤ {cfg.theory_max_load:g}",
        value=worst,
        ci=None,
        threshold=f"≤ {cfg.theory_tolerance:g} over {len(diffs)} loads",
        n=n_states,
        holds=bool(diffs) and worst <= cfg.theory_tolerance,
        could_fail="a network whose retrieval states differ from the theory's (self-couplings, another storage "
        "rule or normalisation) misses m(α) by more than the tolerance",
        note="" if diffs else "not judged: no recalled load at or below the theory's range",
    )
    return [cap, theory]


def _cue_check(cfg, measured):
    known, flip = cfg.cue_judged
    label = f"{known:g}/{flip:g}"
    runs = [d[label] for k, d in measured if k["part"] == "cue"]
    return helps(
        [r["hopfield"] for r in runs],
        [r["key"] for r in runs],
        name="partial cue",
        claim=f"from a cue with {known:.0%} of a memory's bits given and {flip:.0%} of those wrong, associative "
        "recall finds the memory where a key-based lookup (a CPU's memory) fails",
        statistic="mean paired difference in fraction of memories recalled, Hopfield − key lookup",
        could_fail="the network failing to complete the cue (too little of it given, or a load above capacity) "
        "as often as the lookup",
    )


def _death_checks(cfg, measured):
    runs = [d for k, d in measured if k["part"] == "death"]
    forgotten = sum(d["single_forgotten"] for d in runs)
    single = Check(
        name="single death",
        claim="no single neuron's death will make you forget something",
        statistic="memories not recalled (overlap < success_overlap) after one neuron's death, summed over every "
        "neuron killed alone and every memory",
        value=float(forgotten),
        ci=None,
        threshold="= 0",
        n=sum(cfg.death_n * d["n_patterns"] for d in runs),
        holds=forgotten == 0,
        could_fail="a memory near its stability margin (as near capacity) lost when one neuron dies; in the "
        "grandmother store every death of a used neuron loses one memory",
        note=f"{sum(d['single_changed'] for d in runs)} (death, memory) pairs changed in at least one bit",
    )
    area = {k: [float(np.mean(d[k])) for d in runs] for k in ("hopfield", "grandmother", "redundant")}
    stat = "mean paired difference of the area under recall vs dead fraction (mean over the fraction grid)"
    gm = helps(
        area["hopfield"],
        area["grandmother"],
        name="vs grandmother cells",
        claim="the distributed memory degrades more gracefully than grandmother cells (one neuron per memory)",
        statistic=stat,
        could_fail="the Hopfield network losing memories as fast as the dead fraction grows, or collapsing early",
    )
    red = helps(
        area["hopfield"],
        area["redundant"],
        name="vs redundant store",
        claim="diffuse storage is what buys the resilience: the distributed memory degrades more gracefully than "
        f"a localist store with the same neurons per memory ({cfg.death_n // max(1, runs[0]['n_patterns'])})",
        statistic=stat,
        could_fail="the redundant store, which loses a memory only when all its neurons die, keeping its memories "
        "at least as well",
    )
    return [single, gm, red]


@register_design
class HopfieldMemory(Design):
    name = "hopfield"
    claim = CLAIM
    config_cls = Config
    order = 92

    def runs(self, cfg):
        keys = [{"part": "capacity", "n": int(n), "seed": int(s)} for n in cfg.capacity_sizes for s in cfg.seeds]
        keys += [{"part": "cue", "seed": int(s)} for s in cfg.seeds]
        keys += [{"part": "death", "seed": int(s)} for s in cfg.seeds]
        return keys

    def measure(self, cfg, key):
        if key["part"] == "capacity":
            return capacity_run(cfg, key["n"], key["seed"])
        if key["part"] == "cue":
            return cue_run(cfg, key["seed"])
        return death_run(cfg, key["seed"])

    def judge(self, cfg, measured):
        summary = capacity_summary(cfg, measured)
        return [*_capacity_checks(cfg, summary), _cue_check(cfg, measured), *_death_checks(cfg, measured)]

    def present(self, cfg, measured, checks):
        summary = capacity_summary(cfg, measured)
        return present_hopfield(cfg, measured, checks, summary, capacity_fit(summary))
