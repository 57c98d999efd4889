"""The settings of one pytest run of the spec suite, read once from its options (issue 35).

``Session.from_config`` reads the suite's options and the grader's in ``pytest_configure``;
``plugin`` keeps the result in ``config.stash[SESSION]``, where every hook and fixture reads it.
Its defaults are a student's plain ``pytest``: the installed contract, in this process, no log.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from ..limits import Limits

#: The contract the installed package imports: a checkout's own, and the grader's reference.
INSTALLED_CONTRACT = "mnist_checks.exercise"


@dataclass(frozen=True)
class Session:
    """What a run checks and how: the contract (``--contract``, ``--isolated`` and its limits),
    the slow tier's seeds and trainings (``--seeds``, ``--retrain``), whether it is the grader's
    run of a fork (``--grading``), and what it writes for the grader (``--grade-log``,
    ``--grade-collect``) and for GitHub Classroom (``--classroom-report``, ``--classroom-out``)."""

    contract: str | None = None
    isolated: str | None = None
    allow_unisolated: bool = False
    call_seconds: float = Limits.call_seconds
    memory_mb: int | None = Limits.memory_mb
    seeds: int = 1
    retrain: bool = False
    grading: bool = False
    grade_log: str | None = None
    grade_collect: str | None = None
    classroom_report: bool = False
    classroom_out: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> Session:
        """The run's settings, as its options give them."""
        option = config.getoption
        return cls(contract=option("--contract"), isolated=option("--isolated"),
                   allow_unisolated=option("--allow-unisolated"), call_seconds=option("--call-timeout"),
                   memory_mb=option("--fork-memory-mb"), seeds=option("--seeds"), retrain=option("--retrain"),
                   grading=option("--grading"), grade_log=option("--grade-log"),
                   grade_collect=option("--grade-collect"), classroom_report=option("--classroom-report"),
                   classroom_out=option("--classroom-out"))

    @property
    def limits(self) -> Limits:
        """What one call of an ``--isolated`` contract may take, and its process's address space."""
        return Limits(call_seconds=self.call_seconds, memory_mb=self.memory_mb)

    def reference(self) -> ModuleType | None:
        """The contract the exercise's run takes the models from that the question under test does
        not build (``run_exercise``'s ``reference``): the installed reference, in the grader's run of
        a fork (``--grading``) alone; None in a student's own run, whatever else it names."""
        return importlib.import_module(INSTALLED_CONTRACT) if self.grading else None

    def contract_path(self, checkout: Path | None) -> Path | None:
        """The contract file or checkout to test: ``--contract``'s, else ``checkout`` (a checkout
        holding a notebook), else None (the installed contract)."""
        return Path(self.contract) if self.contract else checkout


#: The run's ``Session``, set in ``pytest_configure``.
SESSION = pytest.StashKey[Session]()


def session_of(config: pytest.Config) -> Session:
    """The run's settings (``config.stash[SESSION]``)."""
    return config.stash[SESSION]
