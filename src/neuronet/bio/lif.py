"""Leaky integrate-and-fire neurons, integrated exactly between time steps.

The membrane equation (Lapicque 1907; Gerstner et al., *Neuronal Dynamics*, 2014, ch. 1)::

    tau_m dv/dt = -(v - v_rest) + R I(t)

with the spike rule: when ``v`` reaches ``v_thresh`` the neuron emits a spike, ``v`` is set to
``v_reset`` and held there for the absolute refractory period ``t_ref``.

Units are written into the names: ms, mV, MΩ and nA, so that ``R I`` is in mV (MΩ · nA = mV).
Everything is float64: spike times must resolve a fraction of a 0.1 ms step over seconds.

Integration
-----------
The current is held constant over each step (the value at the start of the step), so the
membrane equation is linear with a constant input and its solution over one step is exact::

    v_inf      = v_rest + R I                           # the fixed point the membrane relaxes to
    v(t + dt)  = v_inf + (v(t) - v_inf) exp(-dt / tau_m)
               = v(t) exp(-dt / tau_m) + v_inf (1 - exp(-dt / tau_m))   # the form the loop computes

There is no Euler error, whatever ``dt``.  What ``dt`` still limits is *when* a threshold
crossing is noticed; ``spike_timing`` chooses how that is handled:

``"exact"`` (default)
    The crossing time inside the step is solved from the exponential, counting back from the
    end of the step: ``v_inf - v_thresh = (v_inf - v(t+dt)) exp(s / tau_m)``, so the spike
    happened ``s = tau_m ln((v_inf - v_thresh) / (v_inf - v(t+dt)))`` before the step's end.
    The refractory period starts at that moment and usually ends inside a later step; the
    neuron then integrates from ``v_reset`` over the rest of that step only.  With a constant
    current every interspike interval equals the analytic ``t_ref + tau_m ln(...)`` up to
    rounding.
``"linear"``
    The crossing time is interpolated linearly between the voltage at the start of the
    integration interval and at its end (the classic correction; error O(dt²)).  Refractory
    periods end mid-step as for ``"exact"``.
``"none"``
    No interpolation.  The spike is stamped at the *start* of the step whose integration reached
    the threshold, the refractory period is rounded to whole steps
    (``floor(t_ref / dt + 1e-3)``) and integration resumes that many steps after the spike step.
    This is Brian2's convention (threshold checked after the state update, spike time ``t`` of
    that step, ``not_refractory = timestep(t - lastspike) >= timestep(t_ref)``), so the two
    simulators can be compared spike for spike.

Synaptic input
--------------
Presynaptic spikes act as *voltage jumps* (delta synapses, Brian2's ``on_pre="v += w"``): each
one adds ``w_mv`` to ``v`` at once, and the membrane then forgets it with time constant
``tau_m``, so an input's effect is the kernel ``w_mv exp(-t / tau_m)``.  Inputs that arrive
within about ``tau_m`` of each other add up; inputs that arrive slowly decay away before the
next one comes.  Jumps were chosen over current pulses because this summation-with-decay is then
visible without a second time constant.  Input times are rounded to the nearest step boundary;
a jump is applied at the start of that step, before integrating, and a jump that takes ``v`` to
the threshold makes the neuron spike at that instant.  Input that arrives while a neuron is
refractory is lost (its voltage is clamped).

Implementation notes
--------------------
The step loop works in place on preallocated arrays.  Refractory neurons are *not* clamped on
every step: their internal voltage runs free and is overwritten with ``v_reset`` when the
refractory period ends (a scheduled, usually small, set), and their threshold crossings are
ignored.  Everything the caller sees (``v_mv``, recorded traces) shows ``v_reset`` for them.

This module holds the population; the input events and the record (``SpikeInput``,
``LIFRecord``) live in ``bio.spikes``, the rate–current closed forms and the logistic fit in
``bio.lif_rate``.  All of them can be imported from here.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .lif_rate import LogisticFit, analytic_rate_hz, fit_logistic, threshold_current_na
from .spikes import LIFRecord, SpikeInput

__all__ = [
    "SPIKE_TIMINGS",
    "LIFPopulation",
    "LIFRecord",
    "LogisticFit",
    "SpikeInput",
    "analytic_rate_hz",
    "fit_logistic",
    "threshold_current_na",
]

SPIKE_TIMINGS = ("exact", "linear", "none")


# -- the population ----------------------------------------------------------------------------
class LIFPopulation:
    """``n`` uncoupled leaky integrate-and-fire neurons, stepped together.

    Parameters
    ----------
    n : int
        Number of neurons.
    tau_m_ms, r_mohm, v_rest_mv, v_reset_mv, v_thresh_mv, t_ref_ms : float
        Membrane time constant, input resistance, resting, reset and threshold voltages and
        absolute refractory period.  ``v_reset_mv`` defaults to ``v_rest_mv``.
    dt_ms : float
        Time step.
    spike_timing : {"exact", "linear", "none"}
        How a threshold crossing inside a step is timed (module docstring).
    v0_mv : float or array (n,), optional
        Initial voltage; default ``v_rest_mv``.

    The population keeps its state (voltages, refractory clocks, time) between calls to
    ``run``; ``reset()`` returns it to the initial state.

    Examples
    --------
    >>> pop = LIFPopulation(3, dt_ms=0.1)
    >>> rec = pop.run(1000.0, i_na=[1.0, 2.5, 20.0])     # 1 s of constant currents
    >>> rec.spike_counts.tolist()                          # below threshold, 2.5 nA, 20 nA
    [0, 58, 487]
    """

    def __init__(
        self,
        n,
        *,
        tau_m_ms=10.0,
        r_mohm=10.0,
        v_rest_mv=-70.0,
        v_reset_mv=None,
        v_thresh_mv=-50.0,
        t_ref_ms=1.0,
        dt_ms=0.1,
        spike_timing="exact",
        v0_mv=None,
    ):
        if int(n) != n or n < 1:
            raise ConfigError(f"n must be a positive integer, got {n!r}")
        v_reset_mv = v_rest_mv if v_reset_mv is None else v_reset_mv
        for name, value in (
            ("tau_m_ms", tau_m_ms),
            ("r_mohm", r_mohm),
            ("v_rest_mv", v_rest_mv),
            ("v_reset_mv", v_reset_mv),
            ("v_thresh_mv", v_thresh_mv),
            ("t_ref_ms", t_ref_ms),
            ("dt_ms", dt_ms),
        ):
            if not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value!r}")
        for name, value in (("tau_m_ms", tau_m_ms), ("r_mohm", r_mohm), ("dt_ms", dt_ms)):
            if value <= 0:
                raise ConfigError(f"{name} must be > 0, got {value!r}")
        if t_ref_ms < 0:
            raise ConfigError(f"t_ref_ms must be >= 0, got {t_ref_ms!r}")
        if v_reset_mv >= v_thresh_mv:
            raise ConfigError(f"v_reset_mv ({v_reset_mv}) must lie below v_thresh_mv ({v_thresh_mv})")
        if spike_timing not in SPIKE_TIMINGS:
            raise ConfigError(f"unknown spike_timing {spike_timing!r}; valid: {', '.join(SPIKE_TIMINGS)}")
        self.n = int(n)
        self.tau_m_ms = float(tau_m_ms)
        self.r_mohm = float(r_mohm)
        self.v_rest_mv = float(v_rest_mv)
        self.v_reset_mv = float(v_reset_mv)
        self.v_thresh_mv = float(v_thresh_mv)
        self.t_ref_ms = float(t_ref_ms)
        self.dt_ms = float(dt_ms)
        self.spike_timing = spike_timing
        self._v0 = self.v_rest_mv if v0_mv is None else v0_mv
        self.reset()

    def __repr__(self):
        return (
            f"LIFPopulation(n={self.n}, tau_m_ms={self.tau_m_ms:g}, r_mohm={self.r_mohm:g}, "
            f"v_rest_mv={self.v_rest_mv:g}, v_reset_mv={self.v_reset_mv:g}, v_thresh_mv={self.v_thresh_mv:g}, "
            f"t_ref_ms={self.t_ref_ms:g}, dt_ms={self.dt_ms:g}, spike_timing={self.spike_timing!r}, "
            f"t_ms={self.t_ms:g})"
        )

    # -- state ---------------------------------------------------------------------------------
    def reset(self):
        """Back to t = 0, every neuron at ``v0_mv`` and not refractory."""
        v0 = np.asarray(self._v0, dtype=np.float64)
        if v0.ndim not in (0, 1) or (v0.ndim == 1 and v0.size != self.n) or not np.isfinite(v0).all():
            raise ConfigError(f"v0_mv must be a finite number or an array of {self.n}, got shape {v0.shape}")
        self._v = np.empty(self.n)
        self._v[:] = v0
        # the refractory period of neuron i lasts until step-time _release[i] (in steps, may be fractional)
        self._release = np.full(self.n, -np.inf)
        self._step = 0

    @property
    def t_ms(self) -> float:
        """Simulated time so far."""
        return self._step * self.dt_ms

    @property
    def v_mv(self) -> np.ndarray:
        """Membrane voltages now (a copy), ``v_reset`` for refractory neurons."""
        return np.where(self._release >= self._step, self.v_reset_mv, self._v)

    @property
    def refractory_steps(self) -> int:
        """Whole steps a neuron stays refractory in ``spike_timing="none"``."""
        return math.floor(self.t_ref_ms / self.dt_ms + 1e-3)

    def analytic_rate_hz(self, i_na):
        """``analytic_rate_hz`` with this population's parameters."""
        return analytic_rate_hz(
            i_na,
            tau_m_ms=self.tau_m_ms,
            r_mohm=self.r_mohm,
            v_rest_mv=self.v_rest_mv,
            v_reset_mv=self.v_reset_mv,
            v_thresh_mv=self.v_thresh_mv,
            t_ref_ms=self.t_ref_ms,
        )

    # -- input ---------------------------------------------------------------------------------
    def _current_source(self, i_na, n_steps):
        """``(constant (n,) array or None, per-step function or None)``, validated."""
        if callable(i_na):

            def at(k):
                i = np.asarray(i_na((self._step + k) * self.dt_ms), dtype=np.float64)
                if i.ndim > 1 or (i.ndim == 1 and i.size != self.n) or not np.isfinite(i).all():
                    raise ConfigError(
                        f"i_na(t) must return a finite number or an array of {self.n} at "
                        f"t = {(self._step + k) * self.dt_ms:g} ms, got {i!r}"
                    )
                return i

            return None, at
        i = np.asarray(i_na, dtype=np.float64)
        if not np.isfinite(i).all():
            raise ConfigError("i_na contains NaN or infinite values")
        if i.ndim == 0 or (i.ndim == 1 and i.size == self.n):
            return np.broadcast_to(i, (self.n,)).copy(), None
        if i.ndim == 2 and i.shape[1] in (1, self.n) and i.shape[0] >= n_steps:
            return None, (lambda k: i[k])
        raise ConfigError(
            f"i_na must be a number, an array of {self.n} (one per neuron), an array "
            f"(>= {n_steps} steps, {self.n} or 1) or a callable of t_ms; got shape {i.shape}"
        )

    def _jump_schedule(self, spikes, n_steps):
        """``{step: (targets, w_mv)}`` for the input events that fall inside this run."""
        if spikes is None or spikes.times_ms.size == 0:
            return {}
        if spikes.targets.max() >= self.n:
            raise ConfigError(f"SpikeInput targets neuron {int(spikes.targets.max())}, but n = {self.n}")
        step = np.floor(spikes.times_ms / self.dt_ms + 0.5).astype(np.int64)  # nearest step boundary
        inside = (step >= self._step) & (step < self._step + n_steps)
        step, targets, w = step[inside], spikes.targets[inside], spikes.w_mv[inside]
        order = np.argsort(step, kind="stable")
        step, targets, w = step[order], targets[order], w[order]
        uniq, first = np.unique(step, return_index=True)
        ends = np.append(first[1:], step.size)
        return {int(s): (targets[a:b], w[a:b]) for s, a, b in zip(uniq, first, ends)}

    # -- the simulation ------------------------------------------------------------------------
    def run(self, duration_ms, i_na=0.0, *, spikes: SpikeInput | None = None, record_v=None) -> LIFRecord:
        """Simulate ``duration_ms`` more milliseconds.

        Parameters
        ----------
        duration_ms : float
            Rounded to a whole number of steps.
        i_na : float, array or callable
            Input current in nA: a number (all neurons), an array (n,) (one constant per neuron),
            an array (n_steps, n) or (n_steps, 1) (row k is the current during step k of this
            run), or a function of the absolute time ``t_ms`` returning a number or an array (n,),
            evaluated at the start of each step.
        spikes : SpikeInput, optional
            Presynaptic spikes as voltage jumps; events outside this run's time window are ignored.
        record_v : array of int, optional
            Neurons whose voltage is recorded at every step boundary.

        Returns
        -------
        LIFRecord
        """
        if not (isinstance(duration_ms, (int, float, np.number)) and math.isfinite(duration_ms) and duration_ms >= 0):
            raise ConfigError(f"duration_ms must be a finite number >= 0, got {duration_ms!r}")
        n_steps = round(duration_ms / self.dt_ms)
        constant_i, current_at = self._current_source(i_na, n_steps)
        jumps = self._jump_schedule(spikes, n_steps)
        rec_idx = None if record_v is None else np.asarray(record_v, dtype=np.int64).ravel()
        if rec_idx is not None and rec_idx.size and (rec_idx.min() < 0 or rec_idx.max() >= self.n):
            raise ConfigError(f"record_v indices must lie in [0, {self.n}), got {rec_idx.min()}..{rec_idx.max()}")

        k0, v, release = self._step, self._v, self._release
        grid = self.spike_timing == "none"
        t_ref_steps = float(self.refractory_steps) if grid else self.t_ref_ms / self.dt_ms
        log = _SpikeLog(v, release, self.v_reset_mv, t_ref_steps)
        pending = np.flatnonzero(release >= k0)  # not yet back at v_reset (k0 itself included)
        if pending.size:
            log.schedule(pending, release[pending])
        # a neuron that starts at or above threshold fires at once
        start_above = np.flatnonzero((v >= self.v_thresh_mv) & (release < k0))
        if start_above.size and n_steps:
            log.fire(start_above, float(k0))
        trace = None
        if rec_idx is not None:
            trace = np.empty((n_steps + 1, rec_idx.size))
            trace[0] = np.where(release[rec_idx] >= k0, self.v_reset_mv, v[rec_idx])

        self._integrate(log, n_steps, constant_i, current_at, jumps, trace, rec_idx)
        self._step = k0 + n_steps

        dt = self.dt_ms
        neuron, t_steps = log.spikes()
        return LIFRecord(
            spike_neuron=neuron,
            spike_time_ms=t_steps * dt,
            spike_counts=np.bincount(neuron, minlength=self.n).astype(np.int64),
            t_start_ms=k0 * dt,
            duration_ms=n_steps * dt,
            dt_ms=dt,
            spike_timing=self.spike_timing,
            v_trace_mv=trace,
            recorded=rec_idx,
            v_trace_t_ms=None if trace is None else (k0 + np.arange(n_steps + 1)) * dt,
        )

    def _integrate(self, log, n_steps, constant_i, current_at, jumps, trace, rec_idx):
        """The step loop of ``run``: ``n_steps`` steps from ``self._step``, in place on ``self._v``.

        Every step: end refractory periods, apply input jumps, integrate exactly, fire.  The
        loop stays one piece, with its arrays and numpy functions bound to locals, because it is
        the hot path (per-step Python overhead is the whole cost for small populations).
        """
        dt, tau = self.dt_ms, self.tau_m_ms
        v_reset, v_thresh = self.v_reset_mv, self.v_thresh_mv
        decay = math.exp(-dt / tau)  # exp(-dt / tau_m), one step of relaxation
        grid = self.spike_timing == "none"
        exact = self.spike_timing == "exact"
        k0 = self._step
        v = self._v  # (n,) internal voltage; free-running while refractory
        release = self._release  # (n,) end of refractoriness, in steps
        v_inf = np.empty(self.n)  # (n,) v_rest + R I for the current step
        drive = np.empty(self.n)  # (n,) v_inf (1 - decay)
        above = np.empty(self.n, dtype=bool)
        v_start = np.empty(self.n) if self.spike_timing == "linear" else None

        def set_current(i):
            np.multiply(i, self.r_mohm, out=v_inf)
            np.add(v_inf, self.v_rest_mv, out=v_inf)
            np.multiply(v_inf, 1.0 - decay, out=drive)

        if constant_i is not None:
            set_current(constant_i)
        ends, fire = log.ends, log.fire
        mul, add, ge = np.multiply, np.add, np.greater_equal
        for j in range(n_steps):
            k = k0 + j
            if current_at is not None:
                set_current(current_at(j))
            # 1. refractory periods ending in this step: back to v_reset
            ended = ends.pop(k, None)
            partial = None
            if ended is not None:
                if len(ended) == 1:
                    idx, frac = ended[0]
                else:
                    idx = np.concatenate([i for i, _ in ended])
                    frac = np.concatenate([np.broadcast_to(f, i.shape) for i, f in ended])
                v[idx] = v_reset
                if not grid:  # grid releases fall on step boundaries
                    frac = np.broadcast_to(frac, idx.shape)
                    mid = frac > 0
                    if mid.any():
                        partial = (idx[mid], frac[mid])
            # 2. input spikes at t_k: jump, and fire at once if that reaches threshold
            event = jumps.get(k)
            if event is not None:
                np.add.at(v, event[0], event[1])
                hit = np.unique(event[0])
                hit = hit[(v[hit] >= v_thresh) & (release[hit] <= k)]
                if hit.size:
                    fire(hit, float(k))
            if v_start is not None:
                np.copyto(v_start, v)
            # 3. one exact step: v <- v exp(-dt/tau_m) + v_inf (1 - exp(-dt/tau_m))
            mul(v, decay, out=v)
            add(v, drive, out=v)
            # 4. neurons released mid-step integrate only the rest of the step, from v_reset
            if partial is not None:
                p, frac = partial
                v[p] = v_inf[p] + (v_reset - v_inf[p]) * np.exp(-(1.0 - frac) * dt / tau)
            # 5. threshold crossings of neurons that are not refractory
            ge(v, v_thresh, out=above)
            crossed = above.nonzero()[0]
            if crossed.size:
                crossed = crossed[release[crossed] < k + 1]
                if crossed.size:
                    if grid:
                        t_spike = float(k)  # Brian2: stamped at the step's t
                    else:
                        t_spike = self._crossing_time(k, crossed, v, v_inf, v_start, release, exact)
                        order = np.argsort(t_spike)  # keep the record in time order
                        crossed, t_spike = crossed[order], t_spike[order]
                    fire(crossed, t_spike)
            if trace is not None:
                trace[j + 1] = np.where(release[rec_idx] >= k + 1, v_reset, v[rec_idx])

    def _crossing_time(self, k, idx, v, v_inf, v_start, release, exact):
        """Step-time in ``[start, k + 1]`` at which ``v`` of neurons ``idx`` reached threshold in step ``k``.

        The integration interval starts at ``k``, or later for a neuron released mid-step
        (its voltage then starts from ``v_reset``).
        """
        start = np.maximum(release[idx], float(k))  # (m,) in steps
        vi = v_inf[idx]
        v_end = v[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            if exact:
                # v_inf - v_thresh = (v_inf - v_end) exp(s / tau_m): s is the time from crossing to step end
                s_steps = self.tau_m_ms / self.dt_ms * np.log((vi - self.v_thresh_mv) / (vi - v_end))
                t = (k + 1.0) - s_steps
            else:
                released = release[idx] > k
                v0 = np.where(released, self.v_reset_mv, v_start[idx])
                t = start + (k + 1.0 - start) * (self.v_thresh_mv - v0) / (v_end - v0)
        t = np.where(np.isfinite(t), t, start)
        return np.clip(t, start, k + 1.0)


class _SpikeLog:
    """The spikes of one ``LIFPopulation.run`` and the refractory periods they start.

    ``fire`` resets the spiking neurons to ``v_reset``, sets their refractory clocks
    (``release``, in steps, shared with the population) and schedules the end of each period
    in ``ends``: ``{step: [(idx, fraction of that step still refractory)]}``.  ``fired`` keeps
    ``(idx, spike step-time)`` in time order, the time one float for all of ``idx`` (the
    common case) or one per neuron.
    """

    def __init__(self, v, release, v_reset, t_ref_steps):
        self.v = v  # (n,) the population's voltages, modified in place
        self.release = release  # (n,) the population's refractory clocks, modified in place
        self.v_reset = v_reset
        self.t_ref_steps = t_ref_steps
        self.ends = {}
        self.fired = []

    def schedule(self, idx, t_release):
        """Remember that neurons ``idx`` leave refractoriness at step-time ``t_release`` (scalar or array)."""
        ends = self.ends
        if isinstance(t_release, float):  # one time for all: the common case
            slot = math.floor(t_release)
            ends.setdefault(slot, []).append((idx, t_release - slot))
            return
        slot = np.floor(t_release)
        frac = t_release - slot
        slot = slot.astype(np.int64)
        lo, hi = int(slot.min()), int(slot.max())
        if lo == hi:
            ends.setdefault(lo, []).append((idx, frac))
            return
        if hi == lo + 1:  # spikes of one step: at most two slots
            m = slot == lo
            ends.setdefault(lo, []).append((idx[m], frac[m]))
            ends.setdefault(hi, []).append((idx[~m], frac[~m]))
            return
        for s in np.unique(slot):
            m = slot == s
            ends.setdefault(int(s), []).append((idx[m], frac[m]))

    def fire(self, idx, t_spike):
        """Spike at step-time ``t_spike``; reset, start the refractory clock, record."""
        self.v[idx] = self.v_reset
        t_release = t_spike + self.t_ref_steps
        self.release[idx] = t_release
        self.schedule(idx, t_release)
        self.fired.append((idx, t_spike))

    def spikes(self):
        """``(neuron, step-time)`` of every spike, int64 and float64 arrays (n_spikes,), in time order."""
        fired = self.fired
        neuron = np.concatenate([i for i, _ in fired] + [np.zeros(0, np.int64)])
        if all(isinstance(t, float) for _, t in fired):
            t_steps = np.repeat(np.array([t for _, t in fired]), np.array([i.size for i, _ in fired], dtype=np.int64))
        else:
            t_steps = np.concatenate([np.full(i.size, t) if isinstance(t, float) else t for i, t in fired])
        return neuron.astype(np.int64), t_steps
