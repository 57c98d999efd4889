"""The checker: pytest on a private copy of the canonical tests, one process per fork, whose
contract calls go to a sandboxed student server (``isolated``); and the ``Checks`` a batch drives,
on this machine (``pools.LocalChecks``) or on a cluster (``remote.ClusterChecks``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from ... import trainings
from ...data import ENV_DATA
from ...errors import MnistChecksError
from ...notebook import Contract
from ...processes import die_with_parent, kill_group
from ...questions import QUESTIONS
from ..contract import CONTRACT
from ..limits import Limits
from ..sandbox import levels, memory, preloaded
from ..solutions import holds_solutions
from ..students.feedback import without_paths
from ..students.graded import GradedTest, TestOutcome
from ..students.rubric import TIERS
from .checks import CheckOutcome
from .intake import copy_canonical, tree_digest
from .results import ForkStatus

#: The checker's log (``pytest_plugin``'s ``--grade-log``) in each check's private workdir.
GRADE_LOG = "grade-log.jsonl"


@dataclass
class Job:
    """One fork to check: what the grader read of it, once (the checks get its contract's bytes)."""

    name: str
    path: str
    out: Path
    commit: str
    source: bytes | None
    problem: str
    key: str
    warnings: list
    notebook: Contract | None = None  # the contract built from a notebook: what it left out, its lines
    handed_in: dict | None = None  # graded by a due date: ``ForkResult.handed_in``
    student: dict | None = None  # from the roster: ``ForkResult.student``


class Checks(Protocol):
    """What a batch (``batch.grade_forks``) drives: checks of forks' contracts, run somewhere.

    ``pools.LocalChecks`` runs them in this machine's checker processes; ``remote.ClusterChecks`` on a
    Dask cluster's workers. Each answers a job with ``Checker.check``'s ``CheckOutcome``."""

    def submit(self, job: Job, on_start=None) -> Future:
        """Start checking ``job``'s contract; its future's outcome is read with ``outcome``.
        ``on_start(now)``, if given, is called as the check itself starts (not when it is queued):
        ``now()`` says what it is on at that moment (``grade_log_now``; {} where unknown)."""

    def outcome(self, future: Future) -> CheckOutcome:
        """The finished check's answer (``Checker.check``'s); a grader bug raises here."""

    def health(self) -> None:
        """Called while waiting: raise ``ClusterError`` where no worker is left to check forks."""

    def stop(self) -> None:
        """Ctrl-C: kill every check running now, start no other."""

    def close(self) -> None:
        """The batch is over: release what the checks hold."""


def marker_expression(tier: str) -> str:
    """pytest's ``-m`` for the graded tests of ``tier`` (fast, slow or all): a tier's and a question's."""
    tiers = TIERS if tier == "all" else (tier,)
    return f"({' or '.join(tiers)}) and ({' or '.join(QUESTIONS)})"


def pytest_args(root: Path, tier: str, *extra: str, files: tuple[str, ...] = ()) -> list[str]:
    """pytest's arguments for the canonical tests under ``root`` (its test files that hold graded
    tests, ``files``, where known: the others' collection only to deselect them costs every fork
    seconds): its settings and named plugins alone, and short tracebacks: people read its output
    (output.txt), whose paths are cut to ``tests/...`` and ``exercise.py`` (``feedback.without_paths``)."""
    return [
        *([str(root / f) for f in files] or [str(root / "tests")]), "-c", str(root / "pyproject.toml"),
        "--rootdir", str(root), "-m", marker_expression(tier), "-p", "no:cacheprovider",
        "-p", "mnist_checks.grading.students.plugin", "-p", "_hypothesis_pytestplugin", "--hypothesis-seed=0",
        "-q", "--tb=short", "-o", "addopts=--strict-markers", *extra,
    ]


def grading_mode(canon: Path) -> tuple[str, ...]:
    """``--grading`` (the other questions' models come from the reference) where the canonical
    copy's contract holds its solutions (``solutions.holds_solutions``); a starter given as the
    reference has none to lend, and each fork then trains with its own answers, as a student's run does."""
    contract = canon / CONTRACT
    return ("--grading",) if contract.is_file() and holds_solutions(contract.read_text()) else ()


class CollectionError(MnistChecksError):
    """The reference's canonical tests could not be collected: nothing can be graded with them."""

    remedy = ("run `pytest --collect-only -m \"fast or slow\"` in the reference checkout (--reference) to see why, "
              "and fix or reinstall it (`pip install -e .`)")


def collect_graded_tests(canon: Path, tier: str) -> list[GradedTest]:
    """The graded tests of ``tier`` (id, question, tier, claim, tags), as pytest collects them."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "collected.json"
        process = start_checker(pytest_args(canon, tier, "--grade-collect", str(listing)), Path(tmp),
                                checker_env(canon, Path(tmp)), NoCell())
        output = process.stdout.read().decode(errors="replace")
        process.wait()
        if not listing.exists():
            raise CollectionError(f"collecting the canonical tests failed:\n{output[-6000:]}")
        return [GradedTest.from_json(test) for test in json.loads(listing.read_text())]


def graded_files(graded: list[GradedTest]) -> tuple[str, ...]:
    """The test files (relative to the canonical copy) that hold ``graded`` tests, in order."""
    return tuple(dict.fromkeys(test.file for test in graded))


@dataclass
class Checker:
    """Runs the canonical tests (a private copy, ``canon``) against contracts on this machine,
    each in a checker process whose contract calls go to a sandboxed student server.  The slow
    tier's trainings go through the store ``trainings`` names (``mnist_checks.trainings``)."""

    canon: Path
    private: Path
    tier: str
    limits: Limits
    isolation: levels.Isolation
    reference: Path
    trainings: str = "off"
    memory: memory.MemoryLimit | None = None  # each grading's memory limit (memory.probe); None: none
    files: tuple = ()  # the canonical test files holding graded tests (graded_files); (): all of tests/
    data: str | None = None  # the full data set, in the checker's environment (ENV_DATA); None: as it finds it
    running: set = field(default_factory=set)  # checker processes, killed on Ctrl-C
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, source: bytes, on_start=None) -> CheckOutcome:
        """The canonical tests against the contract ``source``: its ``CheckOutcome`` (``outcomes``
        by test id, bounded ``output``, ``status`` and ``reason``, ``seconds``, ``trainings``,
        ``isolation``), plain data across a network (``to_json``).  ``on_start(now)``, if given,
        is called first; ``now()`` reads what this check's log says at that moment (``grade_log_now``)."""
        workdir = Path(tempfile.mkdtemp(prefix="fork-", dir=self.private))
        start = time.monotonic()
        try:
            if on_start:
                on_start(lambda: grade_log_now(workdir / GRADE_LOG))
            contract = workdir / "exercise.py"
            contract.write_bytes(source)
            checked = self._run_checker(contract, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return replace(checked, seconds=round(time.monotonic() - start, 1), isolation=self.isolation.level)

    def _run_checker(self, contract: Path, workdir: Path) -> CheckOutcome:
        limits = self.limits
        before = tree_digest(self.canon)
        log = workdir / GRADE_LOG
        args = pytest_args(self.canon, self.tier, *grading_mode(self.canon), "--contract", str(contract),
                           "--grade-log", str(log), f"--isolated={self.isolation.level}",
                           "--call-timeout", f"{limits.call_seconds:g}", "--fork-memory-mb", str(limits.memory_mb or 0),
                           files=self.files)
        (workdir / "work").mkdir()
        output, returncode, timed_out, held = self._run(args, workdir)
        outcomes, trained, unended = read_grade_log(log)
        status, reason = ForkStatus.GRADED, ""
        after = f"after {len(outcomes)} tests"
        unended += [f"{len(held['left'])} process(es) of the grading still ran after every one was killed "
                    f"for a minute (pids {', '.join(map(str, held['left'][:5]))})"] if held["left"] else []
        if tree_digest(self.canon) != before:  # no fork process can reach it: a grader bug if it happens
            status, reason = ForkStatus.TAMPERED, "the canonical tests changed while this fork was graded"
            shutil.rmtree(self.canon)
            copy_canonical(self.reference, self.canon)
        elif unended:  # they could still write: nothing of this grading is trusted
            status, reason = ForkStatus.UNENDED, f"the grading did not end cleanly: {'; '.join(unended)}"
        elif timed_out:
            status, reason = ForkStatus.TIMEOUT, (f"stopped at the {limits.fork_seconds:g} s wall-clock limit "
                                                  f"per fork {after}")
        elif returncode < 0 and held["oom_kills"] and returncode == -signal.SIGKILL:
            status, reason = ForkStatus.CRASHED, (f"the grading exceeded its memory limit ({limits.grading_mb:,} MB) "
                                                  f"{after}: the kernel stopped it inside its own cgroup")
        elif returncode < 0:
            status, reason = ForkStatus.CRASHED, f"the checker died of {signal.Signals(-returncode).name} {after}"
        elif returncode not in (0, 1):
            status, reason = ForkStatus.ERROR, f"pytest exited {returncode}: {output.strip()[-500:]}"
        return CheckOutcome(status, reason, outcomes, output, trainings=trained, memory=held["memory"])

    def _run(self, args: list[str], workdir: Path):
        """Run the checker (pytest with ``args``) under the wall-clock limit and in its memory
        cell; return (bounded output, returncode, timed out, the memory it held and the processes
        left in it). Every process of the grading is ended before this returns (``end_every_process``)."""
        with self.memory.cell() if self.memory else NoCell() as cell:
            output, returncode, timed_out = self._run_in(args, workdir, cell)
            left = cell.end_every_process()
            peak = cell.peak_bytes()
            held = {"oom_kills": cell.oom_kills(), "left": left,
                    "memory": (self.memory.describe() if self.memory else "no limit")
                    + (f"; peak {peak / memory.MB:,.0f} MB" if peak else "")}
        return output, returncode, timed_out, held

    def _run_in(self, args: list[str], workdir: Path, cell):
        limits = self.limits
        env = checker_env(self.canon, workdir)
        if self.isolation.isolated:  # probed once, by the grader: the checker need not start a sandbox to know
            env[levels.PROBED_ENV] = self.isolation.level
        env[trainings.ENV_TRAININGS] = self.trainings  # the batch's store: it alone decides what is reused
        if self.data:  # the batch's data set (Grading.data), never set in the grader's own environment
            env[ENV_DATA] = self.data
        env.pop(trainings.ENV_RETRAIN, None)
        process = start_checker(args, workdir / "work", env, cell,
                                ready_server=self.isolation.level == levels.PRELOADED.level)
        with self.lock:
            self.running.add(process)
        kept, total = bytearray(), [0]

        def drain():
            for chunk in iter(lambda: process.stdout.read(65536), b""):
                total[0] += len(chunk)
                if len(kept) < limits.output_bytes:
                    kept.extend(chunk[: limits.output_bytes - len(kept)])

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=limits.fork_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            kill_group(process)  # the checker's helpers too; the sandbox dies with its parent
            with self.lock:
                self.running.discard(process)
        reader.join(timeout=10)
        text = without_paths(kept.decode(errors="replace"))  # output.txt: tests/..., not where the grader keeps them
        if total[0] > len(kept):
            text += f"\n[... {total[0] - len(kept):,} more bytes of output left out]\n"
        return text, process.returncode, timed_out

    def stop(self) -> None:
        """Kill every checker process running now (Ctrl-C)."""
        with self.lock:
            for process in list(self.running):
                kill_group(process)


def read_grade_log(log: Path) -> tuple[dict[str, TestOutcome], dict, list]:
    """The checker's log (``pytest_plugin``'s ``--grade-log``): each test's outcome by id, each
    training by model, and what the checker could not end (``pytest_plugin.note_unended``);
    lines that do not parse, or are no ``TestOutcome``, are skipped (a killed checker's last one)."""
    outcomes, trained, unended = {}, {}, []
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                entry = json.loads(line)
                if "training" in entry:
                    trained[entry.pop("training")] = entry
                elif "unended" in entry:
                    unended.append(str(entry["unended"]))
                elif PROGRESS_KEYS & entry.keys():
                    continue  # the progress of a training (grade_log_now), no outcome
                else:
                    outcome = TestOutcome.from_json(entry)
                    outcomes[outcome.test.id] = outcome
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
    return outcomes, trained, unended


#: The lines of the checker's log that tell a training's progress (``pytest_plugin.note_training``, ``note_epoch``).
PROGRESS_KEYS = frozenset({"training_started", "epoch_done"})


def grade_log_now(log: Path) -> dict:
    """What a running check's log says now: the graded ``tests`` finished, and while the
    exercise's run trains (the slow tier), the model in ``training``, its ``epochs`` and the
    epochs ``done``; {} before the log exists and after the check has removed it."""
    try:
        lines = log.read_text().splitlines()
    except OSError:
        return {}
    now, tests = {}, set()
    for line in lines:
        try:
            entry = json.loads(line)
            if "training_started" in entry:
                now.update(training=str(entry["training_started"]), epochs=int(entry["epochs"]), done=0)
            elif "epoch_done" in entry and "training" in now:
                now["done"] = int(entry["epoch_done"])
            elif "training" in entry:  # the run's record: its trainings are over
                for key in ("training", "epochs", "done"):
                    now.pop(key, None)
            elif "id" in entry:
                tests.add(entry["id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return {**now, "tests": len(tests)}


class NoCell:
    """No memory limit (a checker made without one)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def join(self) -> None:
        pass

    def entry(self) -> tuple[str, int]:
        return "", 0

    def peak_bytes(self) -> None:
        return None

    def oom_kills(self) -> int:
        return 0

    def end_every_process(self) -> list:
        return []  # no cgroup to empty: the student server's own teardown waits for its sandbox


def start_checker(args: list[str], cwd: Path, env: dict, cell, *, ready_server: bool = False):
    """The checker, pytest with ``args``: forked from the preloaded forkserver where this
    process can have one (``preloaded``), else a fresh ``python -m pytest``; either way in a
    session of its own, in ``cell``, output and error on one stream.  With ``ready_server``
    (isolation ``preloaded``: the catalogue's own code) the forked checker brings its first
    student server, forked before pytest starts (``preloaded.ReadyServer``)."""
    if preloaded.available():
        cgroup_procs, data_limit = cell.entry()
        return preloaded.CheckerProcess(args, cwd=cwd, env=env, path_first=[env["PYTHONPATH"]],
                                        cgroup_procs=cgroup_procs, data_limit=data_limit, ready_server=ready_server)

    def before_it_runs():
        die_with_parent()
        cell.join()

    return subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=before_it_runs)


def checker_env(canon: Path, workdir: Path) -> dict:
    """The checker's environment: the grader's, with the canonical copy first on the path and
    no plugin loaded but those the command names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "PYTHON"))}
    env.update(
        PYTHONPATH=str(canon), TMPDIR=str(workdir), MPLCONFIGDIR=str(workdir), PYTHONDONTWRITEBYTECODE="1",
        TF_CPP_MIN_LOG_LEVEL="2", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    return env
