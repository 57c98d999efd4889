"""`mnist-checks grade` end to end on forks built from the reference, read from the e2e tier's
course (tests/course.py): full marks, zero, one mistake each, a hang, a crash, a memory hog, a
flood of output, an edit of the canonical tests, and an attack on them; then batches of their own
where the batch itself is what a test checks (a second call, Ctrl-C, the slow tier, no sandbox)."""

import csv
import json
import shutil

import pytest
from course import ATTACKS, REFERENCE_ROOT, SOURCE, write_fork

from mnist_checks import cli
from mnist_checks.grading.course import batch
from mnist_checks.grading.students.starter import write_starter

# The course's worker (pytest -n 2 --dist loadgroup): the session's course is graded once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course")]


@pytest.fixture
def graded(course):
    return course


def points(graded, fork, column="total"):
    return float(graded["book"][fork][column] or 0)


def test_starter_plus_the_reference_solutions_gets_full_marks(graded):
    assert points(graded, "reference") == 60.0 == float(graded["book"]["reference"]["max"])
    assert graded["book"]["reference"]["status"] == "graded"
    assert graded["book"]["reference"]["warnings"] == ""


def test_starter_gets_zero_with_not_implemented_feedback(graded):
    assert points(graded, "starter") == 0.0
    outputs = [t["output"].splitlines() for t in graded["results"]["starter"]["tests"]]
    assert all(claim.startswith("claim: ") and found.startswith("not implemented yet: Q") for claim, found in outputs)


def test_the_gradebook_names_the_head_commit_of_each_fork_graded(graded):
    """Each fork that is a git repository (a starter made by `mnist-checks starter`, the reference's solutions
    committed by a student) is listed with its HEAD commit, in results.json too; a fork that is none has none."""
    assert graded["book"]["reference"]["commit"] == graded["heads"]["reference"][:7]
    assert graded["results"]["reference"]["extra_data"]["commit"] == graded["heads"]["reference"][:7]
    assert graded["book"]["starter"]["commit"] == graded["heads"]["starter"][:7]
    assert graded["heads"]["reference"] != graded["heads"]["starter"]
    assert graded["book"]["q4-divides-by-256"]["commit"] == ""


def test_an_untouched_starter_reads_as_not_started_and_a_partly_started_fork_keeps_its_grade(graded):
    """The untouched starter's row says it was not started; a fork with Q4 alone done has Q4's points, no such
    reason and its usual feedback."""
    assert graded["book"]["starter"]["reason"] == batch.NOT_STARTED
    assert graded["book"]["starter"]["status"] == "graded"
    assert batch.NOT_STARTED in graded["results"]["starter"]["output"]
    partly = graded["book"]["partly-started"]
    assert (partly["status"], partly["reason"]) == ("graded", "")
    q4 = points(graded, "reference", "q4")
    assert points(graded, "partly-started") == points(graded, "partly-started", "q4") == q4
    failed = [t["output"] for t in graded["results"]["partly-started"]["tests"] if t["status"] == "failed"]
    assert failed and all("not implemented yet: Q" in output for output in failed)


def test_the_checkers_output_is_short_and_names_none_of_the_graders_files(graded):
    """output.txt of the untouched starter: one line per function not written yet, no traceback; of
    every fork of the students' side and a mistake's, short tracebacks through tests/ and exercise.py,
    never through the grader's own modules or its private copy of the tests."""
    starter = (graded["out"] / "starter" / "output.txt").read_text()
    assert len(starter) < 2000 and "Q2: build_mlp is not implemented yet" in starter, starter
    for fork in ("starter", "partly-started", "reference", "q2-64-units", "q4-divides-by-256"):
        output = (graded["out"] / fork / "output.txt").read_text()
        assert [word for word in ("mnist_checks/grading/", "canon/", "left out]") if word in output] == [], fork


@pytest.mark.parametrize(("fork", "question"),
                         [("q1-test-size-0.2", "q1"), ("q2-64-units", "q2"), ("q4-divides-by-256", "q4")])
def test_a_mistake_costs_its_question_and_no_other(graded, fork, question):
    for q in ("q1", "q2", "q3", "q4", "q5"):
        full = points(graded, "reference", q)
        if q == question:
            assert points(graded, fork, q) < full
        else:
            assert points(graded, fork, q) == full, q


def test_failed_tests_say_what_was_expected_and_found(graded):
    failed = [t for t in graded["results"]["q2-64-units"]["tests"] if t["status"] == "failed"]
    assert any("expected: [25120, 330]\nfound:    [50240, 650]" in t["output"] for t in failed)
    assert all(t["output"].startswith("claim: ") for t in failed)
    q1 = [t["output"] for t in graded["results"]["q1-test-size-0.2"]["tests"] if t["status"] == "failed"]
    assert any("for example with n=" in output for output in q1), "a Hypothesis counterexample, compactly"
    honest = {name: result for name, result in graded["results"].items() if name not in ATTACKS}  # they print it
    everything = json.dumps(honest)
    assert [word for word in ("/sandbox", "mnist-checks-grader-", "Use -v") if word in everything] == []


