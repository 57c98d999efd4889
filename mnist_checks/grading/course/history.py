"""A fork's git history, read without running git (issue 34): which commit a due date grades, the
commits after it, and that commit's files written out for the grader (``grade --due``).

git itself is never run on a fork: its own configuration (``core.fsmonitor``, ``gpg.program`` with
``log.showSignature``, ``tar.*.command``) would run the fork's code in the grader. Its objects are
read with dulwich instead, from the fork's own ``.git`` folder alone: a ``.git`` that is a file
(``gitdir:``), a ``commondir``, alternates or a symbolic link anywhere in it would let a fork's
history point into another checkout, so such a history is not read.

Commit dates are written by the student's machine (``git commit --date``): a backdated commit looks
on time. docs/grading.md says how to take a deadline that cannot be forged (clone at the deadline).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

from ...errors import MnistChecksError

#: The most commits read of one fork's history: far above any student's, far below a denial of service.
MAX_COMMITS = 20_000
#: Files of a fork's ``.git`` that would take its objects or refs from elsewhere.
ELSEWHERE = ("commondir", "objects/info/alternates", "objects/info/http-alternates")


class DueDateError(MnistChecksError, ValueError):
    """A ``--due`` or ``--late-policy`` the grader cannot take."""

    remedy = ("write the due date as ISO 8601 with its UTC offset, e.g. --due 2026-12-10T23:59+01:00 (or Z for "
              "UTC), and a late policy as a penalty per day, e.g. --late-policy 10%/day or 10%/day,max=50%")


def parse_due(text: str) -> datetime:
    """``2026-12-10T23:59+01:00`` as an aware datetime; a date without its offset is refused
    (whose 23:59 would it be: the grader's, a student's?)."""
    try:
        due = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DueDateError(f"--due {text!r} is not an ISO 8601 date and time") from None
    if due.tzinfo is None:
        raise DueDateError(f"--due {text!r} has no UTC offset: say whose time it is (+01:00, Z, ...)")
    return due


@dataclass(frozen=True)
class LatePolicy:
    """``grade --due --late-policy 10%/day``: a fork with commits after the due date is graded at
    its HEAD, its total lowered by ``per_day`` percent per day late (days counted up from the due
    date to its last commit), at most ``maximum`` percent."""

    per_day: Fraction
    maximum: Fraction = Fraction(100)

    def penalty(self, days: int) -> Fraction:
        """The percent taken off for ``days`` days late."""
        return min(self.maximum, self.per_day * days)

    def __str__(self) -> str:
        return f"{float(self.per_day):g}%/day" + (f",max={float(self.maximum):g}%" if self.maximum != 100 else "")


_POLICY = re.compile(r"^(\d+(?:\.\d+)?)%/day(?:,max=(\d+(?:\.\d+)?)%)?$")


def parse_late_policy(text: str) -> LatePolicy:
    """``10%/day`` or ``10%/day,max=50%``."""
    match = _POLICY.match(text.replace(" ", ""))
    if not match:
        raise DueDateError(f"--late-policy {text!r} is not a penalty per day such as 10%/day or 10%/day,max=50%")
    per_day, maximum = Fraction(match[1]), Fraction(match[2] or 100)
    if per_day > 100 or maximum > 100:
        raise DueDateError(f"--late-policy {text!r}: a penalty is at most 100%")
    return LatePolicy(per_day, maximum)


@dataclass(frozen=True)
class Handed:
    """What a fork handed in by a due date: the commit graded (full id) and its commit time, the
    commits after the due date and the last one's time; ``problem`` where there is nothing to grade."""

    commit: str = ""
    committed: datetime | None = None
    after: int = 0
    last: datetime | None = None
    problem: str = ""

    def days_late(self, due: datetime) -> int:
        """Whole days, counted up, from ``due`` to the last commit (0 when none is late)."""
        return math.ceil((self.last - due) / timedelta(days=1)) if self.after else 0

    def late_note(self, due: datetime) -> str:
        """``late: 3 commits after the due date, last 2026-12-11 09:12`` (in the due date's time zone)."""
        if not self.after:
            return ""
        return (f"late: {self.after} commit{'s' if self.after > 1 else ''} after the due date, last "
                f"{self.last.astimezone(due.tzinfo):%Y-%m-%d %H:%M}")


#: The row of a fork without a commit at or before the due date.
NO_COMMIT = "no commit before the due date"


