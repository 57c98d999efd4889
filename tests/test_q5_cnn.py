"""Q5: a CNN on (28, 28, 1) images, 93,322 parameters."""

import numpy as np
import pytest

from mnist_checks import facts
from mnist_checks.compat import activation_name, learning_rate, optimizer_name, output_shapes

pytestmark = [pytest.mark.fast, pytest.mark.q5]


@pytest.fixture
def cnn(ex, seeded):
    return ex.build_cnn()


@pytest.fixture(scope="module")
def probabilities(ex, scaled_sample):
    return ex.build_cnn().predict(scaled_sample[0][:100].reshape(-1, 28, 28, 1), verbose=0)


def test_cnn_predicts_float_probabilities_of_shape_n_by_10(probabilities):
    assert probabilities.shape == (100, 10)
    assert probabilities.dtype.kind == "f"
    assert probabilities.min() >= 0 and probabilities.max() <= 1


def test_cnn_probabilities_of_each_digit_sum_to_one(probabilities):
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=facts.PROBABILITY_SUM_TOLERANCE)


def test_cnn_has_93322_parameters(cnn):
    assert cnn.count_params() == 93_322
    assert [layer.count_params() for layer in cnn.layers if layer.weights] == list(facts.CNN_LAYER_PARAMS)


def test_cnn_layer_outputs_shrink_from_26x26x32_to_10(cnn):
    assert output_shapes(cnn) == list(facts.CNN_OUTPUT_SHAPES)


def test_cnn_ends_in_a_softmax_over_10_digits(cnn):
    assert activation_name(cnn.layers[-1]) == "softmax"


def test_cnn_is_compiled_like_the_mlp(cnn, ex, scaled_sample):
    assert optimizer_name(cnn) == "adam"
    assert learning_rate(cnn) == pytest.approx(0.001)
    X, y = ex.to_images(scaled_sample[0][:32]), scaled_sample[1][:32]
    probabilities = cnn.predict(X, verbose=0)
    reported = cnn.evaluate(X, y, verbose=0, return_dict=True)
    assert reported["loss"] == pytest.approx(-np.mean(np.log(probabilities[np.arange(32), y])), rel=1e-4)
    assert reported["accuracy"] == pytest.approx(np.mean(probabilities.argmax(axis=1) == y))


def test_to_images_gives_n_by_28_by_28_by_1(ex, sample):
    assert ex.to_images(sample[0]).shape == (700, 28, 28, 1)


def test_to_images_is_row_major_like_mnist(ex, sample):
    """Pixel k of a row is image row k // 28, column k % 28."""
    X = sample[0]
    images = ex.to_images(X)
    k = np.arange(784)
    np.testing.assert_array_equal(images[:, k // 28, k % 28, 0], X)


def test_to_images_rejects_rows_that_are_not_784_pixels(ex):
    with pytest.raises(ValueError, match="784"):
        ex.to_images(np.zeros((3, 783)))


def test_every_cnn_build_has_fresh_weights(ex):
    first, second = ex.build_cnn(), ex.build_cnn()
    assert not any(a is b for a in first.weights for b in second.weights)
    assert not np.array_equal(first.get_weights()[0], second.get_weights()[0])
