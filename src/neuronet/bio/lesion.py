"""Neuron death and synapse loss in a trained network (lesion studies).

Two kinds of damage to a copy of a trained ``Network`` (the caller's network is never
changed):

* ``silence_units``: a random fraction ``p`` of the units of each hidden layer dies.  A
  dead unit outputs exactly 0 and receives no gradient (``Dense.set_unit_mask``); nothing
  rescales the survivors.  Units already silenced in the network stay silenced.
* ``cut_synapses``: a random fraction ``p`` of the weights of each layer is set to 0.
  Biases (a unit's own threshold) are not synapses and are kept.  Cut weights are plain
  zeros: if the copy is trained further they may grow back.

Counts are exact: ``round(p · n)`` units (or weights) of each layer, chosen without
replacement from a passed-in ``numpy.random.Generator``.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import ConfigError


def _check_fraction(p):
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"lesion fraction must lie in [0, 1], got {p}")
    return p


def silence_units(network, fraction, rng, layers=None):
    """A copy of ``network`` with ``round(fraction · n_out)`` random units of each hidden layer silenced.

    Parameters
    ----------
    network : Network
    fraction : float in [0, 1]
    rng : numpy.random.Generator
    layers : sequence of int, optional
        Which layers to lesion; default every hidden layer (all but the output layer,
        whose units are the answer rather than neurons of the network).

    Returns
    -------
    lesioned : Network
        The copy; ``lesioned.layers[i].unit_mask`` marks the survivors.
    """
    p = _check_fraction(fraction)
    net = copy.deepcopy(network)
    targets = range(len(net.layers) - 1) if layers is None else layers
    for i in targets:
        L = net.layers[i]
        mask = np.ones(L.n_out) if L.unit_mask is None else np.array(L.unit_mask, dtype=float)
        mask[rng.choice(L.n_out, size=round(p * L.n_out), replace=False)] = 0.0
        L.set_unit_mask(mask)
    return net


def cut_synapses(network, fraction, rng, layers=None):
    """A copy of ``network`` with ``round(fraction · size)`` random weights of each layer set to 0.

    ``layers`` defaults to every layer (input-to-hidden synapses included).  Returns the copy.
    """
    p = _check_fraction(fraction)
    net = copy.deepcopy(network)
    targets = range(len(net.layers)) if layers is None else layers
    for i in targets:
        W = net.layers[i].W
        cut = rng.choice(W.size, size=round(p * W.size), replace=False)
        W.flat[cut] = 0.0
    return net
