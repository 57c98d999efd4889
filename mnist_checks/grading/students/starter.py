"""The students' starter: their repository, with the reference contract's solutions cut out.

Each function body between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes
``raise NotImplementedError("Qn: name is not implemented yet")``; signatures and docstrings stay.
The starter holds only what students need (``for_students``): the package, the questions' tests
and the data checks, their README (``docs/starter-README.md``) and a GitHub Classroom workflow.
It is a git repository with one commit of all of it (``STARTER_AUTHOR``, ``STARTER_MESSAGE``),
ready to push as a GitHub Classroom template; without git nothing is written (``GitUnavailable``).
A notebook starter (``notebook=True``, issue 32) also holds ``mnist_checks/exercise.ipynb``
(``starter_notebook``): the same functions a cell each under the exercise's own questions, and a
last cell that checks them; the package still imports the starter's ``exercise.py``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

from ...errors import MnistChecksError
from ...notebook import CHECK_CELL, NOTEBOOK, notebook_from_module
from ...questions import PUBLISHED, QUESTIONS, label
from ..contract import CONTRACT, FUNCTIONS
from ..solutions import instructors_only, starter_source
from .classroom import RUNNERS, encode, env_name, not_run
from .graded import GradedTest
from .rubric import DEFAULT_RUBRIC, RUBRIC_FILE, WEIGHTS, name_of, score_tests, shown, weight_of

#: The tests students get: the questions' (fast and slow) and the checks of the full data set.
STUDENT_TESTS = frozenset({
    "tests/test_q1_split.py", "tests/test_q2_mlp.py", "tests/test_q3_predictions.py", "tests/test_q4_scale.py",
    "tests/test_q5_cnn.py", "tests/test_claims.py", "tests/test_full_data.py",
})
#: Everything else a student's repository holds: the install, the fixtures, the package and the sample.
STUDENT_FILES = STUDENT_TESTS | {"pyproject.toml", "conftest.py", ".gitignore"}
STUDENT_DIRS = ("mnist_checks/", "tests/data/")
#: The students' README in the reference checkout; ``{RUBRIC}`` becomes the points per question.
STARTER_README = "docs/starter-README.md"
CLASSROOM_WORKFLOW = ".github/workflows/classroom.yml"
#: The starter's one commit: a fixed author, so that it needs no git identity of the instructor's.
STARTER_AUTHOR = ("mnist-checks", "mnist-checks@localhost")
STARTER_MESSAGE = "The MNIST exercise: starter"
STARTER_BRANCH = "main"  # GitHub's default branch


class GitUnavailable(MnistChecksError, RuntimeError):
    """git is not installed here, or could not make the starter's repository: nothing is written
    (a starter that is not a repository is no Classroom template, and would be found out late)."""

    remedy = ("install git (Debian/Ubuntu: `apt-get install git`; Fedora: `dnf install git`; macOS: "
              "`xcode-select --install`) and run `mnist-checks starter` again")


def for_students(relative: str) -> bool:
    """Whether the reference file ``relative`` (a POSIX path) goes into the students' starter.

    An allow-list: the instructor's material (the grader's and the library's own tests,
    benchmarks, tox, CI, docs, README) stays out, and so does whatever is added to it later."""
    if instructors_only(relative) or "__pycache__" in relative:
        return False
    return relative in STUDENT_FILES or relative.startswith(STUDENT_DIRS)


def write_starter(reference_root: Path, target: Path, rubric: dict | None = None, *,
                  notebook: bool = False, graded: list[GradedTest] | None = None) -> Path:
    """Write the students' repository into ``target``: the reference's files ``for_students``
    (those git tracks), the starter contract (with ``notebook``, its notebook too:
    ``starter_notebook``), the students' README and the Classroom workflow, all in one commit of
    a new git repository (branch ``main``). Written beside ``target`` and renamed into place when
    complete: interrupted, or without git (``GitUnavailable``), it leaves nothing. A course's
    ``rubric`` is written as ``RUBRIC_FILE`` (their runs score with it) and shown in the README
    (its weighted claims' points counted over ``graded``, issue 34); without one, the default's."""
    written, rubric = rubric is not None, DEFAULT_RUBRIC if rubric is None else rubric
    reference_root, target = Path(reference_root), Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not empty")
    if shutil.which("git") is None:
        raise GitUnavailable("git is not installed (not on PATH): the starter is a git repository with one commit, "
                             "ready to be a GitHub Classroom template; nothing was written")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    partial.mkdir()  # the umask's permissions, as for any new directory
    try:
        for relative in _project_files(reference_root):
            if not for_students(relative.as_posix()):
                continue
            destination = partial / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(reference_root / relative, destination)
        contract = starter_source((reference_root / CONTRACT).read_text())
        (partial / CONTRACT).write_text(contract)
        if notebook:
            import nbformat

            nbformat.write(starter_notebook(contract), str(partial / NOTEBOOK))
        readme = reference_root / STARTER_README
        if readme.is_file():
            (partial / "README.md").write_text(readme.read_text().replace("{RUBRIC}", rubric_table(rubric, graded)))
        if written:
            (partial / RUBRIC_FILE).write_text(json.dumps(rubric, indent=2) + "\n")
        workflow = partial / CLASSROOM_WORKFLOW
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text(classroom_workflow(rubric))
        try:
            commit_starter(partial)
        except GitUnavailable as error:
            raise GitUnavailable(f"{error}; nothing was written") from None
        if target.exists():
            target.rmdir()  # empty, checked above
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target / CONTRACT


#: The markdown above the notebook starter's check cell (``notebook.CHECK_CELL``).
CHECK_TEXT = """## Check your work

Save the notebook first (Ctrl+S): the tests read `mnist_checks/exercise.ipynb` from disk, not from
this kernel. The cell below then runs `pytest -m fast` in your repository (the folder above this
notebook's), which checks the notebook as your instructor's grader does and ends with your points
per question. Only imports, constants and function and class definitions are graded; everything
else (loading data, `model.fit(...)`, plots, prints, `!` and `%` lines) is left out and listed
after the points; the cell below alone is left out unlisted. `pytest -m slow`, in a terminal in
your repository, trains your models on the full MNIST data set (minutes)."""
_RELATIVE_IMPORT = re.compile(r"^from \.(\w[\w.]*)? import ", re.MULTILINE)


def starter_notebook(starter: str):
    """The notebook starter's ``exercise.ipynb`` (issue 32): ``starter`` (the starter contract's
    source) one function a cell, its imports and constants first, with its package's relative
    imports made absolute (a notebook is no module of the package); each question's published
    text (``PUBLISHED``) before the cell of its first function; then how to check the work."""
    import nbformat.v4 as v4

    absolute = _RELATIVE_IMPORT.sub(lambda m: f"from mnist_checks{'.' + m[1] if m[1] else ''} import ", starter)
    functions = {q: [name for name, question in FUNCTIONS.items() if question == q] for q in QUESTIONS}
    markdown = {names[0]: f"## {label(q)}\n\n{PUBLISHED[q]}\n\nWrite " + " and ".join(f"`{n}`" for n in names)
                + (" in the cells below." if len(names) > 1 else " in the cell below.")
                for q, names in functions.items()}
    end = [v4.new_markdown_cell(CHECK_TEXT), v4.new_code_cell(CHECK_CELL)]
    return notebook_from_module(absolute, markdown, end=end)


def commit_starter(root: Path) -> str:
    """Make ``root`` a git repository whose one commit holds every file in it; its commit id.

    The instructor's git configuration is left out (no system or global config: no signing, hooks,
    templates or default branch of theirs), and so is any ``GIT_*`` variable: the same starter on
    every machine, with ``STARTER_AUTHOR`` as author and committer."""
    name, email = STARTER_AUTHOR
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email)
    git = ["git", "-C", str(root), "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false",
           "-c", f"core.hooksPath={root / '.git' / 'no-hooks'}"]
    steps = [["init", "--quiet", "--template="], ["symbolic-ref", "HEAD", f"refs/heads/{STARTER_BRANCH}"],
             ["add", "--all", "--force"], ["commit", "--quiet", "--no-verify", "--message", STARTER_MESSAGE],
             ["rev-parse", "HEAD"]]
    for step in steps:
        try:
            done = subprocess.run([*git, *step], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except OSError as error:
            raise GitUnavailable(f"git could not run ({error})") from None
        if done.returncode != 0:
            raise GitUnavailable(f"git {step[0]} failed making the starter's repository (exit {done.returncode}): "
                                 f"{(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout.strip()


def weighted_claims(rubric: dict, graded: list[GradedTest] | None = None) -> list[str]:
    """The rubric's weighted claims as Markdown lines (issue 34): each weighted test of ``graded``
    (every graded test, with ``claim`` and ``tags``) with its points, and what each other test of
    its question's tier is worth; without ``graded``, the weights as written."""
    if not graded:
        return ["Weighted claims (every other test weighs 1 within its question's tier):", "",
                *(f"- `{key}`: weight {weight:g}" for key, weight in rubric[WEIGHTS].items())]
    lines = ["Weighted claims (the other tests of a question's tier share the rest equally):", ""]
    scored = score_tests([{**test.to_json(), "outcome": "passed"} for test in graded], rubric)
    for q in QUESTIONS:
        for tier in ("fast", "slow"):
            group = [test for test in scored if test["question"] == q and test["tier"] == tier]
            weighted = [test for test in group if weight_of(test, rubric) != 1]
            points = rubric[q][tier]
            lines += [f"- {label(q)} {tier}: \"{test['claim']}\" (`{name_of(test)}`): "
                      f"{shown(test['max_score']):g} of {points:g} points" for test in weighted]
            others = [test for test in group if weight_of(test, rubric) == 1]
            if weighted and others:
                lines.append(f"- {label(q)} {tier}: each other test: {shown(others[0]['max_score']):g} points")
    return lines


