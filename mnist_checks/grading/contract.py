"""Loading a fork's implementation of the contract (``mnist_checks/exercise.py``), or of its
notebook (``mnist_checks/exercise.ipynb``, ``mnist_checks.notebook``): which one a checkout hands in."""

from __future__ import annotations

import ast
import atexit
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..facts import IMAGE_SHAPE, N_PIXELS
from ..notebook import NOTEBOOK, Contract, NotebookRefused, contract_from_notebook, read_notebook

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


def implements_any(source: str) -> bool:
    """Whether a contract's source answers a question: it defines one of ``FUNCTIONS`` with a body
    other than the starter's ``raise NotImplementedError``. A source that does not parse does (its
    author wrote something: the grade says what is wrong with it)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in FUNCTIONS:
            body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and isinstance(
                getattr(node.body[0], "value", None), ast.Constant) else node.body
            if not (len(body) == 1 and isinstance(body[0], ast.Raise) and _names_not_implemented(body[0])):
                return True
    return False


def _names_not_implemented(statement: ast.Raise) -> bool:
    raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def choose(module: str | None, notebook: str | None) -> tuple[str, str]:
    """Which file of a checkout is graded, ``"module"`` (exercise.py) or ``"notebook"`` (the module
    built from exercise.ipynb), and a note saying so where both are there. Either alone is graded;
    of both, the one that answers a question where the other is still the starter's; where both
    answer, the module, with a note to delete one. The grader and a student's own run agree."""
    if notebook is None:
        return "module", ""
    if module is None:
        return "notebook", ""
    if not implements_any(notebook):
        return "module", ""  # the notebook is the starter's (or answers nothing): so is the grade either way
    if not implements_any(module):
        return "notebook", "graded exercise.ipynb: exercise.py is the starter's"
    return "module", ("graded exercise.py: it and exercise.ipynb both answer questions; delete the one you do not "
                      "hand in")


@dataclass
class Picked:
    """What of a checkout is graded (``pick``): the module's source, from which file, and why."""

    source: str | None  # the contract module to grade; None where there is none
    file: Path  # CONTRACT, or NOTEBOOK (the module built from it)
    note: str = ""  # which file was graded and why, where a checkout holds both
    notebook: Contract | None = None  # the notebook's build: what it left out, its lines to cite
    problem: str = ""  # why nothing is graded, where source is None


def pick(module: str | None, notebook: bytes | None) -> Picked:
    """The contract of a checkout holding ``module`` (exercise.py's text) and ``notebook``
    (exercise.ipynb's bytes), either None where absent (``choose``). A notebook the grader refuses
    (``read_notebook``'s rules) leaves the module, with a note; or, where the module answers
    nothing, that refusal is the problem."""
    if notebook is None:
        return Picked(module, CONTRACT, problem="" if module is not None else f"no contract: {CONTRACT} is missing")
    try:
        built = contract_from_notebook(read_notebook(notebook))
    except NotebookRefused as error:
        if module is not None and implements_any(module):
            return Picked(module, CONTRACT, note=f"graded exercise.py: exercise.ipynb is refused ({error})")
        return Picked(None, NOTEBOOK, problem=f"{NOTEBOOK} is refused: {error}")
    which, note = choose(module, built.source)
    if which == "module":
        return Picked(module, CONTRACT, note=note)
    return Picked(built.source, NOTEBOOK, note=note, notebook=built)


def contract_path(path: str | Path) -> Path:
    """The contract file of a checkout (``pick``: exercise.py, or the module built from
    exercise.ipynb, written to a file of its own), or the file itself (a .py, or a notebook built).
    Raises ``NotebookRefused`` for a notebook refused where nothing else answers."""
    path = Path(path)
    if path.is_dir():
        module, notebook = path / CONTRACT, path / NOTEBOOK
        if not notebook.is_file():
            return module
        picked = pick(module.read_text(errors="replace") if module.is_file() else None, notebook.read_bytes())
    elif path.suffix == ".ipynb":
        picked = pick(None, path.read_bytes())
    else:
        return path
    if picked.source is None:
        raise NotebookRefused(picked.problem)
    return path / CONTRACT if picked.file == CONTRACT else _written(picked.source)


def described(checkout: str | Path) -> list[str]:
    """Which file of ``checkout`` (or a notebook given alone) is graded and, for a notebook, what
    of it is left out: the lines a student's run shows after the points (as the grader's feedback
    lists them)."""
    checkout = Path(checkout)
    if checkout.suffix == ".ipynb":  # a notebook given alone
        picked = pick(None, checkout.read_bytes())
    else:
        module = checkout / CONTRACT
        picked = pick(module.read_text(errors="replace") if module.is_file() else None,
                      (checkout / NOTEBOOK).read_bytes())
    if picked.source is None:
        return [f"contract: none ({picked.problem})"]
    lines = [f"contract: {picked.file}" + (", its definitions" if picked.notebook else "")
             + (f" ({picked.note})" if picked.note else "")]
    return lines + [f"  {line}" for line in (picked.notebook.left_out if picked.notebook else [])]


def _written(source: str) -> Path:
    """A module built from a notebook, in a new file of this process's (removed when it ends)."""
    descriptor, name = tempfile.mkstemp(prefix="mnist_checks-notebook-", suffix=".py")
    with os.fdopen(descriptor, "w") as file:
        file.write(source)
    atexit.register(os.unlink, name)
    return Path(name)


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
