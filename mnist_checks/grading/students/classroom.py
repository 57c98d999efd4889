"""GitHub Classroom's report of a student's run: the rubric's points, test by test (issue 34).

GitHub Classroom records what ``classroom-resources/autograding-grading-reporter@v1`` writes:
for each runner id of its ``runners`` input it reads the environment variable
``<ID>_RESULTS`` (upper case), base64-decodes and JSON-parses it (``{"version": 1, "status",
"max_score", "tests": [{"name", "status", "message", "score"}]}``; src/main.js), and writes
``Points <total>/<max>`` to the check run, ``total`` the left-to-right sum of every test's
``score`` in doubles over the runners whose ``max_score`` is not 0 (src/notify-classroom.js); its
table of runners (src/aggregate-results.js) and its console (src/console-results.js) count
passed tests only.

Here each question is a runner (``q1`` ... ``q5``) holding its tests, each with its exact share
of the question's points (``rubric.score_tests``, as ``mnist-checks grade`` scores them),
rounded so that the sums read as grade shows them (``rubric.shown``): the running total is
carried in whole cents (``cents``), each question's points are grade's per question (where the
cents of the questions add up to grade's total; otherwise the running total's cents are the
questions'), each test is within a cent of its share, and each test's double is chosen so that
the reporter's additions land on the cents exactly: the Points line reads grade's total.
"""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from fractions import Fraction

from ...questions import QUESTIONS, label
from .rubric import TIERS, not_started, not_started_note, score_tests, shown, totals

#: The reporter's runner ids, one per question, and the variables it reads them from.
RUNNERS = QUESTIONS
#: The longest message a test carries to the reporter's console.
MESSAGE_CHARS = 300
#: Where ``pytest --classroom-report --classroom-out DIR`` writes outside GitHub Actions: what would
#: go to ``$GITHUB_OUTPUT`` and to ``$GITHUB_STEP_SUMMARY``.
OUTPUT_FILE, SUMMARY_FILE = "github-output", "step-summary.md"


def env_name(runner: str) -> str:
    """The variable the reporter reads a runner's results from (src/main.js): ``Q2_RESULTS``."""
    return f"{runner.strip().upper()}_RESULTS"


def cents(points: Fraction) -> Fraction:
    """``points`` rounded as grade shows them (``rubric.shown``), as an exact decimal."""
    return Fraction(repr(shown(float(points))))


def encode(result: dict) -> str:
    """A runner's result as the reporter reads it: JSON, base64."""
    return base64.b64encode(json.dumps(result, separators=(",", ":")).encode()).decode()


def in_report_order(tests: list[dict], order: list[str] | None = None) -> list[dict]:
    """``tests`` by question, then tier, then their place in ``order`` (node ids as collected), then id."""
    place = {test_id: index for index, test_id in enumerate(order or [])}
    return sorted(tests, key=lambda t: (QUESTIONS.index(t["question"]), TIERS.index(t["tier"]),
                                        place.get(t["id"], len(place)), t["id"]))


def _maxima(tests: list[dict], rubric: dict) -> dict[str, Fraction]:
    """Each question's points for the tiers that ran (the fast tier where none did)."""
    ran = [tier for tier in TIERS if any(t["tier"] == tier for t in tests)] or ["fast"]
    return {q: sum((Fraction(repr(float(rubric[q][tier]))) for tier in ran), Fraction(0)) for q in QUESTIONS}


def _boundaries(exact: dict[str, Fraction]) -> tuple[dict[str, Fraction], bool]:
    """The running total's cents after each question, and whether they are grade's per question:
    where the questions' cents add up to grade's total's; else the running total's own cents."""
    per_question = [cents(exact[q]) for q in QUESTIONS]
    agree = sum(per_question) == cents(sum(exact.values(), Fraction(0)))
    boundaries, running, exact_running = {}, Fraction(0), Fraction(0)
    for q, shown_points in zip(QUESTIONS, per_question):
        running += shown_points
        exact_running += exact[q]
        boundaries[q] = running if agree else cents(exact_running)
    return boundaries, agree


def _nudged(before: float, score: float, target: float) -> float:
    """``score``, or the double nearest it such that ``before + score`` is ``target`` in doubles as
    the reporter adds them (JavaScript's ``+=``, left to right; not Python's ``sum``, which
    compensates); where none is (``before`` halfway between two of target's neighbours, and ties
    round to even), the one that comes closest: the sums after it aim at their cents again."""
    tried = [score, target - before]  # the second is exact within a factor of 2 (Sterbenz)
    for _ in range(8):
        tried.append(math.nextafter(tried[-1], math.inf if before + tried[-1] < target else -math.inf))
    return min(tried, key=lambda candidate: (abs(before + candidate - target), abs(candidate - score)))


