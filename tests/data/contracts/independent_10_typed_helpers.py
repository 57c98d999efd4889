"""MNIST exercise written as a small typed module with helper functions.

Module-level constants only (never layer objects); a layer-factory helper and
a shared ``_compile`` helper; ``numpy.typing`` annotations.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import train_test_split
from tensorflow.keras import Model, Sequential, layers

N_PIXELS: int = 28 * 28
IMAGE_SHAPE: tuple[int, int, int] = (28, 28, 1)
N_CLASSES: int = 10
TEST_FRACTION: float = 1 / 7


def split(*arrays: npt.ArrayLike, random_state: int = 0) -> list:
    """Train/test split with 1/7 of the rows held out."""
    return train_test_split(*arrays, test_size=TEST_FRACTION, random_state=random_state)


def _compile(model: Model) -> Model:
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _classifier_head(hidden_units: int) -> list[layers.Layer]:
    return [
        layers.Dense(hidden_units, activation="relu"),
        layers.Dense(N_CLASSES, activation="softmax"),
    ]


def _conv_block(filters: Sequence[int]) -> list[layers.Layer]:
    stack: list[layers.Layer] = []
    for i, f in enumerate(filters):
        stack.append(layers.Conv2D(f, (3, 3), activation="relu"))
        if i < len(filters) - 1:
            stack.append(layers.MaxPooling2D((2, 2)))
    return stack


def build_mlp() -> Model:
    model = Sequential([layers.Input(shape=(N_PIXELS,)), *_classifier_head(32)])
    return _compile(model)


def predicted_digits(probabilities: npt.ArrayLike) -> np.ndarray:
    return np.asarray(probabilities).argmax(axis=1)


def scale(X: np.ndarray) -> np.ndarray:
    return np.divide(X, 255.0, dtype=np.float32)


def to_images(X: np.ndarray) -> np.ndarray:
    return np.reshape(np.asarray(X), (-1, *IMAGE_SHAPE), order="C")


def build_cnn() -> Model:
    model = Sequential(
        [layers.Input(shape=IMAGE_SHAPE), *_conv_block([32, 64, 64]), layers.Flatten(), *_classifier_head(64)]
    )
    return _compile(model)
