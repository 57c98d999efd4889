"""Models as validated descriptions: what the student server sends for a model, and what the
checker rebuilds from it (``mnist_checks.grading.sandbox.description``), in this process."""

import json

import numpy as np
import pytest

from mnist_checks import exercise
from mnist_checks.compat import keras, set_seed
from mnist_checks.grading.sandbox import allowlists
from mnist_checks.grading.sandbox.description import Refused, describe, rebuild, validate

pytestmark = pytest.mark.fast


def round_trip(*models):
    """Describe models as the server does, send them through JSON, rebuild them as the checker does."""
    earlier, built, rebuilt = {}, {}, []
    for model_id, model in enumerate(models):
        spec, weights = describe(model, earlier, model_id)
        rebuilt.append(rebuild(json.loads(json.dumps(spec)), weights, built))
    return rebuilt


def layer_summary(model):
    return [(type(layer).__name__,
             {k: v for k, v in layer.get_config().items() if k in allowlists.LAYERS[type(layer).__name__]})
            for layer in model.layers]


@pytest.mark.parametrize("builder", ["build_mlp", "build_cnn"])
def test_the_reference_models_rebuild_identical_from_their_descriptions(builder, scaled_sample):
    set_seed(0)
    model = getattr(exercise, builder)()
    (copy,) = round_trip(model)
    assert layer_summary(copy) == layer_summary(model)
    assert copy.count_params() == model.count_params()
    for ours, theirs in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert type(copy.optimizer).__name__ == "Adam" and copy.loss == "sparse_categorical_crossentropy"
    X = scaled_sample[0][:16].reshape((-1, *model.inputs[0].shape[1:]))
    np.testing.assert_allclose(copy.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_a_functional_model_with_an_explicit_input_rebuilds_like_the_sequential_one():
    inputs = keras.Input(shape=(784,))
    hidden = keras.layers.Dense(32, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="digits")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["acc"])
    (copy,) = round_trip(model)
    assert [type(layer).__name__ for layer in copy.layers] == ["Dense", "Dense"]
    assert copy.count_params() == 25_450
    assert type(copy.loss).__name__ == "SparseCategoricalCrossentropy"


def test_a_layer_shared_between_two_builds_stays_shared_after_rebuilding():
    """The exercise's warm start: a second model on the first one's layer objects."""
    first = exercise.build_mlp()
    second = keras.Sequential([keras.Input(shape=(784,)), *first.layers])
    a, b = round_trip(first, second)
    assert all(x is y for x, y in zip(a.layers, b.layers))
    fresh_a, fresh_b = round_trip(exercise.build_mlp(), exercise.build_mlp())
    assert not any(x is y for x, y in zip(fresh_a.layers, fresh_b.layers))


class Subclassed(keras.Model):
    def call(self, x):
        return x


def branching():
    inputs = keras.Input(shape=(784,))
    left, right = keras.layers.Dense(10)(inputs), keras.layers.Dense(10)(inputs)
    return keras.Model(inputs, keras.layers.Add()([left, right]))


@pytest.mark.parametrize(("build", "named"), [
    (lambda: keras.Sequential([keras.Input(shape=(784,)), keras.layers.Lambda(lambda x: x)]), "Lambda"),
    (lambda: keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation=lambda x: 2 * x)]),
     "activation"),
    (Subclassed, "subclassed"),
    (branching, "chain"),
])
def test_models_that_carry_code_or_branch_are_refused_naming_what(build, named):
    with pytest.raises(Refused, match=named):
        round_trip(build())


def _activation_spellings():
    import tensorflow as tf

    spellings = {"a string": "relu", "keras.activations": keras.activations.relu, "tf.nn": tf.nn.relu,
                 "a function of the same values": lambda x: tf.maximum(x, 0.0)}
    if hasattr(keras, "ops"):
        spellings["keras.ops"] = keras.ops.relu
    return spellings


@pytest.mark.parametrize("spelling", sorted(_activation_spellings()))
def test_an_activation_however_spelled_is_described_by_its_name(spelling):
    """relu as a string, Keras's or TensorFlow's function, or any function of relu's values is
    described as 'relu' (and tf.nn.softmax, TensorFlow's softmax_v2, as 'softmax'): no code crosses."""
    import tensorflow as tf

    hidden = keras.layers.Dense(32, activation=_activation_spellings()[spelling])
    model = keras.Sequential([keras.Input(shape=(784,)), hidden, keras.layers.Dense(10, activation=tf.nn.softmax)])
    spec, _ = describe(model, {}, 0)
    assert [layer["config"]["activation"] for layer in spec["layers"]] == ["relu", "softmax"]
    validate(json.loads(json.dumps(spec)))


