"""XOR with ReLU hidden units: the runs (trained in lockstep) and the theory of dead units.

A hidden ReLU unit ``z = max(0, a)``, ``a = w1 x1 + w2 x2 + b``, sees XOR's four inputs
(0,0), (0,1), (1,0), (1,1), so ``a ∈ {b, b + w2, b + w1, b + w1 + w2}``.  Its gradient is 0 on
every pattern ("dead") when ``r′(a) = 0`` on all four:

* the engine's ReLU takes ``r′(0) = 0`` (``units.ReLU``): dead ⇔ ``a ≤ 0`` on all four;
* the notes write ``r′(r) = 1 for r ≥ 0`` (lecture, line 167): dead ⇔ ``a < 0`` on all four.

Dead at initialisation, with ``w1, w2 ~ N(0, σ_w²)`` (He: ``σ_w = √(2/2) = 1``):

* zero biases, ``r′(0) = 0``: ``a = 0`` at (0,0), so dead ⇔ ``w1 ≤ 0 and w2 ≤ 0``: **p = 1/4**,
  and a 2-H-1 network has a dead unit with probability ``1 − (3/4)^H``;
* zero biases, ``r′(0) = 1``: (0,0) sits on the kink with ``r′ = 1``, so **p = 0**;
* biases ``b ~ N(0, σ_b²)``: with ``c = −b``,
  ``p = ∫_0^∞ φ_b(c) [Φ_w(c)/2 + ∫_0^c φ_w(u) Φ_w(c − u) du] dc`` (``dead_probability``);
* a constant bias ``b > 0``: ``a(0,0) = b > 0``, **p = 0**.

What ``r′(0) = 1`` does with zero biases: a silent unit (``w1, w2 ≤ 0``) gets a bias gradient
only from (0,0), where the target is 0, so ``∂L/∂a2 = (z2 − 0)/4 > 0`` and
``∂L/∂b_j = (z2/4) W2_j``.  Its outgoing weight ``W2_j`` gets no gradient (``z_j = 0``), so the
first step moves ``b_j`` up, reviving the unit, exactly when ``W2_j < 0``: half the silent units,
so about 1/8 of all units stay dead instead of 1/4.

With many data points a unit is rarely dead: for ``n`` points from a centred isotropic
distribution and zero bias, each point lies on the unit's dead side independently with
probability 1/2, so ``p = 2^−n``.  For non-negative inputs (XOR, pixels) the limit is the
chance that every weight is ≤ 0: ``2^−d`` in ``d`` dimensions (1/4 for XOR), however many points.

Training: 2-H-1 networks (ReLU hidden, sigmoid output, logistic loss), full-batch gradient
descent.  One run is one seed and one H: every (bias init × r′(0) convention × learning rate)
copy of the seed's weights, stacked and trained in lockstep with the engine's ``SGD`` stepping a
``neuronet.Parameters`` over the stack (each copy's gradient multiplied by its own rate, the
optimizer at ``lr = 1``).  The tests check a stacked copy against ``neuronet.Trainer`` on the
engine's ``Network``, whose hidden unit is ``ReLUKinkOne`` for ``r′(0) = 1``.
"""

from __future__ import annotations

import functools
import itertools
import math
from statistics import NormalDist

import numpy as np

from ..data import load
from ..init import get_init
from ..layers import Dense
from ..network import Network, mlp
from ..optim import SGD
from ..parameters import Parameters
from ..units import Unit

#: bias initialisations: name -> description (the value comes from the config)
BIASES = ("zero", "const", "normal")
#: r′(0) conventions: the engine's ReLU (0) and the notes' (1)
KINKS = (0, 1)


