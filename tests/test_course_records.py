"""A course end to end, from the starter to the LMS (issue 34): the starter pushed to a bare
repository, six students' clones with commits before and after a due date, a roster with one
student missing and one fork without a student; ``grade --due --roster``, then ``export --to
canvas``. Every number of the gradebook and of Canvas's file is checked.

The forks' points are checked against each other, never against figures written here: a fork
graded by the due date at an earlier commit scores what a fork holding that commit's contract at
HEAD scores in the same call (bob and frank), and the late policy's total is the HEAD grade less
its penalty.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from course import CATALOGUE, Q4_ONLY, REFERENCE_ROOT, SOURCE
from helpers import git

from mnist_checks import cli
from mnist_checks.grading.students.starter import write_starter

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course-records")]

CONTRACT = "mnist_checks/exercise.py"
PREFIX = "mnist-exercise-"  # GitHub Classroom names each student's repository PREFIX + their user name
#: Due in ten days, at a minute's precision: the starter's own commit (made now) is before it.
DUE = (datetime.now(timezone.utc) + timedelta(days=10)).replace(second=0, microsecond=0).astimezone(
    timezone(timedelta(hours=1)))
PARTIAL = CATALOGUE["q2-sigmoid-hidden"]


def hand_in(repo, source: str, when: datetime) -> None:
    (repo / CONTRACT).write_text(source)
    git(repo, "commit", "--quiet", "--allow-empty", "--all", "--message", f"work of {when:%d %H:%M}", when=when)


#: Each student's commits after the starter's: (contract, when relative to the due date).
HISTORIES = {
    "alice": [(SOURCE, -timedelta(days=2))],  # on time, everything done
    "bob": [(PARTIAL, -timedelta(days=1)), (SOURCE, timedelta(hours=3))],  # the fix came late
    "carol": [(Q4_ONLY, -timedelta(days=1)), (Q4_ONLY + "\n# tidy\n", timedelta(hours=1)),
              (Q4_ONLY + "\n# tidier\n", timedelta(days=1)), (SOURCE, timedelta(days=2, hours=1))],
    "eve": [],  # cloned and never committed: the starter, on time
    "frank": [(PARTIAL, -timedelta(days=1))],  # on time; on no roster
}
ROSTER = [("alice@uni.example", "alice", "Alice Adams"), ("bob@uni.example", "bob", "Bob Brown"),
          ("carol@uni.example", "carol", "Carol Chen"), ("dave@uni.example", "dave", "Dave Diaz"),
          ("eve@uni.example", "eve", "Eve Evans"), ("grace@uni.example", "", "Grace Green")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course's repositories, graded by the due date with the roster, then exported to Canvas."""
    root = tmp_path_factory.mktemp("course-records")
    write_starter(REFERENCE_ROOT, root / "starter")
    git(root, "clone", "--quiet", "--bare", str(root / "starter"), str(root / "course.git"))
    forks = []
    for user, commits in HISTORIES.items():
        fork = root / "students" / f"{PREFIX}{user}"
        git(root, "clone", "--quiet", str(root / "course.git"), str(fork))
        for source, offset in commits:
            hand_in(fork, source, DUE + offset)
        forks.append(fork)
    dave = root / "students" / f"{PREFIX}dave"  # started his repository again, after the due date
    git(root, "clone", "--quiet", str(root / "course.git"), str(dave))
    git(dave, "checkout", "--quiet", "--orphan", "again")
    hand_in(dave, SOURCE, DUE + timedelta(minutes=5))
    forks.append(dave)
    roster = root / "classroom_roster.csv"
    with roster.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(["identifier", "github_username", "github_id", "name"])
        writer.writerows([(ident, user, str(1000 + i) if user else "", name)
                          for i, (ident, user, name) in enumerate(ROSTER)])
    return {"root": root, "forks": forks, "roster": roster}


def run(capsys, *argv) -> tuple[int, str]:
    status = cli.main([str(a) for a in argv])
    return status, capsys.readouterr().out


def rows_of(path) -> dict:
    with open(path, newline="") as handle:
        return {row["fork"].removeprefix(PREFIX): row for row in csv.DictReader(handle)}


