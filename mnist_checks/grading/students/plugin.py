"""pytest plugin of the grader: points per question at the end of every run, and the grader's log.

The spec suite's conftest loads it, so every ``pytest`` run ends with the points per question
the default rubric gives the tests that ran (``rubric.points_per_question``), and names, for a
question whose every test raised NotImplementedError, the function that raised it.  A test (or
its fixture) stopped by a contract function's NotImplementedError is counted apart as ``not
implemented`` (``N``), without a traceback, and each such function is told once, in one line, at
the end: the untouched starter's first run is a screenful, and every other failure keeps
pytest's own report. With
``--grade-log FILE`` it writes one JSON line per test as soon as it finishes: a process that
crashes or is killed mid-run keeps the results of every test before it.  ``--grade-collect
FILE`` writes the graded tests (id, question, tier, claim) and stops after collection.
``--classroom-report`` (the starter's Classroom workflow, issue 34) ends the run with GitHub
Classroom's report of it, test by test (``classroom``).
"""

from __future__ import annotations

import json
import os
import re

import pytest

from ...questions import QUESTIONS
from ..contract import FUNCTIONS
from .feedback import plain_words, without_paths
from .rubric import NOT_IMPLEMENTED, NOT_TAGS, RUBRIC_FILE, TIERS, points_per_question, rubric_of

#: pytest's word for a test that a contract function not written yet stopped (``pytest_report_teststatus``).
NOT_IMPLEMENTED_YET = "not implemented"
#: The session's runs of the exercise (``exercise_run``'s records, one per seed): their trainings
#: are said at the end, and ``mnist_checks.compat_log`` takes the first one's figures.
RUN_RECORDS = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("mnist-checks grading")
    group.addoption("--grade-log", metavar="FILE", help="append one JSON line per finished test")
    group.addoption("--grade-collect", metavar="FILE", help="write the graded tests as JSON and stop")
    group.addoption("--classroom-report", action="store_true",
                    help="GitHub Classroom's report of the run: q1..q5 to $GITHUB_OUTPUT, the points per question "
                         "to $GITHUB_STEP_SUMMARY (where unset: into --classroom-out DIR, else the terminal)")
    group.addoption("--classroom-out", metavar="DIR", help="where --classroom-report writes outside GitHub Actions")


def describe(item) -> dict:
    """A test's question, tier and claim (its docstring's first line, else its name), and its
    ``tags``: its other markers' names, sorted, which a rubric's weights may name (issue 34)."""
    question = next((m.name for m in item.iter_markers() if m.name in QUESTIONS), None)
    tier = next((m.name for m in item.iter_markers() if m.name in TIERS), None)
    doc = (getattr(item.function, "__doc__", None) or "").strip().splitlines()
    claim = doc[0] if doc else item.name.removeprefix("test_").replace("_", " ")
    tags = sorted({m.name for m in item.iter_markers() if m.name not in NOT_TAGS})
    return {"id": item.nodeid, "question": question, "tier": tier, "claim": claim, "tags": tags}


def pytest_collection_finish(session):
    path = session.config.getoption("--grade-collect")
    if path:
        graded = [describe(item) for item in session.items if describe(item)["question"]]
        with open(path, "w") as handle:
            json.dump(graded, handle)


def pytest_runtestloop(session):
    if session.config.getoption("--grade-collect"):
        return True  # collected only
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    finished = report.when == "call" or (report.when == "setup" and not report.passed)
    if report.when == "teardown" and report.failed:
        finished = True
    if not finished:
        return
    entry = {**describe(item), "outcome": report.outcome, "phase": report.when, "seconds": round(call.duration, 3)}
    if not report.passed and not report.skipped and call.excinfo is not None:
        entry.update(_raised(call.excinfo))
        if entry.get("raised_by"):  # one line instead of a traceback through the test to the function
            report.not_implemented = report.longrepr = _not_implemented_line(call.excinfo, entry["raised_by"])
    if not report.passed and item.config.getoption("--classroom-report"):
        entry["message"] = _message(call, report)  # the Classroom report's (issue 34)
    if entry["question"] and entry["tier"]:
        report.graded = entry  # travels with the report to pytest-xdist's controller
    path = item.config.getoption("--grade-log")
    if not path:
        return
    if not report.passed:
        entry["message"] = _message(call, report)
    with open(path, "a") as handle:
        handle.write(json.dumps(entry) + "\n")


def graded_outcomes(stats: dict) -> dict:
    """Node id -> question, tier and outcome of each graded test that finished, from the terminal
    reporter's reports: a plain run's own, or those pytest-xdist's workers sent (``-n 2``)."""
    outcomes = {}
    for reports in stats.values():
        for report in reports:
            entry = getattr(report, "graded", None)
            if isinstance(entry, dict) and (entry["id"] not in outcomes or entry["outcome"] != "passed"):
                outcomes[entry["id"]] = entry  # a teardown's failure outranks its call's pass
    return outcomes


