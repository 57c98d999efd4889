"""A fork's contract seen from the checker: the same functions, answered by a student server.

``IsolatedContract`` has the contract's API (``split``, ``build_mlp``, ``predicted_digits``,
``scale``, ``to_images``, ``build_cnn``), so the spec suite runs unchanged against it; but no
line of the fork runs in the checker.  Every call goes to ``mnist_checks.grading.sandbox.server`` in a
separate ``python -I`` process (sandboxed by ``mnist_checks.grading.sandbox.levels`` where the host
allows) and comes back as data: arrays, or a model description the checker validates and
rebuilds with its own code, or the fork's exception as its type and message.  A call that hangs
past its limit or kills the server fails that call alone; the next call starts a new server.
"""

from __future__ import annotations

import builtins
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from ...architecture import Refused
from ...installed import package_dir
from ...processes import kill_group
from ...replies import UnreadableReply
from ..contract import BUILDERS, FUNCTIONS, INPUT_SHAPES
from ..limits import Limits
from ..solutions import instructors_only, starter_source
from . import budget, description, fork_user, levels, preloaded, wire

#: pytest leaves this module's frames out of a failing test's traceback: the proxy's workings say
#: nothing to a student, whose fork's exception comes with its own message and line (``--full-trace`` shows them).
__tracebackhide__ = True
#: Exceptions a fork's call re-raises in the checker as themselves; any other is a ``ForkError``.
PLAIN_ERRORS = frozenset({
    "ValueError", "TypeError", "NotImplementedError", "IndexError", "KeyError", "AttributeError",
    "ZeroDivisionError", "AssertionError", "RuntimeError", "MemoryError", "ArithmeticError", "OverflowError",
    "ImportError", "ModuleNotFoundError", "NameError", "UnboundLocalError", "SyntaxError", "IndentationError",
    "RecursionError", "OSError", "FileNotFoundError", "PermissionError", "LookupError", "SystemExit",
})


class ForkError(RuntimeError):
    """An exception of the fork's own that has no built-in equivalent, or a server that died or hung."""


