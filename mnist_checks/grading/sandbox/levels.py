"""Sealing a fork's process off: what it sees, what it may do, and how isolated it really is.

With bubblewrap (Debian/Ubuntu package ``bubblewrap``) the student server runs in new pid,
network, IPC, UTS and mount namespaces (and a user namespace when the grader is not root; as
root it runs as the unprivileged ``nobody`` instead).  Its file system holds the system's
libraries and the Python environment read-only, the solution-free package and the fork's
contract read-only, and a size-limited tmpfs as its only writable place: no home directory, no
instructor's checkout, no other fork, no grader output, no network but its own loopback.  Every
process it starts dies with it (pid namespace, ``--die-with-parent``), its environment is
built from nothing.  Where bubblewrap cannot start (no user namespaces, as under Docker's
default seccomp profile) a grader running as root may grade at ``uid`` instead
(``fork_user``: a uid of the fork's own, rlimits, a seccomp filter refusing the network; the
grader's files unreadable to it; every process of it killed after).  Without either the server
is only a separate process with a minimal environment and rlimits: ``unisolated``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import MnistChecksError
from ...installed import installed_copies
from .server import NOBODY

#: Where the sandbox's own files appear inside it; its only writable place is a tmpfs at /tmp,
#: mounted before everything else (a Python environment may itself live under the host's /tmp).
ROOT = Path("/sandbox")
LIB, FORK, TMP = ROOT / "lib", ROOT / "fork", Path("/tmp")
#: The writable tmpfs's size: room for TensorFlow's caches and a fork's scratch files, no more.
TMPFS_BYTES = 512 * 1024**2
#: Host files under /etc that the dynamic linker and Python need; nothing else of /etc.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives")
#: Variables that configure which Keras the server imports: they must match the checker's.
PASSED_ENV = ("KERAS_BACKEND", "TF_USE_LEGACY_KERAS", "TF_ENABLE_ONEDNN_OPTS")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`) "
                "and allow user namespaces, or grade as root")


class SandboxUnavailable(MnistChecksError, RuntimeError):
    """This host cannot seal a fork off; the message says why and what to do."""

    remedy = ("pass --allow-unisolated to grade anyway (unsafe: a fork can then read your files and reach the "
              "network); every row then says so")


class UidUnavailable(SandboxUnavailable):
    """Isolation ``uid`` cannot hold on this host; the message says why."""

    remedy = "grade as root with the seccomp binding installed, or where bubblewrap runs (--isolation bubblewrap)"


class ExposedToForks(SandboxUnavailable):
    """At isolation ``uid``: a path a fork's uid could read or write; the message names each."""

    remedy = ("make them unreadable to other users (`chmod -R o-rwx PATH`, or keep them in a folder of mode 0700), "
              "or grade where bubblewrap runs")


@dataclass(frozen=True)
class Isolation:
    """How a fork's process is sealed off; ``level`` goes into every results.json and gradebook row."""

    level: str  # "bubblewrap", "uid", "unisolated" or "preloaded"
    details: str

    @property
    def isolated(self) -> bool:
        """Whether a fork is sealed off: it cannot read the grader's files, reach the network or outlive its grading."""
        return self.level in (BUBBLEWRAP, UID)


#: The sealed levels, strongest first.
BUBBLEWRAP, UID = "bubblewrap", "uid"
#: What ``--isolation`` takes: a level, or the strongest this host gives (``strongest``), or ``auto``
#: (bubblewrap, else refuse or, with ``allow_unisolated``, ``unisolated``).
CHOICES = ("auto", "strongest", BUBBLEWRAP, UID)


UNISOLATED = Isolation("unisolated", "a separate process with a minimal environment and rlimits; it can read "
                                     "what the grader's user can, reach the network and outlive the grading")
#: The catalogue's own code alone (``mnist-checks mutants``): as ``UNISOLATED``, the first server
#: forked with TensorFlow already loaded (``preloaded.ReadyServer``). Never for a student's fork.
PRELOADED = Isolation("preloaded", "the catalogue's own code: a separate process forked with TensorFlow already "
                                   "loaded, minimal environment and rlimits, no sandbox; never for students' forks")


#: Set by the grader in each checker's environment once its own probe found bubblewrap working:
#: the checker then does not start a sandbox again to learn what the grader knows.
PROBED_ENV = "MNIST_CHECKS_PROBED_ISOLATION"


def probe() -> Isolation:
    """Bubblewrap's isolation, checked by starting Python in it once per process
    (for the same bwrap, setpriv and user); raises ``SandboxUnavailable`` (with the cause and the
    remedy) when bubblewrap cannot run here, and probes again on the next call."""
    if os.environ.get(PROBED_ENV) == "bubblewrap" and shutil.which("bwrap"):
        return _bubblewrap()
    return _probe(shutil.which("bwrap"), shutil.which("setpriv"), os.geteuid())


