"""MNIST exercise in the style of keras.io's "Simple MNIST convnet" example (Keras 3).

``keras.Input`` as the first element of a Sequential list, keyword arguments
``kernel_size=(3, 3)`` / ``pool_size=(2, 2)``, float32 scaling and
``np.expand_dims`` for the channel axis.  (The example's Dropout is left out:
the assignment fixes the architecture.)
"""
import numpy as np
import keras
from keras import layers
from sklearn.model_selection import train_test_split

# Model / data parameters
num_classes = 10
input_shape = (28, 28, 1)


def split(*arrays, random_state: int = 0) -> list:
    return list(train_test_split(*arrays, test_size=1 / 7, random_state=random_state))


def build_mlp():
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def predicted_digits(probabilities):
    return np.argmax(probabilities, axis=-1)


def scale(X):
    # Scale images to the [0, 1] range
    return X.astype("float32") / 255


def to_images(X):
    x = X.reshape(-1, 28, 28)
    # Make sure images have shape (28, 28, 1)
    return np.expand_dims(x, -1)


def build_cnn():
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
