"""Claim: a ReLU network is still nonlinear, so it can compute XOR.

Two parts:

* Existence.  A hand-set 2-2-1 ReLU network (notes' construction)::

      h1 = relu(x1 + x2),  h2 = relu(x1 + x2 - 1),  y = h1 - 2 h2

  outputs exactly 0, 1, 1, 0 on the four patterns (run through the engine's
  ``Network`` with an identity output).
* Learnability.  2-2-1 and 2-4-1 networks with ReLU hidden units (sigmoid hidden
  units for contrast), a sigmoid output and the logistic loss, trained by
  full-batch gradient descent from many seeds.  A run succeeds when all four
  patterns end on the right side of 0.5.

The many small runs are trained in lockstep: the weights of all seeds are
stacked along a leading axis and updated together with the same hand-derived
backprop and update as the engine (``Network.loss_and_grads`` with the fused
sigmoid + logistic delta ``z - y``, ``SGD``: ``w -= lr g``, float32).  The
initial weights are those of ``neuronet.mlp(..., seed=s)``; the tests check the
lockstep trajectory against ``neuronet.Trainer`` step by step.  The decision
regions are drawn by the engine's ``Network.predict`` with the learned weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..data import load
from ..layers import Dense
from ..network import Network, mlp
from .base import Plot, Result, Series, experiment, spread

CLAIM = "Still nonlinear → can compute XOR."

INIT = {"relu": "he", "sigmoid": "fan-in"}  # each unit's customary initialization


@dataclass(frozen=True)
class Config:
    seeds: tuple = tuple(range(100))
    hidden_sizes: tuple = (2, 4)
    units: tuple = ("relu", "sigmoid")
    lr: float = 0.5
    epochs: int = 2000  # full-batch steps
    lr_grid: tuple = (0.1, 0.3, 1.0, 3.0)  # sensitivity table (same budget)
    success_min: float = 0.5  # 2-4-1 ReLU success rate the verdict asks for
    grid_points: int = 81  # decision-region image: grid_points² over [-0.5, 1.5]²
    confidence: float = 0.95  # Wilson interval

    @classmethod
    def quick(cls):
        return cls(seeds=tuple(range(20)), epochs=1000, lr_grid=(0.3, 1.0))


# -- the lockstep trainer -----------------------------------------------------------------------
def initial_weights(n_hidden, unit, seeds, init=None):
    """``[W1 (S, 2, H), b1 (S, H), W2 (S, H, 1), b2 (S, 1)]`` of ``mlp([2, H, 1], seed=s)`` for each seed."""
    nets = [mlp([2, n_hidden, 1], hidden=unit, output="sigmoid", init=init or INIT[unit], seed=s) for s in seeds]
    return [np.stack([n.params[i] for n in nets]) for i in range(4)]


def _hidden(unit, a):
    """Hidden unit forward (in place on ``a``), as ``neuronet.units`` computes it."""
    if unit == "relu":
        return np.maximum(a, 0, out=a)
    return _sigmoid(a)


def _sigmoid(a):
    with np.errstate(over="ignore"):
        np.negative(a, out=a)
        np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def _hidden_prime(unit, z):
    """``f'`` from the cached output: ReLU ``1[z > 0]`` (``f'(0) = 0``), sigmoid ``z(1 - z)``."""
    if unit == "relu":
        return (z > 0).astype(z.dtype)
    return z * (1 - z)


def forward(weights, unit, X):
    """Hidden outputs ``(S, 4, H)`` and output probabilities ``(S, 4, 1)`` of every stacked network."""
    W1, b1, W2, b2 = weights
    z1 = _hidden(unit, np.matmul(X, W1) + b1[:, None, :])  # (S, B, H)
    z2 = _sigmoid(np.matmul(z1, W2) + b2[:, None, :])  # (S, B, 1)
    return z1, z2


def train_lockstep(weights, unit, X, Y, lr, steps):
    """Full-batch gradient descent on the mean logistic loss, every seed at once; updates ``weights``.

    Per network (B = 4 patterns)::

        d2  = (z2 - y) / B             # fused sigmoid + logistic delta
        gW2 = z1^T d2,   gb2 = sum_b d2
        d1  = (d2 W2^T) * f'(z1)
        gW1 = X^T d1,    gb1 = sum_b d1
        w  -= lr * g
    """
    W1, b1, W2, b2 = weights
    B = X.shape[0]
    XT = np.ascontiguousarray(X.T)  # (2, B)
    for _ in range(steps):
        z1, z2 = forward(weights, unit, X)
        d2 = z2 - Y  # (S, B, 1)
        d2 *= 1.0 / B
        gW2 = np.matmul(z1.transpose(0, 2, 1), d2)  # (S, H, 1)
        gb2 = d2.sum(axis=1)  # (S, 1)
        d1 = np.matmul(d2, W2.transpose(0, 2, 1))  # (S, B, H)
        d1 *= _hidden_prime(unit, z1)
        gW1 = np.matmul(XT, d1)  # (S, 2, H)
        gb1 = d1.sum(axis=1)  # (S, H)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            g *= lr
            p -= g
    return weights


def _logistic_loss(z2, Y):
    eps = np.finfo(z2.dtype).tiny
    return -(Y * np.log(np.maximum(z2, eps)) + (1 - Y) * np.log(np.maximum(1 - z2, eps))).mean(axis=(1, 2))


def _outcomes(weights, unit, X, y):
    """Per seed: success, patterns right, dead hidden units, final loss."""
    z1, z2 = forward(weights, unit, X)
    pred = (z2[:, :, 0] > 0.5).astype(np.int64)  # decode_outputs' threshold for one output
    right = (pred == y[None, :]).sum(axis=1)
    dead = (~(z1 > 0).any(axis=1)).sum(axis=1) if unit == "relu" else np.zeros(len(z1), np.int64)
    return {
        "success": right == 4,
        "right": right,
        "dead": dead,
        "loss": _logistic_loss(z2, y[None, :, None].astype(z2.dtype)),
    }


def wilson(k, n, confidence=0.95):
    """Wilson score interval for a binomial proportion ``k / n`` (Wilson 1927)."""
    if n == 0:
        return (None, None)
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: rounding would leave ~1e-17
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def hand_set_xor():
    """The notes' 2-2-1 ReLU network for XOR, as an engine ``Network`` (identity output, float64)."""
    hidden = Dense(2, 2, "relu", dtype=np.float64, rng=np.random.default_rng(0))
    out = Dense(2, 1, "identity", dtype=np.float64, rng=np.random.default_rng(0))
    net = Network([hidden, out], "squared-error")
    net.set_weights(
        [np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0]), np.array([[1.0], [-2.0]]), np.array([0.0])]
    )
    return net


