"""Neurobiology on the same footing as the networks.

``lif``         leaky integrate-and-fire neurons whose firing rate saturates
``plasticity``  Hebb, anti-Hebb and Oja's rule
``hopfield``    associative memory in one set of weights; neuron death
``lesion``      silencing units or cutting synapses of a trained MLP

Dale's principle lives in the engine (``neuronet.Dense(dale_signs=...)``,
``neuronet.mlp(dale=0.8)``).  These modules simulate with numpy alone.
"""

from .hopfield import GrandmotherStore, Hopfield, Recall, death_mask, flip_bits, overlap, random_patterns
from .lesion import cut_synapses, silence_units
from .lif import LIFPopulation, LIFRecord, LogisticFit, SpikeInput, analytic_rate_hz, fit_logistic, threshold_current_na
from .plasticity import (
    abs_cosine,
    anti_hebb_update,
    correlated_gaussian,
    first_principal_component,
    hebb_update,
    oja_update,
    run_rule,
)

__all__ = [
    "GrandmotherStore",
    "Hopfield",
    "LIFPopulation",
    "LIFRecord",
    "LogisticFit",
    "Recall",
    "SpikeInput",
    "abs_cosine",
    "analytic_rate_hz",
    "anti_hebb_update",
    "correlated_gaussian",
    "cut_synapses",
    "death_mask",
    "first_principal_component",
    "fit_logistic",
    "flip_bits",
    "hebb_update",
    "oja_update",
    "overlap",
    "random_patterns",
    "run_rule",
    "silence_units",
    "threshold_current_na",
]
