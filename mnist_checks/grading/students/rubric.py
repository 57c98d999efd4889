"""Points per question and tier, and the scores they give.

A rubric maps each question to the points of its fast-tier and slow-tier tests; within a
(question, tier) group every test carries an equal share, so a question earns partial credit.
Instructors pass their own as JSON in the same shape (``--rubric FILE``). Its optional
``"weights"`` (issue 34) weigh claims by test name or tag (``WEIGHTS``): a test's share of its
group is then the points times its weight over the sum of the group's weights (default 1 each).

Shares are exact fractions (a test's ``share``, e.g. ``"5/3"``) and totals add them exactly: a
fork that passes everything has exactly the rubric's points (60, not 59.99999999999999). Only
what is shown is rounded (``shown``: 2 decimals).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

from ...errors import MnistChecksError
from ...questions import QUESTIONS, label
from ..contract import FUNCTIONS
from .graded import GradedTest

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
              "(mnist_checks/grading/students/rubric.py), with optional \"weights\" by test name or \"tag:NAME\" "
              "(docs/grading.md, docs/rubric-example.json), or leave out --rubric to use the built-in one")


#: The rubric's optional key (issue 34): ``{"test_name": 10, "test_name[param]": 2, "tag:behaviour": 3}``,
#: relative weights (numbers >= 0; 0: a claim worth nothing) of the tests a key names; every other weighs 1.
WEIGHTS = "weights"
#: A weight's key naming a tag, a pytest marker of the tests: ``tag:behaviour``.
TAG = "tag:"
#: Markers that are no tag: the tiers, the questions (a rubric's points already set them) and pytest's
#: and its plugins' own.
NOT_TAGS = frozenset({*TIERS, "e2e", "benchmark", *QUESTIONS, "parametrize", "skip", "skipif", "xfail",
                      "usefixtures", "filterwarnings", "xdist_group", "hypothesis"})


def load_rubric(path: str | Path | None = None) -> dict:
    """The rubric in ``path`` (JSON), checked, its ``WEIGHTS`` by their shape (the tests they name:
    ``check_weights``); the default without a path."""
    if path is None:
        return DEFAULT_RUBRIC
    try:
        rubric = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise RubricError(f"{path}: not a readable JSON rubric: {error}") from error
    if not isinstance(rubric, dict) or not set(QUESTIONS) <= set(rubric):
        raise RubricError(f"{path}: expected the questions {', '.join(QUESTIONS)} as keys")
    unknown = sorted(set(rubric) - {*QUESTIONS, WEIGHTS})
    if unknown:
        raise RubricError(f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
                          f"a rubric holds the questions {', '.join(QUESTIONS)} and, optionally, {WEIGHTS!r}")
    for question, tiers in rubric.items():
        if question == WEIGHTS:
            _check_weight_keys(path, tiers)
            continue
        if not isinstance(tiers, dict) or set(tiers) != set(TIERS):
            raise RubricError(f"{path}: {question} needs points for exactly 'fast' and 'slow'")
        for tier, points in tiers.items():
            if not _number(points) or points < 0:
                raise RubricError(f"{path}: {question}.{tier} must be a number of points >= 0, not {points!r}")
    return rubric


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_weight_keys(path, weights) -> None:
    """``weights`` as a rubric file may hold them: test names or ``tag:NAME`` to numbers >= 0."""
    if not isinstance(weights, dict):
        raise RubricError(f"{path}: {WEIGHTS!r} must be an object of test names or \"tag:NAME\" to weights, "
                          f"not {weights!r}")
    for key, weight in weights.items():
        if not _number(weight) or weight < 0:
            raise RubricError(f"{path}: the weight of {key!r} must be a number >= 0, not {weight!r}")
        if "::" in key or not key.strip() or key == TAG:
            raise RubricError(f"{path}: weights name a test by its name as pytest shows it after its file's '::' "
                              f"(test_name or test_name[param]) or a tag as \"tag:NAME\", not {key!r}")
        if key.startswith(TAG) and key.removeprefix(TAG) in NOT_TAGS:
            raise RubricError(f"{path}: {key!r}: {key.removeprefix(TAG)} is a tier, question or pytest marker, "
                              "not a tag: a question's and tier's points are its rubric's entry")


#: A course's rubric in the students' repository (``mnist-checks starter --rubric FILE`` writes it):
#: their own runs and the Classroom workflow score with it, as ``grade --rubric FILE`` does.
RUBRIC_FILE = "rubric.json"


def rubric_of(root: str | Path) -> dict:
    """The rubric a students' repository at ``root`` is scored with: its ``RUBRIC_FILE``, else the default."""
    path = Path(root) / RUBRIC_FILE
    return load_rubric(path) if path.is_file() else DEFAULT_RUBRIC


