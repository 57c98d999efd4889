"""Trainings keyed by what determines them (``mnist_checks.trainings``), on the 700-digit sample:
the same arrays, model, initial weights and settings share one training, whoever wrote the code;
one pixel or one weight apart, they do not; a reused training gives the very same claims."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_checks import exercise, trainings
from mnist_checks.grading.contract import load_contract
from mnist_checks.plan import Settings
from mnist_checks.run import run_exercise

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trainings")]

SHORT = Settings(mlp_epochs=1, cnn_epochs=1, warm=True)
SOURCE = Path(exercise.__file__).read_text()


def edited(tmp_path, name, old="", new=""):
    """The reference contract with one edit, as a student's module of its own."""
    assert old in SOURCE
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE.replace(old, new, 1))
    return load_contract(path)


def reused(run) -> dict:
    return {name: model["training"].get("reused") for name, model in run.record["models"].items()}


@pytest.fixture(scope="module")
def first(sample, tmp_path_factory):
    """The reference trained once into a fresh store: (the store, the run)."""
    store = trainings.DirectoryStore(tmp_path_factory.mktemp("trainings"))
    return store, run_exercise(*sample, SHORT, store=store)


def test_a_repeated_run_reuses_every_training_and_checks_the_same_results(sample, first):
    store, run = first
    again = run_exercise(*sample, SHORT, store=store)
    assert reused(run) == dict.fromkeys(run.record["models"], False)
    assert reused(again) == dict.fromkeys(run.record["models"], True)
    for name, model in run.record["models"].items():
        assert again.record["models"][name]["history"] == model["history"], name
        np.testing.assert_array_equal(again.predictions[name], run.predictions[name], err_msg=name)
        for mine, theirs in zip(again.models[name].get_weights(), run.models[name].get_weights()):
            np.testing.assert_array_equal(mine, theirs, err_msg=name)
    warm = "raw_predictions_changed"
    assert again.record["models"]["mlp_scaled_warm"][warm] == run.record["models"]["mlp_scaled_warm"][warm] > 0


def test_the_warm_started_model_reused_still_shares_the_raw_mlps_weights(sample, first):
    again = run_exercise(*sample, SHORT, store=first[0])
    ids = {name: {id(v) for v in model.weights} for name, model in again.models.items()}
    assert ids["mlp_scaled_warm"] == ids["mlp_raw"] and not ids["mlp_scaled"] & ids["mlp_raw"]


@pytest.mark.parametrize("name, old, new", [
    ("named-layers", 'keras.layers.Dense(32, activation="relu")',
     'keras.layers.Dense(32, activation="relu", name="hidden")'),
    ("astype-then-divide", "return np.asarray(X, dtype=np.float32) / np.float32(255)",
     "return np.asarray(X).astype(np.float32) / 255"),
    ("float64-as-the-exercise", "return np.asarray(X, dtype=np.float32) / np.float32(255)", "return X / 255"),
    ("loss-object", "loss=LOSS", "loss=keras.losses.SparseCategoricalCrossentropy()"),
    ("no-input", "            keras.Input(shape=(N_PIXELS,)),\n", ""),
    ("activation-layers", 'keras.layers.Dense(32, activation="relu"),\n'
     '            keras.layers.Dense(N_CLASSES, activation="softmax"),',
     'keras.layers.Dense(32),\n            keras.layers.ReLU(),\n'
     '            keras.layers.Dense(N_CLASSES),\n            keras.layers.Softmax(),'),
    ("l2-of-zero", 'keras.layers.Dense(32, activation="relu")',
     'keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.l2(0.0))'),
    ("loss-weights-one", "metrics=METRICS)\n    return model\n    # END SOLUTION\n\n\ndef predicted",
     "metrics=METRICS, loss_weights=[1.0])\n    return model\n    # END SOLUTION\n\n\ndef predicted"),
    ("metrics-acc", "metrics=METRICS)\n    return model\n    # END SOLUTION\n\n\ndef predicted",
     "metrics=['acc'])\n    return model\n    # END SOLUTION\n\n\ndef predicted"),
])
def test_behaviourally_identical_code_shares_every_training(sample, first, tmp_path, name, old, new):
    """Other source text, the same arrays and the same initial weights: nothing is trained again."""
    run = run_exercise(*sample, SHORT, contract=edited(tmp_path, name, old, new), store=first[0])
    assert reused(run) == dict.fromkeys(run.record["models"], True)
    assert {n: m["training"]["key"] for n, m in run.record["models"].items()} == {
        n: m["training"]["key"] for n, m in first[1].record["models"].items()}