def probe_uid() -> Isolation:
    """Isolation ``uid``'s, checked once per process by loading the seccomp filter in a process of
    a fork's uid; ``SandboxUnavailable`` with the cause and the remedy where it cannot hold."""
    if os.environ.get(PROBED_ENV) == UID and os.geteuid() == 0:
        return UID_ISOLATION
    return _probe_uid(os.geteuid(), sys.executable)


@functools.lru_cache(maxsize=None)  # a success only
def _probe_uid(euid: int, executable: str) -> Isolation:
    from . import fork_user, syscall_filter

    if euid != 0:
        raise UidUnavailable("isolation uid runs each fork as a uid of its own, which only root can: grade "
                                 "as root (as Gradescope's autograder does), or use bubblewrap")
    try:
        user = fork_user.ForkUser()
    except fork_user.NoForkUser as error:
        raise UidUnavailable(f"isolation uid: {error}") from None
    scratch = Path(tempfile.mkdtemp(prefix="probe-", dir=fork_user.homes()))
    try:
        shutil.copyfile(syscall_filter.__file__, scratch / "syscall_filter.py")
        user.give(scratch)
        done = subprocess.run([executable, "-I", str(scratch / "syscall_filter.py")], capture_output=True,
                              text=True, timeout=60, env={}, cwd="/", **user.popen_options())
    except (OSError, subprocess.SubprocessError) as error:
        raise UidUnavailable(f"isolation uid: Python did not start as uid {user.uid}: {error}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        user.release()
    said = (done.stdout.strip() or done.stderr.strip()[-300:])
    if said != syscall_filter.HELD:
        raise UidUnavailable(
            f"isolation uid does not hold here: {said}; the Python at {executable} and its environment must be "
            "readable by other users (their folders o+rx, e.g. `chmod o+x /root` for a Python under /root), and "
            "the seccomp binding installed (pip install pyseccomp; apt-get install libseccomp2)")
    return UID_ISOLATION


def strongest() -> Isolation:
    """Bubblewrap where it runs, else ``uid``; ``SandboxUnavailable`` saying why neither does."""
    try:
        return probe()
    except SandboxUnavailable as bubblewrap:
        try:
            return probe_uid()
        except SandboxUnavailable as uid:
            raise SandboxUnavailable(f"{bubblewrap}; and {uid}") from None


def isolation_for(level: str = "auto", allow_unisolated: bool = False) -> Isolation:
    """The isolation ``level`` names (``CHOICES``, or ``unisolated``/``preloaded``), probed;
    ``SandboxUnavailable`` where this host cannot give it."""
    if level == UNISOLATED.level:
        return UNISOLATED
    if level == PRELOADED.level:
        return PRELOADED
    if level == BUBBLEWRAP:
        return probe()
    if level == UID:
        return probe_uid()
    if level == "strongest":
        return strongest()
    if level == "auto":
        return isolation_here(allow_unisolated)
    raise ValueError(f"no isolation {level!r}: one of {', '.join(CHOICES)}")


@functools.lru_cache(maxsize=None)  # a success only: an exception is not kept
def _probe(bwrap: str | None, setpriv: str | None, euid: int) -> Isolation:
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    if euid == 0 and setpriv is None:
        raise SandboxUnavailable("running as root, the grader drops forks to nobody with setpriv, which is missing: "
                                 "install util-linux (Debian: `apt-get install util-linux`)")
    with _scratch() as scratch:
        inner = [sys.executable, "-I", "-c", "import os; print(os.getuid())"]
        command = bwrap_command(scratch, scratch / "none.py", inner)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, env={})
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(f"bubblewrap did not start: {error}; {INSTALL_HINT}") from None
    if done.returncode != 0:
        raise SandboxUnavailable(f"bubblewrap failed here: {done.stderr.strip()[-300:]}; {INSTALL_HINT}")
    return _bubblewrap()


def _bubblewrap() -> Isolation:
    who = f"uid {NOBODY} (nobody)" if os.geteuid() == 0 else "the grader's uid in a user namespace"
    return Isolation("bubblewrap", f"pid, network, IPC, UTS and mount namespaces; runs as {who}; read-only "
                                   f"system and Python; a {TMPFS_BYTES // 1024**2} MB tmpfs; no home, checkout, "
                                   "other forks or grader outputs; every process dies with it")


UID_ISOLATION = Isolation(UID, "a uid of its own (one per fork graded at once) and its group alone; rlimits on address "
                               "space, processes, file size, open files and CPU time; a seccomp filter refusing every "
                               "socket but AF_UNIX, with no new privileges; the grader's files unreadable to it; every "
                               "process of the uid killed and its files in /tmp, /var/tmp and /dev/shm removed after; "
                               "it sees the host's processes and world-readable files")


def isolation_here(allow_unisolated: bool = False) -> Isolation:
    """The isolation forks get on this host: ``probe``'s; where bubblewrap cannot run,
    ``UNISOLATED`` if ``allow_unisolated``, else ``probe``'s ``SandboxUnavailable``."""
    try:
        return probe()
    except SandboxUnavailable:
        if not allow_unisolated:
            raise
        return UNISOLATED