def test_a_fork_that_edits_the_canonical_tests_is_graded_as_if_it_had_not(graded):
    assert points(graded, "edits-tests") == points(graded, "reference")
    assert "edited tests/test_q2_mlp.py" in graded["book"]["edits-tests"]["warnings"]


def test_a_fork_that_hangs_loses_the_hanging_function_and_nothing_else(graded):
    """split() sleeps forever: each call is stopped at --call-timeout, and split is not called
    again after that; the other questions are graded as usual."""
    row = graded["book"]["hangs"]
    assert row["status"] == "graded" and points(graded, "hangs", "q1") == 0.0
    for q in ("q2", "q3", "q5"):
        assert points(graded, "hangs", q) == points(graded, "reference", q)
    assert any("split() hung" in t["output"] for t in graded["results"]["hangs"]["tests"])


def test_a_crash_costs_the_crashing_function_alone(graded):
    row = graded["book"]["crashes-in-q5"]
    assert row["status"] == "graded"
    for q in ("q1", "q2", "q3", "q4"):
        assert points(graded, "crashes-in-q5", q) == points(graded, "reference", q)
    assert points(graded, "crashes-in-q5", "q5") < points(graded, "reference", "q5")
    outputs = [t["output"] for t in graded["results"]["crashes-in-q5"]["tests"]]
    assert any("died during build_cnn() of SIGABRT" in o for o in outputs)


def test_megabytes_of_output_are_cut_and_cost_nothing_more(graded):
    """The fork prints 5 MB in every call of scale (and scales wrongly); the grader keeps 64 KB."""
    assert points(graded, "floods-output") == points(graded, "q4-divides-by-256")
    output = (graded["out"] / "floods-output" / "output.txt").read_text()
    assert len(output) < 200_000 and "left out" in output


def test_a_memory_hog_loses_only_the_tests_that_hit_the_limit(graded):
    assert points(graded, "hogs-memory", "q5") < points(graded, "reference", "q5")
    assert points(graded, "hogs-memory", "q1") == points(graded, "reference", "q1")
    assert any("MemoryError" in t["output"] for t in graded["results"]["hogs-memory"]["tests"])


def test_a_fork_that_rewrites_the_canonical_tests_cannot_and_loses_that_question(graded):
    """Its build_mlp writes into where the canonical tests used to be copied: no such path exists
    in its sandbox, so Q2 fails with the fork's own error and no canonical file changes."""
    row = graded["book"]["rewrites-tests"]
    assert points(graded, "rewrites-tests", "q2") == 0.0
    assert points(graded, "rewrites-tests", "q5") == points(graded, "reference", "q5")
    assert (REFERENCE_ROOT / "tests" / "test_q5_cnn.py").stat().st_size > 0
    assert row["isolation"] == "bubblewrap"


