"""A run's model records, typed (issue 35): what ``run_exercise`` records of each model it trains
(Q2's, Q4's and Q5's), as it is written into ``record["models"]`` and read back from record.json.

The run's ``record`` stays the JSON-serialisable dict that is written to disk; ``ModelRecord.to_json``
gives a model's entry in it exactly as it has always been written, and ``models_of`` reads a
record's entries back as ``ModelRecord``s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingRecord:
    """Where a model's training came from: its key in the trainings store and whether it was
    taken from there (``reused``) rather than trained, or why it has no key."""

    key: str | None
    reused: bool = False
    why: str | None = None

    def to_json(self) -> dict:
        """``{"key", "reused"}`` for a keyed training, ``{"key": None, "why"}`` for one without a key."""
        return {"key": self.key, "reused": self.reused} if self.key else {"key": None, "why": self.why}

    @classmethod
    def from_json(cls, data: dict) -> TrainingRecord:
        """The training ``to_json`` wrote."""
        return cls(data["key"], bool(data.get("reused", False)), data.get("why"))


@dataclass(frozen=True)
class ModelRecord:
    """One trained model of a run: its question, what it is, its epochs and parameter count, its
    ``fit()`` history (per-epoch metrics under Keras 3's names, and ``seconds``, each epoch's wall
    time), the published final val_accuracy, where its training came from (records from before the
    trainings store have none) and, for Q4's warm-started MLP, what its warm start did."""

    question: str
    description: str
    epochs: int
    parameters: int
    history: dict[str, list[float]]
    published_val_accuracy: float
    training: TrainingRecord | None = None
    #: Q4's warm-started MLP: the share of the raw MLP's test digits that changed as it trained on.
    raw_predictions_changed: float | None = None
    #: Q4's warm-started MLP: whose Q2 MLP it started from (the contract's, or the reference's when grading).
    warm_start: str | None = None

    @property
    def val_accuracy(self) -> list[float]:
        """Validation accuracy on Q1's test digits after each epoch."""
        return self.history["val_accuracy"]

    @property
    def final_val_accuracy(self) -> float:
        """Validation accuracy after the last epoch: the figure compared with the published one."""
        return self.history["val_accuracy"][-1]

    @property
    def seconds(self) -> list[float]:
        """Each epoch's wall time, validation included."""
        return self.history["seconds"]

    def to_json(self) -> dict:
        """The model's entry in ``record["models"]``, key for key as it is written to record.json."""
        entry = {
            "question": self.question,
            "description": self.description,
            "epochs": self.epochs,
            "parameters": self.parameters,
            "history": self.history,
            "published_val_accuracy": self.published_val_accuracy,
        }
        if self.training is not None:
            entry["training"] = self.training.to_json()
        if self.raw_predictions_changed is not None:
            entry["raw_predictions_changed"] = self.raw_predictions_changed
        if self.warm_start is not None:
            entry["warm_start"] = self.warm_start
        return entry

    @classmethod
    def from_json(cls, data: dict) -> ModelRecord:
        """The model ``to_json`` wrote (``KeyError``/``TypeError`` for an entry that is not one)."""
        training = data.get("training")
        return cls(question=data["question"], description=data["description"], epochs=data["epochs"],
                   parameters=data["parameters"], history=data["history"],
                   published_val_accuracy=data["published_val_accuracy"],
                   training=None if training is None else TrainingRecord.from_json(training),
                   raw_predictions_changed=data.get("raw_predictions_changed"), warm_start=data.get("warm_start"))


def models_of(record: dict) -> dict[str, ModelRecord]:
    """A run record's trained models by name, in the order they trained."""
    return {name: ModelRecord.from_json(entry) for name, entry in record["models"].items()}


def by_model(records: list[dict]) -> dict[str, list[ModelRecord]]:
    """Runs of several seeds side by side: per model trained in every record (in the first's order),
    its record in each."""
    runs = [models_of(record) for record in records]
    return {name: [models[name] for models in runs] for name in runs[0] if all(name in models for models in runs)}
