"""Spike events into and out of a leaky integrate-and-fire population (``neuronet.bio.lif``).

``SpikeInput`` is presynaptic input: a list of events, each a voltage jump ``w_mv`` onto one
neuron at one time (delta synapses, see ``neuronet.bio.lif``).  ``LIFRecord`` is what
one ``LIFPopulation.run`` returns: the spikes fired, in time order, and optionally voltage traces.
Times are in ms on the population's clock (absolute simulated time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

__all__ = ["LIFRecord", "SpikeInput"]


# -- input spike trains ------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class SpikeInput:
    """Presynaptic spikes as a list of events, each a voltage jump ``w_mv`` onto one neuron.

    Parameters
    ----------
    times_ms : array (n_events,)
        Arrival times on the population's clock (absolute simulated time).
    targets : int array (n_events,)
        Index of the postsynaptic neuron of each event.
    w_mv : float or array (n_events,)
        Jump of the membrane voltage per event, in mV (negative for inhibitory input).
    """

    times_ms: np.ndarray
    targets: np.ndarray
    w_mv: np.ndarray

    def __post_init__(self):
        t = np.asarray(self.times_ms, dtype=np.float64).ravel()
        tg = np.asarray(self.targets).ravel()
        if tg.size and not np.issubdtype(tg.dtype, np.integer):
            raise ConfigError(f"SpikeInput targets must be integers, got dtype {tg.dtype}")
        tg = tg.astype(np.int64)
        w = (
            np.broadcast_to(np.asarray(self.w_mv, dtype=np.float64), t.shape).copy()
            if t.size
            else np.zeros(0, np.float64)
        )
        if tg.shape != t.shape:
            raise ConfigError(f"SpikeInput: {t.size} times but {tg.size} targets")
        if not (np.isfinite(t).all() and np.isfinite(w).all()):
            raise ConfigError("SpikeInput: times_ms and w_mv must be finite")
        if tg.size and tg.min() < 0:
            raise ConfigError(f"SpikeInput: negative target index {int(tg.min())}")
        object.__setattr__(self, "times_ms", t)
        object.__setattr__(self, "targets", tg)
        object.__setattr__(self, "w_mv", w)

    def __repr__(self) -> str:
        if not self.times_ms.size:
            return "SpikeInput(0 events)"
        n_inh = int((self.w_mv < 0).sum())
        return (
            f"SpikeInput({self.times_ms.size} events onto {np.unique(self.targets).size} neurons, "
            f"{self.times_ms.min():g}–{self.times_ms.max():g} ms, {n_inh} inhibitory)"
        )

    @classmethod
    def from_trains(cls, trains_ms, w_mv):
        """One spike train per postsynaptic neuron: ``trains_ms[i]`` arrives at neuron ``i``.

        ``w_mv`` is one jump for all, or one per neuron.
        """
        trains = [np.asarray(t, dtype=np.float64).ravel() for t in trains_ms]
        w_post = np.broadcast_to(np.asarray(w_mv, dtype=np.float64), (len(trains),))
        sizes = np.array([t.size for t in trains], dtype=np.int64)
        targets = np.repeat(np.arange(len(trains)), sizes)
        times = np.concatenate(trains) if trains else np.zeros(0)
        return cls(times, targets, w_post[targets])

    @classmethod
    def from_weights(cls, trains_ms, w_mv):
        """Presynaptic trains through a weight matrix ``w_mv`` of shape (n_pre, n_post), in mV.

        A spike of presynaptic neuron ``j`` makes every neuron ``i`` with ``w_mv[j, i] != 0`` jump.
        """
        w = np.asarray(w_mv, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != len(trains_ms):
            raise ConfigError(f"w_mv must have shape (n_pre={len(trains_ms)}, n_post), got {w.shape}")
        times, targets, weights = [], [], []
        for j, train in enumerate(trains_ms):
            train = np.asarray(train, dtype=np.float64).ravel()
            post = np.flatnonzero(w[j])
            times.append(np.repeat(train, post.size))
            targets.append(np.tile(post, train.size))
            weights.append(np.tile(w[j, post], train.size))

        def cat(xs, dt):
            return np.concatenate(xs) if xs else np.zeros(0, dt)

        return cls(cat(times, np.float64), cat(targets, np.int64), cat(weights, np.float64))


# -- what a run returns ------------------------------------------------------------------------
@dataclass(repr=False)
class LIFRecord:
    """Spikes (and optionally voltages) of one ``LIFPopulation.run``.

    Attributes
    ----------
    spike_neuron : int64 array (n_spikes,)
        Which neuron fired, in order of spike time.
    spike_time_ms : float64 array (n_spikes,)
        When (absolute simulated time).
    spike_counts : int64 array (n,)
        Spikes per neuron during this run.
    t_start_ms, duration_ms, dt_ms : float
    spike_timing : str
        The mode the spikes were timed with (see ``neuronet.bio.lif``).
    v_trace_mv : float64 array (n_steps + 1, n_recorded) or None
        Voltage of the recorded neurons at every step boundary, ``v_reset`` while refractory.
        The sample at ``t`` is the voltage just before the input spikes that arrive at ``t``.
    v_trace_t_ms : float64 array (n_steps + 1,) or None
    recorded : int64 array (n_recorded,) or None
    """

    spike_neuron: np.ndarray
    spike_time_ms: np.ndarray
    spike_counts: np.ndarray
    t_start_ms: float
    duration_ms: float
    dt_ms: float
    spike_timing: str
    v_trace_mv: np.ndarray | None = None
    v_trace_t_ms: np.ndarray | None = None
    recorded: np.ndarray | None = None

    def __repr__(self) -> str:
        end = self.t_start_ms + self.duration_ms
        traces = "" if self.recorded is None else f", traces of {len(self.recorded)} neurons"
        return (
            f"LIFRecord(n={self.spike_counts.size}, {self.spike_neuron.size} spikes, "
            f"{self.t_start_ms:g}–{end:g} ms, dt {self.dt_ms:g} ms, {self.spike_timing}{traces})"
        )

    def plot(self, **kwargs):
        """Raster plus voltage traces as a matplotlib Figure (``report.notebook.lif_raster_figure``)."""
        from ..report.notebook import lif_raster_figure

        return lif_raster_figure(self, **kwargs)

    @property
    def rates_hz(self) -> np.ndarray:
        """Spike count / duration, per neuron (spikes per second)."""
        return self.spike_counts / (self.duration_ms / 1000.0)

    def spike_trains(self) -> list:
        """Spike times (ms) of each neuron, a list of length n."""
        order = np.argsort(self.spike_neuron, kind="stable")
        bounds = np.cumsum(self.spike_counts)[:-1]
        return np.split(self.spike_time_ms[order], bounds)

    def isi_rates_hz(self) -> np.ndarray:
        """``1 / mean interspike interval`` per neuron; 0 where a neuron fired fewer than twice.

        For a regularly firing neuron this is the rate without the ±1 spike quantisation of
        ``count / duration`` (first spike minus last spike spans exactly ``count - 1`` intervals).
        """
        out = np.zeros(self.spike_counts.size)
        for i, t in enumerate(self.spike_trains()):
            if t.size >= 2:
                out[i] = 1000.0 * (t.size - 1) / (t[-1] - t[0])
        return out
