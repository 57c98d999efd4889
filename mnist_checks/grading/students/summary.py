"""The end of every run of the spec suite, as the terminal reporter writes it: the exercise's runs
(trainings reused or made, improvement claims, across seeds), each contract function not written
yet (once), the points per question of the tests that ran, the contract checked where it is a
notebook, and GitHub Classroom's report (``--classroom-report``, issue 34)."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import MnistChecksError
from ...records import models_of
from ..contract import FUNCTIONS
from . import classroom
from .outcomes import NOT_IMPLEMENTED_YET
from .rubric import RUBRIC_FILE, points_per_question, rubric_of


def say_run(reporter, record: dict, prefix: str) -> None:
    """Which of a run's trained models were reused from an earlier, identical training, and its
    improvement claims with their McNemar tests."""
    models = models_of(record) if record.get("models") else {}
    reused = [name for name, model in models.items() if model.training and model.training.reused]
    if reused:
        reporter.write_line(f"{prefix}reused earlier trainings of the very same model, data and settings: "
                            f"{', '.join(reused)} (pytest --retrain trains them again)")
    trained = [f"{name} {sum(model.seconds):.0f} s" for name, model in models.items() if name not in reused]
    if trained:
        reporter.write_line(f"{prefix}trained, validation included: {', '.join(trained)}")
    if record.get("improvements"):
        from ...report import improvements  # scipy, only where a run was made

        for line in improvements(record):
            reporter.write_line(prefix + line)


def say_runs(reporter, records: list[dict]) -> None:
    """Each run of the exercise (``say_run``, by seed where there are several) and, with several
    seeds, each model's mean accuracy and each improvement's share of seeds across them."""
    for record in records:
        say_run(reporter, record, f"seed {record['settings']['seed']}: " if len(records) > 1 else "")
    if len(records) > 1:
        from ...report import across_seeds

        reporter.write_line(f"across the {len(records)} seeds:")
        for line in across_seeds(records):
            reporter.write_line(f"  {line}")


def say_not_implemented(reporter) -> None:
    """Each contract function that stopped tests, once: ``Q2: build_mlp is not implemented yet (11 tests wait for
    it)``; read from the reports, so pytest-xdist's workers' too."""
    waiting: dict[str, set] = {}
    for report in reporter.stats.get(NOT_IMPLEMENTED_YET, []):
        waiting.setdefault(str(report.not_implemented), set()).add(report.nodeid)
    if waiting:
        reporter.ensure_newline()  # after the progress line, which a plain run leaves open
        reporter.section("not implemented yet", yellow=True)
        order = [*FUNCTIONS]
        for line, tests in sorted(waiting.items(), key=lambda told: next(
                (i for i, function in enumerate(order) if f"{function} " in told[0]), len(order))):
            reporter.write_line(f"{line} ({len(tests)} test{'s wait' if len(tests) > 1 else ' waits'} for it)")


def say_points(reporter, tests: list[dict], root: Path) -> None:
    """The points per question the rubric of the repository at ``root`` (its ``rubric.json``, else
    the grader's default rubric) gives the graded ``tests`` that ran (``TestOutcome.to_json``'s)."""
    course = (root / RUBRIC_FILE).is_file()
    whose = f"the course's {RUBRIC_FILE}" if course else "the grader's default rubric"
    reporter.section(f"points per question ({whose}, for the tests that ran)")
    try:
        lines = points_per_question(tests, rubric_of(root))
    except MnistChecksError as error:  # a rubric.json edited out of shape: said, never an internal error
        lines = [f"no points: {error} ({error.remedy})"]
    for line in lines:
        reporter.write_line(line)


def say_contract(reporter, path: Path | None) -> None:
    """For a checkout with a notebook, or a notebook (``path``): which file was checked and what of
    the notebook was left out, as the grader's feedback lists it; nothing for any other contract."""
    from ...notebook import NOTEBOOK

    if path is None or not (path.suffix == ".ipynb" or (path / NOTEBOOK).is_file()):
        return
    from ..contract import described

    reporter.write_sep("=", "the contract checked")
    for line in described(path):
        reporter.write_line(line)


def classroom_report(reporter, tests: list[dict], root: Path, order: list[str], out: str | None) -> None:
    """GitHub Classroom's report of the run (issue 34): each question's result, its ``tests``
    scored as grade scores them with the rubric of the repository at ``root``
    (``classroom.scored_runners``, in the collected ``order``), as the step's outputs ``q1``..``q5``
    appended to ``$GITHUB_OUTPUT``, and the points per question to ``$GITHUB_STEP_SUMMARY``; where
    those are unset, into the folder ``out``, else the summary to the terminal."""
    reporter.section("GitHub Classroom report")
    try:
        rubric = rubric_of(root)
        results = classroom.scored_runners(tests, rubric, order)
        summary = classroom.step_summary(results, tests, rubric)
    except MnistChecksError as error:
        reporter.write_line(f"none written: {error} ({error.remedy})", red=True)
        return
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
            reporter.write_line(line)
    reporter.write_line(f"{classroom.points_line(results)}" + (f" (written to {', '.join(written)})"
                                                               if written else ""))
