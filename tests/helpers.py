"""What the tests share that is no fixture (issue 35): git as a student runs it, the kernel's log
read before and after, the sandbox's levels required or skipped, and a fork's probe of its walls.
Imported as tests/course.py is (``from helpers import git``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

#: Set (CI sets it), a test that needs a sandbox level this host cannot hold fails instead of skipping.
REQUIRE_SANDBOX_ENV = "MNIST_CHECKS_REQUIRE_SANDBOX"
#: How the kernel logs a kill by the machine-wide OOM killer ("Memory cgroup out of memory" is a cgroup's).
GLOBAL_OOM = "] Out of memory: Killed process"
#: An instructor's variable that no fork may see (the walls' probes look for it).
SECRET_VARIABLE = "MNIST_CHECKS_TEST_SECRET"


# --- git -----------------------------------------------------------------------------------------

def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    """git in ``repo`` as a student runs it: an identity of their own (A Student), neither the
    system's nor the user's configuration, none of the caller's ``GIT_*`` variables; ``when``
    dates a commit. Its output, stripped; a failing git raises ``CalledProcessError``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="A Student",
               GIT_AUTHOR_EMAIL="student@example.com", GIT_COMMITTER_NAME="A Student",
               GIT_COMMITTER_EMAIL="student@example.com")
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


# --- the kernel's log (issue 19) -----------------------------------------------------------------

def kernel_log() -> list[str] | None:
    """The kernel's log (dmesg) as lines; None where this host does not let it be read."""
    done = subprocess.run(["dmesg"], capture_output=True, text=True)
    return done.stdout.splitlines() if done.returncode == 0 else None


def lines_since(before: list[str], after: list[str]) -> list[str]:
    """The kernel log's new lines: each carries its timestamp, and once the ring buffer is full it
    drops its oldest, so ``after[len(before):]`` would be empty however much was logged."""
    seen = set(before)
    return [line for line in after if line not in seen]


def global_oom_kills(lines: list[str]) -> list[str]:
    """The lines that log a kill by the machine-wide OOM killer."""
    return [line for line in lines if GLOBAL_OOM in line]


# --- the sandbox's levels (issue 33) -------------------------------------------------------------

def require_sandbox():
    """Bubblewrap's isolation; skip where bubblewrap cannot run, unless CI requires the sandbox
    (``MNIST_CHECKS_REQUIRE_SANDBOX``: then fail with the reason)."""
    from mnist_checks.grading.sandbox import levels

    return required("bubblewrap", levels.probe)


def require_uid():
    """Isolation ``uid``'s; skip where it cannot hold (not root; a Python other uids cannot run),
    unless CI requires the sandbox (then fail with the reason)."""
    from mnist_checks.grading.sandbox import levels

    return required("uid", levels.probe_uid)


def required(level: str, probe: Callable):
    """``probe()``'s isolation, or a skip naming ``level`` and why it cannot hold here (a failure
    where ``MNIST_CHECKS_REQUIRE_SANDBOX`` is set)."""
    from mnist_checks.grading.sandbox import levels

    try:
        return probe()
    except levels.SandboxUnavailable as error:
        if os.environ.get(REQUIRE_SANDBOX_ENV):
            raise
        pytest.skip(f"isolation {level} cannot hold here: {error}; set {REQUIRE_SANDBOX_ENV}=1 to fail instead")


# --- the walls, as a fork's probe sees them ------------------------------------------------------

#: A fork's probe of its walls, below what the level's own probe defines: ``seen_here()`` (what it
#: sees of itself), ``READ`` (paths it tries to read or list), ``writable()`` (paths it tries to
#: write) and ``CHILD`` (the mark of the detached child it leaves); ``PORT`` is a loopback listener's.
#: Its ``split`` raises ``ValueError`` with all it saw, as JSON.
WALLS_PROBE = textwrap.dedent('''
    import json, os, socket, subprocess, sys

    def split(*arrays, **kwargs):
        seen = seen_here()
        for path in READ:
            try:
                seen[path] = "read" if os.path.isfile(path) and open(path).read() else os.listdir(path)
            except OSError as error:
                seen[path] = type(error).__name__
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
            seen["network"] = "connected"
        except OSError as error:
            seen["network"] = type(error).__name__
        for path in writable():
            try:
                open(path, "w").close()
                seen[path] = "written"
            except OSError as error:
                seen[path] = type(error).__name__
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # " + CHILD], start_new_session=True)
        raise ValueError(json.dumps(seen))
''')


def probe_walls(path: Path, probe: str, serve: Callable, close: Callable[..., dict]) -> dict:
    """What a fork sees of its walls: ``probe`` (what the level's probe defines for ``WALLS_PROBE``)
    and ``WALLS_PROBE`` are written to ``path`` as a contract, served by ``serve(path)`` with an
    instructor's variable set, and its ``split`` called; ``close(served)`` ends it and returns what
    else to keep. Returns those, ``seen`` and ``connected`` (whether the loopback listener was reached)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    path.write_text(f"PORT = {listener.getsockname()[1]}\n" + probe + WALLS_PROBE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_VARIABLE, "s3cret")
        served = serve(path)
        with pytest.raises(ValueError) as raised:
            served.split(np.arange(3))
        kept = close(served)
    try:
        listener.accept()
        connected = True
    except OSError:
        connected = False
    listener.close()
    seen = json.loads(str(raised.value).rsplit(" (exercise.py", 1)[0])
    return {"seen": seen, "connected": connected, **kept}
