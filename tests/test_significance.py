"""Q4's and Q5's "real improvement" as a paired test (``mnist_checks.significance``): McNemar's
exact test on the digits only one of two models gets right (Dietterich, 1998); across seeds, each
model's mean with an interval for both the seeds and the test set (Bouthillier et al., 2021)."""

from math import comb

import numpy as np
import pytest

from mnist_checks.significance import AcrossSeeds, Comparison, compare, improvement_share

pytestmark = pytest.mark.fast


def predictions(n=10_000, *, only_better=300, only_worse=100, both_wrong=200, seed=0):
    """True digits and two models' predicted digits with the given disagreements, shuffled."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    better, worse = y.copy(), y.copy()
    index = rng.permutation(n)
    wrong = lambda digits: (digits + 1) % 10  # noqa: E731
    cut = np.cumsum([only_better, only_worse, both_wrong])
    worse[index[:cut[0]]] = wrong(y[index[:cut[0]]])
    better[index[cut[0]:cut[1]]] = wrong(y[index[cut[0]:cut[1]]])
    both = index[cut[1]:cut[2]]
    better[both], worse[both] = wrong(y[both]), (y[both] + 2) % 10  # both wrong, and wrong differently
    return y, better, worse


def exact_one_sided(b, c):
    """The textbook exact McNemar p-value: P(X >= b) for X ~ Binomial(b + c, 1/2)."""
    return sum(comb(b + c, k) for k in range(b, b + c + 1)) / 2 ** (b + c)


def test_only_the_digits_one_model_alone_gets_right_count():
    y, better, worse = predictions(only_better=300, only_worse=100, both_wrong=200)
    found = compare(y, better, worse, better="b", worse="w")
    assert (found.only_better_right, found.only_worse_right, found.digits) == (300, 100, 10_000)
    assert found.difference == pytest.approx((300 - 100) / 10_000)


@pytest.mark.parametrize("b, c", [(30, 12), (61, 40), (7, 9), (412, 61)])
def test_the_p_value_is_mcnemars_exact_one_sided_test(b, c):
    y, better, worse = predictions(only_better=b, only_worse=c, both_wrong=50)
    assert compare(y, better, worse, better="b", worse="w").p_value == pytest.approx(exact_one_sided(b, c), rel=1e-9)


def test_a_clear_improvement_is_real_and_a_coin_flip_is_not():
    y, better, worse = predictions(only_better=300, only_worse=100)
    assert compare(y, better, worse, better="b", worse="w").is_improvement()
    y, better, worse = predictions(only_better=105, only_worse=100)
    assert not compare(y, better, worse, better="b", worse="w").is_improvement()


def test_identical_predictions_are_no_improvement():
    """A 'scaled' MLP that scales nothing predicts what the raw one does: p is 1."""
    y, better, _ = predictions()
    found = compare(y, better, better.copy(), better="b", worse="w")
    assert (found.p_value, found.difference, found.is_improvement()) == (1.0, 0.0, False)


def test_the_worse_model_named_better_is_no_improvement_and_its_interval_is_the_mirror():
    y, better, worse = predictions(only_better=300, only_worse=100)
    forward = compare(y, better, worse, better="b", worse="w")
    backward = compare(y, worse, better, better="w", worse="b")
    assert not backward.is_improvement() and backward.p_value > 0.99
    assert backward.difference == -forward.difference
    assert backward.interval == pytest.approx((-forward.interval[1], -forward.interval[0]))


def test_the_interval_holds_the_difference_and_excludes_zero_for_a_clear_improvement():
    y, better, worse = predictions(only_better=60, only_worse=20)
    few = compare(y, better, worse, better="b", worse="w")
    y, better, worse = predictions(only_better=600, only_worse=200)
    many = compare(y, better, worse, better="b", worse="w")
    for found in (few, many):
        assert found.interval[0] < found.difference < found.interval[1]
    assert few.interval[0] > 0 and many.interval[0] > 0 and "95% interval" in few.sentence()


def test_predictions_for_other_digits_are_refused():
    y, better, worse = predictions()
    with pytest.raises(ValueError, match="the same digits"):
        compare(y, better[:-1], worse, better="b", worse="w")


def test_a_comparison_round_trips_through_a_record():
    y, better, worse = predictions()
    found = compare(y, better, worse, better="cnn", worse="mlp_scaled")
    assert Comparison.from_record(found.as_record()) == found


def test_one_seeds_interval_is_the_test_sets_binomial_uncertainty_alone():
    """At 0.96 on 10,000 digits the binomial standard error is about 0.002 (issue 20)."""
    one = AcrossSeeds("mlp_scaled", (0.96,), 10_000)
    assert one.binomial_se == pytest.approx(np.sqrt(0.96 * 0.04 / 10_000)) and 0.0019 < one.binomial_se < 0.0020
    low, high = one.interval
    assert (high - low) / 2 == pytest.approx(1.959964 * one.binomial_se, rel=1e-5)


def test_the_interval_widens_with_the_seeds_spread_and_narrows_with_their_number():
    tight = AcrossSeeds("cnn", (0.990, 0.990, 0.990), 10_000)
    spread = AcrossSeeds("cnn", (0.985, 0.990, 0.995), 10_000)
    more = AcrossSeeds("cnn", (0.985, 0.990, 0.995) * 4, 10_000)
    width = lambda found: found.interval[1] - found.interval[0]  # noqa: E731
    assert spread.mean == pytest.approx(0.990) and tight.mean == pytest.approx(0.990)
    assert width(tight) < width(more) < width(spread)
    assert spread.seed_sd == pytest.approx(0.005)
    half = 1.959964 * np.sqrt(0.005 ** 2 / 3 + spread.binomial_se ** 2)
    assert spread.interval == pytest.approx((0.990 - half, 0.990 + half), abs=1e-6)


def test_the_interval_covers_the_true_accuracy_about_as_often_as_it_says():
    """Five seeds of a model judged on one test set of 10,000 digits, drawn from a larger world: the
    test set's luck is shared by every seed, the seeds vary around it. The 95% interval holds the
    true accuracy in about 95 of 100 trials (a little fewer: the seed part is a normal
    approximation of five seeds); without the binomial part it would in far fewer."""
    rng = np.random.default_rng(0)
    truth, seed_sd, trials, covered, covered_by_seeds_alone = 0.96, 0.002, 1000, 0, 0
    for _ in range(trials):
        test_set = rng.binomial(10_000, truth) / 10_000  # this test set's accuracy of the average seed
        found = AcrossSeeds("mlp_scaled", tuple(test_set + rng.normal(0, seed_sd, 5)), 10_000)
        low, high = found.interval
        covered += low <= truth <= high
        half = 1.959964 * found.seed_sd / np.sqrt(5)
        covered_by_seeds_alone += found.mean - half <= truth <= found.mean + half
    assert 0.90 <= covered / trials <= 0.99
    assert covered_by_seeds_alone / trials < 0.75


def test_the_share_of_seeds_counts_the_seeds_whose_improvement_is_real():
    y, better, worse = predictions(only_better=300, only_worse=100)
    real = compare(y, better, worse, better="cnn", worse="mlp_scaled")
    y, better, worse = predictions(only_better=105, only_worse=100)
    coin = compare(y, better, worse, better="cnn", worse="mlp_scaled")
    assert "on 2 of 3 seeds (67%)" in improvement_share([real, coin, real])
    assert "on 3 of 3 seeds (100%)" in improvement_share([real, real, real])
