"""Q1: 70,000 rows split into 60,000 train / 10,000 test with train_test_split(test_size=1/7)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.fast, pytest.mark.q1]

ROWS = np.arange(70_000)


def test_split_of_70000_rows_is_60000_train_and_10000_test(contract):
    """split of 70,000 rows gives 60,000 train and 10,000 test rows, X and y alike."""
    X_train, X_test, y_train, y_test = contract.split(ROWS, ROWS % 10)
    assert (len(X_train), len(X_test), len(y_train), len(y_test)) == (60_000, 10_000, 60_000, 10_000)


def test_split_is_deterministic_for_a_fixed_random_state(contract):
    """split gives the same rows for the same random_state, and other rows for another."""
    first = contract.split(ROWS, random_state=0)
    again = contract.split(ROWS, random_state=0)
    other = contract.split(ROWS, random_state=1)
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


def test_split_by_default_is_the_exercises_train_test_split_with_random_state_0(contract):
    """split(X, y) is train_test_split(X, y, test_size=1/7, random_state=0): the same rows, in the same order.

    Q1 is ``train_test_split(X, y, test_size=1/7, random_state=0)``: the same rows, in order."""
    from sklearn.model_selection import train_test_split

    exercise = train_test_split(ROWS, ROWS % 10, test_size=1 / 7, random_state=0)
    for found, expected in zip(contract.split(ROWS, ROWS % 10), exercise):
        np.testing.assert_array_equal(found, expected)


def test_split_rows_are_disjoint_and_complete(contract):
    """split's train and test rows share none and together are all the rows."""
    train, test = contract.split(ROWS)
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), ROWS)


def test_split_of_x_alone_gives_the_same_rows_as_split_of_x_and_y(contract):
    """split(X) gives the same rows as split(X, y) with the same random_state.

    The exercise's Q4 splits the scaled X alone and reuses y_train/y_test from Q1."""
    X = ROWS.reshape(-1, 1) * 3
    X_train, X_test, _, _ = contract.split(X, ROWS % 10)
    X_train_alone, X_test_alone = contract.split(X)
    np.testing.assert_array_equal(X_train, X_train_alone)
    np.testing.assert_array_equal(X_test, X_test_alone)


def test_split_keeps_each_label_with_its_digit(contract, sample):
    """split keeps each label with its digit, in train and in test."""
    X, y = sample
    X_train, X_test, y_train, y_test = contract.split(X, y)
    lookup = {row.tobytes(): label for row, label in zip(X, y)}
    assert [lookup[row.tobytes()] for row in X_test] == list(y_test)
    assert [lookup[row.tobytes()] for row in X_train] == list(y_train)


def test_split_of_the_700_digit_sample_is_600_and_100(contract, sample):
    """split of 700 digits gives 600 train and 100 test digits."""
    X_train, X_test, _, _ = contract.split(*sample)
    assert (len(X_train), len(X_test)) == (600, 100)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=2, max_value=3000), seed=st.integers(0, 2**31 - 1))
def test_split_takes_one_seventh_rounded_up_as_test_rows(contract, n, seed):
    """split of n rows gives ceil(n / 7) test rows and the rest as train rows, disjoint and complete.

    train_test_split's rule: ceil(n / 7) test rows, the rest train; disjoint and complete."""
    rows = np.arange(n)
    train, test = contract.split(rows, random_state=seed)
    assert len(test) == math.ceil(n / 7)
    assert len(train) == n - len(test)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), rows)
