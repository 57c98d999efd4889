"""The students' repository: mnist_checks/grading/students/starter.py."""

import pytest
from helpers import git

from mnist_checks.grading.contract import load_contract
from mnist_checks.grading.course import intake
from mnist_checks.grading.solutions import starter_source
from mnist_checks.grading.students.graded import GradedTest
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC

pytestmark = pytest.mark.fast

REFERENCE = '''
def build_mlp(units=32):
    """Q2: a fresh MLP."""
    # BEGIN SOLUTION
    return units * 2
    # END SOLUTION


def scale(X):
    """Q4: pixels into [0, 1]."""
    # BEGIN SOLUTION
    return X / 255
    # END SOLUTION
'''


def test_starter_keeps_signatures_and_docstrings_and_drops_solutions():
    starter = starter_source(REFERENCE)
    assert "def build_mlp(units=32):" in starter and '"""Q2: a fresh MLP."""' in starter
    assert "units * 2" not in starter and "X / 255" not in starter
    assert 'raise NotImplementedError("Q4: scale is not implemented yet")' in starter


def test_starter_functions_raise_not_implemented_naming_their_question(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text(starter_source(REFERENCE))
    module = load_contract(path)
    with pytest.raises(NotImplementedError, match="Q2: build_mlp"):
        module.build_mlp()


def test_the_packages_own_starter_imports_and_has_every_contract_function(tmp_path):
    from mnist_checks import exercise

    path = tmp_path / "exercise.py"
    path.write_text(starter_source(open(exercise.__file__).read()))
    module = load_contract(path)
    for name, question in [("split", "Q1"), ("build_mlp", "Q2"), ("predicted_digits", "Q3"), ("scale", "Q4"),
                           ("to_images", "Q5"), ("build_cnn", "Q5")]:
        with pytest.raises(NotImplementedError, match=question):
            getattr(module, name)(*([None] * (name in {"split", "predicted_digits", "scale", "to_images"})))


@pytest.mark.parametrize("broken", [
    REFERENCE.replace("    # END SOLUTION\n", "", 1),
    REFERENCE.replace("    # BEGIN SOLUTION\n", "", 1),
])
def test_unbalanced_solution_markers_are_an_error(broken):
    with pytest.raises(ValueError, match="SOLUTION"):
        starter_source(broken)


def test_the_real_starters_package_holds_no_solution_line_in_any_module(tmp_path):
    """Students get the package without the solutions: not in the contract, and not quoted in
    any other module (the mutation catalogue quotes them, so it stays with the instructor)."""
    from pathlib import Path

    from mnist_checks import exercise
    from mnist_checks.grading.solutions import solution_lines
    from mnist_checks.grading.students.starter import write_starter

    reference = Path(exercise.__file__).resolve().parent.parent
    write_starter(reference, tmp_path / "starter")
    secret = solution_lines((reference / "mnist_checks" / "exercise.py").read_text())
    leaks = {str(p.relative_to(tmp_path)): [line for line in secret if line in p.read_text(errors="replace")]
             for p in (tmp_path / "starter" / "mnist_checks").rglob("*") if p.is_file()}
    assert {path: lines for path, lines in leaks.items() if lines} == {}


def test_starter_project_holds_what_students_need_and_none_of_the_instructors_material(tmp_path):
    from mnist_checks.grading.students.starter import STARTER_README, write_starter

    reference = tmp_path / "reference"
    students = ["mnist_checks/exercise.py", "mnist_checks/data.py", "tests/test_q1_split.py", "tests/test_full_data.py",
                "tests/data/mnist_sample.npz", "conftest.py", "pyproject.toml"]
    instructors = ["mnist_checks/grading/catalogue/mutants.py", "mnist_checks/grading/catalogue/variants.py",
                   "mnist_checks/grading/catalogue/added_later.py", "tests/test_gradebook.py", "tests/test_run.py",
                   "tests/test_new.py", "tests/data/contracts/independent_01_style.py",
                   "benchmarks/test_epoch_time.py", "tox.ini", ".ci/run", "docs/mutants.md", "README.md"]
    for relative in [*students, *instructors, STARTER_README]:
        (reference / relative).parent.mkdir(parents=True, exist_ok=True)
        (reference / relative).write_text(REFERENCE if relative.endswith("exercise.py") else relative)
    (reference / STARTER_README).write_text("# Yours\n\n{RUBRIC}\n")
    contract = write_starter(reference, tmp_path / "starter")
    starter = tmp_path / "starter"
    assert all((starter / relative).exists() for relative in students)
    assert [relative for relative in instructors if relative != "README.md" and (starter / relative).exists()] == []
    readme = (starter / "README.md").read_text()
    assert readme.startswith("# Yours") and "| Q2 | 15 | 10 | 25 |" in readme and "| all | 60 | 40 | 100 |" in readme
    assert "NotImplementedError" in contract.read_text()
    with pytest.raises(FileExistsError):
        write_starter(reference, tmp_path / "starter")
    assert intake.edited_canonical_files(starter, reference) == [], "the instructor's tests count as removed"


def test_the_starter_is_a_git_repository_with_one_commit_of_all_its_files_whatever_the_users_git_config(
        tmp_path, monkeypatch):
    """The starter is a git repository on main with exactly one commit, by mnist-checks, of every file it holds,
    even where the user has no git identity and a git configuration that signs and names branches otherwise."""
    from pathlib import Path

    from mnist_checks import exercise
    from mnist_checks.grading.students.starter import STARTER_MESSAGE, write_starter

    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[commit]\n\tgpgsign = true\n[user]\n\tsigningkey = NONE\n"
                                     "[init]\n\tdefaultBranch = master\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL",
                 "GIT_CONFIG_GLOBAL"):
        monkeypatch.delenv(name, raising=False)
    reference = Path(exercise.__file__).resolve().parent.parent
    write_starter(reference, tmp_path / "starter")
    starter = tmp_path / "starter"
    log = git(starter, "log", "--format=%an <%ae>|%cn <%ce>|%s|%G?")
    assert log == f"mnist-checks <mnist-checks@localhost>|mnist-checks <mnist-checks@localhost>|{STARTER_MESSAGE}|N"
    assert git(starter, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    on_disk = sorted(p.relative_to(starter).as_posix() for p in starter.rglob("*")
                     if p.is_file() and ".git" not in p.relative_to(starter).parts)
    assert sorted(git(starter, "ls-files").splitlines()) == on_disk and len(on_disk) > 20
    assert git(starter, "status", "--porcelain", "--ignored") == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "starter"], "nothing left beside it"
    assert intake.head_commit(starter) == git(starter, "rev-parse", "HEAD")[:7]