def _added(scores: list[float]) -> float:
    """``scores`` added as the reporter adds them: JavaScript's ``+=``, left to right, from 0 (not
    Python's ``sum``, which compensates from Python 3.12 on)."""
    total = 0
    for score in scores:
        total += score
    return total


def _landing(scores: list[float], target: float) -> list[float]:
    """``scores`` with the last positive one nudged so that they add up to ``target`` exactly; where
    no double does that, the running sum moved first by an ulp or two at one of the three positive
    scores before it (that score nudged so); where nothing does, ``scores`` as they are."""
    positive = [i for i, score in enumerate(scores) if score > 0]
    if _added(scores) == target or not positive:
        return scores
    last = positive[-1]
    for moved in [None, *positive[-2:-5:-1]]:
        for shift in (0, 1, -1, 2, -2):
            trial = list(scores)
            if moved is not None:
                aim = _added(trial[:moved + 1])
                for _ in range(abs(shift)):
                    aim = math.nextafter(aim, math.inf if shift > 0 else -math.inf)
                trial[moved] = _nudged(_added(trial[:moved]), trial[moved], aim)
            trial[last] = _nudged(_added(trial[:last]), trial[last], target)
            if _added(trial) == target:
                return trial
    return scores  # never seen (tests/test_classroom.py): the Points line then shows a double's digits


def scored_runners(tests: list[dict], rubric: dict, order: list[str] | None = None) -> dict[str, dict]:
    """Each question's runner result (``RUNNERS``) for the graded ``tests`` of a run (id, question,
    tier, claim, outcome; ``graded_outcomes``'s), their scores those grade gives, in cents that add up."""
    scored = in_report_order(score_tests(tests, rubric), order)
    exact = {q: sum((Fraction(t["share"]) for t in scored if t["question"] == q and t["outcome"] == "passed"),
                    Fraction(0)) for q in QUESTIONS}
    boundaries, agree = _boundaries(exact)
    maxima = _maxima(tests, rubric)
    results, before, running, start = {}, 0.0, Fraction(0), Fraction(0)
    for q in QUESTIONS:
        own = [t for t in scored if t["question"] == q]
        entries, local, point = [], Fraction(0), start
        for test in own:
            local += Fraction(test["share"]) if test["outcome"] == "passed" else 0
            at = start + cents(local) if agree else cents(running + local)  # the last: boundaries[q]
            score = float(at - point)
            if score and shown(float(maxima[q])):  # the reporter adds the scores of runners worth something only
                score = _nudged(before, score, float(at))
                before += score
            entries.append(_entry(test, score))
            point = at
        results[q] = _runner(q, entries, maxima[q])
        running += exact[q]
        start = boundaries[q]
    counted = [results[q] for q in QUESTIONS if results[q]["max_score"]]  # the runners the reporter adds
    entries = [entry for result in counted for entry in result["tests"]]
    for entry, score in zip(entries, _landing([e["score"] for e in entries], float(boundaries[QUESTIONS[-1]]))):
        entry["score"] = score
    maximum = float(sum((Fraction(repr(result["max_score"])) for result in counted), Fraction(0)))
    for result, score in zip(counted, _landing([result["max_score"] for result in counted], maximum)):
        result["max_score"] = score
    return results


def _entry(test: dict, score: float) -> dict:
    """One test as the reporter reads it: name, status (pass, fail, or error for a fixture's or a
    teardown's failure), a short message in plain words, its score; its node id as ``test_code``."""
    passed = test["outcome"] == "passed"
    status = "pass" if passed else "error" if test.get("phase") in ("setup", "teardown") else "fail"
    return {"name": f"{label(test['question'])} ({test['tier']}): {test['claim']}", "status": status,
            "message": "" if passed else message(test), "score": score,
            "test_code": test["id"]}