class ReLUKinkOne(Unit):
    """ReLU with the notes' derivative at the kink: ``r′(r) = 1 for r ≥ 0``, else 0 (lecture, line 167).

    ``z = max(0, a)``; ``f′ = 1[a ≥ 0]``.  The engine's ``units.ReLU`` computes ``f′ = 1[z > 0]``
    from the cached output, i.e. ``f′(0) = 0``; from ``z`` alone ``a = 0`` cannot be told from
    ``a < 0``.  This unit therefore keeps the mask ``a ≥ 0`` of its last ``forward`` and uses it
    in the next ``backward``: valid when every backward pass follows the forward pass of the same
    batch, as in ``Network.loss_and_grads`` (not for ``derivative`` on arbitrary outputs).
    """

    name = "relu-kink-one"
    can_die = True

    def __init__(self):
        self.mask = None  # (B, n) bool: a >= 0 on the last forward pass

    def forward(self, a, out):
        self.mask = np.greater_equal(a, 0)  # before out (possibly a itself) is overwritten
        return np.maximum(a, 0, out=out)

    def derivative(self, z, out):
        np.copyto(out, self.mask)
        return out

    def backward(self, z, g, work):
        np.multiply(g, self.mask, out=g)
        return g


def xor_data():
    """XOR's four patterns ``X (4, 2)`` and targets ``Y (4, 1)``, float64 (``neuronet.data.load("xor")``)."""
    ds = load("xor")
    X = ds.X_train.astype(np.float64)
    return X, ds.y_train.astype(np.float64)[:, None]


def hand_set_xor() -> Network:
    """The 2-2-1 ReLU network ``h1 = relu(x1 + x2)``, ``h2 = relu(x1 + x2 − 1)``, ``y = h1 − 2 h2``."""
    hidden = Dense(2, 2, "relu", dtype=np.float64, rng=np.random.default_rng(0))
    out = Dense(2, 1, "identity", dtype=np.float64, rng=np.random.default_rng(0))
    net = Network([hidden, out], "squared-error")
    net.set_weights(
        [np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0]), np.array([[1.0], [-2.0]]), np.array([0.0])]
    )
    return net


# -- initial weights --------------------------------------------------------------------------------
def initial_weights(seed, H, bias, cfg) -> list[np.ndarray]:
    """``[W1 (2, H), b1 (H,), W2 (H, 1), b2 (1,)]``: the engine's ``mlp([2, H, 1], init=cfg.init)``
    from ``default_rng([seed, H])``, hidden biases then set by ``bias`` ("zero", "const", "normal").

    The weights are the same for every bias init (paired); "normal" biases come from a generator
    of their own, ``default_rng([seed, H, 1])``.
    """
    net = mlp(
        [2, H, 1],
        hidden="relu",
        output="sigmoid",
        init=cfg.init,
        dtype=np.float64,
        rng=np.random.default_rng([seed, H]),
    )
    W1, b1, W2, b2 = (p.copy() for p in net.params)
    if bias == "const":
        b1[...] = cfg.bias_const
    elif bias == "normal":
        b1[...] = np.random.default_rng([seed, H, 1]).normal(0.0, cfg.bias_std, H)
    return [W1, b1, W2, b2]


def engine_network(seed, H, bias, kink, cfg) -> Network:
    """The engine's ``Network`` for one copy (hidden ``ReLU``, or ``ReLUKinkOne`` for ``r′(0) = 1``)."""
    net = mlp([2, H, 1], hidden=ReLUKinkOne() if kink else "relu", output="sigmoid", dtype=np.float64, seed=0)
    net.set_weights(initial_weights(seed, H, bias, cfg))
    return net


def pre_activations(W1, b1, X):
    """``a = X W1 + b1`` for stacked ``W1 (S, 2, H)``, ``b1 (S, H)``: ``(S, 4, H)``."""
    return np.matmul(X, W1) + b1[:, None, :]


def dead_units(a, kink):
    """``(S, H)`` bool: units whose gradient is 0 on every pattern (``a ≤ 0``, or ``a < 0`` with ``r′(0) = 1``)."""
    return np.all(a < 0, axis=1) if kink else np.all(a <= 0, axis=1)


