# MNIST exercise in the style of popular Kaggle "Digit Recognizer" notebooks:
# `from keras.models import Sequential`, `MaxPool2D`, `padding='valid'` spelled
# out, `X / 255.0` and `.reshape(-1, 28, 28, 1)` that also accept pandas
# data frames through np.asarray, and an Adam optimizer object with its
# default learning rate written out.
import numpy as np
from keras.models import Sequential
from keras.layers import Dense, Conv2D, MaxPool2D, Flatten
from keras.optimizers import Adam
from sklearn.model_selection import train_test_split as tts


def split(*arrays, random_state=0):
    return tts(*arrays, test_size=1/7, random_state=random_state)


def build_mlp():
    model = Sequential()
    model.add(Dense(units=32, activation='relu', input_shape=(784,)))
    model.add(Dense(units=10, activation='softmax'))
    optimizer = Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def predicted_digits(probabilities):
    # Convert predictions classes to one hot vectors -> back to labels
    Y_pred_classes = np.argmax(probabilities, axis=1)
    return Y_pred_classes


def scale(X):
    # Normalize the data
    return np.asarray(X) / 255.0


def to_images(X):
    # Reshape image in 3 dimensions (height = 28px, width = 28px , canal = 1)
    return np.asarray(X).reshape(-1, 28, 28, 1)


def build_cnn():
    model = Sequential()
    model.add(Conv2D(filters=32, kernel_size=(3, 3), padding='valid',
                     activation='relu', input_shape=(28, 28, 1)))
    model.add(MaxPool2D(pool_size=(2, 2)))
    model.add(Conv2D(filters=64, kernel_size=(3, 3), padding='valid',
                     activation='relu'))
    model.add(MaxPool2D(pool_size=(2, 2)))
    model.add(Conv2D(filters=64, kernel_size=(3, 3), padding='valid',
                     activation='relu'))
    model.add(Flatten())
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    optimizer = Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
