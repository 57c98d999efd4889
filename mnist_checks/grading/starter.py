"""The students' starter: the reference contract with its solutions cut out.

Each function body between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes
``raise NotImplementedError("Qn: name is not implemented yet")``; signatures and docstrings stay.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .contract import CONTRACT

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
#: Package modules that quote the reference's solutions (the mutation catalogue edits them): no
#: student's starter and no fork's sandbox ever holds them.
SOLUTION_BEARING = frozenset({"mnist_checks/grading/mutants.py", "mnist_checks/grading/mutation_report.py"})
#: Tests of the grader itself: they need the reference's solutions, so students never get them.
INSTRUCTOR_ONLY = SOLUTION_BEARING | frozenset({
    "tests/test_grading.py", "tests/test_grading_forks.py", "tests/test_grading_attacks.py", "tests/test_isolation.py",
    "tests/test_mutants.py",
})
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


def write_starter(reference_root: Path, target: Path) -> Path:
    """Copy the reference project (the files git tracks) to ``target`` with the starter contract,
    leaving out the grader's own tests (``INSTRUCTOR_ONLY``)."""
    reference_root, target = Path(reference_root), Path(target)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not empty")
    for relative in _project_files(reference_root):
        if relative.as_posix() in INSTRUCTOR_ONLY:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(reference_root / relative, destination)
    contract = target / CONTRACT
    contract.write_text(starter_source((reference_root / CONTRACT).read_text()))
    return contract


def _project_files(root: Path) -> list[Path]:
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
        return [Path(name) for name in listed.stdout.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".tox", "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks"}
        return [p.relative_to(root) for p in root.rglob("*") if p.is_file() and not skip & set(p.relative_to(root).parts)]
