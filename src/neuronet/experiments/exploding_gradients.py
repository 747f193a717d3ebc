"""ReLU's "arbitrarily large output ↳ might overwhelm units downstream: exploding gradient problem" (lines 171–175).

Forward, each layer multiplies the scale of its input by its gain; a ReLU never saturates, so
nothing bounds the product: with ``W ~ N(0, 1)`` and fan-in ``n`` the RMS activation grows by about
``√(n/2)`` per layer, while He initialisation (``σ = √(2/n)``, He et al. 2015) keeps it constant.
Backward, the delta is multiplied by ``Wᵀ`` and the unit's derivative once per layer::

    δ_{l−1} = (δ_l W_lᵀ) ⊙ f'(z_{l−1})

A ReLU's ``f'`` is 1 on every active unit whatever the size of its output; a bounded unit such as
tanh saturates when its input is large, and ``f' = 1 − z²`` then damps the product.  So two things
can make gradients explode: a gain above 1 (large weights) and an output that never saturates.  The
design separates them with a 2 × 2 factorial over the same seeds:

============  ==================================  ====================================
              gain ≈ 1                            gain > 1 (``large_init``)
============  ==================================  ====================================
ReLU          He: ``σ = √(2/n)``                  ``N(0, 1)``
tanh          fan-in: ``σ = 1/√n`` (LeCun 1998)   ``N(0, 1)``: the bounded-unit control
============  ==================================  ====================================

At initialisation, on the training set of each seed's split: the RMS activation of every hidden
layer, the RMS delta ``dL/da`` of every layer (backpropagated in float64 from the softmax +
cross-entropy output delta ``(z − y)/n``), ``‖∇W_l‖``, and the fraction of samples whose softmax
output is pinned (``max z ≥ sat_threshold``: the units downstream overwhelmed).  Then ``epochs`` of
plain SGD at a rate at which the gain-1 networks train: does the run diverge?

That a ReLU's output is unbounded, and that it then grows as ``c^l`` when every weight is scaled by
``c`` (ReLU is positively homogeneous and the biases start at 0), is algebra: the table shows the
activation growth as a statement, not a check.  The checks are what the algebra does not settle: the
delta's growth layer by layer (He's gain of 1 is what keeps the baseline flat), whether the unbounded
unit makes the explosion worse than a bounded one at the same weights (the interaction), whether it
pins the output units downstream, and whether plain SGD then diverges where the bounded network does
not.  Whether tanh at ``N(0, 1)`` also grows its gradient toward the input (gain > 1 alone) is
reported beside the checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..network import mlp
from ..stats import Check, helps, interaction, mean_ci, spearman
from ..train import Trainer
from .base import Plot, Series
from .common import fit_quietly, load_data
from .design import Design, finite, register_design

CLAIM = "Arbitrarily large output → might overwhelm units downstream: exploding gradient problem."


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int | None = 2000  # training images kept before the validation split (Fashion-MNIST: 60000)
    max_test: int | None = 2000
    width: int = 64
    depth: int = 10  # hidden layers
    unbounded: str = "relu"
    bounded: str = "tanh"  # the control: a unit whose output cannot grow
    unbounded_init: str = "he"  # gain ≈ 1 for the unbounded unit
    bounded_init: str = "fan-in"  # gain ≈ 1 for the bounded unit
    large_init: str = "normal:1"  # gain > 1, the same weights for both units
    sat_threshold: float = 0.99  # a softmax output with max z ≥ this is pinned (overwhelmed)
    lr: float = 0.05  # plain SGD; the gain-1 networks train at this rate
    batch_size: int = 32
    epochs: int = 1
    seeds: tuple = tuple(range(20))  # ≥ 20: the unit × init interaction

    @classmethod
    def quick(cls):
        return cls(depth=8, seeds=(0, 1, 2, 3))

    def arms(self):
        """``(unit, init)`` of the four cells: unbounded base, unbounded large, bounded base, bounded large."""
        return (
            (self.unbounded, self.unbounded_init),
            (self.unbounded, self.large_init),
            (self.bounded, self.bounded_init),
            (self.bounded, self.large_init),
        )


@functools.lru_cache(maxsize=4)
def _data(spec, seed, max_train, max_test):
    """The seed's split (cached per process; never modified)."""
    data = load_data(spec, seed=seed, max_train=max_train, max_test=max_test)
    for a in data[:-1]:
        a.setflags(write=False)  # shared by every run of the seed in this process
    return data


