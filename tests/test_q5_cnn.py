"""Q5: a CNN on (28, 28, 1) images, 93,322 parameters."""

import numpy as np
import pytest

from mnist_checks import facts
from mnist_checks.architecture import output_shapes
from mnist_checks.behaviour import (
    accuracy_difference,
    compile_difference,
    fresh_weights_difference,
    loss_difference,
    model_difference,
    optimizer_difference,
    probability_difference,
    training_step_difference,
)
from mnist_checks.compat import built

pytestmark = [pytest.mark.fast, pytest.mark.q5]


def new_cnn(contract):
    """A model of build_cnn, built on (28, 28, 1) images as its first fit() would build it."""
    return built(contract.build_cnn(), facts.IMAGE_SHAPE)


@pytest.fixture
def cnn(contract, seeded):
    return new_cnn(contract)


@pytest.fixture(scope="module")
def probabilities(contract, scaled_sample):
    return contract.build_cnn().predict(scaled_sample[0][:100].reshape(-1, 28, 28, 1), verbose=0)


def test_cnn_predicts_float_probabilities_of_shape_n_by_10(probabilities):
    """build_cnn's model predicts 10 float probabilities in [0, 1] per image."""
    assert probabilities.shape == (100, 10), (
        f"predict() gave shape {probabilities.shape}: the last layer is Dense(10, activation='softmax')")
    assert probabilities.dtype.kind == "f"
    assert probabilities.min() >= 0 and probabilities.max() <= 1, (
        f"predict() gave values from {probabilities.min():.4g} to {probabilities.max():.4g}, not probabilities: "
        "give the last layer activation='softmax'")


def test_cnn_probabilities_of_each_digit_sum_to_one(probabilities):
    """build_cnn's model gives each image 10 probabilities that sum to one."""
    difference = probability_difference(probabilities)
    assert difference is None, difference


def test_cnn_has_93322_parameters(cnn):
    """build_cnn's model has 93,322 parameters, layer by layer as the exercise's summary prints them."""
    assert cnn.count_params() == facts.CNN_PARAMS
    assert [layer.count_params() for layer in cnn.layers if layer.weights] == list(facts.CNN_LAYER_PARAMS)


def test_cnn_layer_outputs_shrink_from_26x26x32_to_10(cnn):
    """build_cnn's layers output 26x26x32, 13x13x32, 11x11x64, 5x5x64, 3x3x64, 576, 64 and 10 values."""
    assert output_shapes(cnn) == list(facts.CNN_OUTPUT_SHAPES)


@pytest.mark.behaviour
def test_cnn_computes_what_the_exercises_convolutions_pooling_and_dense_layers_compute(cnn):
    """build_cnn's model computes what the exercise's 3x3 convolutions, 2x2 max poolings and Dense layers compute.

    Q5's architecture judged by what it computes, however it is spelled: given the same weights,
    it gives the exercise's model's outputs on probe images, at inference and in training."""
    difference = model_difference(cnn, "cnn")
    assert difference is None, difference


def test_cnn_is_compiled_like_the_mlp(cnn, scaled_sample):
    """build_cnn's model is compiled like the MLP: adam at its defaults, sparse categorical cross-entropy, accuracy."""
    for difference in (optimizer_difference(cnn), loss_difference(cnn), compile_difference(cnn)):
        assert difference is None, difference
    X, y = scaled_sample[0][:32].reshape(-1, *facts.IMAGE_SHAPE), scaled_sample[1][:32]
    probabilities = cnn.predict(X, verbose=0)
    reported = cnn.evaluate(X, y, verbose=0, return_dict=True)
    assert reported["loss"] == pytest.approx(-np.mean(np.log(probabilities[np.arange(32), y])), rel=1e-4)
    difference = accuracy_difference(reported, float(np.mean(probabilities.argmax(axis=1) == y)))
    assert difference is None, difference


def test_to_images_gives_n_by_28_by_28_by_1(contract, sample):
    """to_images turns n rows of 784 pixels into n images of 28x28x1."""
    assert contract.to_images(sample[0]).shape == (700, 28, 28, 1)


def test_to_images_is_row_major_like_mnist(contract, sample):
    """to_images puts pixel k of a row at image row k // 28, column k % 28, as MNIST stores them.

    Pixel k of a row is image row k // 28, column k % 28."""
    X = sample[0]
    images = contract.to_images(X)
    k = np.arange(784)
    np.testing.assert_array_equal(images[:, k // 28, k % 28, 0], X)


def test_cnn_takes_the_exercises_training_step(cnn):
    """build_cnn's model trains as the exercise's: one step from the same weights gives the same loss and weights.

    Q5's training judged by what it does, as Q2's: regularizers, constraints, frozen layers and
    loss_weights show in one train_on_batch from the same weights on probe images."""
    difference = training_step_difference(cnn, "cnn")
    assert difference is None, difference


def test_every_cnn_build_has_fresh_weights(contract):
    """build_cnn builds a new model with new weights on every call.

    Newly drawn by any initializer that draws; two builds share no variables."""
    first, second = new_cnn(contract), new_cnn(contract)
    assert not any(a is b for a in first.weights for b in second.weights), (
        "two builds share weights: make new layers in every call")
    difference = fresh_weights_difference(first.get_weights(), second.get_weights())
    assert difference is None, difference
