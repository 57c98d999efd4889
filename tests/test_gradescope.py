"""Gradescope's autograder (``mnist-checks gradescope``, ``mnist_checks.grading.course.gradescope``).

Fast: what the zip holds (the scripts executable, the wheel, the canonical files, the settings,
never the data set), the results translated into Gradescope's results.json checked field by field
against its specification (``RESULTS_SPEC``, written here from Gradescope's "Autograder
Specifications"), the submission's layouts found and laid out, and every way a run ends without
grading.  E2e: the zip built, unpacked under a root laid out as ``/autograder``, setup.sh's
install steps run into a fresh virtual environment from the zip's own wheel, and run_autograder
run on the reference, a mistake, the starter and a hostile fork, each handed in another way:
each results.json meets the specification and gives what `mnist-checks grade` gives, test by test.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from mnist_checks import cli
from mnist_checks.data import ENV_DATA, KNOWN_FILES
from mnist_checks.grading.course import gradescope, gradescope_results
from mnist_checks.grading.course.intake import CANONICAL, copy_canonical
from mnist_checks.grading.course.results import results_json
from mnist_checks.grading.limits import Limits
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC, score_tests

REFERENCE_ROOT = Path(__file__).resolve().parent.parent
# One pytest-xdist worker builds the autograder's environment once (pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("gradescope")

# --- Gradescope's specification, as data ---------------------------------------------------------

NUMBER = (int, float)
#: Gradescope's words (its "Autograder Specifications": visibility, output_format, status).
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_FORMAT = ("text", "html", "simple_format", "md", "ansi")
STATUS = ("passed", "failed")
ORDER = ("asc", "desc")
#: Each object of results.json: its fields, each with the type it takes or the words it allows,
#: and which are required. Nothing else may appear.
RESULTS_SPEC = {
    "required": {"score": NUMBER},
    "optional": {"execution_time": NUMBER, "output": str, "output_format": OUTPUT_FORMAT,
                 "test_output_format": OUTPUT_FORMAT, "test_name_format": OUTPUT_FORMAT, "visibility": VISIBILITY,
                 "stdout_visibility": VISIBILITY, "extra_data": dict, "tests": list, "leaderboard": list},
}
TEST_SPEC = {
    "required": {"score": NUMBER, "max_score": NUMBER, "name": str},
    "optional": {"status": STATUS, "name_format": OUTPUT_FORMAT, "number": str, "output": str,
                 "output_format": OUTPUT_FORMAT, "tags": list, "visibility": VISIBILITY, "extra_data": dict},
}
LEADERBOARD_SPEC = {"required": {"name": str, "value": NUMBER}, "optional": {"order": ORDER}}


def against(spec: dict, found: dict, where: str) -> list[str]:
    """What of ``found`` breaks ``spec``: a required field missing, a field not in it, a wrong
    type, a word it does not allow."""
    fields = {**spec["required"], **spec["optional"]}
    problems = [f"{where}: no {name}" for name in spec["required"] if name not in found]
    for name, value in found.items():
        allowed = fields.get(name)
        if allowed is None:
            problems.append(f"{where}: {name} is no field of Gradescope's")
        elif isinstance(allowed, tuple) and allowed and isinstance(allowed[0], str):
            if value not in allowed:
                problems.append(f"{where}: {name} {value!r} is not one of {allowed}")
        elif isinstance(value, bool) or not isinstance(value, allowed):
            problems.append(f"{where}: {name} {value!r} is not {allowed}")
    return problems


def spec_problems(results: dict) -> list[str]:
    """Every way ``results`` breaks Gradescope's specification; also what this autograder always
    writes: Markdown, stdout hidden, each test tagged with its question."""
    problems = against(RESULTS_SPEC, results, "results.json")
    for i, test in enumerate(results.get("tests", [])):
        problems += against(TEST_SPEC, test, f"tests[{i}]")
        if test.get("tags") and not set(test["tags"]) <= {"q1", "q2", "q3", "q4", "q5"}:
            problems.append(f"tests[{i}]: tags {test['tags']}")
        if test.get("output_format") != "md" or test.get("status") is None or test.get("visibility") is None:
            problems.append(f"tests[{i}]: output_format md, a status and a visibility expected")
    for i, entry in enumerate(results.get("leaderboard", [])):
        problems += against(LEADERBOARD_SPEC, entry, f"leaderboard[{i}]")
    if results.get("output_format") != "md" or results.get("stdout_visibility") != "hidden":
        problems.append("results.json: output_format md and stdout_visibility hidden expected")
    json.dumps(results, allow_nan=False)  # plain JSON: no NaN, no infinity
    return problems


# --- fast: the zip --------------------------------------------------------------------------------


@pytest.fixture
def stub_wheel(monkeypatch):
    """build_wheel writes a stand-in (pip and the registry are the e2e tier's)."""

    def built(reference, into):
        into.mkdir(parents=True, exist_ok=True)
        wheel = into / "mnist_checks-0.0.0-py3-none-any.whl"
        wheel.write_bytes(b"a wheel")
        return wheel

    monkeypatch.setattr(gradescope, "build_wheel", built)


def a_reference(root: Path) -> Path:
    """A small reference checkout with what the zip must leave out: caches, a link, data files."""
    for relative, text in {"mnist_checks/exercise.py": "# the contract\n", "mnist_checks/__init__.py": "",
                           "tests/test_q1_split.py": "def test(): pass\n", "tests/data/sample.npz": "sample",
                           "tests/__pycache__/x.pyc": "cache", "conftest.py": "", "pyproject.toml": "[project]\n",
                           "tests/data/mnist.npz": "the data set", "tests/data/digits.csv.zip": "the data set",
                           "docs/grading.md": "not canonical"}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "tests" / "link.py").symlink_to(root / "conftest.py")
    return root


