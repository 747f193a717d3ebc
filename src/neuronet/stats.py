"""Statistics a referee accepts: paired differences, equivalence, interactions, trends, extrapolation.

Every lecture claim is judged by named ``Check`` objects; ``verdict_from`` turns them into the
one shared verdict.  ``paired_diff``: mean paired difference over seeds with a t or bootstrap CI.
``helps``: that CI excludes 0 in the claimed direction.  ``tost``: equivalence within a stated
margin (Schuirmann 1987), judged only when both arms train (``both_train``).  ``interaction``:
the difference of differences of a 2 × 2 design.  ``spearman``: a monotone trend.
``finite_size_fit``: ``α(N) = α∞ + a N^(−1/2)``.  ``mean_ci``: one arm, clipped to its range.

Paired designs: index ``k`` of every array is seed ``k`` (same data split, same initial
weights where the arms allow it), so the seed-to-seed spread cancels in ``a − b``.

Confidence intervals
--------------------
``method="t"``: ``mean ± t_{(1+c)/2, n−1} · sd / √n`` (Student 1908); exact for normal
differences.  ``method="bootstrap"``: the percentile interval of ``n_boot`` resampled means
(Efron & Tibshirani 1993, ch. 13).  The percentile interval is too narrow for small ``n``
(its width has the factor ``z √((n−1)/n)`` where t has ``t_{n−1}``: about 0.8 of the t width at
n = 10, 0.96 at n = 50); prefer ``"t"`` below about 30 seeds unless the differences are far from
normal (e.g. bimodal outcomes, where neither interval is trustworthy at small n).

Every function that returns a ``Check`` takes the label keywords ``name``, ``claim``,
``statistic`` and ``could_fail`` (strings) that replace its defaults; any other unknown keyword
is a ``TypeError``.

Randomness only comes from a passed-in ``numpy.random.Generator`` (or an int seed); ``None``
means ``default_rng(0)``, so every number here is reproducible.  scipy provides the t quantiles.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np

# fmt: off
__all__ = ["VERDICTS", "Check", "FiniteSizeFit", "MeanCI", "PairedDiff", "both_train", "finite_size_fit", "helps",
           "interaction", "mean_ci", "paired_diff", "spearman", "tost", "verdict_from"]
# fmt: on

VERDICTS = ("supported", "not supported", "mixed")
_METHODS = ("t", "bootstrap")
_CHUNK = 2_000_000  # elements per block of bootstrap / permutation draws (16 MB of float64)


# -- the result of a judgement ------------------------------------------------------------------
def _finite_or_none(x):
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class Check:
    """One named, falsifiable test of a lecture statement.

    ``name``: short identifier, unique within an experiment.  ``claim``: the statement tested, in
    words.  ``statistic``: what ``value`` is (``"mean paired difference of test accuracy"``).
    ``value``: its estimate (NaN when not judged).  ``ci``: ``(low, high)`` or ``None``.
    ``threshold``: the decision rule (``"CI > 0"``, ``"|diff| < 0.02 (TOST)"``).  ``n``: sample size
    (seeds, pairs, points).  ``holds``: whether the rule was met.  ``could_fail``: one sentence on
    what outcome would have made it fail.  ``p_value``: when the test has one.  ``note``: anything
    the reader must know, e.g. ``"not judged: arm relu did not train"``.
    """

    name: str
    claim: str
    statistic: str
    value: float
    ci: tuple[float, float] | None
    threshold: str
    n: int
    holds: bool
    could_fail: str
    p_value: float | None = None
    note: str = ""

    def __post_init__(self):
        if not isinstance(self.holds, (bool, np.bool_)):
            raise ValueError(f"Check {self.name!r}: holds must be a bool, got {self.holds!r}")
        ci = None if self.ci is None else (float(self.ci[0]), float(self.ci[1]))
        if ci is not None and ci[0] > ci[1]:
            raise ValueError(f"Check {self.name!r}: ci low {ci[0]} > high {ci[1]}")
        p = None if self.p_value is None else float(self.p_value)
        plain = {"holds": bool(self.holds), "value": float(self.value), "n": int(self.n), "ci": ci, "p_value": p}
        for key, v in plain.items():
            object.__setattr__(self, key, v)  # plain Python types, whatever numpy gave

    def to_dict(self) -> dict:
        """Plain JSON types; non-finite numbers become ``None`` (strict JSON has no NaN)."""
        d = asdict(self)
        d["value"] = _finite_or_none(self.value)
        d["ci"] = None if self.ci is None else [_finite_or_none(c) for c in self.ci]
        d["p_value"] = _finite_or_none(self.p_value)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Check:
        """Inverse of ``to_dict`` (``None`` numbers come back as NaN)."""
        d = dict(d)
        d["value"] = math.nan if d.get("value") is None else d["value"]
        if d.get("ci") is not None:
            d["ci"] = tuple(math.nan if c is None else c for c in d["ci"])
        return cls(**d)


def verdict_from(checks) -> str:
    """The one shared verdict: ``"supported"`` if every check holds, ``"not supported"`` if none
    does, ``"mixed"`` otherwise.

    An empty list raises ``ValueError``: a statement with no check has not been tested, and
    must say so in the coverage table rather than receive a verdict.
    """
    checks = list(checks)
    if not checks:
        raise ValueError("verdict_from: no checks; an untested statement has no verdict")
    held = [c.holds for c in checks]
    if all(held):
        return "supported"
    if not any(held):
        return "not supported"
    return "mixed"


# -- input validation ---------------------------------------------------------------------------
def _vector(x, name, *, min_n=2) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size < min_n:
        raise ValueError(f"{name} needs at least {min_n} values, got {a.size}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values at index {int(np.flatnonzero(~np.isfinite(a))[0])}")
    return a


def _paired(a, b, names=("a", "b")) -> np.ndarray:
    a = _vector(a, names[0])
    b = _vector(b, names[1])
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in length: {names[0]} has {a.size}, {names[1]} has {b.size}")
    return a - b


def _rng(rng) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def _check_confidence(confidence):
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")


_LABELS = ("name", "claim", "statistic", "could_fail")


def _make_check(label, defaults, **fields) -> Check:
    """A ``Check`` whose text fields are ``defaults`` overridden by the caller's ``label`` keywords."""
    unknown = sorted(set(label) - set(_LABELS))
    if unknown:
        raise TypeError(f"unknown keyword(s) {', '.join(unknown)}; the label keywords are {', '.join(_LABELS)}")
    return Check(**{**defaults, **{k: v for k, v in label.items() if v is not None}}, **fields)


