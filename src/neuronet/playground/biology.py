"""The biology tab: one LIF neuron, Hopfield memory under damage, Hebb vs Oja in the plane.

Everything here runs ``neuronet.bio`` (numpy only) and returns JSON-ready dicts for the page.
Inputs are checked with the playground's ``OptionError`` (the field names are the controls'
``data-testid`` values).

* :func:`lif_view`: a leaky integrate-and-fire neuron driven by a constant current or by a
  slow or fast regular train of input spikes (voltage jumps): the voltage trace with its
  spikes, the firing rate, and the f–I curve (closed form and simulated points) under its
  ``1/t_ref`` ceiling.
* :class:`HopfieldDemo`: binarised digit patterns stored by Hebb's rule in a 64-neuron
  Hopfield network; a cue corrupted by a chosen fraction, a chosen fraction of neurons
  killed after storage, and recall one asynchronous sweep at a time with overlap and energy.
* :func:`plasticity_view`: one linear neuron learning from a correlated 2-D cloud with
  plain Hebb (|w| grows without bound) and with Oja's rule (|w| → 1 along PC1).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..bio import (
    Hopfield,
    LIFPopulation,
    SpikeInput,
    abs_cosine,
    analytic_rate_hz,
    correlated_gaussian,
    first_principal_component,
    flip_bits,
    overlap,
    run_rule,
    threshold_current_na,
)
from .options import OptionError, _short

# -- one LIF neuron ------------------------------------------------------------------------------
LIF_INPUTS = ("current", "slow", "fast")
MAX_CURRENT_NA = 50.0
TRACE_MS = 300.0
DT_MS = 0.1
#: input spike trains: interval between spikes (ms) and the voltage jump of each (mV)
SPIKE_INTERVAL_MS = {"slow": 25.0, "fast": 2.0}
SPIKE_JUMP_MV = 4.0
FI_POINTS_NA = (2.5, 3, 4, 6, 8, 12, 16, 20, 30, 40, 50)


def _number(field, value, low, high, *, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise OptionError(field, f"expected a number, got {value!r}")
    try:
        v = float(value)
    except (ValueError, OverflowError):  # OverflowError: an integer of 310 digits and more
        raise OptionError(field, f"expected a number, got {_short(value)}") from None
    if not math.isfinite(v) or not low <= v <= high:
        raise OptionError(field, f"must lie in [{low:g}, {high:g}], got {value!r}")
    if integer:
        if not v.is_integer():
            raise OptionError(field, f"expected a whole number, got {value!r}")
        return int(v)
    return v


@functools.lru_cache(maxsize=16)
def _simulated_fi(t_ref_ms: float) -> list:
    """Simulated (current, rate) points of the f–I curve: one neuron per current, run together."""
    pop = LIFPopulation(len(FI_POINTS_NA), t_ref_ms=t_ref_ms, dt_ms=DT_MS)
    rec = pop.run(TRACE_MS, np.array(FI_POINTS_NA, dtype=np.float64))
    return [[i, round(float(r), 2)] for i, r in zip(FI_POINTS_NA, rec.isi_rates_hz())]


def lif_view(current_na=5.0, input="current", t_ref_ms=1.0) -> dict:
    """Trace, rate and f–I curve of one LIF neuron (``neuronet.bio.lif`` defaults otherwise)."""
    i_na = _number("lif-current", current_na, 0.0, MAX_CURRENT_NA)
    t_ref = _number("lif-t-ref", t_ref_ms, 0.2, 5.0)
    if input not in LIF_INPUTS:
        raise OptionError("lif-input", f"unknown input {input!r}; valid: {', '.join(LIF_INPUTS)}")
    pop = LIFPopulation(1, t_ref_ms=t_ref, dt_ms=DT_MS)
    if input == "current":
        rec = pop.run(TRACE_MS, i_na, record_v=[0])
    else:
        train = np.arange(5.0, TRACE_MS, SPIKE_INTERVAL_MS[input])
        rec = pop.run(TRACE_MS, 0.0, spikes=SpikeInput.from_trains([train], SPIKE_JUMP_MV), record_v=[0])
    count = int(rec.spike_counts[0])
    # a regular neuron's rate is 1/ISI exactly; count/duration is off by up to one spike
    rate = float(rec.isi_rates_hz()[0]) if count >= 2 else count / (TRACE_MS / 1000.0)
    v = rec.v_trace_mv[::2, 0]  # every 0.2 ms
    spikes_ms = rec.spike_time_ms.round(2).tolist()
    inputs_ms = [] if input == "current" else np.arange(5.0, TRACE_MS, SPIKE_INTERVAL_MS[input]).tolist()
    currents = np.linspace(0.0, MAX_CURRENT_NA, 201)
    return {
        "type": "lif",
        "input": input,
        "current_na": i_na,
        "t_ref_ms": t_ref,
        "rate_hz": round(rate, 2),
        "ceiling_hz": 1000.0 / t_ref,
        "threshold_na": threshold_current_na(),
        "analytic_hz": round(float(analytic_rate_hz(i_na, t_ref_ms=t_ref)), 2) if input == "current" else None,
        "trace": {"dt_ms": 2 * DT_MS, "v_mv": np.round(v, 2).tolist(), "spikes_ms": spikes_ms},
        "inputs_ms": inputs_ms,
        "v_thresh_mv": -50.0,
        "v_rest_mv": -70.0,
        "fi": {
            "current_na": currents.tolist(),
            "rate_hz": np.round(analytic_rate_hz(currents, t_ref_ms=t_ref), 2).tolist(),
            "simulated": _simulated_fi(t_ref),
        },
    }


# -- Hopfield memory -----------------------------------------------------------------------------
SIDE = 8  # digits are 8 × 8: 64 neurons
MAX_SWEEPS = 20


@functools.lru_cache(maxsize=1)
def digit_patterns() -> np.ndarray:
    """One ±1 pattern per digit 0–9, (10, 64): a typical image of each digit, cut at its median.

    8 × 8 digits overlap strongly (they share a blank border), and correlated memories interfere.
    Each digit's image is chosen among its 5 most typical (closest in angle to the class mean)
    to make the ten patterns overlap as little as possible (a few rounds of coordinate descent on
    the sum of squared overlaps), so that about three of them fit in 64 neurons.
    """
    from ..data import load

    ds = load("digits", test_fraction=0.2, seed=0)
    images = np.concatenate([ds.X_train, ds.X_test]).astype(np.float64)  # (1797, 64)
    labels = np.concatenate([ds.y_train, ds.y_test])
    spins = np.where(images > np.median(images, axis=1, keepdims=True), 1.0, -1.0)
    candidates = []
    for d in range(10):
        idx = np.flatnonzero(labels == d)
        typical = images[idx] @ images[idx].mean(axis=0) / np.linalg.norm(images[idx], axis=1)
        candidates.append(idx[np.argsort(-typical, kind="stable")[:5]])
    choice = [c[0] for c in candidates]
    for _ in range(5):
        for d in range(10):
            others = spins[[choice[e] for e in range(10) if e != d]]  # (9, 64)
            cost = ((spins[candidates[d]] @ others.T) ** 2).sum(axis=1)  # squared overlaps, up to 64²
            choice[d] = candidates[d][np.argmin(cost)]
    return spins[choice]


def _digits(value) -> tuple:
    if isinstance(value, str):
        value = [p for p in value.replace(",", " ").split() if p]
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 10:
        raise OptionError("hopfield-digits", f"expected 1–10 digits such as 0 3 4, got {value!r}")
    digits = tuple(_number("hopfield-digits", v, 0, 9, integer=True) for v in value)
    if len(set(digits)) != len(digits):
        raise OptionError("hopfield-digits", f"each digit once, got {value!r}")
    return digits


class HopfieldDemo:
    """Store digits, damage the network and the cue, recall one sweep at a time."""

    def __init__(self, digits=(0, 2, 7)):
        self.store(digits)

    def store(self, digits):
        """Store the patterns of ``digits`` (Hebb's rule); the cue is reset to the first one, intact."""
        self.digits = _digits(digits)
        self.patterns = digit_patterns()[list(self.digits)]
        self.full = Hopfield(self.patterns)
        self.cue(self.digits[0], 0.0, 0.0, 0)

    def cue(self, digit=None, corrupt=0.0, kill=0.0, seed=0):
        """Kill a fraction ``kill`` of the neurons; cue ``digit``'s pattern with a fraction ``corrupt`` flipped."""
        if digit is None or digit == "":
            digit = self.digits[0]
        digit = _number("hopfield-target", digit, 0, 9, integer=True)
        if digit not in self.digits:
            raise OptionError("hopfield-target", f"digit {digit} is not stored; stored: {list(self.digits)}")
        corrupt = _number("hopfield-corrupt", corrupt, 0.0, 1.0)
        kill = _number("hopfield-kill", kill, 0.0, 0.95)
        seed = _number("hopfield-seed", seed, 0, 2**31 - 1, integer=True)
        rng = np.random.default_rng(seed)
        self.target, self.corrupt, self.kill = self.digits.index(digit), corrupt, kill
        self.net, self.alive = self.full.remove_neurons(kill, rng)  # the survivors keep their synapses
        cue = flip_bits(self.patterns[self.target], corrupt, rng)
        self.state = cue[self.alive]
        self.rng = rng
        self.sweeps = 0
        self.energies = [float(self.net.energy(self.state))]
        self.converged = bool(self.net.is_fixed_point(self.state))

    def step(self):
        """One asynchronous sweep (every surviving neuron once, in a fresh random order)."""
        if self.converged or self.sweeps >= MAX_SWEEPS:
            return
        rec = self.net.recall_async(self.state, self.rng, max_sweeps=1, trace_energy=True)
        self.state = rec.states
        self.energies.extend(float(e) for e in rec.energies[1:])
        self.sweeps += 1
        self.converged = bool(self.net.is_fixed_point(self.state))

    def image(self) -> list:
        """The state on the 8 × 8 grid: +1, −1, or 0 for a dead neuron."""
        img = np.zeros(SIDE * SIDE)
        img[self.alive] = self.state
        return img.astype(int).tolist()

    def view(self) -> dict:
        overlaps = overlap(self.net.patterns, self.state[None, :])
        return {
            "type": "hopfield",
            "digits": list(self.digits),
            "target": self.digits[self.target],
            "corrupt": self.corrupt,
            "kill": self.kill,
            "alive": int(self.alive.sum()),
            "n_neurons": SIDE * SIDE,
            "side": SIDE,
            "state": self.image(),
            "patterns": [p.astype(int).tolist() for p in self.patterns],
            "sweeps": self.sweeps,
            "overlap": round(float(overlaps[self.target]), 4),
            "overlaps": [round(float(m), 4) for m in overlaps],
            "energy": round(self.energies[-1], 4),
            "energies": [round(e, 4) for e in self.energies[-2000:]],
            "converged": self.converged,
            "capacity": round(0.138 * SIDE * SIDE, 1),
        }


# -- Hebb vs Oja -------------------------------------------------------------------------------------
def plasticity_view(eta=0.02, epochs=5, seed=0) -> dict:
    """Hebb and Oja on the same cloud from the same start: trajectories, norms and alignment with PC1."""
    eta = _number("plasticity-eta", eta, 1e-4, 0.2)
    epochs = _number("plasticity-epochs", epochs, 1, 50, integer=True)
    seed = _number("plasticity-seed", seed, 0, 2**31 - 1, integer=True)
    rng = np.random.default_rng(seed)
    X, _ = correlated_gaussian(200, 2, rng, top_variance=1.0, ratio=0.15)
    pc1 = first_principal_component(X - X.mean(axis=0))
    w0 = rng.normal(0.0, 0.3, 2)
    rules = {}
    for rule in ("hebb", "oja"):
        traj = run_rule(rule, X, w0, eta=eta, epochs=epochs, rng=np.random.default_rng(seed + 1), stop_norm=1e6)
        keep = np.unique(np.linspace(0, len(traj.steps) - 1, min(len(traj.steps), 400)).round().astype(int))
        rules[rule] = {
            "weights": np.round(traj.weights[keep], 4).tolist(),
            "steps": traj.steps[keep].tolist(),
            "norms": [float(f"{n:.4g}") for n in traj.norms[keep]],
            "final_norm": float(f"{traj.norms[-1]:.4g}"),
            "cos_pc1": round(abs_cosine(traj.w, pc1), 4),
            "stopped_early": traj.stopped_early,
        }
    return {
        "type": "plasticity",
        "eta": eta,
        "epochs": epochs,
        "points": np.round(X, 3).tolist(),
        "pc1": pc1.round(4).tolist(),
        "w0": w0.round(4).tolist(),
        **rules,
    }
