"""Verdicts for the lecture report: of a statement (from the checks it names), badges, links, and runs side by side."""

from __future__ import annotations

import math
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


def _check_entries(name: str, runs: dict) -> dict[str, dict[str, dict]]:
    """``{check name: {run label: check dict}}`` of experiment ``name`` in the runs that carry checks."""
    out: dict[str, dict[str, dict]] = {}
    for label, run in runs.items():
        entry = run.get(name)
        if entry is None or isinstance(entry, str):
            continue
        for c in _checks(entry):
            if c.get("name"):
                out.setdefault(c["name"], {})[label] = c
    return out


def _flipping(entries: dict[str, dict[str, dict]]) -> dict[str, dict[str, dict]]:
    return {
        check: by_run for check, by_run in entries.items() if len({bool(c.get("holds")) for c in by_run.values()}) > 1
    }


def _flip_reason(name: str, runs: dict) -> str:
    """Which checks hold in one run and fail in another, from the runs that carry checks."""
    parts = []
    for check, by_run in _flipping(_check_entries(name, runs)).items():
        yes = ", ".join(k for k, c in by_run.items() if c.get("holds"))
        no = ", ".join(k for k, c in by_run.items() if not c.get("holds"))
        parts.append(f"“{check}” holds in {yes}, fails in {no}")
    return "; ".join(parts)


def _number(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _ci_width(c: dict) -> float | None:
    ci = c.get("ci")
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return None
    lo, hi = _number(ci[0]), _number(ci[1])
    return None if lo is None or hi is None else hi - lo


def flip_cause(by_run: dict[str, dict]) -> str:
    """Why one check holds in some runs and fails in others, read off its numbers.

    In this order: the failing runs have far fewer samples (n at most half the holding runs'
    smallest n: a quick run's few seeds); or the holding runs do (then the larger runs are the ones
    to trust); an equivalence (TOST) check, whose value near 0 is what holds, so its sign says
    nothing: the failing interval reaches past the margin; the measured effect has the other sign
    where it fails (the data disagree, not the noise); the effect has one sign everywhere and misses
    the threshold where it fails (a narrow margin).  Anything else is said to have no single cause.
    """
    held = {k: c for k, c in by_run.items() if c.get("holds")}
    failed = {k: c for k, c in by_run.items() if not c.get("holds")}
    if not held or not failed:
        return ""
    n_held = [n for n in (_number(c.get("n")) for c in held.values()) if n is not None]
    n_failed = [n for n in (_number(c.get("n")) for c in failed.values()) if n is not None]
    fmt = ", ".join
    if n_held and n_failed and max(n_failed) <= min(n_held) / 2:
        return (
            f"fewer samples where it fails (n = {fmt(format_number(n) for n in n_failed)} against "
            f"{fmt(format_number(n) for n in n_held)}): too few to resolve the effect"
        )
    if n_held and n_failed and max(n_held) <= min(n_failed) / 2:
        return (
            f"holds only with fewer samples (n = {fmt(format_number(n) for n in n_held)} against "
            f"{fmt(format_number(n) for n in n_failed)}): the larger runs are the ones to trust"
        )
    v_held = [v for v in (_number(c.get("value")) for c in held.values()) if v is not None]
    v_failed = [v for v in (_number(c.get("value")) for c in failed.values()) if v is not None]
    if any("TOST" in str(c.get("threshold", "")) for c in by_run.values()):
        widths = [w for w in (_ci_width(c) for c in failed.values()) if w is not None]
        wide = f", an interval {fmt(format_number(w) for w in widths)} wide" if widths else ""
        return (
            f"an equivalence test: it holds where the whole interval of the difference lies inside the margin, "
            f"and fails where it reaches past it ({fmt(format_number(v) for v in v_failed)}{wide})"
        )
    if v_held and v_failed and (min(v_held) > 0 > max(v_failed) or max(v_held) < 0 < min(v_failed)):
        return (
            f"the effect changes sign ({fmt(format_number(v) for v in v_held)} where it holds, "
            f"{fmt(format_number(v) for v in v_failed)} where it fails): the datasets disagree"
        )
    if v_held and v_failed and (min(v_held + v_failed) > 0 or max(v_held + v_failed) < 0):
        return (
            f"same direction, but the effect or its interval misses the threshold where it fails "
            f"({fmt(format_number(v) for v in v_failed)} against {fmt(format_number(v) for v in v_held)})"
        )
    return "no single cause in the numbers: compare the values and intervals across the runs"


def _check_cell(c: dict | None) -> str:
    if c is None:
        return "—"
    mark = "✓" if c.get("holds") else "✗"
    value = format_number(c.get("value")) if c.get("value") is not None else ""
    ci = c.get("ci")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        value += f" [{format_number(ci[0])}, {format_number(ci[1])}]"
    n = f" (n = {format_number(c['n'])})" if c.get("n") is not None else ""
    return f"{mark} {value}{n}".strip()


def _note(flip_notes: dict, name: str, check: str | None = None) -> str | None:
    return flip_notes.get(f"{name}: {check}") if check is not None else flip_notes.get(name)


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
        changed = _flipping(_check_entries(name, runs))
        if flipped:
            row["differs"] = _badge("mixed", "flips")
        elif changed:
            row["differs"] = f"{len(changed)} check{'s' if len(changed) > 1 else ''}"
        else:
            row["differs"] = ""
        if flipped or changed:
            listed = _flip_reason(name, runs) if len(changed) <= 3 else ""
            summary = f"{len(changed)} checks hold in one run and fail in another: see the next table"
            row["why"] = _note(flip_notes, name) or listed or (summary if changed else "not explained yet")
        rows.append(row)
    text = (
        f"The same experiments on each dataset and mode. {flips} of {len(names)} verdicts differ between the runs; "
        "“differs” also counts the checks that hold in one run and fail in another while the verdict stays, "
        "and the table below gives each such check's numbers and the reason."
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


def _check_flips_section(results: dict, other_runs: dict, run_label: str, flip_notes: dict) -> Section | None:
    """One row per check that holds in one run and fails in another: its numbers per run, and why."""
    runs = {label: _as_results(run) for label, run in other_runs.items()}
    runs[run_label] = results
    names = list(dict.fromkeys([*results, *(n for run in runs.values() for n in run)]))
    rows = []
    for name in names:
        for check, by_run in _flipping(_check_entries(name, runs)).items():
            row = {"experiment": _link(name, results), "check": check}
            for label in runs:
                row[label] = _check_cell(by_run.get(label))
            row["why"] = _note(flip_notes, name, check) or flip_cause(by_run)
            rows.append(row)
    if not rows:
        return None
    text = (
        f"{len(rows)} checks hold in one run and fail in another: value [95% CI] (n) per run, ✓ holds, ✗ fails. "
        "“why” is the authors' note where there is one, else the cause read off the numbers: fewer samples, "
        "an effect that changes sign, or a narrow margin."
    )
    return Section(
        "Checks that differ between runs",
        id="check-flips",
        text=text,
        table=rows,
        table_class="flips",
        number_format=format_number,
    )
