"""Grading and multi-seed runs on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on loopback, started here; one worker killed in the middle of a batch (about 3 minutes).

Needs the optional extra (`pip install -e ".[cluster]"`); skipped without it, except where
MNIST_CHECKS_REQUIRE_CLUSTER is set (CI), where a missing Dask fails."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from mnist_checks import cli, exercise, trainings
from mnist_checks.cluster import ClusterError
from mnist_checks.grading.course.batch import grade_forks
from mnist_checks.grading.course.grading import Grading
from mnist_checks.grading.limits import Limits
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC
from mnist_checks.grading.students.starter import write_starter

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cluster")]

REFERENCE_ROOT = Path(exercise.__file__).resolve().parent.parent
SOURCE = Path(exercise.__file__).read_text()


def _dask_command() -> str:
    if os.environ.get("MNIST_CHECKS_REQUIRE_CLUSTER"):
        import distributed  # noqa: F401  -- CI: a missing extra fails here instead of skipping
    else:
        pytest.importorskip("distributed", reason='the cluster extra is not installed: pip install -e ".[cluster]"')
    beside = Path(sys.executable).parent / "dask"
    return str(beside) if beside.exists() else shutil.which("dask")


def _start(command: list, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers, each its own process, on 127.0.0.1."""
    from distributed import Client

    dask, root = _dask_command(), tmp_path_factory.mktemp("cluster")
    address_file = root / "scheduler.json"
    scheduler = _start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(address_file)], root / "scheduler.log")
    deadline = time.monotonic() + 60
    while not address_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = {name: _start([dask, "worker", "--scheduler-file", str(address_file), "--nthreads", "1", "--no-nanny",
                             "--no-dashboard", "--host", "127.0.0.1", "--name", name], root / f"{name}.log")
               for name in ("w1", "w2")}
    client = Client(scheduler_file=str(address_file), timeout="60s", set_as_default=False)
    try:
        client.wait_for_workers(2, timeout=120)
        addresses = {info["name"]: address for address, info in client.scheduler_info(n_workers=-1)["workers"].items()}
        yield SimpleNamespace(client=client, address=client.scheduler.address, workers=workers, addresses=addresses,
                              root=root)
    finally:
        client.close()
        for process in [*workers.values(), scheduler]:
            process.send_signal(signal.SIGINT)
        for process in [*workers.values(), scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _fork(root: Path, name: str, old: str = "", new: str = "") -> Path:
    assert old in SOURCE
    write_starter(REFERENCE_ROOT, root / name)
    (root / name / "mnist_checks" / "exercise.py").write_text(SOURCE.replace(old, new, 1))
    return root / name


def _checkers_alive() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"--grade-log" in line and entry.name != str(os.getpid()):
            found.append(line.replace(b"\0", b" ").decode(errors="replace")[:200])
    return found


def test_a_batch_on_the_cluster_gives_every_fork_one_row_though_a_worker_dies_mid_batch(cluster, tmp_path):
    """Six forks on two workers, each one's start told by its worker (the progress display's);
    one worker is killed when the first result arrives: its job runs
    again on the other, every fork gets exactly one row with its right grade, and no checker of
    the dead worker is left running."""
    forks = [
        _fork(tmp_path, "reference"),
        _fork(tmp_path, "reference-named", 'keras.layers.Dense(32, activation="relu")',
              'keras.layers.Dense(32, activation="relu", name="hidden")'),
        _fork(tmp_path, "divides-by-256", "np.float32(255)", "np.float32(256)"),
        _fork(tmp_path, "mlp-64-units", 'keras.layers.Dense(32, activation="relu")',
              'keras.layers.Dense(64, activation="relu")'),
        _fork(tmp_path, "reference-again"),
    ]
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    forks.append(tmp_path / "starter")
    killed = []

    def kill_a_worker(result):
        if not killed:
            cluster.workers["w1"].kill()
            killed.append(result.fork)

    out, started = tmp_path / "grades", []
    results = grade_forks(forks, REFERENCE_ROOT, out, Grading(tier="fast", rubric=DEFAULT_RUBRIC, limits=Limits(),
                                                              cluster=cluster.client),
                          on_result=kill_a_worker, on_start=lambda name, now: started.append((name, now()))).results
    assert {name for name, _ in started} == {fork.name for fork in forks}, "each fork's start, told by its worker"
    assert {str(now) for _, now in started} == {"{}"}, "on a cluster, when it starts alone"
    assert killed and cluster.workers["w1"].wait(timeout=30) == -signal.SIGKILL
    with open(out / "gradebook.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["fork"] for row in rows) == sorted(fork.name for fork in forks)
    book = {row["fork"]: row for row in rows}
    assert {row["status"] for row in rows} == {"graded"}, [row["reason"] for row in rows]
    full = ("reference", "reference-named", "reference-again")
    assert all(book[name]["total"] == "60.0" for name in full) and book["starter"]["total"] == "0.0"
    assert float(book["divides-by-256"]["q4"]) < 10 and book["divides-by-256"]["q2"] == "15.0"
    assert float(book["mlp-64-units"]["q2"]) < 15 and book["mlp-64-units"]["q4"] == "10.0"
    workers = {r.fork: json.loads((out / r.fork / "results.json").read_text())["extra_data"]["worker"] for r in results}
    after = [name for name, worker in workers.items() if name != killed[0] and worker == cluster.addresses["w2"]]
    assert set(workers.values()) <= set(cluster.addresses.values()) and len(after) >= 4, workers
    time.sleep(1)
    assert _checkers_alive() == []


def test_workers_with_other_canonical_tests_are_refused_by_name(cluster):
    from mnist_checks.grading.course.remote import ClusterChecks

    with pytest.raises(ClusterError, match="other canonical tests"):
        ClusterChecks(cluster.client, tier="fast", limits=Limits(), canon_digest="0" * 64, allow_unisolated=False)


def test_trainings_are_shared_through_the_scheduler(cluster, sample):
    """A training kept by the scheduler outlives the client that did it: another one reuses it."""
    from mnist_checks.plan import Settings
    from mnist_checks.run import run_exercise

    short = Settings(mlp_epochs=1, cnn_epochs=1)
    runs = []
    for _ in range(2):
        store = trainings.open_store(cluster.address)
        try:
            runs.append(run_exercise(*sample, short, store=store))
        finally:
            store.close()
    assert [m["training"]["reused"] for m in runs[0].record["models"].values()] == [False] * 3
    assert [m["training"]["reused"] for m in runs[1].record["models"].values()] == [True] * 3
    assert runs[1].record["models"]["cnn"]["history"] == runs[0].record["models"]["cnn"]["history"]


def test_several_seeds_train_in_parallel_on_the_cluster_into_a_directory_each(cluster, tmp_path, digits, capsys):
    out = tmp_path / "runs"
    page = tmp_path / "spread.md"  # a copy of docs/spread.md: one command re-measures and rewrites it
    page.write_text((Path(__file__).resolve().parent.parent / "docs" / "spread.md").read_text())
    argv = ["run", "--seeds", "3-4", "--cluster", cluster.address, "--mlp-epochs", "1", "--cnn-epochs", "1",
            "--out", str(out), "--spread-page", str(page)]
    assert cli.main(argv) == 3, "one epoch each: no model trained as published, none judged"
    runs = sorted(out.glob("run-*"))
    assert [path.name.rsplit("-", 1)[-1] for path in runs] == ["seed3", "seed4"]
    records = [json.loads((path / "record.json").read_text()) for path in runs]
    assert [r["settings"]["seed"] for r in records] == [3, 4]
    assert records[0]["models"]["mlp_raw"]["history"] != records[1]["models"]["mlp_raw"]["history"]
    (spread,) = out.glob("spread-*-seeds3-4.md")
    assert "over 2 runs (seeds 3, 4)" in spread.read_text() and "| mlp_raw |" in spread.read_text()
    (curves,) = out.glob("curves-*-seeds3-4.png")
    assert curves.read_bytes().startswith(b"\x89PNG"), "the learning curves across the seeds, drawn as bands"
    said = capsys.readouterr().out
    assert "seed 3:" in said
    assert "over 2 runs (seeds 3, 4)" in page.read_text() and "How the tolerances" in page.read_text()
    assert "window: " in said, "one epoch each: the windows do not follow from this spread, and it says so"


def test_cluster_local_starts_workers_here_grades_and_leaves_no_process(tmp_path, capsys):
    """`grade --cluster local`: a cluster of --jobs worker processes on loopback, closed at the end."""
    _dask_command()
    write_starter(REFERENCE_ROOT, tmp_path / "starter")
    out = tmp_path / "grades"
    assert cli.main(["grade", str(tmp_path / "starter"), "--cluster", "local", "--jobs", "1", "--out", str(out)]) == 0
    assert "on the Dask cluster tcp://127.0.0.1:" in capsys.readouterr().out
    with open(out / "gradebook.csv") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["status"], row["total"], row["isolation"]) == ("graded", "0.0", "bubblewrap")
    time.sleep(1)
    assert _checkers_alive() == []
