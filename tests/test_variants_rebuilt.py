"""The generated correct variants (``mnist_checks/grading/catalogue/variants.py``) run on Keras: a sample as
students' own code builds them, and the whole set, which ``mnist-checks mutants`` samples, as the
grader rebuilds them, is the exercise's answer (e2e tier: minutes)."""

import numpy as np
import pytest

from mnist_checks import exercise
from mnist_checks.grading.catalogue.variants import generate_variants, sample_variants

pytestmark = pytest.mark.e2e

PIXELS = np.random.default_rng(0).integers(0, 256, size=(14, 784))
DIGITS = np.arange(14) % 10


def keras_3_only(variant) -> bool:
    """Whether ``variant`` spells something only Keras 3 has (``keras.ops``)."""
    return ("activation", "ops") in variant.spelling


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning")  # some students do
@pytest.mark.parametrize("variant", sample_variants(20, seed=7), ids=lambda v: v.name)
def test_a_sampled_variant_imports_builds_both_models_and_answers_on_tiny_arrays(variant, load_source):
    """Each of 20 sampled variants runs on this Keras: Q1, Q3, Q4 and Q5's answers, both models built and compiled."""
    import keras

    from mnist_checks.compat import KERAS_MAJOR

    if KERAS_MAJOR < 3 and keras_3_only(variant):
        pytest.skip("keras.ops is Keras 3's: the generated variants are written for the newest Keras")

    from mnist_checks.replies import NumpyReplies

    contract = NumpyReplies(load_source(variant.source))  # as the suite sees every contract: replies as arrays
    assert [len(part) for part in contract.split(PIXELS, DIGITS)] == [12, 2, 12, 2]
    scaled = contract.scale(PIXELS)
    assert scaled.shape == PIXELS.shape and np.allclose(scaled, PIXELS / 255)
    images = contract.to_images(scaled)
    assert images.shape == (14, 28, 28, 1) and np.array_equal(images[3, 2, :, 0], scaled[3, 56:84])
    assert list(contract.predicted_digits(np.eye(10)[[3, 1, 9]])) == [3, 1, 9]
    mlp = contract.build_mlp()
    scores = mlp.evaluate(scaled[:2], DIGITS[:2], verbose=0, return_dict=True)
    assert "loss" in scores and any("acc" in name for name in scores), scores
    assert mlp.count_params() == 25_450 and mlp.predict(scaled[:2], verbose=0).shape == (2, 10)
    cnn = contract.build_cnn()
    assert cnn.predict(images[:1], verbose=0).shape == (1, 10) and cnn.count_params() == 93_322
    keras.backend.clear_session()


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning")
@pytest.mark.parametrize("variant", generate_variants(), ids=lambda v: v.name)
def test_every_generated_variant_as_the_grader_rebuilds_it_is_the_exercises_answer(variant, load_source):
    """Each generated variant, both models described in the fork's process and rebuilt by the
    checker (the grader's path, without its sandbox): each computes, steps, scores and predicts as
    the exercise's model does, and Q1, Q3, Q4 and Q5's answers are the reference's. One test per
    variant, so that ``pytest -n`` spreads them over the cores."""
    import json

    from mnist_checks.behaviour import (
        accuracy_difference,
        loss_difference,
        model_difference,
        optimizer_difference,
        probability_difference,
    )
    from mnist_checks.compat import KERAS_MAJOR, keras, set_seed
    from mnist_checks.grading.contract import INPUT_SHAPES
    from mnist_checks.grading.sandbox.description import describe, rebuild

    if KERAS_MAJOR < 3 and keras_3_only(variant):
        pytest.skip("keras.ops is Keras 3's: the generated variants are written for the newest Keras")
    from mnist_checks.replies import NumpyReplies

    problems = []
    contract = NumpyReplies(load_source(variant.source))
    for ours, theirs in zip(exercise.split(PIXELS, DIGITS), contract.split(PIXELS, DIGITS)):
        if not np.array_equal(ours, theirs):
            problems.append("split")
    if not np.allclose(contract.scale(PIXELS), exercise.scale(PIXELS)):
        problems.append("scale")
    if not np.array_equal(contract.to_images(PIXELS), exercise.to_images(PIXELS)):
        problems.append("to_images")
    for builder, which in (("build_mlp", "mlp"), ("build_cnn", "cnn")):
        set_seed(0)
        spec, weights = describe(getattr(contract, builder)(), {}, 0, INPUT_SHAPES[builder])
        model = rebuild(json.loads(json.dumps(spec)), weights, {})
        X = (PIXELS[:8] / 255).astype(np.float32).reshape(-1, *INPUT_SHAPES[builder])
        probabilities = model.predict(X, verbose=0)
        digits = np.asarray(contract.predicted_digits(probabilities))
        results = model.evaluate(X, DIGITS[:8], verbose=0, return_dict=True)
        found = [model_difference(model, which), optimizer_difference(model), loss_difference(model),
                 probability_difference(probabilities),
                 accuracy_difference(results, float(np.mean(probabilities.argmax(axis=1) == DIGITS[:8]))),
                 None if np.array_equal(digits, probabilities.argmax(axis=1)) else "predicted_digits"]
        problems += [f"{builder}: {why}" for why in found if why]
    keras.backend.clear_session()
    assert problems == []
