"""neuronet.stats: the intervals cover what they claim, the decision rules can fail, bad input is refused."""

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from neuronet.stats import (
    Check,
    both_train,
    finite_size_fit,
    helps,
    interaction,
    mean_ci,
    paired_diff,
    spearman,
    tost,
    verdict_from,
)


def _check(holds, name="c"):
    return Check(name, "claim", "stat", 0.1, (0.0, 0.2), "CI > 0", 10, holds, "a CI reaching 0")


# -- Check and verdict ---------------------------------------------------------------------------
def test_verdict_rule_all_none_and_some():
    assert verdict_from([_check(True), _check(True)]) == "supported"
    assert verdict_from([_check(False), _check(False)]) == "not supported"
    assert verdict_from([_check(True), _check(False)]) == "mixed"
    assert verdict_from(iter([_check(True)])) == "supported", "any iterable of checks"
    with pytest.raises(ValueError, match="no checks"):
        verdict_from([])


def test_check_round_trips_through_strict_json():
    c = Check("x", "claim", "stat", math.nan, (-math.inf, 0.5), "CI > 0", 3, False, "never", note="not judged")
    text = json.dumps(c.to_dict(), allow_nan=False)  # strict JSON: NaN/inf must have become null
    back = Check.from_dict(json.loads(text))
    assert math.isnan(back.value) and math.isnan(back.ci[0]) and back.ci[1] == 0.5
    assert back.note == "not judged" and back.holds is False and back.p_value is None
    c2 = tost([0.5, 0.6, 0.7], [0.5, 0.61, 0.69], 0.1)
    assert Check.from_dict(json.loads(json.dumps(c2.to_dict()))) == c2


def test_check_refuses_inconsistent_fields():
    with pytest.raises(ValueError, match="ci low"):
        Check("x", "c", "s", 0.0, (1.0, 0.0), "t", 3, True, "f")
    with pytest.raises(ValueError, match="holds must be a bool"):
        Check("x", "c", "s", 0.0, None, "t", 3, "yes", "f")


# -- paired differences --------------------------------------------------------------------------
def test_t_interval_hand_worked():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4)
    r = paired_diff(a, b)
    # mean 2.5, sd = sqrt(5/3), se = sd/2, t_{0.975, 3} = 3.182446
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert r.mean == 2.5 and r.n == 4 and r.sd == pytest.approx(math.sqrt(5 / 3))
    assert r.ci == pytest.approx((2.5 - half, 2.5 + half), rel=1e-9)


def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    reps, n, true_diff = 2000, 10, 0.3
    base = rng.normal(0.7, 0.2, size=(reps, n))  # a seed effect shared by both arms: it must cancel
    a = base + true_diff + rng.normal(0, 0.05, size=(reps, n))
    b = base + rng.normal(0, 0.05, size=(reps, n))
    cis = np.array([paired_diff(a[k], b[k]).ci for k in range(reps)])  # (reps, 2)
    rate = float(np.mean((cis[:, 0] < true_diff) & (true_diff < cis[:, 1])))
    assert abs(rate - 0.95) < 0.02, f"t interval covered the true difference in {rate:.3f} of {reps} repetitions"