def test_a_function_activation_is_described_and_read_without_keras_warning_of_a_lambda():
    """An activation is read from the layer itself, never from Keras's serialized configuration:
    a lambda activation (named by its values, or refused) brings no warning about serializing a
    lambda into the student's output."""
    import warnings

    import tensorflow as tf

    from mnist_checks.architecture import architecture

    for activation in (lambda x: tf.maximum(x, 0.0), lambda x: 2 * x):
        model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation=activation)])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            describe(model, {}, 0)
            architecture(model)


def test_an_unbuilt_model_is_described_built_on_the_contracts_input_shape():
    """A model without an Input (the exercise's own style) is built on the builder's input shape,
    as its first fit() would build it, so its initial weights cross with it."""
    model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    spec, weights = describe(model, {}, 0, (784,))
    assert spec["input_shape"] == [784]
    assert [w.shape for w in weights] == [(784, 32), (32,), (32, 10), (10,)]
    (copy,) = [rebuild(json.loads(json.dumps(spec)), weights, {})]
    assert copy.count_params() == 25_450


@pytest.mark.parametrize("metric", ["object", "function"])
def test_losses_and_metrics_given_as_functions_or_objects_are_described_and_rebuilt(metric):
    """A loss function, a metric object or a metric function (the TensorFlow tutorials' idioms)
    is described by name or class and rebuilt with the checker's own."""
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])
    spelled = {"object": keras.metrics.SparseCategoricalAccuracy(),
               "function": keras.metrics.sparse_categorical_accuracy}[metric]
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.sparse_categorical_crossentropy,
                  metrics=[spelled])
    spec, weights = describe(model, {}, 0)
    assert len(spec["compile"]["metrics"]) == 1
    copy = rebuild(json.loads(json.dumps(spec)), weights, {})
    X, y = np.eye(784, dtype=np.float32)[:20], np.arange(20) % 10
    results = copy.evaluate(X, y, verbose=0, return_dict=True)
    expected = np.mean(copy.predict(X, verbose=0).argmax(axis=1) == y)
    assert [name for name, value in results.items() if name != "loss" and value == pytest.approx(expected)]


def described_mlp():
    spec, weights = describe(exercise.build_mlp(), {}, 0)
    return json.loads(json.dumps(spec)), weights


@pytest.mark.parametrize(("edit", "named"), [
    (lambda d: d["layers"][0].update({"class": "Lambda"}), "Lambda"),
    (lambda d: d["layers"][0]["config"].update(kernel_initializer={"class_name": "Custom"}), "kernel_initializer"),
    (lambda d: d["layers"][0]["config"].update(units="32; import os"), "units"),
    (lambda d: d["layers"][0]["config"].update(activation="eval"), "activation"),
    (lambda d: d["compile"]["optimizer"].update({"class": "Evil"}), "optimizer"),
    (lambda d: d["compile"].update(loss="os.system"), "loss"),
    (lambda d: d["compile"].update(metrics=[{"class": "Custom", "config": {}}]), "metric"),
    (lambda d: d["layers"][0]["config"].update(kernel_regularizer={"class": "Evil", "config": {}}),
     "kernel_regularizer"),
    (lambda d: d["layers"][0]["config"].update(kernel_constraint={"class": "MaxNorm", "config": {"code": "x"}}),
     "kernel_constraint"),
    (lambda d: d["layers"][0]["config"].update(kernel_regularizer={"unsupported": "MyPenalty"}),
     "kernel_regularizer MyPenalty is none of Keras's regularizers"),
    (lambda d: d["compile"].update(loss_weights=["os.system"]), "loss_weights"),
    (lambda d: d["compile"].update(loss_weights=[1.0, 2.0]), "one loss weight"),
    (lambda d: d["layers"].append({"same_as": [41, 0]}), "never rebuilt"),
    (lambda d: d.update(input_shape=[784, "x"]), "input shape"),
    (lambda d: d.update(layers=[d["layers"][0]] * 100), "at most"),
])
def test_crafted_descriptions_are_refused_naming_what(edit, named):
    spec, weights = described_mlp()
    edit(spec)
    with pytest.raises(Refused, match=named):
        rebuild(spec, weights, {})


