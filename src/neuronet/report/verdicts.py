"""Verdicts for the lecture report: of a statement (from the checks it names), badges, links, and runs side by side."""

from __future__ import annotations

import re

from markupsafe import Markup

from .html import Section, format_number

VERDICTS = ("supported", "mixed", "not supported")
VERDICT_TEXT = {
    "supported": "Supported by the data",
    "not supported": "Not supported by the data",
    "mixed": "Mixed: partly supported",
}
#: A statement without a verdict: not tested at all, its experiment left out of this run, or none of
#: the checks it names found in its experiment's result (the coverage table is out of date).
NOT_TESTED, NOT_RUN, NO_CHECK = "not tested", "not run", "no check"


def _get(obj, key, default=None):
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def _checks(result) -> list[dict]:
    return [c if isinstance(c, dict) else c.to_dict() for c in (_get(result, "checks", []) or [])]


def _verdict_of(checks: list[dict]) -> str:
    held = [bool(c.get("holds")) for c in checks]
    return "supported" if all(held) else ("not supported" if not any(held) else "mixed")


def statement_verdict(statement, results: dict) -> tuple[str, list[dict]]:
    """``(status, checks)`` of one coverage ``Statement`` in this run's ``results``.

    ``status`` is "supported" when every check the statement names holds, "not supported" when
    none does, "mixed" otherwise; "not tested" for an untested statement; "not run" when its
    experiment is not in ``results``; "no check" when the experiment's result has checks but none
    that the statement names.  An experiment without any checks (written before they existed)
    lends the statement its own verdict, with no checks.
    """
    from ..experiments.coverage import matches

    if statement.experiment is None:
        return NOT_TESTED, []
    if statement.experiment not in results:
        return NOT_RUN, []
    result = results[statement.experiment]
    checks = _checks(result)
    if not checks or not statement.checks:
        return _get(result, "verdict"), []
    named = [c for c in checks if any(matches(p, c["name"]) for p in statement.checks)]
    if not named:
        return NO_CHECK, []
    return _verdict_of(named), named


def _badge(status: str, text: str | None = None) -> Markup:
    kind = re.sub(r"[^a-z0-9]+", "-", status.lower()).strip("-")
    return Markup('<span class="badge {}">{}</span>').format(kind, text or status)


def _anchor(name: str) -> str:
    return "exp-" + re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")


def _link(name: str, results: dict) -> Markup | str:
    return Markup('<a href="#{}">{}</a>').format(_anchor(name), name) if name in results else name


def _held(checks: list[dict]) -> str:
    """``3 of 4 checks hold``, ``its one check holds``; empty without checks."""
    if len(checks) == 1:
        return f"its one check {'holds' if checks[0].get('holds') else 'fails'}"
    return f"{sum(bool(c.get('holds')) for c in checks)} of {len(checks)} checks hold" if checks else ""


def _as_results(run) -> dict:
    """A run given as ``{name: verdict or result dict}`` or as a whole results.json dict."""
    if isinstance(run, dict) and isinstance(run.get("experiments"), dict):
        return run["experiments"]
    return dict(run or {})


def _verdict(entry) -> str | None:
    return entry if isinstance(entry, str) or entry is None else _get(entry, "verdict")


def _flip_reason(name: str, runs: dict) -> str:
    """Which checks hold in one run and fail in another, from the runs that carry checks."""
    held: dict[str, dict[str, bool]] = {}
    for label, run in runs.items():
        entry = run.get(name)
        if entry is None or isinstance(entry, str):
            continue
        for c in _checks(entry):
            held.setdefault(c["name"], {})[label] = bool(c.get("holds"))
    parts = []
    for check, by_run in held.items():
        if len(set(by_run.values())) > 1:
            yes = ", ".join(k for k, v in by_run.items() if v)
            no = ", ".join(k for k, v in by_run.items() if not v)
            parts.append(f"“{check}” holds in {yes}, fails in {no}")
    return "; ".join(parts)


def _across_runs_section(results: dict, other_runs: dict, run_label: str, flip_notes: dict) -> tuple[Section, int]:
    runs = {label: _as_results(run) for label, run in other_runs.items()}
    runs[run_label] = results
    names = list(dict.fromkeys([*results, *(n for run in runs.values() for n in run)]))
    rows, flips = [], 0
    for name in names:
        row = {"experiment": _link(name, results)}
        verdicts = set()
        for label, run in runs.items():
            v = _verdict(run.get(name))
            row[label] = _badge(v) if v else "—"
            if v:
                verdicts.add(v)
        flipped = len(verdicts) > 1
        flips += flipped
        row["differs"] = _badge("mixed", "flips") if flipped else ""
        if flipped:
            row["why"] = flip_notes.get(name) or _flip_reason(name, runs) or "not explained yet"
        rows.append(row)
    text = (
        f"The same experiments on each dataset and mode. {flips} of {len(names)} verdicts differ between the runs; "
        "the last column says which checks changed (or why, where the authors explained it)."
    )
    section = Section(
        "Verdicts across datasets and modes",
        id="across-runs",
        text=text,
        table=rows,
        table_class="verdicts",
        number_format=format_number,
    )
    return section, flips
