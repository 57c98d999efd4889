"""Q3: the predicted digit is the argmax of predict()'s 10 probabilities.

That the models' probabilities lie in [0, 1] and sum to one is their softmax output layer's
claim, checked with each model (Q2, Q5), so that a wrong model costs its own question's points."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mnist_checks import facts

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


def _softmax_with_one_maximum(logits: np.ndarray) -> np.ndarray:
    """Softmax rows of ``logits`` whose first largest logit is raised by 0.01: one maximum, at
    least 1% above the next probability (no tie, whatever the rounding)."""
    logits = logits.astype(np.float64)
    logits[np.arange(len(logits)), logits.argmax(axis=1)] += 0.01
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


#: Rows that ``predict()`` can return: softmax rows of logits, each with one clear maximum
#: (exact ties and denormal near-ties, which argmax functions break differently, are not rows a
#: softmax layer gives).
probability_rows = arrays(
    np.float32, st.tuples(st.integers(1, 50), st.just(facts.N_CLASSES)), elements=st.floats(-30, 30, width=32),
).map(_softmax_with_one_maximum)


@given(probability_rows)
def test_predicted_digit_is_the_argmax_of_its_row(contract, rows):
    """predicted_digits gives each row's argmax: its most probable digit."""
    digits = np.asarray(contract.predicted_digits(rows))
    assert digits.shape == (len(rows),)
    np.testing.assert_array_equal(digits, rows.argmax(axis=1), err_msg="predicted_digits(rows) is not rows' argmax")
