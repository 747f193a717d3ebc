"""Optimizers: single steps worked out by hand, golden multi-step trajectories, Quickprop's parabola.

The objective is f(w) = 1/2 sum_i k_i (w_i - c_i)^2 with gradient k (w - c).  Each
golden trajectory is computed twice: by the optimizer, and by a scalar pure-Python
transcription of the update rule in its docstring; the final values are also
pinned as literals so that any change of behaviour shows up.
"""

import itertools
import math

import numpy as np
import pytest

from neuronet.errors import ConfigError
from neuronet.optim import SGD, Adam, Momentum, Nesterov, Quickprop, get_optimizer

K = np.array([[1.0, 4.0]])
C = np.array([[1.0, -2.0]])


def grad(w):
    return K * (w - C)


def run(opt, steps, w0=(0.0, 0.0)):
    w = np.array([w0], dtype=np.float64)
    traj = []
    for _ in range(steps):
        opt.step([w], [grad(w)])
        traj.append(w.copy())
    return np.array(traj)[:, 0, :]


# -- scalar references, transcribed from the docstrings ---------------------------------------
def ref_sgd(lr, steps, w):
    out = []
    for _ in range(steps):
        w = [wi - lr * k * (wi - c) for wi, k, c in zip(w, K[0], C[0])]
        out.append(w)
    return np.array(out)


def ref_momentum(lr, mu, nesterov, steps, w):
    v = [0.0, 0.0]
    out = []
    for _ in range(steps):
        g = [k * (wi - c) for wi, k, c in zip(w, K[0], C[0])]
        v = [mu * vi - lr * gi for vi, gi in zip(v, g)]
        if nesterov:
            w = [wi + mu * vi - lr * gi for wi, vi, gi in zip(w, v, g)]
        else:
            w = [wi + vi for wi, vi in zip(w, v)]
        out.append(w)
    return np.array(out)


def ref_adam(lr, b1, b2, eps, steps, w):
    m, v, out = [0.0, 0.0], [0.0, 0.0], []
    for t in range(1, steps + 1):
        g = [k * (wi - c) for wi, k, c in zip(w, K[0], C[0])]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        a = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        w = [wi - a * mi / (math.sqrt(vi) + eps) for wi, mi, vi in zip(w, m, v)]
        out.append(w)
    return np.array(out)


def ref_quickprop(lr, mu, steps, w):
    p, d, out = [0.0, 0.0], [0.0, 0.0], []
    shrink = mu / (1 + mu)
    for _ in range(steps):
        s = [k * (wi - c) for wi, k, c in zip(w, K[0], C[0])]
        step = []
        for si, pi, di in zip(s, p, d):
            if di == 0:
                st = -lr * si
            else:
                sg = 1.0 if di > 0 else -1.0
                if si * sg <= shrink * pi * sg or pi == si:
                    st = mu * di
                else:
                    st = di * si / (pi - si)
                if si * sg < 0:
                    st -= lr * si
            step.append(st)
        w = [wi + st for wi, st in zip(w, step)]
        p, d = s, step
        out.append(w)
    return np.array(out)


# -- single steps by hand -----------------------------------------------------------------------
def test_sgd_single_step():
    # g = k (0 - c) = [-1, 8]; w = 0 - 0.1 g = [0.1, -0.8]
    np.testing.assert_allclose(run(SGD(lr=0.1), 1)[0], [0.1, -0.8], rtol=1e-15)


def test_momentum_single_and_second_step():
    # step 1: v = -0.1 g = [0.1, -0.8], w = v
    # step 2: g = k (w - c) = [-0.9, 4.8]; v = 0.9 [0.1, -0.8] - 0.1 g = [0.18, -1.2]; w = [0.28, -2.0]
    traj = run(Momentum(lr=0.1, momentum=0.9), 2)
    np.testing.assert_allclose(traj, [[0.1, -0.8], [0.28, -2.0]], rtol=1e-14)


def test_nesterov_single_step():
    # v = [0.1, -0.8]; w = 0 + 0.9 v - 0.1 g = [0.09 + 0.1, -0.72 - 0.8] = [0.19, -1.52]
    np.testing.assert_allclose(run(Nesterov(lr=0.1, momentum=0.9), 1)[0], [0.19, -1.52], rtol=1e-14)