class IsolatedContract:
    """The contract of the fork at ``contract`` (a file), called through a student server."""

    def __init__(self, contract: str | Path, *, isolation: levels.Isolation, limits: Limits = Limits()):
        self.contract = Path(contract).resolve()
        self.isolation = isolation
        self.call_seconds, self.start_seconds = limits.call_seconds, limits.start_seconds
        self.memory_mb, self.output_bytes = limits.memory_mb or 0, limits.output_bytes
        self.cpu_seconds = int(max(self.call_seconds, self.start_seconds) * 8)
        self._process = None
        self._built: dict = {}  # model id -> rebuilt layers, for layers shared between builds
        self._described: dict = {}  # model id -> its layers' descriptions, for the budget of later builds
        self._strikes: dict[str, list[str]] = {}  # function -> why it died or hung
        self._seed = 0
        self._load_error = None
        self._output_total = 0
        self.unended: list[str] = []  # sandboxes whose processes outlived the wait: said in the fork's row
        # isolation uid: the fork's own uid, and its home where that uid can reach it (fork_user.HOMES)
        self._user = fork_user.ForkUser() if isolation.level == levels.UID else None
        self._home = Path(tempfile.mkdtemp(prefix=self._user.home_prefix, dir=fork_user.homes()) if self._user
                          else tempfile.mkdtemp(prefix="mnist-checks-server-"))
        self._write_files()

    # --- the contract (Q1-Q5): ``split``, ``build_mlp``, ... are set below, from ``FUNCTIONS`` -------

    # --- lifecycle --------------------------------------------------------------------------

    def check_loaded(self) -> None:
        """Start the server; raise what the fork's contract raised at import, if it did not load."""
        self._start()
        if self._load_error:
            raise self._exception(self._load_error, "importing the contract")

    def set_remote_seed(self, seed: int) -> None:
        """Seed the fork's process (initial weights) as ``compat.set_seed`` seeds the checker's."""
        self._seed = int(seed)
        if self._process is not None and self._process.poll() is None:
            self._exchange({"call": "seed", "seed": self._seed}, {}, "seed", self.call_seconds, budget.HEADERS_BYTES,
                           "no arrays")

    def close(self) -> None:
        """Stop the server and every process it started; remove its files (and, at isolation
        ``uid``, every process and shared temporary file of its uid)."""
        self._stop()
        shutil.rmtree(self._home, ignore_errors=True)
        if self._user is not None:
            self.unended += self._user.release()
            self._user = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<IsolatedContract {self.contract.name} ({self.isolation.level})>"

    # --- the calls --------------------------------------------------------------------------

    def _call(self, name: str, args: tuple, kwargs: dict):
        if self._strikes.get(name) and (len(self._strikes[name]) >= 2 or "hung" in self._strikes[name][-1]):
            raise ForkError(f"{name}() is not called again: {self._strikes[name][-1]}")
        self._start()
        if self._load_error:
            raise self._exception(self._load_error, "importing the contract")
        arrays: dict = {}
        request = {
            "call": name,
            "args": [wire.pack(np.asarray(a) if _array_like(a) else a, arrays) for a in args],
            "kwargs": {k: wire.pack(v, arrays) for k, v in kwargs.items()},
            "read_only": [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and not a.flags.writeable],
        }
        bound, why = budget.reply_bound(name, args, kwargs)
        reply, out = self._exchange(request, arrays, name, self.call_seconds, bound, why)
        if "error" in reply:
            error = self._exception(reply, f"{name}()")
            error.contract_function = name  # the function whose call raised it (pytest_plugin: not implemented yet)
            raise error
        for index, packed in (reply.get("changed_arguments") or {}).items():
            original = args[int(index)]
            changed = wire.unpack(packed, out)
            if isinstance(original, np.ndarray) and original.flags.writeable and original.shape == changed.shape:
                np.copyto(original, changed, casting="unsafe")  # the fork changed its argument: so do we
        return self._value(reply.get("value"), out, name)

    def _value(self, value, arrays: dict, name: str):
        if isinstance(value, dict) and set(value) == {"model"}:
            spec = value["model"]
            try:
                weights = [wire.unpack(w, arrays) for w in spec.pop("weights", [])] if isinstance(spec, dict) else []
                if name not in BUILDERS:
                    raise Refused(f"{name}() returns data, never a model")
                description.validate(spec)
                layers = budget.check_model(spec, INPUT_SHAPES[name], self._described)
                model = description.rebuild(spec, weights, self._built)
                self._described[spec["id"]] = layers
                return model
            except Refused as error:
                raise Refused(f"the grader refused the model {name} returned: {error}") from None
        return wire.unpack(value, arrays)

    def _exchange(self, request: dict, arrays: dict, name: str, seconds: float,
                  bound: int = wire.MAX_ARRAY_BYTES, why: str = ""):
        """Send one request and wait for its reply, of at most ``bound`` bytes of arrays (``why``
        says what the call may return); a hang, a death or a reply too large is a ``ForkError``."""
        process = self._process
        answer: queue.Queue = queue.Queue()

        def talk():
            try:
                process.stdin.write(wire.encode(request, arrays))
                process.stdin.flush()
                answer.put(wire.read(process.stdout, bound))
            except BaseException as error:  # a broken pipe, a closed stream, a protocol error
                answer.put(error)

        threading.Thread(target=talk, daemon=True).start()
        try:
            got = answer.get(timeout=seconds)
        except queue.Empty:
            self._strike(name, f"{name}() hung: no answer within {seconds:g} s")
            raise ForkError(self._strikes[name][-1]) from None
        if isinstance(got, wire.TooLarge):
            self._strike(name, f"{name}() replied with more than it can return: {got}; it may return {why}")
            raise ForkError(self._strikes[name][-1])
        if isinstance(got, wire.WireError):
            self._strike(name, f"{name}() broke the protocol: {got}")
            raise ForkError(self._strikes[name][-1])
        if isinstance(got, BaseException):
            self._strike(name, f"the fork's process died during {name}(){self._death()}")
            raise ForkError(self._strikes[name][-1])
        message, out = got
        if not isinstance(message, dict):
            raise ForkError(f"{name}(): a reply that is not a JSON object")
        return message, out

    def _strike(self, name: str, why: str) -> None:
        self._strikes.setdefault(name, []).append(why)
        self._stop()

    def _death(self) -> str:
        process = self._process
        if process is None:
            return ""
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (memory or CPU limit?)" if name in ("SIGKILL", "SIGABRT", "SIGSEGV", "SIGXCPU") else ""
            return f" of {name}{hint}"
        # bubblewrap passes on the exit status; 128 + n is a signal inside the sandbox
        if code > 128 and code - 128 < signal.NSIG:
            return f" of {signal.Signals(code - 128).name}" if code - 128 in signal.Signals._value2member_map_ else ""
        return f" (exit status {code})"

    @staticmethod
    def _exception(reply: dict, during: str) -> BaseException:
        error = reply.get("error") or {}
        kind, message = str(error.get("type", "Exception")), str(error.get("message", ""))
        where = f" ({error['where']})" if error.get("where") else ""
        if where and message.endswith(where):  # a SyntaxError's own message says where it is already
            where = ""
        if kind == UnreadableReply.__name__:  # the harness's own refusal, read in the fork's process
            return UnreadableReply(message)
        if kind in PLAIN_ERRORS:
            if kind == "SystemExit":
                return ForkError(f"the fork called sys.exit({message}) during {during}{where}")
            exception = getattr(builtins, kind)(message + where if kind != "KeyError" else message)
            return exception
        return ForkError(f"{kind}: {message}{where}")

    # --- the server process -----------------------------------------------------------------

    def _write_files(self) -> None:
        """The solution-free package (the starter's) and a copy of the contract, for the server."""
        package = package_dir()
        lib = self._home / "lib" / "mnist_checks"
        shutil.copytree(package, lib, ignore=without_solutions(package))
        (lib / "exercise.py").write_text(starter_source((package / "exercise.py").read_text()))
        (self._home / "fork").mkdir()
        shutil.copyfile(self.contract, self._home / "fork" / "exercise.py")
        for path in [self._home, *self._home.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        if self._user is not None:  # readable by the fork's group alone; its scratch folder its own
            (self._home / "tmp").mkdir()
            self._user.give(self._home)
            self._user.give(self._home / "tmp", writable=True)

    def _start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self._stop()
        ready = preloaded.take_ready_server() if self.isolation.level == levels.PRELOADED.level else None
        as_user = {}
        if self.isolation.level == levels.BUBBLEWRAP:
            inner = levels.python_command(levels.LIB, levels.FORK / "exercise.py", self.memory_mb, self.cpu_seconds)
            command = levels.bwrap_command(self._home / "lib", self._home / "fork" / "exercise.py", inner)
            env, cwd = {}, None
        elif self._user is not None:
            scratch = self._home / "tmp"
            command = levels.python_command(self._home / "lib", self._home / "fork" / "exercise.py",
                                             self.memory_mb, self.cpu_seconds, own_uid=True)
            env, cwd, as_user = levels.server_environment(str(scratch)), scratch, self._user.popen_options()
        else:
            scratch = self._home / "tmp"
            scratch.mkdir(exist_ok=True)
            command = levels.python_command(self._home / "lib", self._home / "fork" / "exercise.py",
                                             self.memory_mb, self.cpu_seconds)
            env, cwd = levels.server_environment(str(scratch)), scratch
            env["PATH"] = os.environ.get("PATH", env["PATH"])
        if ready is not None:  # forked with TensorFlow loaded: the same server, without the import
            ready.start(lib=self._home / "lib", contract=self._home / "fork" / "exercise.py",
                        memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds, env=env, cwd=cwd)
            self._process = ready
        else:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, env=env, cwd=cwd, close_fds=True,
                                             start_new_session=True, **as_user)
        threading.Thread(target=self._forward_output, args=(self._process.stderr,), daemon=True).start()
        hello, _ = self._exchange_hello()
        self._load_error = hello.get("load_error")
        if self._seed:
            self._exchange({"call": "seed", "seed": self._seed}, {}, "seed", self.call_seconds, budget.HEADERS_BYTES,
                           "no arrays")

    def _exchange_hello(self):
        answer: queue.Queue = queue.Queue()
        process = self._process

        def listen():
            try:
                answer.put(wire.read(process.stdout, budget.HEADERS_BYTES))
            except BaseException as error:
                answer.put(error)

        threading.Thread(target=listen, daemon=True).start()
        try:
            got = answer.get(timeout=self.start_seconds)
        except queue.Empty:
            self._stop()
            raise ForkError(f"the fork's process did not start within {self.start_seconds:g} s") from None
        if isinstance(got, BaseException) or not isinstance(got[0], dict):
            why = self._death()
            self._stop()
            raise ForkError(f"the fork's process died while starting{why}")
        return got

    def _forward_output(self, stream) -> None:
        """The fork's prints, up to ``output_bytes`` in all, onto the checker's standard error."""
        for chunk in iter(lambda: stream.read(65536), b""):
            room = self.output_bytes - self._output_total
            self._output_total += len(chunk)
            if room > 0:
                try:
                    os.write(2, chunk[:room])
                except OSError:
                    pass
        if self._output_total > self.output_bytes:
            try:
                os.write(2, f"\n[... {self._output_total - self.output_bytes:,} more bytes of the fork's output "
                            "left out]\n".encode())
            except OSError:
                pass
            self._output_total = self.output_bytes  # say it once

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        namespaces = levels.sandbox_namespaces(process.pid)  # before the kill: its processes, wherever they went
        for stream in (process.stdin,):
            try:
                stream.close()
            except OSError:
                pass
        kill_group(process, wait=False)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if not levels.wait_until_empty(namespaces):  # the fork's daemons are gone before the grading goes on
            self.unended.append("the sandbox's PID namespace still held processes 30 s after bubblewrap was killed")
        if self._user is not None and not fork_user.end_processes(self._user.uid):  # its daemons too
            self.unended.append(f"processes of uid {self._user.uid} outlived every kill")


