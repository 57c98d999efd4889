"""The student server: the one process that runs a fork's code, answering with data only.

Started by ``mnist_checks.grading.sandbox.isolated`` as ``python -I -c ...`` (inside the sandbox of
``mnist_checks.grading.sandbox.levels`` when grading), it sets its own limits, moves the protocol off
standard output, loads the fork's contract and then answers calls of the contract functions
(Q1-Q5) over its pipe in ``mnist_checks.grading.sandbox.wire``'s format: arrays and JSON for data,
``mnist_checks.grading.sandbox.description`` for models, the exception's type and message for errors.
The harness also measures side effects the checker cannot see from outside: an array argument
the call changed comes back as data.
"""

from __future__ import annotations

import os
import resource
import sys
import traceback

from ..contract import FUNCTIONS, INPUT_SHAPES  # the contract's functions: a client may call these, nothing else

#: The uid the sandbox runs forks as when the grader is root, and its cap on processes and
#: threads (all forks graded at once together; TensorFlow starts a few dozen threads each).
NOBODY = 65534
MAX_PROCESSES = 1024
#: The kernel's choice of whom to kill when memory runs out: the fork's process first, always.
OOM_SCORE_ADJ = 1000


def main(contract: str, memory_mb: int, cpu_seconds: int, own_uid: bool = False) -> None:
    """Serve the contract at ``contract``; ``own_uid``: this process's uid is the fork's alone
    (isolation ``uid``), so it caps the uid's processes and refuses itself the network
    (``syscall_filter``) before any of the fork's code runs."""
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the fork's prints go to the bounded output stream, never into the protocol
    _limit(memory_mb, cpu_seconds, own_uid)
    if own_uid:
        from .syscall_filter import refuse_network

        refuse_network()  # raises, and the server dies before loading the fork, if it cannot hold

    from . import wire

    server = Server(contract)
    wire.write(replies, server.hello())
    while True:
        try:
            request, arrays = wire.read(requests)
        except EOFError:
            return
        message, out = server.answer(request, arrays)
        try:
            wire.write(replies, message, out)
        except TypeError as error:  # an array kind the wire refuses
            wire.write(replies, _error(TypeError(f"{request.get('call')} returned {error}"), None))


def _limit(memory_mb: int, cpu_seconds: int, own_uid: bool = False) -> None:
    """Limits set by the harness before any fork code runs; the fork cannot raise them again."""
    wanted = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: 256 * 1024**2,  # no file over 256 MB
        resource.RLIMIT_NOFILE: 256,
    }
    if memory_mb:
        wanted[resource.RLIMIT_AS] = memory_mb * 1024**2
    if cpu_seconds:
        wanted[resource.RLIMIT_CPU] = cpu_seconds
    if own_uid or os.getuid() == NOBODY:
        # the uid is the sandbox's alone, so a cap on its processes stops a fork bomb and nothing
        # else; under a user's own uid it would count that user's every thread
        wanted[resource.RLIMIT_NPROC] = MAX_PROCESSES
    for limit, value in wanted.items():
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))
    try:  # when the grading's memory runs out (mnist_checks.grading.sandbox.memory), the fork's process dies first
        with open("/proc/self/oom_score_adj", "w") as adjust:
            adjust.write(str(OOM_SCORE_ADJ))
    except OSError:
        pass


class Server:
    def __init__(self, contract: str):
        self.contract_file = contract
        self.module = None
        self.load_error = None
        self.built = []  # every model built, kept alive so that ids of layers stay unique
        self.layers = {}  # id(layer) -> [model id, index]
        from ...compat import set_seed

        set_seed(0)  # the same fork builds the same initial weights in every grading run
        try:
            from ..contract import load_contract

            self.module = load_contract(contract)
        except BaseException as error:  # a fork that does not load: every call reports why
            self.load_error = _error(error, contract)

    def hello(self) -> dict:
        return {"ready": True, "load_error": self.load_error, "pid": os.getpid()}

    def answer(self, request, arrays) -> tuple[dict, dict]:
        from . import wire

        out: dict = {}
        call = request.get("call") if isinstance(request, dict) else None
        if call == "seed":
            from ...compat import set_seed

            set_seed(int(request["seed"]))
            return {"value": None}, out
        if self.load_error:
            return self.load_error, out
        if call not in FUNCTIONS:
            return _error(AttributeError(f"the contract has no function {call!r}"), None), out
        function = getattr(self.module, call, None)
        if not callable(function):
            return _error(AttributeError(f"the contract does not define {call}()"), None), out
        try:
            args = wire.unpack(request.get("args", []), arrays)
            for index in request.get("read_only", []):
                args[index].setflags(write=False)
            before = {i: a.copy() for i, a in enumerate(args) if hasattr(a, "copy") and hasattr(a, "dtype")}
            kwargs = {k: wire.unpack(v, arrays) for k, v in request.get("kwargs", {}).items()}
            value = function(*args, **kwargs)
            reply = {"value": self._pack(value, out, call)}
            changed = {str(i): wire.pack(args[i], out) for i, old in before.items()
                       if args[i].shape != old.shape or not _same(args[i], old)}
            if changed:
                reply["changed_arguments"] = changed
            return reply, out
        except BaseException as error:  # the fork's exception, whatever it is (SystemExit too), is data
            return _error(error, self.contract_file), {}

    def _pack(self, value, out: dict, call: str):
        from ...compat import keras
        from . import wire
        from .description import describe

        if isinstance(value, keras.Model):
            self.built.append(value)
            description, weights = describe(value, self.layers, len(self.built) - 1, INPUT_SHAPES.get(call))
            description["weights"] = [wire.pack(w, out) for w in weights]
            return {"model": description}
        from ...replies import read_reply

        value = read_reply(call, value)  # a list, a tuple or a tensor crosses as the array numpy reads
        try:
            return wire.pack(value, out)
        except TypeError as error:
            raise TypeError(f"returned {error}, which the grader cannot take back: return numpy arrays") from None


def _same(a, b) -> bool:
    import numpy as np

    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _error(error: BaseException, contract: str | None) -> dict:
    """An exception as data: its type's name, its message, and where in the contract it was raised."""
    where = None
    if contract:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == contract]
        if frames:
            where = f"exercise.py, line {frames[-1].lineno}, in {frames[-1].name}"
        elif isinstance(error, SyntaxError) and error.lineno:
            where = f"exercise.py, line {error.lineno}"
    try:
        message = str(error)
    except BaseException:  # an exception whose __str__ raises
        message = "(its message could not be read)"
    return {"error": {"type": type(error).__name__, "message": message[:4000], "where": where}}


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