def test_weights_of_the_wrong_shapes_are_refused():
    spec, weights = described_mlp()
    with pytest.raises(Refused, match="shapes"):
        rebuild(spec, [w.T for w in weights], {})


def test_a_valid_description_passes_validation():
    validate(described_mlp()[0])


R, C = keras.regularizers, keras.constraints


def test_what_training_uses_is_carried_and_rebuilt_so_the_step_is_judged_in_the_checker():
    """Regularizers, constraints, a frozen layer, an initializer and loss_weights cross as data;
    the rebuilt model trains as the fork's model does, so the checker's step check sees them."""
    from mnist_checks.behaviour import training_step_difference

    set_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(32, activation="relu", kernel_regularizer=R.l2(0.01), bias_regularizer=R.l1(0.001),
                           kernel_constraint=C.MaxNorm(3), kernel_initializer="he_normal", trainable=False),
        keras.layers.Dense(10, activation="softmax", activity_regularizer=R.L1L2(l1=0.01, l2=0.02)),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], loss_weights=[2.0])
    (copy,) = round_trip(model)
    hidden, output = copy.layers
    assert (type(hidden.kernel_regularizer).__name__, float(hidden.kernel_regularizer.get_config()["l2"])) == (
        "L2", pytest.approx(0.01))
    assert type(hidden.bias_regularizer).__name__ == "L1" and type(hidden.kernel_constraint).__name__ == "MaxNorm"
    assert hidden.kernel_constraint.get_config()["max_value"] == 3 and not hidden.trainable
    assert type(hidden.kernel_initializer).__name__ == "HeNormal"
    assert type(output.activity_regularizer).__name__ == "L1L2"
    assert copy.get_compile_config()["loss_weights"] == [2.0]
    for ours, theirs in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert training_step_difference(copy, "mlp") == training_step_difference(model, "mlp") is not None


def test_a_custom_regularizer_or_constraint_is_refused_by_name():
    """A regularizer or constraint of the fork's own class carries code: refused, named, with the rule."""

    class Penalty(R.Regularizer):
        def __call__(self, x):
            return 0.0

    class Clip(C.Constraint):
        def __call__(self, w):
            return w

    for settings, named in (({"kernel_regularizer": Penalty()}, "kernel_regularizer Penalty"),
                            ({"kernel_constraint": Clip()}, "kernel_constraint Clip")):
        model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax", **settings)])
        with pytest.raises(Refused, match=named) as refused:
            round_trip(model)
        assert "carries code, which the grader never runs" in str(refused.value)


def test_a_custom_initializer_is_named_and_accepted_since_its_weights_cross():
    """An initializer of the fork's own ran in the fork: its weights cross as arrays, its code never."""

    def ones(shape, dtype=None):
        return np.ones(shape, dtype="float32")

    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, kernel_initializer=ones)])
    spec, weights = describe(model, {}, 0)
    assert spec["layers"][0]["config"]["kernel_initializer"] == {"custom": "function"}
    copy = rebuild(json.loads(json.dumps(spec)), weights, {})
    np.testing.assert_array_equal(copy.get_weights()[0], np.ones((784, 10)))


def test_an_optimizers_training_settings_cross_so_none_is_dropped_unseen():
    """A moving average of weights (both Keras versions) or Keras 3's gradient accumulation is
    carried and rebuilt: the rebuilt optimizer steps as the fork's does."""
    from mnist_checks.behaviour import optimizer_difference
    from mnist_checks.compat import KERAS_MAJOR

    settings = {"use_ema": True, "ema_momentum": 0.9}
    if KERAS_MAJOR >= 3:
        settings["gradient_accumulation_steps"] = 4
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(**settings), loss="sparse_categorical_crossentropy")
    (copy,) = round_trip(model)
    config = copy.optimizer.get_config()
    assert {key: config[key] for key in settings} == settings
    assert optimizer_difference(copy) == optimizer_difference(model)
    if KERAS_MAJOR >= 3:  # accumulated gradients move weights otherwise: told, in the grader as at home
        assert "gradient_accumulation_steps=4" in optimizer_difference(copy)