def test_a_second_run_skips_forks_already_graded(graded, capsys, tmp_path):
    """A second call into the course's output folder (a copy: the course's own stays as graded)."""
    reference, out = graded["forks"][0], tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    assert cli.main(["grade", str(reference), "--out", str(out)]) == 0
    assert "reference: 60.0/60.0 cached" in capsys.readouterr().out
    assert cli.main(["grade", str(reference), "--out", str(out), "--regrade"]) == 0
    out_text = capsys.readouterr().out
    assert "reference: 60.0/60.0 graded" in out_text
    assert f"{len(graded['forks']) - 1} kept from earlier calls" in out_text
    with open(out / "gradebook.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["fork"] for row in rows] == list(graded["book"]), "regrading one fork lost the class's other rows"
    assert [row["total"] for row in rows] == [row["total"] for row in graded["book"].values()]


@pytest.mark.xdist_group("ctrl-c")  # a batch of its own: free to run beside the course
def test_ctrl_c_writes_the_gradebook_with_every_fork_and_leaves_no_process(tmp_path):
    """SIGINT (Ctrl-C) after the first of three forks: exit 130, a row for each fork (the others
    marked not graded), and no checker or fork process left running."""
    import os
    import signal
    import subprocess
    import sys
    import time

    forks = [write_fork(tmp_path, f"fork{i}", SOURCE) for i in range(3)]
    out = tmp_path / "grades"
    # SIGINT's default action in the grader, even where this test runs in a background job that
    # ignores it (a shell without job control starts those with SIGINT ignored, and Python keeps that)
    grader = subprocess.Popen([sys.executable, "-m", "mnist_checks", "grade", *map(str, forks), "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "fork0" / "results.json").exists():
        time.sleep(0.2)
    grader.send_signal(signal.SIGINT)
    stdout, stderr = grader.communicate(timeout=120)
    assert grader.returncode == 130, stderr[-2000:]
    assert "not graded" in stderr and "Traceback" not in stderr
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    assert set(book) == {"fork0", "fork1", "fork2"}
    assert book["fork0"]["status"] == "graded" and book["fork0"]["total"] == "60.0"
    assert book["fork2"]["status"] == "not graded" and "interrupted" in book["fork2"]["reason"]
    time.sleep(1)
    left = [p for p in os.listdir("/proc") if p.isdigit() and str(tmp_path).encode() in _cmdline(p)]
    assert left == []


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


@pytest.mark.xdist_group("slow-tier-batch")  # needs no module fixture: free to run beside them
def test_the_slow_tier_trains_each_distinct_model_once_for_the_batch(tmp_path, digits, capsys, monkeypatch):
    """`grade --tier all` on the reference, the reference written otherwise (named layers), the
    exercise's own code cells (no Input, metrics=['acc'], X/255 in float64), a TensorFlow-tutorial
    style (tf.nn activations, loss and metric objects) and a Q1 mistake: the forks' split, scale
    and to_images answer with the full data set's arrays, their models come back as descriptions,
    and the checker trains them, once for the five forks: their arrays and initial weights are the
    reference's, and each trained model takes the reference's split, so the Q1 mistake trains
    nothing of its own and keeps its Q2, Q4 and Q5 points. Each of the four is trained at most
    once, here or before into the store of trainings (``$MNIST_CHECKS_TRAININGS``: CI's starts
    empty, so this batch trains them, about 6 minutes, and the slow tier after it reuses them).
    Each checker's log said which model its run was training, in order (the progress display's
    source); piped, the command prints one line per fork."""
    import re

    from mnist_checks.grading.catalogue.mutants import MUTANTS, VARIANTS, apply
    from mnist_checks.grading.catalogue.variants import published
    from mnist_checks.grading.course import checker

    write_starter(REFERENCE_ROOT, tmp_path / "reference")
    (tmp_path / "reference" / "mnist_checks" / "exercise.py").write_text(SOURCE)
    named, swapped = (next(m for m in catalogue if m.name == name) for catalogue, name in
                      [(VARIANTS, "named-layers"), (MUTANTS, "q1-train-and-test-swapped")])
    contracts = REFERENCE_ROOT / "tests" / "data" / "contracts"
    forks = [tmp_path / "reference", write_fork(tmp_path, named.name, apply(SOURCE, named.edits)),
             write_fork(tmp_path, "as-published", published().source),
             write_fork(tmp_path, "tf-objects", (contracts / "independent_08_tf_objects_tf_nn.py").read_text()),
             write_fork(tmp_path, swapped.name, apply(SOURCE, swapped.edits))]
    out, started, read_grade_log = tmp_path / "grades", [], checker.read_grade_log

    def read_and_keep(log):  # the log as it stands when the checker ends, before its workdir goes
        started.append([json.loads(line)["training_started"] for line in log.read_text().splitlines()
                        if "training_started" in line])
        return read_grade_log(log)

    monkeypatch.setattr(checker, "read_grade_log", read_and_keep)
    assert cli.main(["grade", *map(str, forks), "--tier", "all", "--out", str(out), "--jobs", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed[1:printed.index("")]) == len(forks), "piped: a line per fork between the first and the summary"
    assert started == [["mlp_raw", "mlp_scaled", "mlp_scaled_warm", "cnn"]] * len(forks)
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    for name in ("reference", "named-layers", "as-published", "tf-objects"):
        found = (book[name]["total"], book[name]["slow"], book[name]["isolation"])
        assert found == ("100.0", "40.0", "bubblewrap"), book[name]
    full = {"q2": "25.0", "q3": "15.0", "q4": "20.0", "q5": "25.0"}
    assert {q: book[swapped.name][q] for q in full} == full and float(book[swapped.name]["q1"]) < 15
    keys = {row["trainings"] for row in book.values()}
    assert len(keys) == 1 and keys.pop().count("=") == 4, "the five forks share the same four trainings"
    said = re.search(r"trainings: 20 trained models of 5 fork\(s\), 4 distinct: (\d+) trained in this call, "
                     r"(\d+) reused", "\n".join(printed))
    trained, reused = map(int, said.groups())
    assert trained <= 4 and trained + reused == 20, "each distinct model trained at most once"
    assert sum(int(row["reused"].split("/")[0]) for row in book.values()) == reused
    page = (out / "reference" / "feedback.md").read_text()  # the slow tier's part of the feedback page
    assert "](curves.png)" in page and (out / "reference" / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert page.count("a real improvement: ") == 2 and "NOT a real improvement" not in page  # Q4's and Q5's
    assert page.count(" | 0.9") >= 4, "each trained model's final val_accuracy beside the published figure"


@pytest.mark.xdist_group("unisolated")
def test_allow_unisolated_grades_and_says_so_on_the_row(tmp_path, monkeypatch):
    """Without bubblewrap (not on PATH) and with --allow-unisolated, the starter is graded in a
    plain process: 0 points, and the row says unisolated with a warning."""
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "grades"
    assert cli.main(["grade", str(tmp_path / "starter"), "--out", str(out), "--allow-unisolated"]) == 0
    with open(out / "gradebook.csv") as handle:
        (row,) = csv.DictReader(handle)
    assert row["isolation"] == "unisolated" and "graded unisolated" in row["warnings"] and row["total"] == "0.0"
