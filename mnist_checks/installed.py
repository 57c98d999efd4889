"""Where this installation's package and reference checkout are (``pip install -e .``).

The bottom layer: imports nothing of the package (this module's own path is the package's).
"""

from __future__ import annotations

from pathlib import Path


def package_dir() -> Path:
    """The installed ``mnist_checks`` package's folder."""
    return Path(__file__).resolve().parent


def reference_root() -> Path:
    """The checkout the package was installed from: the instructor's reference, holding tests/
    beside the package (an editable install), or site-packages where it was installed as a wheel."""
    return package_dir().parent
