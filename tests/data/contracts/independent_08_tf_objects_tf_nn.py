"""MNIST exercise in the TF 1.x/2.0 ``tf.keras`` tutorial style.

``activation=tf.nn.relu`` / ``tf.nn.softmax`` (the original "Train your first
neural network" tutorial), everything as objects: ``tf.keras.optimizers.Adam()``,
``tf.keras.losses.SparseCategoricalCrossentropy()`` and
``tf.keras.metrics.SparseCategoricalAccuracy()``; tensors converted back to
NumPy with ``.numpy()``.
"""
import tensorflow as tf
from sklearn.model_selection import train_test_split


def split(*arrays, random_state: int = 0) -> list:
    parts = train_test_split(*arrays, test_size=1/7, random_state=random_state)
    return list(parts)


def _compile(model):
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
    return model


def build_mlp():
    model = tf.keras.Sequential([
        tf.keras.layers.InputLayer(shape=(784,)),
        tf.keras.layers.Dense(32, activation=tf.nn.relu),
        tf.keras.layers.Dense(10, activation=tf.nn.softmax),
    ])
    return _compile(model)


def predicted_digits(probabilities):
    return tf.argmax(probabilities, axis=1).numpy()


def scale(X):
    return (tf.cast(X, tf.float32) / 255.0).numpy()


def to_images(X):
    return tf.reshape(X, [-1, 28, 28, 1]).numpy()


def build_cnn():
    model = tf.keras.Sequential([
        tf.keras.layers.InputLayer(shape=(28, 28, 1)),
        tf.keras.layers.Conv2D(32, (3, 3), activation=tf.nn.relu),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Conv2D(64, (3, 3), activation=tf.nn.relu),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Conv2D(64, (3, 3), activation=tf.nn.relu),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation=tf.nn.relu),
        tf.keras.layers.Dense(10, activation=tf.nn.softmax),
    ])
    return _compile(model)
