"""Rebuild ``mnist_sample.npz``: 600 training and 100 test digits of real MNIST, in Keras's layout.

Run once from the project's root with the full data set at hand:
``python tests/data/make_sample.py ../shared/data/mnist.npz``.  The rows are drawn with a fixed
seed and kept in MNIST's order; ``index_train``/``index_test`` record where each came from.
"""

import sys
from pathlib import Path

import numpy as np

from mnist_checks.data import read_digits

N_TRAIN, N_TEST, SEED = 600, 100, 2024

X, y = read_digits(sys.argv[1])
rng = np.random.default_rng(SEED)
train = np.sort(rng.choice(60_000, N_TRAIN, replace=False))
test = np.sort(rng.choice(10_000, N_TEST, replace=False))
np.savez_compressed(
    Path(__file__).with_name("mnist_sample.npz"),
    x_train=X[train].reshape(-1, 28, 28),
    y_train=y[train],
    x_test=X[60_000 + test].reshape(-1, 28, 28),
    y_test=y[60_000 + test],
    index_train=train,
    index_test=test,
)