def test_a_course_is_graded_by_its_due_date_with_its_roster_and_exported_to_canvas(course, capsys):
    out = course["root"] / "grades"
    status, said = run(capsys, "grade", *course["forks"], "--out", out, "--jobs", "2", "--due", DUE.isoformat(),
                       "--roster", course["roster"])
    assert status == 1, said  # dave's row needs a look: nothing to grade by the due date
    rows = rows_of(out / "gradebook.csv")
    assert set(rows) == {"alice", "bob", "carol", "dave", "eve", "frank"}
    starter_commit = git(course["root"] / "starter", "rev-parse", "--short=7", "HEAD")
    # who: the roster's identifier and name, frank none
    for ident, user, name in ROSTER[:5]:
        assert (rows[user]["student"], rows[user]["name"]) == (ident, name)
    assert rows["frank"]["student"] == rows["frank"]["name"] == ""
    assert "students without a fork: grace@uni.example\n" in said
    assert f"forks without a student: {PREFIX}frank" in said
    # what was graded: the commit by the due date, whatever came after
    assert float(rows["alice"]["total"]) == float(rows["alice"]["max"]) == 60.0 and rows["alice"]["late"] == ""
    assert [rows["bob"][k] for k in ("total", "q1", "q2", "q3", "q4", "q5")] == \
        [rows["frank"][k] for k in ("total", "q1", "q2", "q3", "q4", "q5")]
    assert float(rows["bob"]["q2"]) < 15.0 == float(rows["alice"]["q2"])  # the late fix is not graded
    assert rows["bob"]["late"].startswith("late: 1 commit after the due date, last "
                                          f"{DUE + timedelta(hours=3):%Y-%m-%d %H:%M}")
    assert rows["bob"]["committed"] == f"{DUE - timedelta(days=1):%Y-%m-%d %H:%M}"
    assert float(rows["carol"]["total"]) == float(rows["carol"]["q4"]) == float(rows["alice"]["q4"])
    assert rows["carol"]["late"].startswith("late: 3 commits after the due date, last "
                                            f"{DUE + timedelta(days=2, hours=1):%Y-%m-%d %H:%M}")
    assert rows["eve"]["commit"] == starter_commit and float(rows["eve"]["total"]) == 0.0
    assert rows["eve"]["reason"].startswith("not started")
    assert rows["dave"]["status"] == "error" and rows["dave"]["reason"] == "no commit before the due date"
    assert float(rows["dave"]["total"]) == 0.0 and rows["dave"]["commit"] == ""
    assert all(rows[u]["penalty"] == "" for u in rows)
    # the checkouts are as they were: HEAD is still each student's last commit
    assert (course["forks"][1] / CONTRACT).read_text() == SOURCE

    canvas = course["root"] / "canvas.csv"
    status, said = run(capsys, "export", out, "--to", "canvas", "--roster", course["roster"], "--out", canvas)
    with canvas.open(newline="") as handle:
        table = list(csv.reader(handle))
    header, possible, students = table[0], table[1], table[2:]
    column = next(i for i, name in enumerate(header) if i >= 5)
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert possible[0].strip() == "Points Possible" and float(possible[column]) == 60.0
    by_id = {row[2]: row[column] for row in students}
    # the graded students, each with their gradebook total; dave (nothing by the due date) and grace
    # (no fork) are left out, so that the LMS keeps what it has, and listed with frank (no student)
    graded = {ident for ident, user, _ in ROSTER if user in ("alice", "bob", "carol", "eve")}
    assert status == 1 and set(by_id) == graded
    for ident, user, _ in ROSTER[:5]:
        if ident in by_id:
            assert float(by_id[ident]) == float(rows[user]["total"]), user
    with open(f"{canvas}".removesuffix(".csv") + ".unmatched.csv", newline="") as handle:
        left = {row["identifier"] or row["fork"].removeprefix(PREFIX): row for row in csv.DictReader(handle)}
    assert set(left) == {"dave@uni.example", "grace@uni.example", "frank"}
    assert float(left["dave@uni.example"]["total"]) == 0.0 and left["dave@uni.example"]["status"] == "error"
    assert all(name in said for name in ("frank", "grace@uni.example", "dave@uni.example"))


def test_a_late_policy_grades_head_less_its_penalty_per_day(course, capsys):
    out = course["root"] / "grades-late"
    late = [fork for fork in course["forks"] if fork.name in (f"{PREFIX}bob", f"{PREFIX}carol", f"{PREFIX}alice")]
    status, said = run(capsys, "grade", *late, "--out", out, "--jobs", "2", "--due", DUE.isoformat(),
                       "--late-policy", "10%/day")
    assert status == 0, said
    rows = rows_of(out / "gradebook.csv")
    full = float(rows["alice"]["max"])
    assert float(rows["alice"]["total"]) == full and rows["alice"]["penalty"] == ""  # on time: no penalty
    assert float(rows["bob"]["q2"]) == 15.0  # HEAD, the late fix, graded
    assert (float(rows["bob"]["penalty"]), float(rows["bob"]["total"])) == (10.0, round(full * 0.9, 2))
    assert (float(rows["carol"]["penalty"]), float(rows["carol"]["total"])) == (30.0, round(full * 0.7, 2))
    assert "graded at HEAD, 30% off (3 day(s) late, 10%/day)" in rows["carol"]["late"]
