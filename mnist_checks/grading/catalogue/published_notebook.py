"""The exercise as published, handed in as a notebook (``mnist_checks/exercise.ipynb``).

Its own code cells, ``In [1]`` to ``In [18]`` of the published IPython transcript, verbatim: the
data loading, the prints, ``fit`` and ``summary()`` calls, ``X = X/255`` and ``metrics='acc'``
(a string Keras 3 rejects: the builder leaves these top-level cells out, so they stay as
published). Its headings are markdown cells, and after each question's cells come the cells that
answer it: the contract's functions, with ``variants.published``'s bodies (which write
``metrics=['acc']``). ``mnist-checks mutants`` grades it as a correct variant: every point kept.
"""

from __future__ import annotations

#: The exercise's code cells, In [1] to In [18], as published (prompts and outputs left out).
CODE_CELLS = (
    # In [1]
    "import numpy as np, pandas as pd\n"
    "path = 'https://raw.githubusercontent.com/cinnData/MLearning/main/Data/'\n"
    "df = pd.read_csv(path + 'digits.csv.zip')",
    # In [2]
    "y = df.iloc[:, 0].values\n"
    "X = df.iloc[:, 1:].values",
    # In [3]
    "from sklearn import model_selection\n"
    "X_train, X_test, y_train, y_test = model_selection.train_test_split(X, y, test_size=1/7, random_state=0)",
    # In [4] to In [9]
    "from tensorflow.keras import models, layers",
    "net1 = [layers.Dense(32, activation='relu'), layers.Dense(10, activation='softmax')]",
    "clf1 = models.Sequential(net1)",
    "clf1.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='acc')",
    "clf1.fit(X_train, y_train, epochs=20, validation_data=(X_test, y_test));",
    "clf1.summary()",
    # In [10], In [11]
    "clf1.predict(X_test[:1, :])",
    "y_test[0]",
    # In [12] to In [14]
    "X = X/255",
    "X_train, X_test = model_selection.train_test_split(X, test_size=1/7, random_state=0)",
    "clf2 = models.Sequential(net1)\n"
    "clf2.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='acc')\n"
    "clf2.fit(X_train, y_train, epochs=20, validation_data=(X_test, y_test));",
    # In [15] to In [18]
    "Z_train, Z_test = X_train.reshape(60000, 28, 28, 1), X_test.reshape(10000, 28, 28, 1)",
    "net2 = [layers.Conv2D(32, (3, 3), activation='relu'),\n"
    "    layers.MaxPooling2D((2, 2)),\n"
    "    layers.Conv2D(64, (3, 3), activation='relu'), \n"  # the trailing space is the exercise's
    "    layers.MaxPooling2D((2, 2)),\n"
    "    layers.Conv2D(64, (3, 3), activation='relu'),\n"
    "    layers.Flatten(),\n"
    "    layers.Dense(64, activation='relu'),\n"
    "    layers.Dense(10, activation='softmax')]",
    "clf3 = models.Sequential(net2)\n"
    "clf3.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='acc')\n"
    "clf3.fit(Z_train, y_train, epochs=10, validation_data=(Z_test, y_test));",
    "clf3.summary()",
)

#: The exercise's sections, in order: a heading, the In [n] cells under it, the functions answering it.
SECTIONS = (
    ("# [ML-10E2] Deep learning examples", (), ()),
    ("## Introduction", (), ()),
    ("## Questions", (), ()),
    ("## Importing the data", (1,), ()),
    ("## Target vector and feature matrix", (2,), ()),
    ("## Q1. Train-test split", (3,), ("split",)),
    ("## Q2. MLP model", (4, 5, 6, 7, 8, 9), ("build_mlp",)),
    ("## Q3. Prediction with a MLP network", (10, 11), ("predicted_digits",)),
    ("## Q4. Rescaling the data", (12, 13, 14), ("scale",)),
    ("## Q5. Convolutional neural network", (15, 16, 17, 18), ("to_images", "build_cnn")),
)


def published_notebook():
    """The notebook: each section's heading, its In [n] cells (numbered so), then its answers."""
    import nbformat.v4 as v4

    from .variants import published_functions

    answers = published_functions()
    cells = []
    for heading, steps, functions in SECTIONS:
        cells.append(v4.new_markdown_cell(heading))
        cells += [v4.new_code_cell(CODE_CELLS[step - 1], execution_count=step) for step in steps]
        cells += [v4.new_code_cell(answers[function].rstrip("\n")) for function in functions]
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook
