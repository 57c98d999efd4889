"""Where this installation's package and reference checkout are (``pip install -e .``).

The bottom layer: imports nothing of the package (this module's own path is the package's).
"""

from __future__ import annotations

import site
import sysconfig
from pathlib import Path


def package_dir() -> Path:
    """The installed ``mnist_checks`` package's folder."""
    return Path(__file__).resolve().parent


def reference_root() -> Path:
    """The checkout the package was installed from: the instructor's reference, holding tests/
    beside the package (an editable install), or site-packages where it was installed as a wheel."""
    return package_dir().parent


def installed_copies() -> list[Path]:
    """Every ``mnist_checks`` folder this Python's environment holds: this one, and any installed
    into its site-packages (a wheel's, which holds the solutions, even where this process imports
    another copy first, as a checker importing the canonical copy does)."""
    sites = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}
    found = [package_dir()] + [Path(folder) / "mnist_checks" for folder in sorted(filter(None, sites))]
    return list(dict.fromkeys(path.resolve() for path in found if path.is_dir()))
