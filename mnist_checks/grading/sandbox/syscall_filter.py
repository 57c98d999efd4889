"""The student server's seccomp filter at isolation ``uid``: no network without a network namespace.

Where bubblewrap cannot start (no user namespaces, as under Docker's default seccomp profile),
the server still refuses itself every socket but ``AF_UNIX`` before any of a fork's code runs:
``socket()`` of any other family fails with ``EACCES``, as a host without network would answer.
``io_uring_setup`` fails too (io_uring opens sockets without calling ``socket()``), and so do the
calls that would reach other processes' memory or the kernel's keyrings.  Loading the filter sets
``no_new_privs``: no setuid program and no file capability raises the fork's privileges again, and
a filter cannot be removed, only added to.

Written with libseccomp's Python bindings (Debian's ``python3-seccomp``), or ``pyseccomp``, the
same API over ``libseccomp.so.2`` with ctypes.  Stdlib and the binding only: the probe runs this
file alone (``python -I syscall_filter.py``) as the fork's uid.
"""

from __future__ import annotations

import errno
import socket

try:
    import seccomp
except ImportError:  # pragma: no cover - the binding this project installs
    try:
        import pyseccomp as seccomp
    except ImportError:
        seccomp = None

#: Refused outright: io_uring (sockets without ``socket()``), other processes' memory, kernel
#: keyrings, new namespaces and mounts, BPF programs, performance counters, kernel modules.
REFUSED = ("io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace", "process_vm_readv",
           "process_vm_writev", "add_key", "request_key", "keyctl", "unshare", "setns", "mount", "umount2",
           "pivot_root", "bpf", "perf_event_open", "init_module", "finit_module", "userfaultfd")
#: What the probe prints when the filter holds: a socket refused, a Unix socket allowed.
HELD = "network refused, AF_UNIX allowed"


class FilterUnavailable(RuntimeError):
    """No seccomp binding, or the kernel refused the filter."""


def refuse_network() -> None:
    """Load the filter into this process (and every process it starts): only ``AF_UNIX`` sockets."""
    if seccomp is None:
        raise FilterUnavailable("no seccomp binding: pip install pyseccomp (or apt-get install python3-seccomp), "
                                "and the system's libseccomp2")
    try:
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        for name in REFUSED:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        rules.load()
    except (OSError, RuntimeError, ValueError) as error:
        raise FilterUnavailable(f"the kernel refused the seccomp filter: {error}") from None


def check() -> str:
    """Load the filter, then try a TCP and a Unix socket; ``HELD`` where both answer as they must."""
    refuse_network()
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        pass
    else:
        return "a TCP socket opened under the filter"
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    return HELD


if __name__ == "__main__":  # the probe, as the fork's uid
    try:
        print(check())
    except FilterUnavailable as error:
        print(error)
