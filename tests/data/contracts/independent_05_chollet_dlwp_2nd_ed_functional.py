"""MNIST exercise in the style of Chollet, "Deep Learning with Python", 2nd edition.

Chapter 8 builds the MNIST convnet with the functional API: ``keras.Input``,
layers called on tensors, ``keras.Model(inputs=inputs, outputs=outputs)``,
``kernel_size=3`` and ``pool_size=2`` as plain integers.
"""
import numpy as np
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras import layers


def split(*arrays, random_state: int = 0) -> list:
    return train_test_split(*arrays, test_size=1 / 7, random_state=random_state)


def build_mlp():
    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dense(32, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(features)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def predicted_digits(probabilities):
    return probabilities.argmax(axis=-1)


def scale(X):
    return X.astype("float32") / 255


def to_images(X):
    return X.reshape((X.shape[0], 28, 28, 1))


def build_cnn():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
