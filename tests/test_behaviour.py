"""Q2 and Q5 judged by what models compute (``mnist_checks.behaviour``): every spelling of the
exercise's model passes, every model that computes or trains otherwise is named, with a fix."""

import numpy as np
import pytest

from mnist_checks.architecture import output_shapes
from mnist_checks.behaviour import (
    accuracy_difference,
    compile_difference,
    exercise_model,
    fresh_weights_difference,
    loss_difference,
    model_difference,
    optimizer_difference,
    probability_difference,
    training_step_difference,
)
from mnist_checks.compat import KERAS_MAJOR, keras, set_seed

pytestmark = pytest.mark.fast
L = keras.layers


def mlp(*layers, input_shape=(784,)):
    model = keras.Sequential([keras.Input(shape=input_shape), *layers] if input_shape else list(layers))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


SAME_MLPS = {
    "the exercise's": lambda: mlp(L.Dense(32, activation="relu"), L.Dense(10, activation="softmax")),
    "without an Input": lambda: mlp(L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"),
                                    input_shape=None),
    "activations as layers": lambda: mlp(L.Dense(32), L.Activation("relu"), L.Dense(10), L.Softmax()),
    "a Flatten of flat rows first": lambda: mlp(L.Flatten(), L.Dense(32, activation="relu"),
                                                L.Dense(10, activation="softmax")),
    "a Dropout of rate 0": lambda: mlp(L.Dense(32, activation="relu"), L.Dropout(0.0),
                                       L.Dense(10, activation="softmax")),
}
OTHER_MLPS = {
    "a sigmoid hidden layer": (lambda: mlp(L.Dense(32, activation="sigmoid"), L.Dense(10, activation="softmax")),
                               "layer 1 is Dense(32, activation='sigmoid')"),
    "a Dropout": (lambda: mlp(L.Dense(32, activation="relu"), L.Dropout(0.2), L.Dense(10, activation="softmax")),
                  "Dropout(0.2), which changes what the model computes while it trains"),
    "relu capped at 6": (lambda: mlp(L.Dense(32), L.ReLU(max_value=6), L.Dense(10, activation="softmax")),
                         "layer 1 is Dense(32, activation='relu with max_value"),
    "64 hidden units": (lambda: mlp(L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")),
                        "write units=32"),
    "no softmax": (lambda: mlp(L.Dense(32, activation="relu"), L.Dense(10)), "write activation='softmax'"),
}


@pytest.mark.parametrize("name", sorted(SAME_MLPS))
def test_every_spelling_of_the_exercises_mlp_computes_what_it_computes(name):
    """An MLP spelled otherwise (no Input, activation layers, a no-op Flatten or Dropout(0)) is the exercise's."""
    set_seed(0)
    assert model_difference(SAME_MLPS[name](), "mlp") is None


@pytest.mark.parametrize("name", sorted(OTHER_MLPS))
def test_an_mlp_that_computes_or_trains_otherwise_is_named_with_its_fix(name):
    """An MLP that computes otherwise, or trains otherwise (a Dropout), is told the first layer that differs."""
    set_seed(0)
    build, says = OTHER_MLPS[name]
    difference = model_difference(build(), "mlp")
    assert difference is not None and says in difference, difference


def test_the_exercises_cnn_with_average_pooling_is_named():
    """A CNN whose pooling averages computes other outputs with the same weights: its layer is named."""
    model = exercise_model("cnn")
    assert model_difference(model, "cnn") is None
    layers = [L.AveragePooling2D((2, 2)) if type(layer).__name__ == "MaxPooling2D" else layer.__class__.from_config(
        layer.get_config()) for layer in model.layers]
    difference = model_difference(keras.Sequential([keras.Input(shape=(28, 28, 1)), *layers]), "cnn")
    assert difference is not None and "AveragePooling2D" in difference, difference


def test_the_models_own_weights_are_left_as_they_were():
    """Judging a model loads probe weights into it, then puts its own back."""
    model = SAME_MLPS["the exercise's"]()
    before = model.get_weights()
    model_difference(model, "mlp")
    for ours, theirs in zip(before, model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("optimizer", ["adam", "Adam", "adam object", "adam at 1e-3"])
def test_adam_however_spelled_steps_as_adam(optimizer):
    """'adam', Adam(), Adam(1e-3) all move weights as adam with its defaults."""
    spelled = {"adam": "adam", "Adam": "Adam", "adam object": keras.optimizers.Adam(),
               "adam at 1e-3": keras.optimizers.Adam(learning_rate=1e-3)}[optimizer]
    model = mlp(L.Dense(10, activation="softmax"))
    model.compile(optimizer=spelled, loss="sparse_categorical_crossentropy")
    assert optimizer_difference(model) is None


@pytest.mark.parametrize(("optimizer", "says"), [
    (lambda: keras.optimizers.Adam(epsilon=1.0), "epsilon=1.0"),
    (lambda: keras.optimizers.Adam(amsgrad=True), "amsgrad=True"),
    (lambda: keras.optimizers.Adam(0.01), "learning_rate"),
    (lambda: keras.optimizers.SGD(), "the optimizer is SGD"),
])
def test_an_optimizer_that_steps_otherwise_is_named(optimizer, says):
    """Any setting of adam other than its defaults, or another optimizer, is named with the fix."""
    model = mlp(L.Dense(10, activation="softmax"))
    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy")
    difference = optimizer_difference(model)
    assert difference is not None and says in difference and "optimizer='adam'" in difference, difference


@pytest.mark.parametrize("loss", ["string", "function", "object"])
def test_sparse_categorical_cross_entropy_however_spelled_is_the_loss(loss):
    """The loss as a string, Keras's function or a Loss object has the value of the exercise's."""
    spelled = {"string": "sparse_categorical_crossentropy", "function": keras.losses.sparse_categorical_crossentropy,
               "object": keras.losses.SparseCategoricalCrossentropy()}[loss]
    model = mlp(L.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss=spelled)
    assert loss_difference(model) is None


@pytest.mark.parametrize(("loss", "says"), [
    (lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True), "remove from_logits=True"),
    (lambda: "mse", "loss='sparse_categorical_crossentropy'"),
])
def test_a_loss_of_other_values_is_named(loss, says):
    """A loss for logits, or another loss, is named with the fix."""
    model = mlp(L.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss=loss())
    difference = loss_difference(model)
    assert difference is not None and says in difference, difference


def test_the_accuracy_is_found_under_any_name_and_only_by_its_value():
    """A metric is the accuracy when its value is; its name does not matter."""
    assert accuracy_difference({"loss": 0.3, "sparse_categorical_accuracy": 0.25}, 0.25) is None
    assert accuracy_difference({"loss": 0.3, "my_accuracy": 0.25}, 0.25) is None
    difference = accuracy_difference({"loss": 0.3, "accuracy": 0.9}, 0.25)
    assert difference is not None and "metrics=['accuracy']" in difference


def test_outputs_that_are_not_probabilities_say_to_add_a_softmax():
    """Rows that do not sum to one are told to end in a softmax."""
    assert probability_difference(np.full((3, 10), 0.1)) is None
    difference = probability_difference(np.full((3, 10), 0.5))
    assert difference is not None and "activation='softmax'" in difference


@pytest.mark.parametrize("name", sorted(SAME_MLPS))
def test_the_layers_of_every_spelling_output_32_then_10(name):
    """Layers without weights that keep their input's shape (a Flatten of flat rows, a Dropout)
    output no shape of the exercise's own: every spelling's layers output 32, then 10."""
    assert output_shapes(SAME_MLPS[name]() if name != "without an Input" else mlp(
        L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"))) == [(32,), (10,)]


# --- one training step (issue 30) ------------------------------------------------------------------

R, C = keras.regularizers, keras.constraints


def compiled(*layers, loss_weights=None, optimizer="adam"):
    model = keras.Sequential([keras.Input(shape=(784,)), *layers])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  loss_weights=loss_weights)
    return model


def hidden(**settings):
    return compiled(L.Dense(32, activation="relu", **settings), L.Dense(10, activation="softmax"))


#: Spellings that train exactly as the exercise's MLP: their step is its step.
SAME_STEPS = {
    "the exercise's": lambda: hidden(),
    "kernel_regularizer=None": lambda: hidden(kernel_regularizer=None),
    "l2(0.0)": lambda: hidden(kernel_regularizer=R.l2(0.0)),
    "loss_weights=[1.0]": lambda: compiled(L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"),
                                           loss_weights=[1.0]),
    "loss_weights=1.0": lambda: compiled(L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"),
                                         loss_weights=1.0),
    "activations as layers": lambda: compiled(L.Dense(32), L.ReLU(), L.Dense(10), L.Softmax()),
    "he_normal weights": lambda: hidden(kernel_initializer="he_normal"),
    "a max-norm that never binds": lambda: hidden(kernel_constraint=C.MaxNorm(1e6)),
    "adam with PyTorch's epsilon": lambda: compiled(L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"),
                                                    optimizer=keras.optimizers.Adam(epsilon=1e-8)),
}
#: Models whose outputs are the exercise's but whose training is not, and what the message names.
OTHER_STEPS = {
    "an L2 kernel penalty": (lambda: hidden(kernel_regularizer=R.l2(0.01)),
                             "layer 1 (Dense) has kernel_regularizer=L2(0.01), which the exercise's has not: "
                             "remove it"),
    "an L1 bias penalty": (lambda: hidden(bias_regularizer=R.l1(0.01)), "bias_regularizer=L1(0.01)"),
    "an activity penalty": (lambda: hidden(activity_regularizer=R.l2(0.01)), "activity_regularizer=L2(0.01)"),
    "a max-norm of 3": (lambda: hidden(kernel_constraint=C.MaxNorm(3)), "kernel_constraint=MaxNorm(max_value=3"),
    "non-negative output weights": (lambda: compiled(L.Dense(32, activation="relu"),
                                                     L.Dense(10, activation="softmax", kernel_constraint=C.NonNeg())),
                                    "layer 2 (Dense) has kernel_constraint=NonNeg()"),
    "a frozen hidden layer": (lambda: hidden(trainable=False), "layer 1 (Dense) is frozen (trainable=False)"),
    "the loss doubled": (lambda: compiled(L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"),
                                          loss_weights=[2.0]), "loss_weights=[2.0], which scales its loss"),
}


@pytest.mark.parametrize("name", sorted(SAME_STEPS))
def test_every_spelling_that_trains_alike_takes_the_exercises_step(name):
    """A neutral regularizer, loss weights of 1, another initializer or a constraint that never binds trains alike."""
    set_seed(0)
    assert training_step_difference(SAME_STEPS[name](), "mlp") is None


@pytest.mark.parametrize("name", sorted(OTHER_STEPS))
def test_a_model_that_trains_otherwise_is_told_the_setting_to_remove(name):
    """The same outputs with a regularizer, a constraint, a frozen layer or loss weights: the step names the setting."""
    build, says = OTHER_STEPS[name]
    set_seed(0)
    model = build()
    assert model_difference(model, "mlp") is None  # the same outputs: only the step can tell
    difference = training_step_difference(model, "mlp")
    assert difference is not None and says in difference, difference


def test_the_step_restores_the_models_weights():
    """After the step the model's weights are those it had: the claims after it see the model as built."""
    set_seed(0)
    model = hidden(kernel_regularizer=R.l2(0.01))
    before = model.get_weights()
    training_step_difference(model, "mlp")
    for found, expected in zip(model.get_weights(), before):
        np.testing.assert_array_equal(found, expected)


def test_the_cnn_with_a_penalty_on_its_dense_layer_is_told_so():
    """The step judges Q5's CNN as Q2's MLP: an L2 penalty on its Dense(64) is named."""
    set_seed(0)
    cnn = exercise_model("cnn")
    layers = [keras.Input(shape=(28, 28, 1))] + [
        L.Dense(64, activation="relu", kernel_regularizer=R.l2(0.001)) if getattr(layer, "units", None) == 64
        else layer for layer in cnn.layers]
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert training_step_difference(exercise_compiled("cnn"), "cnn") is None
    assert "kernel_regularizer=L2(0.001)" in (training_step_difference(model, "cnn") or "")


def exercise_compiled(which):
    model = exercise_model(which)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="Keras 2's third positional argument of compile is metrics")
def test_metrics_given_positionally_on_keras_3_are_told_keras_3s_order():
    """compile('adam', loss, ['acc']) on Keras 3 puts ['acc'] into loss_weights: the message names the order."""
    model = keras.Sequential([keras.Input(shape=(784,)), L.Dense(32, activation="relu"),
                              L.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["acc"])
    difference = compile_difference(model)
    assert "compile(optimizer, loss, loss_weights, metrics)" in difference and "write metrics=['acc']" in difference
    assert training_step_difference(model, "mlp") == difference


def test_fresh_weights_are_any_initializers_draws_and_never_constant_kernels():
    """Two builds with he_normal kernels are fresh; two with zeros kernels start the same and are told why."""
    set_seed(0)
    drawn = [hidden(kernel_initializer="he_normal").get_weights() for _ in range(2)]
    assert fresh_weights_difference(*drawn) is None
    constant = [hidden(kernel_initializer="zeros").get_weights() for _ in range(2)]
    difference = fresh_weights_difference(*constant)
    assert difference is not None and "initializer draws nothing" in difference


@pytest.mark.parametrize("name", ["a sigmoid hidden layer", "a Dropout", "64 hidden units"])
def test_a_model_that_computes_otherwise_is_charged_by_its_own_claim_not_by_the_step(name):
    """Other outputs, another layer, another size: model_difference says so; the step adds no second charge."""
    set_seed(0)
    model = OTHER_MLPS[name][0]()
    assert model_difference(model, "mlp") is not None
    assert training_step_difference(model, "mlp") is None
