"""Grade forks: the canonical tests in the grader's own checker, the fork's code in a sandbox.

For each fork a checker process (pytest on a private copy of the canonical tests, plugin
autoload off, the canonical settings alone) runs the spec suite with ``--isolated``: every call
of a contract function goes to a student server in a bubblewrap sandbox
(``mnist_checks.grading.sandbox``) and comes back as data (``mnist_checks.grading.isolated``).
No line of a fork runs in the checker or the grader, and no fork process can see the grader's
outputs, the canonical tests, the instructor's checkout, other forks or the network.  Only the
fork's contract file is read from its checkout, once.  Results stream from the checker to a log
the fork cannot reach, test by test, so a crash or a timeout keeps what finished; the gradebook
is written after every fork and on Ctrl-C.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from .. import __version__, trainings
from ..cluster import ClusterError, as_they_finish
from ..errors import MnistChecksError
from . import memory, preloaded, sandbox
from .contract import CONTRACT
from .rubric import QUESTIONS, TIERS, not_started, score_tests, shown, totals
from .starter import for_students

#: What the checker copies of the reference: the canonical package, tests and pytest settings.
CANONICAL = ("mnist_checks", "tests", "conftest.py", "pyproject.toml")
_SKIP = {"__pycache__", ".pytest_cache", ".hypothesis", "mnist_checks.egg-info"}
RESULTS, JUNIT, OUTPUT, GRADEBOOK = "results.json", "junit.xml", "output.txt", "gradebook.csv"
#: The contract file a fork may send: far above any honest solution, far below a denial of service.
MAX_CONTRACT_BYTES = 1024**2


#: The memory one fork's grading may hold, the checker and the fork's process together.  The
#: reference's whole grading, slow tier included and every model trained, peaked at 2.6 GB here
#: (grader, checker and fork's process; ``grade --tier all --retrain``); a model at the budget
#: trains in about 2 GB more, a reply at its bound is decoded with one copy, and the fork's own
#: process may fill its address space: 8 GB holds them all, and two fit a 24 GB machine.
GRADING_MB = 8192


@dataclass(frozen=True)
class Limits:
    """Per-fork limits.  A call of a fork's function gets ``call_seconds``; training happens in
    the checker and counts only against ``fork_seconds`` (the slow tier trains every model in its
    first test: 4-7 minutes on 2 cores under load).  8 GiB of address space for the fork's
    process: TensorFlow 2.21's import aborts under 2 GiB and passes at 4 GiB (measured here), and
    the slow tier sends it the full data set.  ``grading_mb`` holds the whole grading of a fork,
    the checker and the fork's process together (``mnist_checks.grading.memory``; see
    ``GRADING_MB``)."""

    fork_seconds: float = 1800
    call_seconds: float = 300
    memory_mb: int | None = 8192
    output_bytes: int = 64_000
    grading_mb: int = GRADING_MB


@dataclass
class ForkResult:
    fork: str
    path: str
    status: str  # graded, cached, failed to load, timeout, crashed, tampered, error, not graded
    reason: str = ""
    commit: str = ""
    tests: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    key: str = ""
    isolation: str = ""
    trainings: dict = field(default_factory=dict)  # model -> its training's key, and whether it was reused
    worker: str = ""  # the Dask worker that checked it, on a cluster
    memory: str = ""  # the grading's memory limit, how it was held, and its peak

    @property
    def totals(self) -> dict:
        return totals(self.tests)


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch; ``results`` holds every fork's row, those not graded marked so."""

    def __init__(self, results: list[ForkResult]):
        super().__init__("grading interrupted")
        self.results = results


def marker_expression(tier: str) -> str:
    tiers = TIERS if tier == "all" else (tier,)
    return f"({' or '.join(tiers)}) and ({' or '.join(QUESTIONS)})"


def pytest_args(root: Path, tier: str, *extra: str) -> list[str]:
    """pytest's arguments for the canonical tests under ``root``: its settings and named plugins alone."""
    return [
        str(root / "tests"), "-c", str(root / "pyproject.toml"),
        "--rootdir", str(root), "-m", marker_expression(tier), "-p", "no:cacheprovider",
        "-p", "mnist_checks.grading.pytest_plugin", "-p", "_hypothesis_pytestplugin", "--hypothesis-seed=0",
        "-q", "-o", "addopts=--strict-markers", *extra,
    ]


