"""``mnist-checks grade``'s progress: mnist_checks/commands/progress.py, and what it reads of a
running check (``checker.grade_log_now``, the lines the plugin's ``GradeLog`` writes as a run trains)."""

import io
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from mnist_checks import cli
from mnist_checks.commands.progress import GradingProgress
from mnist_checks.grading.course import checker, pools
from mnist_checks.grading.course.checks import CheckOutcome
from mnist_checks.grading.limits import Limits
from mnist_checks.grading.sandbox import levels
from mnist_checks.grading.students.grade_log import GradeLog

pytestmark = pytest.mark.fast


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a user's stdout does."""

    def isatty(self):
        return True


def finished(name, points=60.0):
    return SimpleNamespace(fork=name, totals={"total": (points, 60.0)}, status="graded", seconds=31.2)


def test_on_a_terminal_the_live_line_names_each_running_fork_and_its_training_and_goes_at_the_end():
    out, errors = Terminal(), Terminal()
    with GradingProgress(3, out, errors) as progress:
        progress.started("alice", lambda: {"training": "cnn", "epochs": 10, "done": 2, "tests": 7})
        progress.started("bob", lambda: {"tests": 4})
        progress.refresh()
        live = out.getvalue().split("\r")[-1]
        assert "0/3 forks done" in live and "2 running, 1 left" in live
        assert "alice" in live and "training cnn, epoch 3/10" in live and "bob" in live and "4 tests done" in live
        progress.finished(finished("bob", 42.0))
        progress.started("bob", dict)  # a cluster's start event may arrive late: bob stays finished
        progress.say("mnist-checks: a line for the errors stream")
        live = out.getvalue().split("\r")[-1]
        assert "1/3 forks done" in live and "1 running, 1 left" in live and "bob" not in live
    text = out.getvalue()
    assert text.count("  bob: 42.0/60.0 graded (31 s)\n") == 1, "the finished fork's permanent line, once"
    assert text.split("\r")[-1] == "", "the live line is erased at the end: what follows starts on a clean line"
    assert errors.getvalue() == "mnist-checks: a line for the errors stream\n"


def test_the_live_line_follows_a_running_forks_log_without_any_event():
    """The display polls each running fork's ``now()`` about every ``interval``: a training that
    moves on shows without a new event."""
    out, state = Terminal(), {"training": "mlp_raw", "epochs": 20, "done": 0}
    with GradingProgress(1, out, interval=0.01) as progress:
        progress.started("alice", lambda: dict(state))
        state.update(training="cnn", epochs=10, done=4)
        deadline = time.monotonic() + 30
        while "training cnn, epoch 5/10" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "alice" in out.getvalue() and "training cnn, epoch 5/10" in out.getvalue()


def test_the_live_line_is_erased_on_ctrl_c():
    out = Terminal()
    with pytest.raises(KeyboardInterrupt):
        with GradingProgress(2, out) as progress:
            progress.started("alice", dict)
            raise KeyboardInterrupt
    assert "alice" in out.getvalue() and out.getvalue().split("\r")[-1] == ""


def test_piped_it_prints_exactly_one_line_per_fork_and_nothing_else():
    out, errors = io.StringIO(), io.StringIO()
    with GradingProgress(3, out, errors) as progress:
        for name in ("alice", "bob", "carol"):
            progress.started(name, lambda: {"training": "cnn", "epochs": 10, "done": 2})
            progress.refresh()
        for name in ("bob", "alice", "carol"):
            progress.finished(finished(name))
        progress.say("mnist-checks: said")
    assert out.getvalue().splitlines() == [f"  {name}: 60.0/60.0 graded (31 s)" for name in ("bob", "alice", "carol")]
    assert "\r" not in out.getvalue() and errors.getvalue() == "mnist-checks: said\n"


@pytest.fixture
def graded_by_fake(monkeypatch, tmp_path, a_result):
    """``grade``'s command line with ``grade_forks`` replaced: each fork starts, trains, finishes."""
    from mnist_checks.grading.course.grading import GradingReport

    forks = [tmp_path / name for name in ("alice", "bob")]
    for fork in forks:
        fork.mkdir()

    def grade_forks(forks, reference, out, grading, *, on_begin, on_start, on_result, say):
        on_begin(pools.where(None, grading.jobs))  # this machine's pool
        done = []
        for fork in forks:
            on_start(Path(fork).name, lambda: {"training": "cnn", "epochs": 10, "done": 2})
            result = a_result()
            result.fork = Path(fork).name
            on_result(result)
            done.append(result)
        return GradingReport(done)

    monkeypatch.setattr("mnist_checks.commands.grades.grade_forks", grade_forks)
    return ["grade", *map(str, forks), "--out", str(tmp_path / "grades")]


