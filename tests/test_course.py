"""The mutation catalogue's two routes (issue 29): `mnist-checks mutants` grades the catalogue, our
own code, at isolation ``preloaded`` (each fork's student server forked with TensorFlow loaded, no
sandbox); the course (tests/course.py) grades a sample of it in the sandbox, as students' forks
are graded.  Both routes must give every fork the same grade, test by test, and the sandbox's must
keep each mistake's loss in its own question and every correct contract's full marks."""

import json
import os
import shutil
from pathlib import Path

import pytest
from course import CATALOGUE, COURSE_OUT_ENV, REFERENCE_ROOT, question_of

from mnist_checks.grading.course.batch import grade_forks
from mnist_checks.grading.course.grading import Grading
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC

# The course's worker (pytest -n 2 --dist loadgroup): the session's course is graded once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course")]

QUESTIONS = ("q1", "q2", "q3", "q4", "q5")


@pytest.fixture(scope="module")
def preloaded_grades(course, tmp_path_factory):
    """The course's catalogue sample graded again, at isolation ``preloaded``: fork -> its result."""
    out = tmp_path_factory.mktemp("preloaded") / "grades"
    results = grade_forks([course["root"] / name for name in CATALOGUE], REFERENCE_ROOT, out,
                          Grading(rubric=DEFAULT_RUBRIC, jobs=2, isolation="preloaded")).results
    if os.environ.get(COURSE_OUT_ENV):
        shutil.copytree(out, Path(os.environ[COURSE_OUT_ENV]) / "preloaded", dirs_exist_ok=True)
    return {result.fork: result for result in results}


def graded(tests: list[dict]) -> list[tuple]:
    """What a grade is made of, test by test: the test, its outcome and message, its points."""
    return [(t["id"], t["outcome"], t.get("message", ""), t["score"], t["max_score"]) for t in tests]


def test_the_sample_holds_at_least_20_forks_mistakes_of_every_question_and_correct_contracts():
    mistakes = {question_of(name) for name in CATALOGUE} - {""}
    correct = [name for name in CATALOGUE if not question_of(name)]
    assert len(CATALOGUE) >= 20 and mistakes == set(QUESTIONS) and len(correct) >= 6


def test_each_fork_gets_the_same_grade_preloaded_as_in_the_sandbox_test_by_test(course, preloaded_grades):
    for name in CATALOGUE:
        sandboxed = course["results"][name]["extra_data"]
        preloaded = preloaded_grades[name]
        assert (sandboxed["isolation"], preloaded.isolation) == ("bubblewrap", "preloaded")
        assert graded(preloaded.tests) == graded(sandboxed["raw_tests"]), name
        assert (preloaded.status, preloaded.reason) == (sandboxed["status"], sandboxed["reason"]), name


def test_in_the_sandbox_each_mistake_loses_points_in_its_own_question_alone_and_correct_ones_none(course):
    reference = course["book"]["reference"]
    for name in CATALOGUE:
        row, question = course["book"][name], question_of(name)
        lost = [q for q in QUESTIONS if float(row[q]) < float(reference[q])]
        assert lost == ([question] if question else []), (name, {q: row[q] for q in QUESTIONS})


def test_a_preloaded_row_says_how_it_was_graded(preloaded_grades):
    for result in preloaded_grades.values():
        assert any(warning.startswith("graded preloaded: the catalogue's own code") for warning in result.warnings)


def test_the_preloaded_route_is_refused_for_a_cluster_and_not_offered_to_grade(capsys):
    """Students' forks are always graded in the sandbox: `grade` has no such isolation, and a batch
    on a cluster refuses it."""
    from mnist_checks import cli

    with pytest.raises(ValueError, match="not on a cluster"):
        grade_forks([], REFERENCE_ROOT, Path("unused"), Grading(rubric=DEFAULT_RUBRIC, isolation="preloaded",
                                                                cluster=object()))
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    assert "preloaded" not in capsys.readouterr().out


def test_the_mutation_report_takes_the_courses_gradings_instead_of_grading_them_again(course, tmp_path):
    """``mnist-checks mutants --reuse``: a contract of the catalogue the course graded in the
    sandbox is read from there (``cached``), with that grading's tests and isolation."""
    from mnist_checks.grading.catalogue.mutants import MUTANTS
    from mnist_checks.grading.catalogue.mutation_report import build_forks

    forks = build_forks(REFERENCE_ROOT, tmp_path / "forks")
    reused = grade_forks([forks[name] for name in CATALOGUE if name in forks], REFERENCE_ROOT, tmp_path / "grades",
                         Grading(rubric=DEFAULT_RUBRIC, isolation="preloaded", regrade=True,
                                 reuse=(course["out"],))).results
    assert {r.status for r in reused} == {"cached"} and {r.isolation for r in reused} == {"bubblewrap"}
    assert len(reused) >= len([m for m in MUTANTS if m.name in CATALOGUE])
    for result in reused:
        assert graded(result.tests) == graded(course["results"][result.fork]["extra_data"]["raw_tests"])
        assert json.loads((tmp_path / "grades" / result.fork / "results.json").read_text())["extra_data"]["path"] == \
            str(forks[result.fork].resolve())