def collect_graded_tests(canon: Path, tier: str) -> list[dict]:
    """The graded tests of ``tier`` (id, question, tier, claim), as pytest collects them."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "collected.json"
        process = _start_checker(pytest_args(canon, tier, "--grade-collect", str(listing)), Path(tmp),
                                 _checker_env(canon, Path(tmp)), _NoCell())
        output = process.stdout.read().decode(errors="replace")
        process.wait()
        if not listing.exists():
            raise RuntimeError(f"collecting the canonical tests failed:\n{output[-6000:]}")
        return json.loads(listing.read_text())


def grade_forks(forks, reference: Path, out: Path, *, tier: str = "fast", rubric: dict, limits: Limits = Limits(),
                jobs: int = 1, regrade: bool = False, allow_unisolated: bool = False, retrain: bool = False,
                cluster=None, on_result=None, say=None) -> list[ForkResult]:
    """Grade every fork (``jobs`` at a time here, or on the workers of ``cluster``, a Dask
    ``distributed.Client``); write each one's results and the gradebook as it finishes.

    Each fork's grading runs under ``limits.grading_mb`` (``memory.probe``); ``jobs`` is lowered
    to what fits the machine's memory, and ``say`` (a callable taking a line) is told so.

    Refuses (``sandbox.SandboxUnavailable``) where forks cannot be isolated, unless
    ``allow_unisolated``; every row records the isolation it was graded under.  The slow tier's
    trainings are shared by key (``mnist_checks.trainings``): each distinct training is done once
    for the whole batch, and reused from earlier calls unless ``retrain``.  Ctrl-C raises
    ``GradingInterrupted`` after writing the gradebook, forks not yet graded marked so.
    """
    reference, out = Path(reference).resolve(), Path(out)
    isolation = None if cluster is not None else local_isolation(allow_unisolated)
    held, jobs = (None, jobs) if cluster is not None else local_memory(limits, jobs, say)
    out.mkdir(parents=True, exist_ok=True)
    earlier = read_gradebook(out / GRADEBOOK)
    names = _unique_names([Path(f) for f in forks], taken={row["fork"]: row.get("path", "") for row in earlier})
    private = Path(tempfile.mkdtemp(prefix="mnist-checks-grader-"))  # mode 0700: the grader's alone
    try:
        canon = copy_canonical(reference, private / "canon")
        graded = collect_graded_tests(canon, tier)
        if cluster is None:
            # A fork that is not sandboxed could write into a store kept across calls: it gets this call's alone.
            own = retrain or trainings.retraining() or not isolation.isolated
            store = str(private / "trainings") if own else trainings.default_store_spec()
            checks = LocalChecks(Checker(canon, private, tier, limits, isolation, reference, store, held), jobs)
        else:
            from .remote import ClusterChecks

            checks = ClusterChecks(cluster, tier=tier, limits=limits, canon_digest=tree_digest(canon),
                                   allow_unisolated=allow_unisolated)
            isolation = checks.isolation
        key_base = _digest(json.dumps([tier, rubric, __version__, isolation.level], sort_keys=True).encode()
                           + tree_digest(canon).encode())
        batch = Batch(tier=tier, rubric=rubric, graded=graded, key_base=key_base, isolation=isolation,
                      reference=reference, earlier=earlier)
        try:
            return _grade_all(batch, checks, names, out, regrade=regrade, on_result=on_result)
        finally:
            checks.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def local_isolation(allow_unisolated: bool) -> sandbox.Isolation:
    try:
        return sandbox.probe()
    except sandbox.SandboxUnavailable:
        if not allow_unisolated:
            raise
        return sandbox.UNISOLATED


def local_memory(limits: Limits, jobs: int, say=None) -> tuple[memory.MemoryLimit | None, int]:
    """How each grading's memory is held here (``None``: ``grading_mb`` 0, no limit), and how
    many of ``jobs`` fit the machine at once; ``say`` is told when fewer do."""
    if not limits.grading_mb:
        return None, jobs
    held = memory.probe(limits.grading_mb * memory.MB)
    per_fork = held.per_fork(limits.memory_mb)
    fitting = memory.jobs_that_fit(jobs, per_fork)
    if fitting < jobs and say:
        say(f"grading {fitting} fork(s) at a time, not {jobs}: each grading may hold {per_fork // memory.MB:,} MB "
            f"and this machine has {memory.machine_bytes() // memory.MB:,} MB")
    return held, fitting


@dataclass
class Batch:
    """What every fork of one ``grade_forks`` call is scored with."""

    tier: str
    rubric: dict
    graded: list
    key_base: str
    isolation: sandbox.Isolation
    reference: Path
    earlier: list = field(default_factory=list)  # the gradebook's rows before this call


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


def _grade_all(batch: Batch, checks, names: dict, out: Path, *, regrade: bool, on_result) -> list[ForkResult]:
    results: dict[str, ForkResult] = {}

    def done(result: ForkResult):
        results[result.fork] = result
        if on_result:
            on_result(result)
        _write_rows(results, names, out, batch.earlier)

    pending = {}
    try:
        _write_rows(results, names, out, batch.earlier)
        for name, fork in names.items():
            job = _prepare(Path(fork), name, out / name, batch, regrade=regrade)
            if isinstance(job, ForkResult):
                done(job)  # graded before with the same contract, tests and rubric
            elif job.problem:
                done(_finish(job, {"status": "error", "reason": job.problem}, batch))
            else:
                pending[checks.submit(job)] = job
        for future in as_they_finish(pending, idle=checks.health):
            done(_finish(pending.pop(future), checks.outcome(future), batch))
    except KeyboardInterrupt:
        checks.stop()
        rows = _write_rows(results, names, out, batch.earlier, why="interrupted (Ctrl-C) before this fork was graded")
        raise GradingInterrupted(rows) from None
    except ClusterError as error:
        checks.stop()
        _write_rows(results, names, out, batch.earlier, why=f"not graded: {error}")
        raise
    return _write_rows(results, names, out, batch.earlier)


def _write_rows(results: dict, names: dict, out: Path, earlier: list, why: str = "not graded yet") -> list[ForkResult]:
    """The gradebook as it stands: earlier calls' rows of other forks, this call's graded forks,
    and a row for every fork still to come."""
    rows = [results.get(name) or _not_graded(name, fork, why, earlier) for name, fork in names.items()]
    write_gradebook(merge_gradebook(earlier, rows), out / GRADEBOOK)
    return rows


def _not_graded(name: str, fork: Path, why: str, earlier: list) -> ForkResult:
    path = str(Path(fork).resolve())
    before = next((row for row in earlier if row.get("path") == path), None)
    if before and before["status"] != "not graded":
        why += f" (this call; the row's grade before it was {before['total']}/{before['max']}, {before['status']})"
    return ForkResult(fork=name, path=path, status="not graded", reason=why)


def _prepare(fork: Path, name: str, out: Path, batch: Batch, *, regrade: bool = False) -> Job | ForkResult:
    """Read what the grader needs of a fork, once: its contract's bytes (or why not), its commit,
    its edits of canonical files; or its earlier result, if graded with the same key."""
    fork = fork.resolve()
    source, problem = _read_contract(fork / CONTRACT)
    key = _digest(batch.key_base.encode() + (source or b""))
    previous = out / RESULTS
    if not regrade and source is not None and previous.is_file():
        try:
            if json.loads(previous.read_text())["extra_data"]["key"] == key:
                cached = _from_results(previous, name)
                cached.commit = _commit(fork)  # the same contract may be in a later commit
                return cached
        except (ValueError, KeyError, TypeError):
            pass
    return Job(name=name, path=str(fork), out=out, commit=_commit(fork), source=source, problem=problem, key=key,
               warnings=edited_canonical_files(fork, batch.reference))


def _finish(job: Job, checked: dict, batch: Batch) -> ForkResult:
    """Score what the checks found (``Checker.check``'s answer) and write the fork's outputs."""
    result = ForkResult(fork=job.name, path=job.path, status=checked.get("status", "graded"),
                        reason=checked.get("reason", ""), commit=job.commit, warnings=list(job.warnings),
                        seconds=checked.get("seconds", 0.0), key=job.key,
                        isolation=checked.get("isolation", batch.isolation.level),
                        trainings=checked.get("trainings", {}), worker=checked.get("worker", ""),
                        memory=checked.get("memory", ""))
    result.tests = score_tests(_merge(batch.graded, checked.get("outcomes", {}), result), batch.rubric)
    if result.status == "tampered":
        result.tests = [{**test, "score": 0.0} for test in result.tests]
    _classify(result)
    if result.isolation != "bubblewrap":
        result.warnings.append(f"graded unisolated (--allow-unisolated): {sandbox.UNISOLATED.details}")
    write_fork_outputs(result, job.out, checked.get("output", ""))
    return result


def _read_contract(path: Path) -> tuple[bytes | None, str]:
    """The fork's contract, read once (its bytes are what is graded and keyed); or why not.

    Neither the file nor its folder may be a symbolic link: a fork's ``mnist_checks`` linked to
    the instructor's checkout would otherwise hand in the reference solution.
    """
    missing = f"no contract module: {CONTRACT} is missing from the fork"
    if path.parent.is_symlink() or path.is_symlink():
        return None, f"{CONTRACT} (or its folder) is a symbolic link: hand in the file itself"
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, missing
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None, f"{CONTRACT} is not a regular file"
        source = handle.read(MAX_CONTRACT_BYTES + 1)
    if len(source) > MAX_CONTRACT_BYTES:
        return None, f"{CONTRACT} is over {MAX_CONTRACT_BYTES:,} bytes"
    return source, ""


def copy_canonical(reference: Path, canon: Path) -> Path:
    for entry in CANONICAL:
        source = reference / entry
        if source.is_dir():
            shutil.copytree(source, canon / entry, ignore=shutil.ignore_patterns(*_SKIP))
        elif source.is_file():
            canon.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, canon / entry)
    return canon


@dataclass
class Checker:
    """Runs the canonical tests (a private copy, ``canon``) against contracts on this machine,
    each in a checker process whose contract calls go to a sandboxed student server.  The slow
    tier's trainings go through the store ``trainings`` names (``mnist_checks.trainings``)."""

    canon: Path
    private: Path
    tier: str
    limits: Limits
    isolation: sandbox.Isolation
    reference: Path
    trainings: str = "off"
    memory: memory.MemoryLimit | None = None  # each grading's memory limit (memory.probe); None: none
    stopping: threading.Event = field(default_factory=threading.Event)
    running: set = field(default_factory=set)  # checker processes, killed on Ctrl-C
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, source: bytes) -> dict:
        """The canonical tests against the contract ``source``: a dict of plain data (``outcomes``
        by test id, bounded ``output``, ``status`` and ``reason``, ``seconds``, ``trainings``,
        ``isolation``) that crosses a process or a network as it is."""
        workdir = Path(tempfile.mkdtemp(prefix="fork-", dir=self.private))
        start = time.monotonic()
        try:
            contract = workdir / "exercise.py"
            contract.write_bytes(source)
            checked = self._run_checker(contract, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return {**checked, "seconds": round(time.monotonic() - start, 1), "isolation": self.isolation.level}

    def _run_checker(self, contract: Path, workdir: Path) -> dict:
        limits = self.limits
        before = tree_digest(self.canon)
        log = workdir / "grade-log.jsonl"
        args = pytest_args(self.canon, self.tier, "--contract", str(contract), "--grade-log", str(log),
                           f"--isolated={self.isolation.level}", "--call-timeout", f"{limits.call_seconds:g}",
                           "--fork-memory-mb", str(limits.memory_mb or 0))
        (workdir / "work").mkdir()
        output, returncode, timed_out, held = self._run(args, workdir)
        outcomes, trained = {}, {}
        if log.exists():
            for line in log.read_text().splitlines():
                try:
                    entry = json.loads(line)
                    if "training" in entry:
                        trained[entry.pop("training")] = entry
                    else:
                        outcomes[entry["id"]] = entry
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
        checked = {"status": "graded", "reason": "", "outcomes": outcomes, "output": output, "trainings": trained,
                   "memory": held["memory"]}
        if tree_digest(self.canon) != before:  # no fork process can reach it: a grader bug if it happens
            checked.update(status="tampered", reason="the canonical tests changed while this fork was graded")
            shutil.rmtree(self.canon)
            copy_canonical(self.reference, self.canon)
        elif timed_out:
            checked.update(status="timeout", reason=f"stopped at the {limits.fork_seconds:g} s wall-clock limit per "
                                                    f"fork after {len(outcomes)} tests")
        elif returncode < 0 and held["oom_kills"] and returncode == -signal.SIGKILL:
            checked.update(status="crashed", reason=f"the grading exceeded its memory limit "
                                                    f"({self.limits.grading_mb:,} MB) after {len(outcomes)} tests: "
                                                    "the kernel stopped it inside its own cgroup")
        elif returncode < 0:
            checked.update(status="crashed", reason=f"the checker died of {signal.Signals(-returncode).name} after "
                                                    f"{len(outcomes)} tests")
        elif returncode not in (0, 1):
            checked.update(status="error", reason=f"pytest exited {returncode}: {output.strip()[-500:]}")
        return checked

    def _run(self, args: list[str], workdir: Path):
        """Run the checker (pytest with ``args``) under the wall-clock limit and in its memory
        cell; return (bounded output, returncode, timed out, the memory it held)."""
        with self.memory.cell() if self.memory else _NoCell() as cell:
            output, returncode, timed_out = self._run_in(args, workdir, cell)
            peak = cell.peak_bytes()
            held = {"oom_kills": cell.oom_kills(),
                    "memory": (self.memory.describe() if self.memory else "no limit")
                    + (f"; peak {peak / memory.MB:,.0f} MB" if peak else "")}
        return output, returncode, timed_out, held

    def _run_in(self, args: list[str], workdir: Path, cell):
        limits = self.limits
        env = _checker_env(self.canon, workdir)
        env[trainings.ENV_TRAININGS] = self.trainings  # the batch's store: it alone decides what is reused
        env.pop(trainings.ENV_RETRAIN, None)
        process = _start_checker(args, workdir / "work", env, cell)
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
            _kill_group(process)  # the checker's helpers too; the sandbox dies with its parent
            with self.lock:
                self.running.discard(process)
        reader.join(timeout=10)
        text = kept.decode(errors="replace")
        if total[0] > len(kept):
            text += f"\n[... {total[0] - len(kept):,} more bytes of output left out]\n"
        return text, process.returncode, timed_out

    def stop(self) -> None:
        """Kill every checker process running now (Ctrl-C)."""
        self.stopping.set()
        with self.lock:
            for process in list(self.running):
                _kill_group(process)


class _NoCell:
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


class LocalChecks:
    """Checks run by ``jobs`` threads of this process, each driving one checker process."""

    def __init__(self, checker: Checker, jobs: int):
        self.checker = checker
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs))

    def submit(self, job: Job):
        return self.pool.submit(self.checker.check, job.source)

    def outcome(self, future) -> dict:
        return future.result()  # a grader bug surfaces here, not silently

    def health(self) -> None:
        pass  # this machine's threads do not leave

    def stop(self) -> None:
        self.checker.stop()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _prctl()


