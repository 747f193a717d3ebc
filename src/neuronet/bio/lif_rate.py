"""The firing rate of a leaky integrate-and-fire neuron as a function of its input current.

The closed forms for a constant current (the rheobase and the rate, Gerstner et al., *Neuronal
Dynamics*, 2014, ch. 1) and a logistic fit of a measured rate–current curve: the curve rises
abruptly at the rheobase and saturates at ``1 / t_ref``, like a sigmoid.  Units are in the
names: ms, mV, MΩ, nA, Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

__all__ = ["LogisticFit", "analytic_rate_hz", "fit_logistic", "threshold_current_na"]


# -- closed forms ------------------------------------------------------------------------------
def threshold_current_na(*, r_mohm=10.0, v_rest_mv=-70.0, v_thresh_mv=-50.0) -> float:
    """The rheobase: the smallest constant current that ever reaches threshold, ``(v_thresh - v_rest) / R``."""
    return (v_thresh_mv - v_rest_mv) / r_mohm


def analytic_rate_hz(
    i_na, *, tau_m_ms=10.0, r_mohm=10.0, v_rest_mv=-70.0, v_reset_mv=None, v_thresh_mv=-50.0, t_ref_ms=1.0
):
    """Firing rate of a LIF neuron driven by a constant current.

    From ``v_reset`` the membrane climbs towards ``v_inf = v_rest + R I`` and reaches the
    threshold after ``T = tau_m ln((v_inf - v_reset) / (v_inf - v_thresh))``; each spike costs
    ``t_ref`` more, so::

        r = 1 / (t_ref + tau_m ln((v_inf - v_reset) / (v_inf - v_thresh)))   if v_inf > v_thresh
        r = 0                                                                otherwise

    With ``v_reset = v_rest`` (the default) this is the textbook
    ``1 / (t_ref + tau_m ln(R I / (R I - (v_thresh - v_rest))))``.  The rate never reaches
    ``1 / t_ref`` but approaches it as ``I -> inf``.

    Parameters
    ----------
    i_na : float or array
        Constant input current(s) in nA.

    Returns
    -------
    float64 array (or float) of rates in spikes per second.
    """
    v_reset_mv = v_rest_mv if v_reset_mv is None else v_reset_mv
    i = np.asarray(i_na, dtype=np.float64)
    if not np.isfinite(i).all():
        raise ConfigError(f"i_na: every current must be a finite number, got {i_na!r}")
    for name, v, low in (("tau_m_ms", tau_m_ms, "> 0"), ("r_mohm", r_mohm, "> 0"), ("t_ref_ms", t_ref_ms, ">= 0")):
        if not (math.isfinite(v) and (v > 0 or (low == ">= 0" and v == 0))):
            raise ConfigError(f"{name}: must be a finite number {low}, got {v!r}")
    v_inf = v_rest_mv + r_mohm * i
    fires = v_inf > v_thresh_mv
    with np.errstate(divide="ignore", invalid="ignore"):
        t_to_thresh_ms = tau_m_ms * np.log((v_inf - v_reset_mv) / (v_inf - v_thresh_mv))
        rate = np.where(fires, 1000.0 / (t_ref_ms + t_to_thresh_ms), 0.0)
    return float(rate) if rate.ndim == 0 else rate


# -- the sigmoid in the rate curve -------------------------------------------------------------
@dataclass(frozen=True)
class LogisticFit:
    """``y = a + b / (1 + exp(-(x - c) / d))`` fitted by least squares.

    ``x`` is the current in nA, or ``log10`` of it when ``log_x`` (then ``c`` is in log10 nA and
    ``midpoint_na = 10**c``).  ``r2`` is the coefficient of determination on the fitted points,
    ``max_abs_residual`` the largest miss in the units of ``y``.
    """

    a: float
    b: float
    c: float
    d: float
    log_x: bool
    r2: float
    rmse: float
    max_abs_residual: float

    @property
    def midpoint_na(self) -> float:
        return 10.0**self.c if self.log_x else self.c

    def __call__(self, i_na):
        x = np.asarray(i_na, dtype=np.float64)
        if self.log_x:
            x = np.log10(x)
        return self.a + self.b / (1.0 + np.exp(-(x - self.c) / self.d))


def fit_logistic(i_na, rate_hz, *, log_x=True, offset=True) -> LogisticFit:
    """Fit a logistic curve to a rate–current curve with ``scipy.optimize.curve_fit``.

    Parameters
    ----------
    i_na, rate_hz : arrays (m,)
        The curve; with ``log_x`` every current must be > 0.
    log_x : bool
        Fit against ``log10(i_na)``.  The LIF curve rises abruptly at the rheobase and then
        approaches ``1/t_ref`` like ``1/I``, which is a logistic tail in ``log I``; against
        linear ``I`` the fit drifts to degenerate parameters.
    offset : bool
        Fit the baseline ``a`` too (4 parameters); otherwise ``a = 0``.
    """
    from scipy.optimize import curve_fit  # scipy comes with scikit-learn; imported only here

    x = np.asarray(i_na, dtype=np.float64)
    y = np.asarray(rate_hz, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 5:
        raise ConfigError(f"fit_logistic needs two equal 1-D arrays of >= 5 points, got {x.shape} and {y.shape}")
    if log_x:
        if (x <= 0).any():
            raise ConfigError("fit_logistic(log_x=True) needs currents > 0")
        x = np.log10(x)
    span = float(x.max() - x.min()) or 1.0
    mid = float(x[np.argmin(np.abs(y - 0.5 * (y.min() + y.max())))])
    if offset:

        def f(x, a, b, c, d):
            return a + b / (1.0 + np.exp(-(x - c) / d))

        p0 = [float(y.min()), float(y.max() - y.min()), mid, span / 10]
    else:

        def f(x, b, c, d):
            return b / (1.0 + np.exp(-(x - c) / d))

        p0 = [float(y.max()), mid, span / 10]
    with np.errstate(over="ignore"):
        p, _ = curve_fit(f, x, y, p0=p0, maxfev=20000)
        resid = y - f(x, *p)
    a, b, c, d = p if offset else (0.0, *p)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else float("nan")
    return LogisticFit(
        a=float(a),
        b=float(b),
        c=float(c),
        d=float(d),
        log_x=log_x,
        r2=r2,
        rmse=float(np.sqrt(np.mean(resid**2))),
        max_abs_residual=float(np.abs(resid).max()),
    )
