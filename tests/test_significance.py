"""Q4's and Q5's "real improvement" as a paired test (``mnist_checks.significance``): McNemar's
exact test on the digits only one of two models gets right (Dietterich, 1998)."""

from math import comb

import numpy as np
import pytest

from mnist_checks.significance import Comparison, compare

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
