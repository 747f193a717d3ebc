"""Per-layer diagnostics: what "saturated" means for each output unit, the softmax confidence, the epoch line."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from neuronet import Trainer, encode_targets, layer_diagnostics, mlp
from neuronet.diagnostics import summarize
from neuronet.train import format_epoch


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target


@pytest.fixture(scope="module")
def softmax_run(digits):
    """A softmax classifier trained to confidence on digits: its outputs are near 0 for every wrong class."""
    X, y = digits
    net = mlp([64, 32, 10], hidden="sigmoid", output="softmax", loss="cross-entropy", init="fan-in", seed=0)
    lines = []
    trainer = Trainer(net, "momentum", lr=0.1, epochs=5, batch_size=32, seed=0, verbose=True, log=lines.append)
    return net, trainer.fit(X, y), lines


def _probe(net, X, y):
    return X[:300], encode_targets(y[:300], net.n_outputs, net.output_unit.name, None, net.dtype)


def test_softmax_output_has_no_saturation_but_a_confidence(digits, softmax_run):
    X, y = digits
    net, _, _ = softmax_run
    Xp, Yp = _probe(net, X, y)
    hidden, out = layer_diagnostics(net, Xp, Yp)
    Z = net.predict(Xp)
    near_bound = float(np.mean((Z <= 0.05) | (Z >= 0.95)))
    # the old definition would have called most outputs of this good classifier "saturated" ...
    assert near_bound > 0.7, f"a trained softmax should put ~0 on wrong classes; near-bound fraction {near_bound}"
    assert out["saturated"] is None, "a softmax output's near-0 probabilities are answers, not stuck units"
    # ... the confidence is the mean largest probability, by hand
    assert out["confidence"] == pytest.approx(float(Z.max(axis=1).mean()), rel=1e-5)
    assert out["confidence"] > 0.8, out["confidence"]
    # the sigmoid hidden layer keeps its saturation, computed by hand from its outputs
    H = net.activations(Xp)[0]
    assert hidden["saturated"] == pytest.approx(float(np.mean((H <= 0.05) | (H >= 0.95))), rel=1e-6)
    assert hidden["confidence"] is None and hidden["layer"] == 0 and out["layer"] == 1


def test_sigmoid_output_keeps_its_saturation(digits):
    """Under squared error a sigmoid output near a bound has S' ~ 0: the lecture's stuck output unit."""
    X, y = digits
    net = mlp([64, 32, 10], hidden="sigmoid", output="sigmoid", loss="squared-error", init="normal:1", seed=0)
    Trainer(net, "sgd", lr=1.0, epochs=2, batch_size=64, seed=0).fit(X, y)
    Xp, Yp = _probe(net, X, y)
    out = layer_diagnostics(net, Xp, Yp)[-1]
    Z = net.predict(Xp)
    assert out["saturated"] == pytest.approx(float(np.mean((Z <= 0.05) | (Z >= 0.95))), rel=1e-6)
    assert out["saturated"] > 0.3, f"N(0, 1) weights saturate the sigmoid outputs; got {out['saturated']}"
    assert out["confidence"] is None, "confidence is a softmax measure"


def test_epoch_line_of_a_softmax_classifier_shows_confidence_not_output_saturation(softmax_run):
    _, h, lines = softmax_run
    assert len(lines) == 5
    for line in lines:
        sat = line.split("sat ")[1].split("  ")[0]
        assert sat.startswith("L0 ") and "L1" not in sat, f"only the hidden layer has a saturated fraction: {line!r}"
        assert " conf 0." in line or " conf 1.00" in line, f"the softmax confidence belongs on the line: {line!r}"
    last = h.diagnostics[-1]
    assert f"sat L0 {last[0]['saturated']:.2f}  conf {last[1]['confidence']:.2f}" in lines[-1], lines[-1]


def test_summarize_golden():
    def layer(i, unit, sat=None, dead=None, conf=None):
        return {"layer": i, "unit": unit, "saturated": sat, "dead": dead, "confidence": conf}

    assert summarize([layer(0, "sigmoid", 0.123), layer(1, "sigmoid", 0.804)]) == "sat L0 0.12 L1 0.80"
    assert summarize([layer(0, "relu", dead=0.05), layer(1, "softmax", conf=0.973)]) == "dead L0 0.05  conf 0.97"
    assert (
        summarize([layer(0, "tanh", 0.5), layer(1, "relu", dead=0.25), layer(2, "softmax", conf=0.5)])
        == "sat L0 0.50  dead L1 0.25  conf 0.50"
    )
    assert summarize([layer(0, "identity")]) == "", "nothing to say about an unbounded layer"
    # a diagnostics dict from before the confidence existed (a resumed checkpoint's history)
    assert summarize([{"layer": 0, "unit": "sigmoid", "saturated": 0.3, "dead": None}]) == "sat L0 0.30"


def test_format_epoch_places_the_summary_before_the_seconds():
    logs = {"loss": 0.5, "accuracy": 0.9, "seconds": 1.25}
    diag = [{"layer": 0, "saturated": 0.1, "dead": None, "confidence": None}]
    assert format_epoch(0, 3, logs, diag) == "epoch 1/3  loss 0.5000  acc 0.9000  sat L0 0.10  1.25s"
