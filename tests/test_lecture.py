"""The lecture runner and report: every experiment, results.json, offline HTML, resume."""

import json
import re

from typer.testing import CliRunner

from neuronet.cli import app
from neuronet.experiments import VERDICTS, sorted_names


def test_lecture_quick_writes_offline_report_and_complete_results(tmp_path):
    out = tmp_path / "lec"
    r = CliRunner().invoke(app, ["lecture", "--quick", "--out", str(out)])
    assert r.exit_code == 0, r.output
    results = json.loads((out / "results.json").read_text())
    names = sorted_names()
    assert set(results["experiments"]) == set(names) and len(names) >= 1
    for name, res in results["experiments"].items():
        assert res["verdict"] in VERDICTS, name
        assert res["config"] and res["claim"] and res["measurement"] and res["checks"], name
        assert res["seeds"] or "seeds" not in res["config"], name  # deterministic experiments have no seeds
    assert {"neuronet", "numpy", "scikit-learn", "python"} <= set(results["versions"])
    # every statement of the lecture names an experiment and checks that exist in a real run
    from neuronet.experiments.coverage import STATEMENTS, matches

    assert len(STATEMENTS) >= 40
    for st in STATEMENTS:
        if st.experiment is None:
            assert st.untested, st.text
            continue
        names = [c["name"] for c in results["experiments"][st.experiment]["checks"]]
        for pattern in st.checks:
            assert any(matches(pattern, n) for n in names), f"{st.text!r}: no check {pattern!r} in {names}"
    tested = {st.experiment for st in STATEMENTS if st.experiment}
    assert tested == set(names_all := sorted_names()), f"experiments without a statement: {set(names_all) - tested}"
    html = (out / "index.html").read_text()
    assert not re.search(r"https?://", html) and "<script" not in html and "<link" not in html
    assert html.count("data:image/png;base64,") >= len(names)
    for name in names:
        assert name in html
    # a rerun with the same --out reuses every saved run and computes nothing
    r2 = CliRunner().invoke(app, ["lecture", "--quick", "--out", str(out)])
    assert r2.exit_code == 0, r2.output
    counts = re.search(r"(\d+) runs; (\d+) already done, 0 to run", r2.stdout)
    assert counts and counts[1] == counts[2], r2.stdout
    again = json.loads((out / "results.json").read_text())["experiments"]
    assert {n: r["metrics"] for n, r in again.items()} == {n: r["metrics"] for n, r in results["experiments"].items()}


def test_experiment_run_and_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        app, ["experiment", "run", "softmax-derivatives", "--quick", "--set", "seeds=3,4", "--out", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    saved = json.loads((tmp_path / "results" / "softmax-derivatives.json").read_text())["result"]
    assert saved["seeds"] == [3, 4] and saved["verdict"] == "supported"
    r = runner.invoke(app, ["experiment", "run", "nope"])
    assert r.exit_code == 2 and "unknown experiment 'nope'; valid:" in r.stderr
    r = runner.invoke(app, ["experiment", "run", "softmax-derivatives", "--set", "bogus=1"])
    assert r.exit_code == 2 and "--set 'bogus=1'" in r.stderr
    r = runner.invoke(app, ["experiment", "list"])
    assert r.exit_code == 0 and "softmax-derivatives:" in r.stdout