# -- lockstep training --------------------------------------------------------------------------------
def copies(cfg):
    """Every ``(bias, kink, lr)`` copy a run trains, in a fixed order."""
    return list(itertools.product(BIASES, KINKS, cfg.lr_grid))


def _sigmoid(a):
    with np.errstate(over="ignore"):
        np.negative(a, out=a)
        np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def train_lockstep(seed, H, cfg):
    """Train every copy of one seed's 2-H-1 network; returns ``(copies, initial arrays, final arrays)``.

    Per copy (B = 4 patterns), each step::

        a1 = X W1 + b1,  z1 = max(0, a1),  z2 = S(z1 W2 + b2)
        d2 = (z2 − y) / B                       # sigmoid + logistic loss (losses.FUSED)
        d1 = (d2 W2ᵀ) r′(a1)                    # r′ = 1[a1 > 0], or 1[a1 ≥ 0] for r′(0) = 1
        g  = (X ᵀd1, Σ d1, z1ᵀ d2, Σ d2) · lr   # each copy's own rate
        SGD(lr=1).step(stack)                   # w ← w − g
    """
    X, Y = xor_data()
    plan = copies(cfg)
    start = {b: initial_weights(seed, H, b, cfg) for b in BIASES}
    arrays = [np.stack([start[b][i] for b, _, _ in plan]) for i in range(4)]
    stack = Parameters(list(zip(("W1", "b1", "W2", "b2"), arrays)), np.float64)
    W1, b1, W2, b2 = stack.values
    gW1, gb1, gW2, gb2 = stack.grads
    lr = np.array([r for _, _, r in plan])
    kink_one = np.array([k == 1 for _, k, _ in plan])[:, None, None]  # (S, 1, 1)
    opt = SGD(lr=1.0)
    B = X.shape[0]
    for _ in range(cfg.epochs):
        a1 = pre_activations(W1, b1, X)  # (S, B, H)
        z1 = np.maximum(a1, 0)
        z2 = _sigmoid(np.matmul(z1, W2) + b2[:, None, :])  # (S, B, 1)
        d2 = (z2 - Y) / B
        np.matmul(z1.transpose(0, 2, 1), d2, out=gW2)  # (S, H, 1)
        np.sum(d2, axis=1, out=gb2)
        d1 = np.matmul(d2, W2.transpose(0, 2, 1))  # (S, B, H)
        d1 *= (a1 > 0) | (kink_one & (a1 == 0))
        np.matmul(X.T, d1, out=gW1)  # (S, 2, H)
        np.sum(d1, axis=1, out=gb1)
        for g in stack.grads:
            g *= lr.reshape((-1,) + (1,) * (g.ndim - 1))
        opt.step(stack)
    return plan, arrays, [p.copy() for p in stack.values]


def outcomes(plan, start, final):
    """Per copy: success, final loss, dead units at the start and end, and what became of silent units."""
    X, Y = xor_data()
    W1, b1, W2, b2 = final
    a1 = pre_activations(W1, b1, X)
    z2 = _sigmoid(np.matmul(np.maximum(a1, 0), W2) + b2[:, None, :])[:, :, 0]  # (S, 4)
    y = Y[:, 0]
    right = ((z2 > 0.5) == (y > 0.5)).sum(axis=1)
    eps = np.finfo(np.float64).tiny
    loss = -(y * np.log(np.maximum(z2, eps)) + (1 - y) * np.log(np.maximum(1 - z2, eps))).mean(axis=1)
    a0 = pre_activations(start[0], start[1], X)
    silent0 = np.all(a0 <= 0, axis=1)  # (S, H): z = 0 on every pattern at the start
    rows = []
    for k, (bias, kink, lr) in enumerate(plan):
        dead0, dead1 = dead_units(a0[k : k + 1], kink)[0], dead_units(a1[k : k + 1], kink)[0]
        w2_negative = start[2][k, :, 0] < 0  # (H,) the revival predicted for r′(0) = 1, zero bias
        rows.append(
            {
                "bias": bias,
                "kink": kink,
                "lr": lr,
                "success": bool(right[k] == 4),
                "right": int(right[k]),
                "loss": float(loss[k]),
                "dead_start": int(dead0.sum()),
                "dead_end": int(dead1.sum()),
                "silent_start": int(silent0[k].sum()),
                "silent_revived": int((silent0[k] & ~dead1).sum()),
                "silent_w2_negative": int((silent0[k] & w2_negative).sum()),
                "revival_as_predicted": int((silent0[k] & (~dead1 == w2_negative)).sum()),
            }
        )
    return rows