def test_adam_single_step_moves_each_weight_by_lr():
    # after one step m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g)
    np.testing.assert_allclose(run(Adam(lr=0.01), 1)[0], [0.01, -0.01], rtol=1e-6)


def test_quickprop_first_step_is_gradient_descent():
    np.testing.assert_allclose(run(Quickprop(lr=0.1), 1)[0], [0.1, -0.8], rtol=1e-15)


# -- golden trajectories ------------------------------------------------------------------------
GOLDEN = {
    "sgd": (lambda: SGD(lr=0.1), lambda n: ref_sgd(0.1, n, [0.0, 0.0])),
    "momentum": (lambda: Momentum(lr=0.1, momentum=0.9), lambda n: ref_momentum(0.1, 0.9, False, n, [0.0, 0.0])),
    "nesterov": (lambda: Nesterov(lr=0.1, momentum=0.9), lambda n: ref_momentum(0.1, 0.9, True, n, [0.0, 0.0])),
    "adam": (lambda: Adam(lr=0.1), lambda n: ref_adam(0.1, 0.9, 0.999, 1e-8, n, [0.0, 0.0])),
    "quickprop": (lambda: Quickprop(lr=0.1), lambda n: ref_quickprop(0.1, 1.75, n, [0.0, 0.0])),
}

