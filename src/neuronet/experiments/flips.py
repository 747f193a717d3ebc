"""Why a check holds on one dataset or mode and fails on another: the authors' notes.

The lecture report's "Checks that differ between runs" table (``neuronet lecture --compare``)
shows, for every check that holds in one run and fails in another, its value, confidence interval
and n per run, and a cause read off those numbers (``report.verdicts.flip_cause``: fewer samples,
a sign change, or a narrow margin).  Where the numbers alone do not say why, a note here does.
Keys are ``"experiment"`` (its verdict) or ``"experiment: check"`` (one check).

Each note was written from the three runs recorded in benchmarks/README.md ("The lecture on
Fashion-MNIST"): digits quick, digits full and Fashion-MNIST full, seed 0.  A note that no longer
fits the numbers is a defect: rerun the three runs and rewrite it.
"""

from __future__ import annotations

_STUCK_ON_DIGITS = (
    "On digits the 4-hidden-layer sigmoid network (fan-in init, squared error, plain SGD, 10 epochs) stays at "
    "chance, 0.10, at every learning rate of its grid, with the remedy and without it: neither arm trains, so "
    "the paired difference is 0 and cannot show help. On Fashion-MNIST the largest rates move it off chance "
    "in some seeds (base 0.13)"
)

FLIP_NOTES: dict[str, str] = {
    "remedies: ② helps (sigmoid)": _STUCK_ON_DIGITS + ", and ② gives a small, significant gain (0.16).",
    "remedies: ④ helps (sigmoid)": _STUCK_ON_DIGITS + ", and ④ gives a clear gain (0.31).",
    "remedies: ⑤ makes ④ useless: interaction": (
        "The interaction needs ④ to help the sigmoid network more than ReLU. On Fashion-MNIST it does (+0.17 "
        "against +0.01), on digits it cannot: the sigmoid arms sit at chance with ④ or without it (see "
        "“④ helps (sigmoid)”), so there is no sigmoid benefit for ReLU to remove."
    ),
    "remedies: ⑤ makes ② useless: equivalence": (
        "Holds only in the quick run, whose 3 seeds happen to agree (ReLU+② − ReLU = −0.011); with 20 seeds "
        "the interval of the difference reaches past ±0.02 on both datasets (digits +0.06, Fashion-MNIST "
        "+0.03), so ② is not shown useless for ReLU: trust the full runs."
    ),
    "remedies: ⑤ leaves a stuck output stuck": (
        "Holds only in the quick run (2 seeds). With 10 seeds the forced-stuck output recovers differently "
        "under ReLU than under the N(0, 1) sigmoid baseline (digits: ReLU recovers more, −0.27; Fashion-MNIST: "
        "+0.12 with a wide interval), so equivalence within ±0.1 is not shown: trust the full runs."
    ),
}
