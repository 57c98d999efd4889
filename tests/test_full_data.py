"""The full data set's facts: the configured or downloaded copy is MNIST, and Q1's split of it
gives what the exercise prints.  Needs the full data set, so it runs with ``-m slow``."""

import numpy as np
import pytest

from mnist_checks import data, facts

pytestmark = pytest.mark.slow


def test_full_data_is_70000_digits_of_784_grey_levels(digits):
    X, y = digits
    assert X.shape == (70_000, 784) and X.dtype == np.uint8
    assert y.shape == (70_000,)
    assert X.max() == 255 and X.min() == 0


def test_full_data_matches_mnists_fingerprints(digits):
    X, y = digits
    assert data.sha256_of(X[:60_000]) == facts.ARRAY_SHA256["x_train"]
    assert data.sha256_of(X[60_000:]) == facts.ARRAY_SHA256["x_test"]
    assert tuple(y[:10]) == facts.FIRST_TRAIN_LABELS
    assert tuple(y[60_000:60_010]) == facts.FIRST_TEST_LABELS
    assert tuple(np.bincount(y[:60_000])) == facts.TRAIN_LABEL_COUNTS


@pytest.mark.q1
def test_exercise_split_gives_60000_and_10000_with_y_test_0_equal_to_0(contract, digits):
    """split of the full MNIST gives 60,000 and 10,000 digits, and y_test[0] == 0 as the exercise prints."""
    X_train, X_test, y_train, y_test = contract.split(*digits)
    assert (len(X_train), len(X_test)) == (60_000, 10_000)
    assert y_test[0] == facts.SPLIT_FIRST_TEST_LABEL


def test_every_file_in_the_data_directory_holds_the_same_digits(digits):
    """Both layouts of the configured directory (mnist.npz, digits.csv.zip) agree row for row:
    each file other than the one the session's digits were read from is read once, here."""
    source = data.locate()
    files = [source.parent / name for name in data.KNOWN_FILES
             if (source.parent / name).is_file() and source.parent / name != source]
    for path in files:
        X, y = data.load_digits(path)
        np.testing.assert_array_equal(X, digits[0], err_msg=str(path))
        np.testing.assert_array_equal(y, digits[1], err_msg=str(path))
