"""Grade forks: the canonical tests in the grader's own checker, the fork's code in a isolation.

For each fork a checker process (pytest on a private copy of the canonical tests, plugin
autoload off, the canonical settings alone; ``checker``) runs the spec suite with ``--isolated``:
every call of a contract function goes to a student server in a bubblewrap sandbox
(``mnist_checks.grading.sandbox.levels``) and comes back as data (``mnist_checks.grading.sandbox.isolated``).
No line of a fork runs in the checker or the grader, and no fork process can see the grader's
outputs, the canonical tests, the instructor's checkout, other forks or the network.  Only the
fork's contract file is read from its checkout, once (``intake``).  Results stream from the
checker to a log the fork cannot reach, test by test, so a crash or a timeout keeps what
finished; each fork's outputs (``results``) and the gradebook (``gradebook``) are written after
every fork and on Ctrl-C.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ... import __version__, trainings
from ... import data as datasets
from ...cluster import ClusterError, as_they_finish
from ...files import sha256_hex
from ...installed import installed_copies
from ..contract import CONTRACT, Picked
from ..sandbox import fork_user, levels
from ..students.graded import GradedTest, TestOutcome
from ..students.rubric import check_weights, not_started, score_tests
from . import pools
from .checker import Checker, Checks, Job, collect_graded_tests, graded_files
from .checks import CheckOutcome
from .class_report import write_class_report
from .gradebook import GRADEBOOK, merge_gradebook, read_gradebook, write_gradebook
from .grading import Grading, GradingReport
from .history import LatePolicy, at_due
from .intake import (
    READ_FROM_FORK,
    copy_canonical,
    edited_canonical_files,
    head_commit,
    read_submission,
    tree_digest,
    unique_names,
)
from .outputs import write_outputs
from .results import OUTPUT, RESULTS, ForkResult, ForkStatus, read_results

#: Where ``mnist-checks grade`` writes each fork's outputs and the gradebook unless told.
DEFAULT_OUT = "grades"


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch; ``results`` holds every fork's row, those not graded marked so."""

    def __init__(self, results: list[ForkResult]):
        super().__init__("grading interrupted")
        self.results = results


def grade_forks(forks, reference: Path, out: Path, grading: Grading, *, on_begin=None, on_result=None, on_start=None,
                say=None) -> GradingReport:
    """Grade every fork as ``grading`` says (``jobs`` at a time here, or on its Dask ``cluster``'s workers:
    ``pools``); write each one's results and the gradebook as it finishes, and report them (``GradingReport``).
    Each grading runs under ``limits.grading_mb`` (``memory.probe``); ``jobs`` is lowered to what fits the
    machine, and ``say`` (a line) is told so. Beyond the fast tier the data set (``data``) is located once
    and given to each checker's environment, never the grader's.

    Refuses (``levels.SandboxUnavailable``) where forks cannot be isolated, unless ``allow_unisolated``;
    every row records the isolation it was graded under.  ``isolation`` ``preloaded`` is for the catalogue's
    own code alone (``mutation_report``), never students' forks: no sandbox, each fork's first server forked
    with TensorFlow loaded.  ``reuse`` names folders of earlier calls' outputs: a fork whose contract was
    graded there with the same tests, rubric and tier, at this isolation or in the sandbox, takes that
    grading (``cached``).  The slow tier's trainings are shared by key (``mnist_checks.trainings``): each
    distinct training is done once for the batch, and reused from earlier calls unless ``retrain``.  Ctrl-C
    raises ``GradingInterrupted`` after writing the gradebook, forks not yet graded marked so.  ``due``
    (issue 34) grades each fork at its last commit by then, written out of its ``.git`` (``history``), or
    at HEAD less a penalty (``late_policy``); ``roster`` names each row's student.

    ``on_begin(where)`` is told where the forks are graded (``pools.where``); ``on_result(result)`` each result as
    it is written; ``on_start(name, now)``, from the thread running it, each check as it starts, not when queued
    (a cluster may start one again): ``now()`` says what it is on (``checker.grade_log_now``; {} on a cluster)."""
    reference, out = Path(reference).resolve(), Path(out)
    earlier = read_gradebook(out / GRADEBOOK)  # refused here, before any grading, if not ours
    data = str(datasets.locate(grading.data)) if grading.tier != "fast" else None
    with pools.cluster_client(grading.cluster, grading.jobs) as client:
        if on_begin:
            on_begin(pools.where(client, grading.jobs))
        isolation = levels.isolation_for(grading.isolation, grading.allow_unisolated) if client is None else None
        held, jobs = pools.local_memory(grading.limits, grading.jobs, say) if client is None else (None, grading.jobs)
        out.mkdir(parents=True, exist_ok=True)
        if isolation is not None and isolation.level == levels.UID:
            refuse_exposed([*forks, out, reference / "mnist_checks", reference / "tests", *installed_copies()])
        names = unique_names([Path(f) for f in forks], taken={row["fork"]: row.get("path", "") for row in earlier})
        matching = roster_matching(grading.roster, names)
        private = Path(tempfile.mkdtemp(prefix="mnist-checks-grader-"))  # mode 0700: the grader's alone
        try:
            canon = copy_canonical(reference, private / "canon")
            graded = graded_tests(canon, grading.tier, grading.rubric)
            if client is None:
                checks = pools.LocalChecks(Checker(canon, private, grading.tier, grading.limits, isolation, reference,
                                                   store(grading, isolation, private), held, data=data,
                                                   files=graded_files(graded)), jobs)
            else:
                checks = pools.cluster_checks(client, grading, tree_digest(canon), data)
                isolation = checks.isolation
            batch = scoring(grading, graded, isolation, reference, tree_digest(canon), earlier=earlier,
                            snapshots=private / "handed-in", students=students_of(matching))
            try:
                rows = _grade_all(batch, checks, names, out, regrade=grading.regrade, on_result=on_result,
                                  on_start=on_start)
            finally:
                checks.close()
                _write_report(out, say)  # every fork the gradebook holds, even after Ctrl-C
        finally:
            shutil.rmtree(private, ignore_errors=True)
    return GradingReport(rows, earlier, merge_gradebook(earlier, rows), matching)


