"""The exercise as code: exactly the functions a student writes for Q1-Q5.

This module is the contract.  Student forks reimplement it with the same names and signatures,
and the spec tests check any implementation of it.  Model builders return a fresh, compiled
model on every call: no layer objects are shared between models (the exercise's own Q4 reuses
the first model's layers and so warm-starts the second model; see ``mnist_checks.run``).
Solution bodies sit between ``# BEGIN SOLUTION`` and ``# END SOLUTION``: ``mnist-checks starter``
replaces each with ``raise NotImplementedError`` to make the students' starter.

Rules the grader applies (the starter's README says more):

- Any spelling Keras accepts: ``keras``, ``tensorflow.keras`` or ``tf.keras``; a Sequential list,
  ``add`` or the functional API; an ``Input``, ``input_shape=`` or none (the model is built on
  (784,) or (28, 28, 1) as ``fit()`` would); activations, losses, optimizers and metrics as
  strings, functions or objects.  Models are judged by what they compute with the same weights.
- Fresh weights: every build makes new layer objects, so no two models share a weight.
- Refused, because it carries code the grader never runs: a ``Lambda`` layer, a custom layer or
  activation, a subclassed ``keras.Model``.  Build from Keras's standard layers.
- Refused, because the grader would have to build it: a model over ``facts.MODEL_BUDGET`` (100
  times the exercise's CNN in parameters and activations, 10 times in compute).  Replies are
  bounded by their arguments: ``split``, ``scale`` and ``to_images`` return at most the arrays
  they were given (in float64), ``predicted_digits`` one integer per row.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from .compat import keras
from .facts import IMAGE_SHAPE, N_CLASSES, N_PIXELS, SPLIT_RANDOM_STATE, SPLIT_TEST_SIZE

#: Compile settings of every model in the exercise (Q2, Q4, Q5).
OPTIMIZER = "adam"
LOSS = "sparse_categorical_crossentropy"
METRICS = ["accuracy"]  # a list: Keras 3 rejects the exercise's string 'acc'


def split(*arrays, random_state: int = SPLIT_RANDOM_STATE) -> list:
    """Q1: split rows into 6/7 train and 1/7 test, like ``train_test_split(..., test_size=1/7)``.

    ``split(X, y)`` returns ``[X_train, X_test, y_train, y_test]``; ``split(X)`` returns
    ``[X_train, X_test]`` with the same rows for the same ``random_state`` (Q4 relies on it).
    """
    # BEGIN SOLUTION
    # stratify=None: the exercise's split is purely random, so the rows depend on the seed alone.
    return train_test_split(*arrays, test_size=SPLIT_TEST_SIZE, random_state=random_state)
    # END SOLUTION


def build_mlp() -> "keras.Model":
    """Q2: a fresh, compiled MLP ``Dense(32, relu) -> Dense(10, softmax)`` on 784 pixels."""
    # BEGIN SOLUTION
    model = keras.Sequential(
        [
            keras.Input(shape=(N_PIXELS,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model
    # END SOLUTION


def predicted_digits(probabilities) -> np.ndarray:
    """Q3: the predicted digit of each row of ``predict()``'s (n, 10) probabilities: its argmax."""
    # BEGIN SOLUTION
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != N_CLASSES:
        raise ValueError(f"expected probabilities of shape (n, {N_CLASSES}), got {probabilities.shape}")
    return probabilities.argmax(axis=1)
    # END SOLUTION


def scale(X) -> np.ndarray:
    """Q4: grey levels 0..255 divided by 255 into [0, 1]: a new float array of the same shape
    (``X`` itself is left unchanged; float32 or float64, as the exercise's ``X/255`` gives)."""
    # BEGIN SOLUTION
    return np.asarray(X, dtype=np.float32) / np.float32(255)
    # END SOLUTION


def to_images(X) -> np.ndarray:
    """Q5: rows of 784 pixels reshaped to (n, 28, 28, 1) images, row-major as in MNIST."""
    # BEGIN SOLUTION
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != N_PIXELS:
        raise ValueError(f"expected rows of {N_PIXELS} pixels, shape (n, {N_PIXELS}); got {X.shape}")
    return X.reshape((-1, *IMAGE_SHAPE))
    # END SOLUTION


def build_cnn() -> "keras.Model":
    """Q5: a fresh, compiled CNN on (28, 28, 1) images, 93,322 parameters."""
    # BEGIN SOLUTION
    model = keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model
    # END SOLUTION
