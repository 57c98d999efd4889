"""What a fork may cost the grader (``mnist_checks.grading.sandbox.budget``): replies bounded by their
call's arguments, models costed from their descriptions and refused above ``facts.MODEL_BUDGET``
before the checker builds a layer (issue 19)."""

import json
from math import prod

import numpy as np
import pytest

from mnist_checks import exercise, facts
from mnist_checks.compat import keras
from mnist_checks.grading.contract import INPUT_SHAPES
from mnist_checks.grading.sandbox import budget
from mnist_checks.grading.sandbox.description import Refused, describe, rebuild

pytestmark = pytest.mark.fast

L = keras.layers


def described(*layers, shape=None, earlier=None):
    """A description as the student server sends it: built on ``shape`` when given."""
    model = keras.Sequential(([keras.Input(shape)] if shape else []) + list(layers))
    spec, _ = describe(model, {} if earlier is None else earlier, 0)
    return json.loads(json.dumps(spec)), model


def test_the_exercises_models_cost_what_facts_says():
    cnn, _ = describe(exercise.build_cnn(), {}, 0, INPUT_SHAPES["build_cnn"])
    mlp, _ = describe(exercise.build_mlp(), {}, 1, INPUT_SHAPES["build_mlp"])
    cost, _ = budget.model_cost(cnn, INPUT_SHAPES["build_cnn"], {})
    assert cost == budget.Cost(facts.CNN_PARAMS, facts.CNN_ACTIVATIONS_PER_DIGIT * facts.BATCH_SIZE,
                               facts.CNN_MULTIPLY_ADDS_PER_DIGIT)
    assert budget.model_cost(mlp, INPUT_SHAPES["build_mlp"], {})[0].parameters == facts.MLP_PARAMS
    assert facts.CNN_ACTIVATIONS_PER_DIGIT == sum(prod(shape) for shape in facts.CNN_OUTPUT_SHAPES)


ZOO = {
    "conv strides, same padding, dilation, no bias": (
        (28, 28, 1), [L.Conv2D(8, (5, 3), strides=(2, 1), padding="same"), L.Conv2D(4, 3, dilation_rate=2,
                                                                                 use_bias=False)]),
    "average pooling with strides, same padding": (
        (28, 28, 3), [L.AveragePooling2D(3, strides=2, padding="same"), L.MaxPooling2D((2, 3)), L.Flatten()]),
    "dense on images, batch normalisation, rescaling": (
        (7, 7, 2), [L.Rescaling(1 / 255), L.Dense(5), L.BatchNormalization(), L.BatchNormalization(center=False)]),
    "reshape, activations, dropout": (
        (784,), [L.Reshape((28, 28, 1)), L.Conv2D(2, 3), L.ReLU(), L.Flatten(), L.Dropout(0.5), L.Dense(10),
                 L.Softmax()]),
}


@pytest.mark.parametrize("name", ZOO)
def test_a_models_parameters_and_shapes_follow_from_its_description_as_keras_counts_them(name):
    shape, layers = ZOO[name]
    spec, model = described(*layers, shape=shape)
    cost, _ = budget.model_cost(spec, shape, {})
    assert cost.parameters == model.count_params()
    outputs = sum(prod(layer.output.shape[1:]) for layer in model.layers)
    assert cost.activations == outputs * facts.BATCH_SIZE


def test_an_unbuilt_description_is_costed_on_the_questions_input():
    spec = {"kind": "model", "id": 0, "input_shape": None, "compile": None,
            "layers": [{"class": "Dense", "config": {"units": 32}}, {"class": "Dense", "config": {"units": 10}}]}
    assert budget.model_cost(spec, (784,), {})[0].parameters == facts.MLP_PARAMS


def mlp_of(units, *, input_shape=(784,)):
    return {"kind": "model", "id": 0, "input_shape": list(input_shape), "compile": None,
            "layers": [{"class": "Dense", "config": {"units": u}} for u in (*units, 10)]}


@pytest.mark.parametrize("units, what", [
    ((100_000, 100_000), "parameters"),  # ten billion weights: the hostile MLP of issue 19
    ((11_750,), "parameters"),  # 9,341,260: just over 100 times the CNN
])
def test_a_model_over_the_budget_is_refused_naming_the_budget(units, what):
    with pytest.raises(Refused) as refused:
        budget.check_model(mlp_of(units), (784,), {})
    message = str(refused.value)
    assert what in message and f"{facts.MODEL_BUDGET.parameters:,}" in message
    assert "100 times the exercise's CNN" in message


