"""Hostile notebooks through the real `mnist-checks grade` (sandboxed), in one call: top-level code
that attacks is left out and changes nothing; function bodies that attack do no more than a
hostile exercise.py's (nothing escapes the sandbox, nothing is forged, wrong answers lose points);
notebooks the grader refuses are rows of status error, naming exercise.ipynb, beside forks graded."""

import csv
import json
import time
import uuid
from pathlib import Path

import nbformat
import nbformat.v4 as v4
import pytest
from course import REFERENCE_ROOT, SOURCE
from helpers import require_sandbox
from test_notebook import write_refused

from mnist_checks import cli
from mnist_checks.grading.course.results import ForkStatus
from mnist_checks.grading.students.starter import write_starter
from mnist_checks.notebook import NOTEBOOK, notebook_from_module

pytestmark = pytest.mark.e2e

SECRET = f"notebook-secret-{uuid.uuid4().hex}"
MAGIC = "left out: IPython magics and shell lines are never graded"
ONLY_DEFINITIONS = "left out: only definitions are graded"
QUESTIONS = ("q1", "q2", "q3", "q4", "q5")
#: The refused notebooks graded beside the attacks (test_notebook.write_refused's kinds).
MALFORMED = ("bad-json", "100000-cells", "nested-10000-deep", "500mb-sparse")


def top_level_attacks(root) -> tuple[list[str], list[tuple[str, str]]]:
    """Cells after the reference's functions whose top level attacks, and per cell what its
    left-out line starts with and ends with (cells counted after the reference's)."""
    cells = [
        f"open({str(root / 'marker-open')!r}, 'w').write('ran')",
        f"import os\nos.system('touch {root / 'marker-system'}')",
        f"import shutil\nshutil.rmtree({str(root / 'owned')!r})",
        f"!curl -s -o {root / 'marker-curl'} file://{root / 'instructor-notes.txt'}",
        f"%run {root / 'evil.py'}",
        f"%%bash\ntouch {root / 'marker-bash'}",
        'print("<img src=x onerror=alert(1)>")',
    ]
    listed = [(", line 1: open(", ONLY_DEFINITIONS), (", line 2: os.system(", ONLY_DEFINITIONS),
              (", line 2: shutil.rmtree(", ONLY_DEFINITIONS), (", line 1: !curl -s -o ", MAGIC),
              (", line 1: %run ", MAGIC), (": a %%bash cell", "left out: cell magics are never graded"),
              (', line 1: print("<img src=x onerror=alert(1)>")', ONLY_DEFINITIONS)]
    return cells, listed


#: Function bodies that attack, then answer (split, build_mlp) or answer wrong (predicted_digits,
#: scale): defined after the reference's functions, so these are the ones graded.
BODY_ATTACKS = '''import os

ROOT = {root!r}
HOME = {home!r}
OUT = {out!r}
NOTES = {notes!r}


def _loot():
    found = [os.environ.get("INSTRUCTOR_TOKEN", "")]
    for path in (HOME + "/.marker", os.path.expanduser("~/.marker"), NOTES, "/proc/1/environ"):
        try:
            found.append(open(path, errors="replace").read())
        except OSError:
            pass
    return " ".join(found)


def _escape():
    for path in (ROOT + "/marker-body", HOME + "/marker-body", OUT + "/forged.txt", OUT + "/gradebook.csv",
                 OUT + "/body-attacks/results.json"):
        try:
            with open(path, "w") as handle:
                handle.write('{{"score": 60, "max_score": 60, "tests": []}}')
        except OSError:
            pass


def split(*arrays, random_state=SPLIT_RANDOM_STATE):
    print("loot:", _loot())
    _escape()
    return train_test_split(*arrays, test_size=SPLIT_TEST_SIZE, random_state=random_state)


def build_mlp():
    _escape()
    model = keras.Sequential([keras.Input(shape=(N_PIXELS,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(N_CLASSES, activation="softmax")])
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model


def predicted_digits(probabilities):
    _escape()
    return np.full(len(probabilities), len(_loot()) % 10)


def scale(X):
    raise ValueError("loot: " + _loot())
'''