def python_command(lib: Path, contract: Path, memory_mb: int, cpu_seconds: int, own_uid: bool = False) -> list[str]:
    """``python -I`` running the student server from the solution-free package ``lib``; ``own_uid``
    at isolation ``uid`` (``server.main``)."""
    boot = (f"import sys; sys.path.insert(0, {str(lib)!r}); from mnist_checks.grading.sandbox.server import main; "
            f"main({str(contract)!r}, {int(memory_mb)}, {int(cpu_seconds)}, {bool(own_uid)})")
    return [sys.executable, "-I", "-c", boot]


def bwrap_command(lib_host: Path, contract_host: Path, inner: list[str]) -> list[str]:
    """``inner`` inside a new bubblewrap sandbox that shows ``lib_host`` at /sandbox/lib and the
    fork's contract at /sandbox/fork/exercise.py, both read-only."""
    command = ["bwrap", "--die-with-parent", "--new-session", "--clearenv",
               "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--hostname", "sandbox"]
    root = os.geteuid() == 0
    if not root:
        command += ["--unshare-user", "--disable-userns"]
    command += ["--size", str(TMPFS_BYTES), "--perms", "1777", "--tmpfs", str(TMP), "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            command += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            command += ["--ro-bind", top, top]
    for name in ETC:
        if os.path.exists(f"/etc/{name}"):
            command += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for prefix in python_prefixes():
        command += [*_parents(prefix), "--ro-bind", str(prefix), str(prefix)]
    for package in installed_copies():
        if any(_inside(package, prefix) for prefix in python_prefixes()):
            # a non-editable install of the instructor's package: hide it behind the solution-free copy
            command += ["--ro-bind", str(lib_host / "mnist_checks"), str(package)]
    command += ["--proc", "/proc", "--dev", "/dev",
                "--perms", "0755", "--dir", str(ROOT),
                "--ro-bind", str(lib_host), str(LIB),
                "--perms", "0755", "--dir", str(FORK),
                "--ro-bind", str(contract_host), str(FORK / "exercise.py"),
                "--chdir", str(TMP)]
    for key, value in server_environment(str(TMP)).items():
        command += ["--setenv", key, value]
    if root:
        inner = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", *inner]
    return [*command, "--", *inner]


def sandbox_namespaces(pid: int) -> set[str]:
    """The PID namespaces of ``pid``'s children that are not ``pid``'s own: the sandbox bubblewrap
    (``pid``) made with ``--unshare-pid``. Read before stopping it, for ``wait_until_empty``."""
    own = pid_namespace(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return set()
    found = {pid_namespace(int(child)) for child in children}
    return {namespace for namespace in found if namespace and namespace != own}


def wait_until_empty(namespaces: set[str], seconds: float = 30) -> bool:
    """Wait until no process is left in ``namespaces``, at most ``seconds``; whether they emptied.

    Killing bubblewrap kills its namespace's first process, and the kernel then kills every other
    process there (a fork's daemons too); on a loaded machine that takes a moment after the kill,
    so a grading that returned at once could leave them briefly alive."""
    deadline = time.monotonic() + seconds
    while namespaces:
        pids = (int(name) for name in os.listdir("/proc") if name.isdigit())
        if not any(pid_namespace(pid) in namespaces for pid in pids):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def pid_namespace(pid: int) -> str | None:
    """The PID namespace ``pid`` lives in (`/proc/PID/ns/pid`), or None where it is gone or a
    zombie (dead, waiting to be reaped: where PID 1 never reaps, it would look alive forever)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return None if state in ("Z", "X") else os.readlink(f"/proc/{pid}/ns/pid")
    except (OSError, IndexError):
        return None


def server_environment(tmp: str) -> dict:
    """The student server's whole environment: built from nothing, never the instructor's."""
    env = {
        "PATH": "/usr/bin:/bin", "HOME": f"{tmp}/home", "TMPDIR": tmp, "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": tmp,
        "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "",
        # the server builds models and answers small calls; training happens in the checker
        "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
    }
    env.update({key: os.environ[key] for key in PASSED_ENV if key in os.environ})
    return env


def python_prefixes() -> list[Path]:
    """The Python installation and environment the server runs on, outermost first, deduplicated."""
    found = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}:
        path = Path(prefix).resolve()
        if not _inside(path, Path("/usr")):
            found.append(path)
    found.sort(key=lambda p: len(p.parts))
    return [p for i, p in enumerate(found) if not any(_inside(p, q) for q in found[:i])]



def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _parents(path: Path) -> list[str]:
    """Directories above a bind mount, made traversable (bubblewrap would copy their modes)."""
    out = []
    for parent in reversed(path.parents):
        if str(parent) not in ("/", "/usr"):
            out += ["--perms", "0755", "--dir", str(parent)]
    return out


class _scratch:
    """A throwaway host directory readable by the sandbox's uid."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="mnist-checks-probe-"))
        self.path.chmod(0o755)
        (self.path / "none.py").write_text("")
        (self.path / "mnist_checks").mkdir()
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