def test_bootstrap_agrees_with_t_on_normal_data_and_is_reproducible():
    rng = np.random.default_rng(1)
    for _ in range(5):
        a, b = rng.normal(1.0, 1.0, 50), rng.normal(0.5, 1.0, 50)
        t = paired_diff(a, b, method="t")
        bs = paired_diff(a, b, method="bootstrap", rng=np.random.default_rng(7))
        half = (t.ci[1] - t.ci[0]) / 2
        # the percentile interval is ≈ z√((n−1)/n)/t_{n−1} ≈ 0.965 of the t width at n = 50
        assert abs(bs.ci[0] - t.ci[0]) < 0.15 * half and abs(bs.ci[1] - t.ci[1]) < 0.15 * half, (t.ci, bs.ci)
        assert bs.mean == t.mean
        again = paired_diff(a, b, method="bootstrap", rng=np.random.default_rng(7))
        assert again.ci == bs.ci, "the same seeded Generator must give the same interval"
    assert paired_diff(a, b, method="bootstrap").ci == paired_diff(a, b, method="bootstrap", rng=0).ci


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ([1.0], [0.0], "at least 2"),
        ([1.0, math.nan], [0.0, 0.0], "NaN"),
        ([1.0, 2.0], [0.0, math.inf], "NaN or infinite"),
        ([1.0, 2.0, 3.0], [0.0, 0.0], "differ in length"),
        ([[1.0, 2.0]], [[0.0, 0.0]], "1-D"),
    ],
)
def test_paired_diff_refuses_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired_diff(a, b)


def test_paired_diff_refuses_bad_options():
    with pytest.raises(ValueError, match="unknown method"):
        paired_diff([1, 2], [0, 0], method="wilcoxon")
    with pytest.raises(ValueError, match="confidence"):
        paired_diff([1, 2], [0, 0], confidence=95)
    with pytest.raises(ValueError, match="rng"):
        paired_diff([1, 2], [0, 0], method="bootstrap", rng="seed")


# -- helps ---------------------------------------------------------------------------------------
def test_helps_in_the_claimed_direction_only():
    rng = np.random.default_rng(2)
    base = rng.normal(0.8, 0.1, 12)
    better = base + 0.05 + rng.normal(0, 0.01, 12)
    c = helps(better, base, name="remedy")
    assert c.holds and c.ci[0] > 0 and c.n == 12 and c.name == "remedy" and "CI" in c.threshold
    assert not helps(base, better).holds, "the reverse comparison must fail"
    assert helps(base, better, direction="less").holds, "a loss that falls is 'less'"
    weak = base + 0.005 + rng.normal(0, 0.1, 12)  # a true but tiny effect, buried in noise: no evidence
    assert not helps(weak, base).holds


def test_helps_false_positive_rate_on_null_data_is_at_most_nominal():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, (400, 10)), rng.normal(0, 1, (400, 10))
    rate = np.mean([helps(a[k], b[k]).holds for k in range(400)])
    assert rate < 0.05, f"'helps' held on {rate:.3f} of null data sets; one-sided level is 0.025"


# -- equivalence ---------------------------------------------------------------------------------
def test_tost_holds_for_identical_arms_and_fails_for_a_shifted_arm():
    rng = np.random.default_rng(4)
    a = rng.normal(0.9, 0.03, 20)
    same = a + rng.normal(0, 0.005, 20)
    c = tost(a, same, 0.02)
    assert c.holds and c.p_value < 0.05 and -0.02 < c.ci[0] < c.ci[1] < 0.02, c
    assert "TOST" in c.threshold and "90%" in c.threshold
    assert tost(a, a, 0.02).holds, "exactly identical arms: zero spread, zero difference"
    shifted = tost(a + 0.05, same, 0.02)
    assert not shifted.holds and shifted.p_value > 0.5, shifted
    # a difference inside the margin but measured too noisily is *not* equivalence
    noisy = tost(a, a + rng.normal(0, 0.1, 20), 0.02)
    assert not noisy.holds, "absence of evidence is not evidence of absence"


def test_tost_p_value_matches_two_one_sided_scipy_tests():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.01, 0.02, 15), np.zeros(15)
    c = tost(a, b, 0.03)
    p_low = sps.ttest_1samp(a - b, -0.03, alternative="greater").pvalue
    p_high = sps.ttest_1samp(a - b, 0.03, alternative="less").pvalue
    assert c.p_value == pytest.approx(max(p_low, p_high), rel=1e-9)
    assert c.holds == (c.p_value < 0.05)


