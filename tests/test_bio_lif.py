"""Leaky integrate-and-fire neurons: closed forms and dynamics (the "lif" experiment: test_exp_lif.py)."""

import math

import numpy as np
import pytest

from neuronet.bio.lif import (
    SPIKE_TIMINGS,
    LIFPopulation,
    SpikeInput,
    analytic_rate_hz,
    fit_logistic,
    threshold_current_na,
)
from neuronet.errors import ConfigError

TAU_M_MS, R_MOHM, V_REST_MV, V_THRESH_MV, T_REF_MS = 10.0, 10.0, -70.0, -50.0, 1.0
I_TH_NA = (V_THRESH_MV - V_REST_MV) / R_MOHM  # 2 nA


def _t_to_thresh_ms(i_na):
    """Time from v_rest to threshold under constant current: tau ln(RI / (RI - 20 mV))."""
    ri = R_MOHM * i_na
    return TAU_M_MS * math.log(ri / (ri - (V_THRESH_MV - V_REST_MV)))


# -- closed forms -------------------------------------------------------------------------------
def test_analytic_rate_hand_worked():
    # I = 2.5 nA: RI = 25 mV, T = 10 ln(25 / 5) = 16.094 ms, r = 1000 / (1 + 16.094) = 58.50 /s
    assert analytic_rate_hz(2.5) == pytest.approx(1000 / (1 + 10 * math.log(5)), rel=1e-12)
    assert analytic_rate_hz(2.5) == pytest.approx(58.50, abs=0.01)
    # at and below the rheobase: zero
    np.testing.assert_array_equal(analytic_rate_hz([0.0, 1.0, 2.0, -3.0]), 0.0)
    assert threshold_current_na() == 2.0


def test_analytic_rate_with_reset_below_rest():
    # from v_reset = -80 mV: T = tau ln((v_inf - v_reset) / (v_inf - v_th)) = 10 ln(35 / 5)
    r = analytic_rate_hz(2.5, v_reset_mv=-80.0)
    assert r == pytest.approx(1000 / (1 + 10 * math.log(7)), rel=1e-12)


# -- (a) simulated rate = analytic rate ---------------------------------------------------------
@pytest.mark.parametrize("spike_timing", ["exact", "linear"])
def test_rate_matches_analytic_within_one_percent(spike_timing):
    currents = np.geomspace(2.05, 500.0, 40)  # all above threshold (2 nA)
    pop = LIFPopulation(currents.size, dt_ms=0.1, spike_timing=spike_timing)
    rec = pop.run(1000.0, i_na=currents)
    expected = analytic_rate_hz(currents)
    assert (rec.spike_counts >= 2).all(), f"every current should fire at least twice, got {rec.spike_counts}"
    err = np.abs(rec.isi_rates_hz() / expected - 1)
    assert err.max() < 0.01, f"{spike_timing}: worst relative error {err.max():.3g} at {currents[err.argmax()]:.3g} nA"


def test_exact_crossing_time_of_first_spike():
    currents = np.array([2.5, 5.0, 20.0, 200.0])
    rec = LIFPopulation(4, dt_ms=0.1, spike_timing="exact").run(200.0, i_na=currents)
    first = np.array([t[0] for t in rec.spike_trains()])
    expected = np.array([_t_to_thresh_ms(i) for i in currents])
    np.testing.assert_allclose(first, expected, atol=1e-9, err_msg="exact crossing time off")
    # with no interpolation the spike is stamped at the start of the crossing step
    rec_grid = LIFPopulation(4, dt_ms=0.1, spike_timing="none").run(200.0, i_na=currents)
    first_grid = np.array([t[0] for t in rec_grid.spike_trains()])
    np.testing.assert_allclose(first_grid, np.floor(expected / 0.1) * 0.1, atol=1e-9)


def test_no_interpolation_overestimates_rate_at_coarse_dt():
    # the reason for interpolating: stamping spikes on the grid makes every interval a whole number of
    # steps, shorter than the true one, so rates come out several percent high for some currents
    i = np.array([20.0, 500.0])
    grid = LIFPopulation(2, spike_timing="none").run(1000.0, i_na=i).isi_rates_hz()
    exact = LIFPopulation(2, spike_timing="exact").run(1000.0, i_na=i).isi_rates_hz()
    np.testing.assert_allclose(exact, analytic_rate_hz(i), rtol=1e-9)
    assert (grid / analytic_rate_hz(i) - 1 > 0.02).all(), f"grid rates {grid} unexpectedly close"