@pytest.mark.parametrize("git", ["missing", "failing"])
def test_without_a_working_git_the_starter_command_writes_nothing_and_says_how_to_get_git(tmp_path, capsys,
                                                                                           monkeypatch, git):
    """Where git is not installed (or fails), `mnist-checks starter` writes nothing, not even a half starter
    beside its target, and says why and how to install git."""
    from mnist_checks import cli

    reference = tmp_path / "reference"
    for relative in ["mnist_checks/exercise.py", "tests/test_q1_split.py", "conftest.py"]:
        (reference / relative).parent.mkdir(parents=True, exist_ok=True)
        (reference / relative).write_text(REFERENCE if relative.endswith("exercise.py") else "")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if git == "failing":
        (bin_dir / "git").write_text("#!/bin/sh\necho 'fatal: broken here' >&2\nexit 128\n")
        (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["starter", str(out / "starter"), "--reference", str(reference)]) == 2
    err = capsys.readouterr().err
    assert ("git is not installed" if git == "missing" else "fatal: broken here") in err
    assert "apt-get install git" in err and "nothing was written" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_the_classroom_workflow_gives_each_question_its_fast_points():
    """One step runs the fast tier and reports each question to the reporter (issue 34: its tests'
    shares, tests/test_classroom.py); each question is worth its fast points, even where the step
    wrote nothing (its stand-in)."""
    import base64
    import json
    import re

    import yaml

    from mnist_checks.grading.students.starter import classroom_workflow
    from mnist_checks.questions import QUESTIONS
    rubric = {**DEFAULT_RUBRIC, "q3": {"fast": 7.5, "slow": 5}}
    workflow = yaml.safe_load(classroom_workflow(rubric))
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    assert [s["run"] for s in steps if "pytest" in s.get("run", "")] == [
        "pytest -m fast -p no:cacheprovider --classroom-report"]
    assert not any(s.get("uses", "").startswith("classroom-resources/autograding-command") for s in steps)
    reporter = next(s for s in steps
                    if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter"))
    assert reporter["with"]["runners"].split(",") == list(QUESTIONS)
    assert set(reporter["env"]) == {f"{q.upper()}_RESULTS" for q in QUESTIONS}
    env = {q: reporter["env"][f"{q.upper()}_RESULTS"] for q in QUESTIONS}
    stand_ins = {q: json.loads(base64.b64decode(re.search(r"\|\| '([^']+)'", env[q])[1])) for q in QUESTIONS}
    assert {q: stand_ins[q]["max_score"] for q in QUESTIONS} == {q: rubric[q]["fast"] for q in QUESTIONS}
    assert all(f"steps.fast.outputs.{q} ||" in env[q] for q in QUESTIONS)


# The notebook starter (issue 32) ----------------------------------------------------------------


def _starter_notebook():
    """The notebook ``mnist-checks starter --notebook`` writes for the package's own contract."""
    from pathlib import Path

    from mnist_checks import exercise
    from mnist_checks.grading.students.starter import starter_notebook

    return starter_notebook(starter_source(Path(exercise.__file__).read_text()))


def _defined(source: str) -> str | None:
    """The name of the one function ``source`` defines, else None."""
    import ast

    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    return body[0].name if len(body) == 1 and isinstance(body[0], ast.FunctionDef) else None


def test_starter_notebook_writes_a_valid_notebook_beside_exercise_py_in_the_starters_one_commit(tmp_path, capsys):
    import nbformat

    from mnist_checks import cli

    assert cli.main(["starter", str(tmp_path / "starter"), "--notebook"]) == 0
    assert "exercise.ipynb" in capsys.readouterr().out
    starter = tmp_path / "starter"
    nbformat.validate(nbformat.read(starter / "mnist_checks" / "exercise.ipynb", as_version=4))
    assert "NotImplementedError" in (starter / "mnist_checks" / "exercise.py").read_text()
    assert "mnist_checks/exercise.ipynb" in git(starter, "ls-files").splitlines()
    assert git(starter, "status", "--porcelain") == "" and git(starter, "rev-list", "--count", "HEAD") == "1"
    assert cli.main(["starter", str(tmp_path / "modules")]) == 0
    assert not (tmp_path / "modules" / "mnist_checks" / "exercise.ipynb").exists(), "a notebook only when asked"


def test_the_notebook_starter_puts_each_questions_published_text_just_above_its_first_functions_cell():
    from mnist_checks.grading.contract import FUNCTIONS
    from mnist_checks.questions import PUBLISHED, QUESTIONS

    cells = _starter_notebook().cells
    for q in QUESTIONS:
        texts = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and PUBLISHED[q] in cell.source]
        first = next(name for name, question in FUNCTIONS.items() if question == q)
        assert len(texts) == 1 and cells[texts[0]].source.startswith(f"## {q.upper()}\n"), q
        assert _defined(cells[texts[0] + 1].source) == first, f"{q}'s text is not just above {first}'s cell"