def message(test: dict) -> str:
    """Why a test lost its points, in a few plain words: its message's first lines, else what it raised."""
    if test.get("raised_by"):
        return f"{test['raised_by']} is not implemented yet"
    text = " ".join(line.strip() for line in str(test.get("message", "")).splitlines() if line.strip())
    text = text or ("skipped" if test["outcome"] == "skipped" else f"failed: {test.get('error') or 'see the log'}")
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def _runner(question: str, entries: list[dict], maximum: Fraction) -> dict:
    """A runner's result: ``error`` where no test of its question ran, ``fail`` where one lost points."""
    status = "pass" if all(e["status"] == "pass" for e in entries) else "fail"
    if not entries:
        status, entries = "error", [{"name": f"{label(question)}: no test reported", "status": "error",
                                     "score": 0.0, "message": "see the log of the step that ran the tests"}]
    return {"version": 1, "status": status, "max_score": shown(float(maximum)), "tests": entries}


def not_run(question: str, rubric: dict) -> dict:
    """A question's runner result where the tests' step wrote none (it crashed before reporting):
    the workflow's stand-in, worth 0 of the question's fast points."""
    return _runner(question, [], Fraction(repr(float(rubric[question]["fast"]))))


def github_output(results: dict[str, dict]) -> str:
    """The step's outputs as GitHub reads them from ``$GITHUB_OUTPUT``: ``q1=<base64 JSON>``, one a line."""
    return "".join(f"{runner}={encode(results[runner])}\n" for runner in RUNNERS)


def js_number(number: float) -> str:
    """``number`` as JavaScript writes it (``Number::toString``): the shortest digits that read back
    as it (Python's ``repr``'s), ``60`` not ``60.0``, exponents below 1e-6 and from 1e21 only."""
    if number == 0 or not math.isfinite(number):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(number, "NaN" if number != number else "0")
    _, digits, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    text, point = "".join(map(str, digits)), len(digits) + exponent  # value = 0.<text> * 10**point
    if len(text) <= point <= 21:
        body = text + "0" * (point - len(text))
    elif 0 < point <= 21:
        body = f"{text[:point]}.{text[point:]}"
    elif -6 < point <= 0:
        body = f"0.{'0' * -point}{text}"
    else:
        mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
        body = f"{mantissa}e{'+' if point - 1 >= 0 else '-'}{abs(point - 1)}"
    return ("-" if number < 0 else "") + body


def points_line(results: dict[str, dict]) -> str:
    """What the reporter writes to the check run, the grade Classroom records: ``Points 55.45/60``,
    the scores of the runners worth something added left to right (src/notify-classroom.js)."""
    counted = [results[runner] for runner in RUNNERS if results[runner]["max_score"]]
    total = _added([test["score"] for result in counted for test in result["tests"]])
    return f"Points {js_number(total)}/{js_number(_added([result['max_score'] for result in counted]))}"


def step_summary(results: dict[str, dict], tests: list[dict], rubric: dict) -> str:
    """The job summary's Markdown (``$GITHUB_STEP_SUMMARY``): the points per question and in all as
    grade shows them for the same outcomes (``rubric.totals``, ``shown``), the claims that lost
    points (not those of a question not started: its row names the function), and what the points are."""
    sums = totals(score_tests(tests, rubric))
    lines = ["## Points per question", "", "| question | points | tests passed | |", "| --- | ---: | ---: | --- |"]
    lost = []
    for runner in RUNNERS:
        own = [t for t in tests if t["question"] == runner]
        waiting = not_started(own) if own else None
        if waiting is None:
            lost += [entry for entry in results[runner]["tests"] if entry["status"] != "pass"]
        lines.append(f"| {label(runner)} | {shown(sums.get(runner, (0.0, 0.0))[0]):g}/"
                     f"{results[runner]['max_score']:g} | {sum(t['outcome'] == 'passed' for t in own)}/{len(own)} | "
                     f"{not_started_note(waiting) if waiting is not None else ''} |")
    maximum = shown(math.fsum(results[runner]["max_score"] for runner in RUNNERS))
    lines += [f"| **total** | **{shown(sums.get('total', (0.0, 0.0))[0]):g}/{maximum:g}** | "
              f"{sum(t['outcome'] == 'passed' for t in tests)}/{len(tests)} | |", ""]
    if lost:
        lines += ["### Claims that lost points", "",
                  *[f"- {entry['name'].rstrip('.')}: {entry['message']}" for entry in lost], ""]
    lines += ["Each question's points are shared among its tests, as your instructor's grader (`mnist-checks grade`) "
              "shares them for the same outcomes; the grade that counts is the grader's run of the course's own tests. "
              "The reporter's *Test runner summary* counts passed tests, not their points.", ""]
    return "\n".join(lines)