def _die_with_parent() -> None:
    """In the checker, before it runs: be killed when the thread that started it ends, so that a
    grader or Dask worker killed mid-batch leaves no checker behind (Linux's PR_SET_PDEATHSIG)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)


def _start_checker(args: list[str], cwd: Path, env: dict, cell):
    """The checker, pytest with ``args``: forked from the preloaded forkserver where this
    process can have one (``preloaded``), else a fresh ``python -m pytest``; either way in a
    session of its own, in ``cell``, output and error on one stream."""
    if preloaded.available():
        cgroup_procs, data_limit = cell.entry()
        return preloaded.CheckerProcess(args, cwd=cwd, env=env, path_first=[env["PYTHONPATH"]],
                                        cgroup_procs=cgroup_procs, data_limit=data_limit)

    def before_it_runs():
        _die_with_parent()
        cell.join()

    return subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=before_it_runs)


def _kill_group(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.kill()  # a forked checker killed before it made its own session
    process.wait()


def _checker_env(canon: Path, workdir: Path) -> dict:
    """The checker's environment: the grader's, with the canonical copy first on the path and
    no plugin loaded but those the command names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "PYTHON"))}
    env.update(
        PYTHONPATH=str(canon), TMPDIR=str(workdir), MPLCONFIGDIR=str(workdir), PYTHONDONTWRITEBYTECODE="1",
        TF_CPP_MIN_LOG_LEVEL="2", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    return env


def _merge(graded: list[dict], outcomes: dict, result: ForkResult) -> list[dict]:
    merged = []
    for test in graded:
        found = outcomes.get(test["id"])
        if found is None:
            why = result.reason or "not run"
            merged.append({**test, "outcome": "not run", "message": f"not run: {why}"})
        else:
            merged.append({**test, "outcome": found["outcome"], "message": found.get("message", ""),
                           "phase": found["phase"], "seconds": found.get("seconds", 0.0),
                           **{k: found[k] for k in ("error", "raised_by") if isinstance(found.get(k), str)}})
    return merged


#: The reason of a fork whose every graded test raised NotImplementedError: an untouched starter.
NOT_STARTED = "not started: every function still raises NotImplementedError"


def _classify(result: ForkResult) -> None:
    """Name the one problem to fix first where every test failed the same way before it ran:
    a contract that does not load (syntax error, missing import, exception at import); or a
    fork not started, where every graded test raised NotImplementedError (decided by what the
    tests raised, never by comparing the code with the starter's)."""
    if result.status != "graded" or not result.tests:
        return
    if not result.reason and not_started(result.tests) is not None:
        result.reason = NOT_STARTED
        return
    failures = {(t.get("phase"), t.get("message", "")) for t in result.tests if t["outcome"] != "passed"}
    if len(failures) == 1 and not any(t["outcome"] == "passed" for t in result.tests):
        phase, message = failures.pop()
        if phase == "setup" and "not implemented yet" not in message:
            result.status, result.reason = "failed to load", message.splitlines()[0][:300]


def edited_canonical_files(fork: Path, reference: Path) -> list[str]:
    """Warnings for canonical files a fork changed, added or removed (they are never used)."""
    warnings = []
    for entry in ("tests", "conftest.py", "pyproject.toml", "tox.ini", "pytest.ini", "setup.cfg"):
        if not (fork / entry).exists():
            continue  # a fork holding only its contract
        ours, theirs = _files(reference / entry), _files(fork / entry)
        for relative in sorted(set(ours) | set(theirs)):
            if relative not in theirs and not for_students(relative):
                continue  # the instructor's own files: a starter's fork never had them
            if ours.get(relative) != theirs.get(relative):
                what = "added" if relative not in ours else "removed" if relative not in theirs else "edited"
                warnings.append(f"{what} {relative} (ignored: the canonical tests and settings ran)")
    return warnings


def _files(path: Path) -> dict[str, str]:
    """Digests of the regular files under ``path`` (symbolic links are never followed: a fork's
    ``tests/x.py`` may point at ``/dev/zero``); files over 16 MB count by their size alone."""
    if path.is_symlink():
        return {path.name: "a symbolic link"}
    if path.is_file():
        return {path.name: _file_digest(path)}
    if not path.is_dir():
        return {}
    found = {}
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP)
        for name in sorted(files):
            file = Path(folder) / name
            found[str(file.relative_to(path.parent))] = "a symbolic link" if file.is_symlink() else _file_digest(file)
    return found