def test_the_notebook_starter_has_a_cell_per_contract_function_raising_not_implemented_as_exercise_py_has():
    import ast
    from pathlib import Path

    from mnist_checks import exercise
    from mnist_checks.grading.contract import CONTRACT, FUNCTIONS, implements_any, pick
    from mnist_checks.notebook import contract_from_notebook

    notebook = _starter_notebook()
    defining = {_defined(cell.source): cell.source for cell in notebook.cells if cell.cell_type == "code"}
    assert sorted(name for name in defining if name) == sorted(FUNCTIONS)
    for name, question in FUNCTIONS.items():
        assert not implements_any(defining[name]), f"{name} answers"
        assert f'raise NotImplementedError("{question.upper()}: {name} is not implemented yet")' in defining[name]
    module = starter_source(Path(exercise.__file__).read_text())

    def functions(source):
        return [ast.dump(node) for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]

    assert functions(contract_from_notebook(notebook).source) == functions(module), "exercise.py's functions"
    import nbformat

    assert pick(module, nbformat.writes(notebook).encode()).file == CONTRACT, "untouched, exercise.py is graded"


def test_the_notebook_starters_first_cell_is_its_imports_and_constants_and_runs_outside_the_package():
    """Jupyter runs the notebook as no module of the package: the first cell's imports are absolute."""
    first = _starter_notebook().cells[0]
    assert first.cell_type == "code" and "import" in first.source and "from ." not in first.source
    namespace = {"__name__": "__main__"}
    exec(compile(first.source, "cell 1", "exec"), namespace)
    assert {"keras", "OPTIMIZER", "LOSS", "METRICS", "N_PIXELS"} <= set(namespace)


def test_the_notebook_starters_last_cell_runs_the_fast_tier_from_the_checkout_and_leaves_nothing_listed():
    from mnist_checks.notebook import contract_from_notebook

    notebook = _starter_notebook()
    *_, how, check = notebook.cells
    assert how.cell_type == "markdown" and "Save the notebook" in how.source and "`pytest -m fast`" in how.source
    assert check.cell_type == "code"
    shell = [line for line in check.source.splitlines() if line.startswith("!")]
    assert len(shell) == 1 and shell[0].startswith("!cd .. && ") and "-m pytest -m fast" in shell[0]
    assert contract_from_notebook(notebook).left_out == []  # the starter's own cell, exactly: unlisted
    check.source += "\nprint('hello')"  # any other text in its place is read as any cell is
    assert [line.split(":")[0] for line in contract_from_notebook(notebook).left_out] == [
        f"cell {len(notebook.cells)}, line {n}" for n in (2, 3)]


