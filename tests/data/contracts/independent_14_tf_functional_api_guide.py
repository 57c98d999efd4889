"""MNIST exercise in the style of the TensorFlow/Keras "Functional API" guide.

``inputs = keras.Input(shape=(784,))``, named models, ``x.reshape(60000, 784)
.astype("float32") / 255``-style preprocessing, and compile with
``keras.losses.SparseCategoricalCrossentropy()``, ``keras.optimizers.Adam()``
and ``metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")]``.
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
import sklearn.model_selection


def split(*arrays, random_state=0):
    return sklearn.model_selection.train_test_split(
        *arrays, test_size=1 / 7, random_state=random_state
    )


def _compile(model):
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def build_mlp():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(32, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_mlp")
    return _compile(model)


def predicted_digits(probabilities):
    return np.argmax(probabilities, axis=1)


def scale(X):
    return (X / 255).astype("float32")


def to_images(X):
    return X.reshape(X.shape[0], 28, 28)[..., np.newaxis]


def build_cnn():
    inputs = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="mnist_cnn")
    return _compile(model)