def _file_digest(path: Path) -> str:
    if not path.is_file():
        return "not a regular file"
    size = path.stat().st_size
    return f"{size} bytes" if size > 16 * 1024**2 else _digest(path.read_bytes())


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for entry in CANONICAL:
        for relative, content in sorted(_files(root / entry).items()):
            digest.update(f"{relative}\0{content}\0".encode())
    return digest.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _commit(fork: Path) -> str:
    """The fork's HEAD commit (7 hex digits, as ``git log --oneline`` shows it), read from its
    ``.git`` without running git: a fork's own git configuration (``core.fsmonitor``, hooks)
    would run its code in the grader. HEAD on a branch (a loose or packed ref, as a starter made
    by ``mnist-checks starter`` and cloned has) or detached; empty where there is none."""
    git = fork / ".git"
    try:
        head = (git / "HEAD").read_text(errors="replace").strip() if git.is_dir() and not git.is_symlink() else ""
        if head.startswith("ref: "):
            ref = head[5:].strip()
            if ".." in ref or not ref.startswith("refs/"):
                return ""
            target = git / ref
            if target.is_file() and not target.is_symlink():
                head = target.read_text(errors="replace").strip()
            else:
                packed = git / "packed-refs"
                lines = packed.read_text(errors="replace").splitlines() if packed.is_file() else []
                head = next((line.split()[0] for line in lines if line.endswith(" " + ref)), "")
    except OSError:
        return ""
    # 40 hex digits (SHA-1), or 64 in a SHA-256 repository; the gradebook shows git's short form
    return head[:7] if len(head) in (40, 64) and all(c in "0123456789abcdef" for c in head) else ""


