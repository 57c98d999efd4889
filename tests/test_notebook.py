"""A contract handed in as a notebook (mnist_checks/notebook.py): the module built from its code
cells keeps imports, definitions and constants and lists the rest by cell and line, runs nothing,
round-trips every contract; a notebook the grader must not read is refused quickly, in one line
(and through intake, unread where it is a link, a FIFO or too large); of a fork holding both files,
``choose``/``pick`` grade the one that answers."""

import ast
import json
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
import nbformat.v4 as v4
import numpy as np
import pytest

from mnist_checks import exercise
from mnist_checks.grading.contract import CONTRACT, INPUT_SHAPES, choose, pick
from mnist_checks.grading.course.intake import read_submission
from mnist_checks.grading.solutions import starter_source
from mnist_checks.notebook import (
    MAX_NOTEBOOK_BYTES,
    NOTEBOOK,
    NotebookRefused,
    contract_from_notebook,
    notebook_from_module,
    read_notebook,
)

pytestmark = pytest.mark.fast

SOURCE = Path(exercise.__file__).read_text()
STARTER = starter_source(SOURCE)
CONTRACTS = Path(__file__).parent / "data" / "contracts"
INDEPENDENT = sorted(CONTRACTS.glob("independent_*.py"))
MAGIC = "IPython magics and shell lines are never graded"
ONLY_DEFINITIONS = "only definitions are graded"


def notebook(*cells, metadata=None):
    """A notebook of ``cells``: a string is a code cell, anything else a cell as nbformat makes it."""
    made = v4.new_notebook(cells=[v4.new_code_cell(c) if isinstance(c, str) else c for c in cells])
    made.metadata.update(metadata or {})
    return made


def built_from(*cells, metadata=None):
    """The contract built from a notebook of ``cells`` after a write and a read, as a fork hands it in."""
    return contract_from_notebook(read_notebook(nbformat.writes(notebook(*cells, metadata=metadata)).encode()))


def statements(contract) -> list[str]:
    """The built module's top-level statements, unparsed (comments and layout aside)."""
    return [ast.unparse(s) for s in ast.parse(contract.source).body]


@contextmanager
def deadline(seconds: float):
    """Raise TimeoutError in this (main) thread once ``seconds`` have passed."""
    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- what is kept, what is left out -------------------------------------------------------------

def test_imports_definitions_and_constants_are_kept(load_source):
    contract = built_from(
        "import numpy as np\nfrom sklearn.model_selection import train_test_split as tts",
        "TEST_SIZE = 1 / 7\nSHAPE: tuple = (28, 28, 1)\nN_PIXELS = SHAPE[0] * SHAPE[1]\nLAYERS = [32, N_PIXELS]",
        "def split(*arrays, random_state=0):\n    return tts(*arrays, test_size=TEST_SIZE, random_state=random_state)",
        "class Net:\n    units = 32\n\n    @staticmethod\n    def build():\n        return Net.units",
    )
    assert contract.left_out == []
    module = load_source(contract.source)
    assert (module.N_PIXELS, module.LAYERS, module.Net.build()) == (784, [32, 784], 32)
    assert [len(part) for part in module.split(np.arange(70))] == [60, 10]


def test_top_level_code_is_left_out_and_listed_with_its_cell_and_line(load_source):
    """Loading data, training, prints, plots and a main guard: each listed by cell (markdown counted) and line."""
    contract = built_from(
        v4.new_markdown_cell("# My MNIST"),
        "import numpy as np\ndef scale(X):\n    return np.asarray(X) / 255",
        "(X, y) = load_digits()\nmodel = build_mlp()\nmodel.fit(X, y, epochs=5)\nprint(model.summary())\n"
        "plt.imshow(X[0])\nif __name__ == '__main__':\n    main()",
    )
    assert contract.left_out == [
        f"cell 3, line 1: (X, y) = load_digits() left out: {ONLY_DEFINITIONS}",
        f"cell 3, line 2: model = build_mlp() left out: {ONLY_DEFINITIONS}",
        f"cell 3, line 3: model.fit(X, y, epochs=5) left out: {ONLY_DEFINITIONS}",
        f"cell 3, line 4: print(model.summary()) left out: {ONLY_DEFINITIONS}",
        f"cell 3, line 5: plt.imshow(X[0]) left out: {ONLY_DEFINITIONS}",
        f"cell 3, line 6: if __name__ == '__main__': main() left out: {ONLY_DEFINITIONS}",
    ]
    assert statements(contract) == ["import numpy as np", "def scale(X):\n    return np.asarray(X) / 255"]
    assert load_source(contract.source).scale(np.array([255])) == 1.0


