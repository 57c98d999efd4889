# MNIST exercise in the PyImageSearch style: network classes with a static
# build(width, height, depth, classes) method, `inputShape` variables, Dense /
# Conv2D followed by Activation layers, Adam from tensorflow.keras.optimizers,
# and the loss / metric given as Keras functions rather than strings.
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Activation, Conv2D, Dense, Flatten, MaxPooling2D
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.losses import sparse_categorical_crossentropy
from tensorflow.keras.metrics import sparse_categorical_accuracy
from sklearn.model_selection import train_test_split
import numpy as np


class ShallowMLP:
    @staticmethod
    def build(inputDim, hidden, classes):
        model = Sequential()
        model.add(Dense(hidden, input_shape=(inputDim,)))
        model.add(Activation("relu"))
        model.add(Dense(classes))
        model.add(Activation("softmax"))
        return model


class MiniConvNet:
    @staticmethod
    def build(width, height, depth, classes):
        inputShape = (height, width, depth)
        model = Sequential()
        # first CONV => RELU => POOL
        model.add(Conv2D(32, (3, 3), input_shape=inputShape))
        model.add(Activation("relu"))
        model.add(MaxPooling2D(pool_size=(2, 2), strides=(2, 2)))
        # second CONV => RELU => POOL
        model.add(Conv2D(64, (3, 3)))
        model.add(Activation("relu"))
        model.add(MaxPooling2D(pool_size=(2, 2), strides=(2, 2)))
        # third CONV => RELU
        model.add(Conv2D(64, (3, 3)))
        model.add(Activation("relu"))
        # FC => RELU
        model.add(Flatten())
        model.add(Dense(64))
        model.add(Activation("relu"))
        # softmax classifier
        model.add(Dense(classes))
        model.add(Activation("softmax"))
        return model


def split(*arrays, random_state=0):
    return train_test_split(*arrays, test_size=1 / 7, random_state=random_state)


def build_mlp():
    model = ShallowMLP.build(inputDim=784, hidden=32, classes=10)
    opt = Adam()
    model.compile(loss=sparse_categorical_crossentropy, optimizer=opt,
                  metrics=[sparse_categorical_accuracy])
    return model


def predicted_digits(probabilities):
    return probabilities.argmax(axis=1)


def scale(X):
    return X.astype("float") / 255.0


def to_images(X):
    return X.reshape((X.shape[0], 28, 28, 1))


def build_cnn():
    model = MiniConvNet.build(width=28, height=28, depth=1, classes=10)
    opt = Adam()
    model.compile(loss=sparse_categorical_crossentropy, optimizer=opt,
                  metrics=[sparse_categorical_accuracy])
    return model
