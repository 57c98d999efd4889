"""gradebook.csv: mnist_checks/grading/course/gradebook.py."""

import pytest

from mnist_checks.grading.course import gradebook

pytestmark = pytest.mark.fast

def test_gradebook_has_a_row_per_fork_with_questions_and_tiers(tmp_path, a_result):
    gradebook.write_gradebook([a_result()], tmp_path / "gradebook.csv")
    header, row = (tmp_path / "gradebook.csv").read_text().splitlines()
    assert header.split(",") == ["fork", "student", "name", "path", "commit", "committed", "late", "penalty",
                                 "status", "total", "max", "q1", "q2", "q3", "q4", "q5", "fast", "slow", "isolation",
                                 "memory", "reason", "lost", "warnings", "trainings", "reused"]
    assert row.startswith("alice,,,/forks/alice,abc123,,,,graded,5.0,10.0,5.0,,,,,5.0,,")


def test_a_row_carries_its_student_its_due_date_commit_and_its_total_after_the_late_penalty(a_result):
    """Issue 34: ``grade --roster`` names the student, ``--due`` the commit's time and how late,
    and ``--late-policy``'s penalty lowers the total (only the total: each question keeps its points)."""
    import dataclasses

    late = dataclasses.replace(a_result(), student={"identifier": "s1", "name": "Alice Adams"}, handed_in={
        "committed": "2026-12-10 22:00", "late": "late: 2 commits after the due date, last 2026-12-12 09:12",
        "penalty": 30.0})
    (row,) = gradebook.gradebook_rows([late])
    assert (row["student"], row["name"], row["committed"], row["penalty"]) == ("s1", "Alice Adams",
                                                                               "2026-12-10 22:00", "30")
    assert row["late"].startswith("late: 2 commits") and (row["total"], row["max"], row["q1"]) == (3.5, 10.0, 5.0)
    (on_time,) = gradebook.gradebook_rows([a_result()])
    assert (on_time["total"], on_time["penalty"], on_time["late"]) == (5.0, "", "")


def test_a_row_says_where_its_fork_lost_points_when_no_reason_does(a_result):
    """A fork graded to its end has no reason; its row still says which claim lost which points
    and what differed (issue 31: the sigmoid fork's Q2 13.5/15 with an empty reason)."""
    (row,) = gradebook.gradebook_rows([a_result()])
    assert row["reason"] == ""
    assert row["lost"] == "Q1 -5: deterministic (AssertionError: expected 10000 test rows, found 14000)"
    assert "Q1 -5: deterministic" in gradebook.summary_table([a_result()])


def test_a_regrade_with_the_same_grade_is_unchanged_however_its_cells_are_spelled(a_result):
    """`60` and `60.0`, or `cached` then `graded`, are the same grade: a re-run that changes
    nothing says so (issue 31: `3 changed (correct (60.0 -> 60.0))`)."""
    import dataclasses

    earlier = [{**row, "total": "5", "status": "cached", "q1": "5"} for row in gradebook.gradebook_rows([a_result()])]
    assert gradebook.gradebook_changes(earlier, [a_result()])["changed"] == []
    graded = [{**row, "total": "5"} for row in gradebook.gradebook_rows([a_result()])]
    timed_out = dataclasses.replace(a_result(), status="timeout")
    assert gradebook.gradebook_changes(graded, [timed_out])["changed"] == ["alice (graded -> timeout)"]


def test_gradebook_says_which_trainings_a_fork_used_and_how_many_were_reused(a_result):
    import dataclasses

    trained = dataclasses.replace(a_result(), trainings={
        "mlp_raw": {"key": "a" * 64, "reused": True}, "cnn": {"key": "b" * 64, "reused": False},
        "mlp_scaled": {"key": None, "why": "layer dropout (Dropout) is not one of Keras's deterministic layers"}})
    (row,) = gradebook.gradebook_rows([trained])
    assert row["trainings"] == f"mlp_raw={'a' * gradebook.SHORT_KEY} cnn={'b' * gradebook.SHORT_KEY} mlp_scaled=unkeyed"
    assert row["reused"] == "1/3"
    other = dataclasses.replace(trained, fork="bob", trainings={"mlp_raw": {"key": "a" * 64, "reused": True}})
    assert gradebook.shared_trainings([trained, other]).startswith(
        "trainings: 4 trained models of 2 fork(s), 2 distinct: 1 trained in this call, 2 reused, "
        "1 unkeyed (trained each time)")


