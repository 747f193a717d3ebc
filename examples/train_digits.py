"""Train a sigmoid MLP on the embedded digits data and print one line per epoch.

Run with ``make demo`` or ``python examples/train_digits.py``.

The last epoch's diagnostics are printed per layer, numbered from 0 on the input side as in
``neuronet inspect``.  The softmax output has no saturated fraction ("n/a"): its near-0
probabilities for the wrong classes are confident answers, not stuck units; its confidence
(the mean largest probability) is printed instead.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import neuronet as nn

d = load_digits()
X = (d.data / 16.0).astype(np.float32)  # pixels to [0, 1]
Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.2, random_state=0, stratify=d.target)

net = nn.mlp([64, 64, 10], hidden="sigmoid", output="softmax", loss="cross-entropy", init="fan-in", seed=0)
print(net)
trainer = nn.Trainer(net, "momentum", lr=0.2, epochs=20, batch_size=32, validation_split=0.1, seed=0, verbose=True)
history = trainer.fit(Xtr, ytr)
last = history.diagnostics[-1]
for layer in last:
    if layer["saturated"] is not None:
        sat = f"saturated {layer['saturated']:.3f}"
    else:
        sat = "saturated n/a" + (f"  confidence {layer['confidence']:.3f}" if layer["confidence"] is not None else "")
    print(
        f"layer {layer['layer']} ({layer['unit']}): {sat}  mean f' {layer['mean_derivative']:.3f}  "
        f"|dL/dW| {layer['grad_norm']:.2e}  |W| {layer['weight_norm']:.2f}"
    )
print(f"test accuracy: {trainer.evaluate(Xte, yte)['accuracy']:.4f}")