def handed_in(fork: Path, due: datetime, *, at_head: bool = False) -> Handed:
    """The fork's newest commit (by commit time) reachable from its HEAD and committed at or before
    ``due``; with ``at_head`` (a late policy) and commits after ``due``, its HEAD itself. Either
    way the commits after ``due`` are counted. Read from ``fork/.git`` alone (``readable_history``);
    a history that cannot be read is a ``problem``, never an exception."""
    problem = readable_history(fork)
    if problem:
        return Handed(problem=problem)
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        with Repo(str(fork / ".git"), bare=True) as repo:
            head = repo.head()
            commits = [entry.commit for entry in repo.get_walker(include=[head], max_entries=MAX_COMMITS + 1)]
    except (NotGitRepository, KeyError, OSError, ValueError, AssertionError) as error:
        return Handed(problem=f"cannot read the fork's git history ({type(error).__name__}: {error})")
    if len(commits) > MAX_COMMITS:
        return Handed(problem=f"the fork's history is over {MAX_COMMITS:,} commits: not read")
    when = {c.id: datetime.fromtimestamp(c.commit_time, timezone.utc) for c in commits}
    late = [c for c in commits if when[c.id] > due]
    on_time = [c for c in commits if when[c.id] <= due]
    picked = next((c for c in commits if c.id == head), None) if at_head and late else max(
        on_time, key=lambda c: c.commit_time, default=None)
    last = max((when[c.id] for c in late), default=None)
    if picked is None:
        return Handed(after=len(late), last=last, problem=NO_COMMIT)
    return Handed(commit=picked.id.decode(), committed=when[picked.id], after=len(late), last=last)


def readable_history(fork: Path) -> str:
    """Why the fork's history is not read (empty when it is): no ``.git`` folder of its own, or one
    whose objects or refs could come from elsewhere (``ELSEWHERE``, a symbolic link in it)."""
    git = fork / ".git"
    if git.is_symlink() or not git.is_dir():
        return "the fork has no .git folder of its own (a link or a gitdir file is not followed): no history to read"
    for name in ELSEWHERE:
        if (git / name).exists() or (git / name).is_symlink():
            return f"the fork's .git/{name} takes objects or refs from elsewhere: its history is not read"
    for folder, dirs, files in os.walk(git, followlinks=False):
        for name in dirs + files:
            if os.path.islink(os.path.join(folder, name)):
                return f"the fork's .git holds a symbolic link ({Path(folder, name).relative_to(git)}): not read"
    return ""


def write_files(fork: Path, commit: str, target: Path, paths) -> Path:
    """Write ``paths`` (files or folders, POSIX paths) of ``commit``'s tree into ``target``, as the
    fork's checkout of that commit would hold them: symbolic links as links (the grader refuses
    them, as it refuses them at HEAD), submodules left out. ``target`` then stands for the fork."""
    from dulwich.object_store import iter_tree_contents, tree_lookup_path
    from dulwich.objects import S_ISGITLINK, Tree
    from dulwich.repo import Repo

    target.mkdir(parents=True, exist_ok=True)
    with Repo(str(fork / ".git"), bare=True) as repo:
        tree = repo[commit.encode()].tree
        for path in map(lambda p: Path(p).as_posix(), paths):
            try:
                mode, sha = tree_lookup_path(repo.__getitem__, tree, path.encode())
            except KeyError:
                continue  # not in that commit
            entries = iter_tree_contents(repo.object_store, sha) if isinstance(repo[sha], Tree) else [None]
            for entry in entries:
                relative, (mode, sha) = (path, (mode, sha)) if entry is None else (
                    f"{path}/{entry.path.decode(errors='replace')}", (entry.mode, entry.sha))
                if S_ISGITLINK(mode) or ".." in Path(relative).parts:
                    continue
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                data = repo[sha].as_raw_string()
                if mode & 0o170000 == 0o120000:
                    os.symlink(data.decode(errors="replace"), destination)
                else:
                    destination.write_bytes(data)
    return target


@dataclass(frozen=True)
class Snapshot:
    """A fork as of a due date: the folder to read its files from (the commit's, written out),
    the commit (7 hex digits), what its row says of it (``handed_in``), or why nothing is graded."""

    root: Path
    commit: str
    handed_in: dict
    problem: str = ""


def at_due(fork: Path, due: datetime, policy: LatePolicy | None, folder: Path, paths) -> Snapshot:
    """The fork's commit by ``due`` (``handed_in``; its HEAD, where ``policy`` takes late work) with
    ``paths`` written out into ``folder``; ``handed_in`` holds the commit's time, the late note
    and the penalty in percent (``policy``)."""
    handed = handed_in(fork, due, at_head=policy is not None)
    note = handed.late_note(due)
    penalty = policy.penalty(handed.days_late(due)) if policy is not None and handed.after else 0
    if note:
        note += (f"; graded at HEAD, {float(penalty):g}% off ({handed.days_late(due)} day(s) late, {policy})"
                 if policy is not None else "; graded at the due date's commit")
    row = {"due": due.isoformat(), "late": note, "penalty": float(penalty)}
    if handed.problem:
        return Snapshot(folder, "", row, problem=handed.problem)
    row["committed"] = f"{handed.committed.astimezone(due.tzinfo):%Y-%m-%d %H:%M}"
    try:
        write_files(fork, handed.commit, folder, paths)
    except (KeyError, OSError, ValueError, AssertionError) as error:
        return Snapshot(folder, handed.commit[:7], row, problem=f"cannot write out commit {handed.commit[:7]} "
                                                                 f"({type(error).__name__}: {error})")
    return Snapshot(folder, handed.commit[:7], row)