@pytest.mark.parametrize("name, old, new", [
    ("l2-kernel", 'keras.layers.Dense(32, activation="relu")',
     'keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01))'),
    ("frozen-hidden", 'keras.layers.Dense(32, activation="relu")',
     'keras.layers.Dense(32, activation="relu", trainable=False)'),
    ("loss-weights-two", "metrics=METRICS)\n    return model\n    # END SOLUTION\n\n\ndef predicted",
     "metrics=METRICS, loss_weights=[2.0])\n    return model\n    # END SOLUTION\n\n\ndef predicted"),
])
def test_the_same_outputs_trained_otherwise_share_no_mlp_training(sample, first, tmp_path, name, old, new):
    """A regularizer, a frozen layer or loss weights trains the MLPs otherwise: their trainings
    are their own; the CNN, untouched, is shared (issue 30).  (The fast path trains every model
    with metrics=['accuracy'], so another metric trains alike there.)"""
    run = run_exercise(*sample, SHORT, contract=edited(tmp_path, name, old, new), store=first[0])
    assert reused(run) == {"mlp_raw": False, "mlp_scaled": False, "mlp_scaled_warm": False, "cnn": True}


def test_when_grading_the_warm_start_is_the_references_mlp_so_a_q2_mistake_costs_q2_alone(sample, first, tmp_path):
    """Grading (a reference given), Q4's warm-started model starts from the reference's MLP trained
    as Q2's is: a fork whose MLP trains otherwise (an L2 penalty) trains its own Q2 MLP but shares
    the reference's warm-started training, whose claim then judges its scale alone (issue 30)."""
    penalised = edited(tmp_path, "l2-kernel", 'keras.layers.Dense(32, activation="relu")',
                       'keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01))')
    run = run_exercise(*sample, SHORT, contract=penalised, reference=exercise, store=first[0])
    keys = {name: model["training"]["key"] for name, model in run.record["models"].items()}
    reference = {name: model["training"]["key"] for name, model in first[1].record["models"].items()}
    assert keys["mlp_raw"] != reference["mlp_raw"] and keys["mlp_scaled_warm"] == reference["mlp_scaled_warm"]
    warm = run.record["models"]["mlp_scaled_warm"]
    assert warm["warm_start"] == "the reference's Q2 MLP" and warm["raw_predictions_changed"] > 0
    assert first[1].record["models"]["mlp_scaled_warm"]["warm_start"] == "the contract's Q2 MLP"


def test_a_key_means_one_training_however_many_random_numbers_the_build_drew(sample, first, tmp_path):
    """A build that draws random numbers (TensorFlow's, numpy's, Keras's) after making its layers
    has the reference's initial weights, hence its keys: trained afresh, without a store, it gives
    the very same training, so reusing the stored one changes nothing."""
    drawing = edited(tmp_path, "draws", "    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)\n",
                     "    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)\n"
                     "    import tensorflow as tf\n    tf.random.uniform((3,))\n    np.random.rand(5)\n"
                     "    getattr(keras, 'random', tf.random).uniform((3,))\n")  # Keras 2 has no keras.random
    fresh = run_exercise(*sample, SHORT, contract=drawing)
    for name, model in first[1].record["models"].items():
        assert fresh.record["models"][name]["training"]["key"] == model["training"]["key"], name
        for metric in ("loss", "val_loss", "val_accuracy"):
            assert fresh.record["models"][name]["history"][metric] == model["history"][metric], (name, metric)


