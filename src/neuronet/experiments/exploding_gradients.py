"""Claim 7: an unbounded unit's output can grow arbitrarily large and overwhelm the units downstream.

A ReLU is unbounded above, so nothing stops the scale of activations from growing
layer after layer.  With weights of standard deviation ``k * sqrt(2 / fan_in)`` each
ReLU layer multiplies the mean square of its input by about ``k²`` (He et al. 2015:
``k = 1`` keeps it constant).  Backward, the delta is multiplied by ``W_lᵀ`` and the
ReLU mask once per layer::

    delta_{l-1} = (delta_l @ W_lᵀ) * [z_{l-1} > 0]

so it grows by the same factor on its way down: the exploding gradient.  We measure,
at initialization, the RMS activation of every hidden layer, the RMS of the delta
``dL/da_l`` reaching it and the weight-gradient norm ``||dL/dW_l||``; then train with
plain SGD with and without clipping the global gradient norm (``max_grad_norm``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ConfigError, DivergenceError
from ..init import Initializer, get_init
from ..network import mlp
from ..train import Trainer
from .base import Plot, Result, Series, experiment, pm, spread
from .common import load_data

CLAIM = "Arbitrarily large output → might overwhelm units downstream: exploding gradient problem."


class ScaledHe(Initializer):
    """``N(0, k² · 2/fan_in)``: He et al. (2015) scaled by ``k``; ReLU activations then grow ``≈ k×`` per layer."""

    name = "scaled-he"

    def __init__(self, k: float):
        self.k = float(k)

    def std(self, fan_in, fan_out):
        return self.k * math.sqrt(2.0 / fan_in)

    def config(self):
        return {"name": self.name, "k": self.k}


def _init(spec: str):
    """``"he*2"`` -> ``ScaledHe(2)``; anything else through ``neuronet.init.get_init``."""
    name, star, k = spec.partition("*")
    if star:
        if name.strip() != "he":
            raise ConfigError(f"init {spec!r}: only 'he*k' may carry a factor")
        try:
            return ScaledHe(float(k))
        except ValueError:
            raise ConfigError(f"init {spec!r}: factor {k!r} is not a number") from None
    return get_init(spec)


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    width: int = 64
    depth: int = 10  # hidden layers
    baseline: str = "he"
    large_inits: tuple = ("he*2", "normal:1")
    lr: float = 0.05
    batch_size: int = 32
    epochs: int = 5
    max_grad_norm: float = 5.0
    seeds: tuple = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls):
        return cls(depth=8, epochs=2, seeds=(0, 1))


def _rms(a) -> float:
    a = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.mean(a * a)))


def _at_init(net, Xtr, Y):
    """RMS activation per hidden layer, RMS delta dL/da per layer, ||dL/dW|| per layer (training set)."""
    acts = [z.astype(np.float64) for z in net.activations(Xtr)]  # each (n, n_units)
    net.loss_and_gradients(Xtr, Y)
    grad_norms = [float(np.linalg.norm(net.grads[2 * i].astype(np.float64))) for i in range(len(net.layers))]
    global_norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in net.grads))  # what clipping sees
    # the deltas, backpropagated here in float64 from the softmax + cross-entropy output delta (z - y) / n
    d = (acts[-1] - Y) / Xtr.shape[0]
    deltas = [_rms(d)]
    for i in range(len(net.layers) - 1, 0, -1):
        d = (d @ net.layers[i].W.astype(np.float64).T) * (acts[i - 1] > 0)  # ReLU: f'(0) = 0
        deltas.append(_rms(d))
    return {"act": [_rms(z) for z in acts[:-1]], "delta": deltas[::-1], "grad": grad_norms, "global": global_norm}


def _one(cfg, data, init, seed):
    Xtr, ytr, Xv, yv, _, _, k = data
    sizes = [Xtr.shape[1], *[cfg.width] * cfg.depth, k]
    net = mlp(sizes, hidden="relu", output="softmax", init=_init(init), seed=seed)
    tr = Trainer(net, "sgd", lr=cfg.lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)
    _, Y, _ = tr.prepare(Xtr, ytr)
    out = _at_init(net, Xtr, Y)
    for clip in (None, cfg.max_grad_norm):
        net = mlp(sizes, hidden="relu", output="softmax", init=_init(init), seed=seed)
        tr = Trainer(
            net,
            "sgd",
            lr=cfg.lr,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            seed=seed,
            diagnostics=False,
            max_grad_norm=clip,
        )
        try:
            h = tr.fit(Xtr, ytr, validation_data=(Xv, yv))
        except DivergenceError as e:
            h = e.history
        key = "clipped" if clip else "unclipped"
        out[key] = {
            "diverged": h.diverged,
            "epochs done": len(h),
            "loss": None if h.diverged else h.history["loss"][-1],
            "val_accuracy": None if h.diverged else h.history["val_accuracy"][-1],
            "curve": h.history.get("loss", []),
        }
    return out


@experiment("exploding-gradients", CLAIM, Config, order=70)
def run(cfg: Config) -> Result:
    if cfg.depth < 2:
        raise ValueError(f"depth must be >= 2 hidden layers to compare depths, got {cfg.depth}")
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: one BLAS thread is fastest
        data = load_data(cfg.data, seed=0)
        runs = {init: [_one(cfg, data, init, s) for s in cfg.seeds] for init in (cfg.baseline, *cfg.large_inits)}
    return _result(cfg, runs)


def _geo(rows):
    """Geometric mean over seeds of per-layer lists, (n_layers,)."""
    return (10 ** np.mean(np.log10(np.maximum(np.array(rows, dtype=float), 1e-300)), axis=0)).tolist()


def _result(cfg, runs):
    base = cfg.baseline
    inits = (base, *cfg.large_inits)
    metrics = {}
    # -- (a) activations: large inits grow >= 10x from the first to the top hidden layer; the baseline within 3x
    growth = {i: [r["act"][-1] / r["act"][0] for r in runs[i]] for i in inits}
    base_range = [max(r["act"]) / min(r["act"]) for r in runs[base]]
    part_a = all(g >= 10 for i in cfg.large_inits for g in growth[i]) and all(v <= 3 for v in base_range)
    # -- (b) gradients: the delta grows >= 10x from the top hidden layer down to the first, the baseline's within
    #        3x; and the first layer's weight gradient is >= 10x the baseline's, in every seed
    dgrowth = {i: [r["delta"][0] / r["delta"][-2] for r in runs[i]] for i in inits}  # first vs top hidden layer
    base_drange = [max(r["delta"][:-1]) / min(r["delta"][:-1]) for r in runs[base]]
    grad_vs_base = {i: [r["grad"][0] / rb["grad"][0] for r, rb in zip(runs[i], runs[base])] for i in cfg.large_inits}
    part_b = (
        all(g >= 10 for i in cfg.large_inits for g in dgrowth[i])
        and all(v <= 3 for v in base_drange)
        and all(g >= 10 for i in cfg.large_inits for g in grad_vs_base[i])
    )
    # -- (c) training: unclipped SGD diverges with every large init in every seed; clipped never does; nor the baseline
    part_c = (
        all(r["unclipped"]["diverged"] for i in cfg.large_inits for r in runs[i])
        and not any(r["clipped"]["diverged"] for i in inits for r in runs[i])
        and not any(r["unclipped"]["diverged"] for r in runs[base])
    )
    parts = {
        "(a) activations grow with depth": part_a,
        "(b) gradients grow toward the input": part_b,
        "(c) unclipped SGD diverges, clipped does not": part_c,
    }
    verdict = "supported" if all(parts.values()) else "not supported" if not any(parts.values()) else "mixed"

    rows_init, rows_train = [], []
    for i in inits:
        rs = runs[i]
        g, dg = spread(growth[i]), spread(dgrowth[i])
        metrics[f"activation RMS top/first hidden layer, {i}"] = g
        metrics[f"delta RMS first/top hidden layer, {i}"] = dg
        metrics[f"||dL/dW|| first layer, {i}"] = spread([r["grad"][0] for r in rs])
        rows_init.append(
            {
                "init": i,
                "activation RMS, first hidden": pm(spread([r["act"][0] for r in rs]), 3),
                "activation RMS, top hidden": f"{spread([r['act'][-1] for r in rs])['mean']:.3g}",
                "growth top/first": f"{g['mean']:.3g}",
                "delta growth first/top": f"{dg['mean']:.3g}",
                "||dL/dW|| first layer": f"{spread([r['grad'][0] for r in rs])['mean']:.3g}",
                "global gradient norm": f"{spread([r['global'] for r in rs])['mean']:.3g}",
            }
        )
        metrics[f"global gradient norm at init, {i}"] = spread([r["global"] for r in rs])
        for key in ("unclipped", "clipped"):
            tr = [r[key] for r in rs]
            n_div = sum(t["diverged"] for t in tr)
            loss, acc = spread([t["loss"] for t in tr]), spread([t["val_accuracy"] for t in tr])
            metrics[f"diverged fraction, {i}, {key}"] = n_div / len(tr)
            metrics[f"final training loss, {i}, {key}"] = loss
            metrics[f"validation accuracy, {i}, {key}"] = acc
            rows_train.append(
                {
                    "init": i,
                    "gradient clipping": f"max norm {cfg.max_grad_norm:g}" if key == "clipped" else "none",
                    "diverged": f"{n_div}/{len(tr)}",
                    "epoch of divergence": ", ".join(str(t["epochs done"] + 1) for t in tr if t["diverged"]) or "—",
                    f"training loss after {cfg.epochs} epochs": "n/a"
                    if loss["mean"] is None
                    else f"{loss['mean']:.4g} ± {loss['std']:.2g}",
                    "validation accuracy": pm(acc, 3),
                }
            )

    def fmt(vals):
        return ", ".join(f"{v:.3g}" for v in vals)

    reason = (
        "Rule: three parts; supported if all hold, not supported if none, mixed otherwise. "
        f"(a) with every large init ({', '.join(cfg.large_inits)}) the RMS activation of the top hidden layer is ≥ 10× "
        f"the first hidden layer's in every seed, while with {base} every hidden layer is within 3× of every other: "
        f"{'holds' if part_a else 'fails'} (growth "
        + "; ".join(f"{i}: {fmt(growth[i])}" for i in cfg.large_inits)
        + f"; {base} max/min {fmt(base_range)}). "
        f"(b) the backpropagated delta is ≥ 10× larger at the first hidden layer than at the top one with every large "
        f"init (with {base} within 3×), and the first layer's ||dL/dW|| is ≥ 10× {base}'s, in every seed: "
        f"{'holds' if part_b else 'fails'} (delta growth "
        + "; ".join(f"{i}: {fmt(dgrowth[i])}" for i in cfg.large_inits)
        + "; ||dL/dW|| vs "
        + base
        + ": "
        + "; ".join(f"{i}: {fmt(grad_vs_base[i])}" for i in cfg.large_inits)
        + f"). (c) with SGD at lr {cfg.lr:g}, every unclipped large-init run diverges (NaN/inf loss, weights rolled "
        f"back), no run clipped at {cfg.max_grad_norm:g} diverges, and unclipped {base} does not: "
        f"{'holds' if part_c else 'fails'}. Clipping bounds the step, not the scale: the clipped large-init "
        f"networks' training losses stay far above {base}'s (see the table)."
    )

    # -- plots -----------------------------------------------------------------------------------------------------
    plots = [
        Plot(
            title=f"RMS activation per hidden layer at initialization, {cfg.depth}×{cfg.width} ReLU",
            xlabel="hidden layer",
            ylabel="RMS activation",
            logy=True,
            series=[
                Series(label=i, x=list(range(1, cfg.depth + 1)), y=_geo([r["act"] for r in runs[i]])) for i in inits
            ],
            caption="Geometric mean over seeds, on the training set.",
        ),
        Plot(
            title="RMS delta dL/da per layer at initialization (backpropagated)",
            xlabel="layer",
            ylabel="RMS dL/da",
            logy=True,
            series=[
                Series(label=i, x=list(range(1, cfg.depth + 2)), y=_geo([r["delta"] for r in runs[i]])) for i in inits
            ],
            caption=f"Layer {cfg.depth + 1} is the softmax output; an exploding gradient rises to the left.",
        ),
        Plot(
            title="Weight-gradient norm per layer at initialization",
            xlabel="layer",
            ylabel="||dL/dW||",
            logy=True,
            series=[
                Series(label=i, x=list(range(1, cfg.depth + 2)), y=_geo([r["grad"] for r in runs[i]])) for i in inits
            ],
            caption="||dL/dW_l|| = ||h_{l-1}ᵀ δ_l||: growing activations above times growing deltas below.",
        ),
    ]
    series = []
    for i in inits:
        for key in ("unclipped", "clipped"):
            curves = [r[key]["curve"] for r in runs[i] if not r[key]["diverged"] and r[key]["curve"]]
            if not curves:
                continue
            arr = np.array(curves, dtype=float)
            series.append(
                Series(
                    label=f"{i}, {key}",
                    x=list(range(1, arr.shape[1] + 1)),
                    y=_geo(arr.tolist()) if arr.min() > 0 else arr.mean(axis=0).tolist(),
                )
            )
    plots.append(
        Plot(
            title="Training loss of the runs that did not diverge",
            xlabel="epoch",
            ylabel="cross-entropy",
            logy=True,
            series=series,
            caption=f"SGD lr {cfg.lr:g}; 'clipped': global gradient norm clipped at {cfg.max_grad_norm:g}. "
            "Missing lines diverged in every seed.",
        )
    )

    measurement = (
        f"{cfg.data}: ReLU networks with {cfg.depth} hidden layers of {cfg.width} units and a softmax output "
        f"(cross-entropy), initialized {base} (std √(2/n)) or {', '.join(cfg.large_inits)} ('he*k': k·√(2/n); "
        f"'normal:1': std 1), seeds {', '.join(map(str, cfg.seeds))}. At initialization, on the training set: "
        f"RMS activation per hidden layer, RMS of the backpropagated delta per layer and ||dL/dW|| per layer. Then "
        f"{cfg.epochs} epochs of plain SGD (lr {cfg.lr:g}, batch {cfg.batch_size}; a rate at which the {base} "
        f"network trains stably, the same for all) without and with clipping of the global gradient norm at "
        f"{cfg.max_grad_norm:g} (above the {base} network's global gradient norm at initialization, see the table); "
        f"whether the run diverged (History.diverged) and its final loss."
    )
    return Result(
        name="exploding-gradients",
        claim=CLAIM,
        measurement=measurement,
        verdict=verdict,
        reason=reason,
        metrics=metrics,
        tables=[
            {"title": "At initialization (mean over seeds)", "rows": rows_init},
            {"title": f"SGD for {cfg.epochs} epochs, with and without gradient clipping", "rows": rows_train},
            {"title": "Parts of the verdict", "rows": [{"part": k, "holds": v} for k, v in parts.items()]},
        ],
        plots=plots,
    )