def test_ipython_line_magics_shell_lines_captures_and_help_are_left_out_and_listed(load_source):
    contract = built_from("%matplotlib inline\n!pip install tensorflow\nfiles = !ls data\nimport numpy as np\n"
                          "np.argmax?\n%time x = 1\ndef scale(X):\n    return np.asarray(X) / 255")
    assert contract.left_out == [
        f"cell 1, line 1: %matplotlib inline left out: {MAGIC}",
        f"cell 1, line 2: !pip install tensorflow left out: {MAGIC}",
        f"cell 1, line 3: files = !ls data left out: {MAGIC}",
        f"cell 1, line 5: np.argmax? left out: {MAGIC}",
        f"cell 1, line 6: %time x = 1 left out: {MAGIC}",
    ]
    assert statements(contract) == ["import numpy as np", "def scale(X):\n    return np.asarray(X) / 255"]
    assert load_source(contract.source).scale([51]) == 0.2


def test_a_cell_magic_cell_is_left_out_whole():
    contract = built_from("import numpy as np", "%%time\ndef split(*arrays):\n    return 'timed'",
                          "def scale(X):\n    return X")
    assert contract.left_out == ["cell 2: a %%time cell left out: cell magics are never graded"]
    assert "split" not in contract.source and "def scale(X)" in contract.source


def test_a_cell_that_does_not_parse_is_left_out_and_listed_and_the_other_cells_are_kept(load_source):
    contract = built_from("import numpy as np", "def split(*arrays:\n    return arrays",
                          "def scale(X):\n    return np.asarray(X) / 255")
    assert len(contract.left_out) == 1
    assert contract.left_out[0].startswith("cell 2: left out, it does not parse (line 1")
    assert "split" not in contract.source
    assert load_source(contract.source).scale([255]) == 1.0


def test_a_constant_computed_from_a_left_out_name_is_left_out_so_that_the_module_imports(load_source):
    contract = built_from("X = load_digits()\nY = X + 1\nZ = 3\nW = Z * 2\nV = [Z, W]\nU = {'z': Z}\nT = len(V)\n"
                          "S = X if Z else None")
    assert [line.split(":")[0] for line in contract.left_out] == [
        "cell 1, line 1", "cell 1, line 2", "cell 1, line 7", "cell 1, line 8"]
    module = load_source(contract.source)
    assert (module.Z, module.W, module.V, module.U) == (3, 6, [3, 6], {"z": 3})
    assert not any(hasattr(module, name) for name in ("X", "Y", "T", "S"))


def test_from_future_is_hoisted_above_every_kept_statement(load_source):
    """A future import in a later cell is valid in the notebook; in the module it must come first."""
    contract = built_from("import numpy as np", "from __future__ import annotations\ndef scale(X) -> Undefined:\n"
                          "    return np.asarray(X) / 255")
    assert statements(contract)[0] == "from __future__ import annotations"
    assert load_source(contract.source).scale([255]) == 1.0  # the annotation is never evaluated


def test_a_later_redefinition_of_a_function_wins_as_running_the_notebook_would(load_source):
    contract = built_from("def split(*arrays):\n    return 'first'", "K = 1",
                          "def split(*arrays):\n    return 'second'")
    assert load_source(contract.source).split() == "second"


def test_markdown_and_raw_cells_never_contribute_code():
    contract = built_from(v4.new_markdown_cell("```python\ndef split(*a):\n    return 'markdown'\n```"),
                          v4.new_raw_cell("def scale(X):\n    return 'raw'"), "import numpy as np")
    assert statements(contract) == ["import numpy as np"]
    assert "markdown" not in contract.source and "raw" not in contract.source


