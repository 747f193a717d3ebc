"""Units: forward values, derivatives from the output, the softmax Jacobian, dtype, registry."""

import numpy as np
import pytest

from neuronet import units as U
from neuronet.errors import ConfigError

ELEMENTWISE = [
    # (unit, f(a), f'(a)) written independently of the implementation
    (U.Identity(), lambda a: a, np.ones_like),
    (U.Sigmoid(), lambda a: 1 / (1 + np.exp(-a)), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
    (U.Tanh(), np.tanh, lambda a: 1 / np.cosh(a) ** 2),
    (U.LeCunTanh(), lambda a: 1.7159 * np.tanh(2 * a / 3), lambda a: 1.7159 * 2 / 3 / np.cosh(2 * a / 3) ** 2),
    (U.ReLU(), lambda a: np.where(a > 0, a, 0.0), lambda a: (a > 0).astype(float)),
    (U.LeakyReLU(0.1), lambda a: np.where(a > 0, a, 0.1 * a), lambda a: np.where(a > 0, 1.0, 0.1)),
    (U.Softplus(), lambda a: np.log1p(np.exp(a)), lambda a: 1 / (1 + np.exp(-a))),
]


@pytest.mark.parametrize("unit,f,df", ELEMENTWISE, ids=lambda u: getattr(u, "name", ""))
def test_forward_and_derivative_from_output_match_formulas(unit, f, df, rng):
    a = rng.normal(0, 2, size=(7, 5))
    z = unit.forward(a, np.empty_like(a))
    np.testing.assert_allclose(z, f(a), rtol=1e-12, atol=1e-12, err_msg=f"{unit.name} forward")
    d = unit.derivative(z, np.empty_like(z))  # from the output alone
    np.testing.assert_allclose(d, df(a), rtol=1e-9, atol=1e-12, err_msg=f"{unit.name} derivative")


def test_sigmoid_prime_offset_is_added_in_backward_only(rng):
    a = rng.normal(0, 3, size=(4, 3))
    u = U.Sigmoid(prime_offset=0.1)
    z = u(a)
    g = rng.normal(size=a.shape)
    expected = g * (z * (1 - z) + 0.1)  # Fahlman's S' + 0.1
    got = u.backward(z, g.copy(), np.empty_like(g))
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(u.derivative(z, np.empty_like(z)), z * (1 - z), rtol=1e-14)


def test_relu_derivative_at_the_kink_is_zero():
    z = U.ReLU()(np.array([[-1.0, 0.0, 2.0]]))
    assert U.ReLU().derivative(z, np.empty_like(z)).tolist() == [[0.0, 0.0, 1.0]]


def test_softmax_backward_equals_explicit_jacobian(rng):
    a = rng.normal(0, 2, size=(6, 4))
    sm = U.Softmax()
    z = sm(a)
    np.testing.assert_allclose(z.sum(axis=1), 1.0, rtol=1e-14)
    g = rng.normal(size=a.shape)
    got = sm.backward(z, g.copy(), np.empty_like(g))
    for b in range(a.shape[0]):
        J = np.diag(z[b]) - np.outer(z[b], z[b])  # dz_j/da_i = z_j (delta_ij - z_i)
        np.testing.assert_allclose(got[b], J.T @ g[b], rtol=1e-12, atol=1e-15)
    # and the Jacobian itself against central differences of the forward map
    h = 1e-6
    J_num = np.empty((4, 4))
    for i in range(4):
        ap, am = a[:1].copy(), a[:1].copy()
        ap[0, i] += h
        am[0, i] -= h
        J_num[:, i] = (sm(ap)[0] - sm(am)[0]) / (2 * h)
    np.testing.assert_allclose(J_num, np.diag(z[0]) - np.outer(z[0], z[0]), atol=1e-9)


@pytest.mark.parametrize("name", sorted(set(U.UNITS)))
def test_extreme_inputs_stay_finite_and_in_bounds(name):
    unit = U.get_unit(name)
    a = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        z = unit.forward(a.copy(), np.empty_like(a))
        d = unit.derivative(z, np.empty_like(z))
    assert np.isfinite(z).all() and np.isfinite(d).all(), f"{name}: {z} {d}"
    if unit.bounds is not None:
        lo, hi = unit.bounds
        assert (z >= lo).all() and (z <= hi).all()


@pytest.mark.parametrize("name", sorted(set(U.UNITS)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_units_keep_dtype(name, dtype, rng):
    unit = U.get_unit(name)
    a = rng.normal(size=(3, 4)).astype(dtype)
    z = unit.forward(a, np.empty_like(a))
    g = unit.backward(z, np.ones_like(z), np.empty_like(z))
    assert z.dtype == dtype and g.dtype == dtype


def test_registry_rejects_unknown_names_listing_valid_ones():
    with pytest.raises(ValueError, match=r"unknown unit 'swish'.*sigmoid.*relu"):
        U.get_unit("swish")
    with pytest.raises(ConfigError, match="slope"):
        U.get_unit("leaky-relu", slope=2.0)
    with pytest.raises(ConfigError, match="prime_offset"):
        U.Sigmoid(prime_offset=-1)
    assert U.get_unit({"name": "sigmoid", "prime_offset": 0.1}) == U.Sigmoid(0.1)
    assert U.get_unit("logistic") == U.Sigmoid()
