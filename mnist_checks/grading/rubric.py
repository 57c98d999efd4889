"""Points per question and tier, and the scores they give.

A rubric maps each question to the points of its fast-tier and slow-tier tests; within a
(question, tier) group every test carries an equal share, so a question earns partial credit.
Instructors pass their own as JSON in the same shape (``--rubric FILE``).

Shares are exact fractions (a test's ``share``, e.g. ``"5/3"``) and totals add them exactly: a
fork that passes everything has exactly the rubric's points (60, not 59.99999999999999). Only
what is shown is rounded (``shown``: 2 decimals).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

from ..errors import MnistChecksError
from ..questions import QUESTIONS, label
from .contract import FUNCTIONS

TIERS = ("fast", "slow")

#: The default: 60 points of structure (fast), 40 of trained-model claims (slow); 100 in all.
DEFAULT_RUBRIC = {
    "q1": {"fast": 10, "slow": 5},
    "q2": {"fast": 15, "slow": 10},
    "q3": {"fast": 10, "slow": 5},
    "q4": {"fast": 10, "slow": 10},
    "q5": {"fast": 15, "slow": 10},
}


class RubricError(MnistChecksError, ValueError):
    """A rubric file that is unreadable or not of the rubric's shape."""

    remedy = ("write the rubric as JSON of points per question and tier, shaped as the built-in one "
              "(mnist_checks/grading/rubric.py), or leave out --rubric to use that one")


def load_rubric(path: str | Path | None = None) -> dict:
    """The rubric in ``path`` (JSON), checked; the default without a path."""
    if path is None:
        return DEFAULT_RUBRIC
    try:
        rubric = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise RubricError(f"{path}: not a readable JSON rubric: {error}") from error
    if not isinstance(rubric, dict) or set(rubric) != set(QUESTIONS):
        raise RubricError(f"{path}: expected the questions {', '.join(QUESTIONS)} as keys")
    for question, tiers in rubric.items():
        if not isinstance(tiers, dict) or set(tiers) != set(TIERS):
            raise RubricError(f"{path}: {question} needs points for exactly 'fast' and 'slow'")
        for tier, points in tiers.items():
            if not isinstance(points, (int, float)) or isinstance(points, bool) or not math.isfinite(points) \
                    or points < 0:
                raise RubricError(f"{path}: {question}.{tier} must be a number of points >= 0, not {points!r}")
    return rubric


#: Decimals of every score shown (results.json, the gradebook); totals are exact before rounding.
DECIMALS = 2


def shown(points: float) -> float:
    """A score as people read it: ``14.999999999999998`` -> 15.0, ``58.333333333333336`` -> 58.33."""
    return round(float(points), DECIMALS) + 0.0  # + 0.0: never -0.0


def score_tests(tests: list[dict], rubric: dict) -> list[dict]:
    """Each test (with ``question``, ``tier`` and ``outcome``) with its ``score`` and ``max_score``
    (floats) and its exact ``share`` of its question's and tier's points (``"5/3"``)."""
    group_sizes: dict[tuple, int] = {}
    for test in tests:
        key = (test["question"], test["tier"])
        group_sizes[key] = group_sizes.get(key, 0) + 1
    scored = []
    for test in tests:
        share = _exact(rubric[test["question"]][test["tier"]]) / group_sizes[(test["question"], test["tier"])]
        scored.append({**test, "max_score": float(share), "score": float(share) if test["outcome"] == "passed" else 0.0,
                       "share": str(share)})
    return scored


def _exact(points: float) -> Fraction:
    """A rubric's points as written (``7.5`` is 15/2, ``0.1`` is 1/10, not its binary neighbour)."""
    return Fraction(repr(points)) if isinstance(points, float) else Fraction(points)


def _exact_scores(test: dict) -> tuple[Fraction, Fraction]:
    """A scored test's ``(score, max_score)`` as exact fractions: its ``share`` where it has one
    (results of earlier versions have not), the score being all of it or what it says."""
    maximum = Fraction(test["share"]) if "share" in test else _exact(test["max_score"])
    score = maximum if test["score"] == test["max_score"] else _exact(test["score"])
    return score, maximum


def totals(scored: list[dict]) -> dict[str, tuple[float, float]]:
    """``(score, max_score)`` overall (``total``), per question and per tier: exact sums of the
    tests' shares, as floats (round them only to show them: ``shown``)."""
    exact: dict[str, tuple[Fraction, Fraction]] = {}
    for test in scored:
        test_score, test_maximum = _exact_scores(test)
        for key in ("total", test["question"], test["tier"]):
            score, maximum = exact.get(key, (Fraction(0), Fraction(0)))
            exact[key] = (score + test_score, maximum + test_maximum)
    return {key: (float(score), float(maximum)) for key, (score, maximum) in exact.items()}


#: The exception of a contract function not written yet (the starter's, ``starter.starter_source``).
NOT_IMPLEMENTED = "NotImplementedError"


def not_started(tests: list[dict]) -> list[str] | None:
    """What raised NotImplementedError, where that is all that happened: no test of ``tests``
    passed, and every one that failed or errored raised it (skipped tests aside). Then the
    contract functions that raised it (the tests' ``raised_by``, in the contract's order; empty
    where none was named); ``None`` where anything else happened. Decided by the exceptions the
    tests raised, never by comparing the code with the starter's."""
    failed = [t for t in tests if t["outcome"] not in ("passed", "skipped")]
    if not failed or any(t["outcome"] == "passed" for t in tests):
        return None
    if any(t.get("error") != NOT_IMPLEMENTED for t in failed):
        return None
    order = list(FUNCTIONS)
    named = {t["raised_by"] for t in failed if t.get("raised_by")}
    return sorted(named, key=lambda name: (order.index(name) if name in order else len(order), name))


def not_started_note(functions: list[str]) -> str:
    """``not started: build_mlp raises NotImplementedError`` (``to_images, build_cnn raise ...``)."""
    if not functions:
        return f"not started: every test raises {NOT_IMPLEMENTED}"
    return f"not started: {', '.join(functions)} raise{'s' if len(functions) == 1 else ''} {NOT_IMPLEMENTED}"


def points_per_question(tests: list[dict], rubric: dict) -> list[str]:
    """One line per question that ran, then the total: ``Q2  11.7/15  fast 7/9 tests``; for a
    question whose every test raised NotImplementedError, what raised it instead of the counts:
    ``Q2   0.0/15  not started: build_mlp raises NotImplementedError`` (``not_started``).

    Points are shared among the tests that ran (as ``score_tests`` shares them), so a run of
    one tier or one question shows that tier's or question's points."""
    scored = score_tests(tests, rubric)
    sums = totals(scored)
    lines = []
    for question in QUESTIONS:
        if question not in sums:
            continue
        counts = []
        for tier in TIERS:
            ran = [t for t in scored if t["question"] == question and t["tier"] == tier]
            if ran:
                counts.append(f"{tier} {sum(t['outcome'] == 'passed' for t in ran)}/{len(ran)} tests")
        untouched = not_started([t for t in scored if t["question"] == question])
        score, maximum = sums[question]
        detail = not_started_note(untouched) if untouched is not None else ", ".join(counts)
        lines.append(f"{label(question)}  {score:4.1f}/{maximum:g}  {detail}")
    score, maximum = sums["total"]
    tiers = " and ".join(tier for tier in TIERS if tier in sums)
    lines.append(f"total {score:.1f}/{maximum:g} ({tiers} tier{'s' if ' and ' in tiers else ''})")
    return lines
