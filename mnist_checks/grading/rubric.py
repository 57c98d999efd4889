"""Points per question and tier, and the scores they give.

A rubric maps each question to the points of its fast-tier and slow-tier tests; within a
(question, tier) group every test carries an equal share, so a question earns partial credit.
Instructors pass their own as JSON in the same shape (``--rubric FILE``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import MnistChecksError

QUESTIONS = ("q1", "q2", "q3", "q4", "q5")
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
            if not isinstance(points, (int, float)) or points < 0:
                raise RubricError(f"{path}: {question}.{tier} must be a number of points >= 0, not {points!r}")
    return rubric


def score_tests(tests: list[dict], rubric: dict) -> list[dict]:
    """Each test (with ``question``, ``tier`` and ``outcome``) with its ``score`` and ``max_score``."""
    group_sizes: dict[tuple, int] = {}
    for test in tests:
        key = (test["question"], test["tier"])
        group_sizes[key] = group_sizes.get(key, 0) + 1
    scored = []
    for test in tests:
        share = rubric[test["question"]][test["tier"]] / group_sizes[(test["question"], test["tier"])]
        scored.append({**test, "max_score": share, "score": share if test["outcome"] == "passed" else 0.0})
    return scored


def totals(scored: list[dict]) -> dict[str, tuple[float, float]]:
    """``(score, max_score)`` overall (``total``), per question and per tier."""
    out: dict[str, tuple[float, float]] = {}
    for test in scored:
        for key in ("total", test["question"], test["tier"]):
            score, maximum = out.get(key, (0.0, 0.0))
            out[key] = (score + test["score"], maximum + test["max_score"])
    return out


def points_per_question(tests: list[dict], rubric: dict) -> list[str]:
    """One line per question that ran, then the total: ``Q2  11.7/15  fast 7/9 tests``.

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
        score, maximum = sums[question]
        lines.append(f"{question.upper()}  {score:4.1f}/{maximum:g}  {', '.join(counts)}")
    score, maximum = sums["total"]
    tiers = " and ".join(tier for tier in TIERS if tier in sums)
    lines.append(f"total {score:.1f}/{maximum:g} ({tiers} tier{'s' if ' and ' in tiers else ''})")
    return lines
