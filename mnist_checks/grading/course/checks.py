"""A check's answer (``CheckOutcome``): what ``checker.Checker.check`` found of one fork's contract,
as plain data that crosses a process or Dask's network (``remote``) and that ``batch.finish`` scores."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..students.graded import TestOutcome
from .results import ForkStatus


@dataclass(frozen=True)
class CheckOutcome:
    """How a fork's grading ended (``status``, and why: ``reason``), each graded test's outcome by
    its id (``outcomes``), the checker's bounded ``output``, the exercise's ``trainings`` by model,
    the grading's ``memory`` and ``seconds``, the ``isolation`` it ran under ("": the batch's) and
    the cluster ``worker`` that ran it ("": this machine)."""

    status: ForkStatus = ForkStatus.GRADED
    reason: str = ""
    outcomes: dict[str, TestOutcome] = field(default_factory=dict)
    output: str = ""
    trainings: dict = field(default_factory=dict)
    memory: str = ""
    seconds: float = 0.0
    isolation: str = ""
    worker: str = ""

    def to_json(self) -> dict:
        """Plain JSON data: the status as its value, each outcome as a grade log's line."""
        return {"status": self.status.value, "reason": self.reason,
                "outcomes": {test: outcome.to_json() for test, outcome in self.outcomes.items()},
                "output": self.output, "trainings": self.trainings, "memory": self.memory,
                "seconds": self.seconds, "isolation": self.isolation, "worker": self.worker}

    @classmethod
    def from_json(cls, data: dict) -> CheckOutcome:
        """The answer ``to_json`` wrote; keys left out take their defaults."""
        return cls(status=ForkStatus(data.get("status", ForkStatus.GRADED)), reason=str(data.get("reason", "")),
                   outcomes={str(test): TestOutcome.from_json(outcome)
                             for test, outcome in (data.get("outcomes") or {}).items()},
                   output=str(data.get("output", "")), trainings=dict(data.get("trainings") or {}),
                   memory=str(data.get("memory", "")), seconds=float(data.get("seconds", 0.0)),
                   isolation=str(data.get("isolation", "")), worker=str(data.get("worker", "")))
