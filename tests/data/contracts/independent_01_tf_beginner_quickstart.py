"""MNIST exercise, following the TensorFlow 2 "quickstart for beginners".

The quickstart starts from 28x28 images with ``Flatten(input_shape=(28, 28))``;
our data already comes as rows of 784 pixels, so the first Dense layer takes
``input_shape=(784,)`` directly.
"""
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split


def split(*arrays, random_state: int = 0) -> list:
    return train_test_split(*arrays, test_size=1/7, random_state=random_state)


def build_mlp():
    model = tf.keras.models.Sequential([
        tf.keras.layers.Dense(32, activation='relu', input_shape=(784,)),
        tf.keras.layers.Dense(10, activation='softmax')
    ])
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer='adam',
                  loss=loss_fn,
                  metrics=['accuracy'])
    return model


def predicted_digits(probabilities):
    return np.argmax(probabilities, axis=1)


def scale(X):
    return X / 255.0


def to_images(X):
    return X.reshape(-1, 28, 28, 1)


def build_cnn():
    model = tf.keras.models.Sequential([
        tf.keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation='relu'),
        tf.keras.layers.Dense(10, activation='softmax')
    ])
    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(),
                  metrics=['accuracy'])
    return model