def test_tost_is_not_judged_when_an_arm_does_not_train():
    chance = np.full(10, 0.1) + np.linspace(0, 0.01, 10)
    c = tost(chance, chance + 0.001, 0.02, train_threshold=0.5, names=("sigmoid", "relu"))
    assert not c.holds and c.note.startswith("not judged: arm sigmoid and relu did not train"), c.note
    trained = np.linspace(0.9, 0.92, 10)
    c = tost(trained, chance, 0.02, train_threshold=0.5, names=("sigmoid", "relu"))
    assert not c.holds and "arm relu did not train" in c.note
    c = tost(trained, trained + 0.001, 0.02, train_threshold=0.5)
    assert c.holds and c.note == ""


def test_both_train_rules():
    assert both_train([0.9, 0.95], [0.8, 0.85], 0.5) is None
    assert "arm b" in both_train([0.9, 0.95], [0.1, 0.2], 0.5)
    assert both_train([0.1, 0.2], [0.1, 0.3], 0.5, higher_is_better=False) is None, "losses below the threshold train"
    bimodal = [0.1, 0.1, 0.1, 0.95, 0.95, 0.95, 0.95, 0.95]  # mean 0.63
    assert both_train(bimodal, bimodal, 0.5) is None
    assert "80% of runs" in both_train(bimodal, bimodal, 0.5, min_fraction=0.8)


def test_tost_refuses_bad_margin():
    for margin in (0.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="margin"):
            tost([1, 2, 3], [1, 2, 3], margin)


# -- interaction ---------------------------------------------------------------------------------
def _factorial(rng, n, effect_a, effect_b, noise=0.02):
    seed = rng.normal(0.8, 0.05, n)  # shared by all four cells of a seed
    cells = [seed, seed + effect_a, seed - 0.1, seed - 0.1 + effect_b]
    return [c + rng.normal(0, noise, n) for c in cells]


def test_interaction_detects_a_true_interaction():
    rng = np.random.default_rng(6)
    a_off, a_on, b_off, b_on = _factorial(rng, 20, effect_a=0.10, effect_b=0.0)
    c = interaction(a_off, a_on, b_off, b_on)
    assert c.holds and c.ci[0] > 0 and c.value == pytest.approx(0.1, abs=0.03), c
    assert interaction(a_off, a_on, b_off, b_on, direction="greater").holds
    assert not interaction(a_off, a_on, b_off, b_on, direction="less").holds


def test_interaction_negative_control_additive_data():
    # the same remedy effect in both rows: the test must fire at about its nominal 5% only
    rng = np.random.default_rng(7)
    fired = [interaction(*_factorial(rng, 20, effect_a=0.10, effect_b=0.10)).holds for _ in range(400)]
    rate = float(np.mean(fired))
    assert rate < 0.09, f"interaction found on additive data in {rate:.3f} of 400 designs (nominal 0.05)"


def test_interaction_refuses_misaligned_cells():
    with pytest.raises(ValueError, match="a_on"):
        interaction([1, 2, 3], [1, 2], [1, 2, 3], [1, 2, 3])


# -- Spearman ------------------------------------------------------------------------------------
def test_spearman_monotone_vs_shuffled():
    rng = np.random.default_rng(8)
    x = np.arange(12.0)
    y = np.sqrt(x) + rng.normal(0, 0.1, 12)  # saturating, but monotone up to noise
    rises = spearman(x, y, rng=np.random.default_rng(0))
    assert rises.holds and rises.value > 0.9 and rises.p_value < 0.001, rises
    assert rises.value == pytest.approx(sps.spearmanr(x, y).statistic, rel=1e-12)
    assert not spearman(x, y, direction="falls").holds
    assert spearman(x, -y, direction="falls").holds
    fired = [spearman(x, rng.permutation(y), rng=np.random.default_rng(k), n_perm=999).holds for k in range(200)]
    assert np.mean(fired) < 0.1, f"shuffled data judged rising in {np.mean(fired):.3f} of 200 shuffles"


