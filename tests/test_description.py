"""Models as validated descriptions: what the student server sends for a model, and what the
checker rebuilds from it (``mnist_checks.grading.description``), in this process."""

import json

import numpy as np
import pytest

from mnist_checks import exercise
from mnist_checks.compat import keras, set_seed
from mnist_checks.grading import description
from mnist_checks.grading.description import Refused, describe, rebuild, validate

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
             {k: v for k, v in layer.get_config().items() if k in description.LAYERS[type(layer).__name__]})
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