def graded_tests(canon: Path, tier: str, rubric: dict) -> list[GradedTest]:
    """The graded tests of ``tier``; the rubric's weights checked against those of every tier
    (``rubric.check_weights``: a course's rubric may weight a slow claim while the fast tier is graded)."""
    everything = collect_graded_tests(canon, "all")
    check_weights(rubric, everything)
    return [test for test in everything if tier == "all" or test.tier == tier]


def roster_matching(roster, names: dict):
    """``roster.match`` of the roster's students with the forks (name -> checkout); None without a roster."""
    if roster is None:
        return None
    from .roster import match

    return match(roster, {name: Path(fork).resolve() for name, fork in names.items()})


def students_of(matching) -> dict:
    """Fork name -> its student's ``identifier`` and ``name``, for the forks ``matching`` matched;
    empty without a roster."""
    return {name: {"identifier": student.identifier, "name": student.name}
            for name, student in (matching.students.items() if matching else ())}


def store(grading: Grading, isolation: levels.Isolation, private: Path) -> str:
    """The trainings' store of a batch here: ``grading.trainings`` (default: ``trainings.default_store_spec``),
    kept across calls; this call's own under ``private`` where it retrains, or where a fork is not sandboxed
    (it could write into a store kept across calls)."""
    own = grading.retrain or trainings.retraining() or isolation.level != levels.BUBBLEWRAP
    return str(private / "trainings") if own else (grading.trainings or trainings.default_store_spec())


def scoring(grading: Grading, graded: list, isolation: levels.Isolation, reference: Path, canon_digest: str,
            **more) -> Batch:
    """What every fork of the batch is scored with: ``grading``'s tests, rubric and due date; its keys
    (``key_base``) at ``isolation`` and in the sandbox; the gradings to ``reuse``."""
    tier, rubric = grading.tier, grading.rubric
    return Batch(tier=tier, rubric=rubric, graded=graded, isolation=isolation, reference=reference,
                 key_base=key_base(tier, rubric, isolation.level, canon_digest), reusable=reusable(grading.reuse),
                 sandboxed_key_base=key_base(tier, rubric, "bubblewrap", canon_digest), due=grading.due,
                 late_policy=grading.late_policy, **more)


def refuse_exposed(paths) -> None:
    """At isolation ``uid``: ``SandboxUnavailable`` naming each of ``paths`` (the forks, the outputs,
    the reference and its tests, the installed package) a fork's uid could read, write or enter;
    bubblewrap hides them, a uid only where their modes do."""
    user = fork_user.ForkUser()
    try:
        found = fork_user.exposed(user, dict.fromkeys(Path(p).resolve() for p in paths))
    finally:
        user.release()
    if found:
        raise levels.ExposedToForks(f"at isolation uid a fork's uid could read or write {', '.join(found)}")


def _write_report(out: Path, say) -> None:
    """The class report of ``out``; one that cannot be written is said, never raised: the grades
    are written before it, and a report's failure must not turn into a lost batch."""
    try:
        write_class_report(out)
    except Exception as error:  # noqa: BLE001 - matplotlib or Jinja2 failing must not hide the grades
        if say:
            say(f"the class report could not be written ({type(error).__name__}: {error}); the grades are in "
                f"{out / GRADEBOOK} and each FORK/results.json")


