"""Sigmoid saturation: "output close to 0 or 1 for most training points → S' = S(1 − S) ≈ 0 → slow
gradient descent, unit is stuck → converge to bad local minima"; "the bigger the fan-in, the easier it
is to saturate" (lecture, lines 106–121).

Every network has a softmax output trained on cross-entropy, whose delta ``z − y`` does not pass
through a sigmoid derivative, so the output units cannot saturate in the notes' sense and only the
hidden units' saturation differs between arms.  Three designs:

* **Init-scale sweep.**  Hidden weights start as ``W ~ N(0, c²/n)`` (``n`` the fan-in), for each ``c``
  in ``scales``; every ``c`` trains with plain SGD at its own best rate, chosen on the validation
  split of ``selection_seeds`` (disjoint from the test ``seeds``; the data split varies with the
  seed).  Over the test runs, Spearman's ρ relates the hidden saturated fraction at initialisation
  to the epochs needed to bring the training loss to a threshold ("slow gradient descent"; by default
  the highest final loss of these runs, a level every arm reaches on any dataset)
  and to the training loss at the end of the budget ("bad local minima"; the table shows how much
  the loss still fell over the last quarter of the epochs, i.e. how far from converged it is).
* **Within one network.**  The incoming weights of a random half of the hidden units are multiplied
  by ``boost``, so that half saturates while the other half does not, in the same network, with the
  same data, output-weight draws and learning rate.  How far a unit's incoming weights move
  (``‖ΔW_j‖``) tests "slow gradient descent" for the unit itself.  The relative change
  ``‖ΔW_j‖ / ‖W_j(0)‖`` is shown but not judged: scaling by ``boost`` makes it ``1/boost`` as large
  with no change in the gradient at all, so a check on it would hold by construction.
* **Fan-in sweep.**  A layer with fan-in ``n`` and ``W ~ N(0, 1)``: its saturated fraction at
  initialisation rises with ``n`` (line 120), and with remedy ① (``σ = 1/√n``, line 118) it does not.

That a saturated unit has a small ``S'`` is true by definition (``S' < 0.0475`` within 0.05 of a
bound); the tables show it as a statement, not a check.  The earlier version's Glorot & Bengio
(2010) top-layer observation is not in the lecture and is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..stats import Check, helps, spearman, tost
from .base import Plot, Series
from .design import Design, register_design
from .saturation_runs import (
    TOL,
    by_part,
    chosen_points,
    epochs_to_threshold,
    fan_in_run,
    final_for_ranks,
    select_rates,
    sweep_run,
    within_pairs,
    within_run,
)

CLAIM = (
    "Sigmoid output close to 0 or 1 for most training points → S' = S(1−S) ≈ 0 → slow gradient descent, "
    "unit is stuck → bad local minima; the bigger the fan-in, the easier it is to saturate."
)


@dataclass(frozen=True)
class Config:
    data: str = "digits"
    max_train: int | None = 2000  # training images kept before the validation split (Fashion-MNIST: 60000)
    max_test: int | None = 2000
    hidden: tuple[int, ...] = (64,)  # sigmoid hidden layers; the output is softmax + cross-entropy
    scales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # c in W ~ N(0, c²/n) for the hidden layers
    lrs: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)  # plain SGD; each c picks its own on the selection seeds
    batch_size: int = field(default=128, metadata={"low": 1})
    epochs: int = 16
    # "epochs to threshold": first epoch whose training loss is ≤ this (nats); None: the highest final
    # training loss of the chosen-rate test runs, a level every run reaches whatever the dataset
    loss_threshold: float | None = None
    seeds: tuple = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)  # test seeds (data split, initial weights, batches)
    selection_seeds: tuple = (1000, 1001)  # learning rates are chosen on these seeds' validation split
    within_scale: float = field(
        default=1.0, metadata={"low": 0}
    )  # the within-network test starts every unit at this c ...
    boost: float = field(
        default=16.0, metadata={"low": 0}
    )  # ... and multiplies a random half's incoming weights by this
    within_lr: float = 2.0  # one rate for both halves of one network, fixed in advance
    fan_ins: tuple[int, ...] = (16, 64, 256, 1024)  # fan-in n of the probe layer
    n_probe_units: int = 64
    flat_margin: float = field(
        default=0.02, metadata={"low": 0}
    )  # remedy ①: saturated fraction at the largest n within this of the smallest n

    @classmethod
    def quick(cls):
        return cls(
            scales=(1.0, 4.0, 16.0),
            lrs=(2.0, 4.0, 8.0),
            epochs=10,
            seeds=(0, 1, 2),
            selection_seeds=(1000, 1001),
            fan_ins=(16, 128, 1024),
        )


# -- the checks -----------------------------------------------------------------------------------------
def _sweep_checks(cfg, points, threshold, chosen) -> list[Check]:
    if len(points) < 3:
        why = f"{len(points)} test runs finished at the chosen rates (need 3)"
        return [
            _not_judged("saturation slows descent", "saturation slows SGD", "Spearman ρ", "", len(points), why),
            _not_judged("saturation ends worse", "saturation ends worse", "Spearman ρ", "", len(points), why),
        ]
    sat = [p["sat0"] for p in points]
    edge = [f"c = {c:g}" for c, v in chosen.items() if v["edge"]]
    note = f"best rate at the edge of the grid for {', '.join(edge)}" if edge else ""
    n_censored = sum(p["epochs"] > cfg.epochs for p in points)
    slower = spearman(
        sat,
        [p["epochs"] for p in points],
        direction="rises",
        name="saturation slows descent",
        claim="the more hidden outputs start saturated, the more epochs plain SGD needs (each c at its own rate)",
        statistic=f"Spearman ρ: saturated fraction at init vs epochs to training loss ≤ {threshold:.3g}",
        could_fail="saturated networks reaching the threshold as fast as or faster than unsaturated ones",
    )
    n_bad = sum(p["final"] is None for p in points)
    worse = spearman(
        sat,
        final_for_ranks(points),
        direction="rises",
        name="saturation ends worse",
        claim=f"the more hidden outputs start saturated, the higher the training loss after {cfg.epochs} epochs",
        statistic=f"Spearman ρ: saturated fraction at init vs training loss after {cfg.epochs} epochs",
        could_fail="saturated networks ending at an equal or lower training loss",
    )
    notes = [
        note,
        f"{n_censored} of {len(points)} runs never reached the threshold (ranked last)" if n_censored else "",
    ]
    slower = _with_note(slower, notes)
    worse = _with_note(worse, [note, f"{n_bad} diverged runs ranked worst" if n_bad else ""])
    return [slower, worse]


def _not_judged(name, claim, statistic, could_fail, n, why) -> Check:
    """A failing check for a statement the runs cannot judge (too few finished runs)."""
    return Check(name, claim, statistic, float("nan"), None, "", n, False, could_fail, note=f"not judged: {why}")


def _with_note(check, notes):
    text = "; ".join(n for n in [check.note, *notes] if n)
    return replace(check, note=text)


def _within_check(cfg, pairs) -> Check:
    if len(pairs) < 2:
        why = f"{len(pairs)} within-network runs trained (need 2)"
        return _not_judged("saturated units move less", "saturated units move less", "‖ΔW_j‖", "", len(pairs), why)
    return helps(
        [p["boosted"]["moved"] for p in pairs],
        [p["plain"]["moved"] for p in pairs],
        direction="less",
        name="saturated units move less",
        claim=f"in one network, units whose incoming weights were scaled ×{cfg.boost:g} (saturated) change their "
        "incoming weights less than the other half",
        statistic="mean over seeds of (mean ‖ΔW_j‖ of boosted units − mean ‖ΔW_j‖ of plain units)",
        could_fail="the boosted half moving as far as or farther than the plain half (a unit's gradient is "
        "S'·(backpropagated error)·input; the halves share inputs, rate and output-weight init)",
    )


def _fan_in_checks(cfg, fan) -> list[Check]:
    lo, hi = min(cfg.fan_ins), max(cfg.fan_ins)
    small = {k["seed"]: d["fan_in"] for k, d in fan if k["n"] == lo}
    large = {k["seed"]: d["fan_in"] for k, d in fan if k["n"] == hi}
    paired = sorted(set(small) & set(large))  # seeds with both ends of the sweep
    if len(fan) < 3 or len(paired) < 2:
        why = f"{len(fan)} fan-in probes, {len(paired)} seeds with both n = {lo} and n = {hi}"
        return [
            _not_judged("fan-in saturates", "saturation rises with fan-in", "Spearman ρ", "", len(fan), why),
            _not_judged("σ = 1/√n keeps it flat", "σ = 1/√n keeps it flat", "TOST", "", len(paired), why),
        ]
    ns = [k["n"] for k, _ in fan]
    rises = spearman(
        ns,
        [d["normal"] for _, d in fan],
        direction="rises",
        name="fan-in saturates",
        claim="with W ~ N(0, 1) the saturated fraction of a layer at init rises with its fan-in n",
        statistic=f"Spearman ρ: fan-in n vs saturated fraction (within {TOL:g} of 0 or 1) at init",
        could_fail="a flat or falling saturated fraction as n grows",
    )
    flat = tost(
        [large[s] for s in paired],
        [small[s] for s in paired],
        cfg.flat_margin,
        names=(f"n = {hi}", f"n = {lo}"),
        name="σ = 1/√n keeps it flat",
        claim=f"with remedy ① (W ~ N(0, 1/n)) the saturated fraction at n = {hi} equals that at n = {lo}",
        statistic=f"mean paired difference of the saturated fraction, n = {hi} minus n = {lo}",
        could_fail=f"the fraction still rising with n by more than {cfg.flat_margin:g}",
    )
    return [rises, flat]


# -- presentation -----------------------------------------------------------------------------------------
def _measurement(cfg, threshold, pairs, fan, by):
    """Two or three sentences: the design, then what the numbers say."""
    slow, worse, moved = by["saturation slows descent"], by["saturation ends worse"], by["saturated units move less"]
    ratio = _ratio(_mean([p["boosted"]["relative"] for p in pairs]), _mean([p["plain"]["relative"] for p in pairs]))
    first = _ratio(
        _mean([p["boosted"]["moved_epoch1"] for p in pairs]), _mean([p["plain"]["moved_epoch1"] for p in pairs])
    )
    lo, hi = min(cfg.fan_ins), max(cfg.fan_ins)
    sat_at = {n: _mean([d["normal"] for k, d in fan if k["n"] == n]) for n in (lo, hi)}
    ci = moved.ci or (float("nan"), float("nan"))
    return (
        f"{cfg.data}: sigmoid hidden layer(s) {list(cfg.hidden)} under a softmax + cross-entropy output, hidden "
        f"weights N(0, c²/n) for c ∈ {{{', '.join(f'{c:g}' for c in cfg.scales)}}}, each c at its own SGD rate "
        f"(chosen on the validation split of seeds {list(cfg.selection_seeds)}), {len(cfg.seeds)} test seeds, "
        f"{cfg.epochs} epochs. More saturation at init went with {_word(slow.value, 'more', 'fewer')} epochs to "
        f"training loss ≤ {threshold:.3g} (Spearman ρ = {slow.value:+.2f}) and a "
        f"{_word(worse.value, 'higher', 'lower')} loss after {cfg.epochs} epochs (ρ = {worse.value:+.2f}); in one "
        f"network, units scaled ×{cfg.boost:g} moved their incoming weights by {moved.value:+.3f} (95% CI "
        f"{ci[0]:+.3f} … {ci[1]:+.3f}) relative to the other half after {cfg.epochs} epochs ({first} as far "
        f"after the first), a relative change {ratio} that of the plain units (1/{cfg.boost:g} from their size "
        "alone). With W ~ N(0, 1) the saturated fraction goes from "
        f"{_fmt(sat_at[lo], 2)} at fan-in {lo} to {_fmt(sat_at[hi], 2)} at {hi}."
    )


def _word(rho, up, down):
    """How a correlation reads in words; a NaN (nothing to rank) says so."""
    if not np.isfinite(rho):
        return "no rankable difference in"
    return up if rho > 0 else down


def _ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.3f} ×"


def _mean(values):
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _sweep_rows(cfg, points, threshold, chosen):
    rows = []
    for c in cfg.scales:
        ps = [p for p in points if p["c"] == c]
        reached = [p["epochs"] for p in ps if p["epochs"] <= cfg.epochs]
        rows.append(
            {
                "c (W ~ N(0, c²/n))": f"{c:g}",
                "saturated at init": _fmt(_mean([p["sat0"] for p in ps])),
                "mean S' at init": _fmt(_mean([p["dS0"] for p in ps])),
                "chosen lr": f"{chosen[c]['lr']:g}" + (" (grid edge)" if chosen[c]["edge"] else ""),
                f"epochs to loss ≤ {threshold:.3g}": _fmt(_mean([p["epochs"] for p in ps]), 1),
                "runs reaching it": f"{len(reached)}/{len(ps)}",
                f"training loss after {cfg.epochs} epochs": _fmt(_mean([p["final"] for p in ps])),
                "fall over the last quarter": _fmt(_mean([_late_fall(p["losses"]) for p in ps]), 2),
                "saturated at the end": _fmt(_mean([p["sat_end"] for p in ps])),
                "test accuracy": _fmt(_mean([p["test_accuracy"] for p in ps])),
            }
        )
    return rows


def _late_fall(losses):
    """Relative fall of the loss over the last quarter of the epochs (0: flat, converged)."""
    k = max(1, len(losses) // 4)
    if len(losses) <= k or not losses[-k - 1]:
        return None
    return 1.0 - losses[-1] / losses[-k - 1]


def _robustness_rows(cfg, sweep, threshold, chosen):
    """Epochs to the threshold on the test seeds at every rate, not only the chosen one."""
    rows = []
    for c in cfg.scales:
        row = {"c": f"{c:g}", "chosen lr": f"{chosen[c]['lr']:g}"}
        for lr in cfg.lrs:
            runs = [d for k, d in sweep if k["c"] == c and k["lr"] == lr and k["seed"] not in cfg.selection_seeds]
            e = [epochs_to_threshold(d.get("losses") or [], threshold, cfg.epochs) for d in runs]
            score = chosen[c]["scores"][lr]
            row[f"lr {lr:g}: epochs (val score)"] = (
                f"{_fmt(_mean(e), 1)} ({_fmt(score, 2) if np.isfinite(score) else 'diverged'})"
            )
        rows.append(row)
    return rows


def _within_rows(cfg, pairs):
    rows = []
    for name in ("boosted", "plain"):
        rows.append(
            {
                "units": f"{name} (×{cfg.boost:g})" if name == "boosted" else "plain",
                "saturated at init": _fmt(_mean([p[name]["sat0"] for p in pairs])),
                "saturated at the end": _fmt(_mean([p[name]["sat1"] for p in pairs])),
                "mean ‖ΔW_j‖ after epoch 1": _fmt(_mean([p[name]["moved_epoch1"] for p in pairs])),
                f"mean ‖ΔW_j‖ after {cfg.epochs} epochs (judged)": _fmt(_mean([p[name]["moved"] for p in pairs])),
                "mean ‖ΔW_j‖ / ‖W_j(0)‖": _fmt(_mean([p[name]["relative"] for p in pairs])),
                "gradient norm at init": _fmt(_mean([p[name]["grad0"] for p in pairs]), 4),
                "gradient norm at the end": _fmt(_mean([p[name]["grad1"] for p in pairs]), 4),
            }
        )
    return rows


def _fan_in_rows(cfg, fan):
    rows = []
    for n in cfg.fan_ins:
        ds = [d for k, d in fan if k["n"] == n and "normal" in d]
        rows.append(
            {
                "fan-in n": n,
                "saturated, W ~ N(0, 1)": _fmt(_mean([d["normal"] for d in ds])),
                "saturated, W ~ N(0, 1/n)": _fmt(_mean([d["fan_in"] for d in ds])),
            }
        )
    return rows


def _mean_curves(curves, label, n):
    """A ``Series`` of the mean (band: std) of equal-length curves, or None when there are none."""
    curves = [c for c in curves if len(c) == n]
    if not curves:
        return None
    arr = np.asarray(curves, float)  # (runs, n)
    return Series(label=label, x=list(range(1, n + 1)), y=arr.mean(axis=0).tolist(), yerr=arr.std(axis=0).tolist())


def _sweep_plots(cfg, points, threshold, chosen):
    scatter = Plot(
        title="Saturated fraction at init vs epochs to the loss threshold (each c at its chosen rate)",
        xlabel="hidden outputs within 0.05 of 0 or 1 at init",
        ylabel=f"epochs to training loss ≤ {threshold:.3g} ({cfg.epochs + 1} = never)",
        series=[
            Series(
                label=f"c = {c:g} (lr {chosen[c]['lr']:g})",
                x=[p["sat0"] for p in points if p["c"] == c],
                y=[p["epochs"] for p in points if p["c"] == c],
                style="points",
            )
            for c in cfg.scales
        ],
        caption=f"One point per test seed ({len(cfg.seeds)} seeds); softmax + cross-entropy output everywhere.",
    )
    curves = [_mean_curves([p["losses"] for p in points if p["c"] == c], f"c = {c:g}", cfg.epochs) for c in cfg.scales]
    losses = Plot(
        title="Training loss per epoch, each c at its chosen rate",
        xlabel="epoch",
        ylabel="cross-entropy (training set)",
        series=[s for s in curves if s is not None],
        logy=True,
        hlines=[(threshold, "threshold")],
        caption="Mean over test seeds (band: std).",
    )
    return scatter, losses


def _within_plot(cfg, within):
    """Mean distance of each half's incoming weights from their start, after every epoch."""
    runs = [d["moved_by_epoch"] for _, d in within if "moved_by_epoch" in d]
    series = [
        _mean_curves([r[half] for r in runs], label, cfg.epochs)
        for half, label in (("boosted", f"boosted half (×{cfg.boost:g}, saturated)"), ("plain", "plain half"))
    ]
    return Plot(
        title="Within one network: how far each half's incoming weights have moved",
        xlabel="epoch",
        ylabel="mean ‖W_j(epoch) − W_j(0)‖",
        series=[s for s in series if s is not None],
        caption=f"Mean over {len(runs)} seeds (band: std); one SGD rate ({cfg.within_lr:g}) for both halves.",
    )