@pytest.mark.fast
def test_the_zip_holds_the_scripts_executable_the_wheel_the_settings_and_the_canonical_files_never_the_data(
        tmp_path, stub_wheel):
    reference = a_reference(tmp_path / "reference")
    out = tmp_path / "out" / "autograder.zip"
    names = gradescope.write_autograder_zip(out, reference)
    with zipfile.ZipFile(out) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert list(infos) == names
        for script in ("setup.sh", "run_autograder"):  # at the root, executable, bash
            assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        assert stat.S_IMODE(infos["mnist-checks-gradescope.json"].external_attr >> 16) == 0o644
        assert archive.read("wheels/mnist_checks-0.0.0-py3-none-any.whl") == b"a wheel"
        config = json.loads(archive.read("mnist-checks-gradescope.json"))
    assert sorted(name for name in names if name.startswith("reference/")) == [
        "reference/conftest.py", "reference/mnist_checks/__init__.py", "reference/mnist_checks/exercise.py",
        "reference/pyproject.toml", "reference/tests/data/sample.npz", "reference/tests/test_q1_split.py"]
    assert not [name for name in names if Path(name).name in KNOWN_FILES]
    assert config == {"version": config["version"], "tier": "fast", "rubric": DEFAULT_RUBRIC,
                      "visibility": {"fast": "visible", "slow": "after_published"}, "leaderboard": True,
                      "isolation": "strongest", "limits": {**config["limits"], "grading_mb": 0}}


@pytest.mark.fast
def test_the_zips_reference_is_every_canonical_file_the_grader_copies(tmp_path, stub_wheel):
    names = gradescope.write_autograder_zip(tmp_path / "autograder.zip", REFERENCE_ROOT)
    canon = copy_canonical(REFERENCE_ROOT, tmp_path / "canon")
    copied = {f"reference/{path.relative_to(canon).as_posix()}" for path in canon.rglob("*") if path.is_file()}
    assert {name for name in names if name.startswith("reference/")} == copied
    assert {"reference/mnist_checks/exercise.py", "reference/conftest.py"} <= copied
    assert {entry.split("/")[1] for entry in copied} == set(CANONICAL)


