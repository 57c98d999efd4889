"""MNIST exercise in the style of the TensorFlow 2 "quickstart for experts".

The models are ``tf.keras.Model`` subclasses that create their layers in
``__init__`` and chain them in ``call``; they are built on first use.  As in
the quickstart the loss and metric are objects; unlike it, the last layer is a
softmax (so ``from_logits`` stays False) and training goes through compile/fit.
"""
import numpy as np
import tensorflow as tf
from tensorflow.keras import Model
from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from sklearn.model_selection import train_test_split


class MLP(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d1 = Dense(32, activation='relu')
        self.d2 = Dense(10, activation='softmax')

    def call(self, x):
        x = self.d1(x)
        return self.d2(x)


class CNN(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = Conv2D(32, 3, activation='relu')
        self.pool1 = MaxPooling2D(2)
        self.conv2 = Conv2D(64, 3, activation='relu')
        self.pool2 = MaxPooling2D(2)
        self.conv3 = Conv2D(64, 3, activation='relu')
        self.flatten = Flatten()
        self.d1 = Dense(64, activation='relu')
        self.d2 = Dense(10, activation='softmax')

    def call(self, x):
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = self.conv3(x)
        x = self.flatten(x)
        x = self.d1(x)
        return self.d2(x)


def split(*arrays, random_state=0):
    return train_test_split(*arrays, test_size=1/7, random_state=random_state)


def _compile(model):
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name='accuracy')])
    return model


def build_mlp():
    return _compile(MLP())


def predicted_digits(probabilities):
    return np.argmax(probabilities, axis=1)


def scale(X):
    return X / 255.0


def to_images(X):
    return X.reshape(-1, 28, 28, 1)


def build_cnn():
    return _compile(CNN())
