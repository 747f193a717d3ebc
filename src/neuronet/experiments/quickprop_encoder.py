"""Claim: the S' offset speeds up backprop, and Quickprop needs several times fewer epochs.

Fahlman (1988)'s encoder/decoder benchmarks, N-M-N: the N one-hot input
patterns must come out unchanged through M < N hidden units.  Everything follows
his protocol where the notes name it:

* sigmoid hidden and output units, targets 0/1, squared error
  ``E = 1/2 sum (z - y)^2`` (Fahlman's setting, not the fused logistic loss);
* every weight and bias drawn from U(±0.7) (a bias is a weight from an
  always-on unit, so it is initialised like the others);
* full batch: one epoch = one pass over the N patterns = one update;
* "learned" as soon as every output of every pattern is within 0.4 of its
  target, checked before every update on the forward pass the update uses;
  a trial not learned within ``max_epochs`` updates is a failure;
* each method at its best step size from a small grid, chosen on a few trials
  of the same problem, then measured on new trials.

The engine averages the loss over the batch, so its step size ``lr`` is
Fahlman's epsilon (for the summed error) times N.  The inner loop is the
engine's own training path (``Network.loss_and_grads`` and the optimizer's ``step``),
with nothing else per epoch but the "learned" check on the output already computed.

References
----------
Fahlman, S. E. (1988). An empirical study of learning speed in back-propagation
networks. CMU-CS-88-162.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data.synthetic import encoder, parse_encoder_spec
from ..errors import ConfigError, DataError
from ..network import mlp
from ..optim import Momentum, Quickprop
from .base import Plot, Result, Series, experiment, spread

CLAIM = (
    "Adding 0.1 to S' (the sigmoid-prime offset) speeds up backprop, and Quickprop needs several times "
    "fewer epochs than backprop (Fahlman 1988, encoder/decoder benchmarks)."
)

#: (key, label, optimizer, uses the S' offset); "backprop" is gradient descent with momentum (Fahlman's baseline)
METHODS = (
    ("backprop", "backprop", "momentum", False),
    ("backprop+offset", "backprop + S' offset", "momentum", True),
    ("quickprop", "Quickprop", "quickprop", False),
    ("quickprop+offset", "Quickprop + S' offset", "quickprop", True),
)
_LABEL = {key: label for key, label, _, _ in METHODS}

# trial outcomes
LEARNED, CAP, DIVERGED = "learned", "cap", "diverged"
# second entropy word of a trial's Generator: selection and measurement trials never share weights
_SELECT, _MEASURE = 1, 0


@dataclass(frozen=True)
class Config:
    problems: tuple = ("8-3-8", "10-5-10")
    seeds: tuple = tuple(range(50))  # one measured trial per seed (the same weights for every method)
    selection_trials: int = 9  # trials per grid point when choosing the step size (odd: exact pruning)
    lr_grid: tuple = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)  # engine lr = Fahlman's epsilon x N
    momentum: float = 0.9  # Fahlman's backprop baseline
    prime_offset: float = 0.1  # added to S' of every sigmoid unit (hidden and output)
    mu: float = 1.75  # Quickprop's maximum growth factor
    quickprop_decay: float = 0.0  # Quickprop's weight decay (Fahlman used 1e-4 in places)
    init_range: float = 0.7  # weights and biases ~ U(-r, r)
    tolerance: float = 0.4  # learned: |z - y| < tolerance for every output of every pattern
    max_epochs: int = 5000  # a trial not learned by then is a failure
    several: float = 3.0  # "several times fewer": median ratio at least this

    @classmethod
    def quick(cls):
        return cls(problems=("8-3-8",), seeds=tuple(range(10)), selection_trials=3)


# -- the "learned" criterion ---------------------------------------------------------------------
def worst_error(out, Y, work=None) -> float:
    """Largest ``|z - y|`` over every output of every pattern (NaN if any output is NaN).

    ``work`` (same shape as ``out``) is scratch space, so the training loop allocates nothing.
    """
    work = np.empty_like(out) if work is None else work
    np.subtract(out, Y, out=work)
    np.abs(work, out=work)
    return float(work.max())


def learned(out, Y, tolerance=0.4) -> bool:
    """Fahlman's criterion: every output of every pattern within ``tolerance`` of its target.

    Strict: an output exactly ``tolerance`` away has not been learned (Fahlman: an
    output counts as 0 below 0.4 and as 1 above 0.6).  NaN outputs are never learned.
    """
    return worst_error(np.asarray(out, dtype=float), np.asarray(Y, dtype=float)) < tolerance


# -- one trial -----------------------------------------------------------------------------------
def _problem(spec):
    try:
        n, m = parse_encoder_spec(f"encoder:{spec}")
    except DataError as e:
        raise ConfigError(f"problems: {spec!r} is not an encoder N-M-N ({e})") from None
    return n, m


def build(spec, method, lr, entropy, cfg: Config):
    """The network and optimizer of one trial: weights from ``default_rng(entropy)``."""
    n, m = _problem(spec)
    _, _, opt_name, offset = next(mt for mt in METHODS if mt[0] == method)
    rng = np.random.default_rng(entropy)
    net = mlp(
        [n, m, n],
        hidden="sigmoid",
        output="sigmoid",
        loss="squared-error",
        init=f"uniform:{cfg.init_range}",
        prime_offset=cfg.prime_offset if offset else 0.0,
        dtype=np.float64,
        rng=rng,
    )
    for layer in net.layers:  # biases are weights from an always-on unit (Fahlman)
        layer.b[...] = rng.uniform(-cfg.init_range, cfg.init_range, layer.b.shape)
    if opt_name == "momentum":
        opt = Momentum(lr=lr, momentum=cfg.momentum)
    else:
        opt = Quickprop(lr=lr, mu=cfg.mu, weight_decay=cfg.quickprop_decay)
    return net, opt


def run_trial(spec, method, lr, entropy, cfg: Config, max_epochs=None):
    """Train one network full-batch until learned; returns ``(epochs, outcome)``.

    ``epochs`` is the number of updates made before the criterion held (None
    unless ``outcome == "learned"``); ``outcome`` is "learned", "cap" (not
    learned within ``max_epochs`` updates) or "diverged" (a NaN output).
    """
    max_epochs = cfg.max_epochs if max_epochs is None else int(max_epochs)
    net, opt = build(spec, method, lr, entropy, cfg)
    n = net.n_inputs
    X, _ = encoder(n, dtype=np.float64)  # (N, N) one-hot patterns
    Y = X.copy()  # targets = inputs
    work = np.empty_like(Y)
    X, Y = net.check_input(X), net.check_targets(Y, X.shape[0])  # once: the loop passes validate=False
    loss_and_grads, step, params = net.loss_and_grads, opt.step, net.parameters
    tol = cfg.tolerance
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(max_epochs + 1):
            # (N, N) outputs; the same pass's gradients feed the update below
            _, out = loss_and_grads(X, Y, validate=False, return_outputs=True)
            worst = worst_error(out, Y, work)
            if worst < tol:
                return epoch, LEARNED
            if math.isnan(worst):  # NaN: the weights blew up
                return None, DIVERGED
            if epoch == max_epochs:
                break
            step(params)
    return None, CAP


# -- step-size selection -------------------------------------------------------------------------
def select_lr(spec, method, cfg: Config, seeds):
    """Best grid step size by lowest median epochs over ``seeds`` (failures count as ``max_epochs``).

    Grid points are tried in order; a later one wins only with a strictly lower
    median.  With an odd number of trials the median is the middle trial, so a
    candidate can only win if more than half of its trials learn in fewer epochs
    than the best median so far: its trials are run only that long, and it is
    abandoned once half of them have not learned by then.  This prunes the slow
    grid points without changing which one wins.

    Returns ``(best_lr, rows)``, one row per grid point.
    """
    k = len(seeds)
    prune = k % 2 == 1
    need = k // 2 + 1
    best_lr, best_med = None, math.inf
    rows = []
    for lr in cfg.lr_grid:
        limit = cfg.max_epochs
        if prune and best_lr is not None:
            limit = min(cfg.max_epochs, math.ceil(best_med) - 1)
        epochs, slow = [], 0
        for s in seeds:
            e, outcome = run_trial(spec, method, lr, (s, _SELECT, *_problem(spec)), cfg, max_epochs=limit)
            if outcome == LEARNED:
                epochs.append(e)
            else:
                slow += 1
                epochs.append(cfg.max_epochs)
            if prune and best_lr is not None and slow >= need:
                break  # cannot beat the best median: abandoned
        abandoned = len(epochs) < k or (prune and best_lr is not None and slow >= need)
        if abandoned:
            median_txt = f"≥ {limit + 1}"
        else:
            med = float(np.median(epochs))
            median_txt = f"{med:g}"
            if med < best_med:
                best_lr, best_med = lr, med
        rows.append(
            {
                "problem": spec,
                "method": _LABEL[method],
                "lr": lr,
                "epoch limit": limit,
                "trials run": len(epochs),
                "not learned within the limit": slow,
                "median epochs": median_txt,
            }
        )
    for r in rows:
        r["chosen"] = r["lr"] == best_lr
    return best_lr, rows


# -- the experiment ------------------------------------------------------------------------------
def _validate(cfg: Config):
    if not cfg.problems:
        raise ConfigError("problems: need at least one encoder problem such as 8-3-8")
    for p in cfg.problems:
        _problem(p)
    if not cfg.seeds:
        raise ConfigError("seeds: need at least one trial seed")
    if not 1 <= cfg.selection_trials <= len(cfg.seeds):
        raise ConfigError(
            f"selection_trials must lie in [1, {len(cfg.seeds)}] (the number of seeds), got {cfg.selection_trials}"
        )
    if not cfg.lr_grid or any(not (lr > 0) for lr in cfg.lr_grid):
        raise ConfigError(f"lr_grid: need positive step sizes, got {cfg.lr_grid}")
    if cfg.max_epochs < 1:
        raise ConfigError(f"max_epochs must be >= 1, got {cfg.max_epochs}")


def _sign_test_p(wins, losses) -> float:
    """One-sided sign test: P(at least ``wins`` of ``wins + losses`` fair coin flips); ties dropped."""
    n = wins + losses
    if n == 0:
        return 1.0
    return sum(math.comb(n, i) for i in range(wins, n + 1)) / 2.0**n


def _scores(trials, cap):
    """Epochs per trial, failures counted as the cap (the selection criterion's convention)."""
    return np.array([cap if e is None else e for e, _ in trials], dtype=float)


@experiment("quickprop", CLAIM, Config, order=50)
def run(cfg: Config) -> Result:
    _validate(cfg)
    seeds = tuple(cfg.seeds)
    sel_seeds = seeds[: cfg.selection_trials]
    cap = cfg.max_epochs
    chosen, grid_rows, trials = {}, [], {}
    for spec in cfg.problems:
        n, m = _problem(spec)
        for method, *_ in METHODS:
            lr, rows = select_lr(spec, method, cfg, sel_seeds)
            chosen[spec, method] = lr
            grid_rows += rows
            trials[spec, method] = [run_trial(spec, method, lr, (s, _MEASURE, n, m), cfg) for s in seeds]

    # per problem x method
    rows, metrics, med_all = [], {}, {}
    for spec in cfg.problems:
        n, _ = _problem(spec)
        for method, label, _, _ in METHODS:
            t = trials[spec, method]
            ok = [e for e, outcome in t if outcome == LEARNED]
            st = spread(ok)
            med_ok = float(np.median(ok)) if ok else None
            med_all[spec, method] = float(np.median(_scores(t, cap)))
            diverged = sum(outcome == DIVERGED for _, outcome in t)
            lr = chosen[spec, method]
            rows.append(
                {
                    "problem": spec,
                    "method": label,
                    "lr": lr,
                    "epsilon (= lr/N)": lr / n,
                    "lr at grid edge": lr in (min(cfg.lr_grid), max(cfg.lr_grid)) and len(cfg.lr_grid) > 1,
                    "trials": len(t),
                    "failures": len(t) - len(ok),
                    "diverged": diverged,
                    "mean": st["mean"],
                    "median": med_ok,
                    "min": st["min"],
                    "max": st["max"],
                    "median, failures = cap": med_all[spec, method],
                }
            )
            for key, v in (
                ("lr", lr),
                ("median epochs", med_ok),
                ("mean epochs", st["mean"]),
                ("failures", len(t) - len(ok)),
                ("median epochs (failures = cap)", med_all[spec, method]),
            ):
                metrics[f"{spec} {method} {key}"] = v

    # the two statements, per problem
    comparisons = []

    def compare(statement, spec, slow, fast, threshold):
        a, b = _scores(trials[spec, slow], cap), _scores(trials[spec, fast], cap)
        wins, losses = int(np.sum(b < a)), int(np.sum(b > a))
        ratio = med_all[spec, slow] / med_all[spec, fast]
        p = _sign_test_p(wins, losses)
        if threshold is None:  # "speeds up": lower median and a significant paired sign test
            holds = ratio > 1 and p < 0.05
            test = "lower median and paired sign test p < 0.05"
        else:
            holds = ratio >= threshold
            test = f"median ratio ≥ {threshold:g}"
        comparisons.append(
            {
                "statement": statement,
                "problem": spec,
                "comparison": f"{_LABEL[fast]} vs {_LABEL[slow]}",
                "median epochs (slow)": med_all[spec, slow],
                "median epochs (fast)": med_all[spec, fast],
                "ratio": ratio,
                "faster in paired trials": f"{wins}/{len(a)} (slower {losses})",
                "sign test p": p,
                "test": test,
                "holds": bool(holds),
            }
        )
        metrics[f"{spec} {fast} vs {slow} median ratio"] = ratio
        return holds

    s_offset = "the S' offset speeds up backprop"
    s_quick = f"Quickprop needs several (≥ {cfg.several:g}×) times fewer epochs than backprop"
    holds = {s_offset: [], s_quick: []}
    for spec in cfg.problems:
        holds[s_offset].append(compare(s_offset, spec, "backprop", "backprop+offset", None))
        holds[s_quick].append(compare(s_quick, spec, "backprop", "quickprop", cfg.several))
        holds[s_quick].append(compare(s_quick, spec, "backprop+offset", "quickprop+offset", cfg.several))

    def verdict_of(flags):
        return "supported" if all(flags) else "not supported" if not any(flags) else "mixed"

    verdict_rows = []
    for statement, flags in holds.items():
        mine = [c for c in comparisons if c["statement"] == statement]
        evidence = "; ".join(f"{c['problem']} {c['comparison']}: ×{c['ratio']:.2g}" for c in mine)
        verdict_rows.append(
            {
                "statement": statement,
                "evidence (median ratio, failures = cap)": evidence,
                "comparisons holding": f"{sum(flags)}/{len(flags)}",
                "verdict": verdict_of(flags),
            }
        )
    verdicts = [r["verdict"] for r in verdict_rows]
    overall = (
        "supported"
        if all(v == "supported" for v in verdicts)
        else "not supported"
        if all(v == "not supported" for v in verdicts)
        else "mixed"
    )
    reason = "; ".join(
        f"{r['statement']}: {r['verdict']} ({r['evidence (median ratio, failures = cap)']})" for r in verdict_rows
    )

    # plots
    labels = [label for _, label, _, _ in METHODS]
    bar = Plot(
        title="Median epochs to learn, each method at its chosen step size",
        kind="bar",
        ylabel="median epochs (failures = cap)",
        logy=True,
        series=[
            Series(label=spec, x=labels, y=[med_all[spec, mth] for mth, *_ in METHODS], style="bar")
            for spec in cfg.problems
        ],
        hlines=[(cap, f"cap ({cap} epochs)")],
        caption=f"Median over {len(seeds)} trials per bar; a failed trial counts as the cap.",
    )
    dist = []
    for spec in cfg.problems:
        series = []
        for method, label, _, _ in METHODS:
            y = np.sort(_scores(trials[spec, method], cap))
            series.append(Series(label=label, x=list(range(1, len(y) + 1)), y=y.tolist()))
        dist.append(
            Plot(
                title=f"{spec}: epochs of every trial, sorted",
                xlabel="trial (sorted by epochs)",
                ylabel="epochs to learn",
                logy=True,
                series=series,
                hlines=[(cap, "cap (failure)")],
                caption=f"{spec}: each method's {len(seeds)} trials sorted by epochs; failures sit on the cap.",
            )
        )

    total_epochs = sum(e if e is not None else cap for t in trials.values() for e, _ in t)
    sizes = ", ".join(cfg.problems)
    measurement = (
        f"Encoder/decoder {sizes}: one-hot inputs, targets = inputs (0/1), sigmoid hidden and output units, "
        f"squared error (Fahlman's setting), weights and biases U(±{cfg.init_range:g}), full batch "
        f"(one epoch = one update on all N patterns), float64. Learned = every output of every pattern within "
        f"{cfg.tolerance:g} of its target, checked every epoch; cap {cap} epochs (a trial not learned by then is a "
        f"failure). Methods: backprop = gradient descent with momentum {cfg.momentum:g} (Fahlman's baseline); "
        f"S' offset {cfg.prime_offset:g} on every sigmoid unit; Quickprop with mu = {cfg.mu:g}, weight decay "
        f"{cfg.quickprop_decay:g}, gradient term on. Step size per problem and method: the grid lr ∈ "
        f"{{{', '.join(f'{v:g}' for v in cfg.lr_grid)}}} (engine lr on the batch-mean error = Fahlman's epsilon × N), "
        f"chosen by the lowest median epochs (failures = cap) over {cfg.selection_trials} selection trials with "
        f"their own initial weights; then {len(seeds)} new trials per method, the same initial weights for all "
        f"four methods (paired). 'Speeds up' = lower median and a one-sided paired sign test p < 0.05; "
        f"'several times fewer' = median ratio ≥ {cfg.several:g} for Quickprop vs backprop and for "
        f"Quickprop + offset vs backprop + offset. {total_epochs} measured epochs in all."
    )
    return Result(
        name="quickprop",
        claim=CLAIM,
        measurement=measurement,
        verdict=overall,
        reason=reason,
        metrics=metrics,
        tables=[
            {
                "title": (
                    f"Epochs to learn per problem and method (backprop: momentum {cfg.momentum:g}; mean, "
                    "median, min, max over successful trials; failures counted apart)"
                ),
                "rows": rows,
            },
            {"title": "Verdict per statement", "rows": verdict_rows},
            {"title": "Comparisons behind the verdicts (failures = cap)", "rows": comparisons},
            {
                "title": "Step-size selection (≥: abandoned once it could no longer beat the best so far)",
                "rows": grid_rows,
            },
        ],
        plots=[bar, *dist],
    )
