"""Grades into an LMS: Canvas's and Moodle's import layouts and the plain CSV, read back with csv;
every student and fork not exported listed with why; `mnist-checks export` end to end
(mnist_checks/grading/course/lms.py, mnist_checks/commands/exports.py)."""

import csv

import pytest

from mnist_checks import cli
from mnist_checks.grading.course import gradebook, lms
from mnist_checks.grading.course.roster import Student

pytestmark = pytest.mark.fast

ROSTER = ("identifier,name,github_username,email,section,canvas_id,sis_login_id\n"
          "s1,\"Liddell, Alice\",alice,alice@uni.edu,A,101,aliddell\n"
          "s2,\"Builder, Bob\",bob,bob@uni.edu,B,102,\n"
          "s3,\"Carroll, Carol\",carol,carol@uni.edu,A,103,\n"
          "s4,\"Dodo, Dave\",,dave@uni.edu,B,104,\n")


def row(fork: str, total: str, status: str = "graded", maximum: str = "60.0", **cells) -> dict:
    """A gradebook row as `grade` writes it."""
    return {"fork": fork, "path": f"/grading/forks/{fork}", "status": status, "total": total, "max": maximum,
            "q1": "15.0", "q2": "13.5", **cells}


def course(tmp_path, rows=None, roster=ROSTER):
    """A `grade` output folder with its gradebook, and a roster: alice's and bob's forks graded,
    carol's timed out, dave's missing, and a fork nobody in the roster owns."""
    rows = rows if rows is not None else [
        row("mnist-alice", "58.33", late="yes", penalty="10"), row("mnist-bob", "40.0"),
        row("mnist-carol", "30.0", status="timeout"), row("mnist-zed", "12.0")]
    (tmp_path / "grades").mkdir()
    gradebook.write_gradebook(rows, tmp_path / "grades" / "gradebook.csv")
    (tmp_path / "roster.csv").write_text(roster)
    return tmp_path / "grades", tmp_path / "roster.csv"


