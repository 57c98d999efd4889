"""Each graded test as the plugin tells it: the test as collected (``describe``: a ``GradedTest``)
and how it finished (``outcome_of``: a ``TestOutcome``), with the contract function not written
yet that stopped it (``raised``) and what was expected and found, in plain words (``message``).

A finished test's outcome travels on its report as ``report.graded``, a JSON dict (pytest-xdist
sends a report's attributes from its workers to the controller as JSON); ``graded_outcomes``
reads them back.
"""

from __future__ import annotations

import re

from ...questions import QUESTIONS
from ..contract import FUNCTIONS
from .feedback import plain_words, without_paths
from .graded import GradedTest, TestOutcome
from .rubric import NOT_IMPLEMENTED, NOT_TAGS, TIERS

#: pytest's word for a test that a contract function not written yet stopped (``pytest_report_teststatus``).
NOT_IMPLEMENTED_YET = "not implemented"


def describe(item) -> GradedTest:
    """A test's question, tier and claim (its docstring's first line, else its name), and its
    ``tags``: its other markers' names, sorted, which a rubric's weights may name (issue 34)."""
    question = next((m.name for m in item.iter_markers() if m.name in QUESTIONS), None)
    tier = next((m.name for m in item.iter_markers() if m.name in TIERS), None)
    doc = (getattr(item.function, "__doc__", None) or "").strip().splitlines()
    claim = doc[0] if doc else item.name.removeprefix("test_").replace("_", " ")
    tags = tuple(sorted({m.name for m in item.iter_markers() if m.name not in NOT_TAGS}))
    return GradedTest(id=item.nodeid, question=question, tier=tier, claim=claim, tags=tags)


def outcome_of(item, call, report, *, with_message: bool) -> TestOutcome:
    """How the test ``item`` finished (``report``, of ``call``). A test that a contract function
    not written yet stopped has that function's one line (``not_implemented_line``) as its report
    (``report.not_implemented``), not a traceback; ``with_message``: a test that did not pass
    says what was expected and found (``message``)."""
    found = raised(call.excinfo) if not report.passed and not report.skipped and call.excinfo is not None else {}
    if found.get("raised_by"):  # one line instead of a traceback through the test to the function
        report.not_implemented = report.longrepr = not_implemented_line(call.excinfo, found["raised_by"])
    if with_message and not report.passed:
        found["message"] = message(call, report)
    return TestOutcome(test=describe(item), outcome=report.outcome, phase=report.when,
                       seconds=round(call.duration, 3), **found)


def raised(excinfo) -> dict:
    """What a failed test raised: the exception's type (``error``) and, for NotImplementedError
    raised in a contract function (its innermost frame, or the fork's function whose call
    ``IsolatedContract`` answered with it), that function (``raised_by``)."""
    found = {"error": excinfo.typename}
    if excinfo.typename == NOT_IMPLEMENTED:
        name = getattr(excinfo.value, "contract_function", None)
        try:
            name = name or excinfo.traceback[-1].name
        except (IndexError, AttributeError):
            name = ""
        if name in FUNCTIONS:
            found["raised_by"] = name
    return found


def not_implemented_line(excinfo, function: str) -> str:
    """What a contract function not written yet says, in one line: ``Q2: build_mlp is not implemented yet``."""
    text = str(excinfo.value).strip().splitlines()
    return without_paths(text[0]) if text else f"{function} is not implemented yet"


def message(call, report) -> str:
    """What was expected and what was found, in plain words (``feedback.plain_words``)."""
    if call.excinfo is None:
        return without_paths(report.longreprtext[-2000:])
    kind = call.excinfo.type.__name__
    text = str(call.excinfo.value).strip()
    if kind == "NotImplementedError":
        return f"not implemented yet: {without_paths(text)}"
    if kind == "Skipped":
        return without_paths(text)
    lines = [line[2:].strip() for line in report.longreprtext.splitlines() if line.startswith("E ")]
    lines = lines or text.splitlines()
    if lines:
        lines[0] = re.sub(rf"^([\w.]+\.)?{kind}:\s*", "", lines[0])
    return plain_words(kind, lines)[:2000]


def graded_outcomes(stats: dict) -> dict[str, TestOutcome]:
    """Node id -> the outcome of each graded test that finished, from the terminal reporter's
    reports (``report.graded``): a plain run's own, or those pytest-xdist's workers sent (``-n 2``)."""
    outcomes: dict[str, TestOutcome] = {}
    for reports in stats.values():
        for report in reports:
            entry = getattr(report, "graded", None)
            if not isinstance(entry, dict):
                continue
            outcome = TestOutcome.from_json(entry)
            if outcome.test.id not in outcomes or not outcome.passed:
                outcomes[outcome.test.id] = outcome  # a teardown's failure outranks its call's pass
    return outcomes
