"""Vanishing gradients: "more layers the network has → bigger issue" (lecture, lines 112–114).

The notes list the vanishing gradient problem under sigmoid unit saturation (lines 106–110): with
``S' = S(1 − S) ≤ 1/4`` every layer multiplies the backpropagated delta by at most a quarter of its
weights' gain::

    δ_{l−1} = (δ_l W_lᵀ) ⊙ S'(z_{l−1})

so the gradient reaching the first layers shrinks geometrically with the number of layers, and the
more layers, the less of it is left.  Per network we measure ``‖∇W_l‖`` (Frobenius norm of the mean
gradient over the training set) for every layer, and ``r = ‖∇W_1‖ / ‖∇W_{D+1}‖`` (input-to-hidden
over the weights into the output), at initialisation and after ``epochs`` of plain SGD, for ``D`` in
``depths`` hidden layers of ``width`` units, over ``seeds`` (the data split varies with the seed).

* The deep sigmoid network (fan-in initialisation, remedy ①, so the units start unsaturated): its
  per-layer gradient norms rise from the input to the output (Spearman over layers).
* "More layers → bigger issue": ``log10 r`` falls with ``D`` (Spearman over depth).
* Against a control whose layers pass the delta at a gain of 1 (ReLU with He initialisation, remedy
  ⑤): at the deepest ``D`` the sigmoid's ``r`` is smaller (paired by seed), and its fall from the
  shallowest to the deepest ``D`` is larger (the depth × unit interaction, ≥ 20 seeds).
* After a short training the depth trend is still there (not an artefact of the initial weights).

Re-reading the notes: they place the problem under saturation, but the fall appears in unsaturated
sigmoid networks too, because ``S' ≤ 1/4`` even at its best.  A third arm, sigmoid with ``N(0, 1)``
weights (saturated, the notes' bad initialisation), is reported without a check: there the weights'
gain ``√n`` offsets the small ``S'``, and ``r`` falls less with depth.
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
from .design import Design, register_design

CLAIM = "The more layers the network has, the bigger the issue [of vanishing gradients]."


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int | None = 2000  # training images kept before the validation split (Fashion-MNIST: 60000)
    max_test: int | None = 2000
    width: int = 64
    depths: tuple = (1, 2, 3, 4, 6, 8)  # hidden layers
    unit: str = "sigmoid"
    init: str = "fan-in"
    control_unit: str = "relu"  # a gain-1 control: ReLU with He initialisation
    control_init: str = "he"
    saturated_init: str = "normal:1"  # the sigmoid started saturated: reported, not judged
    lr: float = 0.1  # plain SGD for the short training
    batch_size: int = 32
    epochs: int = 1
    seeds: tuple = tuple(range(20))  # ≥ 20: the depth × unit interaction

    @classmethod
    def quick(cls):
        return cls(depths=(1, 2, 4), seeds=(0, 1, 2, 3))

    def arms(self):
        """``(unit, init)``: the sigmoid under test, the control, the saturated sigmoid (reported)."""
        return ((self.unit, self.init), (self.control_unit, self.control_init), (self.unit, self.saturated_init))


@functools.lru_cache(maxsize=4)
def _data(spec, seed, max_train, max_test):
    """The seed's split (cached per process; never modified)."""
    data = load_data(spec, seed=seed, max_train=max_train, max_test=max_test)
    for a in data[:-1]:
        a.setflags(write=False)  # shared by every run of the seed in this process
    return data


def _norms(net, X, Y) -> list:
    """``‖∇W_l‖`` of every layer for the mean loss over ``(X, Y)``."""
    net.loss_and_grads(X, Y)
    return [float(np.linalg.norm(net.grads[2 * i].astype(np.float64))) for i in range(len(net.layers))]


def run(cfg, unit, init, depth, seed) -> dict:
    """Per-layer gradient norms at initialisation and after ``epochs`` of plain SGD."""
    Xtr, ytr, *_, k = _data(cfg.data, seed, cfg.max_train, cfg.max_test)
    net = mlp([Xtr.shape[1], *[cfg.width] * depth, k], hidden=unit, output="softmax", init=init, seed=seed)
    tr = Trainer(net, "sgd", lr=cfg.lr, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=seed, diagnostics=False)
    X, Y, _ = tr.prepare(Xtr, ytr)
    at_init = _norms(net, X, Y)
    h = fit_quietly(tr, Xtr, ytr)
    return {"init": at_init, "trained": None if h.diverged else _norms(net, X, Y), "diverged": h.diverged}


# -- what the runs say --------------------------------------------------------------------------------------
def _log_ratio(norms):
    """``log10(‖∇W_1‖ / ‖∇W_last‖)``; None when undefined (e.g. a top ReLU layer passing no gradient)."""
    if not norms or not (norms[0] > 0 and norms[-1] > 0 and np.isfinite(norms[0]) and np.isfinite(norms[-1])):
        return None
    return float(np.log10(norms[0] / norms[-1]))


