"""A fork cannot exhaust the grader's machine (issue 19): hostile forks of several sizes, each the
reference with one function turned against the checker (replies of hundreds of MB to GB; models
of billions of weights, of too many activations or of too much compute, and one just over the
budget; the one just within it is tests/test_budget.py's: tests/course.py, ``HOSTILE``), graded
two at a time in the e2e tier's course while the machine's used memory is sampled; then two of
them on a real Dask cluster (about 4 minutes)."""

import pytest
from course import HOSTILE, REFERENCE_ROOT, SOURCE, write_fork
from helpers import global_oom_kills, kernel_log, lines_since

from mnist_checks import cli
from mnist_checks.grading.course.batch import grade_forks
from mnist_checks.grading.course.grading import Grading
from mnist_checks.grading.limits import GRADING_MB, Limits
from mnist_checks.grading.sandbox import memory
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC
from mnist_checks.grading.students.starter import write_starter

# The course's worker (pytest -n 2 --dist loadgroup): the session's course is graded once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course")]


@pytest.fixture
def batch(course):
    return course


def test_the_machines_used_memory_stays_under_the_stated_budget(batch):
    sampler = batch["sampler"]
    grown = sampler.peak - sampler.baseline
    assert grown <= 2 * GRADING_MB * memory.MB, f"{grown / memory.MB:,.0f} MB over the baseline"


def test_each_gradings_peak_is_held_under_its_limit(batch):
    checked = {name: row for name, row in batch["book"].items() if row["status"] != "error"}  # error: never checked
    assert set(HOSTILE) <= set(checked)
    for name, row in checked.items():
        assert row["memory"].startswith(f"{GRADING_MB:,} MB"), row["memory"]
        if "peak" in row["memory"]:
            peak = float(row["memory"].split("peak ")[1].split(" MB")[0].replace(",", ""))
            assert peak <= GRADING_MB, (name, row["memory"])


def test_no_process_of_the_machine_was_killed_by_the_global_oom_killer(batch):
    if batch["log"] is None:
        pytest.skip("the kernel's log is not readable here (dmesg)")
    assert not global_oom_kills(lines_since(batch["log"], batch["log_after"]))


@pytest.mark.parametrize("fork", HOSTILE)
def test_a_hostile_fork_loses_that_questions_points_with_the_reason(batch, fork):
    _, question, reason = HOSTILE[fork]
    row, reference = batch["book"][fork], batch["book"]["reference"]
    assert row["status"] == "graded", row["reason"]
    assert float(row[question]) < float(reference[question])
    others = [q for q in ("q1", "q2", "q3", "q4", "q5") if q != question]
    assert {q: row[q] for q in others} == {q: reference[q] for q in others}, "it costs no other question"
    failed = [t["message"] for t in batch["results"][fork]["extra_data"]["raw_tests"]
              if t["question"] == question and t["outcome"] != "passed"]
    assert any(reason in message for message in failed), failed[:2]


def test_the_honest_fork_beside_them_keeps_full_marks(batch):
    row = batch["book"]["reference"]
    assert (row["status"], row["total"]) == ("graded", row["max"])


@pytest.mark.xdist_group("resources-on-a-cluster")  # a batch of its own: free to run beside the course
def test_on_a_dask_cluster_hostile_forks_lose_their_points_and_no_worker_dies(tmp_path):
    """The same bounds on two loopback workers: each worker's gradings in their own cgroups."""
    pytest.importorskip("distributed", reason='the cluster extra is not installed: pip install -e ".[cluster]"')
    from mnist_checks.cluster import close, connect

    names = ["replies-1500mb", "conv-100000-unbuilt"]
    forks = [write_fork(tmp_path, "reference", SOURCE)]
    forks += [write_fork(tmp_path, name, SOURCE + "\n" + HOSTILE[name][0]) for name in names]
    client = connect("local", 2)
    try:
        before = client.run(lambda: __import__("os").getpid())
        log = kernel_log()
        grading = Grading(tier="fast", rubric=DEFAULT_RUBRIC, limits=Limits(), cluster=client)
        results = {r.fork: r for r in grade_forks(forks, REFERENCE_ROOT, tmp_path / "grades", grading).results}
        assert client.run(lambda: __import__("os").getpid()) == before, "every worker is the one that started"
    finally:
        close(client)
    assert results["reference"].totals["total"][0] == results["reference"].totals["total"][1]
    for name in names:
        question = HOSTILE[name][1]
        assert results[name].status == "graded" and results[name].worker
        assert results[name].totals[question][0] < results["reference"].totals[question][0]
        assert results[name].memory.startswith(f"{GRADING_MB:,} MB")
    if log is not None:
        assert not global_oom_kills(lines_since(log, kernel_log()))


@pytest.mark.xdist_group("resources-jobs")
def test_jobs_that_would_not_fit_the_machine_are_lowered_and_the_grader_says_so(tmp_path, capsys):
    """Two gradings of just over half the machine's memory: one at a time, said on stderr."""
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    half = (memory.machine_bytes() - memory.RESERVED_BYTES) // 2 // memory.MB + 1
    out = tmp_path / "grades"
    assert cli.main(["grade", str(tmp_path / "starter"), "--out", str(out), "--jobs", "2",
                     "--grading-memory-mb", str(half)]) == 0
    assert f"grading 1 fork(s) at a time, not 2: each grading may hold {half:,} MB" in capsys.readouterr().err


@pytest.mark.xdist_group("resources-jobs")
def test_a_limit_larger_than_the_machine_is_refused_before_grading_with_the_remedy(tmp_path, capsys):
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    too_much = memory.machine_bytes() // memory.MB + 1
    assert cli.main(["grade", str(tmp_path / "starter"), "--out", str(tmp_path / "grades"),
                     "--grading-memory-mb", str(too_much)]) != 0
    err = capsys.readouterr().err
    assert f"{too_much:,} MB" in err and "--grading-memory-mb" in err
    assert not (tmp_path / "grades" / "gradebook.csv").exists()
