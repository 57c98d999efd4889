"""Every generated correct variant (``mnist_checks/grading/variants.py``) as the grader rebuilds
it is the exercise's answer: the whole set, which ``mnist-checks mutants`` samples (slow tier)."""

import numpy as np
import pytest

from mnist_checks import exercise
from mnist_checks.grading.variants import generate_variants

pytestmark = pytest.mark.slow

PIXELS = np.random.default_rng(0).integers(0, 256, size=(14, 784))
DIGITS = np.arange(14) % 10


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning")
def test_every_generated_variant_as_the_grader_rebuilds_it_is_the_exercises_answer(load_source):
    """All generated variants, both models described in the fork's process and rebuilt by the
    checker (the grader's path, without its sandbox): each computes, steps, scores and predicts as
    the exercise's model does, and Q1, Q3, Q4 and Q5's answers are the reference's."""
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
    from mnist_checks.grading.description import describe, rebuild

    problems = []
    for variant in generate_variants():
        if KERAS_MAJOR < 3 and ("activation", "ops") in variant.spelling:  # keras.ops is Keras 3's
            continue
        contract = load_source(variant.source)
        for ours, theirs in zip(exercise.split(PIXELS, DIGITS), contract.split(PIXELS, DIGITS)):
            if not np.array_equal(ours, theirs):
                problems.append(f"{variant.name}: split")
        if not np.allclose(contract.scale(PIXELS), exercise.scale(PIXELS)):
            problems.append(f"{variant.name}: scale")
        if not np.array_equal(contract.to_images(PIXELS), exercise.to_images(PIXELS)):
            problems.append(f"{variant.name}: to_images")
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
            problems += [f"{variant.name} {builder}: {why}" for why in found if why]
        keras.backend.clear_session()
    assert problems == []
