"""Loading a fork's implementation of the contract (``mnist_checks/exercise.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ..facts import IMAGE_SHAPE, N_PIXELS

#: Where a checkout keeps the contract: the one file a student writes.
CONTRACT = Path("mnist_checks") / "exercise.py"
#: The contract's functions and their questions (``mnist_checks/exercise.py``); builders return models.
FUNCTIONS = {"split": "q1", "build_mlp": "q2", "predicted_digits": "q3", "scale": "q4", "to_images": "q5",
             "build_cnn": "q5"}
BUILDERS = frozenset({"build_mlp", "build_cnn"})
#: The inputs each builder's model takes (batch left out): an unbuilt model is built on them.
INPUT_SHAPES = {"build_mlp": (N_PIXELS,), "build_cnn": IMAGE_SHAPE}
#: The module name a fork's contract is loaded under: inside the installed package, so that its
#: relative imports (``from .compat import keras``) use the instructor's compat and facts.
MODULE = "mnist_checks._implementation_under_test"


def contract_path(path: str | Path) -> Path:
    """The contract file of a checkout (or the file itself)."""
    path = Path(path)
    return path / CONTRACT if path.is_dir() else path


def load_contract(path: str | Path):
    """Import a fork's contract module from ``path`` (a checkout or a .py file)."""
    file = contract_path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no contract module at {file}")
    spec = importlib.util.spec_from_file_location(MODULE, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module
    spec.loader.exec_module(module)
    return module