def _rms(a) -> float:
    a = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.mean(a * a)))


def _network(cfg, unit, init, n_in, k, seed):
    return mlp([n_in, *[cfg.width] * cfg.depth, k], hidden=unit, output="softmax", init=init, seed=seed)


def at_init(net, X, Y, sat_threshold) -> dict:
    """Per layer at initialisation: RMS activation (hidden), RMS delta dL/da and ‖∇W‖ (every layer)."""
    acts = [z.astype(np.float64) for z in net.activations(X)]  # each (n, n_units)
    net.loss_and_grads(X, Y)
    grads = [float(np.linalg.norm(net.grads[2 * i].astype(np.float64))) for i in range(len(net.layers))]
    d = (acts[-1] - Y) / X.shape[0]  # softmax + cross-entropy: dL/da of the output layer, (n, k)
    deltas = [_rms(d)]
    for i in range(len(net.layers) - 1, 0, -1):
        z = acts[i - 1]
        d = (d @ net.layers[i].W.astype(np.float64).T) * net.layers[i - 1].unit.derivative(z, np.empty_like(z))
        deltas.append(_rms(d))
    return {
        "act": [_rms(z) for z in acts[:-1]],
        "delta": deltas[::-1],
        "grad": grads,
        "pinned": float(np.mean(acts[-1].max(axis=1) >= sat_threshold)),
    }


def run(cfg, unit, init, seed) -> dict:
    """One cell and seed: the measurements at initialisation, then plain SGD for ``epochs``."""
    Xtr, ytr, Xv, yv, _, _, k = _data(cfg.data, seed, cfg.max_train, cfg.max_test)
    net = _network(cfg, unit, init, Xtr.shape[1], k, seed)
    tr = Trainer(net, "sgd", lr=cfg.lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)
    X, Y, _ = tr.prepare(Xtr, ytr)
    out = at_init(net, X, Y, cfg.sat_threshold)
    h = fit_quietly(tr, Xtr, ytr, validation=(Xv, yv))
    out["diverged"] = h.diverged
    out["loss"] = None if h.diverged or not h["loss"] else h["loss"][-1]
    out["val_accuracy"] = None if h.diverged or not h["loss"] else h["val_accuracy"][-1]
    return out


# -- what the runs say --------------------------------------------------------------------------------------
def _log_growth(values, top, bottom) -> float:
    """``log10(values[top] / values[bottom])``."""
    return float(np.log10(values[top] / values[bottom]))


def cells(cfg, measured) -> dict:
    """``{(unit, init): {"act", "delta", "grad_first", "pinned", "diverged", ...}}`` per seed, in ``seeds`` order.

    ``act``: log10 RMS activation, top hidden layer over the first; ``delta``: log10 RMS delta, first
    hidden layer over the top one (> 0: the gradient grows toward the input).
    """
    by = {(k["unit"], k["init"], k["seed"]): d for k, d in measured}
    # only seeds whose four cells all ran, so that index i is the same seed in every cell (paired)
    seeds = [s for s in cfg.seeds if all("act" in by.get((*arm, s), {}) for arm in cfg.arms())]
    out = {}
    for arm in cfg.arms():
        ok = [by[(*arm, s)] for s in seeds]
        out[arm] = {
            "act": [_log_growth(d["act"], -1, 0) for d in ok],
            "delta": [_log_growth(d["delta"], 0, -2) for d in ok],
            "grad_first": [float(np.log10(d["grad"][0])) for d in ok],
            "pinned": [d["pinned"] for d in ok],
            "diverged": [1.0 if d.get("diverged") else 0.0 for d in ok],
            "runs": ok,
        }
    return out


def layer_points(cfg, c, arm):
    """``(layer, log10 RMS δ)`` of every hidden layer of every seed of one cell (pooled for a trend test)."""
    x, y = [], []
    for d in c[arm]["runs"]:
        for layer, v in enumerate(d["delta"][: cfg.depth], 1):
            x.append(layer)
            y.append(float(np.log10(v)))
    return x, y


