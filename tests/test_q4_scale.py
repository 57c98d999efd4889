"""Q4: inputs divided by 255 into [0, 1]."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

pytestmark = [pytest.mark.fast, pytest.mark.q4]


def test_scale_maps_0_to_0_and_255_to_1_exactly(contract):
    """scale maps grey level 0 to 0.0 and 255 to 1.0 exactly."""
    scaled = contract.scale(np.array([0, 255], dtype=np.uint8))
    assert scaled[0] == 0.0 and scaled[1] == 1.0


def test_scale_keeps_shape_and_gives_floats(contract, sample):
    """scale keeps the pixels' shape and gives floats.

    float32 or float64: the exercise's own ``X = X/255`` gives float64, and Keras trains on
    either in float32 (the same values, since k/255 rounds to the same float32 both ways)."""
    scaled = np.asarray(contract.scale(sample[0]))
    assert scaled.shape == sample[0].shape
    assert scaled.dtype in (np.float32, np.float64), (
        f"scale returned {scaled.dtype}: divide by 255 into floats, e.g. X / 255 or X.astype('float32') / 255")


def test_scale_leaves_its_argument_unchanged(contract, sample):
    """scale returns a new array and leaves its argument unchanged.

    Q4 scales X into a new array: the raw pixels stay for Q2's model (float32 input too)."""
    for X in (sample[0].copy(), sample[0].astype(np.float32)):
        before = X.copy()
        contract.scale(X)
        np.testing.assert_array_equal(X, before)


def test_scale_divides_by_255(contract):
    """scale divides every grey level by 255."""
    grey = np.arange(256, dtype=np.uint8)
    np.testing.assert_allclose(contract.scale(grey), grey / 255, rtol=1e-6)


@given(arrays(np.uint8, array_shapes(max_dims=3, max_side=20), elements=st.integers(0, 255)))
def test_scaled_pixels_lie_in_0_1_and_keep_their_order(contract, pixels):
    """scale puts any pixels into [0, 1] and keeps their order."""
    scaled = contract.scale(pixels)
    assert scaled.shape == pixels.shape
    assert np.all((scaled >= 0) & (scaled <= 1))
    flat, order = scaled.ravel(), np.argsort(pixels.ravel(), kind="stable")
    assert np.all(np.diff(flat[order]) >= 0)
    np.testing.assert_allclose(scaled * 255, pixels, atol=1e-4)


def test_scaling_rows_then_choosing_gives_the_chosen_rows_scaled(contract, sample):
    """scale acts row by row: scaling then choosing rows equals choosing then scaling.

    Q4 re-splits X/255 with Q1's seed: scaling acts row by row, so the scaled split holds
    exactly Q1's rows, scaled (checked with any choice of rows, so Q1's answer cannot matter)."""
    X = sample[0]
    rows = np.random.default_rng(0).permutation(len(X))[:100]
    np.testing.assert_array_equal(contract.scale(X)[rows], contract.scale(X[rows]))
