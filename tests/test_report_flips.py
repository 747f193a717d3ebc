"""The lecture report's runs side by side: which checks flip between datasets and modes, and why."""

from __future__ import annotations

from neuronet.experiments.flips import FLIP_NOTES
from neuronet.report.lecture import write_lecture_report
from neuronet.report.verdicts import flip_cause
from test_report import parse


def _check(name, holds, value, ci, n):
    return {"name": name, "holds": holds, "value": value, "ci": list(ci), "n": n, "statistic": "s", "threshold": "t"}


def _run(*checks):
    held = [c["holds"] for c in checks]
    verdict = "supported" if all(held) else ("not supported" if not any(held) else "mixed")
    return {"exp": {"name": "exp", "verdict": verdict, "checks": list(checks), "claim": "c", "measurement": "m"}}


def test_flip_cause_tells_few_samples_sign_and_margin_apart():
    few = flip_cause(
        {"quick": _check("a", False, 0.04, (-0.1, 0.2), 3), "full": _check("a", True, 0.15, (0.11, 0.18), 20)}
    )
    assert few.startswith("fewer samples where it fails (n = 3 against 20)"), few
    small = flip_cause(
        {"quick": _check("a", True, -0.01, (-0.016, -0.006), 3), "full": _check("a", False, 0.06, (-0.005, 0.13), 20)}
    )
    assert small.startswith("holds only with fewer samples (n = 3 against 20)"), small
    sign = flip_cause(
        {"digits": _check("a", False, -0.002, (-0.005, 0.001), 20), "fm": _check("a", True, 0.02, (0.001, 0.05), 20)}
    )
    assert sign.startswith("the effect changes sign (0.02 where it holds, -0.002 where it fails)"), sign
    margin = flip_cause(
        {"digits": _check("a", False, 0.05, (-0.02, 0.12), 20), "fm": _check("a", True, 0.04, (0.02, 0.07), 20)}
    )
    assert margin.startswith("same direction"), margin
    assert flip_cause({"x": _check("a", True, 1, (0, 2), 5), "y": _check("a", True, 1, (0, 2), 5)}) == ""
    tost = {
        "digits": {**_check("a", True, -0.01, (-0.015, -0.005), 20), "threshold": "|mean(a − b)| < 0.02 (TOST)"},
        "fm": {**_check("a", False, 0.03, (0.009, 0.057), 20), "threshold": "|mean(a − b)| < 0.02 (TOST)"},
    }
    assert flip_cause(tost).startswith("an equivalence test"), "the sign of a TOST value means nothing"
    assert "0.048 wide" in flip_cause(tost)
    mixed = {"x": _check("a", True, 0.3, (0.1, 0.5), 20), "y": _check("a", False, 0, (-0.1, 0.1), 20)}
    assert flip_cause(mixed).startswith("no single cause"), flip_cause(mixed)


def test_a_check_without_a_name_is_left_out_not_a_crash(tmp_path):
    run = _run(_check("a", True, 0.2, (0.1, 0.3), 20))
    nameless = {"exp": {**run["exp"], "checks": [{"holds": False, "value": 1}, *run["exp"]["checks"]]}}
    page = write_lecture_report(
        tmp_path, run, meta={"data": "digits"}, other_runs={"other": nameless}, statements=()
    ).read_text(encoding="utf-8")
    assert 'id="across-runs"' in page


def test_checks_that_flip_under_a_steady_verdict_are_listed_with_numbers(tmp_path):
    this = _run(_check("a", True, 0.29, (0.24, 0.34), 20), _check("b", False, -0.4, (-0.5, -0.2), 10))
    other = _run(_check("a", False, 0.04, (-0.14, 0.22), 3), _check("b", True, 0.2, (0.1, 0.3), 3))
    steady = _run(_check("a", True, 0.2, (0.1, 0.3), 20), _check("b", True, 0.1, (0.05, 0.2), 10))
    page = write_lecture_report(
        tmp_path,
        this,
        meta={"data": "fashion-mnist", "quick": False},
        other_runs={"digits, quick": other, "digits, full": steady},
        statements=(),
        flip_notes={"exp: b": "NOTE-B"},
    ).read_text(encoding="utf-8")
    across = parse(page[page.index('id="across-runs"') : page.index('id="check-flips"')]).rows
    head = across[0]
    row = dict(zip(head, across[1]))
    assert row["digits, quick"] == row["fashion-mnist, full"] == "mixed" and row["digits, full"] == "supported"
    assert row["differs"] == "flips", "mixed vs supported is a verdict flip"
    flips = parse(page[page.index('id="check-flips"') :]).rows
    assert flips[0][:2] == ["experiment", "check"] and flips[0][-1] == "why"
    rows = {r[1]: dict(zip(flips[0], r)) for r in flips[1:] if len(r) == len(flips[0])}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["digits, quick"] == "✗ 0.04 [-0.14, 0.22] (n = 3)"
    assert rows["a"]["fashion-mnist, full"] == "✓ 0.29 [0.24, 0.34] (n = 20)"
    assert rows["a"]["why"].startswith("fewer samples where it fails"), "the cause read off the numbers"
    assert rows["b"]["why"] == "NOTE-B", "an authors' note wins over the automatic cause"


def test_no_check_table_when_every_check_agrees(tmp_path):
    run = _run(_check("a", True, 0.2, (0.1, 0.3), 20))
    page = write_lecture_report(
        tmp_path, run, meta={"data": "digits"}, other_runs={"digits, quick": run}, statements=()
    ).read_text(encoding="utf-8")
    assert 'id="across-runs"' in page and 'id="check-flips"' not in page


def test_every_flip_note_names_an_experiment_and_a_check_it_has():
    from neuronet.experiments.base import sorted_names
    from neuronet.experiments.coverage import STATEMENTS, matches

    names = set(sorted_names())
    for key, note in FLIP_NOTES.items():
        experiment, _, check = key.partition(": ")
        assert experiment in names, f"flip note {key!r}: no experiment {experiment!r}"
        assert len(note.split()) >= 8, f"flip note {key!r} explains nothing"
        if check:
            patterns = [p for st in STATEMENTS if st.experiment == experiment for p in st.checks]
            assert any(matches(p, check) for p in patterns), f"flip note {key!r}: no such check in the coverage table"
