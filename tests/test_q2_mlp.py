"""Q2: the MLP Dense(32, relu) -> Dense(10, softmax), adam, sparse categorical cross-entropy."""

import numpy as np
import pytest

from mnist_checks import facts
from mnist_checks.compat import accuracy_of, architecture, learning_rate, loss_settings, optimizer_name, output_shapes

pytestmark = [pytest.mark.fast, pytest.mark.q2]


@pytest.fixture
def mlp(contract, seeded):
    return contract.build_mlp()


@pytest.fixture(scope="module")
def probabilities(contract, scaled_sample):
    return contract.build_mlp().predict(scaled_sample[0][:100], verbose=0)


def test_mlp_predicts_float_probabilities_of_shape_n_by_10(probabilities):
    """build_mlp's model predicts 10 float probabilities in [0, 1] per digit."""
    assert probabilities.shape == (100, 10)
    assert probabilities.dtype.kind == "f"
    assert probabilities.min() >= 0 and probabilities.max() <= 1


def test_mlp_probabilities_of_each_digit_sum_to_one(probabilities):
    """build_mlp's model gives each digit 10 probabilities that sum to one."""
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=facts.PROBABILITY_SUM_TOLERANCE)


def test_mlp_has_25450_parameters_25120_plus_330(mlp):
    """build_mlp's model has 25,450 parameters: 25,120 in its hidden layer and 330 in its output layer."""
    assert [layer.count_params() for layer in mlp.layers if layer.weights] == list(facts.MLP_LAYER_PARAMS)
    assert mlp.count_params() == facts.MLP_PARAMS


def test_mlp_layer_outputs_are_32_then_10(mlp):
    """build_mlp's layers output 32 and then 10 values per digit."""
    assert output_shapes(mlp) == list(facts.MLP_OUTPUT_SHAPES)


def test_mlp_is_dense_32_relu_then_dense_10_softmax_layer_by_layer(mlp):
    """build_mlp's model is Dense(32, relu) then Dense(10, softmax), with biases.

    Q2's architecture: each layer's class, units, activation and bias, however it is built."""
    assert architecture(mlp) == [(kind, dict(settings)) for kind, settings in facts.MLP_ARCHITECTURE]


def test_mlp_is_compiled_with_adam_at_its_default_learning_rate(mlp):
    """build_mlp's model is compiled with adam at its default learning rate 0.001."""
    assert optimizer_name(mlp) == "adam"
    assert learning_rate(mlp) == pytest.approx(facts.ADAM_LEARNING_RATE)


def test_mlp_loss_is_sparse_categorical_cross_entropy(mlp, scaled_sample):
    """build_mlp's model is compiled with sparse categorical cross-entropy on probabilities.

    The loss is sparse categorical cross-entropy on probabilities (not logits), and what Keras
    reports equals the mean of -log p(true digit) over integer labels."""
    assert loss_settings(mlp) == ("sparse_categorical_crossentropy", False)
    X, y = scaled_sample[0][:64], scaled_sample[1][:64]
    probabilities = mlp.predict(X, verbose=0)
    expected = -np.mean(np.log(probabilities[np.arange(len(y)), y]))
    reported = mlp.evaluate(X, y, verbose=0, return_dict=True)["loss"]
    assert reported == pytest.approx(expected, rel=1e-4)


def test_mlp_reports_accuracy_of_its_predicted_digits(mlp, scaled_sample):
    """build_mlp's model reports accuracy: the share of digits whose most probable class is their label."""
    X, y = scaled_sample[0][:64], scaled_sample[1][:64]
    reported = mlp.evaluate(X, y, verbose=0, return_dict=True)
    expected = np.mean(mlp.predict(X, verbose=0).argmax(axis=1) == y)
    assert accuracy_of(reported) == pytest.approx(expected)


def test_every_mlp_build_has_fresh_weights(contract, scaled_sample):
    """build_mlp builds a new model with new weights on every call.

    Two builds share no variables: training one leaves the other untouched."""
    first, second = contract.build_mlp(), contract.build_mlp()
    before = [w.copy() for w in second.get_weights()]
    assert not np.array_equal(first.get_weights()[0], before[0])
    X, y = scaled_sample[0][:32], scaled_sample[1][:32]
    first.train_on_batch(X, y)
    for weight, original in zip(second.get_weights(), before):
        np.testing.assert_array_equal(weight, original)


def test_mlp_weights_are_reproducible_for_a_fixed_seed(contract):
    """build_mlp gives the same initial weights after the same seed."""
    from mnist_checks.compat import set_seed

    set_seed(7, contract)
    first = contract.build_mlp().get_weights()
    set_seed(7, contract)
    second = contract.build_mlp().get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