@pytest.mark.fast
@pytest.mark.parametrize(("option", "value", "problem"), [
    ("tier", "slow", "tier 'slow'"), ("slow_visibility", "later", "visibility 'later'"),
    ("fast_visibility", "public", "visibility 'public'"), ("isolation", "unisolated", "isolation 'unisolated'"),
])
def test_settings_gradescope_or_the_grader_cannot_take_are_refused_before_anything_is_built(
        tmp_path, option, value, problem):
    with pytest.raises(gradescope.GradescopeError, match=problem):
        gradescope.write_autograder_zip(tmp_path / "a.zip", REFERENCE_ROOT, **{option: value})
    assert not (tmp_path / "a.zip").exists()


@pytest.mark.fast
def test_the_scripts_are_valid_bash_with_setups_steps_callable_one_by_one(tmp_path):
    setup, run = gradescope.script("setup.sh").decode(), gradescope.script("run_autograder").decode()
    for name, text in (("setup.sh", setup), ("run_autograder", run)):
        (tmp_path / name).write_text(text)
        done = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for step in ("system_packages()", "python_environment()", "data()", "lock_down()", "MNIST_CHECKS_SETUP_STEPS"):
        assert step in setup
    assert "apt-get install -y -qq python3 python3-venv python3-pip bubblewrap util-linux libseccomp2" in setup
    assert '"${wheel}[cpu]"' in setup and 'chmod 700 "$SOURCE" "$ROOT/results"' in setup
    assert "-m mnist_checks.grading.course.gradescope run" in run and "AUTOGRADER_ROOT" in run
    fallback = json.loads(run.split("<<'JSON'\n")[1].split("\nJSON\n")[0])
    assert against(RESULTS_SPEC, fallback, "fallback") == [] and fallback["score"] == 0


@pytest.mark.fast
def test_the_command_writes_the_zip_and_says_what_to_set_on_gradescope(tmp_path, stub_wheel, capsys):
    assert cli.main(["gradescope", str(tmp_path / "autograder.zip"), "--tier", "all", "--no-leaderboard",
                     "--slow-visibility", "hidden"]) == 0
    said = capsys.readouterr().out
    assert "all tier, 100 points" in said and "set the assignment's points to 100" in said
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        config = json.loads(archive.read("mnist-checks-gradescope.json"))
    assert (config["tier"], config["leaderboard"], config["visibility"]["slow"]) == ("all", False, "hidden")


@pytest.mark.fast
@pytest.mark.parametrize(("argv", "problem"), [
    (["gradescope", "{tmp}"], "is a folder; the autograder is one zip file"),
    (["gradescope", "{tmp}/a.zip", "--reference", "{tmp}"], "not the reference checkout"),
    (["gradescope", "{tmp}/a.zip", "--rubric", "{tmp}/none.json"], "not a readable JSON rubric"),
])
def test_the_command_refuses_what_it_cannot_take_with_a_message(tmp_path, capsys, argv, problem):
    assert cli.main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert problem.format(tmp=tmp_path) in err and "Traceback" not in err
    assert not (tmp_path / "a.zip").exists()


# --- fast: results.json ----------------------------------------------------------------------------


def a_graded_fork(*, trained: bool = False) -> dict:
    """A fork's results.json (``results.results_json``) with fast and slow tests, one failed of
    each, and the CNN trained where ``trained``."""
    from mnist_checks.grading.course.results import ForkResult

    tests = [{"id": f"t::{q}{tier}", "question": q, "tier": tier, "claim": f"{q} {tier} claim.", "outcome": "passed"}
             for q in ("q1", "q2", "q3", "q4", "q5") for tier in ("fast", "slow")]
    tests[0] = {**tests[0], "outcome": "failed", "message": "AssertionError\nexpected: 10000\nfound:    14000"}
    tests[-1] = {**tests[-1], "outcome": "failed", "message": "the CNN ends below 0.98 ```"}
    result = ForkResult(fork="submission", path="/tmp/x/submission", status="graded", isolation="bubblewrap",
                        tests=score_tests(tests, DEFAULT_RUBRIC), warnings=["a warning /tmp/secret/tests/x.py"])
    if trained:
        result.trainings = {"cnn": {"key": "k", "history": {"val_accuracy": [0.97, 0.98912]}}}
    return results_json(result)


CONFIG = gradescope.autograder_config(tier="all", rubric=DEFAULT_RUBRIC, fast_visibility="visible",
                                      slow_visibility="after_published", leaderboard=True, isolation="strongest",
                                      limits=Limits())