def checks_from(cfg, c) -> list[Check]:
    ub, ul, bb, bl = cfg.arms()
    u, b = cfg.unbounded, cfg.bounded
    explode = spearman(
        *layer_points(cfg, c, ul),
        direction="falls",
        name="gradient explodes toward the input",
        claim=f"in the {cfg.depth}-layer {u} network with {cfg.large_init} weights the backpropagated delta grows "
        "layer by layer from the top hidden layer down to the first",
        statistic="Spearman ρ: hidden layer (1 = first) vs log10 RMS δ, pooled over seeds",
        could_fail=f"a delta that keeps its scale across layers, as with {cfg.unbounded_init}'s gain of 1",
    )
    separate = interaction(
        c[ub]["delta"],
        c[ul]["delta"],
        c[bb]["delta"],
        c[bl]["delta"],
        direction="greater",
        name="unboundedness adds to the explosion",
        claim=f"the large init grows the delta toward the input more for the unbounded {u} than for the bounded "
        f"{b} (which saturates, so f' = 1 − z² damps the backward product)",
        statistic=f"mean of ({u} large − {u} gain-1) − ({b} large − {b} gain-1) of log10(δ first / top)",
        could_fail=f"the bounded {b} growing its delta as much as {u}: then gain > 1 alone explains the explosion",
    )
    overwhelm = helps(
        c[ul]["pinned"],
        c[bl]["pinned"],
        direction="greater",
        name="large outputs overwhelm the output layer",
        claim=f"with the same {cfg.large_init} weights, {u} pins the softmax output (max z ≥ "
        f"{cfg.sat_threshold:g}) on more samples than the bounded {b}",
        statistic=f"mean paired difference of the fraction of samples with max z ≥ {cfg.sat_threshold:g}, {u} − {b}",
        could_fail=f"a bounded {b} layer pinning the output as often: then the weights, not the unbounded output, "
        "overwhelm it",
    )
    diverge = helps(
        c[ul]["diverged"],
        c[bl]["diverged"],
        direction="greater",
        name="plain SGD diverges",
        claim=f"with the same {cfg.large_init} weights and rate (lr {cfg.lr:g}, at which the gain-1 networks train), "
        f"the {u} network's loss becomes NaN/inf within {cfg.epochs} epoch(s) more often than the bounded {b}'s",
        statistic=f"mean paired difference of diverged (1) / not (0), {u} − {b}",
        could_fail=f"the {u} network training as stably as the bounded one at the same weights and rate",
    )
    return [explode, separate, overwhelm, diverge]


# -- presentation --------------------------------------------------------------------------------------------
def _num(x, digits=1):
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _ci(values, digits=2, lo=None, hi=None):
    if not values:
        return "n/a"
    if len(values) < 2:
        return f"{values[0]:.{digits}f}"
    m = mean_ci(values, lo=lo, hi=hi)
    return f"{m.mean:.{digits}f} [{m.ci[0]:.{digits}f}, {m.ci[1]:.{digits}f}]"


def _rows(cfg, c):
    rows = []
    for unit, init in cfg.arms():
        x = c[(unit, init)]
        losses = [finite(d.get("loss")) for d in x["runs"]]
        losses = [v for v in losses if v is not None]
        rows.append(
            {
                "unit, init": f"{unit}, {init}",
                "log10 activation growth top/first [95% CI]": _ci(x["act"]),
                "log10 δ growth first/top [95% CI]": _ci(x["delta"]),
                "log10 ‖∇W_1‖": _ci(x["grad_first"]),
                "softmax pinned": _ci(x["pinned"], 3, 0.0, 1.0),
                f"diverged in {cfg.epochs} epoch(s)": f"{int(sum(x['diverged']))}/{len(x['diverged'])}",
                "training loss (runs that did not diverge)": f"{np.mean(losses):.3g}" if losses else "n/a",
            }
        )
    return rows


def _geo(rows):
    """Geometric mean over seeds of per-layer lists, (n_layers,)."""
    return (10 ** np.mean(np.log10(np.maximum(np.array(rows, dtype=float), 1e-300)), axis=0)).tolist()