def _raised(excinfo) -> dict:
    """What a failed test raised: the exception's type (``error``) and, for NotImplementedError
    raised in a contract function (its innermost frame, or the fork's function whose call
    ``IsolatedContract`` answered with it), that function (``raised_by``)."""
    raised = {"error": excinfo.typename}
    if excinfo.typename == NOT_IMPLEMENTED:
        name = getattr(excinfo.value, "contract_function", None)
        try:
            name = name or excinfo.traceback[-1].name
        except (IndexError, AttributeError):
            name = ""
        if name in FUNCTIONS:
            raised["raised_by"] = name
    return raised


def _not_implemented_line(excinfo, function: str) -> str:
    """What a contract function not written yet says, in one line: ``Q2: build_mlp is not implemented yet``."""
    text = str(excinfo.value).strip().splitlines()
    return without_paths(text[0]) if text else f"{function} is not implemented yet"


def pytest_report_teststatus(report, config):
    """A test that a contract function not written yet stopped, in its call or a fixture: counted
    as ``not implemented`` (``N``), apart from the failures and errors pytest reports in full."""
    if report.failed and getattr(report, "not_implemented", None):
        return NOT_IMPLEMENTED_YET, "N", ("NOT IMPLEMENTED", {"yellow": True})
    return None


def _say_not_implemented(terminalreporter) -> None:
    """Each contract function that stopped tests, once: ``Q2: build_mlp is not implemented yet (11 tests wait for
    it)``; read from the reports, so pytest-xdist's workers' too."""
    waiting: dict[str, set] = {}
    for report in terminalreporter.stats.get(NOT_IMPLEMENTED_YET, []):
        waiting.setdefault(str(report.not_implemented), set()).add(report.nodeid)
    if waiting:
        terminalreporter.ensure_newline()  # after the progress line, which a plain run leaves open
        terminalreporter.section("not implemented yet", yellow=True)
        order = [*FUNCTIONS]
        for line, tests in sorted(waiting.items(), key=lambda told: next(
                (i for i, function in enumerate(order) if f"{function} " in told[0]), len(order))):
            terminalreporter.write_line(f"{line} ({len(tests)} test{'s wait' if len(tests) > 1 else ' waits'} for it)")


def _message(call, report) -> str:
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


def note_run(config, record: dict) -> None:
    """A run of the exercise in this session (one per seed): its trainings
    (``record["models"][name]["training"]``) and improvement claims are said at the end, and its
    trainings written one ``{"training": name, ...}`` line each into the grader's log, where it
    asks for one."""
    config.stash.setdefault(RUN_RECORDS, []).append(record)
    path = config.getoption("--grade-log")
    if path:
        with open(path, "a") as handle:
            for name, model in record["models"].items():
                handle.write(json.dumps({"training": name, **model["training"], **_curves(record, name)}) + "\n")


def _curves(record: dict, name: str) -> dict:
    """What a fork's feedback page draws of a trained model: its accuracy per epoch (``history``)
    and the improvement claims it makes over another model, each with its McNemar test."""
    from ...significance import Comparison

    history = record["models"][name].get("history", {})
    said = [Comparison.from_record(found) for found in record.get("improvements", [])]
    return {"history": {key: list(history[key]) for key in ("accuracy", "val_accuracy") if key in history},
            "improvements": [{"sentence": c.sentence(), "real": c.is_improvement()} for c in said if c.better == name]}


def note_unended(config, unended: list[str]) -> None:
    """What the student server's teardown could not end (``IsolatedContract.unended``), one
    ``{"unended": why}`` line each in the grader's log: the fork's row then says so."""
    path = config.getoption("--grade-log")
    if path and unended:
        with open(path, "a") as handle:
            for why in unended:
                handle.write(json.dumps({"unended": why}) + "\n")


def note_training(config, model: str, epochs: int) -> None:
    """The exercise's run starts ``model`` (``run_exercise``'s ``on_model``): a ``{"training_started":
    model, "epochs": epochs}`` line in the grader's log, where it asks for one, for its progress
    display (``checker.grade_log_now``); the outcomes read from the log (``read_grade_log``) skip it."""
    _progress_line(config, {"training_started": model, "epochs": epochs})


def note_epoch(config, done: int, epochs: int) -> None:
    """``done`` of the model's ``epochs`` trained (``run_exercise``'s ``on_epoch``): an
    ``{"epoch_done": done, "epochs": epochs}`` line in the grader's log, where it asks for one."""
    _progress_line(config, {"epoch_done": done, "epochs": epochs})