def test_code_in_the_notebooks_metadata_or_in_a_cells_outputs_is_never_extracted():
    cell = v4.new_code_cell("import numpy as np", metadata={"hidden": "def build_mlp():\n    return 'cell metadata'"})
    cell.outputs = [v4.new_output("stream", text="def split(*a):\n    return 'stream'\n"),
                    v4.new_output("execute_result", data={"text/plain": "def scale(X):\n    return 'result'"},
                                  execution_count=1)]
    contract = built_from(cell, metadata={"code": "def to_images(X):\n    return 'notebook metadata'"})
    assert statements(contract) == ["import numpy as np"]
    assert not any(word in contract.source for word in ("def ", "metadata", "stream", "result"))


def test_building_a_notebook_runs_none_of_it(tmp_path):
    """Build only, in-process: no marker appears, though the notebook's top level, its shell lines, a
    cell magic, a class body and a default argument (the last two kept) all try to write one."""
    markers = [tmp_path / f"marker-{i}" for i in range(6)]
    raw = nbformat.writes(notebook(
        f"import os\nopen({str(markers[0])!r}, 'w').write('ran')\nos.system('touch {markers[1]}')",
        f"!touch {markers[2]}",
        f"%%bash\ntouch {markers[3]}",
        f"class Net:\n    open({str(markers[4])!r}, 'w').write('ran')",
        f"def split(*a, _=open({str(markers[5])!r}, 'w')):\n    return a",
    )).encode()
    contract = contract_from_notebook(read_notebook(raw))
    assert "class Net" in contract.source and "def split" in contract.source
    assert [m.name for m in markers if m.exists()] == []


# --- round trip and citations -------------------------------------------------------------------

def rebuilt(source: str):
    """The contract of ``source`` as a notebook, written and read back."""
    return contract_from_notebook(read_notebook(nbformat.writes(notebook_from_module(source)).encode()))


def outputs(module) -> list:
    """What the contract's data functions return on small inputs (no model is built)."""
    rng = np.random.default_rng(7)
    X, y = np.arange(140).reshape(70, 2), np.arange(70)
    pixels = rng.integers(0, 256, size=(3, 784))
    return [*module.split(np.arange(70)), *module.split(X, y), *module.split(X, y, random_state=3),
            module.predicted_digits(rng.random((5, 10))), module.scale(pixels), module.to_images(pixels)]


@pytest.mark.parametrize("path", [Path(exercise.__file__), *INDEPENDENT], ids=lambda p: p.stem)
def test_a_module_as_a_notebook_builds_back_into_a_module_that_behaves_the_same(path, load_source):
    from mnist_checks.compat import KERAS_MAJOR

    if "keras3" in path.stem and KERAS_MAJOR < 3:
        pytest.skip("written for Keras 3 (keras.ops), which this Keras 2 lacks")
    source = path.read_text()
    contract = rebuilt(source)
    assert contract.left_out == []
    theirs, ours = outputs(load_source(source)), outputs(load_source(contract.source))
    assert len(theirs) == len(ours) == 13
    for expected, found in zip(theirs, ours):
        np.testing.assert_array_equal(np.asarray(found), np.asarray(expected))
        assert np.asarray(found).dtype == np.asarray(expected).dtype


@pytest.mark.parametrize("path", [Path(exercise.__file__), CONTRACTS / "independent_06_course_notebook.py",
                                  CONTRACTS / "independent_13_pyimagesearch_static_build.py"], ids=lambda p: p.stem)
def test_a_notebooks_builders_build_the_modules_models(path, load_source):
    from mnist_checks.compat import built

    source = path.read_text()
    theirs, ours = load_source(source), load_source(rebuilt(source).source)
    for name in ("build_mlp", "build_cnn"):
        count = [built(getattr(module, name)(), INPUT_SHAPES[name]).count_params() for module in (theirs, ours)]
        assert count[0] == count[1] > 0, (name, count)


