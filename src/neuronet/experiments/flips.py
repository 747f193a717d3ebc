"""Why a check holds on one dataset or mode and fails on another: the authors' notes.

The lecture report's "Checks that differ between runs" table (``neuronet lecture --compare``)
shows, for every check that holds in one run and fails in another, its value, confidence interval
and n per run, and a cause read off those numbers (``report.verdicts.flip_cause``).  Where the
numbers alone do not say why, a note here does.  Keys are ``"experiment"`` (its verdict) or
``"experiment: check"`` (one check).  Each note was written from the runs recorded in
benchmarks/README.md ("The lecture on Fashion-MNIST"); a note that no longer fits the numbers is a
defect: rerun the three runs and rewrite it.
"""

from __future__ import annotations

FLIP_NOTES: dict[str, str] = {}