# -- (b) the ceiling 1 / t_ref ------------------------------------------------------------------
@pytest.mark.parametrize("spike_timing", SPIKE_TIMINGS)
def test_rate_ceiling(spike_timing):
    currents = np.geomspace(3.0, 1e5, 25)
    rec = LIFPopulation(currents.size, spike_timing=spike_timing).run(500.0, i_na=currents)
    isi_rate = rec.isi_rates_hz()
    ceiling = 1000.0 / T_REF_MS
    if spike_timing == "none":  # ISI = whole steps >= t_ref: can equal the ceiling, never exceed it
        assert isi_rate.max() <= ceiling + 1e-9
    else:
        assert isi_rate.max() < ceiling, f"rate {isi_rate.max()} reached 1/t_ref"
    huge = isi_rate[currents >= 1e4]
    assert (huge > 0.9 * ceiling).all(), f"huge currents should fire near 1/t_ref, got {huge}"
    assert np.all(np.diff(isi_rate) >= -1e-6), "rate should rise with current"


# -- (c) below threshold ------------------------------------------------------------------------
def test_no_spike_below_threshold_current():
    currents = np.append(np.linspace(0.0, 1.99, 9), I_TH_NA * (1 - 1e-5))
    pop = LIFPopulation(currents.size, dt_ms=0.1)
    rec = pop.run(5000.0, i_na=currents, record_v=[currents.size - 1])
    assert rec.spike_counts.sum() == 0, f"sub-threshold currents fired: {rec.spike_counts}"
    assert rec.v_trace_mv.max() < V_THRESH_MV
    # and just above the rheobase it does fire
    assert LIFPopulation(1).run(5000.0, i_na=I_TH_NA * 1.01).spike_counts[0] > 0


# -- (d) slow vs fast input spikes --------------------------------------------------------------
def test_slow_input_spikes_never_fire_fast_ones_do():
    n, w = 20, 2.0  # 20 jumps of 2 mV; the gap to threshold is 20 mV
    isis = [0.5, 0.8, 0.9, 2.0, 20.0]
    trains = [5.0 + isi * np.arange(n) for isi in isis]
    rec = LIFPopulation(len(isis)).run(300.0, spikes=SpikeInput.from_trains(trains, w))
    # peak after n jumps every T: w (1 - q^n) / (1 - q), q = exp(-T / tau); reaches 20 mV for T < 0.854 ms
    fired = dict(zip(isis, rec.spike_counts.tolist()))
    assert fired[0.5] >= 1 and fired[0.8] >= 1, f"fast input should fire: {fired}"
    assert fired[0.9] == 0 and fired[2.0] == 0 and fired[20.0] == 0, f"slow input should not fire: {fired}"


def test_jump_to_threshold_fires_at_arrival_and_refractory_input_is_lost():
    pop = LIFPopulation(1, spike_timing="exact")
    # 25 mV at 10 ms: fires at once; 25 mV at 10.5 ms arrives while refractory and is lost
    rec = pop.run(30.0, spikes=SpikeInput([10.0, 10.5], [0, 0], 25.0), record_v=[0])
    np.testing.assert_allclose(rec.spike_time_ms, [10.0])
    after = rec.v_trace_mv[(rec.v_trace_t_ms > 10.0) & (rec.v_trace_t_ms <= 11.0), 0]
    np.testing.assert_array_equal(after, V_REST_MV)  # held at v_reset = v_rest while refractory


def test_sub_threshold_jumps_decay_exponentially():
    rec = LIFPopulation(1).run(40.0, spikes=SpikeInput([10.0], [0], 5.0), record_v=[0])
    t, v = rec.v_trace_t_ms, rec.v_trace_mv[:, 0]
    later = t > 10.0  # a trace sample at t holds v just before t's input
    np.testing.assert_allclose(v[later], V_REST_MV + 5.0 * np.exp(-(t[later] - 10.0) / TAU_M_MS), atol=1e-12)


def test_from_weights_fans_out():
    inp = SpikeInput.from_weights([[1.0, 2.0], [3.0]], np.array([[0.5, 0.0, 1.0], [0.0, 2.0, 0.0]]))
    order = np.lexsort((inp.targets, inp.times_ms))
    got = list(zip(inp.times_ms[order], inp.targets[order], inp.w_mv[order]))
    assert got == [(1.0, 0, 0.5), (1.0, 2, 1.0), (2.0, 0, 0.5), (2.0, 2, 1.0), (3.0, 1, 2.0)]