def test_grade_piped_prints_a_line_per_fork_between_its_first_line_and_the_summary(graded_by_fake, capsys):
    cli.main(graded_by_fake)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("grading 2 fork(s)")
    assert [line.split(":")[0] for line in lines[1:lines.index("")]] == ["  alice", "  bob"]


def test_grade_on_a_terminal_erases_the_live_line_before_the_summary(graded_by_fake, monkeypatch):
    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    cli.main(graded_by_fake)
    text = out.getvalue()
    assert "training cnn, epoch 3/10" in text
    before, _, summary = text.rpartition("\r")
    assert "  alice:" in before and "  bob:" in before and "wrote " in summary and "forks done" not in summary
    assert summary.startswith("\n"), "the summary starts on a line of its own, the live line gone"


# --- what the display reads of a running check ---------------------------------------------------


def _log(tmp_path, *entries):
    log = tmp_path / checker.GRADE_LOG
    log.write_text("".join((json.dumps(e) if isinstance(e, dict) else e) + "\n" for e in entries))
    return log


def test_the_plugins_training_lines_read_as_the_training_in_progress_and_never_as_outcomes(tmp_path):
    """``note_training`` and ``note_epoch`` (the exercise's run in the checker) -> ``grade_log_now``:
    the model in training and its epochs, until the run's record says its trainings are over."""
    log = tmp_path / checker.GRADE_LOG
    grade_log = GradeLog(str(log))
    assert checker.grade_log_now(log) == {}, "no log yet"
    log.write_text(json.dumps({"id": "t::a", "outcome": "passed", "phase": "call"}) + "\n")
    grade_log.note_training("mlp_raw", 20)
    assert checker.grade_log_now(log) == {"training": "mlp_raw", "epochs": 20, "done": 0, "tests": 1}
    grade_log.note_epoch(20, 20)
    grade_log.note_training("cnn", 10)
    grade_log.note_epoch(3, 10)
    assert checker.grade_log_now(log) == {"training": "cnn", "epochs": 10, "done": 3, "tests": 1}
    outcomes, trained, unended = checker.read_grade_log(log)
    assert list(outcomes) == ["t::a"] and trained == {} and unended == []
    with open(log, "a") as handle:
        handle.write(json.dumps({"training": "cnn", "key": "k", "reused": False}) + "\n")
    assert checker.grade_log_now(log) == {"tests": 1}, "the run's record: no training in progress"


def test_a_half_written_line_is_skipped_and_a_test_logged_twice_counts_once(tmp_path):
    log = _log(tmp_path, {"id": "t::a", "outcome": "passed", "phase": "call"},
               {"id": "t::a", "outcome": "failed", "phase": "teardown"}, {"training_started": "cnn", "epochs": 10},
               '{"epoch_do')
    assert checker.grade_log_now(log) == {"training": "cnn", "epochs": 10, "done": 0, "tests": 1}
    assert list(checker.read_grade_log(log)[0]) == ["t::a"]


def test_a_fork_is_running_from_when_its_check_starts_not_when_it_is_queued(tmp_path, monkeypatch):
    """``LocalChecks`` with one job at a time: the second fork's ``on_start`` comes once the
    first's check has ended; while a check runs, its ``now()`` reads its own log, and {} after."""
    release, seen = threading.Event(), {}

    def run_checker(self, contract, workdir):
        _log(workdir, {"training_started": contract.read_text(), "epochs": 10})
        release.wait(30)
        return CheckOutcome()

    monkeypatch.setattr(checker.Checker, "_run_checker", run_checker)
    checks = pools.LocalChecks(checker.Checker(tmp_path, tmp_path, "fast", Limits(), levels.UNISOLATED, tmp_path), 1)
    started = []

    def on_start(name):
        return lambda now: started.append((name, now))

    try:
        futures = [checks.submit(checker.Job(name, "", tmp_path, "", name.encode(), "", "", []), on_start(name))
                   for name in ("alice", "bob")]
        deadline = time.monotonic() + 30
        while not (started and started[0][1]().get("training")) and time.monotonic() < deadline:
            time.sleep(0.01)
        seen["alice"] = started[0][1]()
        assert [name for name, _ in started] == ["alice"], "bob is queued, not running"
        release.set()
        assert [checks.outcome(future).status for future in futures] == ["graded", "graded"]
    finally:
        release.set()
        checks.close()
    assert [name for name, _ in started] == ["alice", "bob"]
    assert seen["alice"] == {"training": "alice", "epochs": 10, "done": 0, "tests": 0}
    assert started[0][1]() == {}, "the check is over and its workdir gone"
