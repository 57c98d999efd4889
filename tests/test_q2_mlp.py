"""Q2: the MLP Dense(32, relu) -> Dense(10, softmax), adam, sparse categorical cross-entropy."""

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

pytestmark = [pytest.mark.fast, pytest.mark.q2]
ROWS = (facts.N_PIXELS,)


def new_mlp(contract):
    """A model of build_mlp, built on rows of 784 pixels as its first fit() would build it."""
    return built(contract.build_mlp(), ROWS)


@pytest.fixture
def mlp(contract, seeded):
    return new_mlp(contract)


@pytest.fixture(scope="module")
def probabilities(contract, scaled_sample):
    return contract.build_mlp().predict(scaled_sample[0][:100], verbose=0)


def test_mlp_predicts_float_probabilities_of_shape_n_by_10(probabilities):
    """build_mlp's model predicts 10 float probabilities in [0, 1] per digit."""
    assert probabilities.shape == (100, 10), (
        f"predict() gave shape {probabilities.shape}: the last layer is Dense(10, activation='softmax')")
    assert probabilities.dtype.kind == "f"
    assert probabilities.min() >= 0 and probabilities.max() <= 1, (
        f"predict() gave values from {probabilities.min():.4g} to {probabilities.max():.4g}, not probabilities: "
        "give the last layer activation='softmax'")


def test_mlp_probabilities_of_each_digit_sum_to_one(probabilities):
    """build_mlp's model gives each digit 10 probabilities that sum to one."""
    difference = probability_difference(probabilities)
    assert difference is None, difference


def test_mlp_has_25450_parameters_25120_plus_330(mlp):
    """build_mlp's model has 25,450 parameters: 25,120 in its hidden layer and 330 in its output layer."""
    assert [layer.count_params() for layer in mlp.layers if layer.weights] == list(facts.MLP_LAYER_PARAMS)
    assert mlp.count_params() == facts.MLP_PARAMS


def test_mlp_layer_outputs_are_32_then_10(mlp):
    """build_mlp's layers output 32 and then 10 values per digit."""
    assert output_shapes(mlp) == list(facts.MLP_OUTPUT_SHAPES)


@pytest.mark.behaviour
def test_mlp_computes_what_dense_32_relu_then_dense_10_softmax_computes(mlp):
    """build_mlp's model computes what Dense(32, relu) then Dense(10, softmax) computes.

    Q2's architecture judged by what it computes, however it is spelled: given the same weights,
    it gives the exercise's model's outputs on probe pixels, at inference and in training."""
    difference = model_difference(mlp, "mlp")
    assert difference is None, difference


def test_mlp_optimizer_steps_as_adam_with_its_defaults(mlp):
    """build_mlp's model is compiled with adam at its defaults (learning rate 0.001).

    Judged by what it does: from a fresh copy, five steps on probe gradients move the weights
    exactly as adam's do."""
    difference = optimizer_difference(mlp)
    assert difference is None, difference


def test_mlp_loss_is_sparse_categorical_cross_entropy(mlp, scaled_sample):
    """build_mlp's model is compiled with sparse categorical cross-entropy on probabilities.

    The compiled loss of probe labels and probabilities is the mean of -log p(true digit), and
    what Keras reports for the model equals it over integer labels."""
    difference = loss_difference(mlp) or compile_difference(mlp)
    assert difference is None, difference
    X, y = scaled_sample[0][:64], scaled_sample[1][:64]
    probabilities = mlp.predict(X, verbose=0)
    expected = -np.mean(np.log(probabilities[np.arange(len(y)), y]))
    reported = mlp.evaluate(X, y, verbose=0, return_dict=True)["loss"]
    assert reported == pytest.approx(expected, rel=1e-4)


def test_mlp_reports_accuracy_of_its_predicted_digits(mlp, scaled_sample):
    """build_mlp's model reports accuracy: the share of digits whose most probable class is their label.

    Under whatever name it was compiled with (``'accuracy'``, ``'acc'``, a metric object)."""
    difference = compile_difference(mlp)
    assert difference is None, difference
    X, y = scaled_sample[0][:64], scaled_sample[1][:64]
    reported = mlp.evaluate(X, y, verbose=0, return_dict=True)
    difference = accuracy_difference(reported, float(np.mean(mlp.predict(X, verbose=0).argmax(axis=1) == y)))
    assert difference is None, difference


def test_mlp_takes_the_exercises_training_step(mlp):
    """build_mlp's model trains as the exercise's: one step from the same weights gives the same loss and weights.

    Q2's training judged by what it does: a regularizer, a constraint, a frozen layer or
    loss_weights change training without changing outputs; from the same weights, one
    train_on_batch on a probe batch reports the exercise's loss and leaves its weights."""
    difference = training_step_difference(mlp, "mlp")
    assert difference is None, difference


def test_every_mlp_build_has_fresh_weights(contract):
    """build_mlp builds a new model with new weights on every call.

    Newly drawn (by any initializer that draws: Keras's default glorot_uniform, he_normal, ...),
    and two builds share no variables: changing one's weights leaves the other's untouched."""
    first, second = new_mlp(contract), new_mlp(contract)
    before = [w.copy() for w in second.get_weights()]
    difference = fresh_weights_difference(first.get_weights(), before)
    assert difference is None, difference
    first.set_weights([w + 1 for w in first.get_weights()])
    for weight, original in zip(second.get_weights(), before):
        np.testing.assert_array_equal(weight, original, err_msg=(
            "changing one build's weights changed another's: the builds share layer objects; make new layers "
            "in every call"))


def test_mlp_weights_are_reproducible_for_a_fixed_seed(contract):
    """build_mlp gives the same initial weights after the same seed."""
    from mnist_checks.compat import set_seed

    set_seed(7, contract)
    first = new_mlp(contract).get_weights()
    set_seed(7, contract)
    second = new_mlp(contract).get_weights()
    assert [w.shape for w in first] == [w.shape for w in second] != []
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