# -- integration is exact -----------------------------------------------------------------------
@pytest.mark.parametrize("dt_ms", [0.1, 1.0, 5.0])
def test_exponential_integration_is_exact_below_threshold(dt_ms):
    currents = np.array([0.0, 1.0, 1.9, -1.0])
    pop = LIFPopulation(4, dt_ms=dt_ms, v0_mv=-60.0)
    rec = pop.run(100.0, i_na=currents, record_v=np.arange(4))
    t = rec.v_trace_t_ms[:, None]
    v_inf = V_REST_MV + R_MOHM * currents
    closed_form = v_inf + (-60.0 - v_inf) * np.exp(-t / TAU_M_MS)
    np.testing.assert_allclose(
        rec.v_trace_mv, closed_form, atol=1e-10, err_msg=f"v(t) differs from the closed form at dt = {dt_ms} ms"
    )


def test_time_varying_current_array_and_callable():
    n_steps = 5000
    step_current = np.zeros((n_steps, 1))
    step_current[n_steps // 2 :] = 5.0  # off for 250 ms, then 5 nA
    rec = LIFPopulation(1).run(500.0, i_na=step_current)
    assert rec.spike_time_ms.min() > 250.0
    rec_fn = LIFPopulation(1).run(500.0, i_na=lambda t_ms: 5.0 if t_ms >= 250.0 - 1e-9 else 0.0)
    np.testing.assert_allclose(rec_fn.spike_time_ms, rec.spike_time_ms)
    # the first spike comes tau ln(RI / (RI - 20)) after the step
    assert rec.spike_time_ms[0] == pytest.approx(250.0 + _t_to_thresh_ms(5.0), abs=1e-9)
    # constant per-neuron currents given as a (n_steps, n) array behave like the constants
    currents = np.array([3.0, 7.0])
    a = LIFPopulation(2).run(200.0, i_na=np.tile(currents, (2000, 1)))
    b = LIFPopulation(2).run(200.0, i_na=currents)
    np.testing.assert_allclose(a.spike_time_ms, b.spike_time_ms, atol=1e-12)


def test_continuing_a_run_equals_one_long_run():
    currents = np.array([2.5, 30.0, 300.0])
    for mode in SPIKE_TIMINGS:
        whole = LIFPopulation(3, spike_timing=mode).run(400.0, i_na=currents)
        pop = LIFPopulation(3, spike_timing=mode)
        parts = [pop.run(137.3, i_na=currents), pop.run(400.0 - 137.3, i_na=currents)]
        joined = np.concatenate([p.spike_time_ms for p in parts])
        np.testing.assert_allclose(joined, whole.spike_time_ms, atol=1e-9, err_msg=mode)


def test_continuing_when_a_refractory_period_ends_at_the_boundary():
    # split the run exactly where neuron 0's first refractory period ends (grid mode: whole steps)
    currents = np.array([40.0, 7.0])  # 40 nA: 6 steps from reset to threshold
    whole = LIFPopulation(2, spike_timing="none").run(100.0, i_na=currents)
    first_step = round(whole.spike_trains()[0][0] / 0.1)
    pop = LIFPopulation(2, spike_timing="none")
    a = pop.run((first_step + 10) * 0.1, i_na=currents)
    np.testing.assert_array_equal(pop.v_mv[0], -70.0)  # still at v_reset at the boundary
    b = pop.run(100.0 - (first_step + 10) * 0.1, i_na=currents)
    np.testing.assert_allclose(np.concatenate([a.spike_time_ms, b.spike_time_ms]), whole.spike_time_ms, atol=1e-9)


# -- refractoriness -----------------------------------------------------------------------------
@pytest.mark.parametrize("spike_timing", SPIKE_TIMINGS)
def test_refractory_period_respected(spike_timing):
    rng = np.random.default_rng(3)
    currents = np.array([5.0, 50.0, 500.0, 5e4])
    # plus a bombardment of strong input spikes
    inp = SpikeInput(rng.uniform(0, 200, 4000), rng.integers(0, 4, 4000), 15.0)
    rec = LIFPopulation(4, t_ref_ms=2.0, spike_timing=spike_timing).run(
        200.0, i_na=currents, spikes=inp, record_v=np.arange(4)
    )
    for i, t in enumerate(rec.spike_trains()):
        assert t.size > 10
        assert np.diff(t).min() >= 2.0 - 1e-9, f"neuron {i}: two spikes {np.diff(t).min():.4f} ms apart"
    # while refractory the voltage is held at v_reset
    for i, t in enumerate(rec.spike_trains()):
        tt = rec.v_trace_t_ms
        inside = np.zeros(tt.size, bool)
        for s in t:
            inside |= (tt > s) & (tt < s + 2.0 - 1e-9)
        np.testing.assert_array_equal(rec.v_trace_mv[inside, i], V_REST_MV)


def test_grid_mode_matches_a_scalar_reference_loop():
    """Independent oracle: Brian2's convention written out for one neuron at a time."""
    dt, n_ref = 0.1, 10
    currents = np.array([2.01, 2.5, 4.0, 11.0, 20.0])
    decay = math.exp(-dt / TAU_M_MS)
    expected = []
    for i in currents:
        v, last, times = V_REST_MV, -(10**9), []
        v_inf = V_REST_MV + R_MOHM * i
        for k in range(3000):
            if k - last >= n_ref:  # not refractory: integrate, then check threshold
                v = v_inf + (v - v_inf) * decay
                if v >= V_THRESH_MV:
                    times.append(k * dt)
                    v, last = V_REST_MV, k
        expected.append(times)
    rec = LIFPopulation(currents.size, dt_ms=dt, spike_timing="none").run(300.0, i_na=currents)
    for i, (got, want) in enumerate(zip(rec.spike_trains(), expected)):
        np.testing.assert_allclose(got, want, atol=1e-9, err_msg=f"neuron {i} ({currents[i]} nA)")


# -- reproducibility ----------------------------------------------------------------------------
def test_seeded_reproducibility():
    def poisson(seed):
        rng = np.random.default_rng(seed)
        times = np.sort(rng.uniform(0, 500, 300))
        rec = LIFPopulation(3).run(500.0, i_na=1.0, spikes=SpikeInput(times, rng.integers(0, 3, 300), 3.0))
        return rec.spike_time_ms

    np.testing.assert_array_equal(poisson(7), poisson(7))
    assert poisson(7).size and not np.array_equal(poisson(7), poisson(8))


# -- fitting ------------------------------------------------------------------------------------
def test_fit_logistic_recovers_a_logistic():
    i = np.geomspace(0.5, 2000, 60)
    y = 10 + 900 / (1 + np.exp(-(np.log10(i) - 1.3) / 0.4))
    fit = fit_logistic(i, y, log_x=True)
    assert fit.r2 > 1 - 1e-10
    np.testing.assert_allclose([fit.a, fit.b, fit.c, fit.d], [10, 900, 1.3, 0.4], rtol=1e-6)
    assert fit.midpoint_na == pytest.approx(10**1.3)
    np.testing.assert_allclose(fit(i), y, atol=1e-6)


def test_fit_logistic_on_the_lif_curve():
    i = np.geomspace(0.5, 2000, 80)
    fit = fit_logistic(i, analytic_rate_hz(i), log_x=True)
    assert fit.r2 > 0.99


# -- validation ---------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ConfigError, match="spike_timing.*exact, linear, none"):
        LIFPopulation(3, spike_timing="cubic")
    with pytest.raises(ConfigError, match="tau_m_ms"):
        LIFPopulation(3, tau_m_ms=0.0)
    with pytest.raises(ConfigError, match="v_reset_mv"):
        LIFPopulation(3, v_reset_mv=-40.0)
    pop = LIFPopulation(3)
    with pytest.raises(ConfigError, match="NaN"):
        pop.run(10.0, i_na=[1.0, np.nan, 2.0])
    with pytest.raises(ConfigError, match="i_na must be"):
        pop.run(10.0, i_na=np.ones(5))
    with pytest.raises(ConfigError, match="targets neuron 7"):
        pop.run(10.0, spikes=SpikeInput([1.0], [7], 1.0))
    with pytest.raises(ConfigError, match="i_na\\(t\\)"):
        pop.run(10.0, i_na=lambda t: np.ones(2))


def test_starting_above_threshold_fires_at_once():
    rec = LIFPopulation(2, v0_mv=np.array([-45.0, -60.0])).run(5.0)
    np.testing.assert_array_equal(rec.spike_neuron, [0])
    np.testing.assert_allclose(rec.spike_time_ms, [0.0])


def test_analytic_rate_refuses_nan_current_and_non_positive_constants():
    from neuronet.bio.lif_rate import analytic_rate_hz
    from neuronet.errors import ConfigError

    with pytest.raises(ConfigError, match="i_na: every current must be a finite number"):
        analytic_rate_hz(np.nan)  # it answered 0.0
    with pytest.raises(ConfigError, match="tau_m_ms: must be a finite number > 0"):
        analytic_rate_hz(5.0, tau_m_ms=0)  # it answered 1000.0
    assert analytic_rate_hz(5.0, t_ref_ms=0) > analytic_rate_hz(5.0)  # no refractory period: allowed