# values after 8 steps, recorded from the scalar references above
PINNED = {
    "sgd": [0.56953279, -1.96640768],  # 1 - 0.9^8, -2 + 2 * 0.6^8
    "momentum": [1.55322352, -1.01585],
    "nesterov": [1.39399393, -1.79546950],
    "adam": [0.76373614, -0.78766304],
    "quickprop": [1.0, -2.0],  # exactly at the minimum
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_trajectory(name):
    make, ref = GOLDEN[name]
    traj = run(make(), 8)
    np.testing.assert_allclose(traj, ref(8), rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(traj[-1], PINNED[name], rtol=1e-7, atol=1e-8, err_msg=name)


# -- Quickprop's defining property --------------------------------------------------------------
def test_quickprop_reaches_the_minimum_of_a_quadratic_in_one_parabolic_step():
    # f(w) = 1/2 k (w - c)^2 per coordinate, k = (1, 4), c = (1, -2), lr = 0.5.  The first step is
    # gradient descent; after it the parabola through the two slopes *is* f, so the second step
    # lands on c.  Coordinate 1 (lr*k = 2) overshoots c on the first step: w = -4, slope 8 -> -8,
    # parabola step -4 * -8 / (8 - -8) = 2, to w = -2 exactly, and since the slope changed sign the
    # gradient term is dropped.  Coordinate 0 (lr*k = 0.5) stops short at 0.5 with slope still
    # negative: the parabola step is 0.5 (to c = 1), and Fahlman's gradient term -lr*s = 0.25 is
    # added on top, unless gradient_term=False.
    traj = run(Quickprop(lr=0.5), 2)
    np.testing.assert_allclose(traj[0], [0.5, -4.0], rtol=1e-15)
    assert traj[1][1] == -2.0
    assert traj[1][0] == pytest.approx(1.25, rel=1e-15)
    traj_pure = run(Quickprop(lr=0.5, gradient_term=False), 2)
    np.testing.assert_allclose(traj_pure[1], C[0], rtol=1e-15)
    np.testing.assert_allclose(grad(traj_pure[1][None, :]), 0.0, atol=1e-15)  # a fixed point


def test_quickprop_beats_gradient_descent_on_an_ill_conditioned_quadratic():
    # the paper's point: far fewer steps than plain descent at its best stable rate
    K2 = np.array([[1.0, 50.0]])

    def g(w):
        return K2 * (w - C)

    def steps_to(opt, tol=1e-6):
        w = np.zeros((1, 2))
        for t in range(1, 5000):
            opt.step([w], [g(w)])
            if np.abs(w - C).max() < tol:
                return t
        return 5000

    assert steps_to(Quickprop(lr=0.019, gradient_term=False)) * 10 < steps_to(SGD(lr=0.039))


def test_quickprop_growth_limit_caps_steps_at_mu_times_the_last():
    # A linear slope (constant gradient) has no minimum: the parabola step is infinite, so each
    # step is mu times the previous one plus the gradient term.
    opt = Quickprop(lr=0.1, mu=1.75)
    w = np.zeros((1, 1))
    steps = []
    for _ in range(4):
        before = w.copy()
        opt.step([w], [np.ones((1, 1))])  # dE/dw = 1 everywhere
        steps.append(float((w - before)[0, 0]))
    assert steps[0] == pytest.approx(-0.1)
    for a, b in itertools.pairwise(steps):
        assert b == pytest.approx(1.75 * a - 0.1), steps


def test_weight_decay_applies_to_matrices_not_biases():
    W, b = np.ones((2, 2)), np.ones(2)
    SGD(lr=0.1, weight_decay=0.5).step([W, b], [np.zeros((2, 2)), np.zeros(2)])
    np.testing.assert_allclose(W, 0.95)
    np.testing.assert_allclose(b, 1.0)


def test_state_dict_round_trip_continues_identically():
    for name in ["momentum", "adam", "quickprop"]:
        a = get_optimizer(name, lr=0.05)
        wa = np.zeros((1, 2))
        for _ in range(3):
            a.step([wa], [grad(wa)])
        b = get_optimizer(name, lr=0.05)
        b.load_state_dict(a.state_dict(), [wa])
        wb = wa.copy()
        for _ in range(3):
            a.step([wa], [grad(wa)])
            b.step([wb], [grad(wb)])
        assert np.array_equal(wa, wb), name


def test_registry_and_parameter_errors():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; valid optimizers: sgd, momentum"):
        get_optimizer("rmsprop")
    with pytest.raises(ConfigError, match="lr must be a finite number > 0"):
        SGD(lr=-1)
    with pytest.raises(ConfigError, match="momentum must lie in"):
        Momentum(momentum=1.5)


# -- one flat buffer: the fast path must change nothing but the speed ---------------------------
@pytest.mark.parametrize(
    "name,kw",
    [
        ("sgd", {}),
        ("momentum", {}),
        ("nesterov", {}),
        ("adam", {}),
        ("quickprop", {}),
        ("momentum", {"weight_decay": 0.01}),
        ("adam", {"weight_decay": 0.01}),
        ("quickprop", {"weight_decay": 1e-3}),
    ],
)
def test_flat_buffer_path_is_bit_identical_to_per_array_path(name, kw):
    import neuronet as nn
    from neuronet.optim import get_optimizer

    net = nn.mlp([6, 5, 3], hidden="tanh", output="softmax", seed=0)
    params = net.parameters
    assert all(v.base is params.data for v in params.values) and all(g.base is params.grad for g in params.grads)
    separate = [p.copy() for p in net.params]  # ordinary arrays: the per-array path
    fast, slow = get_optimizer(name, lr=0.05, **kw), get_optimizer(name, lr=0.05, **kw)
    rng = np.random.default_rng(1)
    for _ in range(7):
        grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in net.params]
        for g, dst in zip(grads, net.grads):
            np.copyto(dst, g)
        fast.step(params)
        slow.step(separate, [g.copy() for g in grads])
    for n in fast.state_names:  # the flat path keeps its state in one buffer of the parameters' layout
        assert all(v.base is fast._flat_state[n] for v in getattr(fast, n)), n
    for a, b in zip(net.params, separate):
        np.testing.assert_array_equal(a, b)
    # a checkpoint taken on one path restores onto the other and continues identically
    restored = get_optimizer(name, lr=0.05, **kw)
    restored.load_state_dict(slow.state_dict(), params)
    for n in restored.state_names:
        for a, b in zip(getattr(restored, n), getattr(fast, n)):
            np.testing.assert_array_equal(a, b)
    g = [rng.standard_normal(p.shape).astype(p.dtype) for p in net.params]
    copy = [p.copy() for p in net.params]
    for src, dst in zip(g, net.grads):
        np.copyto(dst, src)
    restored.step(params)
    slow.step(copy, [x.copy() for x in g])
    for a, b in zip(net.params, copy):
        np.testing.assert_array_equal(a, b)
