# MNIST exercise in the older Keras blog-post style (Keras 1/2 era examples such
# as mnist_mlp.py): `from keras.models import Sequential`, `input_dim=784`,
# linear Dense layers followed by separate Activation layers, an Adam()
# optimizer object.
import numpy as np
from keras.models import Sequential
from keras.layers import Dense, Activation, Conv2D, MaxPooling2D, Flatten
from keras.optimizers import Adam
from sklearn.model_selection import train_test_split


def split(*arrays, random_state=0):
    return train_test_split(*arrays, test_size=1.0 / 7, random_state=random_state)


def build_mlp():
    model = Sequential()
    model.add(Dense(32, input_dim=784))
    model.add(Activation('relu'))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    model.compile(loss='sparse_categorical_crossentropy',
                  optimizer=Adam(),
                  metrics=['accuracy'])
    return model


def predicted_digits(probabilities):
    return np.argmax(probabilities, axis=1).astype(int)


def scale(X):
    X = X.astype('float32')
    X /= 255
    return X


def to_images(X):
    return X.reshape(X.shape[0], 28, 28, 1)


def build_cnn():
    model = Sequential()
    model.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, (3, 3)))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, (3, 3)))
    model.add(Activation('relu'))
    model.add(Flatten())
    model.add(Dense(64))
    model.add(Activation('relu'))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    model.compile(loss='sparse_categorical_crossentropy',
                  optimizer=Adam(),
                  metrics=['accuracy'])
    return model