# -- paired differences -------------------------------------------------------------------------
@dataclass(frozen=True)
class PairedDiff:
    """Mean of ``d = a − b`` with its CI; ``sd`` is the sample sd of ``d`` (ddof = 1), ``se = sd / √n``."""

    mean: float
    ci: tuple[float, float]
    n: int
    sd: float
    se: float
    confidence: float
    method: str


def _mean_interval(d, confidence, method, rng, n_boot):
    """``(mean, (lo, hi), sd, se)`` of the sample ``d`` by the t or the percentile-bootstrap interval."""
    from scipy import stats

    n = d.size
    m = float(d.mean())
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(n)
    if method == "t":
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
        return m, (m - half, m + half), sd, se
    if method != "bootstrap":
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(_METHODS)}")
    if int(n_boot) < 100:
        raise ValueError(f"n_boot must be >= 100, got {n_boot!r}")
    gen = _rng(rng)
    means = np.empty(int(n_boot))
    step = max(1, _CHUNK // n)
    for start in range(0, means.size, step):
        k = min(step, means.size - start)
        means[start : start + k] = d[gen.integers(0, n, size=(k, n))].mean(axis=1)  # (k,)
    lo, hi = np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return m, (float(lo), float(hi)), sd, se


def paired_diff(a, b, *, confidence=0.95, method="t", rng=None, n_boot=10000) -> PairedDiff:
    """Mean paired difference ``a − b`` over seeds with a confidence interval.

    ``a[k]`` and ``b[k]`` come from the same seed (and split).  ``method``: ``"t"`` (Student) or
    ``"bootstrap"`` (percentile, ``n_boot`` resamples drawn from ``rng``; ``None`` means
    ``default_rng(0)``).  Raises ``ValueError`` on n < 2, NaN or infinite values, arrays of
    different lengths or not 1-D.
    """
    _check_confidence(confidence)
    d = _paired(a, b)
    m, ci, sd, se = _mean_interval(d, confidence, method, rng, n_boot)
    return PairedDiff(mean=m, ci=ci, n=d.size, sd=sd, se=se, confidence=confidence, method=method)


def helps(a, b, *, direction="greater", confidence=0.95, method="t", rng=None, n_boot=10000, **label) -> Check:
    """Whether ``a`` helps over ``b``: the CI of the mean paired difference ``a − b`` excludes 0 in the
    claimed direction (``direction="greater"``: low end > 0; ``"less"``: high end < 0, e.g. for a loss).

    A two-sided ``confidence`` interval that excludes 0 on one side is a one-sided test at level
    ``(1 − confidence) / 2``.
    """
    if direction not in ("greater", "less"):
        raise ValueError(f"direction must be 'greater' or 'less', got {direction!r}")
    r = paired_diff(a, b, confidence=confidence, method=method, rng=rng, n_boot=n_boot)
    up = direction == "greater"
    holds = r.ci[0] > 0 if up else r.ci[1] < 0
    threshold = f"{confidence:.0%} CI of mean(a − b) {'>' if up else '<'} 0 ({method})"
    defaults = {
        "name": "helps",
        "claim": f"a is {direction if up else 'less'} than b (paired over seeds)",
        "statistic": "mean paired difference a − b",
        "could_fail": f"the {confidence:.0%} CI of the mean paired difference reaching 0 or {'less' if up else 'more'}",
    }
    return _make_check(label, defaults, value=r.mean, ci=r.ci, threshold=threshold, n=r.n, holds=holds)


# -- equivalence --------------------------------------------------------------------------------
def both_train(a, b, threshold, *, higher_is_better=True, min_fraction=None, names=("a", "b")) -> str | None:
    """Whether both arms trained: ``None`` if they did, otherwise the reason (``"not judged: ..."``).

    An arm trains when the mean of its runs beats ``threshold`` (strictly; ``>`` when
    ``higher_is_better``, ``<`` for losses), or, with ``min_fraction``, when at least that
    fraction of its runs beats it (robust to a bimodal arm).  Equivalence of two arms that both
    fail (e.g. both at chance) says nothing about the remedy, so ``tost`` refuses to judge it.
    """
    sign = 1.0 if higher_is_better else -1.0
    failed = []
    for x, label in ((a, names[0]), (b, names[1])):
        beats = sign * _vector(x, label, min_n=1) > sign * threshold  # (n,) runs that beat it
        if not (sign * np.mean(x) > sign * threshold if min_fraction is None else beats.mean() >= min_fraction):
            failed.append(label)
    rule = f"{'mean' if min_fraction is None else f'{min_fraction:.0%} of runs'} {'>' if higher_is_better else '<'}"
    return f"not judged: arm {' and '.join(failed)} did not train ({rule} {threshold:g})" if failed else None


def tost(a, b, margin, *, alpha=0.05, train_threshold=None, higher_is_better=True, names=("a", "b"), **label) -> Check:
    """Equivalence within ``±margin`` by two one-sided paired t tests (Schuirmann 1987).

    ``H0: μ ≤ −margin`` and ``H0: μ ≥ margin`` are each rejected at level ``alpha``; that is the
    same as the ``1 − 2 alpha`` (90%) t interval of ``mean(a − b)`` lying inside ``(−margin, margin)``.
    ``p_value`` is the larger of the two one-sided p-values.  ``margin`` must be stated in
    advance, in the units of the metric.

    With ``train_threshold``, equivalence is judged only when ``both_train`` says both arms
    trained (their means beat it); otherwise the check fails and ``note`` says which arm did not
    train.  For another rule, call ``both_train`` yourself and
    ``dataclasses.replace(check, holds=False, note=reason)``.
    """
    from scipy import stats

    if not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be a finite number > 0, got {margin!r}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha!r}")
    r = paired_diff(a, b, confidence=1 - 2 * alpha, method="t")
    p = 0.0 if abs(r.mean) < margin else 1.0  # no spread: the difference is known exactly
    if r.se > 0:  # the larger p of H0: μ ≤ −margin and H0: μ ≥ +margin
        p = max(
            float(stats.t.sf((r.mean + margin) / r.se, r.n - 1)), float(stats.t.cdf((r.mean - margin) / r.se, r.n - 1))
        )
    holds = -margin < r.ci[0] and r.ci[1] < margin
    note = ""
    if train_threshold is not None:
        reason = both_train(a, b, train_threshold, higher_is_better=higher_is_better, names=names)
        if reason is not None:
            holds, note = False, reason
    pct = f"{1 - 2 * alpha:.0%}"
    defaults = {
        "name": "equivalent",
        "claim": f"{names[0]} and {names[1]} are equivalent within ±{margin:g}",
        "statistic": "mean paired difference a − b",
        "could_fail": f"the {pct} CI of the paired difference reaching beyond ±{margin:g}, or an arm not training",
    }
    threshold = f"|mean(a − b)| < {margin:g} (TOST, α = {alpha:g}: {pct} CI inside ±{margin:g})"
    return _make_check(
        label, defaults, value=r.mean, ci=r.ci, threshold=threshold, n=r.n, holds=holds, p_value=p, note=note
    )


