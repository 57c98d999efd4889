"""MNIST exercise in the style of the TensorFlow "Convolutional Neural Network (CNN)" tutorial.

The tutorial builds the convolutional base with ``model.add`` and then adds the
Dense layers on top.  It ends with a linear Dense(10) and ``from_logits=True``;
here the last layer is a softmax, so the loss is computed on probabilities.
"""
import numpy as np
import tensorflow as tf
from sklearn import model_selection
from tensorflow.keras import layers, models


def split(*arrays, random_state=0):
    return model_selection.train_test_split(*arrays, test_size=1/7,
                                            random_state=random_state)


def build_mlp():
    model = models.Sequential()
    model.add(layers.Dense(32, activation='relu', input_shape=(784,)))
    model.add(layers.Dense(10, activation='softmax'))

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=False),
                  metrics=['accuracy'])
    return model


def predicted_digits(probabilities):
    return np.argmax(probabilities, axis=-1)


def scale(X):
    # Normalize pixel values to be between 0 and 1
    return X / 255.0


def to_images(X):
    return X.reshape((X.shape[0], 28, 28, 1))


def build_cnn():
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))

    # Add Dense layers on top
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=False),
                  metrics=['accuracy'])
    return model
