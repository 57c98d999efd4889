"""A fork's history by a due date (issue 34): the commit graded, the commits after it, late policies,
histories that point elsewhere refused; read without running git on the fork."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest
from helpers import git

from mnist_checks.grading.contract import CONTRACT
from mnist_checks.grading.course import history
from mnist_checks.grading.course.intake import READ_FROM_FORK, head_commit

pytestmark = pytest.mark.fast

DUE = datetime(2026, 12, 10, 23, 59, tzinfo=timezone(timedelta(hours=1)))


def commit(repo, text: str, when: datetime) -> str:
    """Write ``text`` as the contract and commit it at ``when``; the commit's id."""
    path = repo / CONTRACT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", text[:20], when=when)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def fork(tmp_path):
    repo = tmp_path / "alice"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    return repo


def test_the_due_date_grades_the_last_commit_at_or_before_it_and_counts_those_after(fork):
    commit(fork, "first = 1\n", DUE - timedelta(days=2))
    on_time = commit(fork, "second = 2\n", DUE)  # at the due date itself: on time
    commit(fork, "third = 3\n", DUE + timedelta(hours=9, minutes=13))
    commit(fork, "fourth = 4\n", DUE + timedelta(days=1, minutes=1))
    handed = history.handed_in(fork, DUE)
    assert handed.commit == on_time and handed.after == 2 and not handed.problem
    assert handed.committed == DUE
    assert handed.late_note(DUE) == "late: 2 commits after the due date, last 2026-12-12 00:00"
    assert handed.days_late(DUE) == 2  # a day and a minute: counted up


def test_the_commit_graded_is_written_out_and_the_checkout_is_not_touched(fork, tmp_path):
    commit(fork, "on_time = True\n", DUE - timedelta(hours=1))
    commit(fork, "late = True\n", DUE + timedelta(hours=1))
    head_before = head_commit(fork)
    shot = history.at_due(fork, DUE, None, tmp_path / "snapshot", READ_FROM_FORK)
    assert (shot.root / CONTRACT).read_text() == "on_time = True\n"
    assert (fork / CONTRACT).read_text() == "late = True\n" and head_commit(fork) == head_before
    assert shot.handed_in["late"].startswith("late: 1 commit after the due date, last 2026-12-11 00:59")
    assert shot.handed_in["penalty"] == 0 and shot.handed_in["committed"] == "2026-12-10 22:59"


def test_a_fork_with_no_commit_before_the_due_date_has_nothing_graded(fork, tmp_path):
    commit(fork, "late = True\n", DUE + timedelta(minutes=1))
    shot = history.at_due(fork, DUE, None, tmp_path / "snapshot", READ_FROM_FORK)
    assert shot.problem == history.NO_COMMIT == "no commit before the due date"
    assert not (tmp_path / "snapshot" / CONTRACT).exists()


def test_a_late_policy_grades_head_with_its_penalty_per_day_counted_up(fork, tmp_path):
    commit(fork, "on_time = True\n", DUE - timedelta(days=1))
    commit(fork, "late = True\n", DUE + timedelta(days=2, hours=1))  # 3 days late, counted up
    policy = history.parse_late_policy("10%/day")
    shot = history.at_due(fork, DUE, policy, tmp_path / "snapshot", READ_FROM_FORK)
    assert (shot.root / CONTRACT).read_text() == "late = True\n"
    assert shot.handed_in["penalty"] == 30.0
    assert "graded at HEAD, 30% off (3 day(s) late, 10%/day)" in shot.handed_in["late"]
    capped = history.at_due(fork, DUE, history.parse_late_policy("20%/day,max=50%"), tmp_path / "capped",
                            READ_FROM_FORK)
    assert capped.handed_in["penalty"] == 50.0


def test_a_late_policy_leaves_work_on_time_unpenalized(fork, tmp_path):
    on_time = commit(fork, "on_time = True\n", DUE - timedelta(days=1))
    shot = history.at_due(fork, DUE, history.parse_late_policy("10%/day"), tmp_path / "s", READ_FROM_FORK)
    assert shot.commit == on_time[:7] and shot.handed_in["penalty"] == 0 and shot.handed_in["late"] == ""


@pytest.mark.parametrize("text, expected", [
    ("2026-12-10T23:59+01:00", DUE), ("2026-12-10T22:59Z", DUE), ("2026-12-10 22:59:00+00:00", DUE)])
def test_due_dates_are_read_with_their_offset(text, expected):
    assert history.parse_due(text) == expected


