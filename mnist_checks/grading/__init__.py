"""Grading students' forks without ever running their code in the grader, in four parts by audience.

- ``sandbox``: where a fork's code runs, and nowhere else: the student server, its isolation
  levels (``levels``: bubblewrap, a uid of its own, a plain process), the wire and the model
  descriptions that cross it, and what a fork may cost (``budget``, ``memory``);
- ``students``: what a student's repository holds and runs: the suite's pytest ``plugin`` and
  its ``session`` settings, the ``starter``, the ``rubric`` a run is scored with, ``feedback``'s
  plain words and GitHub Classroom's report (``classroom``);
- ``course``: what an instructor grades a course with: the ``batch`` and its ``Grading``
  settings, the ``checker`` per fork, ``results``, the ``gradebook``, feedback pages, the class
  report, due dates (``history``), the ``roster``, the LMS (``lms``) and Gradescope;
- ``catalogue``: the instructor's mutants and correct variants and the mutation report. It
  quotes the solutions, so no student's starter and no fork's sandbox ever holds it: the one rule
  is ``instructors_only`` below, which both apply.

Below them, ``contract`` (the contract's functions, and loading a contract file) and ``limits``
(what a fork may use) are shared by all four. Each part imports only the parts listed before it.
"""

from __future__ import annotations

from pathlib import Path

#: The instructor's solution-bearing folder and whole solutions as students write them: never
#: in a student's starter, never in a fork's sandbox (``instructors_only``).
INSTRUCTORS_ONLY = ("mnist_checks/grading/catalogue/", "tests/data/contracts/")


def instructors_only(relative: str) -> bool:
    """Whether the reference's file ``relative`` (a POSIX path from the checkout's root) quotes the
    solutions: the catalogue's folder and the correct contracts. The starter and the sandbox both ask."""
    return relative.startswith(INSTRUCTORS_ONLY) or f"{relative}/" in INSTRUCTORS_ONLY


def has_catalogue() -> bool:
    """Whether this installation holds the instructor's catalogue (a students' starter does not)."""
    return (Path(__file__).parent / "catalogue" / "mutants.py").is_file()
