"""The notebook starter as a student uses it (issue 32): ``mnist-checks starter --notebook``'s
``mnist_checks/exercise.ipynb`` answered cell by cell and run top to bottom in a real Jupyter
kernel, its last cell checking the work; and its untouched fast run, the module starter's."""

import ast
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from course import REFERENCE_ROOT, SOURCE

from mnist_checks.grading.contract import FUNCTIONS
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC
from mnist_checks.grading.students.starter import write_starter
from mnist_checks.notebook import NOTEBOOK
from mnist_checks.questions import QUESTIONS, label

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def student_environment(checkout) -> dict:
    """A student's environment in ``checkout``: its own package first (as `pip install -e .` there
    makes it), and nothing of the pytest run that tests it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    return {**env, "PYTHONPATH": str(checkout)}


def answered(notebook):
    """``notebook`` with each contract function's cell replaced by the reference's function."""
    reference = {node.name: ast.get_source_segment(SOURCE, node) for node in ast.parse(SOURCE).body
                 if isinstance(node, ast.FunctionDef)}
    for cell in notebook.cells:
        try:
            body = ast.parse(cell.source).body if cell.cell_type == "code" else []
        except SyntaxError:
            continue  # the last cell's shell line
        if len(body) == 1 and getattr(body[0], "name", None) in FUNCTIONS:
            cell.source = reference[body[0].name]
    return notebook


def fast_run(checkout) -> str:
    """What `pytest -m fast` run in ``checkout`` prints, its duration left out."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "fast", "-q", "-p", "no:cacheprovider"], cwd=checkout,
                          env=student_environment(checkout), capture_output=True, text=True, timeout=600)
    return re.sub(r" in [\d.]+s( \(.*\))?$", "", (done.stdout + done.stderr).strip(), flags=re.MULTILINE)


def without_contract_checked(output: str) -> tuple[str, list[str]]:
    """``output`` without its section "the contract checked", and that section's lines."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "the contract checked" in line), len(lines))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(("contract:", "  "))), start)
    return "\n".join(lines[:start] + lines[end:]), lines[start + 1:end]


def test_the_reference_answers_pasted_into_the_notebook_run_top_to_bottom_and_its_last_cell_gives_full_fast_points(
        tmp_path):
    """A student who answers every question in the notebook starter runs it top to bottom in Jupyter without an
    error, and its last cell checks the saved notebook (not exercise.py) and gives every fast point."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    starter = tmp_path / "starter"
    write_starter(REFERENCE_ROOT, starter, notebook=True)
    notebook = answered(nbformat.read(starter / NOTEBOOK, as_version=4))
    nbformat.write(notebook, starter / NOTEBOOK)  # saved, as the last cell's markdown asks
    # ipykernel's own kernel on this Python (no kernelspec of the machine's, none installed)
    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    NotebookClient(notebook, timeout=600, kernel_name="python3", km=kernel,
                   resources={"metadata": {"path": str(starter / "mnist_checks")}}).execute(
        env=student_environment(starter))
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert errors == []
    last = ANSI.sub("", "".join(output.get("text", "") for output in notebook.cells[-1].outputs)).replace("\r\n", "\n")
    assert "contract: mnist_checks/exercise.ipynb" in last, last[-3000:]
    fast = {q: DEFAULT_RUBRIC[q]["fast"] for q in QUESTIONS}
    for q in QUESTIONS:
        line = re.search(rf"^{label(q)} +([\d.]+)/([\d.]+) +fast (\d+)/(\d+) tests$", last, re.MULTILINE)
        assert line and float(line[1]) == float(line[2]) == fast[q] and line[3] == line[4], last[-3000:]
    total = sum(fast.values())
    assert f"\ntotal {total:.1f}/{total:g} (fast tier)\n" in last, last[-3000:]
    assert re.search(r"^\d+ passed, \d+ deselected in ", last, re.MULTILINE), last[-3000:]


def test_an_untouched_notebook_starters_fast_run_reports_as_the_module_starters_and_says_exercise_py_is_checked(
        tmp_path):
    """The notebook starter, untouched, gets the module starter's run (every question not started, the same
    lines), and says that it checked exercise.py: its notebook answers nothing."""
    write_starter(REFERENCE_ROOT, tmp_path / "module")
    write_starter(REFERENCE_ROOT, tmp_path / "notebook", notebook=True)
    with ThreadPoolExecutor(2) as runs:
        module, notebook = runs.map(fast_run, [tmp_path / "module", tmp_path / "notebook"])
    assert all(f"{label(q)}   0.0/" in module for q in QUESTIONS) and "not implemented" in module, module[-3000:]
    assert without_contract_checked(module) == (module, [])
    assert without_contract_checked(notebook) == (module, ["contract: mnist_checks/exercise.py"]), notebook[-3000:]