@pytest.mark.fast
def test_results_meet_gradescopes_specification_field_by_field_with_each_tiers_visibility_and_question_tag():
    graded = a_graded_fork(trained=True)
    results = gradescope_results.gradescope_results(graded, CONFIG, metadata={"submitters": ["Ada"]},
                                            handed_in="mnist_checks/exercise.py (a repository)")
    assert spec_problems(results) == []
    assert results["score"] == graded["score"] and len(results["tests"]) == 10
    assert [t["score"] for t in results["tests"]] == [t["score"] for t in graded["tests"]]
    assert [t["tags"] for t in results["tests"][:2]] == [["q1"], ["q1"]]
    assert [t["visibility"] for t in results["tests"][:2]] == ["visible", "after_published"]
    first = results["tests"][0]
    assert first["status"] == "failed" and "**failed**: q1 fast claim." in first["output"]
    assert "```text\nAssertionError\nexpected: 10000\nfound:    14000\n```" in first["output"]
    assert "````text" in results["tests"][-1]["output"]  # a message holding a fence gets a longer one
    assert results["tests"][1]["output"] == "passed: q1 slow claim."
    assert results["leaderboard"] == [{"name": "CNN val_accuracy", "value": 0.9891, "order": "desc"}]
    extra = results["extra_data"]
    assert extra["isolation"] == "bubblewrap" and extra["raw_tests"] and extra["autograder"]["tier"] == "all"


@pytest.mark.fast
def test_the_summary_shows_students_only_the_tiers_they_may_see_now():
    results = gradescope_results.gradescope_results(a_graded_fork(), CONFIG, metadata={"submitters": ["Ada", "Grace"]},
                                            handed_in="exercise.ipynb (a lone file)")
    output = results["output"]
    assert output.startswith("## The MNIST exercise: 50 / 60 (fast tier)\n")
    assert "Submitted by Ada, Grace." in output and "Graded: exercise.ipynb (a lone file)." in output
    assert "| Q1 the split: 60,000 train, 10,000 test | 0 / 10 |" in output
    assert "The slow tier's claims (40 points) are shown once the grades are published." in output
    assert "/tmp/secret" not in output and "> warning: a warning tests/x.py" in output
    everything = gradescope_results.gradescope_results(a_graded_fork(), {**CONFIG, "visibility": {"fast": "visible",
                                                                                           "slow": "visible"}})
    q1 = everything["extra_data"]["by_question"]["q1"]
    assert everything["output"].startswith(f"## The MNIST exercise: {everything['score']:g} / 100\n")
    assert f"| Q1 the split: 60,000 train, 10,000 test | {q1[0]:g} / {q1[1]:g} |" in everything["output"]
    assert "tier's claims" not in everything["output"]


@pytest.mark.fast
def test_no_leaderboard_without_a_trained_cnn_or_when_it_is_off():
    assert "leaderboard" not in gradescope_results.gradescope_results(a_graded_fork(), CONFIG)
    off = {**CONFIG, "leaderboard": False}
    assert "leaderboard" not in gradescope_results.gradescope_results(a_graded_fork(trained=True), off)


# --- fast: the submission --------------------------------------------------------------------------