def notebook_fork(root: Path, name: str, cells) -> Path:
    """The starter (exercise.py untouched) with the reference's functions as a notebook, then ``cells``."""
    fork = root / name
    write_starter(REFERENCE_ROOT, fork)
    notebook = notebook_from_module(SOURCE, end=[v4.new_code_cell(cell) for cell in cells])
    (fork / NOTEBOOK).write_text(nbformat.writes(notebook))
    return fork


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_sandbox()
    root = tmp_path_factory.mktemp("notebook-attacks")
    out, home = root / "grades", root / "home"
    home.mkdir()
    (home / ".marker").write_text(SECRET)
    (root / "instructor-notes.txt").write_text(SECRET)
    (root / "owned").mkdir()
    (root / "owned" / "keep.txt").write_text("the test's own")
    (root / "evil.py").write_text(f"open({str(root / 'marker-run')!r}, 'w').write('ran')\n")
    cells, listed = top_level_attacks(root)
    body = BODY_ATTACKS.format(root=str(root), home=str(home), out=str(out), notes=str(root / "instructor-notes.txt"))
    forks = [notebook_fork(root, "top-level-attacks", cells), notebook_fork(root, "body-attacks", [body])]
    for kind in MALFORMED:
        fork = root / kind
        write_starter(REFERENCE_ROOT, fork)
        write_refused(kind, fork / NOTEBOOK)
        forks.append(fork)
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("INSTRUCTOR_TOKEN", SECRET)
        status = cli.main(["grade", *map(str, forks), "--out", str(out), "--jobs", "2"])
    seconds = time.monotonic() - started
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: row for row in csv.DictReader(handle)}
    results = {name: json.loads((out / name / "results.json").read_text()) for name in book}
    print(f"graded {len(forks)} notebook forks in {seconds:.1f} s")
    return {"status": status, "book": book, "results": results, "out": out, "root": root, "listed": listed,
            "first_end_cell": len(notebook_from_module(SOURCE).cells) + 1, "seconds": seconds, "body": body}


def points(row) -> dict[str, float]:
    return {q: float(row[q] or 0) for q in (*QUESTIONS, "total")}


def test_top_level_attacks_cost_nothing_and_the_functions_get_full_points(graded):
    row = graded["book"]["top-level-attacks"]
    assert row["status"] == "graded" and float(row["total"]) == float(row["max"]) > 0, row
    assert "graded exercise.ipynb: exercise.py is the starter's" in row["warnings"]


def test_no_top_level_attack_ran(graded):
    root = graded["root"]
    ran = [name for name in ("marker-open", "marker-system", "marker-curl", "marker-run", "marker-bash")
           if (root / name).exists()]
    assert ran == []
    assert (root / "owned" / "keep.txt").read_text() == "the test's own"


def test_the_feedback_lists_each_left_out_top_level_line_by_cell_and_line(graded):
    left_out = graded["results"]["top-level-attacks"]["extra_data"]["left_out"]
    first = graded["first_end_cell"]
    assert len(left_out) == len(graded["listed"]), left_out
    for n, (line, (starts, ends)) in enumerate(zip(left_out, graded["listed"])):
        assert line.startswith(f"cell {first + n}{starts}") and line.endswith(ends), line
    feedback = (graded["out"] / "top-level-attacks" / "feedback.md").read_text()
    assert all(line in feedback for line in left_out)
    page = (graded["out"] / "top-level-attacks" / "feedback.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x" in page  # a left-out line is text, never markup


def test_function_bodies_that_attack_escape_nothing_and_leak_nothing(graded):
    root, out = graded["root"], graded["out"]
    assert not (root / "marker-body").exists() and not (root / "home" / "marker-body").exists()
    assert not (out / "forged.txt").exists()
    texts = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert SECRET not in texts
    # scale did run, and found nothing to loot: its error carries an empty loot, named by the notebook's cell
    line = graded["body"].splitlines().index('    raise ValueError("loot: " + _loot())') + 1
    raised = f"ValueError: loot:  (exercise.ipynb cell {graded['first_end_cell']}, line {line}, in scale)"
    tests = graded["results"]["body-attacks"]["extra_data"]["raw_tests"]
    assert any(raised in t["message"] for t in tests if t["question"] == "q4"), raised


def test_function_bodies_that_attack_forge_no_point(graded):
    """split and build_mlp attack then answer: their points, no more; predicted_digits and scale
    answer wrong: they lose theirs. results.json is the grader's, matching its row."""
    honest, attacking = points(graded["book"]["top-level-attacks"]), points(graded["book"]["body-attacks"])
    assert graded["book"]["body-attacks"]["status"] == "graded"
    assert all(attacking[q] <= honest[q] for q in honest), (attacking, honest)
    assert attacking["q1"] == honest["q1"] > 0 and attacking["q2"] == honest["q2"] > 0
    assert attacking["q3"] < honest["q3"] and attacking["q4"] < honest["q4"]
    written = graded["results"]["body-attacks"]
    assert written["extra_data"]["fork"] == "body-attacks" and written["score"] == attacking["total"]
    assert len(graded["book"]) == 2 + len(MALFORMED) and written["extra_data"]["left_out"] == []


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_notebook_is_an_error_row_naming_exercise_ipynb_with_no_points(graded, kind):
    row = graded["book"][kind]
    assert row["status"] == ForkStatus.ERROR.value and float(row["total"] or 0) == 0.0, row
    assert "exercise.ipynb" in row["reason"] and "\n" not in row["reason"], row["reason"]
    assert graded["results"][kind]["score"] == 0


def test_the_grading_call_grades_the_others_and_says_rows_need_a_look(graded):
    assert graded["status"] == 1
    assert {graded["book"][name]["status"] for name in ("top-level-attacks", "body-attacks")} == {"graded"}