def _unique_names(forks: list[Path], taken: dict[str, str] | None = None) -> dict[str, Path]:
    """A name (and output directory) per fork: its folder's name, suffixed where two differ only
    in their parents. A fork already in the gradebook (``taken``: name -> path) keeps its name."""
    taken = taken or {}
    by_path = {path: name for name, path in taken.items() if path}
    names: dict[str, Path] = {}
    for fork in forks:
        resolved = fork.resolve()
        if by_path.get(str(resolved)) and by_path[str(resolved)] not in names:
            names[by_path[str(resolved)]] = fork
            continue
        name = resolved.name or "fork"
        candidate, n = name, 2
        while candidate in names or candidate in taken:
            candidate, n = f"{name}-{n}", n + 1
        names[candidate] = fork
    return names


# --- outputs -------------------------------------------------------------------------------


def results_json(result: ForkResult) -> dict:
    """Gradescope's results.json for one fork, with the grader's details under ``extra_data``."""
    sums = result.totals
    score, maximum = sums.get("total", (0.0, 0.0))
    counters: dict[str, int] = {}
    tests = []
    for test in result.tests:
        number = counters[test["question"]] = counters.get(test["question"], 0) + 1
        output = f"claim: {test['claim']}\n{test.get('message', '')}" if test["outcome"] != "passed" else ""
        tests.append({
            "name": f"{test['question'].upper()} ({test['tier']}): {test['claim']}",
            "number": f"{test['question'][1:]}.{number}",
            "score": shown(test["score"]),
            "max_score": shown(test["max_score"]),
            "status": "passed" if test["outcome"] == "passed" else "failed",
            "output": output,
            "visibility": "visible",
        })
    lines = [f"{result.fork}: {shown(score)} / {shown(maximum)} ({result.status})"]
    if result.reason:
        lines.append(result.reason)
    lines += [f"warning: {w}" for w in result.warnings]
    return {
        "score": shown(score),
        "max_score": shown(maximum),
        "execution_time": result.seconds,
        "output": "\n".join(lines),
        "tests": tests,
        "extra_data": {
            "fork": result.fork, "path": result.path, "commit": result.commit, "status": result.status,
            "reason": result.reason, "warnings": result.warnings, "key": result.key, "isolation": result.isolation,
            "memory": result.memory, "trainings": result.trainings, "worker": result.worker,
            "by_question": {q: [shown(points) for points in sums.get(q, (0.0, 0.0))] for q in QUESTIONS},
            "by_tier": {t: [shown(points) for points in sums[t]] for t in TIERS if t in sums},
            "raw_tests": result.tests,
        },
    }