def ratios(cfg, measured, arm, when="init") -> dict:
    """``{depth: [log10 r per seed, in seeds order (None where undefined)]}`` for one arm."""
    by = {(k["unit"], k["init"], k["depth"], k["seed"]): d for k, d in measured}
    return {
        depth: [_log_ratio(by.get((*arm, depth, s), {}).get(when)) for s in cfg.seeds] for depth in sorted(cfg.depths)
    }


def _pooled(r):
    """``(depths, log10 r)`` over every depth and seed with a defined ratio."""
    x = [d for d, vs in r.items() for v in vs if v is not None]
    y = [v for vs in r.values() for v in vs if v is not None]
    return x, y


def _pairs(*columns):
    """The columns (aligned by seed) restricted to the seeds where every one has a value."""
    keep = [i for i, row in enumerate(zip(*columns)) if all(v is not None for v in row)]
    return tuple([col[i] for i in keep] for col in columns)


def layer_points(cfg, measured, arm, depth):
    """``(layer, log10 ‖∇W_l‖)`` of every layer of every seed at one depth (pooled for a trend test)."""
    x, y = [], []
    for k, d in measured:
        if (k["unit"], k["init"], k["depth"]) == (*arm, depth) and d.get("init"):
            for layer, g in enumerate(d["init"], 1):
                if g > 0:
                    x.append(layer)
                    y.append(float(np.log10(g)))
    return x, y


def checks_from(cfg, measured) -> list[Check]:
    test, control = cfg.arms()[:2]
    lo, hi = min(cfg.depths), max(cfg.depths)
    sig, ctl = ratios(cfg, measured, test), ratios(cfg, measured, control)
    unit = f"{test[0]} ({test[1]})"
    within = spearman(
        *layer_points(cfg, measured, test, hi),
        direction="rises",
        name="gradient shrinks toward the input",
        claim=f"in the {hi}-hidden-layer {unit} network the gradient norm ‖∇W_l‖ rises from the first layer to the "
        "last: the lower layers get less",
        statistic="Spearman ρ: layer (1 = input→hidden) vs log10 ‖∇W_l‖ at initialisation, pooled over seeds",
        could_fail="gradient norms flat or falling toward the output",
    )
    trend = spearman(
        *_pooled(sig),
        direction="falls",
        name="more layers, bigger issue",
        claim=f"the first layer's share of the gradient, r = ‖∇W_1‖/‖∇W_last‖, falls with the number of hidden "
        f"layers of a {unit} network",
        statistic="Spearman ρ: hidden layers D vs log10 r at initialisation, pooled over seeds",
        could_fail="a ratio that does not fall as layers are added",
    )
    a, b = _pairs(sig[hi], ctl[hi])
    paired = helps(
        a,
        b,
        direction="less",
        name=f"below the control at {hi} layers",
        claim=f"with {hi} hidden layers the {unit} network's r is smaller than the gain-1 control's "
        f"({control[0]}, {control[1]})",
        statistic=f"mean paired difference of log10 r at D = {hi}, {test[0]} − {control[0]}",
        could_fail="the control losing as much of the gradient on its way down",
    )
    worse = interaction(
        *_pairs(sig[lo], sig[hi], ctl[lo], ctl[hi]),
        direction="less",
        name="the depth effect is the sigmoid's",
        claim=f"going from {lo} to {hi} hidden layers lowers log10 r more for {unit} than for the control",
        statistic=f"mean of ({test[0]} D={hi} − D={lo}) − ({control[0]} D={hi} − D={lo}) of log10 r",
        could_fail="the control's ratio falling with depth as fast (then depth, not the sigmoid, is the cause)",
    )
    trained = spearman(
        *_pooled(ratios(cfg, measured, test, "trained")),
        direction="falls",
        name="still there after training",
        claim=f"after {cfg.epochs} epoch(s) of plain SGD (lr {cfg.lr:g}) log10 r of the {unit} network still falls "
        "with the number of hidden layers",
        statistic=f"Spearman ρ: D vs log10 r after {cfg.epochs} epoch(s), pooled over seeds",
        could_fail="training removing the depth trend (it would then be an artefact of the initial weights)",
    )
    return [within, trend, paired, worse, trained]


# -- presentation --------------------------------------------------------------------------------------------
def _ci(values, digits=2):
    v = [x for x in values if x is not None]
    if len(v) < 2:
        return f"{v[0]:.{digits}f}" if v else "n/a"
    m = mean_ci(v)
    return f"{m.mean:.{digits}f} [{m.ci[0]:.{digits}f}, {m.ci[1]:.{digits}f}]"


