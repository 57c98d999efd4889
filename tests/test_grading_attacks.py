"""Hostile forks against `mnist-checks grade`: each implements nothing honestly and attacks the
grader as a student who read this repository would (tests/course.py: ``ATTACKS``).  Graded in the
e2e tier's course, two at a time, beside honest forks, the starter and the rest of the course, in
bubblewrap's sandbox and again at isolation ``uid`` (issue 33: where user namespaces are refused),
as root.  At both levels every attack must score 0, disturb no other fork's grade, leak nothing
and leave no process or file behind: these tests are docs/grading.md's table of what held."""

import json

import pytest
from course import ATTACKS, REFERENCE_ROOT, SECRET, SOLUTION_LINE, SOURCE, UID_SANDBOX

# The course's worker (pytest -n 2 --dist loadgroup): the session's course is graded once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course")]


#: The isolation levels the hostile family is graded at, and the fixture holding each grading.
LEVELS = {"bubblewrap": "course", "uid": "uid_course"}


@pytest.fixture(params=list(LEVELS))
def batch(request):
    graded = request.getfixturevalue(LEVELS[request.param])
    return {**graded, "level": request.param}


def outputs(batch) -> str:
    return "\n".join(p.read_text(errors="replace") for p in batch["out"].rglob("*") if p.is_file())


def test_the_batch_finishes_with_a_row_for_every_fork(batch):
    """Every fork has its row; rows that need a look (an error, a crash, a timeout) make grade exit 1."""
    needs_a_look = {row["status"] for row in batch["book"].values()} - {"graded", "cached"}
    assert needs_a_look and batch["status"] == 1, (batch["status"], needs_a_look)
    assert len(batch["book"]) == len(batch["forks"]) and {"reference", "starter", "links-reference", *ATTACKS} <= set(
        batch["book"])


@pytest.mark.parametrize("attack", [*ATTACKS, "links-reference"])
def test_an_attack_scores_zero(batch, attack):
    row = batch["book"][attack]
    assert float(row["total"] or 0) == 0.0, row


def test_the_honest_fork_beside_the_attacks_keeps_full_marks(batch):
    row = batch["book"]["reference"]
    assert float(row["total"]) == 60.0 == float(row["max"]) and row["status"] == "graded", row
    assert batch["book"]["starter"]["total"] in ("0.0", "0")


def test_every_row_says_the_isolation_it_was_graded_at_and_ended_cleanly(batch):
    assert {row["isolation"] for row in batch["book"].values() if row["status"] != "error"} == {batch["level"]}
    assert [name for name, row in batch["book"].items() if row["status"] == "not ended"] == []


def test_a_fork_linking_the_reference_is_refused_with_a_reason(batch):
    row = batch["book"]["links-reference"]
    assert row["status"] == "error" and "symbolic link" in row["reason"]


def test_no_process_of_a_fork_outlives_the_grading(batch):
    assert batch["survivors"] == []


def test_nothing_rewrites_the_outputs_after_the_grading(batch):
    assert (batch["out"] / "gradebook.csv").read_text() == batch["book_right_after"]
    forged = json.loads((batch["out"] / "forges-results" / "results.json").read_text())
    assert forged["score"] == 0 and forged["extra_data"]["fork"] == "forges-results"


def test_no_secret_and_no_solution_reaches_any_output(batch):
    text = outputs(batch)
    assert text.count(SECRET) == 0, "the instructor's secret reached an output"
    assert text.count(SOLUTION_LINE) == 0, "a line of the solution reached an output"


def test_no_connection_reaches_the_hosts_loopback(batch):
    assert batch["listener"].accepted == 0


def test_the_instructors_checkout_and_a_classmates_fork_are_untouched(batch):
    assert batch["classmate"].read_text() == SOURCE
    for marker in ("mnist_checks/__pycache__/attack-marker.cpython-311.pyc", ".git/hooks/attack-marker",
                   "tests/test_attack_marker.py"):
        assert not (REFERENCE_ROOT / marker).exists(), marker


def test_models_carrying_code_are_refused_naming_what(batch):
    tests = json.loads((batch["out"] / "models-with-code" / "results.json").read_text())["tests"]
    messages = " ".join(t["output"] for t in tests)
    assert "refused" in messages and ("Lambda" in messages or "activation" in messages)
    assert "subclassed" in messages


def test_no_fork_can_put_a_training_into_the_graders_store(batch):
    """The fast tier trains nothing: the store the grader was told to use holds nothing at all."""
    assert not batch["store"].exists() or [p for p in batch["store"].rglob("*") if p.is_file()] == []


def test_no_grader_files_are_left_in_the_temporary_directory(batch):
    assert list(batch["scratch"].iterdir()) == []


@pytest.mark.parametrize("fork", [*UID_SANDBOX, "reference", "starter"])
def test_a_fork_graded_at_uid_gets_the_row_bubblewrap_gives_it(course, uid_course, fork):
    """The sandbox's cases graded at both levels (a crash, a memory hog) and the students' side
    end the same at both, with the same points."""
    sealed, by_uid = course["book"][fork], uid_course["book"][fork]
    assert (by_uid["status"], by_uid["total"]) == (sealed["status"], sealed["total"]), (sealed, by_uid)


def test_grading_at_uid_leaves_no_process_no_file_and_no_home_of_a_fork_uid(uid_course):
    from mnist_checks.grading.sandbox import fork_user

    assert fork_user.left_behind() == []
