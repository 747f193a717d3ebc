"""Presets: one click stages a scene of the lecture (a full configuration and what to look at)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .options import DEFAULTS


@dataclass(frozen=True)
class Preset:
    title: str
    look: str  # what the scene shows, one or two sentences for the page
    changes: dict = field(default_factory=dict)

    def config(self) -> dict:
        return {**DEFAULTS, **self.changes}


_SATURATED = {
    "dataset": "digits",
    "train-fraction": 0.8,
    "hidden-layers": (32,),
    "activation": "sigmoid",
    "output": "sigmoid-se",
    "init": "normal",
    "init-std": 1.0,
    "optimizer": "sgd",
    "learning-rate": 0.3,
    "batch-size": 32,
}

PRESETS = {
    "saturation": Preset(
        "sigmoid saturation (normal:1)",
        "64 standardized inputs and weights of σ = 1: most hidden outputs sit near 0 or 1 (hatched), "
        "S′ ≈ 0 there and learning crawls. Compare the saturated fraction with remedy ① on.",
        _SATURATED,
    ),
    "remedies": Preset(
        "a remedy at a time",
        "The saturated baseline. Switch on one remedy ①–⑤, press play, and compare the loss curve "
        "with the previous run's (grey). ⑤ ReLU makes ②③④ pointless for the hidden layer.",
        _SATURATED,
    ),
    "xor-no-hidden": Preset(
        "XOR needs a hidden layer",
        "No hidden layer: the decision boundary is a straight line and the loss stays near ln 2.",
        {"dataset": "xor", "hidden-layers": (), "output": "softmax-ce", "optimizer": "sgd", "learning-rate": 0.3},
    ),
    "xor-relu": Preset(
        "ReLU computes XOR",
        "One hidden layer of ReLUs bends the boundary around the quadrants; the test loss falls towards 0.",
        {
            "dataset": "xor",
            "hidden-layers": (8,),
            "activation": "relu",
            "output": "softmax-ce",
            "init": "he",
            "optimizer": "adam",
            "learning-rate": 0.03,
            "batch-size": 16,
        },
    ),
    "vanishing": Preset(
        "deep sigmoid net: vanishing gradient",
        "Six sigmoid layers: the gradient norm (log scale) shrinks layer by layer towards the input, "
        "so the first layers barely learn.",
        {
            "dataset": "circles",
            "hidden-layers": (8, 8, 8, 8, 8, 8),
            "activation": "sigmoid",
            "output": "sigmoid-se",
            "init": "fan-in",
            "optimizer": "sgd",
            "learning-rate": 0.3,
        },
    ),
    "exploding": Preset(
        "exploding gradient",
        "Deep ReLUs with σ = 1 weights: outputs and gradients grow layer after layer until the run "
        "diverges and the weights are rolled back.",
        {
            "dataset": "wave",
            "hidden-layers": (16, 16, 16, 16, 16),
            "activation": "relu",
            "output": "linear-se",
            "init": "normal",
            "init-std": 1.0,
            "optimizer": "sgd",
            "learning-rate": 0.05,
        },
    ),
    "quickprop": Preset(
        "Quickprop vs backprop on 8-3-8",
        "Fahlman's encoder, full batch. Run it with Quickprop, then switch the optimizer to momentum "
        "and compare with the previous run's curve (grey).",
        {
            "dataset": "encoder",
            "hidden-layers": (3,),
            "activation": "sigmoid",
            "output": "sigmoid-se",
            "init": "normal",
            "init-std": 0.7,
            "prime-offset": 0.1,
            "optimizer": "quickprop",
            "learning-rate": 2.0,
            "batch-size": 8,
            "speed": 1,
        },
    ),
}
