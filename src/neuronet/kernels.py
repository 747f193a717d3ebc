"""Compiled element-wise kernels, loaded in the background, used once they are ready.

The hot loop of training is a few GEMMs (BLAS) plus element-wise work: the bias add and
the unit, the unit's derivative and the bias gradient, and the optimizer's pass over the
flat parameter buffer.  In NumPy each of those is several passes over memory (a momentum
step is four, Adam twelve).  ``neuronet._jit`` has numba kernels that do each in one pass
and give bit-identical results (see its docstring; ``tests/test_kernels.py`` checks it).

Loading numba and its cached kernels takes about a second of CPU, longer than ``import neuronet``
itself, so it never happens on import and never blocks training:

- ``warm_up()`` (called by ``Trainer.fit`` for a fit they would repay, ``expected_saving``) starts
  loading them in a daemon thread, once per process;
- ``active()`` returns the kernel module once loaded, else ``None``, and every caller
  then takes its NumPy path;
- ``disable()`` / ``enable()`` switch them off and on in this process (tests compare the paths).

Because the two paths give the same bits, a fit that starts on NumPy and continues on
the kernels ends with the same weights as one that ran on either alone.

``NEURONET_KERNELS`` selects: ``auto`` (default, as above), ``numpy`` (never load them: the
NumPy path, ~120 MB less memory), ``wait`` (every ``warm_up()`` loads them before returning,
whatever the size of the fit: benchmarks and tests).  If numba is
missing or fails to load, neuronet runs on NumPy and ``status()`` says why.
"""

from __future__ import annotations

import os
import threading

_MODES = ("auto", "numpy", "wait")
#: Networks with fewer parameters gain nothing measurable: a step is a few dozen NumPy calls on small
#: arrays, whose call overhead the kernels do not remove (scikit-learn's tanh (10,) on Fashion-MNIST,
#: 7,960 parameters, 3 epochs: 0.685 s on NumPy, 0.684 s with the kernels).
MIN_PARAMS = 20_000
#: Passes over single values (``expected_saving``) a fit must be expected to save before it loads the
#: kernels.  Loading takes ~1 s of CPU, which on two cores slows the fit it overlaps by ~0.5 s
#: (benchmarks/README.md, "When loading the kernels pays"): relu (100,) with Adam and L2 on
#: Fashion-MNIST breaks even at about 10 epochs (3.0e9) and gains 7-30% from 20 epochs (6.0e9).
MIN_SAVED = 5e9


def expected_saving(*, steps: int, params: int, optimizer_passes: int, batch: int, units: int) -> float:
    """Passes over single values the kernels would save in a fit of ``steps`` optimizer steps.

    Each step, the optimizer's kernel saves ``optimizer_passes`` passes over the ``params``
    parameters (``Optimizer.kernel_passes_saved``), and the unit kernels about two passes over the
    ``batch`` x ``units`` hidden activations (bias and unit forward; derivative and bias gradient
    backward).  0 below ``MIN_PARAMS``.  ``Trainer`` counts the steps of the epochs left, or of as
    many epochs as it has already trained if that is more (a training run that has gone on for a
    while, such as ``partial_fit`` one epoch at a time, is expected to go on as long again).
    """
    if params < MIN_PARAMS:
        return 0.0
    return float(steps) * (params * optimizer_passes + 2 * batch * units)


# "active": what active() returns (neuronet._jit once loaded, unless disabled); "loaded": the module once loaded
_state = {"status": "not loaded", "thread": None, "loaded": None, "active": None, "disabled": False}
_lock = threading.Lock()


def mode() -> str:
    """``NEURONET_KERNELS`` (``auto`` when unset); an unknown value counts as ``auto``."""
    m = os.environ.get("NEURONET_KERNELS", "auto").strip().lower()
    return m if m in _MODES else "auto"


def active():
    """The compiled kernels if they are loaded and enabled, else ``None`` (use NumPy)."""
    return _state["active"]


def status() -> str:
    """``"not loaded"``, ``"loading"``, ``"ready"``, ``"disabled (NEURONET_KERNELS=numpy)"`` or why loading failed.

    ``NEURONET_KERNELS`` is read when loading is asked for: kernels loaded before it was set to
    ``numpy`` stay in use (``disable()`` turns them off), and the status says ``"ready"``.
    """
    if _state["active"] is not None:
        return "ready"
    if mode() == "numpy":
        return "disabled (NEURONET_KERNELS=numpy)"
    if _state["disabled"]:
        return "disabled (kernels.disable())"
    return _state["status"]


def _before_fork():
    """Let a loading thread finish before the process forks: a child would inherit numba half-imported,
    with module locks held by a thread that does not exist there, and hang on its next ``import numba``."""
    t = _state["thread"]
    if t is not None and t.is_alive() and t is not threading.current_thread():
        t.join()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork)


def warm_up(wait: bool | None = None, saving: float | None = None):
    """Start loading the kernels (once per process); with ``wait`` (or ``NEURONET_KERNELS=wait``) finish first.

    ``saving`` (optional) is what the kernels would save in the job about to run
    (``expected_saving``); below ``MIN_SAVED`` nothing is loaded in ``auto`` mode: the job would
    not repay the load, ~1 s of CPU taken from its own cores and ~120 MB of memory (numba's LLVM).
    Returns the kernel module when it is ready, else ``None``.
    """
    m = mode()
    if m == "numpy" or _state["disabled"]:
        return None
    if wait is None:
        wait = m == "wait"
    if not wait and saving is not None and saving < MIN_SAVED and _state["loaded"] is None:
        return None
    with _lock:
        t = _state["thread"]
        if t is None and _state["status"] == "not loaded":
            _state["status"] = "loading"
            t = threading.Thread(target=_load, name="neuronet-kernels", daemon=True)
            _state["thread"] = t
            t.start()
    if wait and t is not None:
        t.join()
    return _state["active"]


def disable():
    """Use NumPy in this process until ``enable()`` (the kernels stay loaded); for tests and comparisons."""
    with _lock:
        _state["disabled"] = True
        _state["active"] = None


def enable():
    """Undo ``disable()``: the kernels are active again if they were loaded."""
    with _lock:
        _state["disabled"] = False
        _state["active"] = _state["loaded"]


def _load():
    try:
        import numpy as np

        from . import _jit

        for dt in (np.float32, np.float64):  # load (or compile) every signature the engine uses
            one, zero = dt(1), dt(0)
            v = np.zeros(4, dt)
            _jit.sgd(v, v, one)
            _jit.momentum(v, v, v, one, zero)
            _jit.nesterov(v, v, v, one, zero)
            _jit.adam(v, v, v, v, zero, one, zero, one, one, zero)
            _jit.add_scaled(v, v, one)
            a = np.zeros((2, 2), dt)
            b = np.zeros(2, dt)
            _jit.bias_relu(a, b, zero)
            _jit.back_relu(a, a, b, zero, one)
            _jit.back_sigmoid(a, a, b, one, zero)
            _jit.back_sigmoid_plain(a, a, b, one)
            _jit.back_tanh(a, a, b, one)
    except Exception as e:  # numba missing or broken: NumPy does the work, as it always can
        _state["status"] = f"unavailable ({type(e).__name__}: {e})".splitlines()[0][:200]
        return
    with _lock:
        _state["loaded"] = _jit
        _state["status"] = "ready"
        if not _state["disabled"]:
            _state["active"] = _jit