def junit_xml(result: ForkResult) -> bytes:
    """JUnit XML of one fork's graded tests, one testcase per test."""
    suite = ElementTree.Element("testsuite", name=f"mnist-checks {result.fork}", tests=str(len(result.tests)),
                                failures=str(sum(t["outcome"] != "passed" for t in result.tests)),
                                time=str(result.seconds))
    for test in result.tests:
        case = ElementTree.SubElement(suite, "testcase", classname=test["question"], name=test["id"],
                                      time=str(test.get("seconds", 0.0)))
        if test["outcome"] != "passed":
            failure = ElementTree.SubElement(case, "failure", message=test.get("message", "")[:200])
            failure.text = test.get("message", "")
    return ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)


def write_fork_outputs(result: ForkResult, out: Path, output: str) -> None:
    """A fork's output.txt, junit.xml and results.json, each written whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    _write_atomically(out / OUTPUT, output.encode())
    _write_atomically(out / JUNIT, junit_xml(result))
    _write_atomically(out / RESULTS, json.dumps(results_json(result), indent=2).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _from_results(path: Path, name: str) -> ForkResult:
    data = json.loads(path.read_text())
    extra = data["extra_data"]
    return ForkResult(fork=name, path=extra["path"], status="cached", reason=extra["reason"], commit=extra["commit"],
                      tests=extra["raw_tests"], warnings=extra["warnings"], seconds=data["execution_time"],
                      key=extra["key"], isolation=extra.get("isolation", ""), trainings=extra.get("trainings", {}),
                      worker=extra.get("worker", ""), memory=extra.get("memory", ""))


GRADEBOOK_COLUMNS = ["fork", "path", "commit", "status", "total", "max", *QUESTIONS, *TIERS, "isolation", "memory",
                     "reason", "warnings", "trainings", "reused"]
#: How many hex digits of a training's key the gradebook shows: forks with the same one shared it.
SHORT_KEY = 12


def trainings_cell(result: ForkResult) -> tuple[str, str]:
    """The gradebook's ``trainings`` (``model=key`` for each trained model, short keys: forks
    that show the same key shared that training) and ``reused`` (how many were done before)."""
    keyed = {name: t for name, t in result.trainings.items() if t.get("key")}
    cell = " ".join(f"{name}={t['key'][:SHORT_KEY]}" for name, t in keyed.items())
    unkeyed = [f"{name}=unkeyed" for name, t in result.trainings.items() if not t.get("key")]
    reused = f"{sum(bool(t.get('reused')) for t in keyed.values())}/{len(result.trainings)}" if result.trainings else ""
    return " ".join([cell, *unkeyed]).strip(), reused


def gradebook_rows(results: list[ForkResult]) -> list[dict]:
    rows = []
    for result in results:
        sums = result.totals
        row = {"fork": result.fork, "path": result.path, "commit": result.commit, "status": result.status,
               "total": shown(sums.get("total", (0, 0))[0]), "max": shown(sums.get("total", (0, 0))[1]),
               "isolation": result.isolation, "memory": result.memory, "reason": result.reason,
               "warnings": "; ".join(result.warnings)}
        row["trainings"], row["reused"] = trainings_cell(result)
        for key in (*QUESTIONS, *TIERS):
            row[key] = shown(sums[key][0]) if key in sums else ""
        rows.append(row)
    return rows


class GradebookError(MnistChecksError, ValueError):
    """An existing gradebook.csv that the grader did not write: it is never overwritten."""


def read_gradebook(path: Path) -> list[dict]:
    """The rows of an earlier call's gradebook (none if there is no file yet)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise GradebookError(f"{path}: cannot read the earlier gradebook ({error}); move it away or pass "
                             "another --out") from None
    unknown = [c for c in columns if c not in GRADEBOOK_COLUMNS]
    if "fork" not in columns or "status" not in columns or unknown:
        raise GradebookError(f"{path}: not a gradebook of mnist-checks grade (columns {', '.join(columns) or 'none'}); "
                             "it was left as it is: move it away or pass another --out")
    return [{column: row.get(column) or "" for column in GRADEBOOK_COLUMNS} for row in rows]


