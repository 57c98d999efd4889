# MNIST exercise in the style of Francois Chollet, "Deep Learning with Python"
# (1st edition, chapters 2 and 5): models.Sequential() + network.add(...),
# input_shape on the first layer, astype('float32') / 255.
from keras import layers
from keras import models
from sklearn.model_selection import train_test_split
import numpy as np


def split(*arrays, random_state=0):
    return train_test_split(*arrays, test_size=1/7, random_state=random_state)


def build_mlp():
    network = models.Sequential()
    network.add(layers.Dense(32, activation='relu', input_shape=(28 * 28,)))
    network.add(layers.Dense(10, activation='softmax'))
    network.compile(optimizer='adam',
                    loss='sparse_categorical_crossentropy',
                    metrics=['accuracy'])
    return network


def predicted_digits(probabilities):
    return probabilities.argmax(axis=1)


def scale(X):
    return X.astype('float32') / 255


def to_images(X):
    return X.reshape((len(X), 28, 28, 1))


def build_cnn():
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))
    model.compile(optimizer='adam',
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model
