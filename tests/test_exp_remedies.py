"""The remedies experiment (quick): rates chosen per configuration, and the robust directions of the data."""

import json
import math

import pytest

from neuronet.experiments import VERDICTS, Result
from neuronet.experiments.base import EXPERIMENTS
from neuronet.experiments.remedies import Config, _pick, _variants


@pytest.fixture(scope="module")
def result():
    return EXPERIMENTS["remedies"].run(Config.quick())  # seeds (0, 1, 2), fixed


def _rows(result):
    return {r["configuration"]: r for r in result.tables[0]["rows"]}


def test_registered_with_full_and_quick_configs():
    exp = EXPERIMENTS["remedies"]
    assert exp.order == 30 and exp.config_cls is Config
    full, quick = Config(), Config.quick()
    assert full.data == "digits" and len(full.seeds) >= 3, f"full config should use several seeds, got {full}"
    assert len(quick.seeds) < len(full.seeds) and quick.epochs < full.epochs, f"quick should be smaller: {quick}"


def test_every_chosen_rate_is_reported_and_inside_the_grid_or_flagged(result):
    rows = _rows(result)
    labels = [v.label for v in _variants(Config.quick())]
    assert list(rows) == labels, f"expected one row per configuration {labels}, got {list(rows)}"
    for label, r in rows.items():
        lr = r["chosen lr"]
        assert isinstance(lr, float) and math.isfinite(lr) and lr > 0, f"{label}: chosen lr {lr!r}"
        assert result.metrics[label]["chosen lr"] == lr, f"{label}: metrics and table disagree on the rate"
        inside = r["lr lowest tried"] < lr < r["lr highest tried"]
        assert inside or r["edge"] in ("low", "high"), (
            f"{label}: rate {lr} at the edge of {r['lr tried']} but not flagged (edge={r['edge']!r})"
        )


def test_baseline_has_more_stuck_hidden_units_than_fan_in(result):
    m = result.metrics
    base, fan = m["baseline"]["stuck hidden"], m["① fan-in"]["stuck hidden"]
    assert base > fan + 0.1, f"N(0,1) weights should leave more saturated hidden outputs than fan-in: {base} vs {fan}"


def test_robust_remedies_beat_the_baseline_test_accuracy(result):
    m = result.metrics
    base = m["baseline"]["test accuracy"]
    for label in ("① fan-in", "④ softmax+CE"):
        assert m[label]["test accuracy"] > base, f"{label}: {m[label]['test accuracy']} not above baseline {base}"
    # ⑤ alone (ReLU with N(0,1) weights into sigmoid/squared-error outputs) does NOT beat the baseline on
    # digits: the outputs saturate.  What is robust is that softmax + cross-entropy rescues it.
    assert m["⑤+④"]["test accuracy"] > m["⑤ ReLU"]["test accuracy"] + 0.2, (
        f"softmax+CE should rescue the ReLU net: {m['⑤+④']} vs {m['⑤ ReLU']}"
    )


def test_verdicts_per_statement_and_overall(result):
    statements = result.tables[1]["rows"]
    assert len(statements) == 8, f"5 'helps' + 3 'useless' statements expected, got {len(statements)}"
    assert all(s["verdict"] in ("supported", "not supported") for s in statements), statements
    n_ok = sum(s["verdict"] == "supported" for s in statements)
    expected = "supported" if n_ok == 8 else "not supported" if n_ok == 0 else "mixed"
    assert result.verdict in VERDICTS and result.verdict == expected, (result.verdict, n_ok)


def test_result_is_json_serialisable_and_round_trips(result):
    d = json.loads(json.dumps(result.to_dict()))
    back = Result.from_dict(d)
    assert back.verdict == result.verdict and len(back.plots) == len(result.plots) == 6
    assert d["config"]["seeds"] == [0, 1, 2] and d["seeds"] == [0, 1, 2]
    lr_plots = [p for p in d["plots"] if p["logx"]]
    assert len(lr_plots) == 2 and all(p["series"][-1]["label"] == "chosen rate" for p in lr_plots), (
        "both learning-rate plots should mark the chosen rates"
    )
    plotted = {s["label"].split(" (chosen")[0] for p in lr_plots for s in p["series"][:-1]}
    assert plotted == set(_rows(result)), f"every configuration needs its LR curve, got {sorted(plotted)}"


def test_pick_prefers_faster_rate_among_ties_and_best_accuracy_otherwise():
    cfg = Config(tie_tol=0.01)
    scores = {0.1: {"val": 0.95, "epochs": 9.0}, 1.0: {"val": 0.955, "epochs": 4.0}, 3.0: {"val": 0.96, "epochs": 6.0}}
    assert _pick(scores, cfg) == 1.0, "within tie_tol the rate reaching the threshold sooner should win"
    scores[3.0]["val"] = 0.99
    assert _pick(scores, cfg) == 3.0, "a clearly better validation accuracy should win"


def test_select_widens_the_grid_once_then_flags_the_edge():
    from neuronet.experiments.common import load_data
    from neuronet.experiments.remedies import _select

    cfg = Config(seeds=(0,), epochs=2, lr_min=0.01, lr_max=0.1, lr_per_decade=1, max_widen=1, select_seeds=1)
    data = load_data("digits", seed=0, max_train=300)
    lr, edge, scores = _select(data, _variants(cfg)[0], cfg)
    # a two-point grid always has its best rate at an end: one extension by a factor of 10 must follow
    rates = sorted(scores)
    assert rates == pytest.approx([0.001, 0.01, 0.1]) or rates == pytest.approx([0.01, 0.1, 1.0]), rates
    lo, hi = min(scores), max(scores)
    if edge:
        assert lr == (lo if edge == "low" else hi), (
            f"flag {edge!r} but rate {lr} is not at that end of {sorted(scores)}"
        )
    else:
        assert lo < lr < hi, f"unflagged rate {lr} must be strictly inside {sorted(scores)}"
