"""Process groups: killing one whole, and a child that dies with its parent (Linux).

The bottom layer: imports nothing of the package.
"""

from __future__ import annotations

import os
import signal


def _prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _prctl()
#: Linux's prctl option that sends a signal to a process when the thread that started it ends.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before it runs: be killed when the thread that started it ends, so that a
    parent killed mid-work leaves no child behind (Linux's PR_SET_PDEATHSIG; nothing elsewhere)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_group(process, *, wait: bool = True) -> None:
    """SIGKILL the process group that ``process`` (a ``Popen`` started with
    ``start_new_session=True``) leads, then the process itself, in case it was killed before it made
    its own session; wait for it unless told not to."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if wait:
        process.kill()
        process.wait()
