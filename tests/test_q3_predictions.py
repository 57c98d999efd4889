"""Q3: the predicted digit is the argmax of predict()'s 10 probabilities.

That the models' probabilities lie in [0, 1] and sum to one is their softmax output layer's
claim, checked with each model (Q2, Q5), so that a wrong model costs its own question's points."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

pytestmark = [pytest.mark.fast, pytest.mark.q3]


def softmax_rows(n: int, seed: int = 0) -> np.ndarray:
    """``n`` rows of 10 probabilities as a softmax output layer gives them."""
    logits = np.random.default_rng(seed).normal(size=(n, 10)).astype(np.float32)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_predicted_digits_of_softmax_rows_are_integers_0_to_9(contract):
    """predicted_digits gives one integer digit 0..9 per row of 10 probabilities."""
    digits = contract.predicted_digits(softmax_rows(100))
    assert digits.shape == (100,)
    assert digits.dtype.kind in "iu"
    assert set(np.unique(digits)) <= set(range(10))


def test_predicted_digit_of_a_one_hot_row_is_its_hot_column(contract):
    """predicted_digits of a row that is 1 in column k and 0 elsewhere is k."""
    labels = np.array([3, 0, 9, 5, 5, 1])
    np.testing.assert_array_equal(contract.predicted_digits(np.eye(10)[labels]), labels)


probability_rows = arrays(
    np.float32,
    st.tuples(st.integers(1, 50), st.just(10)),
    elements=st.floats(0, 1, width=32),
)


@given(probability_rows)
def test_predicted_digit_is_the_argmax_of_its_row(contract, rows):
    """predicted_digits gives each row's argmax: its most probable digit, the lowest one on a tie."""
    digits = contract.predicted_digits(rows)
    assert digits.shape == (len(rows),)
    assert np.all(rows[np.arange(len(rows)), digits] == rows.max(axis=1))
    # ties go to the lowest digit, as numpy's argmax (and the exercise) does
    for row, digit in zip(rows, digits):
        assert digit == np.flatnonzero(row == row.max())[0]