# The course's rubric in the starter (issue 34) ---------------------------------------------------

BEHAVIOUR = "test_mlp_computes_what_dense_32_relu_then_dense_10_softmax_computes"
WEIGHTED = {**DEFAULT_RUBRIC, "weights": {BEHAVIOUR: 10}}
#: Q2's fast tests as the grader collects them: the behaviour check and 10 others.
Q2_GRADED = [GradedTest(f"tests/test_q2_mlp.py::{name}", "q2", "fast", f"Claim of {name}.",
                         ("behaviour",) if name == BEHAVIOUR else ())
             for name in [BEHAVIOUR, *(f"test_other_{i}" for i in range(10))]]


def _reference(tmp_path):
    reference = tmp_path / "reference"
    for relative in ["mnist_checks/exercise.py", "tests/test_q2_mlp.py", "conftest.py", "docs/starter-README.md"]:
        (reference / relative).parent.mkdir(parents=True, exist_ok=True)
        (reference / relative).write_text(REFERENCE if relative.endswith("exercise.py") else relative)
    (reference / "docs/starter-README.md").write_text("# Yours\n\n{RUBRIC}\n\nmore\n")
    return reference


def test_a_courses_rubric_goes_into_the_starter_as_rubric_json_and_its_readme_lists_each_weighted_claims_points(
        tmp_path):
    from mnist_checks.grading.students.rubric import RUBRIC_FILE, rubric_of
    from mnist_checks.grading.students.starter import write_starter

    reference = _reference(tmp_path)
    write_starter(reference, tmp_path / "default")
    assert not (tmp_path / "default" / RUBRIC_FILE).exists() and rubric_of(tmp_path / "default") == DEFAULT_RUBRIC
    assert "Weighted" not in (tmp_path / "default" / "README.md").read_text()
    write_starter(reference, tmp_path / "course", WEIGHTED, graded=Q2_GRADED)
    course = tmp_path / "course"
    assert rubric_of(course) == WEIGHTED and RUBRIC_FILE in git(course, "ls-files").splitlines()
    readme = (course / "README.md").read_text()
    assert "| Q2 | 15 | 10 | 25 |" in readme and readme.endswith("\n\nmore\n")
    assert f'- Q2 fast: "Claim of {BEHAVIOUR}." (`{BEHAVIOUR}`): 7.5 of 15 points\n' in readme
    assert "- Q2 fast: each other test: 0.75 points\n" in readme and "Q5 fast" not in readme


def test_the_readme_lists_the_weights_as_written_where_the_graded_tests_are_unknown():
    from mnist_checks.grading.students.starter import rubric_table

    table = rubric_table({**WEIGHTED, "weights": {BEHAVIOUR: 10, "tag:behaviour": 0.5}})
    assert table.startswith(rubric_table(DEFAULT_RUBRIC) + "\n\nWeighted claims")
    assert f"- `{BEHAVIOUR}`: weight 10\n- `tag:behaviour`: weight 0.5" in table
    assert "Weighted" not in rubric_table(DEFAULT_RUBRIC)
    assert "Weighted" not in rubric_table({**WEIGHTED, "weights": {}})


def test_the_starter_command_writes_rubric_json_only_with_rubric_and_checks_its_weights_first(tmp_path, monkeypatch,
                                                                                              capsys):
    import json

    from mnist_checks import cli
    from mnist_checks.grading.course import checker

    collected = []

    def collect(reference, tier):
        collected.append(tier)
        return Q2_GRADED

    monkeypatch.setattr(checker, "collect_graded_tests", collect)
    reference = _reference(tmp_path)
    assert cli.main(["starter", str(tmp_path / "plain"), "--reference", str(reference)]) == 0
    assert not (tmp_path / "plain" / "rubric.json").exists() and collected == [], "no weights: nothing collected"
    rubric = tmp_path / "course.json"
    rubric.write_text(json.dumps(WEIGHTED))
    assert cli.main(["starter", str(tmp_path / "course"), "--reference", str(reference), "--rubric", str(rubric)]) == 0
    assert json.loads((tmp_path / "course" / "rubric.json").read_text()) == WEIGHTED and collected == ["all"]
    assert "7.5 of 15 points" in (tmp_path / "course" / "README.md").read_text()
    rubric.write_text(json.dumps({**DEFAULT_RUBRIC, "weights": {"test_mlp_computes": 10}}))
    capsys.readouterr()
    assert cli.main(["starter", str(tmp_path / "typo"), "--reference", str(reference), "--rubric", str(rubric)]) == 2
    err = capsys.readouterr().err
    assert "weights name no graded test: test_mlp_computes; graded tests are" in err and BEHAVIOUR in err
    assert "Traceback" not in err and not (tmp_path / "typo").exists()