def test_a_model_just_within_the_budget_is_rebuilt():
    spec = mlp_of((11_700,))  # 9,301,510 parameters
    assert budget.check_model(spec, (784,), {}) and budget.model_cost(spec, (784,), {})[0].parameters == 9_301_510


@pytest.mark.parametrize("layer, what", [
    ({"class": "Conv2D", "config": {"filters": 100_000, "kernel_size": [3, 3]}}, "activations"),  # issue 19's
    ({"class": "Conv2D", "config": {"filters": 5_000, "kernel_size": [3, 3]}}, "multiply-adds per digit"),
    ({"class": "Conv2D", "config": {"filters": 6_000, "kernel_size": [1, 1], "padding": "same"}}, "activations"),
])
def test_a_convolution_over_the_budget_is_refused_by_what_it_exceeds(layer, what):
    spec = {"kind": "model", "id": 0, "input_shape": [28, 28, 1], "compile": None,
            "layers": [layer, {"class": "MaxPooling2D", "config": {"pool_size": [28, 28], "padding": "same"}},
                       {"class": "Flatten", "config": {}}, {"class": "Dense", "config": {"units": 10}}]}
    with pytest.raises(Refused, match=what):
        budget.check_model(spec, (28, 28, 1), {})


def test_a_layer_shared_with_an_earlier_build_is_costed_as_that_layer():
    first = budget.check_model(mlp_of((32,)), (784,), {})
    later = {"kind": "model", "id": 1, "input_shape": [784], "compile": None,
             "layers": [{"same_as": [0, 0]}, {"same_as": [0, 1]}]}
    assert budget.model_cost(later, (784,), {0: first})[0].parameters == facts.MLP_PARAMS
    with pytest.raises(Refused, match="never rebuilt"):
        budget.model_cost(later, (784,), {})


@pytest.mark.parametrize("layers, why", [
    ([{"class": "Conv2D", "config": {"filters": 4, "kernel_size": [3, 3]}}], "needs images"),
    ([{"class": "Reshape", "config": {"target_shape": [27, 27, 1]}}], "cannot reshape"),
])
def test_a_description_keras_could_not_build_is_refused_with_the_layer(layers, why):
    spec = {"kind": "model", "id": 0, "input_shape": [784], "compile": None, "layers": layers}
    with pytest.raises(Refused, match=f"layer 0 .*{why}"):
        budget.model_cost(spec, (784,), {})


def test_a_refused_description_allocates_nothing_in_the_checker():
    """The budget runs before ``rebuild``: a ten-billion-weight description is refused in
    microseconds, where building it would take tens of GB."""
    spec = mlp_of((100_000, 100_000))
    with pytest.raises(Refused):
        budget.check_model(spec, (784,), {})
    built = {}
    rebuild(spec | {"input_shape": None}, [], built)  # the unbuilt model: Keras allocates nothing yet
    assert built[0][0].built is False


def test_each_calls_reply_is_bounded_by_its_arguments():
    X, y = np.zeros((70_000, 784), np.uint8), np.zeros(70_000, np.uint8)
    given = (X.size + y.size) * budget.FLOAT64
    assert budget.reply_bound("split", (X, y), {})[0] == 2 * given + budget.HEADERS_BYTES
    assert budget.reply_bound("scale", (X,), {})[0] == 2 * X.size * 8 + budget.HEADERS_BYTES
    probabilities = np.zeros((10_000, 10), np.float32)
    bound, why = budget.reply_bound("predicted_digits", (probabilities,), {})
    assert bound == 10_000 * 8 + probabilities.size * 8 + budget.HEADERS_BYTES and "10,000" in why
    bound, why = budget.reply_bound("build_cnn", (), {})
    assert bound == facts.MODEL_BUDGET.parameters * 8 + budget.HEADERS_BYTES
    assert budget.reply_bound("split", (list(range(7)),), {})[0] == 2 * 7 * 8 + budget.HEADERS_BYTES


def test_the_students_rules_and_the_grading_page_state_the_budget_as_facts_has_it():
    budget_ = facts.MODEL_BUDGET
    figures = [f"{budget_.parameters:,}", f"{budget_.activations:,}", f"{budget_.multiply_adds:,}"]
    root = __import__("pathlib").Path(exercise.__file__).resolve().parent.parent
    rules = (root / "docs" / "starter-README.md").read_text().replace("\n  ", " ")
    assert all(figure in rules for figure in figures)
    assert f"{budget_.times_cnn} times the exercise's CNN" in rules.replace("\n", " ")
    assert f"{budget_.parameters:,}" in (root / "docs" / "grading.md").read_text()