def handed_in(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.mark.fast
@pytest.mark.parametrize(("files", "found", "layout"), [
    ({"mnist_checks/exercise.py": "a", "tests/test_q1_split.py": "", "README.md": ""},
     ["mnist_checks/exercise.py"], "a repository"),
    ({"mnist_checks/exercise.py": "a", "mnist_checks/exercise.ipynb": "{}"},
     ["mnist_checks/exercise.py", "mnist_checks/exercise.ipynb"], "a repository"),
    ({"exercise.py": "a"}, ["exercise.py"], "a lone file"),
    ({"exercise.ipynb": "{}"}, ["exercise.ipynb"], "a lone file"),
    ({"mnist-starter-main/mnist_checks/exercise.py": "a", "mnist-starter-main/README.md": ""},
     ["mnist-starter-main/mnist_checks/exercise.py"], "a repository"),
    ({"homework/exercise.ipynb": "{}", "__MACOSX/exercise.py": "", ".git/exercise.py": ""},
     ["homework/exercise.ipynb"], "a lone file"),
    ({"exercise.py": "top", "nested/mnist_checks/exercise.py": "nested"}, ["exercise.py"], "a lone file"),
    ({"a/b/exercise.py": "two folders down", "solution.py": ""}, [], ""),
])
def test_a_submission_is_found_as_a_repository_or_a_lone_file_at_the_top_or_one_folder_down(
        tmp_path, files, found, layout):
    folder = handed_in(tmp_path / "submission", files)
    submission = gradescope.find_submission(folder)
    assert [path.as_posix() for path in submission.files] == found and submission.layout == layout
    if found:
        fork = gradescope.lay_out(folder, submission, tmp_path / "fork")
        assert sorted(p.name for p in (fork / "mnist_checks").iterdir()) == sorted(Path(f).name for f in found)
        for relative in found:
            assert (fork / "mnist_checks" / Path(relative).name).read_text() == (folder / relative).read_text()


@pytest.mark.fast
def test_a_link_or_a_folder_handed_in_is_laid_out_for_the_grader_to_refuse_and_a_long_file_is_cut(
        tmp_path, monkeypatch):
    folder = handed_in(tmp_path / "submission", {"elsewhere.py": "x"})
    (folder / "mnist_checks").mkdir()
    (folder / "mnist_checks" / "exercise.py").symlink_to(folder / "elsewhere.py")
    (folder / "mnist_checks" / "exercise.ipynb").mkdir()
    fork = gradescope.lay_out(folder, gradescope.find_submission(folder), tmp_path / "fork")
    assert (fork / "mnist_checks" / "exercise.py").is_symlink()
    assert (fork / "mnist_checks" / "exercise.ipynb").is_dir()
    monkeypatch.setattr(gradescope, "COPIED_BYTES", 5)
    long = handed_in(tmp_path / "long", {"exercise.py": "0123456789"})
    fork = gradescope.lay_out(long, gradescope.find_submission(long), tmp_path / "fork-long")
    assert (fork / "mnist_checks" / "exercise.py").read_text() == "01234"


@pytest.mark.fast
@pytest.mark.parametrize(("text", "kept", "problem"), [
    (None, {}, "no submission_metadata.json"),
    ("{not json", {}, "could not be read"),
    ("[1, 2]", {}, "is not a JSON object"),
    ('{"users": "Ada", "assignment": 3}', {"submitters": [], "assignment": "", "due_date": "", "submitted_at": ""}, ""),
    ('{"users": [{"name": "Ada", "email": "a@x"}, {"name": 3}], "created_at": "2026-12-06T10:00:00",'
     ' "assignment": {"title": "MNIST", "due_date": "2026-12-10T23:59:00"}}',
     {"submitters": ["Ada"], "assignment": "MNIST", "due_date": "2026-12-10T23:59:00",
      "submitted_at": "2026-12-06T10:00:00"}, ""),
])
def test_submission_metadata_missing_or_malformed_never_fails_grading(tmp_path, text, kept, problem):
    path = tmp_path / "submission_metadata.json"
    if text is not None:
        path.write_text(text)
    found, said = gradescope.read_metadata(path)
    assert found == kept and problem in said and bool(said) == bool(problem)


# --- fast: a run that grades nothing ---------------------------------------------------------------


def autograder_root(tmp_path: Path, files: dict[str, str], config: dict | None = CONFIG) -> Path:
    root = tmp_path / "autograder"
    handed_in(root / "submission", files)
    (root / "source").mkdir()
    if config is not None:
        (root / "source" / gradescope.CONFIG).write_text(json.dumps(config))
    return root


def written(root: Path) -> dict:
    results = json.loads((root / "results" / "results.json").read_text())
    assert spec_problems(results) == []
    return results


@pytest.mark.fast
def test_a_submission_with_no_contract_gets_0_and_what_to_hand_in(tmp_path):
    root = autograder_root(tmp_path, {"notes.txt": "", "src/solution.py": ""})
    gradescope.run(root)
    results = written(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "Nothing to grade" in results["output"] and "`notes.txt`, `src/solution.py`" in results["output"]
    assert results["extra_data"]["metadata"]["problem"] == "no submission_metadata.json"


@pytest.mark.fast
def test_a_grader_that_fails_still_writes_results_saying_so_and_0_only_where_nothing_was_graded(
        tmp_path, monkeypatch, capsys):
    root = autograder_root(tmp_path / "broken", {"exercise.py": ""}, config=None)
    gradescope.run(root)
    results = written(root)
    assert results["score"] == 0 and "The autograder failed" in results["output"]
    assert "not the autograder's settings" in results["output"] and "Traceback" in capsys.readouterr().err

    def graded_then_fails(fork, out, config, root):  # the grader wrote its results; translating them fails
        (out / gradescope.FORK).mkdir(parents=True)
        (out / gradescope.FORK / "results.json").write_text(json.dumps({**a_graded_fork(), "extra_data": {}}))

    monkeypatch.setattr(gradescope, "grade", graded_then_fails)
    root = autograder_root(tmp_path / "late", {"exercise.py": ""})
    gradescope.run(root)
    results = written(root)
    assert results["score"] == a_graded_fork()["score"] and "the score is the grader's" in results["output"]


@pytest.mark.fast
def test_a_run_translates_the_forks_results_of_the_submission_laid_out(tmp_path, monkeypatch):
    seen = {}

    def graded(fork, out, config, root):
        seen["files"] = sorted(p.relative_to(fork).as_posix() for p in fork.rglob("*") if p.is_file())
        (out / gradescope.FORK).mkdir(parents=True)
        (out / gradescope.FORK / "results.json").write_text(json.dumps(a_graded_fork()))

    monkeypatch.setattr(gradescope, "grade", graded)
    root = autograder_root(tmp_path, {"repo-main/mnist_checks/exercise.ipynb": "{}"})
    (root / "submission_metadata.json").write_text('{"users": [{"name": "Ada"}]}')
    gradescope.run(root)
    results = written(root)
    assert seen["files"] == ["mnist_checks/exercise.ipynb"]
    assert "Submitted by Ada." in results["output"] and results["score"] == a_graded_fork()["score"]
    assert results["extra_data"]["handed_in"] == "repo-main/mnist_checks/exercise.ipynb (a repository)"


@pytest.mark.fast
def test_setups_data_step_fetches_the_data_set_for_the_slow_tier_alone(tmp_path, monkeypatch):
    data = tmp_path / "mine" / "mnist.npz"
    data.parent.mkdir()
    data.write_bytes(b"digits")
    monkeypatch.setenv(ENV_DATA, str(data))
    fast = autograder_root(tmp_path / "fast", {}, config={**CONFIG, "tier": "fast"})
    assert gradescope.fetch_data(fast / "source", fast) is None and not (fast / gradescope.DATA_DIR).exists()
    every = autograder_root(tmp_path / "all", {})
    assert gradescope.fetch_data(every / "source", every).read_bytes() == b"digits"


@pytest.mark.fast
def test_the_modules_words_are_gradescopes():
    assert gradescope_results.VISIBILITIES == VISIBILITY and gradescope_results.OUTPUT_FORMATS == OUTPUT_FORMAT
    assert gradescope_results.STATUSES == STATUS


# --- e2e: the zip on a root laid out as Gradescope's ------------------------------------------------

#: The pip cache the environment is installed from (the registry for what it does not hold).
SETUP_STEPS = "python_environment data lock_down"


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The zip built and unpacked under a root laid out as /autograder, setup.sh's install steps
    run into a fresh virtual environment from the zip's own wheel; its timings."""
    from helpers import require_sandbox

    require_sandbox()
    # a root others may traverse, as /autograder is (pytest's own temporary folders are root's alone)
    root = Path(tempfile.mkdtemp(prefix="autograder-"))
    root.chmod(0o755)
    zipped = tmp_path_factory.mktemp("zip") / "autograder.zip"
    started = time.monotonic()
    assert cli.main(["gradescope", str(zipped)]) == 0
    built = time.monotonic() - started
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the modes: as Gradescope's unzip keeps them
            os.chmod(root / "source" / info.filename, info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope's image build does
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "MNIST_CHECKS_SETUP_STEPS": SETUP_STEPS,
           "MNIST_CHECKS_PYTHON": sys.executable}
    started = time.monotonic()
    # from the project's checkout, whose own mnist_checks setup.sh must never take for the installed one
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          cwd=REFERENCE_ROOT)
    installed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield {"root": root, "zip": zipped, "setup": done.stdout, "seconds": {"zip": built, "setup": installed}}
    shutil.rmtree(root, ignore_errors=True)


def submit(root: Path, files: dict[str, str]) -> dict:
    """Hand ``files`` in as a submission and run run_autograder as Gradescope does; its results.json."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    handed_in(root / "submission", files)
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"name": "A Student"}]}))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    started = time.monotonic()
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env={**env, "AUTOGRADER_ROOT": str(root)},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    results["seconds"] = time.monotonic() - started
    return results


def hostile(reference: Path) -> str:
    """The attack that looks everywhere for the instructor's solution, aimed at the autograder's."""
    from course import ATTACKS, MARKER, NOTHING_ELSE, PRELUDE

    text = PRELUDE + ATTACKS["imports-reference"] + NOTHING_ELSE.replace("{", "{{").replace("}", "}}")
    return text.format(reference=str(reference), out="/autograder/results", classmate=str(reference), port=9,
                       marker=MARKER, store="/nowhere")


@pytest.mark.e2e
def test_run_autograder_grades_each_kind_of_submission_as_grade_does_test_by_test(autograder, tmp_path):
    from course import SOURCE, STARTER

    from mnist_checks.grading.catalogue.mutants import MUTANTS, apply
    from mnist_checks.notebook import notebook_from_module

    root = autograder["root"]
    assert "the fast tier needs no data set" in autograder["setup"]
    for private in (root / "source", root / "results"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
    # the installed package holds the solutions: nothing of it readable by a fork's uid; the checkout untouched
    installed = next((root / "venv").glob("lib/python*/site-packages/mnist_checks"))
    assert not [path for path in [installed, *installed.rglob("*")] if path.stat().st_mode & 0o077]
    assert (REFERENCE_ROOT / "mnist_checks" / "exercise.py").stat().st_mode & 0o004
    mistake = apply(SOURCE, next(m for m in MUTANTS if m.name == "q2-sigmoid-hidden").edits)
    contracts = {"reference": SOURCE, "mistake": mistake, "starter": STARTER,
                 "hostile": hostile(root / "source" / "reference")}
    # each handed in another way: a repository one folder down, a lone notebook, a lone module, a repository
    submissions = {
        "reference": {"mnist-starter-main/mnist_checks/exercise.py": SOURCE, "mnist-starter-main/README.md": "mine"},
        "mistake": {"exercise.ipynb": nbformat.writes(notebook_from_module(mistake))},
        "starter": {"exercise.py": STARTER},
        "hostile": {"mnist_checks/exercise.py": contracts["hostile"]},
    }
    graded = {name: submit(root, files) for name, files in submissions.items()}

    forks = []
    for name, files in submissions.items():  # the same files, as forks of `mnist-checks grade`
        (relative, text), = [(p, t) for p, t in files.items() if Path(p).name.startswith("exercise.")]
        fork = tmp_path / "forks" / name
        handed_in(fork, {f"mnist_checks/{Path(relative).name}": text})
        forks.append(fork)
    assert cli.main(["grade", *map(str, forks), "--out", str(tmp_path / "grades"), "--jobs", "2"]) == 0
    for name, results in graded.items():
        assert spec_problems({k: v for k, v in results.items() if k != "seconds"}) == [], name
        theirs = json.loads((tmp_path / "grades" / name / "results.json").read_text())
        assert results["score"] == theirs["score"], name
        assert [(t["name"], t["score"], t["status"]) for t in results["tests"]] == [
            (t["name"], t["score"], t["status"]) for t in theirs["tests"]], name
        assert {t["visibility"] for t in results["tests"]} == {"visible"}
        assert results["extra_data"]["isolation"] in ("bubblewrap", "uid")
        assert results["extra_data"]["metadata"]["submitters"] == ["A Student"]
    assert graded["reference"]["score"] == 60 and "60 / 60" in graded["reference"]["output"]
    assert graded["reference"]["extra_data"]["handed_in"] == ("mnist-starter-main/mnist_checks/exercise.py "
                                                              "(a repository)")
    assert 0 < graded["mistake"]["score"] < 60
    assert {t["tags"][0] for t in graded["mistake"]["tests"] if t["status"] == "failed"} == {"q2"}
    assert graded["starter"]["score"] == 0 and "not started" in graded["starter"]["output"]
    assert graded["hostile"]["score"] == 0
    assert {t["status"] for t in graded["hostile"]["tests"]} == {"failed"}
    print("\nseconds:", {**autograder["seconds"], **{name: round(r["seconds"], 1) for name, r in graded.items()}})


@pytest.mark.e2e
def test_run_autograder_on_a_submission_without_a_contract_says_so_with_0(autograder):
    results = submit(autograder["root"], {"report.pdf": "%PDF"})
    assert spec_problems({k: v for k, v in results.items() if k != "seconds"}) == []
    assert results["score"] == 0 and "Nothing to grade" in results["output"]


def configured(root: Path, isolation: str) -> None:
    """The unpacked zip's settings with ``isolation``, as `mnist-checks gradescope --isolation` writes them."""
    path = root / "source" / gradescope.CONFIG
    path.write_text(json.dumps({**json.loads(path.read_text()), "isolation": isolation}))


class readable:
    """The installed package (the solutions) left readable to all for a while, as setup.sh's
    lock_down never leaves it."""

    def __init__(self, root: Path):
        installed = next((root / "venv").glob("lib/python*/site-packages/mnist_checks"))
        self.paths = [installed, *installed.rglob("*")]

    def __enter__(self):
        self.modes = {path: path.stat().st_mode for path in self.paths}
        for path in self.paths:
            path.chmod(path.stat().st_mode | (0o005 if path.is_dir() else 0o004))

    def __exit__(self, *exc):
        for path, mode in self.modes.items():
            path.chmod(mode)


@pytest.mark.e2e
def test_run_autograder_at_isolation_uid_gives_the_reference_its_points_and_the_hostile_fork_0(autograder):
    """Where user namespaces are refused (Docker's default seccomp profile): every fork as a uid of
    its own, the level recorded in results.json."""
    from course import SOURCE
    from helpers import require_uid

    require_uid()
    root = autograder["root"]
    configured(root, "uid")
    try:
        honest = submit(root, {"exercise.py": SOURCE})
        attack = submit(root, {"mnist_checks/exercise.py": hostile(root / "source" / "reference")})
    finally:
        configured(root, "strongest")
    for results in (honest, attack):
        assert spec_problems({k: v for k, v in results.items() if k != "seconds"}) == []
        assert results["extra_data"]["isolation"] == "uid"
    assert honest["score"] == 60 and attack["score"] == 0


@pytest.mark.e2e
def test_in_bubblewrap_an_installed_package_left_readable_still_hides_its_solutions(autograder):
    """A wheel's package in site-packages is covered by the solution-free copy in the sandbox, even
    where the checker imports the canonical copy first (issue 33: it was mounted as it is)."""
    root = autograder["root"]
    configured(root, "bubblewrap")
    try:
        with readable(root):
            attack = submit(root, {"mnist_checks/exercise.py": hostile(root / "source" / "reference")})
    finally:
        configured(root, "strongest")
    assert attack["extra_data"]["isolation"] == "bubblewrap" and attack["score"] == 0


@pytest.mark.e2e
def test_at_isolation_uid_an_installed_package_left_readable_is_refused_naming_it(autograder):
    from course import SOURCE
    from helpers import require_uid

    require_uid()
    root = autograder["root"]
    configured(root, "uid")
    try:
        with readable(root):
            refused = submit(root, {"exercise.py": SOURCE})
    finally:
        configured(root, "strongest")
    assert spec_problems({k: v for k, v in refused.items() if k != "seconds"}) == []
    assert refused["score"] == 0 and "site-packages/mnist_checks" in refused["output"]
