"""The reference's solutions and what keeps them from students and forks: the contract's source
with every solution cut out (``starter_source``: the starter's and the sandbox's ``exercise.py``),
the lines that would give one away (``solution_lines``), and the one rule for the instructor's
files (``instructors_only``: the catalogue's folder and whole correct contracts), which the
starter and the sandbox both apply."""

from __future__ import annotations

import re
from pathlib import Path

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"

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


def holds_solutions(source: str) -> bool:
    """Whether the contract ``source`` marks solutions (``BEGIN``): the reference's does, a starter's not."""
    return any(line.strip() == BEGIN for line in source.splitlines())


_DEF = re.compile(r"^def (\w+)\(")
_QUESTION = re.compile(r'"""(Q\d):')


def starter_source(reference: str) -> str:
    """``reference`` (the contract's source) with every solution replaced by NotImplementedError."""
    out, function, question, inside = [], None, None, False
    for number, line in enumerate(reference.splitlines(keepends=True), 1):
        if match := _DEF.match(line):
            function, question = match.group(1), None
        if question is None and (match := _QUESTION.search(line)):
            question = match.group(1)
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("{question or "Q?"}: {function} is not implemented yet")\n')
        elif stripped == END:
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} is never closed")
    return "".join(out)


#: Solution lines that give nothing away: scaffolding the package's own code also shows.
SCAFFOLDING = frozenset({"model = keras.Sequential(", "model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)"})


def solution_lines(reference: str) -> set[str]:
    """The reference's solution lines that give something away (between the solution markers;
    comments, short lines and ``SCAFFOLDING`` left out)."""
    lines, inside = set(), False
    for line in reference.splitlines():
        stripped = line.strip()
        if stripped in (BEGIN, END):
            inside = stripped == BEGIN
        elif inside and len(stripped) > 12 and not stripped.startswith("#") and stripped not in SCAFFOLDING:
            lines.add(stripped)
    return lines