# -- factorial designs --------------------------------------------------------------------------
def interaction(
    a_off, a_on, b_off, b_on, *, direction="two-sided", confidence=0.95, method="t", rng=None, n_boot=10000, **label
) -> Check:
    """The paired difference of differences in a 2 × 2 design over the same seeds.

    For seed ``k``: ``d_k = (a_on[k] − a_off[k]) − (b_on[k] − b_off[k])``, e.g. the remedy's effect
    with sigmoid units minus its effect with ReLU units.  ``holds`` when the CI of ``mean(d)``
    excludes 0 (``"two-sided"``), or lies above 0 (``"greater"``) or below 0 (``"less"``).  On
    additive data (the same effect in both rows) the CI covers 0 with probability ``confidence``.
    """
    if direction not in ("two-sided", "greater", "less"):
        raise ValueError(f"direction must be 'two-sided', 'greater' or 'less', got {direction!r}")
    effect_a = _paired(a_on, a_off, ("a_on", "a_off"))
    effect_b = _paired(b_on, b_off, ("b_on", "b_off"))
    r = paired_diff(effect_a, effect_b, confidence=confidence, method=method, rng=rng, n_boot=n_boot)
    lo, hi = r.ci
    holds = {"two-sided": lo > 0 or hi < 0, "greater": lo > 0, "less": hi < 0}[direction]
    rule = {"two-sided": "excludes 0", "greater": "> 0", "less": "< 0"}[direction]
    defaults = {
        "name": "interaction",
        "claim": "the effect of on vs off differs between rows a and b",
        "statistic": "mean of (a_on − a_off) − (b_on − b_off)",
        "could_fail": f"the {confidence:.0%} CI of the difference of differences covering 0 (additive effects)",
    }
    threshold = f"{confidence:.0%} CI of the difference of differences {rule} ({method})"
    return _make_check(label, defaults, value=r.mean, ci=r.ci, threshold=threshold, n=r.n, holds=holds)