def test_cite_names_the_notebook_cell_and_line_of_a_module_line():
    nb = notebook_from_module(SOURCE, markdown={"split": "## Q1", "build_mlp": "## Q2"})
    contract = contract_from_notebook(read_notebook(nbformat.writes(nb).encode()))
    module_lines = contract.source.splitlines()
    cell = next(i for i, c in enumerate(nb.cells, 1) if c.cell_type == "code" and "def split(" in c.source)
    cell_lines = nb.cells[cell - 1].source.splitlines()
    for wanted in ("def split(", "    return train_test_split("):
        module_line = next(i for i, line in enumerate(module_lines, 1) if line.startswith(wanted))
        cell_line = next(i for i, line in enumerate(cell_lines, 1) if line.startswith(wanted))
        assert contract.cite(f"ValueError (exercise.py, line {module_line}, in split)") == \
            f"ValueError (exercise.ipynb cell {cell}, line {cell_line}, in split)"
        assert contract.cite(f"exercise.py:{module_line}: AssertionError") == \
            f"exercise.ipynb cell {cell}, line {cell_line}: AssertionError"
    header = "exercise.py, line 1"  # a line the build adds: it has no cell, and is left as it is
    assert contract.cite(header) == header and contract.cite("exercise.py, line 99999") == "exercise.py, line 99999"


# --- refusals -------------------------------------------------------------------------------------

def nested(depth: int) -> bytes:
    """A notebook whose metadata holds lists ``depth`` deep (json.dumps would not write them)."""
    text = json.dumps(notebook("import os", metadata={"deep": "DEEP"}))
    return text.replace('"DEEP"', "[" * depth + "]" * depth).encode()


def cells(count: int) -> bytes:
    """A notebook of ``count`` empty markdown cells, under the byte limit (written as JSON: nbformat
    takes a minute to validate 10^5 cells)."""
    cell = {"cell_type": "markdown", "metadata": {}, "source": ""}
    return json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [cell] * count}).encode()


#: kind -> (how the notebook is written, words of the one-line reason).
REFUSED = {
    "bad-json": (lambda path: path.write_bytes(b'{"cells": [{"cell_type": "code",'), "is not JSON"),
    "not-utf8": (lambda path: path.write_bytes(nbformat.writes(notebook("x = 'é'")).encode("utf-16")), "not UTF-8"),
    "a-json-array": (lambda path: path.write_bytes(b"[]"), "not a JSON object"),
    "cells-not-a-list": (lambda path: path.write_bytes(b'{"cells": 3}'), "not a valid notebook"),
    "100000-cells": (lambda path: path.write_bytes(cells(100_000)), "100,000 cells"),
    "nested-10000-deep": (lambda path: path.write_bytes(nested(10_000)), "nested over 64 deep"),
    "nested-100-deep": (lambda path: path.write_bytes(nested(100)), "nested over 64 deep"),
}