def test_one_pixel_of_the_scaled_data_apart_trains_the_models_on_scaled_data_again(sample, first, tmp_path):
    nudged = edited(tmp_path, "one-pixel", "return np.asarray(X, dtype=np.float32) / np.float32(255)",
                      "out = np.asarray(X, dtype=np.float32) / np.float32(255)\n"
                      "    if out.shape[0] > 1:\n        out[1, 300] = np.nextafter(out[1, 300], np.float32(2))\n"
                      "    return out")
    run = run_exercise(*sample, SHORT, contract=nudged, store=first[0])
    assert reused(run) == {"mlp_raw": True, "mlp_scaled": False, "mlp_scaled_warm": False, "cnn": False}


def test_one_initial_weight_apart_trains_that_model_again(sample, first, tmp_path):
    compiled = "    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)\n"
    nudged = edited(tmp_path, "one-weight", compiled + "    return model\n",
                    compiled + "    if len(model.layers) == 2:\n"
                    "        weights = model.get_weights()\n        weights[1][3] += 1e-6\n"
                    "        model.set_weights(weights)\n"
                    "    return model\n")
    run = run_exercise(*sample, SHORT, contract=nudged, store=first[0])
    # both MLPs come from this build_mlp; the warm start begins where the raw MLP ended
    assert reused(run) == {"mlp_raw": False, "mlp_scaled": False, "mlp_scaled_warm": False, "cnn": True}


def test_other_run_settings_share_nothing(sample, first):
    run = run_exercise(*sample, Settings(mlp_epochs=1, cnn_epochs=1, seed=1), store=first[0])
    assert not any(reused(run).values())


def test_a_model_with_randomness_of_its_own_is_trained_every_time_and_says_why(sample, tmp_path):
    output = 'keras.layers.Dense(N_CLASSES, activation="softmax"),\n        ]\n    )\n    model.compile'
    dropout = edited(tmp_path, "dropout", output,
                       'keras.layers.Dropout(0.1),\n            keras.layers.Dense(N_CLASSES, activation="softmax"),\n'
                       '        ]\n    )\n    model.compile')
    store = trainings.DirectoryStore(tmp_path / "store")
    for _ in range(2):
        run = run_exercise(*sample, Settings(mlp_epochs=1, cnn_epochs=1), contract=dropout, store=store)
        training = run.record["models"]["mlp_raw"]["training"]
        assert training["key"] is None and "Dropout" in training["why"]
    assert run.record["models"]["cnn"]["training"]["reused"]


def test_processes_asking_at_once_for_one_training_train_it_once(tmp_path):
    """Two askers of one key: the second waits for the first's training, then reuses it."""
    store, calls, got = trainings.DirectoryStore(tmp_path), [], []

    def train():
        calls.append(1)
        time.sleep(0.5)
        return trainings.Training([np.ones(3)], {"loss": [1.0]}, np.zeros((2, 10), np.float32))

    threads = [threading.Thread(target=lambda: got.append(trainings.fetch_or_train(store, "ab" * 32, train)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and sorted(reused for _, reused in got) == [False, True]
    np.testing.assert_array_equal(got[0][0].weights[0], got[1][0].weights[0])


def test_a_damaged_stored_training_is_trained_again(tmp_path):
    store = trainings.DirectoryStore(tmp_path)
    training = trainings.Training([np.arange(4.0)], {"loss": [0.5]}, np.eye(10, dtype=np.float32))
    store.put("cd" * 32, training)
    (tmp_path / "cd" / f"{'cd' * 32}.npz").write_bytes(b"PK\x03\x04 not an archive")
    again, was_reused = trainings.fetch_or_train(store, "cd" * 32, lambda: training)
    assert not was_reused and store.get("cd" * 32).history == {"loss": [0.5]}
