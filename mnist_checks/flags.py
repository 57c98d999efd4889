"""Environment flags (``MNIST_CHECKS_RETRAIN``, ``MNIST_CHECKS_VERBOSE``, ...): one reading of
"set" for all of them. The bottom layer: imports nothing of the package."""

from __future__ import annotations

import os


def flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to anything but "" or "0"."""
    return os.environ.get(name, "") not in ("", "0")
