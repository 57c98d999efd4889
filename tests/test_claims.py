"""The exercise's published claims (Q2-Q5) on the full data at the published settings.

One run trains every model once (the ``exercise_run`` fixture); each claim is its own test.
Published figures and tolerances, with their reasons, are data in ``mnist_checks.facts``.
"""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from mnist_checks import facts
from mnist_checks.plan import IMPROVEMENTS, PLAN
from mnist_checks.run import compare_models

pytestmark = pytest.mark.slow


def final_val_accuracy(run, name):
    return run.record["models"][name]["history"]["val_accuracy"][-1]


def assert_near_published(run, name):
    claim = facts.PUBLISHED[name]
    found = final_val_accuracy(run, name)
    assert claim.admits(found), (
        f"{name}: final val_accuracy {found:.4f}, published {claim.val_accuracy} ± {claim.tolerance} "
        f"({claim.reason})"
    )


@pytest.mark.q2
def test_mlp_on_raw_pixels_ends_near_the_published_0_924(exercise_run):
    """The MLP trained on raw pixels ends within 0.02 of the published val_accuracy 0.924."""
    assert_near_published(exercise_run, "mlp_raw")


@pytest.mark.q4
def test_mlp_on_scaled_pixels_ends_near_the_published_0_950(exercise_run):
    """The MLP trained on scaled pixels ends within 0.02 of the published val_accuracy 0.950."""
    assert_near_published(exercise_run, "mlp_scaled")


@pytest.mark.q4
def test_warm_started_mlp_of_the_exercise_ends_near_the_published_0_950(exercise_run):
    """The exercise's own warm-started Q4 MLP ends within 0.02 of the published val_accuracy 0.950."""
    assert_near_published(exercise_run, "mlp_scaled_warm")


@pytest.mark.q5
def test_cnn_ends_near_the_published_0_992(exercise_run):
    """The CNN ends within 0.008 of the published val_accuracy 0.992, and above 0.98."""
    assert_near_published(exercise_run, "cnn")
    assert final_val_accuracy(exercise_run, "cnn") > facts.CNN_FLOOR


def assert_real_improvement(run, better, worse):
    claim = next(c for c in IMPROVEMENTS if (c.better, c.worse) == (better, worse))
    found = compare_models(run, claim)
    assert found.is_improvement(), f"not a real improvement at p < {facts.IMPROVEMENT_ALPHA}: {found.sentence()}"


@pytest.mark.q4
def test_scaled_pixels_are_a_real_improvement_over_raw_pixels(exercise_run):
    """Scaling makes the same MLP right on significantly more test digits (McNemar's exact test, p below 0.01).

    Q4: dividing by 255 improves the same MLP. On the same 10,000 test digits, the digits only
    one of the two models gets right decide it (Dietterich, 1998); the predicted digits are the
    contract's own (Q3)."""
    assert_real_improvement(exercise_run, "mlp_scaled", "mlp_raw")


@pytest.mark.q5
def test_the_cnn_is_a_real_improvement_over_the_scaled_mlp(exercise_run):
    """The CNN is right on significantly more test digits than the scaled MLP (McNemar's exact test, p below 0.01).

    Q5's "do you get a real improvement?", answered as Dietterich (1998) asks for two classifiers
    on one test set: the same 10,000 digits, the predicted digits the contract's own (Q3)."""
    assert_real_improvement(exercise_run, "cnn", "mlp_scaled")


def each_model(*, warm: bool = True) -> list:
    """The run's models (``plan.PLAN``) as parameters, each graded under its own question."""
    return [pytest.param(model, id=model.name, marks=getattr(pytest.mark, model.question))
            for model in PLAN if warm or not model.warm]


@pytest.mark.parametrize("model", each_model())
def test_each_model_trains_its_published_number_of_epochs(exercise_run, model):
    """Each model trains for its published number of epochs, with a history of every one."""
    history = exercise_run.record["models"][model.name]["history"]
    assert len(history["val_accuracy"]) == len(history["accuracy"]) == len(history["seconds"]) == model.published_epochs


@pytest.mark.parametrize("model", each_model(warm=False))
def test_each_trained_model_keeps_its_published_parameter_count(exercise_run, model):
    """Each trained model keeps its published parameter count.

    Counted with count_params() (Keras 3's summary() would add the optimizer's variables)."""
    assert exercise_run.record["models"][model.name]["parameters"] == model.published_parameters


@pytest.mark.q3
@pytest.mark.parametrize("name", [model.name for model in PLAN])
def test_accuracy_of_predicted_digits_equals_the_accuracy_keras_reports(exercise_run, name):
    """predicted_digits of a trained model are right as often as its val_accuracy says, to one digit.

    Q3: argmax of predict() is the digit Keras's accuracy metric counts."""
    predicted = exercise_run.predictions[name]
    accuracy = np.mean(predicted == exercise_run.y_test)
    assert accuracy == pytest.approx(final_val_accuracy(exercise_run, name), abs=facts.ONE_DIGIT)


@pytest.mark.q3
@pytest.mark.parametrize("name", ["mlp_raw", "cnn"])
def test_confusion_matrix_rows_sum_to_the_test_class_counts(exercise_run, name):
    """predicted_digits of a trained model give a confusion matrix whose rows hold every test digit of their class."""
    y_test, predicted = exercise_run.y_test, exercise_run.predictions[name]
    matrix = confusion_matrix(y_test, predicted, labels=range(10))
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y_test, minlength=10))
    assert np.trace(matrix) / len(y_test) == pytest.approx(np.mean(predicted == y_test))


def variables(model):
    return {id(v) for v in model.weights}


@pytest.mark.q2
def test_fresh_models_share_no_weights(exercise_run):
    """The models built fresh for Q2, Q4 and Q5 share no weights."""
    models = exercise_run.models
    assert not variables(models["mlp_raw"]) & variables(models["mlp_scaled"])
    assert not variables(models["mlp_scaled"]) & variables(models["cnn"])


@pytest.mark.q4
def test_the_exercises_q4_model_shares_the_raw_mlps_weights(exercise_run):
    """The exercise's Q4 model, built from the raw MLP's layers, shares its weights and changes its predictions.

    Built from the raw MLP's layer objects, the warm-started model trains the raw MLP too."""
    models = exercise_run.models  # its raw MLP: Q2's, or the reference's when a fork is graded
    assert variables(models["mlp_scaled_warm"]) == variables(exercise_run.warm_source)
    changed = exercise_run.record["models"]["mlp_scaled_warm"]["raw_predictions_changed"]
    assert changed > 0.01, f"only {changed:.2%} of the raw MLP's predictions changed"


def test_run_record_is_json_with_environment_and_published_figures(exercise_run):
    record = json.loads(json.dumps(exercise_run.record))
    assert set(record["environment"]) >= {"python", "tensorflow", "keras", "backend", "device", "cpu", "cores", "seed"}
    assert record["published"]["cnn"]["val_accuracy"] == 0.992
    assert record["settings"]["batch_size"] == facts.BATCH_SIZE
