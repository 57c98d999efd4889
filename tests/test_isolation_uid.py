"""Isolation ``uid`` (issue 33), where bubblewrap cannot start: a uid of the fork's own, rlimits, a
seccomp filter refusing the network, the grader's files unreadable, every process of the uid
ended.  Real processes as root (the level needs root); the walls are seen by a fork's own server.
What only bubblewrap holds is asserted too, so docs/grading.md's table cannot drift from it."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import SECRET_VARIABLE, probe_walls, require_uid

from mnist_checks.grading.course.batch import refuse_exposed
from mnist_checks.grading.sandbox import fork_user, levels, syscall_filter
from mnist_checks.grading.sandbox.isolated import IsolatedContract

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = pytest.mark.xdist_group("isolation")


@pytest.fixture(scope="module")
def uid_level():
    return require_uid()


@pytest.fixture
def user(uid_level):
    held = fork_user.ForkUser()
    yield held
    held.release()


def as_user(user, code: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd="/", env={},
                          timeout=60, **user.popen_options(), **options)


# --- the uid, its processes and its files (fast: no TensorFlow) ----------------------------------

@pytest.mark.fast
def test_forks_graded_at_once_get_uids_of_their_own_that_no_user_of_the_system_has(uid_level):
    import pwd

    first, second = fork_user.ForkUser(), fork_user.ForkUser()
    try:
        assert first.uid != second.uid and {first.uid, second.uid} <= set(fork_user.FORK_UIDS)
        for uid in (first.uid, second.uid):
            with pytest.raises(KeyError):
                pwd.getpwuid(uid)
    finally:
        first.release()
        second.release()


@pytest.mark.fast
def test_every_process_of_a_fork_uid_ends_detached_daemons_included(user):
    daemons = ("import os, time\n"
               "for _ in range(20):\n"
               "    if os.fork() == 0:\n"
               "        os.setsid()\n"
               "        null = os.open(os.devnull, os.O_RDWR)\n"
               "        os.dup2(null, 1)\n"
               "        os.dup2(null, 2)\n"
               "        time.sleep(600)\n"
               "print('ready', flush=True)\n")
    assert as_user(user, daemons).stdout.strip() == "ready"
    assert len(fork_user.processes_of(user.uid)) >= 20
    assert fork_user.end_processes(user.uid)
    assert fork_user.processes_of(user.uid) == []


@pytest.mark.fast
def test_files_a_fork_uid_leaves_in_shared_temporary_folders_are_removed_and_no_one_elses(user, tmp_path):
    left = as_user(user, "import os\n"
                         "open('/tmp/mnist-checks-left-file', 'w').write('x')\n"
                         "os.makedirs('/dev/shm/mnist-checks-left-dir/inner')\n")
    assert left.returncode == 0, left.stderr
    others = Path("/tmp/mnist-checks-not-the-forks")
    others.write_text("root's")
    try:
        assert fork_user.remove_files_of(user.uid) == []
        assert not Path("/tmp/mnist-checks-left-file").exists()
        assert not Path("/dev/shm/mnist-checks-left-dir").exists()
        assert others.read_text() == "root's"
    finally:
        others.unlink()


@pytest.mark.fast
def test_exposed_names_each_path_the_uid_could_read_write_or_enter_and_no_other(user, tmp_path):
    shared = Path(tempfile_in("/tmp"))
    try:
        shared.chmod(0o755)
        (shared / "readable.txt").write_text("x")
        (shared / "private").mkdir(mode=0o700)
        (shared / "private" / "hidden.txt").write_text("x")
        (shared / "unreadable.txt").write_text("x")
        (shared / "unreadable.txt").chmod(0o600)
        paths = [shared / "readable.txt", shared / "private", shared / "private" / "hidden.txt",
                 shared / "unreadable.txt", tmp_path]
        assert fork_user.exposed(user, paths) == [str(shared / "readable.txt")]
        with pytest.raises(levels.ExposedToForks, match="readable.txt") as refused:
            refuse_exposed(paths)
        assert "o-rwx" in refused.value.remedy
    finally:
        import shutil

        shutil.rmtree(shared)


def tempfile_in(folder: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="mnist-checks-exposed-", dir=folder)


@pytest.mark.fast
def test_the_filter_refuses_every_socket_but_unix_and_io_uring(user):
    """In a process of the fork's uid with the filter loaded, as the student server loads it."""
    code = textwrap.dedent(f'''
        import ctypes, errno, json, socket, sys
        sys.path.insert(0, {str(Path(syscall_filter.__file__).parent)!r})
        from syscall_filter import refuse_network
        refuse_network()
        seen = {{}}
        for name in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_UNIX"):
            try:
                socket.socket(getattr(socket, name), socket.SOCK_DGRAM if name != "AF_PACKET" else socket.SOCK_RAW)
                seen[name] = "opened"
            except OSError as error:
                seen[name] = errno.errorcode[error.errno]
        libc = ctypes.CDLL(None, use_errno=True)
        seen["io_uring_setup"] = errno.errorcode.get(ctypes.get_errno(), "ok") if libc.syscall(425, 1, None) == -1 \\
            else "opened"
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
        seen["NoNewPrivs"], seen["Seccomp"] = status["NoNewPrivs"].strip(), status["Seccomp"].strip()
        print(json.dumps(seen))
    ''')
    package = Path(syscall_filter.__file__).parent
    if fork_user.exposed(user, [package / "syscall_filter.py"]) == []:
        pytest.skip("the package is private to root here: the filter is checked through the server below")
    done = as_user(user, code)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert {name: seen[name] for name in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET")} == dict.fromkeys(
        ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"), "EACCES")
    assert seen["AF_UNIX"] == "opened" and seen["io_uring_setup"] == "EPERM"
    assert (seen["NoNewPrivs"], seen["Seccomp"]) == ("1", "2")


@pytest.mark.fast
def test_the_level_is_refused_with_its_remedy_to_a_grader_that_is_not_root(monkeypatch):
    monkeypatch.delenv(levels.PROBED_ENV, raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(levels.SandboxUnavailable, match="only root"):
        levels.probe_uid()


@pytest.mark.fast
def test_strongest_is_bubblewrap_where_it_runs_else_uid(uid_level):
    try:
        levels.probe()
    except levels.SandboxUnavailable:
        assert levels.strongest().level == "uid"
    else:
        assert levels.strongest().level == "bubblewrap"


# --- the walls, seen by a fork's own server (e2e: it imports TensorFlow) -------------------------

#: What isolation uid's walls are probed for, beside what every level's are (helpers.WALLS_PROBE).
PROBE = textwrap.dedent('''
    import os, resource, sys

    CHILD = "MNIST_CHECKS_UID_PROBE_CHILD"
    READ = (PRIVATE, "/proc/1/environ", "/proc/1/cwd/.")

    def seen_here():
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
        return {"uid": os.getuid(), "groups": os.getgroups(),
                "host_processes": sum(p.isdigit() for p in os.listdir("/proc")) > 5,
                "no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
                "limits": {name: resource.getrlimit(getattr(resource, name))[1]
                           for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU")},
                "env": sorted(os.environ), "home": os.environ.get("HOME", "")}

    def writable():
        return ("/usr/attack", sys.prefix + "/attack", os.path.dirname(__file__) + "/attack",
                os.environ["HOME"] + "/written", "/tmp/mnist-checks-uid-probe-left")
''')


@pytest.fixture(scope="module")
def walls(uid_level, tmp_path_factory):
    root = tmp_path_factory.mktemp("uid-walls")
    private = root / "secret.txt"
    private.write_text("the instructor's")

    def close(served) -> dict:
        uid = served._user.uid
        served.close()
        return {"uid": uid, "alive": fork_user.processes_of(uid), "home": served._home}

    return {"private": str(private),
            **probe_walls(root / "exercise.py", f"PRIVATE = {str(private)!r}\n" + PROBE,
                          lambda path: IsolatedContract(path, isolation=uid_level), close)}


@pytest.mark.e2e
def test_the_fork_runs_as_its_own_uid_with_no_group_and_no_new_privileges(walls):
    seen = walls["seen"]
    assert seen["uid"] == walls["uid"] in fork_user.FORK_UIDS and seen["groups"] == []
    assert (seen["no_new_privs"], seen["seccomp"]) == ("1", "2")


@pytest.mark.e2e
def test_the_fork_cannot_raise_its_limits(walls):
    limits = walls["seen"]["limits"]
    assert limits["RLIMIT_AS"] == 8192 * 1024**2 and limits["RLIMIT_FSIZE"] == 256 * 1024**2
    assert limits["RLIMIT_NPROC"] == 1024 and limits["RLIMIT_NOFILE"] == 256 and limits["RLIMIT_CPU"] > 0


@pytest.mark.e2e
def test_the_fork_reads_no_private_file_no_other_process_and_no_instructor_variable(walls):
    seen = walls["seen"]
    assert seen[walls["private"]] == "PermissionError"
    assert seen["/proc/1/environ"] == "PermissionError" and seen["/proc/1/cwd/."] == "PermissionError"
    assert SECRET_VARIABLE not in seen["env"]


@pytest.mark.e2e
def test_the_fork_writes_only_its_own_scratch_folder_and_the_shared_tmp(walls):
    seen = walls["seen"]
    written = sorted(path for path, what in seen.items() if what == "written")
    assert written == sorted([seen["home"] + "/written", "/tmp/mnist-checks-uid-probe-left"])


@pytest.mark.e2e
def test_the_fork_opens_no_network_socket(walls):
    assert walls["seen"]["network"] == "PermissionError" and not walls["connected"]


@pytest.mark.e2e
def test_after_the_grading_no_process_no_file_and_no_home_of_the_uid_is_left(walls):
    assert walls["alive"] == []
    assert not Path("/tmp/mnist-checks-uid-probe-left").exists() and not walls["home"].exists()
    deadline = time.monotonic() + 5
    while fork_user.processes_of(walls["uid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fork_user.processes_of(walls["uid"]) == []


@pytest.mark.e2e
def test_what_only_bubblewrap_holds_the_uid_level_does_not(walls):
    """docs/grading.md's 'only bubblewrap' rows: a fork at uid sees the host's processes."""
    assert walls["seen"]["host_processes"] is True
