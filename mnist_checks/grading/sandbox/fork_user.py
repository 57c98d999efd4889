"""Isolation ``uid``: an unprivileged uid of its own for each fork graded at once.

Where bubblewrap cannot start, a grader running as root still runs each fork's student server
as a uid no user and no other fork has (``FORK_UIDS``, skipping any the system's users or
processes hold), with its group alone.  Its files (the solution-free package and the contract)
are readable by that group alone; its only writable place is a scratch folder of its own.
After the grading every process of that uid is killed (``kill(-1)`` from the uid itself: every
process it may signal, atomically) and whatever it left in the world-writable folders
(``SHARED_TMP``) is removed.  ``exposed`` says which of the grader's paths the uid could read.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

#: The uids forks run as: one per fork graded at once, below systemd's dynamic users (61184-65519).
FORK_UIDS = range(59000, 59064)
#: Root's folder for the servers' homes: traversable by all, listed and written by root alone.
HOMES = Path("/run/mnist-checks")
#: World-writable folders a fork may leave files in; its own are removed from them after the grading.
SHARED_TMP = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))


class NoForkUser(RuntimeError):
    """No uid of ``FORK_UIDS`` is free, or the grader is not root."""


def homes() -> Path:
    """``HOMES``, made or checked: owned by root, mode 0711, not a link (a fork could have made one)."""
    try:
        HOMES.mkdir(mode=0o711, exist_ok=True)
        info = os.lstat(HOMES)
    except OSError as error:
        raise NoForkUser(f"cannot make {HOMES}: {error}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise NoForkUser(f"{HOMES} is not root's own folder: remove it and grade again")
    os.chmod(HOMES, 0o711)
    (HOMES / "locks").mkdir(mode=0o700, exist_ok=True)
    return HOMES


class ForkUser:
    """A uid (and group of the same number) held for one fork's grading, by a lock under ``HOMES``."""

    def __init__(self):
        if os.geteuid() != 0:
            raise NoForkUser("isolation uid runs forks as uids of their own, which only root can: grade as root")
        locks = homes() / "locks"
        for uid in FORK_UIDS:
            if _taken(uid):
                continue
            handle = os.open(locks / f"{uid}.lock", os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(handle)
                continue
            self.uid = self.gid = uid
            self._lock = handle
            end_processes(uid)  # a grader that died could have left some
            return
        raise NoForkUser(f"every uid of {FORK_UIDS.start}-{FORK_UIDS.stop - 1} is in use: grade fewer forks at once")

    @property
    def home_prefix(self) -> str:
        """The name its servers' homes under ``HOMES`` start with (``left_behind`` reads it)."""
        return f"server-{self.uid}-"

    def popen_options(self) -> dict:
        """``subprocess.Popen``'s arguments that start a process as this uid, with no other group."""
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def give(self, path: Path, *, writable: bool = False) -> None:
        """Make ``path`` (a tree) this uid's to read, through its group alone; or its own, to write."""
        for entry in [path, *path.rglob("*")]:
            if writable:
                os.chown(entry, self.uid, self.gid, follow_symlinks=False)
                entry.chmod(0o700 if entry.is_dir() else 0o600)
            else:
                os.chown(entry, 0, self.gid, follow_symlinks=False)
                entry.chmod(0o750 if entry.is_dir() else 0o640)

    def release(self) -> list[str]:
        """End every process of the uid, remove its files from ``SHARED_TMP``, free the uid; what was
        left (said in the fork's row), or []."""
        left = []
        if not end_processes(self.uid):
            left.append(f"processes of uid {self.uid} outlived every kill")
        left += remove_files_of(self.uid)
        os.close(self._lock)
        return left


def left_behind() -> list[str]:
    """What the uids no grading holds now still have: a process, a file in ``SHARED_TMP``, a home
    under ``HOMES``; [] after every grading ended as it must (a uid in use is not looked at)."""
    found = []
    for uid in FORK_UIDS:
        lock = homes() / "locks" / f"{uid}.lock"
        if not lock.exists():
            continue
        handle = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held by a grading now
        finally:
            os.close(handle)  # (closing it frees the lock again)
        found += [f"process {pid} of uid {uid}" for pid in processes_of(uid)]
        found += [f"{entry.path} of uid {uid}" for top in SHARED_TMP if top.is_dir() for entry in os.scandir(top)
                  if entry.stat(follow_symlinks=False).st_uid == uid]
        found += [f"home {home}" for home in HOMES.glob(f"server-{uid}-*")]
    return found


def _taken(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True  # a user of the system's
    except KeyError:
        return False


def processes_of(uid: int) -> list[int]:
    """The live processes whose real, effective or saved uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if uid in map(int, fields.get("Uid", "").split()[:3]) and fields.get("State", "").split()[:1] != ["Z"]:
            found.append(int(entry))
    return found


def end_processes(uid: int, seconds: float = 30) -> bool:
    """Kill every process of ``uid`` (from the uid itself, ``kill(-1, SIGKILL)``, which the kernel
    does in one pass: a fork bomb cannot outrun it) until none is left; whether none is."""
    deadline = time.monotonic() + seconds
    while processes_of(uid):
        if time.monotonic() > deadline:
            return False
        subprocess.run([sys.executable, "-I", "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
                       user=uid, group=uid, extra_groups=[], env={}, cwd="/", stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        time.sleep(0.05)
    return True


def remove_files_of(uid: int) -> list[str]:
    """Remove what ``uid`` owns in ``SHARED_TMP`` (its folders whole); what could not be removed."""
    left = []
    for top in SHARED_TMP:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError as error:
                left.append(f"{entry.path}: {error.strerror}")
    return left


#: Run as the fork's uid: which of the paths on standard input (one per line) it can read, write or enter.
_EXPOSED = ("import os, sys\n"
            "for p in sys.stdin.read().splitlines():\n"
            "    if os.access(p, os.R_OK) or os.access(p, os.W_OK) or (os.path.isdir(p) and os.access(p, os.X_OK)):\n"
            "        print(p)\n")


def exposed(user: ForkUser, paths) -> list[str]:
    """Which of ``paths`` the fork's uid could read or write (a file) or list, write or enter (a
    folder): asked of the kernel by a process of that uid, so modes, groups and ACLs all count."""
    listed = "\n".join(str(p) for p in paths if os.path.lexists(p))
    done = subprocess.run([sys.executable, "-I", "-S", "-c", _EXPOSED], input=listed, capture_output=True,
                          text=True, cwd="/", env={}, check=False, **user.popen_options())
    if done.returncode != 0:
        raise NoForkUser(f"a process of uid {user.uid} could not run {sys.executable}: {done.stderr.strip()[-300:]}")
    return done.stdout.splitlines()