def _answered_by_the_fork(name: str, question: str):
    """The contract function ``name`` of an ``IsolatedContract``: a call of the student server."""

    def call(self, *args, **kwargs):
        return self._call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{question}, answered by the fork" + (
        ": the model it built, rebuilt by the checker." if name in BUILDERS else ".")
    return call


for _name, _question in FUNCTIONS.items():
    setattr(IsolatedContract, _name, _answered_by_the_fork(_name, _question))


def without_solutions(package: Path):
    """``copytree``'s ``ignore`` for the installed ``package``: caches, and what ``instructors_only`` names."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        where = Path(folder).relative_to(package.parent).as_posix()
        return [name for name in names if name == "__pycache__" or name.endswith(".pyc")
                or instructors_only(f"{where}/{name}")]

    return ignore


def open_contract(path: str | Path, *, isolation: str = "auto", allow_unisolated: bool = False,
                  limits: Limits = Limits()) -> IsolatedContract:
    """The fork's contract at ``path`` (a checkout or a file) behind a student server.

    ``isolation`` is ``bubblewrap`` (sandboxed, or ``SandboxUnavailable``), ``uid`` (a uid of its
    own, as root: ``fork_user``), ``strongest`` (the first of those two this host gives),
    ``unisolated`` (a plain process), ``preloaded`` (the catalogue's own code: a plain process, the
    first one forked with TensorFlow loaded: ``preloaded.ReadyServer``), or ``auto``: sandboxed
    where bubblewrap runs, else unisolated only if ``allow_unisolated`` says so.
    """
    from ..contract import contract_path

    level = levels.isolation_for(isolation, allow_unisolated and isolation == "auto")
    file = contract_path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no contract module at {file}")
    return IsolatedContract(file, isolation=level, limits=limits)


def _array_like(value) -> bool:
    return not isinstance(value, (np.ndarray, str, bytes, dict, list, tuple, int, float, bool, type(None))) and \
        hasattr(value, "__array__")
