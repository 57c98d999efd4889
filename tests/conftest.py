"""Fixtures of the data tests (``test_data_*.py``): files in either layout, a loopback server;
of the variants tests: a contract's source loaded as a fork's; and of the grading tests: a graded
fork's result, graded tests as the checker logs them, and the course the e2e tier grades once
(``course``: tests/course.py)."""

from pathlib import Path

import numpy as np
import pytest


def write_digits(path, X, y, n_train=None) -> Path:
    """Write ``(X, y)`` in the layout that ``path``'s suffix names: .npz, .csv or .csv.zip."""
    import zipfile

    import pandas as pd

    path = Path(path)
    if path.name.endswith(".npz"):
        n_train = len(X) * 6 // 7 if n_train is None else n_train
        images = np.asarray(X).reshape(-1, 28, 28)
        np.savez(path, x_train=images[:n_train], y_train=y[:n_train], x_test=images[n_train:], y_test=y[n_train:])
        return path
    frame = pd.DataFrame(np.asarray(X), columns=[f"pixel{i}" for i in range(784)])
    frame.insert(0, "label", y)
    text = frame.to_csv(index=False)
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("digits.csv", text)
    else:
        path.write_text(text)
    return path


@pytest.fixture(name="write_digits")
def write_digits_fixture():
    """A function writing digits in either layout, for tests that build their own files."""
    return write_digits


@pytest.fixture
def http_server(tmp_path):
    """A loopback HTTP server over a fresh directory; ``.requests`` lists the paths it served.

    ``/truncated/NAME`` promises 100,000 bytes and sends 10 before hanging up: an interrupted
    download.
    """
    import functools
    import http.server
    import threading

    root = tmp_path / "served"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            if self.path.startswith("/truncated/"):
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"PK\x03\x04 only")
                self.wfile.flush()
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.root, server.requests = root, requests
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def load_source(tmp_path, monkeypatch):
    """A function importing a contract's source as a fork's contract; the module it replaces comes
    back after the test."""
    import sys

    from mnist_checks.grading.contract import MODULE, load_contract

    monkeypatch.delitem(sys.modules, MODULE, raising=False)

    def loaded(source: str):
        path = tmp_path / "exercise.py"
        path.write_text(source)
        return load_contract(path)

    return loaded


def a_result():
    """A graded fork, alice: Q1 half passed, with a warning."""
    from mnist_checks.grading.course import results
    from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC, score_tests

    tests = [
        {"id": "t::a", "question": "q1", "tier": "fast", "claim": "split sizes", "outcome": "passed"},
        {"id": "t::b", "question": "q1", "tier": "fast", "claim": "deterministic", "outcome": "failed",
         "message": "AssertionError: expected 10000 test rows, found 14000"},
    ]
    return results.ForkResult(fork="alice", path="/forks/alice", status="graded", commit="abc123",
                             tests=score_tests(tests, DEFAULT_RUBRIC), warnings=["edited tests/test_q1_split.py"])


@pytest.fixture(name="a_result")
def a_result_fixture():
    """A function returning a graded fork's result (the results, gradebook and batch tests)."""
    return a_result


def graded_starter_tests(raised: dict[str, str]) -> list[dict]:
    """Graded tests as the checker logs them: each test's question and what it raised
    (``"passed"``, an exception's type, or ``NotImplementedError`` raised by a contract function)."""
    tests = []
    for question, what in raised.items():
        for i in range(3):
            test = {"id": f"t::{question}{i}", "question": question, "tier": "fast", "claim": "a claim.",
                    "outcome": "passed" if what == "passed" else "failed", "phase": "call" if i else "setup"}
            if what.endswith("()"):
                test.update(error="NotImplementedError", raised_by=what[:-2],
                            message=f"not implemented yet: {question.upper()}: {what[:-2]} is not implemented yet")
            elif what != "passed":
                test.update(error=what, message=f"{what}: something else")
            tests.append(test)
    return tests


@pytest.fixture
def starter_run():
    """A function returning graded tests as the checker logs them (the rubric and batch tests)."""
    return graded_starter_tests


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """The e2e tier's graded course (tests/course.py), graded once per session: every test that
    reads it is in the xdist group ``course``, so one pytest-xdist worker grades it."""
    from course import grade_course
    from helpers import require_sandbox

    require_sandbox()
    return grade_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def uid_course(tmp_path_factory):
    """The course's students, sandbox cases and hostile family graded again at isolation ``uid``
    (issue 33), in the same xdist group ``course``."""
    from course import grade_course
    from helpers import require_uid

    require_uid()
    return grade_course(tmp_path_factory.mktemp("uid-course"), isolation="uid")
