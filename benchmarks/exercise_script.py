"""The exercise's own script, as students run it (Q1-Q5, plain fit, published settings).

Kept to time it side by side with ``pytest -m slow``:
``time python benchmarks/exercise_script.py ../shared/data/digits.csv.zip``. Like the exercise it
reads the zipped CSV with pandas, builds Q4's model from Q2's layers (warm start) and prints
Keras's progress; it trains three models, where the slow suite trains four (a fresh Q4 MLP too).
"""

import sys

import pandas as pd
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras import layers

# Q1
df = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else
                 "https://raw.githubusercontent.com/cinnData/MLearning/main/Data/digits.csv.zip")
y = df.iloc[:, 0].values
X = df.iloc[:, 1:].values
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=1 / 7, random_state=0)
print(y_test[0])

# Q2
net1 = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(32, activation="relu"),
                         layers.Dense(10, activation="softmax")])
net1.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
net1.fit(X_train, y_train, epochs=20, validation_data=(X_test, y_test), verbose=2)

# Q3
print(net1.predict(X_test[:5], verbose=0).argmax(axis=1))

# Q4: the exercise reuses net1's layers, so net2 starts from net1's weights
X = X / 255
X_train, X_test = train_test_split(X, test_size=1 / 7, random_state=0)
net2 = keras.Sequential([keras.Input(shape=(784,)), *net1.layers])
net2.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
net2.fit(X_train, y_train, epochs=20, validation_data=(X_test, y_test), verbose=2)

# Q5
X_train, X_test = X_train.reshape(60000, 28, 28, 1), X_test.reshape(10000, 28, 28, 1)
net3 = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
    layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax"),
])
net3.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
net3.fit(X_train, y_train, epochs=10, validation_data=(X_test, y_test), verbose=2)
