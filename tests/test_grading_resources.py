"""A fork cannot exhaust the grader's machine (issue 19): hostile forks of several sizes, each the
reference with one function turned against the checker (replies of hundreds of MB to GB; models
of billions of weights, of too many activations or of too much compute, and one just over the
budget; the one just within it is tests/test_budget.py's), graded two at a time beside the
honest reference while the machine's used memory is sampled;
then two of them on a real Dask cluster (about 4 minutes)."""

import csv
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mnist_checks import cli, exercise
from mnist_checks.grading import memory
from mnist_checks.grading.batch import grade_forks
from mnist_checks.grading.limits import GRADING_MB, Limits
from mnist_checks.grading.rubric import DEFAULT_RUBRIC
from mnist_checks.grading.starter import write_starter

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("grading_resources")]

SOURCE = Path(exercise.__file__).read_text()
REFERENCE_ROOT = Path(exercise.__file__).resolve().parent.parent
#: In the fork's own process: its models are described unbuilt, so the checker would build them.
UNBUILT = '''
import mnist_checks.grading.description as _description
_description.built = lambda model, shape: model
'''
COMPILED = ('    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'
            '    return model\n')


def split_returning(megabytes: int) -> str:
    return (f"def split(*arrays, **kwargs):\n    return [np.ones({megabytes} * 1024**2 // 8), arrays[0][:1], "
            "arrays[1][:1], arrays[1][:1]]\n")


def mlp(*units: int, unbuilt: bool = False) -> str:
    hidden = ", ".join(f"keras.layers.Dense({u}, activation='relu')" for u in units)
    return (UNBUILT if unbuilt else "") + (
        f"def build_mlp():\n    model = keras.Sequential([{hidden}, keras.layers.Dense(10, activation='softmax')])\n"
        + COMPILED)


def cnn(conv: str, *, unbuilt: bool = False) -> str:
    return (UNBUILT if unbuilt else "") + (
        f"def build_cnn():\n    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.{conv}, "
        "keras.layers.MaxPooling2D((28, 28), padding='same'), keras.layers.Flatten(), "
        "keras.layers.Dense(10, activation='softmax')])\n" + COMPILED)


REFUSED_REPLY = "replied with more than it can return"
OVER_BUDGET = "the grader builds models of at most"
#: fork -> (what replaces one of the reference's functions, the question it costs, words of the reason)
HOSTILE = {
    "replies-1500mb": (split_returning(1500), "q1", REFUSED_REPLY),
    "replies-300mb": (split_returning(300), "q1", REFUSED_REPLY),
    "dense-100000-unbuilt": (mlp(100_000, 100_000, unbuilt=True), "q2", OVER_BUDGET),
    "dense-just-over-the-budget": (mlp(11_750), "q2", OVER_BUDGET),
    "conv-100000-unbuilt": (cnn("Conv2D(100000, (3, 3))", unbuilt=True).replace("keras.Input((28, 28, 1)), ", ""),
                            "q5", OVER_BUDGET),
    "conv-too-much-compute": (cnn("Conv2D(5000, (3, 3))"), "q5", "multiply-adds per digit"),
}


def write_fork(root: Path, name: str, source: str) -> Path:
    (root / name / "mnist_checks").mkdir(parents=True)
    (root / name / "mnist_checks" / "exercise.py").write_text(source)
    return root / name


def used_bytes() -> int:
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return (int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])) * 1024


class Sampler(threading.Thread):
    """The machine's used memory every 0.1 s while the batch runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.baseline, self.peak, self.done = used_bytes(), 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, used_bytes())
            time.sleep(0.1)


def kernel_log() -> list[str] | None:
    done = subprocess.run(["dmesg"], capture_output=True, text=True)
    return done.stdout.splitlines() if done.returncode == 0 else None


def lines_since(before: list[str], after: list[str]) -> list[str]:
    """The kernel log's new lines: each carries its timestamp, and once the ring buffer is full it
    drops its oldest, so ``after[len(before):]`` would be empty however much was logged."""
    seen = set(before)
    return [line for line in after if line not in seen]


def global_oom_kills(lines: list[str]) -> list[str]:
    return [line for line in lines if "] Out of memory: Killed process" in line]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    forks = [write_fork(root, "reference", SOURCE)]
    forks += [write_fork(root, name, SOURCE + "\n\n# --- hostile ---\n" + override)
              for name, (override, _, _) in HOSTILE.items()]
    log, sampler = kernel_log(), Sampler()
    sampler.start()
    out = root / "grades"
    try:
        assert cli.main(["grade", *map(str, forks), "--out", str(out), "--jobs", "2", "--fork-timeout", "300",
                         "--call-timeout", "120"]) == 0
    finally:
        sampler.done.set()
        sampler.join()
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    results = {name: json.loads((out / name / "results.json").read_text()) for name in book}
    return {"book": book, "results": results, "sampler": sampler, "log": log, "log_after": kernel_log()}


def test_the_machines_used_memory_stays_under_the_stated_budget(batch):
    sampler = batch["sampler"]
    grown = sampler.peak - sampler.baseline
    assert grown <= 2 * GRADING_MB * memory.MB, f"{grown / memory.MB:,.0f} MB over the baseline"


def test_each_gradings_peak_is_held_under_its_limit(batch):
    for name, row in batch["book"].items():
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
        results = {r.fork: r for r in grade_forks(forks, REFERENCE_ROOT, tmp_path / "grades", tier="fast",
                                                  rubric=DEFAULT_RUBRIC, limits=Limits(), cluster=client)}
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


def test_jobs_that_would_not_fit_the_machine_are_lowered_and_the_grader_says_so(tmp_path, capsys):
    """Two gradings of just over half the machine's memory: one at a time, said on stderr."""
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    half = (memory.machine_bytes() - memory.RESERVED_BYTES) // 2 // memory.MB + 1
    out = tmp_path / "grades"
    assert cli.main(["grade", str(tmp_path / "starter"), "--out", str(out), "--jobs", "2",
                     "--grading-memory-mb", str(half)]) == 0
    assert f"grading 1 fork(s) at a time, not 2: each grading may hold {half:,} MB" in capsys.readouterr().err


def test_a_limit_larger_than_the_machine_is_refused_before_grading_with_the_remedy(tmp_path, capsys):
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    too_much = memory.machine_bytes() // memory.MB + 1
    assert cli.main(["grade", str(tmp_path / "starter"), "--out", str(tmp_path / "grades"),
                     "--grading-memory-mb", str(too_much)]) != 0
    err = capsys.readouterr().err
    assert f"{too_much:,} MB" in err and "--grading-memory-mb" in err
    assert not (tmp_path / "grades" / "gradebook.csv").exists()