def merge_gradebook(earlier: list[dict], results: list[ForkResult]) -> list[dict]:
    """The gradebook after this call: each earlier row in its place, replaced where this call
    graded the same fork (same path), then this call's new forks. No fork's row is ever lost."""
    current = {row["path"]: row for row in gradebook_rows(results)}
    merged = [current.pop(row["path"], row) if row.get("path") else row for row in earlier]
    return merged + list(current.values())


def gradebook_changes(earlier: list[dict], results: list[ForkResult]) -> dict[str, list[str]]:
    """Which forks this call ``added`` to the gradebook, which rows it ``changed`` (the grade or
    status differs), which it graded ``unchanged``, and how many earlier rows it ``kept``."""
    before = {row["path"]: row for row in earlier if row.get("path")}
    changes: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": [], "kept": []}
    for row in gradebook_rows(results):
        old = before.pop(row["path"], None)
        if old is None:
            changes["added"].append(row["fork"])
        elif (str(old["total"]), old["status"]) != (str(row["total"]), row["status"]) and row["status"] != "cached":
            changes["changed"].append(f"{row['fork']} ({old['total']} -> {row['total']})")
        else:
            changes["unchanged"].append(row["fork"])
    changes["kept"] = [row["fork"] for row in earlier if row.get("path") in before or not row.get("path")]
    return changes


