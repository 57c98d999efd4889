"""The roster: GitHub Classroom's export and plain CSVs read alike, each refusal said with its
remedy, and forks matched to students by GitHub Classroom's naming (mnist_checks/grading/course/roster.py)."""

from pathlib import Path

import pytest

from mnist_checks.grading.course import roster
from mnist_checks.grading.course.roster import Student

pytestmark = pytest.mark.fast

#: GitHub Classroom's roster export as it downloads it: every cell quoted, an unlinked student's
#: github_username empty.
CLASSROOM = ('"identifier","github_username","github_id","name"\n'
             '"alice@uni.edu","Alice-Dev","1001","Liddell, Alice"\n'
             '"bob@uni.edu","","","Builder, Bob"\n'
             '"carol@uni.edu","carol","1003","Carol"\n')


def write(tmp_path, text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_github_classrooms_roster_is_read_with_unlinked_students_kept(tmp_path):
    students = roster.read_roster(write(tmp_path, CLASSROOM))
    assert students == [Student("alice@uni.edu", "Liddell, Alice", "Alice-Dev"), Student("bob@uni.edu", "Builder, Bob"),
                        Student("carol@uni.edu", "Carol", "carol")]
    forks = {"mnist-exercise-alice-dev": Path("/f/mnist-exercise-alice-dev"), "mnist-exercise-carol": Path("/f/x")}
    matching = roster.match(students, forks)
    assert {fork: s.identifier for fork, s in matching.students.items()} == {
        "mnist-exercise-alice-dev": "alice@uni.edu", "mnist-exercise-carol": "carol@uni.edu"}
    assert [s.identifier for s in matching.without_fork] == ["bob@uni.edu"]
    assert roster.matching_lines(matching) == ["students without a fork: bob@uni.edu"]


def test_a_plain_csv_from_excel_is_read_whatever_its_columns_case_spaces_and_bom(tmp_path):
    text = (" Student ,NAME,Fork,GitHub,Email, Section ,Canvas ID,SIS Login ID\r\n"
            "s1,\"Doe, Jane\",forks/jane/,@JaneD,jane@uni.edu,A1,4242,jdoe\r\n"
            ",,,,,,,\r\n"
            "s2,Roe,,rroe,,,,\r\n")
    students = roster.read_roster(write(tmp_path, text, encoding="utf-8-sig"))
    assert students == [Student("s1", "Doe, Jane", "JaneD", "forks/jane/", "jane@uni.edu", "A1", "4242", "jdoe"),
                        Student("s2", "Roe", "rroe")]
    other = roster.read_roster(write(tmp_path, "id,lms_id,fork\nx,7,fx\n", "other.csv"))
    assert other == [Student("x", fork="fx", lms_id="7")]


def forks(*names: str) -> dict[str, Path]:
    return {name: Path("/grading/forks") / name for name in names}


def test_a_fork_is_its_students_by_folder_by_user_or_by_classrooms_prefix_and_user():
    students = [Student("s1", fork="Jane-Fork"), Student("s2", github_username="Alice"),
                Student("s3", github_username="carol")]
    matching = roster.match(students, forks("jane-fork", "ALICE", "mnist-2024-Carol", "xcarol", "carol-old"))
    assert {fork: s.identifier for fork, s in matching.students.items()} == {
        "jane-fork": "s1", "ALICE": "s2", "mnist-2024-Carol": "s3"}
    assert matching.without_student == ["xcarol", "carol-old"], "no '-' before the user, or more after it"
    assert not matching.complete


def test_the_longest_user_wins_where_two_end_a_forks_name():
    students = [Student("s1", github_username="smith"), Student("s2", github_username="bob-smith")]
    matching = roster.match(students, forks("mnist-bob-smith", "mnist-smith"))
    assert {fork: s.identifier for fork, s in matching.students.items()} == {"mnist-bob-smith": "s2",
                                                                              "mnist-smith": "s1"}
    assert matching.complete and roster.matching_lines(matching) == []


def test_a_fork_named_in_the_roster_wins_over_a_user_it_ends_with():
    students = [Student("s1", github_username="alice"), Student("s2", fork="mnist-alice")]
    assert roster.owner(students, "mnist-alice").identifier == "s2"
    assert roster.owner(students, "renamed", "/forks/mnist-alice").identifier == "s2", "the folder counts too"


def test_two_forks_of_one_student_are_both_reported_and_neither_taken():
    students = [Student("s1", github_username="alice"), Student("s2", github_username="bob")]
    matching = roster.match(students, forks("mnist-alice", "alice", "mnist-bob", "stray"))
    assert {fork: s.identifier for fork, s in matching.students.items()} == {"mnist-bob": "s2"}
    assert matching.several == {"s1": ["mnist-alice", "alice"]}
    assert matching.without_fork == [] and matching.without_student == ["stray"]
    assert roster.matching_lines(matching) == [
        "forks without a student: stray",
        "students with several forks (none taken; keep one): s1 (mnist-alice, alice)"]


@pytest.mark.parametrize(("content", "said"), [
    (None, "no such file"),
    ("folder", "a folder, not a CSV file"),
    (b"identifier,fork\n\xff\xfe,x\n", "not UTF-8 text"),
    ("\n \n", "empty, not even a header"),
    ("name,fork\nAlice,a\n", "no identifier column (identifier, student or id) among its columns name, fork"),
    ("identifier,name,email\ns1,A,a@b\n", "no fork or github_username column"),
    ("identifier,fork\ns1,a\n,b\n", "row 3: no identifier (b)"),
    ("identifier,fork\ns1,a\ns2,b\ns1,c\n", "the same identifier in two rows: s1 (rows 2, 4)"),
    ("identifier,github\ns1,Alice\ns2,@alice\n", "the same GitHub user in two rows: alice (rows 2, 3)"),
    ("identifier,fork\ns1,forks/alice\ns2,Alice/\n", "the same fork in two rows: alice (rows 2, 3)"),
    ('identifier,fork\ns1,"a\n', "not a CSV file"),
])
def test_a_roster_that_cannot_be_read_is_refused_with_the_cause_and_a_remedy(tmp_path, content, said):
    path = tmp_path / "roster.csv"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(roster.RosterError) as refused:
        roster.read_roster(path)
    assert said in str(refused.value) and str(path) in str(refused.value)
    assert "classroom_roster.csv" in refused.value.remedy