def _layer_plot(cfg, c, field, title, ylabel, n, caption):
    return Plot(
        title=title,
        xlabel="layer (1 = first hidden)",
        ylabel=ylabel,
        logy=True,
        series=[
            Series(label=f"{u}, {i}", x=list(range(1, n + 1)), y=_geo([d[field] for d in c[(u, i)]["runs"]]))
            for u, i in cfg.arms()
            if c[(u, i)]["runs"]
        ],
        caption=caption,
    )


@register_design
class ExplodingGradients(Design):
    name = "exploding-gradients"
    claim = CLAIM
    config_cls = Config
    order = 70

    def runs(self, cfg):
        if cfg.depth < 2:
            raise ValueError(f"depth must be >= 2 hidden layers to compare first and top, got {cfg.depth}")
        # the seed outermost: consecutive runs share a seed's split, which _data caches per process
        return [{"unit": u, "init": i, "seed": int(s)} for s in cfg.seeds for u, i in cfg.arms()]

    def measure(self, cfg, key):
        return run(cfg, key["unit"], key["init"], key["seed"])

    def judge(self, cfg, measured):
        return checks_from(cfg, cells(cfg, measured))

    def present(self, cfg, measured, checks):
        c = cells(cfg, measured)
        ub, ul, bb, bl = cfg.arms()
        by = {ch.name: ch for ch in checks}

        def gain(big, base, field):
            return float(np.mean(c[big][field]) - np.mean(c[base][field])) if c[big][field] and c[base][field] else None

        act, relu_d, tanh_d = gain(ul, ub, "act"), gain(ul, ub, "delta"), gain(bl, bb, "delta")
        measurement = (
            f"{cfg.data}: {cfg.depth}×{cfg.width} networks, softmax output, {len(cfg.seeds)} seeds. With "
            f"{cfg.large_init} weights the {cfg.unbounded} activations grow {_num(act)} decades more from the first to "
            f"the top hidden layer than with {cfg.unbounded_init}, and the delta {_num(relu_d)} decades more toward "
            f"the input. The bounded {cfg.bounded} control with the same weights keeps its outputs in [−1, 1], yet "
            f"its delta still grows {_num(tanh_d)} decades more than at {cfg.bounded_init} (gain > 1 alone); the "
            f"unbounded unit adds {_num(by['unboundedness adds to the explosion'].value)} decades."
        )
        metrics = {ch.name: ch.value for ch in checks}
        metrics[f"{cfg.unbounded} {cfg.large_init}: log10 activation growth over {cfg.unbounded_init}"] = act
        metrics[f"{cfg.unbounded} {cfg.large_init}: log10 δ growth over {cfg.unbounded_init}"] = relu_d
        metrics[f"{cfg.bounded} {cfg.large_init}: log10 δ growth over {cfg.bounded_init}"] = tanh_d
        for arm in (ub, bb, bl):
            rho = spearman(*layer_points(cfg, c, arm), direction="falls")
            metrics[f"Spearman ρ layer vs log10 δ, {arm[0]} {arm[1]}"] = rho.value
        return {
            "measurement": measurement,
            "metrics": metrics,
            "tables": [{"title": "At initialisation and after plain SGD (mean over seeds)", "rows": _rows(cfg, c)}],
            "plots": [
                _layer_plot(
                    cfg,
                    c,
                    "delta",
                    "RMS delta dL/da per layer at initialisation",
                    "RMS dL/da",
                    cfg.depth + 1,
                    f"Layer {cfg.depth + 1} is the softmax output; an exploding gradient rises to the left. Geometric "
                    "mean over seeds.",
                ),
                _layer_plot(
                    cfg,
                    c,
                    "act",
                    "RMS activation per hidden layer at initialisation",
                    "RMS activation",
                    cfg.depth,
                    "tanh cannot exceed 1; ReLU has no bound. Geometric mean over seeds.",
                ),
                _layer_plot(
                    cfg,
                    c,
                    "grad",
                    "Weight-gradient norm per layer at initialisation",
                    "‖∇W_l‖",
                    cfg.depth + 1,
                    "‖∇W_l‖ = ‖h_{l−1}ᵀ δ_l‖: activations above times deltas below.",
                ),
            ],
        }
