"""The grader's limits per fork: the one place for their numbers (``mnist-checks grade``'s
defaults, the checker's, and the student server's: ``isolated.IsolatedContract``)."""

from __future__ import annotations

from dataclasses import dataclass

#: The memory one fork's grading may hold, the checker and the fork's process together.  The
#: reference's whole grading, slow tier included and every model trained, peaked at 2.6 GB here
#: (grader, checker and fork's process; ``grade --tier all --retrain``); a model at the budget
#: trains in about 2 GB more, a reply at its bound is decoded with one copy, and the fork's own
#: process may fill its address space: 8 GB holds them all, and two fit a 24 GB machine.
GRADING_MB = 8192


@dataclass(frozen=True)
class Limits:
    """Per-fork limits.  A call of a fork's function gets ``call_seconds``; training happens in
    the checker and counts only against ``fork_seconds`` (the slow tier trains every model in its
    first test: 4-7 minutes on 2 cores under load).  8 GiB of address space for the fork's
    process: TensorFlow 2.21's import aborts under 2 GiB and passes at 4 GiB (measured here), and
    the slow tier sends it the full data set.  ``grading_mb`` holds the whole grading of a fork,
    the checker and the fork's process together (``mnist_checks.grading.sandbox.memory``; see
    ``GRADING_MB``).  ``output_bytes`` bounds the output kept of the checker and of the fork's
    process each; the fork's process must start (import TensorFlow, load its contract) within
    ``start_seconds``."""

    fork_seconds: float = 1800
    call_seconds: float = 300
    memory_mb: int | None = 8192
    output_bytes: int = 64_000
    grading_mb: int = GRADING_MB
    start_seconds: float = 300