def _rows(cfg, measured):
    rows = []
    for arm in cfg.arms():
        r0, r1 = ratios(cfg, measured, arm), ratios(cfg, measured, arm, "trained")
        for depth in sorted(cfg.depths):
            rows.append(
                {
                    "unit, init": f"{arm[0]}, {arm[1]}",
                    "hidden layers": depth,
                    "log10 r at init [95% CI]": _ci(r0[depth]),
                    f"log10 r after {cfg.epochs} epoch(s)": _ci(r1[depth]),
                    "runs without a ratio": sum(v is None for v in r1[depth]),
                }
            )
    return rows


def _mean_curve(r):
    out = []
    for vs in r.values():
        v = [x for x in vs if x is not None]
        out.append(float(np.mean(v)) if v else None)
    return out


def _plots(cfg, measured):
    depths = sorted(cfg.depths)
    ratio_plots = []
    for when, label in (("init", "at initialisation"), ("trained", f"after {cfg.epochs} epoch(s) of SGD")):
        ratio_plots.append(
            Plot(
                title=f"First layer's share of the gradient vs depth, {label}",
                xlabel="hidden layers D",
                ylabel="log10(‖∇W_1‖ / ‖∇W_last‖)",
                series=[
                    Series(label=f"{u}, {i}", x=depths, y=_mean_curve(ratios(cfg, measured, (u, i), when)))
                    for u, i in cfg.arms()
                ],
                hlines=[(0.0, "no decay")],
                caption=f"Mean over {len(cfg.seeds)} seeds; width {cfg.width}.",
            )
        )
    hi = depths[-1]
    series = []
    for arm in cfg.arms():
        x, y = layer_points(cfg, measured, arm, hi)
        layers = sorted(set(x))
        series.append(
            Series(
                label=f"{arm[0]}, {arm[1]}",
                x=layers,
                y=[float(np.mean([v for xx, v in zip(x, y) if xx == layer])) for layer in layers],
            )
        )
    per_layer = Plot(
        title=f"Gradient norm per layer, {hi} hidden layers, at initialisation",
        xlabel=f"layer (1 = input→hidden, {hi + 1} = →output)",
        ylabel="log10 ‖∇W_l‖",
        series=series,
        caption="Mean over seeds; a vanishing gradient is a line rising to the right.",
    )
    return [per_layer, *ratio_plots]


@register_design
class VanishingGradients(Design):
    name = "vanishing-gradients"
    claim = CLAIM
    config_cls = Config
    order = 20

    def runs(self, cfg):
        if len(set(cfg.depths)) < 3:
            raise ValueError(f"depths: need at least three distinct depths for a trend, got {cfg.depths!r}")
        # the seed outermost: consecutive runs share a seed's split, which _data caches per process
        return [
            {"unit": u, "init": i, "depth": int(d), "seed": int(s)}
            for s in cfg.seeds
            for u, i in cfg.arms()
            for d in sorted(cfg.depths)
        ]

    def measure(self, cfg, key):
        return run(cfg, key["unit"], key["init"], key["depth"], key["seed"])

    def judge(self, cfg, measured):
        return checks_from(cfg, measured)

    def present(self, cfg, measured, checks):
        lo, hi = min(cfg.depths), max(cfg.depths)
        test, control, saturated = cfg.arms()
        mean_drop = {}
        for arm in cfg.arms():
            r = ratios(cfg, measured, arm)
            a, b = _pairs(r[lo], r[hi])
            mean_drop[arm] = float(np.mean(np.subtract(a, b))) if a else float("nan")
        by = {c.name: c for c in checks}
        measurement = (
            f"{cfg.data}: networks of {', '.join(map(str, sorted(cfg.depths)))} hidden layers × {cfg.width} units, "
            f"softmax output, {len(cfg.seeds)} seeds. From {lo} to {hi} hidden layers the first layer's share of the "
            f"gradient falls {mean_drop[test]:.2f} decades for {test[0]} ({test[1]}) "
            f"(Spearman ρ = {by['more layers, bigger issue'].value:.2f}), {mean_drop[control]:.2f} for the "
            f"{control[0]} ({control[1]}) control and {mean_drop[saturated]:.2f} for the saturated {saturated[0]} "
            f"({saturated[1]}), whose large weights offset the small S'."
        )
        metrics = {c.name: c.value for c in checks}
        metrics.update({f"decades lost from D={lo} to D={hi}, {u}, {i}": v for (u, i), v in mean_drop.items()})
        return {
            "measurement": measurement,
            "metrics": metrics,
            "tables": [{"title": "log10 r = log10(‖∇W_1‖ / ‖∇W_last‖) by depth", "rows": _rows(cfg, measured)}],
            "plots": _plots(cfg, measured),
        }
