"""Files written whole or not at all, and content digests: the bottom layer every module may use.

Imports nothing of the package, so that any module can import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb"):
    """Open a new temporary file beside ``path``; rename it onto ``path`` only if the block ends
    without an exception, else remove it: a reader sees the old file or the new one, never half of
    one. The file gets the permissions the user's umask gives any new file."""
    path = Path(path)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    handle = os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), mode)
    try:
        with handle:
            yield handle
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (``atomic_file``)."""
    with atomic_file(path, "wb") as handle:
        handle.write(data)


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()
