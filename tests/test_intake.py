"""What the grader reads of a fork and of the reference: mnist_checks/grading/course/intake.py."""

import pytest

from mnist_checks.grading.course import intake

pytestmark = pytest.mark.fast

def test_a_fork_keeps_its_gradebook_name_and_a_new_fork_with_the_same_folder_name_gets_another(tmp_path):
    (tmp_path / "a" / "alice").mkdir(parents=True)
    (tmp_path / "b" / "alice").mkdir(parents=True)
    taken = {"alice": str((tmp_path / "a" / "alice").resolve())}
    names = intake.unique_names([tmp_path / "b" / "alice", tmp_path / "a" / "alice"], taken=taken)
    assert names == {"alice-2": tmp_path / "b" / "alice", "alice": tmp_path / "a" / "alice"}


def test_edits_to_canonical_files_are_warnings(tmp_path):
    reference, fork = tmp_path / "reference", tmp_path / "fork"
    for root in (reference, fork):
        (root / "tests").mkdir(parents=True)
        (root / "tests" / "test_q1.py").write_text("def test(): assert split()\n")
    (fork / "tests" / "test_q1.py").write_text("def test(): assert True\n")
    (fork / "tests" / "test_mine.py").write_text("")
    warnings = intake.edited_canonical_files(fork, reference)
    assert warnings == [
        "added tests/test_mine.py (ignored: the canonical tests and settings ran)",
        "edited tests/test_q1.py (ignored: the canonical tests and settings ran)",
    ]