def _progress_line(config, entry: dict) -> None:
    path = config.getoption("--grade-log")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(entry) + "\n")


def _say_run(terminalreporter, record: dict, prefix: str) -> None:
    """Which of a run's trained models were reused from an earlier, identical training, and its
    improvement claims with their McNemar tests."""
    models = record.get("models", {})
    reused = [name for name, model in models.items() if model["training"].get("reused")]
    if reused:
        terminalreporter.write_line(f"{prefix}reused earlier trainings of the very same model, data and settings: "
                                    f"{', '.join(reused)} (pytest --retrain trains them again)")
    trained = [f"{name} {sum(model['history']['seconds']):.0f} s" for name, model in models.items()
               if not model["training"].get("reused")]
    if trained:
        terminalreporter.write_line(f"{prefix}trained, validation included: {', '.join(trained)}")
    if record.get("improvements"):
        from ...report import improvements  # scipy, only where a run was made

        for line in improvements(record):
            terminalreporter.write_line(prefix + line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Every run ends with the points per question of the tests that ran (the repository's
    ``rubric.json``, else the default rubric), and says which trained models were reused from an
    earlier, identical training."""
    records = config.stash.get(RUN_RECORDS, [])
    for record in records:
        _say_run(terminalreporter, record, f"seed {record['settings']['seed']}: " if len(records) > 1 else "")
    if len(records) > 1:
        from ...report import across_seeds

        terminalreporter.write_line(f"across the {len(records)} seeds:")
        for line in across_seeds(records):
            terminalreporter.write_line(f"  {line}")
    _say_not_implemented(terminalreporter)
    tests = list(graded_outcomes(terminalreporter.stats).values())
    if not tests or config.getoption("--grade-log"):
        return  # nothing graded ran; or the grader, which scores with its own rubric
    from ...errors import MnistChecksError

    course = (config.rootpath / RUBRIC_FILE).is_file()
    whose = f"the course's {RUBRIC_FILE}" if course else "the grader's default rubric"
    terminalreporter.section(f"points per question ({whose}, for the tests that ran)")
    try:
        lines = points_per_question(tests, rubric_of(config.rootpath))
    except MnistChecksError as error:  # a rubric.json edited out of shape: said, never an internal error
        lines = [f"no points: {error} ({error.remedy})"]
    for line in lines:
        terminalreporter.write_line(line)


#: The node ids as collected, in order: the Classroom report's order within a question, the same
#: over pytest-xdist's workers (``pytest_xdist_node_collection_finished``).
COLLECTED = pytest.StashKey[list]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    config.stash[COLLECTED] = [item.nodeid for item in items]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """pytest-xdist's controller: the ids a worker collected, in order (each worker collects them all)."""
    node.config.stash[COLLECTED] = list(ids)


@pytest.hookimpl(trylast=True, specname="pytest_terminal_summary")  # after the points per question
def pytest_terminal_summary_classroom(terminalreporter, config):
    """With ``--classroom-report`` (the starter's Classroom workflow, issue 34): each question's
    result for GitHub Classroom's reporter, its tests scored as grade scores them with the
    repository's rubric (``classroom.scored_runners``), as the step's outputs ``q1``..``q5``
    appended to ``$GITHUB_OUTPUT``, and the points per question to ``$GITHUB_STEP_SUMMARY``;
    where those are unset, into ``--classroom-out DIR``, else the summary to the terminal."""
    if not config.getoption("--classroom-report") or hasattr(config, "workerinput"):
        return
    from pathlib import Path

    from ...errors import MnistChecksError
    from . import classroom

    tests = list(graded_outcomes(terminalreporter.stats).values())
    terminalreporter.section("GitHub Classroom report")
    try:
        rubric = rubric_of(config.rootpath)
        results = classroom.scored_runners(tests, rubric, config.stash.get(COLLECTED, []))
        summary = classroom.step_summary(results, tests, rubric)
    except MnistChecksError as error:
        terminalreporter.write_line(f"none written: {error} ({error.remedy})", red=True)
        return
    out = config.getoption("--classroom-out")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
    written = []
    for variable, name, text in (("GITHUB_OUTPUT", classroom.OUTPUT_FILE, classroom.github_output(results)),
                                 ("GITHUB_STEP_SUMMARY", classroom.SUMMARY_FILE, summary)):
        path = os.environ.get(variable) or (out and str(Path(out) / name))
        if path:
            with open(path, "a") as handle:
                handle.write(text)
            written.append(path)
    if not written:
        for line in summary.splitlines():
            terminalreporter.write_line(line)
    terminalreporter.write_line(f"{classroom.points_line(results)}" + (f" (written to {', '.join(written)})"
                                                                       if written else ""))