def key_base(tier: str, rubric: dict, level: str, canon_digest: str) -> str:
    """What a fork's grading key (``prepare``) adds its contract's bytes to: the tier, rubric,
    version, isolation and canonical tests it is graded with."""
    return sha256_hex(json.dumps([tier, rubric, __version__, level], sort_keys=True).encode() + canon_digest.encode())


def reusable(folders) -> dict[str, Path]:
    """Each grading key found in ``folders`` (earlier calls' outputs) -> its results.json."""
    found = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob(RESULTS)):
            try:
                found.setdefault(json.loads(path.read_text())["extra_data"]["key"], path)
            except (OSError, ValueError, KeyError, TypeError):
                continue
    return found


@dataclass
class Batch:
    """What every fork of one ``grade_forks`` call is scored with."""

    tier: str
    rubric: dict
    graded: list[GradedTest]
    key_base: str
    isolation: levels.Isolation
    reference: Path
    earlier: list = field(default_factory=list)  # the gradebook's rows before this call
    sandboxed_key_base: str = ""  # key_base in the sandbox: its gradings stand for any isolation's
    reusable: dict = field(default_factory=dict)  # key -> an earlier call's results.json (``reuse``)
    due: datetime | None = None  # grade each fork's last commit at or before it (``history``)
    late_policy: LatePolicy | None = None  # or, where a fork has later commits, its HEAD less a penalty
    snapshots: Path | None = None  # where the commits graded by ``due`` are written out
    students: dict = field(default_factory=dict)  # fork name -> its student's identifier and name


def _grade_all(batch: Batch, checks: Checks, names: dict, out: Path, *, regrade: bool, on_result,
               on_start=None) -> list[ForkResult]:
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
            job = prepare(Path(fork), name, out / name, batch, regrade=regrade)
            if isinstance(job, ForkResult):
                done(job)  # graded before with the same contract, tests and rubric
            elif job.problem:
                done(finish(job, CheckOutcome(ForkStatus.ERROR, job.problem), batch))
            else:
                started = (lambda now, name=job.name: on_start(name, now)) if on_start else None
                pending[checks.submit(job, started)] = job
        for future in as_they_finish(pending, idle=checks.health):
            done(finish(pending.pop(future), checks.outcome(future), batch))
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
    if before and before["status"] != ForkStatus.NOT_GRADED:
        why += (f" (this call; the gradebook keeps its grade from before, {before['total']}/{before['max']}, "
                f"{before['status']})")
    return ForkResult(fork=name, path=path, status=ForkStatus.NOT_GRADED, reason=why)


def prepare(fork: Path, name: str, out: Path, batch: Batch, *, regrade: bool = False) -> Job | ForkResult:
    """Read what the grader needs of a fork, once: its contract's bytes (or why not), its commit,
    its edits of canonical files; or its earlier result, if graded with the same key. With a due
    date, all of it as of the commit it grades (``history.at_due``), written out of the fork's ``.git``."""
    fork = fork.resolve()
    shot = at_due(fork, batch.due, batch.late_policy, batch.snapshots / name, READ_FROM_FORK) if batch.due else None
    root, commit = (shot.root, shot.commit) if shot else (fork, head_commit(fork))
    picked = Picked(None, CONTRACT, problem=shot.problem) if shot and shot.problem else read_submission(root)
    said_of = {"handed_in": shot.handed_in if shot else {}, "student": batch.students.get(name, {})}
    source = None if picked.source is None else picked.source.encode()
    # a notebook's grading is keyed by its module and what its feedback says of it (the file graded,
    # what was left out): cleared outputs or edited markdown grade nothing again; a new left-out line does
    said = "\n".join([picked.note, *(picked.notebook.left_out if picked.notebook else [])]).encode()
    source_key = (source or b"") + (b"\0" + said if said.strip() else b"")
    key = sha256_hex(batch.key_base.encode() + source_key)
    previous = out / RESULTS
    found = None
    if source is not None and batch.reusable:
        sandboxed = sha256_hex(batch.sandboxed_key_base.encode() + source_key)
        found = batch.reusable.get(key) or batch.reusable.get(sandboxed)
    if found is None and not regrade and source is not None and previous.is_file():
        try:
            found = previous if json.loads(previous.read_text())["extra_data"]["key"] == key else None
        except (ValueError, KeyError, TypeError):
            pass
    if found is not None:  # graded before with this key, here or in another folder: that grading again
        taken = read_results(found, name)
        taken.path, taken.commit = str(fork), commit  # the same contract may be in a later commit
        taken.warnings = [w for w in taken.warnings if not w.startswith(LATE)] + late_warning(said_of["handed_in"])
        taken.handed_in, taken.student = said_of["handed_in"], said_of["student"]
        write_outputs(taken, out, (found.parent / OUTPUT).read_text(errors="replace")  # as this version writes them
                      if (found.parent / OUTPUT).is_file() else "")
        return taken
    warnings = [picked.note] if picked.note else []  # which file was graded, where the fork has both
    warnings += late_warning(said_of["handed_in"])
    return Job(name=name, path=str(fork), out=out, commit=commit, source=source, problem=picked.problem,
               key=key, warnings=warnings + edited_canonical_files(root, batch.reference), notebook=picked.notebook,
               **said_of)