def read(path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def export(tmp_path, *options: str) -> int:
    grades, roster = course(tmp_path)
    return cli.main(["export", str(grades), "--roster", str(roster), "--out", str(tmp_path / "lms.csv"), *options])


def test_canvas_gets_its_header_the_points_possible_row_and_each_students_points(tmp_path, capsys):
    assert export(tmp_path, "--to", "canvas") == 1
    table = read(tmp_path / "lms.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "MNIST exercise"]
    assert table[1] == ["Points Possible", "", "", "", "", "60.0"]
    assert table[2:] == [["Liddell, Alice", "101", "s1", "aliddell", "A", "58.33"],
                         ["Builder, Bob", "102", "s2", "bob@uni.edu", "B", "40.0"]]
    books = {r["fork"]: r["total"] for r in gradebook.read_gradebook(tmp_path / "grades" / "gradebook.csv")}
    assert [r[5] for r in table[2:]] == [books["mnist-alice"], books["mnist-bob"]]
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'lms.csv'} (canvas): 2 student(s)' grades, out of 60.0" in out
    assert "students without a fork: s4\n" in out and "forks without a student: mnist-zed\n" in out
    assert "not exported, their grading did not end as graded: s3 (mnist-carol: timeout, 30.0/60.0)" in out


def test_everyone_not_exported_is_in_the_side_file_with_why(tmp_path):
    export(tmp_path, "--to", "canvas")
    side = read(tmp_path / "lms.unmatched.csv")
    assert side[0] == lms.SIDE_COLUMNS
    assert [(r[1], r[4], r[5], r[6]) for r in side[1:]] == [
        ("s3", "mnist-carol", "timeout", "30.0"), ("s4", "", "", ""), ("", "mnist-zed", "graded", "12.0")]
    assert side[1][0].startswith("its grading ended 'timeout'")
    assert [r[0] for r in side[2:]] == [lms.NO_FORK, lms.NO_STUDENT]


def test_moodle_gets_an_id_number_its_email_column_only_where_everyone_has_one(tmp_path, capsys):
    assert export(tmp_path, "--to", "moodle", "--assignment", "Lab 3") == 1
    assert read(tmp_path / "lms.csv") == [["ID number", "Email address", "Full name", "Lab 3"],
                                          ["s1", "alice@uni.edu", "Liddell, Alice", "58.33"],
                                          ["s2", "bob@uni.edu", "Builder, Bob", "40.0"]]
    assert "map from 'ID number' to useridnumber (or Email address to useremail)" in capsys.readouterr().out
    found = lms.export_grades([row("mnist-alice", "5.0"), row("mnist-bob", "6.0")], tmp_path / "m.csv", to="moodle",
                              students=[Student("s1", "A", "alice", email="a@uni.edu"), Student("s2", "B", "bob")])
    assert read(tmp_path / "m.csv") == [["ID number", "Full name", "MNIST exercise"], ["s1", "A", "5.0"],
                                        ["s2", "B", "6.0"]]
    assert "no Email address column: not every exported student has an email in the roster" in found.notes


def test_the_plain_csv_holds_every_student_and_fork_with_status_and_points(tmp_path):
    export(tmp_path, "--to", "csv")
    table = read(tmp_path / "lms.csv")
    assert table[0] == lms.PLAIN_COLUMNS
    assert [r[:9] for r in table[1:]] == [
        ["s1", "Liddell, Alice", "alice", "mnist-alice", "graded", "58.33", "60.0", "yes", "10"],
        ["s2", "Builder, Bob", "bob", "mnist-bob", "graded", "40.0", "60.0", "", ""],
        ["s3", "Carroll, Carol", "carol", "mnist-carol", "timeout", "30.0", "60.0", "", ""],
        ["s4", "Dodo, Dave", "", "", "no fork", "", "", "", ""],
        ["", "", "", "mnist-zed", "graded", "12.0", "60.0", "", ""]]
    assert table[1][9:11] == ["15.0", "13.5"]


def test_every_student_matched_and_graded_exits_0_and_removes_a_stale_side_file(tmp_path, capsys):
    roster = "identifier,name,github_username\ns1,Alice,alice\ns2,Bob,bob\n"
    grades, roster_file = course(tmp_path, [row("mnist-alice", "50.0"), row("mnist-bob", "60.0", status="cached")],
                                 roster)
    (tmp_path / "lms.unmatched.csv").write_text("from an earlier export\n")
    argv = ["export", str(grades / "gradebook.csv"), "--to", "canvas", "--roster", str(roster_file), "--out",
            str(tmp_path / "lms.csv")]
    assert cli.main(argv) == 0
    assert [r[5] for r in read(tmp_path / "lms.csv")[2:]] == ["50.0", "60.0"]
    assert not (tmp_path / "lms.unmatched.csv").exists()
    assert capsys.readouterr().out.strip().splitlines() == [
        f"wrote {tmp_path / 'lms.csv'} (canvas): 2 student(s)' grades, out of 60.0"]


def test_two_forks_of_one_student_export_neither(tmp_path):
    found = lms.export_grades([row("mnist-alice", "50.0"), row("alice", "20.0")], tmp_path / "c.csv", to="canvas",
                              students=[Student("s1", "A", "alice")])
    assert read(tmp_path / "c.csv")[2:] == []
    assert found.matching.several == {"s1": ["mnist-alice", "alice"]}
    assert [(r[1], r[4]) for r in read(tmp_path / "c.unmatched.csv")[1:]] == [("s1", "mnist-alice"), ("s1", "alice")]
    graded_twice = [row("a1", "1.0", student="s1"), row("a2", "2.0", student="s1")]
    by_column = lms.export_grades(graded_twice, tmp_path / "d.csv", to="canvas")
    assert (by_column.matching.students, by_column.matching.several) == ({}, {"s1": ["a1", "a2"]})
    assert by_column.exported == [] and not by_column.complete


def test_the_gradebooks_student_column_pairs_rows_without_a_roster_and_before_fork_names(tmp_path):
    rows = [row("renamed", "33.0", student="s1", name="A"), row("mnist-bob", "44.0", student="s2", name="B")]
    found = lms.export_grades(rows, tmp_path / "c.csv", to="canvas")
    assert [r[:3] + r[5:] for r in read(tmp_path / "c.csv")[2:]] == [["A", "", "s1", "33.0"], ["B", "", "s2", "44.0"]]
    assert found.complete
    with_roster = lms.export_grades(rows, tmp_path / "d.csv", to="canvas",
                                    students=[Student("s1", "A", "renamed-not"), Student("s2", "B", "bob")])
    assert {fork: s.identifier for fork, s in with_roster.matching.students.items()} == {"renamed": "s1",
                                                                                         "mnist-bob": "s2"}
    with pytest.raises(lms.ExportError, match="graded without a roster") as refused:
        lms.export_grades([row("mnist-bob", "1.0")], tmp_path / "e.csv", to="canvas")
    assert "--roster FILE" in refused.value.remedy


def test_rows_graded_out_of_different_maxima_are_refused_for_an_lms_but_not_for_csv(tmp_path):
    rows = [row("mnist-alice", "50.0"), row("mnist-bob", "90.0", maximum="100.0")]
    students = [Student("s1", "A", "alice"), Student("s2", "B", "bob")]
    for to in ("canvas", "moodle"):
        with pytest.raises(lms.ExportError, match=r"different maxima: 60 \(mnist-alice\); 100 \(mnist-bob\)"):
            lms.export_grades(rows, tmp_path / "x.csv", to=to, students=students)
    assert not (tmp_path / "x.csv").exists()
    assert lms.export_grades(rows, tmp_path / "y.csv", to="csv", students=students).complete


@pytest.mark.parametrize(("argv", "said"), [
    (["{tmp}/missing", "--to", "csv", "--out", "{tmp}/o.csv"], "{tmp}/missing: no such folder or file"),
    (["{tmp}", "--to", "csv", "--out", "{tmp}/o.csv"], "{tmp}: no gradebook.csv in that folder"),
    (["{tmp}/foreign.csv", "--to", "csv", "--out", "{tmp}/o.csv"], "not a gradebook of mnist-checks grade"),
    (["{tmp}/grades", "--to", "csv", "--out", "{tmp}/o.csv", "--roster", "{tmp}/none.csv"], "no such file"),
    (["{tmp}/grades", "--to", "csv", "--out", "{tmp}/o.csv", "--roster", "{tmp}/foreign.csv"],
     "no identifier column"),
    (["{tmp}/grades", "--to", "csv", "--out", "{tmp}/nowhere/o.csv", "--roster", "{tmp}/roster.csv"],
     "its folder does not exist"),
    (["{tmp}/grades", "--to", "csv", "--out", "{tmp}/grades/gradebook.csv"], "would overwrite the gradebook"),
    (["{tmp}/grades", "--to", "canvas", "--out", "{tmp}/o.csv", "--roster", "{tmp}/roster.csv", "--assignment", " "],
     "an empty assignment name"),
])
def test_export_refuses_what_it_cannot_take_with_a_message_and_exit_2(tmp_path, capsys, argv, said):
    course(tmp_path)
    (tmp_path / "foreign.csv").write_text("name,score\nalice,3\n")
    assert cli.main(["export", *(arg.format(tmp=tmp_path) for arg in argv)]) == 2
    err = capsys.readouterr().err
    assert said.format(tmp=tmp_path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 2, "the message, then the remedy"
    assert not (tmp_path / "o.csv").exists()


def test_the_export_commands_help_lists_its_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for status in ("exit status: 0 when every student has one graded fork", "1 when one did not",
                   "2 for input the command cannot take"):
        assert status in text
