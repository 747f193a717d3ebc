"""Siegert's formula: the simulation agrees with it, the sigmoid appears only with noise, and the rate is bounded."""

import math

import numpy as np
import pytest

from neuronet.bio.lif import analytic_rate_hz
from neuronet.bio.siegert import diffusion_params, inflection_mu_mv, siegert_rate_hz, simulate_diffusion_lif
from neuronet.errors import ConfigError

THETA_MV = 20.0  # v_thresh − v_rest with the lif defaults (−50 − (−70))


# -- the formula ---------------------------------------------------------------------------------
def test_noiseless_limit_is_the_lif_closed_form():
    mu = np.array([5.0, 19.0, 21.0, 25.0, 40.0, 200.0])
    i_na = mu / 10.0  # R = 10 MΩ
    np.testing.assert_allclose(siegert_rate_hz(mu, 0.0), analytic_rate_hz(i_na), rtol=1e-12)
    far = np.abs(mu - THETA_MV) >= 1.0  # next to θ the noiseless time diverges only logarithmically
    np.testing.assert_allclose(siegert_rate_hz(mu[far], 1e-3), analytic_rate_hz(i_na[far]), rtol=1e-4, atol=1e-9)
    assert siegert_rate_hz(25.0, 1e-6, v_reset_mv=-80.0) == pytest.approx(analytic_rate_hz(2.5, v_reset_mv=-80.0))


def test_hand_worked_value_by_direct_quadrature():
    # mu = theta: the integral runs from (0 − 20)/5 = −4 to 0 of e^{u²}(1 + erf u), done here without erfcx
    from scipy.integrate import quad
    from scipy.special import erf

    integral = quad(lambda u: math.exp(u * u) * (1 + erf(u)), -4.0, 0.0)[0]
    expected = 1000.0 / (1.0 + 10.0 * math.sqrt(math.pi) * integral)
    assert siegert_rate_hz(20.0, 5.0) == pytest.approx(expected, rel=1e-8)


def test_rate_is_bounded_by_the_refractory_period():
    mu = np.array([30.0, 100.0, 1e3, 1e4, 1e6])
    for t_ref in (0.5, 1.0, 2.0, 5.0):
        for sigma in (0.0, 1.0, 10.0, 50.0):
            r = siegert_rate_hz(mu, sigma, t_ref_ms=t_ref)
            assert (r < 1000.0 / t_ref).all(), f"t_ref {t_ref} ms, sigma {sigma}: rate {r.max()} ≥ {1000 / t_ref}"
            assert r[-1] > 0.99 * 1000.0 / t_ref, "the ceiling is approached for huge drive"
            assert (np.diff(r) > 0).all(), "rate rises with the drive"


def test_noise_makes_subthreshold_drive_fire_and_fades_with_it():
    sigmas = np.array([8.0, 4.0, 2.0, 1.0, 0.5, 0.0])
    r = siegert_rate_hz(15.0, sigmas)  # mean drive 5 mV below threshold
    assert (np.diff(r) < 0).all() and r[0] > 1.0 and r[-1] == 0.0, f"subthreshold rates by sigma: {r}"
    assert siegert_rate_hz(-100.0, 1.0) == 0.0, "far below threshold (u > 26): exactly 0, no overflow"


def test_refuses_bad_parameters():
    with pytest.raises(ConfigError, match="sigma_mv"):
        siegert_rate_hz(10.0, -1.0)
    with pytest.raises(ConfigError, match="finite"):
        siegert_rate_hz(math.nan, 1.0)
    with pytest.raises(ConfigError, match="v_reset_mv"):
        siegert_rate_hz(10.0, 1.0, v_reset_mv=-40.0)
    with pytest.raises(ConfigError, match="tau_m_ms"):
        siegert_rate_hz(10.0, 1.0, tau_m_ms=0.0)


# -- the shape in linear input -------------------------------------------------------------------
MU_GRID = np.linspace(0.0, 60.0, 121)  # linear in the drive: what a weighted sum Σ wᵢ rᵢ is


def test_noisy_rate_is_sigmoid_like_in_linear_drive():
    for sigma in (2.0, 4.0, 8.0):
        d2 = np.diff(siegert_rate_hz(MU_GRID, sigma), 2)
        signs = np.sign(d2[np.abs(d2) > 1e-9])
        changes = np.flatnonzero(np.diff(signs))
        assert signs[0] > 0 and signs[-1] < 0, f"sigma {sigma}: convex foot, then concave"
        assert changes.size == 1, f"sigma {sigma}: exactly one inflection, got sign changes at {MU_GRID[changes + 1]}"
        mu_star = inflection_mu_mv(sigma)
        assert 14.0 < mu_star < 26.0, f"sigma {sigma}: the inflection should sit near the threshold, got {mu_star}"


