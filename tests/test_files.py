"""Files written whole or not at all (``mnist_checks.files``): records, reports, trainings and
grades are never left half-written by an error or a Ctrl-C."""

import pytest

from mnist_checks.files import atomic_file, sha256_hex, write_atomically

pytestmark = pytest.mark.fast


def test_an_interrupted_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "record.json"
    target.write_text("previous")
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(target, "w") as handle:
            handle.write("half")
            raise KeyboardInterrupt
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"], "the temporary file is removed"


def test_a_finished_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "gradebook.csv"
    target.write_text("previous")
    write_atomically(target, b"fork,total\n")
    assert target.read_bytes() == b"fork,total\n"
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


def test_the_digest_is_sha256():
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