def fail_rows_by_net(rows, fail_rows):
    """Success and failure rows of each network, merged (for the verdict's text)."""
    fails = {r["network"]: r for r in fail_rows}
    return [{**r, **fails.get(r["network"], {})} for r in rows]


def _name(H, unit):
    return f"2-{H}-1 {unit}"


@experiment("xor-relu", CLAIM, Config, order=60)
def run(cfg: Config) -> Result:
    # hundreds of 4 x 4 matrix products per step: BLAS threads only add overhead
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(cfg)


def _run(cfg: Config) -> Result:
    ds = load("xor")
    X, y = ds.X_train, ds.y_train  # (4, 2) float32, (4,) int
    Y = y.astype(X.dtype)[:, None]
    seeds = list(cfg.seeds)
    n = len(seeds)

    # existence: the hand-set network, through the engine
    exact_out = hand_set_xor().predict(X.astype(np.float64))[:, 0]
    exact = bool(np.array_equal(exact_out, y.astype(np.float64)))

    # learnability: every architecture from every seed, at cfg.lr
    res, final = {}, {}
    for unit in cfg.units:
        for H in cfg.hidden_sizes:
            w = initial_weights(H, unit, seeds)
            start = _outcomes(w, unit, X, y)
            train_lockstep(w, unit, X, Y, cfg.lr, cfg.epochs)
            out = _outcomes(w, unit, X, y)
            out["dead_at_start"] = start["dead"]
            res[(H, unit)], final[(H, unit)] = out, w

    rows, fail_rows, metrics = [], [], {}
    for (H, unit), o in res.items():
        k = int(o["success"].sum())
        lo, hi = wilson(k, n, cfg.confidence)
        fails = ~o["success"]
        nf = int(fails.sum())
        relu = unit == "relu"
        row = {
            "network": _name(H, unit),
            "init": INIT[unit],
            "success rate": k / n,
            f"Wilson {cfg.confidence:.0%} interval": f"[{lo:.2f}, {hi:.2f}]",
            "successes": f"{k}/{n}",
            "runs with a dead hidden unit": float(np.mean(o["dead"] > 0)) if relu else None,
            "… of them dead from the start": (
                float(np.mean(o["dead_at_start"][o["dead"] > 0] > 0)) if relu and (o["dead"] > 0).any() else None
            ),
            "final loss (successes)": spread(o["loss"][o["success"]])["mean"],
        }
        rows.append(row)
        metrics[f"{_name(H, unit)}: success rate"] = {"rate": k / n, "wilson": [lo, hi], "n": n}
        if relu:
            metrics[f"{_name(H, unit)}: runs with a dead hidden unit"] = float(np.mean(o["dead"] > 0))
        if nf:
            f_right = o["right"][fails]
            f_dead = o["dead"][fails]
            fail_rows.append(
                {
                    "network": _name(H, unit),
                    "failures": nf,
                    "3 of 4 right": int((f_right == 3).sum()),
                    "2 of 4 right": int((f_right == 2).sum()),
                    "≤ 1 right": int((f_right <= 1).sum()),
                    "with a dead hidden unit": int((f_dead > 0).sum()) if relu else None,
                    "all hidden units dead": int((f_dead == H).sum()) if relu else None,
                    "mean final loss": float(o["loss"][fails].mean()),
                }
            )
        else:
            fail_rows.append({"network": _name(H, unit), "failures": 0})

    # sensitivity: success rate over a grid of learning rates, same budget
    sens_rows = []
    for unit in cfg.units:
        for H in cfg.hidden_sizes:
            row = {"network": _name(H, unit)}
            for lr in cfg.lr_grid:
                w = train_lockstep(initial_weights(H, unit, seeds), unit, X, Y, lr, cfg.epochs)
                row[f"lr={lr:g}"] = float(_outcomes(w, unit, X, y)["success"].mean())
            sens_rows.append(row)

    # decision regions of the first successful 2-4-1 ReLU run, drawn by the engine
    plots = []
    main = (4, "relu")
    image_seed = None
    if main in res and res[main]["success"].any():
        i = int(np.flatnonzero(res[main]["success"])[0])
        image_seed = seeds[i]
        net = mlp([2, 4, 1], hidden="relu", output="sigmoid", init=INIT["relu"], seed=image_seed)
        net.set_weights([p[i] for p in final[main]])
        g = np.linspace(-0.5, 1.5, cfg.grid_points, dtype=X.dtype)
        gx, gy = np.meshgrid(g, g)  # row r is y = g[r]: origin at the bottom
        P = net.predict(np.column_stack([gx.ravel(), gy.ravel()]))[:, 0].reshape(gx.shape)
        plots.append(
            Plot(
                title=f"Decision regions of a trained 2-4-1 ReLU network (seed {image_seed})",
                kind="image",
                xlabel="x1",
                ylabel="x2",
                image=P.tolist(),
                extent=[-0.5, 1.5, -0.5, 1.5],
                series=[
                    Series(label=f"class {c}", x=X[y == c, 0].tolist(), y=X[y == c, 1].tolist(), style="points")
                    for c in (0, 1)
                ],
                caption=f"P(class 1) on a {cfg.grid_points}×{cfg.grid_points} grid; the four XOR patterns on top.",
            )
        )
    plots.append(
        Plot(
            title=f"XOR success rate over {n} seeds (lr {cfg.lr:g}, {cfg.epochs} full-batch steps)",
            kind="bar",
            ylabel="fraction of runs with all 4 patterns right",
            series=[
                Series(
                    label="success rate",
                    x=[r["network"] for r in rows],
                    y=[r["success rate"] for r in rows],
                    yerr=[
                        (
                            metrics[f"{r['network']}: success rate"]["wilson"][1]
                            - metrics[f"{r['network']}: success rate"]["wilson"][0]
                        )
                        / 2
                        for r in rows
                    ],
                    style="bar",
                )
            ],
            hlines=[(cfg.success_min, "verdict threshold")],
            caption=f"Error bars: half the width of the Wilson {cfg.confidence:.0%} interval.",
        )
    )

    main_rate = float(res[main]["success"].mean()) if main in res else float("nan")
    learnable = main_rate >= cfg.success_min
    verdict = "supported" if exact and learnable else ("mixed" if exact or learnable else "not supported")
    lo, hi = metrics[f"{_name(*main)}: success rate"]["wilson"] if main in res else (None, None)
    dead_main = metrics.get(f"{_name(*main)}: runs with a dead hidden unit")
    reason = (
        f"Rule: supported if the hand-set 2-2-1 ReLU network outputs exactly 0, 1, 1, 0 and trained 2-4-1 ReLU "
        f"networks get all four patterns right in at least {cfg.success_min:.0%} of seeds; mixed if only one holds. "
        f"The hand-set network gives {exact_out.tolist()} ({'exact' if exact else 'not exact'}); the 2-4-1 ReLU "
        f"success rate is {main_rate:.2f} (Wilson {cfg.confidence:.0%}: [{lo:.2f}, {hi:.2f}]). "
        + (f"{dead_main:.0%} of 2-4-1 ReLU runs end with a dead hidden unit. " if dead_main is not None else "")
        + " ".join(
            f"{r['network']}: {r['success rate']:.2f} success"
            + (
                f", {r['with a dead hidden unit']} of its {r['failures']} failures with a dead hidden unit"
                if r.get("with a dead hidden unit") is not None
                else ""
            )
            + "."
            for r in fail_rows_by_net(rows, fail_rows)
        )
    )
    metrics["hand-set 2-2-1 ReLU output"] = exact_out.tolist()
    metrics["hand-set network exact"] = exact
    measurement = (
        f"XOR's four patterns. Trained: 2-H-1 networks (H in {list(cfg.hidden_sizes)}) with {list(cfg.units)} hidden "
        f"units (init: he for ReLU, fan-in for sigmoid; biases 0), a sigmoid output and the logistic loss, "
        f"{cfg.epochs} steps of full-batch gradient descent at lr {cfg.lr:g} (no momentum), {n} seeds, float32; "
        f"success = all four outputs on the right side of 0.5. A dead ReLU unit outputs 0 on all four patterns. "
        f"Also: success rates over the learning rates {list(cfg.lr_grid)} with the same budget, and the hand-set "
        f"network h1 = relu(x1 + x2), h2 = relu(x1 + x2 − 1), y = h1 − 2 h2 through the engine."
    )
    exact_row = {
        "network": "hand-set 2-2-1 ReLU (identity output)",
        "outputs": str(exact_out.tolist()),
        "XOR exactly": exact,
    }
    return Result(
        name="xor-relu",
        claim=CLAIM,
        measurement=measurement,
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": f"Success over {n} seeds (lr {cfg.lr:g}, {cfg.epochs} full-batch steps)", "rows": rows},
            {"title": "How the failures fail", "rows": fail_rows},
            {"title": "Success rate by learning rate (same budget)", "rows": sens_rows},
            {"title": "A ReLU network that computes XOR exactly", "rows": [exact_row]},
        ],
        plots=plots,
    )