def test_noiseless_rate_is_a_hard_threshold_then_concave():
    r = siegert_rate_hz(MU_GRID, 0.0)
    below, above = MU_GRID <= THETA_MV, MU_GRID > THETA_MV
    assert (r[below] == 0).all() and (r[above] > 0).all()
    d2 = np.diff(r[above], 2)
    assert (d2 < 0).all(), "above threshold the noiseless curve is concave everywhere: no sigmoid"
    step = MU_GRID[1] - MU_GRID[0]
    slope_at_threshold = r[above][0] / step
    slope_later = (r[above][21] - r[above][20]) / step
    assert slope_at_threshold > 10 * slope_later, "a near-vertical rise at the threshold"
    assert math.isnan(inflection_mu_mv(0.0)), "no convex foot without noise"


# -- the simulation ------------------------------------------------------------------------------
MU_SIM = np.array([14.0, 18.0, 20.0, 22.0, 26.0, 32.0, 45.0])  # below, at and above threshold


def _within(rec, theory, rel=0.03, n_se=3.0):
    return np.abs(rec.rates_hz - theory) <= n_se * rec.se_hz + rel * theory


def test_simulation_matches_siegert_below_and_above_threshold():
    sigmas = np.array([4.0, 8.0])
    mu, sigma = np.meshgrid(MU_SIM, sigmas)  # (2, 7)
    rec = simulate_diffusion_lif(mu.ravel(), sigma.ravel(), rng=np.random.default_rng(0), n_trials=150)
    theory = siegert_rate_hz(mu.ravel(), sigma.ravel())
    ok = _within(rec, theory)
    assert ok.all(), (
        f"simulated {np.round(rec.rates_hz[~ok], 2)} Hz vs Siegert {np.round(theory[~ok], 2)} Hz "
        f"(se {np.round(rec.se_hz[~ok], 2)}) at mu {mu.ravel()[~ok]}, sigma {sigma.ravel()[~ok]}"
    )
    assert rec.counts.shape == (mu.size, 150) and rec.duration_ms == pytest.approx(1000.0)


def test_the_comparison_can_fail_without_the_bridge_correction():
    # a grid-only threshold test misses crossings between steps: at a coarse step (0.5 ms) rates near
    # threshold come out 8-20% low, beyond the tolerance the matching test allows
    rec = simulate_diffusion_lif(MU_SIM[:2], 4.0, rng=np.random.default_rng(1), n_trials=150, bridge=False, dt_ms=0.5)
    theory = siegert_rate_hz(MU_SIM[:2], 4.0)
    assert not _within(rec, theory).all(), f"expected a visible bias, got {rec.rates_hz} vs {theory}"
    assert (rec.rates_hz < theory).all()


def test_simulation_is_deterministic_given_the_generator_and_schemes_agree():
    a = simulate_diffusion_lif(25.0, 5.0, rng=np.random.default_rng(3), n_trials=50, duration_ms=300.0)
    b = simulate_diffusion_lif(25.0, 5.0, rng=np.random.default_rng(3), n_trials=50, duration_ms=300.0)
    np.testing.assert_array_equal(a.counts, b.counts)
    exact = simulate_diffusion_lif(25.0, 5.0, rng=np.random.default_rng(4), n_trials=200, scheme="exact")
    assert _within(exact, siegert_rate_hz(25.0, 5.0)).all()
    quiet = simulate_diffusion_lif([15.0, 30.0], 0.0, rng=np.random.default_rng(5), n_trials=2, duration_ms=500.0)
    assert quiet.rates_hz[0] == 0.0, "no noise, below threshold: silent"
    assert quiet.rates_hz[1] == pytest.approx(analytic_rate_hz(3.0), rel=0.03)
    with pytest.raises(ConfigError, match="rng"):
        simulate_diffusion_lif(25.0, 5.0, rng=0)
    with pytest.raises(ConfigError, match="scheme"):
        simulate_diffusion_lif(25.0, 5.0, rng=np.random.default_rng(0), scheme="milstein")


# -- the diffusion approximation of synaptic input -----------------------------------------------
def test_diffusion_params_hand_worked():
    # 8000 Hz of +0.25 mV and 2000 Hz of −0.5 mV, tau 10 ms: mu = 10 (2 − 1) = 10 mV, sigma² = 10 (0.5 + 0.5)
    mu, sigma = diffusion_params([8000.0, 2000.0], [0.25, -0.5])
    assert mu == pytest.approx(10.0) and sigma == pytest.approx(math.sqrt(10.0))
    mu_e, sigma_e = diffusion_params([8000.0], [0.25])
    assert mu_e > mu and sigma_e < sigma, "inhibition lowers the mean but adds noise"
    with pytest.raises(ConfigError, match="rates_hz"):
        diffusion_params([-1.0], [0.1])