# -- monotone trends ----------------------------------------------------------------------------
def _rank_rho(rx, ry_rows):
    """Pearson correlation of the ranks ``rx`` (n,) with each row of ``ry_rows`` (k, n)."""
    cx = rx - rx.mean()
    cy = ry_rows - ry_rows.mean(axis=-1, keepdims=True)
    return (cy @ cx) / math.sqrt(float(cx @ cx) * float((cy[0] ** 2).sum()))


def spearman(x, y, *, direction="rises", alpha=0.05, n_perm=10000, exact_max_n=8, rng=None, **label) -> Check:
    """Spearman's rank correlation ρ of ``y`` with ``x`` and a one-sided test of the trend.

    The p-value is exact (all ``n!`` orderings of ``y``'s ranks) for ``n ≤ exact_max_n``, else a
    permutation estimate ``(1 + #{ρ* ≥ ρ}) / (1 + n_perm)`` (Phipson & Smyth 2010), with ties
    given average ranks.  ``holds`` when ``p < alpha`` in the claimed direction (``"rises"``:
    ρ > 0, ``"falls"``: ρ < 0).  ``ci`` is the approximate Fisher-z interval
    ``tanh(atanh ρ ± z · 1.06 / √(n − 3))`` (Fieller, Hartley & Pearson 1957), for display only;
    ``None`` when n ≤ 3.  A constant ``x`` or ``y`` has no ranks to correlate: the check fails
    with a note.
    """
    from scipy import stats

    if direction not in ("rises", "falls"):
        raise ValueError(f"direction must be 'rises' or 'falls', got {direction!r}")
    x, y = _vector(x, "x", min_n=3), _vector(y, "y", min_n=3)
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.size} vs {y.size}")
    n = x.size
    defaults = {
        "name": "trend",
        "claim": f"y {direction} with x",
        "statistic": "Spearman ρ",
        "could_fail": f"no monotone {'increase' if direction == 'rises' else 'decrease'} (p ≥ {alpha:g})",
    }
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        note = f"not judged: {'x' if np.ptp(x) == 0 else 'y'} is constant"
        return _make_check(label, defaults, value=math.nan, ci=None, threshold="", n=n, holds=False, note=note)
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    rho = float(_rank_rho(rx, ry[None])[0])
    sign = 1.0 if direction == "rises" else -1.0
    if n <= exact_max_n:
        perms = np.array(list(itertools.permutations(range(n))))  # (n!, n)
        null = _rank_rho(rx, ry[perms])
        p = float(np.mean(sign * null >= sign * rho - 1e-12))
        how = "exact"
    else:
        gen = _rng(rng)
        hits, step = 0, max(1, _CHUNK // n)
        for start in range(0, int(n_perm), step):
            k = min(step, int(n_perm) - start)
            null = _rank_rho(rx, gen.permuted(np.broadcast_to(ry, (k, n)), axis=1))
            hits += int(np.sum(sign * null >= sign * rho - 1e-12))
        p = (1 + hits) / (1 + int(n_perm))
        how = f"{int(n_perm)} permutations"
    ci = None
    if n > 3:
        z, half = math.atanh(max(min(rho, 1 - 1e-15), -1 + 1e-15)), 1.959964 * 1.06 / math.sqrt(n - 3)
        ci = (math.tanh(z - half), math.tanh(z + half))
    threshold = f"one-sided p < {alpha:g} for ρ {'>' if direction == 'rises' else '<'} 0 ({how})"
    return _make_check(label, defaults, value=rho, ci=ci, threshold=threshold, n=n, holds=p < alpha, p_value=p)


# -- finite-size extrapolation ------------------------------------------------------------------
@dataclass(frozen=True)
class FiniteSizeFit:
    """``α(N) = α∞ + a N^(−1/2)`` fitted by (weighted) least squares.

    ``ci`` is the ``confidence`` interval of ``α∞``; ``dof`` the residual degrees of freedom.
    """

    alpha_inf: float
    a: float
    se_alpha_inf: float
    se_a: float
    ci: tuple[float, float]
    confidence: float
    n_points: int
    dof: int
    residual_sd: float

    def predict(self, n):
        """``α∞ + a N^(−1/2)`` at sizes ``n``."""
        return self.alpha_inf + self.a / np.sqrt(np.asarray(n, dtype=np.float64))

    def near(self, target, margin, **label) -> Check:
        """Check that ``α∞`` lies within ``target ± margin``: its whole CI inside the band."""
        holds = target - margin < self.ci[0] and self.ci[1] < target + margin
        defaults = {
            "name": "alpha-inf",
            "claim": f"the extrapolated α∞ equals {target:g} within ±{margin:g}",
            "statistic": "α∞ of the fit α(N) = α∞ + a·N^(−1/2)",
            "could_fail": f"an α∞ CI reaching outside [{target - margin:g}, {target + margin:g}]",
        }
        threshold = f"{self.confidence:.0%} CI of α∞ inside {target:g} ± {margin:g}"
        return _make_check(
            label, defaults, value=self.alpha_inf, ci=self.ci, threshold=threshold, n=self.n_points, holds=holds
        )


def finite_size_fit(n, alpha, *, sigma=None, confidence=0.95) -> FiniteSizeFit:
    """Extrapolate ``alpha`` measured at sizes ``n`` (arrays (m,), repeats allowed) to ``N → ∞``.

    ``α(N) = α∞ + a N^(−1/2)``, e.g. the Hopfield capacity (Amit, Gutfreund & Sompolinsky 1985:
    α∞ ≈ 0.138).  Without ``sigma``: ordinary least squares, the error variance from the
    residuals and a t interval with ``m − 2`` dof (m ≥ 3).  With ``sigma`` (standard errors of
    ``alpha``): weighted least squares with those absolute errors and a normal interval.
    """
    from scipy import stats

    _check_confidence(confidence)
    n, y = _vector(n, "n"), _vector(alpha, "alpha")
    s = np.ones_like(y) if sigma is None else _vector(sigma, "sigma")
    if not n.shape == y.shape == s.shape:
        raise ValueError(f"n, alpha (and sigma) differ in length: {n.size}, {y.size}, {s.size}")
    if (n <= 0).any() or (s <= 0).any() or np.unique(n).size < 2:
        raise ValueError("finite_size_fit needs sizes n > 0, at least two distinct, and sigma > 0")
    dof = n.size - 2
    if sigma is None and dof < 1:
        raise ValueError("finite_size_fit without sigma needs at least 3 points (1 residual dof)")
    w = 1.0 / s**2  # (m,)
    X = np.column_stack([np.ones_like(n), 1.0 / np.sqrt(n)])  # (m, 2)
    cov = np.linalg.inv(X.T @ (X * w[:, None]))  # (2, 2)
    beta = cov @ (X.T @ (w * y))  # (α∞, a)
    resid = y - X @ beta
    rss = float(resid @ resid)
    if sigma is None:
        cov, q = cov * rss / dof, float(stats.t.ppf(0.5 + confidence / 2, dof))
    else:
        q = float(stats.norm.ppf(0.5 + confidence / 2))
    se = np.sqrt(np.diag(cov))
    ci = (float(beta[0] - q * se[0]), float(beta[0] + q * se[0]))
    rsd = math.sqrt(rss / dof) if dof > 0 else math.nan
    return FiniteSizeFit(float(beta[0]), float(beta[1]), float(se[0]), float(se[1]), ci, confidence, n.size, dof, rsd)


# -- single-arm summaries -----------------------------------------------------------------------
@dataclass(frozen=True)
class MeanCI:
    """Mean of one arm with its CI (``None`` for a single run), clipped to ``[lo, hi]`` when given."""

    mean: float
    ci: tuple[float, float] | None
    n: int
    sd: float
    se: float


def mean_ci(x, *, confidence=0.95, lo=None, hi=None, method="t", rng=None, n_boot=10000) -> MeanCI:
    """Mean and CI of one arm, the CI clipped to the metric's range ``[lo, hi]``.

    Accuracy cannot exceed 1, so an interval ``0.99 ± 0.02`` is reported as ``(0.97, 1.0)``:
    clipping is for display and leaves ``mean`` and ``se`` untouched.
    """
    _check_confidence(confidence)
    x = _vector(x, "x", min_n=1)
    if x.size == 1:
        return MeanCI(mean=float(x[0]), ci=None, n=1, sd=math.nan, se=math.nan)
    m, (c_lo, c_hi), sd, se = _mean_interval(x, confidence, method, rng, n_boot)
    if lo is not None:
        c_lo, c_hi = max(c_lo, lo), max(c_hi, lo)
    if hi is not None:
        c_lo, c_hi = min(c_lo, hi), min(c_hi, hi)
    return MeanCI(mean=m, ci=(c_lo, c_hi), n=x.size, sd=sd, se=se)