def write_sparse(path: Path, size: int = 500 * 1024**2) -> None:
    """A notebook's head, a hole up to ``size`` bytes (nothing on disk), and its tail."""
    with open(path, "wb") as handle:
        handle.write(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"pad": "')
        handle.seek(size)
        handle.write(b'"}, "cells": []}')


def write_refused(kind: str, path: Path) -> str:
    """Write the notebook ``kind`` names at ``path`` (the intake's kinds too: a link, a FIFO, a
    sparse 500 MB file); the words its one-line reason holds."""
    if kind == "500mb-sparse":
        write_sparse(path)
        return f"over {MAX_NOTEBOOK_BYTES:,} bytes"
    if kind == "symlink":
        elsewhere = path.parent.parent.parent / f"{path.parent.parent.name}-elsewhere.ipynb"
        elsewhere.write_text(nbformat.writes(notebook_from_module(SOURCE)))
        path.symlink_to(elsewhere)
        return "symbolic link"
    if kind == "fifo":
        os.mkfifo(path)
        return "not a regular file"
    write, words = REFUSED[kind]
    write(path)
    return words


@pytest.mark.parametrize("kind", REFUSED)
def test_a_notebook_the_grader_will_not_read_is_refused_quickly_in_one_line(kind, tmp_path):
    path = tmp_path / "exercise.ipynb"
    words = write_refused(kind, path)
    started = time.monotonic()
    with pytest.raises(NotebookRefused) as refused:
        read_notebook(path.read_bytes())
    assert time.monotonic() - started < 3
    reason = str(refused.value)
    assert words in reason and "\n" not in reason and len(reason) < 300, reason


INTAKE_KINDS = [*REFUSED, "500mb-sparse", "symlink", "fifo"]


def fork_with(tmp_path: Path, module: str | None) -> Path:
    fork = tmp_path / "forks" / "student"
    (fork / "mnist_checks").mkdir(parents=True)
    if module is not None:
        (fork / CONTRACT).write_text(module)
    return fork


@pytest.mark.parametrize("module", [None, STARTER], ids=["alone", "beside-the-starter"])
@pytest.mark.parametrize("kind", INTAKE_KINDS)
def test_a_refused_notebook_leaves_nothing_to_grade_and_names_exercise_ipynb_in_one_line(kind, module, tmp_path):
    fork = fork_with(tmp_path, module)
    words = write_refused(kind, fork / NOTEBOOK)
    started = time.monotonic()
    picked = read_submission(fork)
    assert time.monotonic() - started < 3
    assert picked.source is None and picked.file == NOTEBOOK
    assert "exercise.ipynb" in picked.problem and words in picked.problem and "\n" not in picked.problem, picked


@pytest.mark.parametrize("kind", INTAKE_KINDS)
def test_beside_a_refused_notebook_an_answering_exercise_py_is_graded_with_a_note(kind, tmp_path):
    fork = fork_with(tmp_path, SOURCE)
    words = write_refused(kind, fork / NOTEBOOK)
    picked = read_submission(fork)
    assert picked.source == SOURCE and picked.file == CONTRACT and picked.problem == ""
    assert picked.note.startswith("graded exercise.py: ") and words in picked.note and "\n" not in picked.note


def test_a_500_mb_notebook_is_refused_by_the_bounded_read_before_anything_parses_it(tmp_path, monkeypatch):
    """Through the intake's bounded read: ``read_notebook`` never sees the file, whole or in part."""
    fork = fork_with(tmp_path, None)
    write_sparse(fork / NOTEBOOK)
    seen = []
    monkeypatch.setattr("mnist_checks.grading.contract.read_notebook", lambda data: seen.append(len(data)))
    picked = read_submission(fork)
    assert seen == [] and picked.source is None and "over" in picked.problem


# --- which file is graded -------------------------------------------------------------------------

def notebook_bytes(source: str) -> bytes:
    return nbformat.writes(notebook_from_module(source)).encode()


def test_a_module_alone_is_graded():
    picked = pick(SOURCE, None)
    assert (picked.source, picked.file, picked.note, picked.notebook) == (SOURCE, CONTRACT, "", None)
    assert choose(SOURCE, None) == ("module", "")


def test_a_notebook_alone_is_graded_as_the_module_it_builds():
    picked = pick(None, notebook_bytes(SOURCE))
    assert picked.file == NOTEBOOK and picked.note == "" and picked.source == rebuilt(SOURCE).source
    assert picked.notebook is not None and picked.notebook.source == picked.source


def test_an_answering_notebook_beside_the_starters_module_is_graded_with_a_note():
    picked = pick(STARTER, notebook_bytes(SOURCE))
    assert picked.file == NOTEBOOK and picked.source == rebuilt(SOURCE).source
    assert picked.note == "graded exercise.ipynb: exercise.py is the starter's"


def test_where_both_answer_the_module_is_graded_with_a_note_to_delete_one():
    answering = SOURCE.replace("np.float32(255)", "np.float32(256)")  # a notebook answering otherwise
    picked = pick(SOURCE, notebook_bytes(answering))
    assert picked.file == CONTRACT and picked.source == SOURCE and picked.notebook is None
    assert picked.note.startswith("graded exercise.py: it and exercise.ipynb both answer questions")


@pytest.mark.parametrize("module", [SOURCE, STARTER], ids=["answering", "starter"])
def test_an_untouched_starter_notebook_leaves_the_module_graded(module):
    picked = pick(module, notebook_bytes(STARTER))
    assert (picked.file, picked.source, picked.note) == (CONTRACT, module, "")


# --- the edges: statements sharing a line, annotations, Python's own line breaks, `?obj`, nbformat 3, -----
# --- thousands of shell lines, magic-like lines inside strings, nesting past the parser, long lists --------

def test_a_left_out_statement_sharing_a_line_with_a_kept_one_is_not_in_the_module(load_source):
    contract = built_from("import numpy as np; model.fit(X)\nK = 2; data = load_digits()")
    assert "model.fit" not in contract.source and "load_digits" not in contract.source
    assert load_source(contract.source).K == 2


def test_a_constant_annotated_with_a_left_out_name_is_left_out(load_source):
    contract = built_from("data = load_digits()\nPIXELS: data = 784\nCLASSES: int = 10")
    assert load_source(contract.source).CLASSES == 10


def test_a_cell_that_python_parses_is_never_left_out_as_not_parsing():
    contract = built_from('def title():\n    return "MNIST\u2028digits"\n\ndef scale(X):\n    return X')
    assert contract.left_out == [] and "def scale(X)" in contract.source


def test_help_written_before_the_name_is_left_out_and_the_cell_kept():
    contract = built_from("?np.argmax\nimport numpy as np\ndef scale(X):\n    return X")
    assert contract.left_out == [f"cell 1, line 1: ?np.argmax left out: {MAGIC}"]
    assert "def scale(X)" in contract.source


def test_cite_is_right_after_a_future_import_spanning_two_lines():
    contract = built_from("from __future__ import (annotations,\n                        division)\n"
                          "def split(*arrays):\n    return arrays")
    line = contract.source.splitlines().index("def split(*arrays):") + 1
    assert contract.cite(f"exercise.py, line {line}") == "exercise.ipynb cell 1, line 3"


def test_a_v3_notebook_of_more_cells_than_the_limit_is_refused_as_a_v4_one_is():
    cell = {"cell_type": "code", "input": "", "language": "python", "outputs": [], "metadata": {}}
    data = json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                       "worksheets": [{"cells": [cell] * 5_000, "metadata": {}}]}).encode()
    with pytest.raises(NotebookRefused, match="5,000 cells, over 2,000"):
        read_notebook(data)


