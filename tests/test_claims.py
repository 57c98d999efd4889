"""The exercise's published claims (Q2-Q5) on the full data at the published settings.

One run trains every model once (the ``exercise_run`` fixture); each claim is its own test.
Published figures and tolerances, with their reasons, are data in ``mnist_checks.facts``.
"""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from mnist_checks import facts

pytestmark = pytest.mark.slow


def final_val_accuracy(run, name):
    return run.record["models"][name]["history"]["val_accuracy"][-1]


def assert_near_published(run, name):
    claim = facts.PUBLISHED[name]
    found = final_val_accuracy(run, name)
    assert abs(found - claim.val_accuracy) <= claim.tolerance, (
        f"{name}: final val_accuracy {found:.4f}, published {claim.val_accuracy} ± {claim.tolerance} "
        f"({claim.reason})"
    )


@pytest.mark.q2
def test_mlp_on_raw_pixels_ends_near_the_published_0_924(exercise_run):
    assert_near_published(exercise_run, "mlp_raw")


@pytest.mark.q4
def test_mlp_on_scaled_pixels_ends_near_the_published_0_950(exercise_run):
    assert_near_published(exercise_run, "mlp_scaled")


@pytest.mark.q4
def test_warm_started_mlp_of_the_exercise_ends_near_the_published_0_950(exercise_run):
    assert_near_published(exercise_run, "mlp_scaled_warm")


@pytest.mark.q5
def test_cnn_ends_near_the_published_0_992(exercise_run):
    assert_near_published(exercise_run, "cnn")
    assert final_val_accuracy(exercise_run, "cnn") > facts.CNN_FLOOR


@pytest.mark.q4
def test_scaled_pixels_beat_raw_pixels(exercise_run):
    """Q4: dividing by 255 improves the same MLP."""
    assert final_val_accuracy(exercise_run, "mlp_scaled") > final_val_accuracy(exercise_run, "mlp_raw")


@pytest.mark.q5
def test_cnn_error_is_well_below_the_scaled_mlps(exercise_run):
    """Q5's "real improvement": 0.8% vs 5.0% error published; measured ratio 0.27-0.36 here."""
    cnn_error = 1 - final_val_accuracy(exercise_run, "cnn")
    mlp_error = 1 - final_val_accuracy(exercise_run, "mlp_scaled")
    assert cnn_error <= facts.CNN_ERROR_RATIO_MAX * mlp_error


@pytest.mark.parametrize(
    ("name", "epochs"),
    [
        pytest.param("mlp_raw", 20, marks=pytest.mark.q2),
        pytest.param("mlp_scaled", 20, marks=pytest.mark.q4),
        pytest.param("mlp_scaled_warm", 20, marks=pytest.mark.q4),
        pytest.param("cnn", 10, marks=pytest.mark.q5),
    ],
)
def test_each_model_trains_its_published_number_of_epochs(exercise_run, name, epochs):
    history = exercise_run.record["models"][name]["history"]
    assert len(history["val_accuracy"]) == len(history["accuracy"]) == len(history["seconds"]) == epochs


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        pytest.param("mlp_raw", 25_450, marks=pytest.mark.q2),
        pytest.param("mlp_scaled", 25_450, marks=pytest.mark.q4),
        pytest.param("cnn", 93_322, marks=pytest.mark.q5),
    ],
)
def test_each_trained_model_keeps_its_published_parameter_count(exercise_run, name, parameters):
    """Counted with count_params() (Keras 3's summary() would add the optimizer's variables)."""
    assert exercise_run.record["models"][name]["parameters"] == parameters


#: predict() and fit()'s validation pass run the same weights on the same batches of 32, but not
#: necessarily through the same fused kernels: one borderline digit in 10,000 may flip.
ONE_DIGIT = 1 / 10_000


@pytest.mark.q3
@pytest.mark.parametrize("name", ["mlp_raw", "mlp_scaled", "mlp_scaled_warm", "cnn"])
def test_accuracy_of_predicted_digits_equals_the_accuracy_keras_reports(exercise_run, name):
    """Q3: argmax of predict() is the digit Keras's accuracy metric counts."""
    predicted = exercise_run.predictions[name]
    accuracy = np.mean(predicted == exercise_run.y_test)
    assert accuracy == pytest.approx(final_val_accuracy(exercise_run, name), abs=ONE_DIGIT)


@pytest.mark.q3
@pytest.mark.parametrize("name", ["mlp_raw", "cnn"])
def test_confusion_matrix_rows_sum_to_the_test_class_counts(exercise_run, name):
    y_test, predicted = exercise_run.y_test, exercise_run.predictions[name]
    matrix = confusion_matrix(y_test, predicted, labels=range(10))
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y_test, minlength=10))
    assert np.trace(matrix) / len(y_test) == pytest.approx(np.mean(predicted == y_test))


def variables(model):
    return {id(v) for v in model.weights}


@pytest.mark.q2
def test_fresh_models_share_no_weights(exercise_run):
    models = exercise_run.models
    assert not variables(models["mlp_raw"]) & variables(models["mlp_scaled"])
    assert not variables(models["mlp_scaled"]) & variables(models["cnn"])


@pytest.mark.q4
def test_the_exercises_q4_model_shares_the_raw_mlps_weights(exercise_run):
    """Built from the raw MLP's layer objects, the warm-started model trains the raw MLP too."""
    models = exercise_run.models
    assert variables(models["mlp_scaled_warm"]) == variables(models["mlp_raw"])
    changed = exercise_run.record["models"]["mlp_scaled_warm"]["raw_predictions_changed"]
    assert changed > 0.01, f"only {changed:.2%} of the raw MLP's predictions changed"


def test_run_record_is_json_with_environment_and_published_figures(exercise_run):
    record = json.loads(json.dumps(exercise_run.record))
    assert set(record["environment"]) >= {"python", "tensorflow", "keras", "backend", "device", "cpu", "cores", "seed"}
    assert record["published"]["cnn"]["val_accuracy"] == 0.992
    assert record["settings"]["batch_size"] == 32