def write_gradebook(rows: list, path: Path) -> None:
    """Write ``rows`` (gradebook dicts, or ``ForkResult`` turned into them) as the CSV gradebook."""
    import io

    rows = [row if isinstance(row, dict) else gradebook_rows([row])[0] for row in rows]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=GRADEBOOK_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    _write_atomically(Path(path), text.getvalue().encode())


def shared_trainings(results: list[ForkResult]) -> str:
    """What the batch trained: ``trainings: 80 trained models of 20 fork(s), 10 distinct: 10
    trained in this call, 70 reused``; empty where nothing was trained."""
    models = [(r, t) for r in results for t in r.trainings.values()]
    if not models:
        return ""
    keyed = [(r, t) for r, t in models if t.get("key")]
    trained = sum(r.status != "cached" and not t.get("reused") for r, t in keyed)
    forks = sum(bool(r.trainings) for r in results)
    distinct = len({t["key"] for _, t in keyed})
    unkeyed = len(models) - len(keyed)
    unkeyed_note = f", {unkeyed} unkeyed (trained each time)" if unkeyed else ""
    return (f"trainings: {len(models)} trained models of {forks} fork(s), {distinct} distinct: {trained} trained in "
            f"this call, {len(keyed) - trained} reused{unkeyed_note}; forks with the same key in the gradebook's "
            "trainings column shared that training")


def summary_table(results: list[ForkResult]) -> str:
    header = ["fork", "status", "total", *[q.upper() for q in QUESTIONS], "reason / warnings"]
    lines = []
    for row, result in zip(gradebook_rows(results), results):
        note = row["reason"] or (f"{len(result.warnings)} warning(s): {result.warnings[0]}" if result.warnings else "")
        lines.append([row["fork"], row["status"], f"{row['total']:g}/{row['max']:g}",
                      *[f"{row[q]:g}" if row[q] != "" else "-" for q in QUESTIONS], note[:70]])
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])