# -- dead at initialisation: many draws, and theory ---------------------------------------------------
def init_draws(seed, H, cfg) -> dict:
    """Dead units at initialisation over ``cfg.init_units`` fresh units: counts per (bias, kink).

    The weights come from the engine's initializer ``cfg.init`` for fan-in 2 (``W (2, K)``), the
    biases as in ``initial_weights``; generator ``default_rng([seed, H, 2])``.
    """
    K = cfg.init_units
    rng = np.random.default_rng([seed, H, 2])
    W = get_init(cfg.init)((2, K), rng, np.float64)  # (2, K): fan-in 2, like the hidden layer
    X, _ = xor_data()
    out = {}
    for bias in BIASES:
        b = {"zero": np.zeros(K), "const": np.full(K, cfg.bias_const), "normal": rng.normal(0.0, cfg.bias_std, K)}[bias]
        a = (X @ W + b)[None]  # (1, 4, K)
        for kink in KINKS:
            out[f"{bias}/{kink}"] = int(dead_units(a, kink).sum())
    return {"units": K, "dead": out}


def _phi(x, sd):
    return math.exp(-0.5 * (x / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _Phi(x, sd):
    return 0.5 * (1 + math.erf(x / (sd * math.sqrt(2))))


def _dead_given(c, sigma_w) -> float:
    """``P(w1 ≤ c, w2 ≤ c, w1 + w2 ≤ c)`` for ``c ≥ 0``: ``Φ_w(c)/2 + ∫_0^c φ_w(u) Φ_w(c − u) du``."""
    from scipy import integrate

    inner, _ = integrate.quad(lambda u: _phi(u, sigma_w) * _Phi(c - u, sigma_w), 0.0, c)
    return _Phi(c, sigma_w) / 2 + inner


@functools.lru_cache(maxsize=64)
def _dead_normal_bias(sigma_w, sigma_b) -> float:
    """``∫_0^∞ φ_b(c) P(w1 ≤ c, w2 ≤ c, w1 + w2 ≤ c) dc`` with ``c = −b`` (module docstring)."""
    from scipy import integrate

    p, _ = integrate.quad(lambda c: _phi(c, sigma_b) * _dead_given(c, sigma_w), 0.0, math.inf)
    return float(p)


def dead_probability(bias, kink, cfg) -> float:
    """Theory: the probability that a fresh unit is dead on all four XOR inputs (module docstring).

    Weights ``N(0, σ_w²)`` with ``σ_w`` the std of ``cfg.init`` at fan-in 2 (He: 1).
    """
    sigma_w = get_init(cfg.init).std(2, 1)
    if bias == "normal":
        return _dead_normal_bias(sigma_w, cfg.bias_std)
    b = 0.0 if bias == "zero" else cfg.bias_const
    if b == 0:  # a(0, 0) = 0 sits on the kink: dead with r′(0) = 0 iff w1, w2 ≤ 0
        return 0.25 if kink == 0 else 0.0
    return 0.0 if b > 0 else _dead_given(-b, sigma_w)


def size_draws(seed, cfg) -> dict:
    """Dead-unit fraction on ``n`` random points, for n in ``cfg.sizes``: centred and non-negative inputs.

    ``cfg.size_units`` units per n with weights from ``cfg.init`` (fan-in 2) and zero biases;
    centred points ~ N(0, I₂), non-negative points ~ U[0, 1]²; generator ``default_rng([seed, 3])``.
    A unit is dead when ``a ≤ 0`` on every point (any convention: ``a = 0`` has probability 0).
    """
    rng = np.random.default_rng([seed, 3])
    K = cfg.size_units
    out = {"centred": [], "non-negative": []}
    for n in cfg.sizes:
        W = get_init(cfg.init)((2, K), rng, np.float64)  # (2, K)
        for kind, pts in (("centred", rng.standard_normal((K, n, 2))), ("non-negative", rng.random((K, n, 2)))):
            a = np.einsum("knd,dk->kn", pts, W)  # (K, n)
            out[kind].append(int(np.all(a <= 0, axis=1).sum()))
    return {"units": K, "sizes": list(cfg.sizes), "dead": out}


# -- reading the runs (for the judgement and the report) ------------------------------------------------
def wilson(k, n, confidence=0.95):
    """Wilson score interval for a binomial proportion ``k / n`` (Wilson 1927); ``(nan, nan)`` for n = 0."""
    if n == 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: rounding would leave ~1e-17
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def arm_label(H, bias, kink) -> str:
    return f"2-{H}-1, bias {bias}, r′(0) = {kink}"


def by_arm(measured, cfg) -> dict:
    """``{(role, H): {seed: [copy rows]}}`` of the training runs (a run that raised is left out)."""
    out = {}
    for key, data in measured:
        if key["part"] == "train" and "copies" in data:
            out.setdefault((key["role"], key["H"]), {})[key["seed"]] = data["copies"]
    return out


def choose(train, cfg) -> dict:
    """``{(H, bias, kink): lr}``: the highest success rate over the selection seeds, then the lowest loss."""
    chosen = {}
    for H in cfg.hidden_sizes:
        runs = list(train.get(("select", H), {}).values())
        for bias in BIASES:
            for kink in KINKS:
                best = None
                for lr in cfg.lr_grid:
                    rows = [r for rows in runs for r in rows if (r["bias"], r["kink"], r["lr"]) == (bias, kink, lr)]
                    if not rows:
                        continue
                    rank = (-np.mean([r["success"] for r in rows]), np.mean([r["loss"] for r in rows]))
                    if best is None or rank < best[0]:
                        best = (rank, lr)
                if best is not None:
                    chosen[H, bias, kink] = best[1]
    return chosen


def test_rows(train, chosen, cfg, H, bias, kink) -> list[dict]:
    """The test seeds' rows of one arm at its chosen rate, in seed order."""
    lr = chosen.get((H, bias, kink))
    runs = train.get(("test", H), {})
    out = []
    for s in cfg.seeds:
        if s in runs:
            out += [r for r in runs[s] if (r["bias"], r["kink"], r["lr"]) == (bias, kink, lr)]
    return out


def init_counts(measured) -> dict:
    """``{"bias/kink": (dead, units)}`` summed over every training run's fresh draws."""
    out = {}
    for key, data in measured:
        if key["part"] == "train" and "init" in data:
            for arm, k in data["init"]["dead"].items():
                d, n = out.get(arm, (0, 0))
                out[arm] = (d + k, n + data["init"]["units"])
    return out


def size_counts(measured, cfg) -> dict:
    """``{kind: (dead per size, units per size)}`` summed over the size runs."""
    out = {}
    for key, data in measured:
        if key["part"] == "size" and "dead" in data:
            for kind, ks in data["dead"].items():
                d, n = out.get(kind, ([0] * len(cfg.sizes), 0))
                out[kind] = ([a + b for a, b in zip(d, ks)], n + data["units"])
    return out
