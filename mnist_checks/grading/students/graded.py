"""What the suite's plugin tells the grader of each graded test, as typed records: the test as
collected (``GradedTest``: ``--grade-collect``'s file) and its outcome as it finished
(``TestOutcome``: a line of ``--grade-log``). Each crosses from the checker's pytest process to
the grader as JSON (``to_json``) and is read back whole (``from_json``); a line that is not one
raises ``ValueError``, ``KeyError`` or ``TypeError``, which the reader skips."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class GradedTest:
    """A graded test: its pytest node id, question (``Q1``..``Q5``), tier, claim (its docstring's
    first line) and ``tags`` (its other markers, which a rubric's weights may name)."""

    id: str
    question: str | None  # None: a test of no question (the log holds it; no rubric scores it)
    tier: str | None
    claim: str
    tags: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        """The test file, relative to the tests' root (``tests/test_q2_mlp.py``)."""
        return self.id.split("::")[0]

    @property
    def name(self) -> str:
        """Its name as pytest shows it after its file's ``::`` (``test_x[3]``): what a rubric's weights name."""
        return self.id.rpartition("::")[2]

    def to_json(self) -> dict:
        return {"id": self.id, "question": self.question, "tier": self.tier, "claim": self.claim,
                "tags": list(self.tags)}

    @classmethod
    def from_json(cls, data: dict) -> GradedTest:
        question, tier = data.get("question"), data.get("tier")
        return cls(id=str(data["id"]), question=None if question is None else str(question),
                   tier=None if tier is None else str(tier), claim=str(data.get("claim", "")),
                   tags=tuple(str(tag) for tag in data.get("tags") or ()))


@dataclass(frozen=True)
class TestOutcome:
    """How a graded test finished: ``outcome`` (pytest's: passed, failed, skipped), the ``phase``
    it ended in (setup, call, teardown), its ``seconds``; for a failure the exception's type
    (``error``), the contract function not implemented yet that raised it (``raised_by``) and
    what was expected and found in plain words (``message``)."""

    __test__ = False  # not a test class, whatever pytest collects

    test: GradedTest
    outcome: str
    phase: str = "call"
    seconds: float = 0.0
    error: str | None = None
    raised_by: str | None = None
    message: str | None = None
    extra: dict = field(default_factory=dict, compare=False)  # keys a newer plugin wrote: kept, not read

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def to_json(self) -> dict:
        """One flat JSON object: the test's keys, then the outcome's (a grade log's line)."""
        found = {**self.extra, **self.test.to_json(), "outcome": self.outcome, "phase": self.phase,
                 "seconds": self.seconds}
        found.update({key: value for key in ("error", "raised_by", "message")
                      if (value := getattr(self, key)) is not None})
        return found

    @classmethod
    def from_json(cls, data: dict) -> TestOutcome:
        known = {f.name for f in fields(GradedTest)} | {f.name for f in fields(cls)}
        return cls(test=GradedTest.from_json(data), outcome=str(data["outcome"]), phase=str(data.get("phase", "call")),
                   seconds=float(data.get("seconds", 0.0)),
                   **{key: str(data[key]) for key in ("error", "raised_by", "message") if data.get(key) is not None},
                   extra={key: value for key, value in data.items() if key not in known})
