"""The grader's log (``--grade-log FILE``): one JSON line as each thing happens, so that a checker
that crashes or is killed mid-run keeps every line before it.

Lines: each graded test's outcome as it finishes (``TestOutcome.to_json``), each training of the
exercise's run with its curves and claims (``note_run``), the progress of a training
(``note_training``, ``note_epoch``: ``checker.grade_log_now`` reads them) and what the student
server's teardown could not end (``note_unended``). The checker reads them back
(``checker.read_grade_log``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...records import models_of
from .graded import TestOutcome


@dataclass(frozen=True)
class GradeLog:
    """The log at ``path``; None (a student's own run): nothing is written."""

    path: str | None = None

    def write(self, *entries: dict) -> None:
        """Append ``entries``, a JSON line each."""
        if self.path and entries:
            with open(self.path, "a") as handle:
                handle.writelines(json.dumps(entry) + "\n" for entry in entries)

    def note_outcome(self, outcome: TestOutcome) -> None:
        """A test finished: its line (``TestOutcome.to_json``)."""
        self.write(outcome.to_json())

    def note_run(self, record: dict) -> None:
        """A run of the exercise (one per seed): each of its trainings, one ``{"training": name, ...}``
        line each, with what a fork's feedback page draws of it (``curves``)."""
        self.write(*({"training": name, **(model.training.to_json() if model.training else {}),
                      **curves(record, name)} for name, model in models_of(record).items()))

    def note_unended(self, unended: list[str]) -> None:
        """What the student server's teardown could not end (``IsolatedContract.unended``), one
        ``{"unended": why}`` line each: the fork's row then says so."""
        self.write(*({"unended": why} for why in unended))

    def note_training(self, model: str, epochs: int) -> None:
        """The exercise's run starts ``model`` (``run_exercise``'s ``on_model``): a ``{"training_started":
        model, "epochs": epochs}`` line for the grader's progress display (``checker.grade_log_now``);
        the outcomes read from the log (``read_grade_log``) skip it."""
        self.write({"training_started": model, "epochs": epochs})

    def note_epoch(self, done: int, epochs: int) -> None:
        """``done`` of the model's ``epochs`` trained (``run_exercise``'s ``on_epoch``): an
        ``{"epoch_done": done, "epochs": epochs}`` line."""
        self.write({"epoch_done": done, "epochs": epochs})


def curves(record: dict, name: str) -> dict:
    """What a fork's feedback page draws of a trained model: its accuracy per epoch (``history``)
    and the improvement claims it makes over another model, each with its McNemar test."""
    from ...significance import Comparison

    history = models_of(record)[name].history
    said = [Comparison.from_record(found) for found in record.get("improvements", [])]
    return {"history": {key: list(history[key]) for key in ("accuracy", "val_accuracy") if key in history},
            "improvements": [{"sentence": c.sentence(), "real": c.is_improvement()} for c in said if c.better == name]}
