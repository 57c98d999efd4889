"""The grader's isolation, end to end: the student server's semantics seen through
``IsolatedContract``, and the sandbox's walls (bubblewrap). Each test starts servers that import
TensorFlow (the e2e tier)."""

import os
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import SECRET_VARIABLE, probe_walls, require_sandbox

from mnist_checks import exercise
from mnist_checks.compat import keras
from mnist_checks.grading.limits import Limits
from mnist_checks.grading.sandbox import levels
from mnist_checks.grading.sandbox.isolated import ForkError, IsolatedContract, open_contract

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("isolation")]

# --- the student server, seen through the proxy (a plain process: no bubblewrap needed) ---------

QUIRKY = textwrap.dedent('''
    import os, time
    import numpy as np
    from .compat import keras

    class Mistake(Exception):
        pass

    def split(*arrays, random_state=0):
        if random_state == 99:
            time.sleep(3600)
        return [a[:1] for a in arrays] + [a[1:] for a in arrays]

    def build_mlp():
        model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def predicted_digits(probabilities):
        import tensorflow as tf
        return tf.argmax(probabilities, axis=1)

    def scale(X):
        X /= 255
        return X

    def to_images(X):
        print("to_images was called")
        raise Mistake("a mistake of the fork's own")

    def build_cnn():
        os.abort()
''')


@pytest.fixture(scope="module")
def quirky(tmp_path_factory):
    path = tmp_path_factory.mktemp("quirky") / "exercise.py"
    path.write_text(QUIRKY)
    with IsolatedContract(path, isolation=levels.UNISOLATED, limits=Limits(call_seconds=20)) as contract:
        yield contract


def test_a_fork_that_changes_its_argument_changes_the_callers_array(quirky):
    X = np.array([0.0, 255.0], dtype=np.float32)
    scaled = quirky.scale(X)
    np.testing.assert_array_equal(scaled, [0, 1])
    np.testing.assert_array_equal(X, [0, 1])


def test_a_read_only_argument_stays_read_only_in_the_forks_process(quirky):
    X = np.array([0.0, 255.0], dtype=np.float32)
    X.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        quirky.scale(X)
    np.testing.assert_array_equal(X, [0, 255])


def test_a_backend_tensor_comes_back_as_a_numpy_array(quirky):
    digits = quirky.predicted_digits(np.eye(10, dtype=np.float32)[[3, 1]])
    assert isinstance(digits, np.ndarray) and digits.tolist() == [3, 1]


def test_a_list_reply_crosses_as_one_array_and_an_unreadable_one_is_refused_in_words(tmp_path):
    """The server reads a reply as numpy reads it before it crosses (issue 30): a list of ints per
    row is the array of digits; strings are refused with what came back, as ``UnreadableReply``."""
    from mnist_checks.replies import UnreadableReply

    path = tmp_path / "exercise.py"
    path.write_text("import numpy as np\n\n"
                    "def predicted_digits(probabilities):\n    return [int(np.argmax(p)) for p in probabilities]\n\n"
                    "def scale(X):\n    return [str(x) for x in X]\n")
    with IsolatedContract(path, isolation=levels.UNISOLATED, limits=Limits(call_seconds=20)) as contract:
        digits = contract.predicted_digits(np.eye(10, dtype=np.float32)[[3, 1]])
        assert isinstance(digits, np.ndarray) and digits.tolist() == [3, 1]
        with pytest.raises(UnreadableReply, match=r"scale\(\) returned a list of <U\d+ values, which are not numbers"):
            contract.scale(np.arange(3))


def test_the_forks_own_exception_names_its_type_and_line(quirky):
    own = r"Mistake: a mistake of the fork's own \(exercise.py, line \d+, in to_images\)"
    with pytest.raises(ForkError, match=own):
        quirky.to_images(np.zeros((1, 784)))


def test_a_model_comes_back_rebuilt_by_the_checker(quirky):
    model = quirky.build_mlp()
    assert isinstance(model, keras.Model) and model.count_params() == 25_450


def test_a_crash_fails_that_call_and_the_next_call_gets_a_new_server(quirky):
    with pytest.raises(ForkError, match="died during build_cnn"):
        quirky.build_cnn()
    assert quirky.split(np.arange(4))[0].tolist() == [0]