#: Decimals of every score shown (results.json, the gradebook); totals are exact before rounding.
DECIMALS = 2


def shown(points: float) -> float:
    """A score as people read it: ``14.999999999999998`` -> 15.0, ``58.333333333333336`` -> 58.33."""
    return round(float(points), DECIMALS) + 0.0  # + 0.0: never -0.0


def score_tests(tests: list[dict], rubric: dict) -> list[dict]:
    """Each test (with ``question``, ``tier`` and ``outcome``) with its ``score`` and ``max_score``
    (floats) and its exact ``share`` of its question's and tier's points (``"5/3"``): the points
    times its weight (``weight_of``) over the sum of its group's weights (issue 34); 0 where they sum to 0."""
    group_weights = _group_weights(tests, rubric)
    scored = []
    for test in tests:
        points, group = _exact(rubric[test["question"]][test["tier"]]), group_weights[(test["question"], test["tier"])]
        share = points * weight_of(test, rubric) / group if group else Fraction(0)
        scored.append({**test, "max_score": float(share), "score": float(share) if test["outcome"] == "passed" else 0.0,
                       "share": str(share)})
    return scored


def name_of(test: dict) -> str:
    """A test's name as pytest shows it after its file's ``::``: ``test_x[3]`` (a test without ``id``: "")."""
    return test.get("id", "").rpartition("::")[2]


def weight_of(test: dict, rubric: dict) -> Fraction:
    """A test's weight in ``rubric`` (issue 34): its full name's (``test_x[3]``), else its function's
    (``test_x``), else its one weighted tag's (``tag:behaviour``, from its ``tags``), else 1. A
    test with two weighted tags and no weighted name is a ``RubricError`` naming them."""
    weights = rubric.get(WEIGHTS) or {}
    if not weights:
        return Fraction(1)
    name = name_of(test)
    for key in (name, name.partition("[")[0]):
        if key and key in weights:
            return _exact(weights[key])
    tagged = sorted(TAG + tag for tag in test.get("tags", ()) if TAG + tag in weights)
    if len(tagged) > 1:
        raise RubricError(f"{name} has {len(tagged)} weighted tags, {' and '.join(tagged)}: the rubric cannot tell "
                          f"which weight is its own; weigh it by its name (\"{name.partition('[')[0]}\": ...), "
                          "which beats its tags")
    return _exact(weights[tagged[0]]) if tagged else Fraction(1)


def check_weights(rubric: dict, tests: list[GradedTest]) -> None:
    """A ``RubricError`` where the rubric's weights do not fit ``tests`` (every graded test, both
    tiers, as collected with their ``tags``; issue 34): a weight naming no test or tag of them, a
    test with two weighted tags, a question's tier with points whose tests all weigh 0."""
    weights = rubric.get(WEIGHTS) or {}
    names = {part for test in tests for part in (test.name, test.name.partition("[")[0])}
    tags = {tag for test in tests for tag in test.tags}
    unknown = [key for key in weights
               if (key.removeprefix(TAG) not in tags if key.startswith(TAG) else key not in names)]
    if unknown:
        functions = sorted({name.partition("[")[0] for name in names if name})
        tagged = ", ".join(TAG + tag for tag in sorted(tags)) or "none"
        raise RubricError(f"weights name no graded test: {', '.join(unknown)}; graded tests are "
                          f"{', '.join(functions)}; their tags are {tagged}")
    for (question, tier), weight in _group_weights([test.to_json() for test in tests], rubric).items():
        if weight == 0 and rubric[question][tier]:
            raise RubricError(f"every graded test of {label(question)} {tier} weighs 0, so its "
                              f"{rubric[question][tier]:g} points would go to none: weigh one of them above 0")


def _group_weights(tests: list[dict], rubric: dict) -> dict[tuple, Fraction]:
    sums: dict[tuple, Fraction] = {}
    for test in tests:
        key = (test["question"], test["tier"])
        sums[key] = sums.get(key, Fraction(0)) + weight_of(test, rubric)
    return sums


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
