"""Q3: predict() gives 10 probabilities per digit; the predicted digit is their argmax."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

pytestmark = pytest.mark.fast

#: float32 softmax: each of 10 terms carries a relative rounding error near 6e-8, so a row's
#: sum is 1 within about 1e-6; 1e-5 leaves room for backends' fused kernels and still fails any
#: output that is not normalised (a linear output layer's rows sum to anything).
ROW_SUM_TOLERANCE = 1e-5


@pytest.fixture(scope="module", params=["build_mlp", "build_cnn"])
def probabilities(request, ex, sample):
    X = ex.scale(sample[0][:100])
    model = getattr(ex, request.param)()
    if request.param == "build_cnn":
        X = ex.to_images(X)
    return model.predict(X, verbose=0)


def test_predict_gives_float_probabilities_of_shape_n_by_10(probabilities):
    assert probabilities.shape == (100, 10)
    assert probabilities.dtype.kind == "f"
    assert probabilities.min() >= 0 and probabilities.max() <= 1


def test_predicted_probabilities_of_each_digit_sum_to_one(probabilities):
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=ROW_SUM_TOLERANCE)


def test_predicted_digits_of_a_model_are_integers_0_to_9(ex, probabilities):
    digits = ex.predicted_digits(probabilities)
    assert digits.shape == (100,)
    assert digits.dtype.kind in "iu"
    assert set(np.unique(digits)) <= set(range(10))


def test_predicted_digit_of_a_one_hot_row_is_its_hot_column(ex):
    labels = np.array([3, 0, 9, 5, 5, 1])
    np.testing.assert_array_equal(ex.predicted_digits(np.eye(10)[labels]), labels)


def test_predicted_digits_reject_rows_that_are_not_10_probabilities(ex):
    with pytest.raises(ValueError, match="10"):
        ex.predicted_digits(np.ones((4, 9)) / 9)


probability_rows = arrays(
    np.float32,
    st.tuples(st.integers(1, 50), st.just(10)),
    elements=st.floats(0, 1, width=32),
)


@given(probability_rows)
def test_predicted_digit_is_the_argmax_of_its_row(ex, rows):
    digits = ex.predicted_digits(rows)
    assert digits.shape == (len(rows),)
    assert np.all(rows[np.arange(len(rows)), digits] == rows.max(axis=1))
    # ties go to the lowest digit, as numpy's argmax (and the exercise) does
    for row, digit in zip(rows, digits):
        assert digit == np.flatnonzero(row == row.max())[0]