def test_a_call_that_hangs_fails_at_its_limit_and_is_not_made_again(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text(QUIRKY)
    with IsolatedContract(path, isolation=levels.UNISOLATED, limits=Limits(call_seconds=3)) as contract:
        started = time.monotonic()
        with pytest.raises(ForkError, match="hung"):
            contract.split(np.arange(4), random_state=99)
        with pytest.raises(ForkError, match="not called again"):
            contract.split(np.arange(4), random_state=99)
        assert time.monotonic() - started < 30
        assert contract.build_mlp().count_params() == 25_450


def test_a_contract_that_does_not_import_raises_its_error_at_start(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text("def split(:\n")
    with IsolatedContract(path, isolation=levels.UNISOLATED) as contract:
        with pytest.raises(SyntaxError, match="line 1"):
            contract.check_loaded()


# --- the sandbox's walls (bubblewrap) ------------------------------------------------------------

#: What bubblewrap's walls are probed for, beside what every level's are (helpers.WALLS_PROBE).
PROBE = textwrap.dedent('''
    import os, resource, sys

    CHILD = "MNIST_CHECKS_PROBE_CHILD"
    READ = (CHECKOUT, HOME, "/root", "/sandbox/lib/mnist_checks/exercise.py")

    def seen_here():
        return {"uid": os.getuid(), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                "limits": {name: resource.getrlimit(getattr(resource, name))[1]
                           for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CORE")},
                "env": sorted(os.environ), "cwd": os.getcwd()}

    def writable():
        return ("/usr/attack", sys.prefix + "/attack", "/sandbox/lib/attack")
''')


@pytest.fixture(scope="module")
def walls(tmp_path_factory):
    require_sandbox()
    checkout = Path(exercise.__file__).resolve()

    def close(contract) -> dict:
        contract.close()
        return {"alive_when_closed": [p for p in Path("/proc").glob("[0-9]*/cmdline")
                                      if b"MNIST_CHECKS_PROBE_CHILD" in _read(p)]}

    probe = f"CHECKOUT = {str(checkout)!r}\nHOME = {os.path.expanduser('~')!r}\n" + PROBE
    return {"checkout": str(checkout), **probe_walls(tmp_path_factory.mktemp("probe") / "exercise.py", probe,
                                                     lambda path: open_contract(path, isolation="bubblewrap"), close)}


def test_the_sandboxed_fork_runs_as_another_user_alone_in_itspid_namespace(walls):
    seen = walls["seen"]
    assert seen["uid"] != 0 and len(seen["pids"]) <= 3 and seen["cwd"] == str(levels.TMP)


def test_the_sandboxed_fork_cannot_raise_its_limits(walls):
    limits = walls["seen"]["limits"]
    assert limits["RLIMIT_AS"] == 8192 * 1024**2 and limits["RLIMIT_FSIZE"] == 256 * 1024**2
    assert limits["RLIMIT_CORE"] == 0
    if os.geteuid() == 0:  # forks run as nobody, whose processes are capped
        assert limits["RLIMIT_NPROC"] == 1024


def test_the_sandboxed_fork_sees_no_checkout_home_or_instructor_variable(walls):
    seen = walls["seen"]
    assert seen[walls["checkout"]] == "FileNotFoundError"
    assert seen[os.path.expanduser("~")] in ("FileNotFoundError", "PermissionError", [".pyenv"], [])
    assert SECRET_VARIABLE not in seen["env"]
    assert seen["/sandbox/lib/mnist_checks/exercise.py"] == "read"  # the starter's, solution-free


def test_the_sandboxed_fork_can_write_only_its_own_tmpfs(walls):
    seen = walls["seen"]
    assert all(seen[p] != "written" for p in seen if p.endswith("/attack"))


def test_the_sandboxed_fork_reaches_no_host_loopback_server(walls):
    assert walls["seen"]["network"] == "ConnectionRefusedError" and not walls["connected"]


def test_a_process_the_fork_starts_dies_with_its_server(walls):
    """Gone by the time ``close()`` returns, not merely soon after: the grading goes on only then."""
    assert walls["alive_when_closed"] == []
    alive = [p for p in Path("/proc").glob("[0-9]*/cmdline")
             if b"MNIST_CHECKS_PROBE_CHILD" in _read(p)]
    assert alive == []


def test_waiting_for_a_sandbox_to_empty_outlasts_every_process_in_itspid_namespace():
    """``levels.wait_until_empty``: after bubblewrap is killed, the kernel kills everything in its PID
    namespace, a moment later; the wait returns only once none of 200 detached sleepers is left."""
    import shutil
    import signal
    import subprocess

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    spawn = "for i in $(seq 200); do setsid sleep 600 & done; echo ready; exec sleep 600"
    process = subprocess.Popen(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--dev", "/dev", "--proc", "/proc",
                                "--die-with-parent", "--", "sh", "-c", spawn], stdout=subprocess.PIPE,
                               start_new_session=True)
    assert process.stdout.readline().strip() == b"ready"
    namespaces = levels.sandbox_namespaces(process.pid)
    assert len(namespaces) == 1
    in_namespace = lambda: [pid for pid in os.listdir("/proc") if pid.isdigit()  # noqa: E731
                            and levels.pid_namespace(int(pid)) in namespaces]
    assert len(in_namespace()) >= 200
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert levels.wait_until_empty(namespaces, seconds=30)
    assert in_namespace() == []


def test_no_file_of_the_package_a_fork_runs_with_holds_a_solution_line(tmp_path):
    """The fork's process gets a copy of the package: the starter's contract, and none of the
    modules that quote the reference (the mutation catalogue)."""
    from mnist_checks.grading.solutions import solution_lines

    path = tmp_path / "exercise.py"
    path.write_text("")
    contract = IsolatedContract(path, isolation=levels.UNISOLATED)
    secret = solution_lines(Path(exercise.__file__).read_text())
    try:
        files = [p for p in (contract._home / "lib").rglob("*") if p.is_file()]
        leaks = {str(p.name): sorted(line for line in secret if line in p.read_text(errors="replace"))
                 for p in files}
    finally:
        contract.close()
    assert len(secret) > 10 and len(files) > 10
    assert {name: lines for name, lines in leaks.items() if lines} == {}
    assert not contract._home.exists()


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_a_dead_process_waiting_to_be_reaped_counts_as_gone_from_its_namespace():
    """A zombie still names its PID namespace in /proc; where PID 1 never reaps (some containers), the
    sandbox's first process would stay one forever, and every grading would wait out the limit."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert levels.pid_namespace(pid) is None
        assert levels.pid_namespace(os.getpid()) == os.readlink("/proc/self/ns/pid")
    finally:
        os.waitpid(pid, 0)
