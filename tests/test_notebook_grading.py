"""A notebook handed in (``mnist_checks/exercise.ipynb``) goes the module's way through the grader:
the same points for the same definitions, its left-out statements listed, its errors named by
cell and line, and the row saying which file was graded. One `mnist-checks grade` call, sandboxed."""

import csv
import json

import nbformat
import pytest
from course import REFERENCE_ROOT, SOURCE
from helpers import require_sandbox

from mnist_checks import cli
from mnist_checks.grading.students.starter import write_starter
from mnist_checks.notebook import notebook_from_module

pytestmark = pytest.mark.e2e

#: A top-level cell as students write them: training, a plot, a shell line; all left out.
TRAINING_CELL = ("clf1 = build_mlp()\nclf1.fit(X_train, y_train, epochs=20)\n%matplotlib inline\n"
                 "!pip install tensorflow\nprint(clf1.summary())")
#: Q1 written wrong in a way that raises: the error's place is the notebook's cell and line.
RAISES = SOURCE.replace("def split(*arrays, random_state: int = SPLIT_RANDOM_STATE) -> list:\n",
                        "def split(*arrays, random_state: int = SPLIT_RANDOM_STATE) -> list:\n"
                        "    raise ValueError('my split is broken')\n", 1)


def notebook_fork(root, name, source, *, cells=(), module=None):
    """The starter with ``source`` as its notebook (plus ``cells``), and ``module`` as exercise.py if given."""
    fork = root / name
    write_starter(REFERENCE_ROOT, fork)
    notebook = notebook_from_module(source)
    notebook.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    (fork / "mnist_checks" / "exercise.ipynb").write_text(nbformat.writes(notebook))
    if module is not None:
        (fork / "mnist_checks" / "exercise.py").write_text(module)
    return fork


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_sandbox()
    root = tmp_path_factory.mktemp("notebooks")
    module = root / "as-module"
    write_starter(REFERENCE_ROOT, module)
    (module / "mnist_checks" / "exercise.py").write_text(SOURCE)
    forks = [module, notebook_fork(root, "as-notebook", SOURCE, cells=[TRAINING_CELL]),
             notebook_fork(root, "raises-in-a-cell", RAISES),
             notebook_fork(root, "both-answer", RAISES, module=SOURCE)]
    out = root / "grades"
    status = cli.main(["grade", *map(str, forks), "--out", str(out), "--jobs", "2"])
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    results = {name: json.loads((out / name / "results.json").read_text()) for name in book}
    return {"status": status, "book": book, "results": results, "out": out}


def test_a_notebook_gets_the_points_of_the_same_definitions_as_a_module(graded):
    book = graded["book"]
    assert book["as-notebook"]["total"] == book["as-module"]["total"] == book["as-module"]["max"]
    assert all(book["as-notebook"][q] == book["as-module"][q] for q in ("q1", "q2", "q3", "q4", "q5"))
    assert graded["results"]["as-notebook"]["extra_data"]["key"] != graded["results"]["as-module"]["extra_data"]["key"]


def test_what_a_notebook_left_out_is_listed_with_its_cell_and_line(graded):
    """The training cell is the notebook's last: each of its five statements is listed, by line."""
    left_out = graded["results"]["as-notebook"]["extra_data"]["left_out"]
    last = len(notebook_from_module(SOURCE).cells) + 1
    assert [line.split(":")[0] for line in left_out] == [f"cell {last}, line {n}" for n in range(1, 6)]
    assert "clf1.fit(X_train, y_train, epochs=20) left out: only definitions are graded" in left_out[1]
    assert "IPython magics and shell lines are never graded" in left_out[2]
    feedback = (graded["out"] / "as-notebook" / "feedback.md").read_text()
    assert all(line in feedback for line in left_out)
    assert "left out" in graded["book"]["as-notebook"]["warnings"]


def test_an_error_in_a_notebook_is_named_by_its_cell_and_line(graded):
    """split raises on its first line: the messages name the notebook's cell 2, line 2, never the built module."""
    tests = graded["results"]["raises-in-a-cell"]["extra_data"]["raw_tests"]
    q1 = [t for t in tests if t["question"] == "q1" and t["outcome"] != "passed"]
    assert q1 and all("my split is broken" in t["message"] for t in q1)
    assert any("exercise.ipynb cell 2, line 2" in t["message"] for t in q1)
    assert not any("exercise.py" in t["message"] for t in tests)
    assert float(graded["book"]["raises-in-a-cell"]["q1"]) < float(graded["book"]["as-module"]["q1"])


def test_of_a_fork_with_both_files_the_row_says_which_was_graded(graded):
    """Both exercise.py and the notebook answer: exercise.py is graded (full marks here) and the row says so."""
    row = graded["book"]["both-answer"]
    assert row["total"] == row["max"]
    assert "graded exercise.py: it and exercise.ipynb both answer questions" in row["warnings"]
    notebook_rows = [graded["book"][name]["warnings"] for name in ("as-notebook", "raises-in-a-cell")]
    assert all("graded exercise.ipynb: exercise.py is the starter's" in warnings for warnings in notebook_rows)


def test_a_notebook_is_graded_again_for_a_new_left_out_line_and_not_for_its_outputs(graded, tmp_path):
    """Outputs added to a cell change nothing graded: cached. A new print cell changes what the feedback
    lists: graded again, and listed."""
    root = graded["out"].parent
    with_outputs = nbformat.read(root / "as-notebook" / "mnist_checks" / "exercise.ipynb", as_version=4)
    with_outputs.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Epoch 1/20\n")]
    nbformat.write(with_outputs, root / "as-notebook" / "mnist_checks" / "exercise.ipynb")
    with_print = nbformat.read(root / "raises-in-a-cell" / "mnist_checks" / "exercise.ipynb", as_version=4)
    with_print.cells.append(nbformat.v4.new_code_cell("print(split([1, 2, 3, 4, 5, 6, 7]))"))
    nbformat.write(with_print, root / "raises-in-a-cell" / "mnist_checks" / "exercise.ipynb")
    cli.main(["grade", str(root / "as-notebook"), str(root / "raises-in-a-cell"), "--out", str(graded["out"])])
    with open(graded["out"] / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    assert book["as-notebook"]["status"] == "cached"
    assert book["raises-in-a-cell"]["status"] == "graded"
    left_out = json.loads((graded["out"] / "raises-in-a-cell" / "results.json").read_text())["extra_data"]["left_out"]
    assert left_out == [f"cell {len(with_print.cells)}, line 1: print(split([1, 2, 3, 4, 5, 6, 7])) left out: "
                        "only definitions are graded"]
