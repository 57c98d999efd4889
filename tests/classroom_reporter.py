"""A model of GitHub Classroom's grading reporter (issue 34), written from its source, to read the
Classroom report (``mnist_checks.grading.students.classroom``) as the reporter reads it:
github-education-resources/autograding-grading-reporter, src/main.js (``parseRunnerResults``, the
step's failure), src/notify-classroom.js (the ``Points`` line: the grade Classroom records) and
src/aggregate-results.js (its table: passed tests counted, not their scores). Written apart from
the package's code: nothing here imports it."""

import base64
import binascii
import json
import math

RUNNERS_ERROR = "The runners input must be a comma-separated list of strings."


def parse_runner_results(runners: str, env: dict) -> list[dict]:
    """main.js's ``parseRunnerResults``: each runner's ``<RUNNER>_RESULTS`` (trimmed, upper case),
    base64 then JSON; any failure is its one error."""
    try:
        parsed = []
        for runner in runners.split(","):
            encoded = env[f"{runner.strip().upper()}_RESULTS"]  # undefined: Buffer.from throws
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
            parsed.append({"runner": runner.strip(), "results": json.loads(text)})
        return parsed
    except (KeyError, TypeError, ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ValueError(RUNNERS_ERROR) from error


def js_string(number) -> str:
    """JavaScript's ``${number}`` for the numbers a grade holds: integers without a point, others
    as their shortest round-trip digits (Python's repr, for 1e-6 <= |x| < 1e21)."""
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise TypeError(number)
    if float(number).is_integer() and abs(number) < 1e21:
        return str(int(number))
    assert 1e-6 <= abs(number) < 1e21, number  # beyond: exponents, which no grade reaches
    return repr(float(number))


def notify_classroom(runner_results: list[dict]) -> str | None:
    """notify-classroom.js: runners with a falsy ``max_score`` skipped, the others' maxima and every
    score of their tests added with ``+=`` left to right (doubles); ``Points total/max`` (None
    where the maxima add up to 0, as it returns before writing)."""
    total, maximum = 0, 0
    for runner in runner_results:
        results = runner["results"]
        if not results["max_score"]:
            continue
        maximum += results["max_score"]
        for test in results["tests"]:
            total += test["score"]
    return f"Points {js_string(total)}/{js_string(maximum)}" if maximum else None


def aggregate_results(runner_results: list[dict]) -> list[tuple]:
    """aggregate-results.js's table rows: ``(runner, score, max_score)``, the score the passed
    tests' count over the tests' count times the maximum (or 1): counts, not points."""
    rows = []
    for runner in runner_results:
        results = runner["results"]
        tests = results["tests"]
        passed = sum(test["status"] == "pass" for test in tests)
        score = passed / len(tests) * (results["max_score"] or 1) if tests else math.nan
        rows.append((runner["runner"].strip(), score, results["max_score"] or 0))
    return rows


def step_failure(runner_results: list[dict]) -> str | None:
    """main.js: the step fails where a runner's status is ``fail``, else where one's is ``error``."""
    if any(r["results"]["status"] == "fail" for r in runner_results):
        return "Some tests failed."
    if any(r["results"]["status"] == "error" for r in runner_results):
        return "Some tests errored."
    return None


def type_errors(runner_results: list[dict]) -> list[str]:
    """What of a runner's result the reporter reads that is missing or of another type: ``status``,
    ``max_score`` (a number), ``tests`` (a list of ``name``, ``status``, ``message`` strings and a
    finite ``score`` >= 0); the command grader's ``version`` 1."""
    errors = []

    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0

    for runner in runner_results:
        name, results = runner["runner"], runner["results"]
        if results.get("version") != 1 or results.get("status") not in ("pass", "fail", "error"):
            errors.append(f"{name}: version {results.get('version')!r}, status {results.get('status')!r}")
        if not number(results.get("max_score")):
            errors.append(f"{name}: max_score {results.get('max_score')!r}")
        tests = results.get("tests")
        if not isinstance(tests, list) or not tests:
            errors.append(f"{name}: tests {tests!r}")
            continue
        for test in tests:
            if not (isinstance(test.get("name"), str) and test["name"] and isinstance(test.get("message"), str)
                    and test.get("status") in ("pass", "fail", "error") and number(test.get("score"))):
                errors.append(f"{name}: test {test!r}")
    return errors
