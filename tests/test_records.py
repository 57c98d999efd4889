"""A run's model records, typed (issue 35): each round-trips through its JSON, and an entry written
by ``run_exercise`` reads back with its figures and writes out byte for byte as it was."""

import json

import pytest

from mnist_checks.records import ModelRecord, TrainingRecord, by_model, models_of

pytestmark = pytest.mark.fast

#: Q4's warm-started MLP as ``run_exercise`` writes it into record.json, key for key, in its order.
WARM = {
    "question": "q4",
    "description": "MLP on scaled pixels built from the raw MLP's layers (warm-started), as the exercise does",
    "epochs": 2,
    "parameters": 101770,
    "history": {"accuracy": [0.91, 0.95], "loss": [0.3, 0.2], "val_accuracy": [0.94, 0.962],
                "val_loss": [0.25, 0.15], "seconds": [1.5, 1.25]},
    "published_val_accuracy": 0.973,
    "training": {"key": "a" * 64, "reused": True},
    "raw_predictions_changed": 0.4171,
    "warm_start": "the contract's Q2 MLP",
}


def entry(final: float, **changes) -> dict:
    """A model's entry as written before the trainings store: no ``training``, no warm start."""
    history = {"accuracy": [0.9, final], "val_accuracy": [0.9, final], "seconds": [2.0, 1.0]}
    return {"question": "q2", "description": "MLP on raw pixels 0..255", "epochs": 2, "parameters": 101770,
            "history": history, "published_val_accuracy": 0.924, **changes}


def test_a_model_record_round_trips_through_its_json():
    full = ModelRecord("q4", "warm", 2, 10, {"val_accuracy": [0.9, 0.95], "seconds": [1.0, 2.0]}, 0.973,
                       TrainingRecord("k" * 64, reused=True), raw_predictions_changed=0.25,
                       warm_start="the reference's Q2 MLP")
    bare = ModelRecord("q2", "raw", 1, 10, {"val_accuracy": [0.9], "seconds": [1.0]}, 0.924)
    keyless = ModelRecord("q5", "cnn", 1, 10, {"val_accuracy": [0.98], "seconds": [3.0]}, 0.991,
                          TrainingRecord(None, why="a layer the key cannot read"))
    for model in (full, bare, keyless):
        assert ModelRecord.from_json(model.to_json()) == model
        assert ModelRecord.from_json(json.loads(json.dumps(model.to_json()))) == model
    assert keyless.to_json()["training"] == {"key": None, "why": "a layer the key cannot read"}
    assert "training" not in bare.to_json() and "warm_start" not in bare.to_json()


def test_an_entry_written_by_a_run_reads_back_with_its_figures_and_writes_out_byte_for_byte():
    model = ModelRecord.from_json(json.loads(json.dumps(WARM)))
    assert (model.question, model.epochs, model.parameters) == ("q4", 2, 101770)
    assert model.final_val_accuracy == 0.962 and model.val_accuracy == [0.94, 0.962] and model.seconds == [1.5, 1.25]
    assert model.training == TrainingRecord("a" * 64, reused=True)
    assert (model.raw_predictions_changed, model.warm_start) == (0.4171, "the contract's Q2 MLP")
    assert json.dumps(model.to_json(), indent=2) == json.dumps(WARM, indent=2)
    old = ModelRecord.from_json(entry(0.921))  # a record.json from before the trainings store
    assert old.training is None and old.warm_start is None and old.to_json() == entry(0.921)


def test_a_records_models_read_back_in_order_and_side_by_side_across_seeds():
    first = {"models": {"mlp_raw": entry(0.92), "mlp_scaled_warm": WARM, "cnn": entry(0.99)}}
    second = {"models": {"mlp_raw": entry(0.93), "cnn": entry(0.98)}}  # interrupted before its warm MLP
    assert list(models_of(first)) == ["mlp_raw", "mlp_scaled_warm", "cnn"]
    assert {name: model.to_json() for name, model in models_of(first).items()} == first["models"]
    shared = by_model([first, second])
    assert list(shared) == ["mlp_raw", "cnn"]
    assert [model.final_val_accuracy for model in shared["cnn"]] == [0.99, 0.98]
    with pytest.raises(KeyError):
        models_of({"models": {"mlp_raw": {"history": {"val_accuracy": [0.9]}}}})