def test_regrading_some_forks_keeps_every_other_row_of_the_gradebook(tmp_path, a_result):
    import dataclasses

    book = tmp_path / "gradebook.csv"
    alice, bob = a_result(), dataclasses.replace(a_result(), fork="bob", path="/forks/bob")
    gradebook.write_gradebook([alice, bob], book)
    earlier = gradebook.read_gradebook(book)
    passed = [{**t, "outcome": "passed", "score": t["max_score"]} for t in alice.tests]
    regraded = dataclasses.replace(alice, tests=passed)
    carol = dataclasses.replace(a_result(), fork="carol", path="/forks/carol")
    gradebook.write_gradebook(gradebook.merge_gradebook(earlier, [regraded, carol]), book)
    rows = gradebook.read_gradebook(book)
    assert [(r["fork"], r["total"]) for r in rows] == [("alice", "10.0"), ("bob", "5.0"), ("carol", "5.0")]
    changes = gradebook.gradebook_changes(earlier, [regraded, carol])
    assert changes == {"added": ["carol"], "changed": ["alice (5.0 -> 10.0)"], "unchanged": [], "kept": ["bob"]}


def test_a_regrade_interrupted_before_a_fork_keeps_that_forks_grade_as_it_was(tmp_path, a_result):
    """Ctrl-C during `grade --regrade`: a fork the call did not reach keeps its earlier row, and
    the call says it kept it (issue 31: the course's record never loses a grade it had)."""
    import dataclasses

    from mnist_checks.grading.course.results import ForkResult, ForkStatus

    book = tmp_path / "gradebook.csv"
    alice, bob = a_result(), dataclasses.replace(a_result(), fork="bob", path="/forks/bob")
    gradebook.write_gradebook([alice, bob], book)
    earlier = gradebook.read_gradebook(book)
    unreached = ForkResult(fork="bob", path="/forks/bob", status=ForkStatus.NOT_GRADED,
                           reason="not graded: interrupted")
    newcomer = dataclasses.replace(unreached, fork="carol", path="/forks/carol")
    gradebook.write_gradebook(gradebook.merge_gradebook(earlier, [alice, unreached, newcomer]), book)
    rows = {r["fork"]: r for r in gradebook.read_gradebook(book)}
    assert rows["bob"] == {**earlier[1], "warnings": f"{gradebook.KEPT_MARK}; {earlier[1]['warnings']}"}
    assert (rows["bob"]["status"], rows["bob"]["total"]) == ("graded", "5.0")  # the grade as it was, marked kept
    assert rows["carol"]["status"] == "not graded"  # nothing to keep: the row says why
    changes = gradebook.gradebook_changes(earlier, [alice, unreached, newcomer])
    assert changes == {"added": ["carol"], "changed": [], "unchanged": ["alice"], "kept": ["bob"]}


@pytest.mark.parametrize("content", ["name,score\nalice,3\n", "\x00\xff\xfe"])
def test_a_foreign_gradebook_csv_is_refused_and_left_alone(tmp_path, capsys, content):
    from mnist_checks import cli

    (tmp_path / "fork").mkdir()
    book = tmp_path / "out" / "gradebook.csv"
    book.parent.mkdir()
    book.write_bytes(content.encode("latin-1"))
    assert cli.main(["grade", str(tmp_path / "fork"), "--out", str(book.parent)]) == 2
    err = capsys.readouterr().err
    assert "gradebook.csv" in err and "move that file away" in err and "Traceback" not in err
    assert book.read_bytes() == content.encode("latin-1")
