"""Which models may cross to Keras's JAX backend (``mnist_checks.jax_training``): those Keras can
write as its own config and read back as the same layers; the training itself is e2e
(``test_run.py``)."""

import pytest

from mnist_checks import exercise, jax_training
from mnist_checks.compat import KERAS_MAJOR, architecture, keras

pytestmark = pytest.mark.fast


def test_the_exercises_models_cross_as_keras_own_config_with_their_compile_settings():
    if KERAS_MAJOR < 3:
        pytest.skip("Keras 2 has no JAX backend")
    for model in (exercise.build_mlp(), exercise.build_cnn()):
        spec = jax_training.portable(model)
        back = keras.models.model_from_json(spec["model"])
        assert architecture(back) == architecture(model)
        assert spec["compile"]["optimizer"] is not None and spec["compile"]["loss"] is not None


def test_a_layer_keras_cannot_read_back_keeps_the_model_on_tensorflow():
    class Doubled(keras.layers.Layer):  # a student's own layer: not Keras's, not registered
        def call(self, x):
            return 2 * x

    model = keras.Sequential([keras.Input(shape=(784,)), Doubled(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(jax_training.Unportable, match="own config"):
        jax_training.portable(model)


def test_jax_can_be_turned_off(monkeypatch):
    monkeypatch.setenv(jax_training.ENV_JAX, "0")
    assert not jax_training.available()
