"""MNIST exercise written for Keras 3 as multi-backend code.

``import keras`` only (no ``tensorflow`` import), ``keras.ops`` for argmax,
reshape and division, ``keras.ops.convert_to_numpy`` to hand back NumPy arrays;
``model.add(keras.Input(...))``; explicit ``Adam(learning_rate=1e-3)`` (the
default) and the metric given by its full name.
"""
import keras
import numpy as np
from keras import ops
from sklearn import model_selection as ms


def split(*arrays, random_state: int = 0) -> list:
    return ms.train_test_split(*arrays, test_size=1 / 7, random_state=random_state)


def build_mlp() -> keras.Model:
    model = keras.Sequential(name="mlp")
    model.add(keras.Input(shape=(784,)))
    model.add(keras.layers.Dense(32, activation=keras.activations.relu))
    model.add(keras.layers.Dense(10, activation=keras.activations.softmax))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def predicted_digits(probabilities) -> np.ndarray:
    return ops.convert_to_numpy(ops.argmax(probabilities, axis=-1))


def scale(X) -> np.ndarray:
    return ops.convert_to_numpy(ops.divide(ops.cast(X, "float32"), 255.0))


def to_images(X) -> np.ndarray:
    return ops.convert_to_numpy(ops.reshape(X, (-1, 28, 28, 1)))


def build_cnn() -> keras.Model:
    model = keras.Sequential(name="cnn")
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(keras.layers.Conv2D(32, (3, 3), activation="relu"))
    model.add(keras.layers.MaxPooling2D((2, 2)))
    model.add(keras.layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(keras.layers.MaxPooling2D((2, 2)))
    model.add(keras.layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["sparse_categorical_accuracy"],
    )
    return model