def rubric_table(rubric: dict, graded: list[GradedTest] | None = None) -> str:
    """The points per question and tier as a Markdown table, for the students' README; below it,
    where the rubric weighs claims, those claims and their points (``weighted_claims``, issue 34)."""
    lines = ["| question | fast tier | slow tier | total |", "| --- | --- | --- | --- |"]
    for q in QUESTIONS:
        fast, slow = rubric[q]["fast"], rubric[q]["slow"]
        lines.append(f"| {label(q)} | {fast:g} | {slow:g} | {fast + slow:g} |")
    fast, slow = (sum(rubric[q][tier] for q in QUESTIONS) for tier in ("fast", "slow"))
    lines.append(f"| all | {fast:g} | {slow:g} | {fast + slow:g} |")
    if rubric.get(WEIGHTS):
        lines += ["", *weighted_claims(rubric, graded)]
    return "\n".join(lines)


def classroom_workflow(rubric: dict, python: str = "3.11") -> str:
    """A GitHub Actions workflow that GitHub Classroom's autograding reads (issue 34): one step runs
    the fast tier and reports each question's tests with their shares of its points as grade gives
    them (``pytest --classroom-report``: the step's outputs ``q1``..``q5``, and the points per
    question in the job summary); the reporter sends their sum to Classroom. Where the step wrote
    nothing (it crashed), a question's stand-in is worth 0 (``classroom.not_run``). The workflow's
    and job's names are those the reporter needs (its README: ``Autograding Tests``, ``run-autograding-tests``)."""
    results = "\n".join(f"          {env_name(q)}: \"${{{{ steps.fast.outputs.{q} || "
                        f"'{encode(not_run(q, rubric))}' }}}}\"" for q in RUNNERS)
    return f"""# GitHub Classroom autograding: the fast tier on every push; each test earns its share of its
# question's points, as `mnist-checks grade` shares them. Written by `mnist-checks starter`.
name: Autograding Tests
on:
  - push
  - workflow_dispatch
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install
        run: pip install -e ".[cpu,test]"
      - name: Fast tests
        id: fast
        continue-on-error: true
        timeout-minutes: 30
        run: pytest -m fast -p no:cacheprovider --classroom-report
      - name: Report
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{results}
        with:
          runners: {",".join(RUNNERS)}
"""


def _project_files(root: Path) -> list[Path]:
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
        return [Path(name) for name in listed.stdout.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".tox", "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks"}
        return [p.relative_to(root) for p in root.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(root).parts)]