def test_spearman_exact_p_value_for_small_n():
    # n = 5, a perfect rise: exactly one of 5! = 120 orderings is as extreme
    c = spearman([1, 2, 3, 4, 5], [2.0, 3.0, 5.0, 8.0, 9.0])
    assert c.value == 1.0 and c.p_value == pytest.approx(1 / 120) and c.holds and "exact" in c.threshold
    # n = 4: the smallest exact p is 1/24 < 0.05; n = 3 cannot reach 0.05 (1/6)
    assert spearman([1, 2, 3], [1, 2, 3]).p_value == pytest.approx(1 / 6)
    assert not spearman([1, 2, 3], [1, 2, 3]).holds, "3 points can never show a trend at α = 0.05"


def test_spearman_constant_input_is_not_judged():
    c = spearman([1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5])
    assert not c.holds and "y is constant" in c.note and math.isnan(c.value)
    with pytest.raises(ValueError, match="differ in length"):
        spearman([1, 2, 3], [1, 2, 3, 4])


# -- finite-size extrapolation -------------------------------------------------------------------
def test_finite_size_fit_recovers_alpha_inf_from_noisy_data():
    n = np.array([200, 500, 1000, 2000, 4000] * 4, dtype=float)
    rng = np.random.default_rng(9)
    covered = 0
    for _ in range(200):
        alpha = 0.138 + 0.85 / np.sqrt(n) + rng.normal(0, 0.004, n.size)
        fit = finite_size_fit(n, alpha)
        covered += fit.ci[0] < 0.138 < fit.ci[1]
    assert abs(fit.alpha_inf - 0.138) < 0.01 and fit.a == pytest.approx(0.85, abs=0.3), fit
    assert 0.9 < covered / 200 <= 1.0, f"α∞ CI covered the truth in {covered}/200 fits"
    assert fit.dof == n.size - 2 and fit.predict(1e12) == pytest.approx(fit.alpha_inf, abs=1e-6)
    assert fit.near(0.138, 0.02).holds and not fit.near(0.2, 0.02).holds


def test_finite_size_fit_exact_and_weighted():
    n = np.array([200.0, 500.0, 1000.0, 2000.0])
    alpha = 0.138 + 0.86 / np.sqrt(n)  # the 0.199 at N = 200 is about this curve
    fit = finite_size_fit(n, alpha)
    assert fit.alpha_inf == pytest.approx(0.138, abs=1e-12) and fit.se_alpha_inf < 1e-10
    w = finite_size_fit(n, alpha + np.array([0.0, 0.0, 0.0, 0.01]), sigma=[0.001, 0.001, 0.001, 1.0])
    assert w.alpha_inf == pytest.approx(0.138, abs=1e-3), "a point with a huge sigma barely moves the fit"


def test_finite_size_fit_refuses_bad_input():
    with pytest.raises(ValueError, match="two distinct"):
        finite_size_fit([100, 100, 100], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="at least 3"):
        finite_size_fit([100, 200], [0.1, 0.2])
    with pytest.raises(ValueError, match="> 0"):
        finite_size_fit([0, 100, 200], [0.1, 0.2, 0.3])


# -- single arm ----------------------------------------------------------------------------------
def test_mean_ci_clips_to_the_metric_range():
    r = mean_ci([0.99, 1.0, 0.97, 1.0], lo=0.0, hi=1.0)
    assert r.ci[1] == 1.0 and r.ci[0] < r.mean < 1.0, r
    unclipped = mean_ci([0.99, 1.0, 0.97, 1.0])
    assert unclipped.ci[1] > 1.0 and unclipped.mean == r.mean
    one = mean_ci([0.5])
    assert one.ci is None and one.n == 1 and one.mean == 0.5
    with pytest.raises(ValueError, match="NaN"):
        mean_ci([0.5, math.nan])