#: How a late fork's warning begins (``history.Handed.late_note``).
LATE = "late: "


def late_warning(handed: dict) -> list[str]:
    """The late note of a fork graded by a due date, as its one warning (none when on time)."""
    return [handed["late"]] if handed.get("late") else []


def finish(job: Job, checked: CheckOutcome, batch: Batch) -> ForkResult:
    """Score what the checks found (``Checker.check``'s answer) and write the fork's outputs."""
    result = ForkResult(fork=job.name, path=job.path, status=checked.status, reason=checked.reason,
                        commit=job.commit, warnings=list(job.warnings), seconds=checked.seconds, key=job.key,
                        isolation=checked.isolation or batch.isolation.level, trainings=checked.trainings,
                        worker=checked.worker, memory=checked.memory, handed_in=job.handed_in or {},
                        student=job.student or {})
    result.tests = score_tests(merge_outcomes(batch.graded, checked.outcomes, result), batch.rubric)
    output = checked.output
    if job.notebook is not None:  # the notebook's cells and lines, where the messages name the module's
        result.left_out = list(job.notebook.left_out)
        result.reason = job.notebook.cite(result.reason)
        result.tests = [{**test, "message": job.notebook.cite(test.get("message", ""))} for test in result.tests]
        output = job.notebook.cite(output)
        if result.left_out:
            result.warnings.append(f"{len(result.left_out)} statement(s) of exercise.ipynb left out: only its "
                                   "definitions are graded (listed on the feedback page)")
    if result.status in (ForkStatus.TAMPERED, ForkStatus.UNENDED):
        result.tests = [{**test, "score": 0.0} for test in result.tests]
    classify(result)
    if result.isolation == levels.PRELOADED.level:
        result.warnings.append(f"graded preloaded: {levels.PRELOADED.details}")
    elif result.isolation == levels.UID:
        result.warnings.append(f"graded at isolation uid, not in bubblewrap's sandbox: {levels.UID_ISOLATION.details}")
    elif result.isolation != levels.BUBBLEWRAP:
        result.warnings.append(f"graded unisolated (--allow-unisolated): {levels.UNISOLATED.details}")
    write_outputs(result, job.out, output)
    return result


def merge_outcomes(graded: list[GradedTest], outcomes: dict[str, TestOutcome], result: ForkResult) -> list[dict]:
    """Every graded test as a results.json row (``to_json``) with the checker's logged outcome, or "not run" and why."""
    merged = []
    for test in graded:
        found = outcomes.get(test.id)
        if found is None:
            why = result.reason or "not run"
            merged.append({**test.to_json(), "outcome": "not run", "message": f"not run: {why}"})
        else:
            merged.append({**test.to_json(), "outcome": found.outcome, "message": found.message or "",
                           "phase": found.phase, "seconds": found.seconds,
                           **{k: v for k in ("error", "raised_by") if (v := getattr(found, k)) is not None}})
    return merged


#: The reason of a fork whose every graded test raised NotImplementedError: an untouched starter.
NOT_STARTED = "not started: every function still raises NotImplementedError"


def classify(result: ForkResult) -> None:
    """Name the one problem to fix first where every test failed the same way before it ran:
    a contract that does not load (syntax error, missing import, exception at import); or a
    fork not started, where every graded test raised NotImplementedError (decided by what the
    tests raised, never by comparing the code with the starter's)."""
    if result.status != ForkStatus.GRADED or not result.tests:
        return
    if not result.reason and not_started(result.tests) is not None:
        result.reason = NOT_STARTED
        return
    failures = {(t.get("phase"), t.get("message", "")) for t in result.tests if t["outcome"] != "passed"}
    if len(failures) == 1 and not any(t["outcome"] == "passed" for t in result.tests):
        phase, message = failures.pop()
        if phase == "setup" and "not implemented yet" not in message:
            result.status, result.reason = ForkStatus.FAILED_TO_LOAD, message.splitlines()[0][:300]
