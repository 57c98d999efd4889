"""What a student reads when a graded test fails: expected and found in plain words.

``plain_words`` turns pytest's assertion lines (its ``E`` lines) into a few short lines::

    expected: (60000, 10000, 60000, 10000)
    found:    (56000, 14000, 56000, 14000)
    first difference at position 0: found 56000, expected 60000
    for example with n=11, seed=0

The conventions it reads are the spec suite's: ``assert found == expected``, numpy's
``ACTUAL``/``DESIRED``, and Hypothesis's ``Failing test case``.  Paths of the sandbox, the
grader's private copy and the installation are cut down to ``exercise.py``, ``conftest.py``,
``tests/...`` and ``mnist_checks/...``: they mean nothing to a student and say where the grader
keeps its files (the checker's whole output, output.txt, too).
"""

from __future__ import annotations

import re

#: A path prefix before a file a student knows: the contract, a test or conftest.py, a package
#: module; absolute, or relative as pytest writes the checker's private copy (``../../canon/tests/...``).
_PATH_PREFIX = re.compile(r"(?:(?<![\w.])\.\.?(?=/))?(?:/[^\s/:'\"(),<>]+)+/"
                          r"(?=(?:tests|mnist_checks)/|(?:exercise|conftest)\.py\b)")
_ASSERT_EQUAL = re.compile(r"^assert (?P<found>.+?) == (?P<expected>.+)$")
_INDEX_DIFF = re.compile(r"^At index (?P<index>\d+) diff: (?P<found>.+?) != (?P<expected>.+)$")
_NUMPY = re.compile(r"^(?P<which>ACTUAL|DESIRED|x|y): (?P<value>.+)$")
_NOISE = ("Use -v to get more diff", "Full diff:", "Omitting ", "Max relative difference")
_MAX_LINES = 8


def without_paths(text: str) -> str:
    """``text`` with every directory before ``exercise.py``, ``tests/`` or ``mnist_checks/`` cut."""
    return _PATH_PREFIX.sub("", text)


def plain_words(kind: str, lines: list[str]) -> str:
    """Expected, found and a counterexample from an exception's type and its ``E`` lines."""
    lines = [without_paths(line.rstrip()) for line in lines]
    lines, example = _counterexample(lines)
    explained = next((i for i, line in enumerate(lines) if line.startswith("assert ")), 0)
    if kind == "AssertionError" and any(line.strip() for line in lines[:explained]):
        lines = lines[:explained]  # ``assert found is None, why``: the why says it, the assert repeats it
    out: list[str] = []
    rest = []
    values: dict[str, str] = {}
    pending = iter(lines)
    for line in pending:
        if not line.strip() or line.startswith(_NOISE):
            continue
        if line.startswith("+"):  # pytest's "where 3 = len(...)": what the compared values were
            where = line.lstrip("+ ")
            if where.startswith("where") and "<built-in" not in where and sum(r.startswith("where") for r in rest) < 2:
                rest.append(where)
            continue
        if (match := _ASSERT_EQUAL.match(line)) and _balanced(match["found"]) and _balanced(match["expected"]):
            values.setdefault("found", match["found"])
            values.setdefault("expected", match["expected"])
        elif match := _INDEX_DIFF.match(line):
            values["difference"] = (f"first difference at position {match['index']}: found {match['found']}, "
                                    f"expected {match['expected']}")
        elif match := _NUMPY.match(line):
            value = match["value"]
            while not _balanced(value) and (more := next(pending, None)) is not None:
                value += " " + more.strip()  # numpy wraps a long array over lines
            values["found" if match["which"] in ("ACTUAL", "x") else "expected"] = " ".join(value.split())
        elif line.startswith("assert "):
            rest.append(f"this was false: {line.removeprefix('assert ')}")
        else:
            rest.append(line.strip().replace("(ACTUAL)", "(found)").replace("(DESIRED)", "(expected)"))
    if "expected" in values:
        out += [f"expected: {values['expected']}", f"found:    {values.get('found', '?')}"]
        if "difference" in values:
            out.append(values["difference"])
    if kind and kind != "AssertionError":  # the implementation raised: say what
        rest = [f"{kind}: {rest[0]}" if rest else kind, *rest[1:]]
    out += rest[: max(0, _MAX_LINES - len(out))]
    if example:
        out.append(f"for example with {example}")
    return "\n".join(out)


def _balanced(text: str) -> bool:
    """Whether ``text``'s brackets close: ``a == b`` was the whole assertion, not part of one."""
    depth = 0
    for char in text:
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return False
    return depth == 0


def _counterexample(lines: list[str]) -> tuple[list[str], str]:
    """The lines without Hypothesis's ``Failing test case: test(...)`` block, and its generated
    arguments as ``n=11, seed=0`` (the contract under test, the ``contract`` fixture, left out)."""
    start = next((i for i, line in enumerate(lines) if line.startswith(("Falsifying example:", "Failing test case:"))),
                 None)
    if start is None:
        return lines, ""
    end = start + 1
    while end < len(lines) and not lines[end - 1].strip().startswith(")"):
        end += 1
    arguments = []
    for line in lines[start + 1: end]:
        text = line.split("#", 1)[0].strip().rstrip(",")
        if "=" in text and not text.startswith(("contract=", "self=")):
            arguments.append(text)
    return lines[:start] + lines[end:], ", ".join(arguments)
