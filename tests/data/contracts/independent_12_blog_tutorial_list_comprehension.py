# MNIST exercise in the style of beginner blog / YouTube tutorials
# ("Handwritten digit classification with TensorFlow"): `from tensorflow import
# keras`, keras.Sequential([...]) with input_shape on the first Dense layer,
# predicted labels via a list comprehension of np.argmax, and len(X) reshapes.
import numpy as np
import tensorflow as tf
from tensorflow import keras
from sklearn.model_selection import train_test_split


def split(*arrays, random_state=0):
    result = train_test_split(*arrays, test_size=1/7, random_state=random_state)
    return result


def build_mlp():
    model = keras.Sequential([
        keras.layers.Dense(32, input_shape=(784,), activation='relu'),
        keras.layers.Dense(10, activation='softmax')
    ])

    model.compile(
        optimizer='adam',
        loss='sparse_categorical_crossentropy',
        metrics=['accuracy']
    )
    return model


def predicted_digits(probabilities):
    y_predicted_labels = [np.argmax(i) for i in probabilities]
    return np.array(y_predicted_labels)


def scale(X):
    X_scaled = X / 255
    return X_scaled


def to_images(X):
    return X.reshape(len(X), 28, 28, 1)


def build_cnn():
    cnn = keras.Sequential([
        keras.layers.Conv2D(filters=32, kernel_size=(3, 3), activation='relu', input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),

        keras.layers.Conv2D(filters=64, kernel_size=(3, 3), activation='relu'),
        keras.layers.MaxPooling2D((2, 2)),

        keras.layers.Conv2D(filters=64, kernel_size=(3, 3), activation='relu'),

        keras.layers.Flatten(),
        keras.layers.Dense(64, activation='relu'),
        keras.layers.Dense(10, activation='softmax')
    ])

    cnn.compile(optimizer='adam',
                loss='sparse_categorical_crossentropy',
                metrics=['accuracy'])
    return cnn