def _fan_plot(cfg, fan):
    series = []
    for name, label in (("normal", "W ~ N(0, 1)"), ("fan_in", "W ~ N(0, 1/n)")):
        vals = [[d[name] for k, d in fan if k["n"] == n] for n in cfg.fan_ins]
        series.append(
            Series(
                label=label,
                x=list(cfg.fan_ins),
                y=[_mean(v) for v in vals],
                yerr=[float(np.std(v)) if v else None for v in vals],
            )
        )
    return Plot(
        title="Saturated fraction at init against fan-in",
        xlabel="fan-in n",
        ylabel="outputs within 0.05 of 0 or 1",
        series=series,
        logx=True,
        caption=f"A probe layer of {cfg.n_probe_units} sigmoid units on n sigmoid inputs; mean over seeds (band: std).",
    )


@register_design
class Saturation(Design):
    name = "saturation"
    claim = CLAIM
    config_cls = Config
    order = 10

    def runs(self, cfg):
        overlap = set(cfg.seeds) & set(cfg.selection_seeds)
        if overlap:
            raise ValueError(f"selection_seeds must be disjoint from the test seeds; both contain {sorted(overlap)}")
        keys = [
            {"part": "sweep", "c": float(c), "lr": float(lr), "seed": int(s)}
            for c in cfg.scales
            for lr in cfg.lrs
            for s in (*cfg.selection_seeds, *cfg.seeds)
        ]
        keys += [{"part": "within", "seed": int(s)} for s in cfg.seeds]
        keys += [{"part": "fan-in", "n": int(n), "seed": int(s)} for n in cfg.fan_ins for s in cfg.seeds]
        return keys

    def measure(self, cfg, key):
        if key["part"] == "sweep":
            return sweep_run(cfg, key["c"], key["lr"], key["seed"])
        if key["part"] == "within":
            return within_run(cfg, key["seed"])
        return fan_in_run(cfg, key["n"], key["seed"])

    def judge(self, cfg, measured):
        parts = by_part(measured)
        chosen = select_rates(cfg, parts.get("sweep", []))
        points, threshold = chosen_points(cfg, parts.get("sweep", []), chosen)
        checks = _sweep_checks(cfg, points, threshold, chosen)
        checks.append(_within_check(cfg, within_pairs(parts.get("within", []))))
        checks += _fan_in_checks(cfg, [(k, d) for k, d in parts.get("fan-in", []) if "normal" in d])
        return checks

    def present(self, cfg, measured, checks):
        parts = by_part(measured)
        sweep, within = parts.get("sweep", []), parts.get("within", [])
        fan = [(k, d) for k, d in parts.get("fan-in", []) if "normal" in d]
        chosen = select_rates(cfg, sweep)
        points, threshold = chosen_points(cfg, sweep, chosen)
        pairs = within_pairs(within)
        metrics = {c.name: c.value for c in checks}
        for c in cfg.scales:
            ps = [p for p in points if p["c"] == c]
            metrics[f"saturated fraction at init, c = {c:g}"] = _mean([p["sat0"] for p in ps])
            metrics[f"epochs to the threshold, c = {c:g}"] = _mean([p["epochs"] for p in ps])
            metrics[f"chosen lr, c = {c:g}"] = chosen[c]["lr"]
        measurement = _measurement(cfg, threshold, pairs, fan, {c.name: c for c in checks})
        return {
            "measurement": measurement,
            "metrics": metrics,
            "tables": [
                {
                    "title": "Init-scale sweep, each c at its chosen rate (test seeds); that S' is small where "
                    "outputs saturate holds by definition and is shown, not judged",
                    "rows": _sweep_rows(cfg, points, threshold, chosen),
                },
                {"title": "Within one network: boosted vs plain hidden units", "rows": _within_rows(cfg, pairs)},
                {"title": "Fan-in sweep: saturated fraction at init", "rows": _fan_in_rows(cfg, fan)},
                {
                    "title": "Every rate: mean epochs to the threshold on the test seeds (selection score)",
                    "rows": _robustness_rows(cfg, sweep, threshold, chosen),
                },
            ],
            "plots": [*_sweep_plots(cfg, points, threshold, chosen), _within_plot(cfg, within), _fan_plot(cfg, fan)],
        }