def test_a_notebook_under_100_kb_is_built_within_seconds_whatever_its_shell_lines():
    raw = nbformat.writes(notebook("x = 1\n" * 3000 + "!ls\n" * 3000)).encode()
    assert len(raw) < 100 * 1024
    with deadline(2):
        contract = contract_from_notebook(read_notebook(raw))
    assert contract.source.count("x = 1") == 3000 and "!ls" not in contract.source


def test_a_string_line_that_looks_like_a_magic_stays_in_the_module_and_is_not_listed(load_source):
    """A docstring's line starting with `%` or `!` is the string's, not a magic: kept as written."""
    contract = built_from('def scale(X):\n    """Divide by 255:\n% of the grey levels\n!done"""\n    return X / 255\n'
                          "%matplotlib inline")
    assert load_source(contract.source).scale.__doc__ == "Divide by 255:\n% of the grey levels\n!done"
    assert contract.left_out == [f"cell 1, line 6: %matplotlib inline left out: {MAGIC}"]


def test_a_cell_nested_past_pythons_parser_is_left_out_and_the_others_kept():
    contract = built_from("x = " + "a+" * 200_000 + "a", "def scale(X):\n    return X")
    assert contract.left_out == ["cell 1: left out, it nests too deeply for Python's parser"]
    assert "def scale(X):" in contract.source


def test_the_left_out_list_stops_at_its_limit_and_says_how_many_more():
    from mnist_checks.notebook import MAX_LISTED

    contract = built_from("\n".join(f"print({i})" for i in range(MAX_LISTED + 50)))
    assert len(contract.left_out) == MAX_LISTED + 1
    assert contract.left_out[-1] == "... and 50 more left out"


def test_only_the_starters_own_check_cell_is_left_out_unlisted():
    from mnist_checks.notebook import CHECK_CELL

    assert built_from(CHECK_CELL).left_out == []
    assert len(built_from(CHECK_CELL.replace("fast", "slow")).left_out) == 1  # the `!` line: another cell, listed