@pytest.mark.parametrize("text", ["2026-12-10T23:59", "tomorrow", "2026-13-40T00:00Z"])
def test_a_due_date_without_offset_or_unreadable_is_refused_with_the_form_to_use(text):
    with pytest.raises(history.DueDateError) as refused:
        history.parse_due(text)
    assert "2026-12-10T23:59+01:00" in refused.value.remedy


@pytest.mark.parametrize("text, per_day, maximum", [("10%/day", 10, 100), ("2.5%/day,max=50%", Fraction(5, 2), 50)])
def test_late_policies_are_read(text, per_day, maximum):
    policy = history.parse_late_policy(text)
    assert (policy.per_day, policy.maximum) == (per_day, maximum)
    assert policy.penalty(30) == maximum


@pytest.mark.parametrize("text", ["10%", "ten%/day", "150%/day", "10%/day,max=120%"])
def test_a_late_policy_that_is_no_penalty_per_day_is_refused(text):
    with pytest.raises(history.DueDateError):
        history.parse_late_policy(text)


def test_a_history_that_points_elsewhere_is_not_read(fork, tmp_path):
    commit(fork, "mine = 1\n", DUE - timedelta(days=1))
    other = tmp_path / "bob"
    other.mkdir()
    git(other, "init", "--quiet")
    commit(other, "theirs = 1\n", DUE - timedelta(days=1))
    (fork / ".git" / "objects" / "info" / "alternates").write_text(str(other / ".git" / "objects") + "\n")
    assert "alternates" in history.handed_in(fork, DUE).problem
    (fork / ".git" / "objects" / "info" / "alternates").unlink()
    (fork / ".git" / "refs" / "heads" / "theirs").symlink_to(other / ".git" / "refs" / "heads" / "master")
    assert "symbolic link" in history.handed_in(fork, DUE).problem
    linked = tmp_path / "carol"
    linked.mkdir()
    (linked / ".git").write_text(f"gitdir: {other / '.git'}\n")
    assert "no .git folder of its own" in history.handed_in(linked, DUE).problem


def test_a_fork_without_history_says_so(tmp_path):
    (tmp_path / "plain").mkdir()
    assert history.handed_in(tmp_path / "plain", DUE).problem.startswith("the fork has no .git folder")


def test_a_link_in_the_commit_stays_a_link_and_nothing_leaves_the_snapshot(fork, tmp_path):
    (fork / "mnist_checks").mkdir()
    (fork / CONTRACT).symlink_to("/etc/passwd")
    git(fork, "add", "--all")
    git(fork, "commit", "--quiet", "-m", "link", when=DUE - timedelta(days=1))
    shot = history.at_due(fork, DUE, None, tmp_path / "snapshot", READ_FROM_FORK)
    assert (shot.root / CONTRACT).is_symlink()  # refused by read_contract, as at HEAD
    assert sorted(p.name for p in (tmp_path / "snapshot").rglob("*")) == ["exercise.py", "mnist_checks"]


def test_grade_refuses_a_late_policy_without_a_due_date_and_a_due_date_without_offset(tmp_path, capsys):
    from mnist_checks import cli

    (tmp_path / "fork").mkdir()
    assert cli.main(["grade", str(tmp_path / "fork"), "--out", str(tmp_path / "out"), "--late-policy", "10%/day"]) == 2
    assert "give the due date too (--due WHEN)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(tmp_path / "fork"), "--due", "2026-12-10T23:59"])
    assert stopped.value.code == 2 and "has no UTC offset" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was graded or written


def test_a_commit_whose_folders_are_links_writes_nothing_outside_its_snapshot(fork, tmp_path):
    """A hostile history: ``tests`` a link to a folder of the grader's; the snapshot holds the link
    and no file is written through it (the grader compares tests without following links)."""
    from mnist_checks.grading.course.intake import file_digests

    outside = tmp_path / "grader-folder"
    outside.mkdir()
    (outside / "secret.py").write_text("TOKEN = 1\n")
    (fork / "tests").symlink_to(outside)
    commit(fork, "mine = 1\n", DUE - timedelta(days=1))
    shot = history.at_due(fork, DUE, None, tmp_path / "snapshot", READ_FROM_FORK)
    assert (shot.root / "tests").is_symlink() and [p.name for p in outside.iterdir()] == ["secret.py"]
    assert file_digests(shot.root / "tests") == {"tests": "a symbolic link"}  # never followed
