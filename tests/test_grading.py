"""The grader's parts: the starter, the rubric and its scores, the outputs Gradescope reads."""

import json

import pytest

from mnist_checks.grading import batch, checker, gradebook, intake, results
from mnist_checks.grading.contract import load_contract
from mnist_checks.grading.rubric import DEFAULT_RUBRIC, RubricError, load_rubric, score_tests, totals
from mnist_checks.grading.starter import starter_source

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


def test_default_rubric_gives_100_points_60_fast_and_40_slow():
    assert sum(t["fast"] for t in DEFAULT_RUBRIC.values()) == 60
    assert sum(t["slow"] for t in DEFAULT_RUBRIC.values()) == 40


def test_scores_give_partial_credit_within_a_question():
    tests = [{"question": "q2", "tier": "fast", "outcome": o} for o in ("passed", "failed", "passed")]
    tests.append({"question": "q4", "tier": "fast", "outcome": "passed"})
    sums = totals(score_tests(tests, DEFAULT_RUBRIC))
    assert sums["q2"] == pytest.approx((10.0, 15.0))
    assert sums["q4"] == pytest.approx((10.0, 10.0))
    assert sums["total"] == pytest.approx((20.0, 25.0))
    assert sums["fast"] == sums["total"]


@pytest.mark.parametrize(("content", "problem"), [
    ("{", "not a readable JSON"),
    ('{"q1": {"fast": 1, "slow": 1}}', "expected the questions"),
    (json.dumps({q: {"fast": 1} for q in DEFAULT_RUBRIC}), "exactly 'fast' and 'slow'"),
    (json.dumps({q: {"fast": -1, "slow": 1} for q in DEFAULT_RUBRIC}), "number of points"),
])
def test_a_bad_rubric_file_is_named_with_its_problem(tmp_path, content, problem):
    path = tmp_path / "rubric.json"
    path.write_text(content)
    with pytest.raises(RubricError, match=problem):
        load_rubric(path)


def test_an_instructors_rubric_is_used_as_given(tmp_path):
    rubric = {q: {"fast": 1, "slow": 2} for q in DEFAULT_RUBRIC}
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(rubric))
    assert load_rubric(path) == rubric


def a_result():
    tests = [
        {"id": "t::a", "question": "q1", "tier": "fast", "claim": "split sizes", "outcome": "passed"},
        {"id": "t::b", "question": "q1", "tier": "fast", "claim": "deterministic", "outcome": "failed",
         "message": "AssertionError: expected 10000 test rows, found 14000"},
    ]
    return results.ForkResult(fork="alice", path="/forks/alice", status="graded", commit="abc123",
                             tests=score_tests(tests, DEFAULT_RUBRIC), warnings=["edited tests/test_q1_split.py"])


def test_results_json_has_gradescopes_fields_and_feedback():
    data = results.results_json(a_result())
    assert {"score", "max_score", "execution_time", "output", "tests"} <= set(data)
    assert (data["score"], data["max_score"]) == (5.0, 10.0)
    failed = data["tests"][1]
    assert failed["status"] == "failed" and failed["score"] == 0 and failed["max_score"] == 5.0
    assert failed["name"] == "Q1 (fast): deterministic" and failed["number"] == "1.2"
    assert "expected 10000 test rows, found 14000" in failed["output"]
    assert "warning: edited tests/test_q1_split.py" in data["output"]


def _starter_run(raised: dict[str, str]) -> list[dict]:
    """Graded tests as the checker logs them: each test's question and what it raised
    (``"passed"``, an exception's type, or ``NotImplementedError`` raised by a contract function)."""
    tests = []
    for question, what in raised.items():
        for i in range(3):
            test = {"id": f"t::{question}{i}", "question": question, "tier": "fast", "claim": "a claim.",
                    "outcome": "passed" if what == "passed" else "failed", "phase": "call" if i else "setup"}
            if what.endswith("()"):
                test.update(error="NotImplementedError", raised_by=what[:-2],
                            message=f"not implemented yet: {question.upper()}: {what[:-2]} is not implemented yet")
            elif what != "passed":
                test.update(error=what, message=f"{what}: something else")
            tests.append(test)
    return tests


@pytest.mark.parametrize(("raised", "reason"), [
    ({"q1": "split()", "q2": "build_mlp()", "q3": "predicted_digits()", "q4": "scale()", "q5": "build_cnn()"},
     batch.NOT_STARTED),
    ({"q1": "split()", "q2": "build_mlp()", "q3": "predicted_digits()", "q4": "passed", "q5": "build_cnn()"}, ""),
    ({"q1": "split()", "q2": "build_mlp()", "q3": "predicted_digits()", "q4": "AssertionError", "q5": "build_cnn()"},
     ""),
])
def test_a_fork_whose_every_graded_test_raised_not_implemented_reads_as_not_started(raised, reason):
    """The gradebook's reason for a fork whose every graded test raised NotImplementedError is "not started";
    a fork that passes or fails any test otherwise keeps its normal (empty) reason."""
    result = results.ForkResult(fork="f", path="/forks/f", status="graded",
                               tests=score_tests(_starter_run(raised), DEFAULT_RUBRIC))
    batch.classify(result)
    assert (result.status, result.reason) == ("graded", reason)
    assert gradebook.gradebook_rows([result])[0]["reason"] == reason


def test_scores_are_shown_to_two_decimals_and_totals_are_exact_sums_of_shares_of_thirds(tmp_path):
    """With shares in thirds, results.json and the gradebook show scores rounded to 2 decimals, and a fork
    that passes everything has exactly the rubric's points (10, not 9.999999999999998)."""
    rubric = {q: {"fast": 2, "slow": 0} for q in DEFAULT_RUBRIC}
    everything = _starter_run({q: "passed" for q in DEFAULT_RUBRIC})
    full = results.ForkResult(fork="full", path="/forks/full", status="graded", tests=score_tests(everything, rubric))
    assert full.totals["total"] == (10.0, 10.0) and full.totals["fast"] == (10.0, 10.0)
    data = results.results_json(full)
    assert (data["score"], data["max_score"]) == (10.0, 10.0)
    assert data["extra_data"]["by_question"]["q1"] == [2.0, 2.0]
    assert {(t["score"], t["max_score"]) for t in data["tests"]} == {(0.67, 0.67)}
    raised = {q: "passed" for q in DEFAULT_RUBRIC}
    raised["q1"] = "AssertionError"
    some = _starter_run(raised)
    some[0]["outcome"] = some[1]["outcome"] = "passed"  # q1: 2 of 3
    part = results.ForkResult(fork="part", path="/forks/part", status="graded", tests=score_tests(some, rubric))
    data = results.results_json(part)
    assert (data["score"], data["extra_data"]["by_question"]["q1"]) == (9.33, [1.33, 2.0])
    assert data["output"].startswith("part: 9.33 / 10.0 (graded)")
    gradebook.write_gradebook([full, part], tmp_path / "gradebook.csv")
    import csv

    with open(tmp_path / "gradebook.csv") as handle:
        rows = {row["fork"]: row for row in csv.DictReader(handle)}
    assert [rows["full"][k] for k in ("total", "max", "q1", "fast")] == ["10.0", "10.0", "2.0", "10.0"]
    assert [rows["part"][k] for k in ("total", "max", "q1", "q2", "fast")] == ["9.33", "10.0", "1.33", "2.0", "9.33"]


def test_junit_xml_lists_each_test_and_its_failure():
    from xml.etree import ElementTree

    suite = ElementTree.fromstring(results.junit_xml(a_result()))
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert [case.find("failure") is not None for case in suite.iter("testcase")] == [False, True]


def test_gradebook_has_a_row_per_fork_with_questions_and_tiers(tmp_path):
    gradebook.write_gradebook([a_result()], tmp_path / "gradebook.csv")
    header, row = (tmp_path / "gradebook.csv").read_text().splitlines()
    assert header.split(",") == ["fork", "path", "commit", "status", "total", "max", "q1", "q2", "q3", "q4", "q5",
                                 "fast", "slow", "isolation", "memory", "reason", "warnings", "trainings",
                                 "reused"]
    assert row.startswith("alice,/forks/alice,abc123,graded,5.0,10.0,5.0,,,,,5.0,,")


def test_gradebook_says_which_trainings_a_fork_used_and_how_many_were_reused():
    import dataclasses

    trained = dataclasses.replace(a_result(), trainings={
        "mlp_raw": {"key": "a" * 64, "reused": True}, "cnn": {"key": "b" * 64, "reused": False},
        "mlp_scaled": {"key": None, "why": "layer dropout (Dropout) is not one of Keras's deterministic layers"}})
    (row,) = gradebook.gradebook_rows([trained])
    assert row["trainings"] == f"mlp_raw={'a' * gradebook.SHORT_KEY} cnn={'b' * gradebook.SHORT_KEY} mlp_scaled=unkeyed"
    assert row["reused"] == "1/3"
    other = dataclasses.replace(trained, fork="bob", trainings={"mlp_raw": {"key": "a" * 64, "reused": True}})
    assert gradebook.shared_trainings([trained, other]).startswith(
        "trainings: 4 trained models of 2 fork(s), 2 distinct: 1 trained in this call, 2 reused, "
        "1 unkeyed (trained each time)")


def test_regrading_some_forks_keeps_every_other_row_of_the_gradebook(tmp_path):
    import dataclasses

    book = tmp_path / "gradebook.csv"
    alice, bob = a_result(), dataclasses.replace(a_result(), fork="bob", path="/forks/bob")
    gradebook.write_gradebook([alice, bob], book)
    earlier = gradebook.read_gradebook(book)
    passed = [{**t, "outcome": "passed", "score": t["max_score"]} for t in alice.tests]
    regraded = dataclasses.replace(alice, tests=passed)
    carol = dataclasses.replace(a_result(), fork="carol", path="/forks/carol")
    gradebook.write_gradebook(gradebook.merge_gradebook(earlier, [regraded, carol]), book)
    rows = gradebook.read_gradebook(book)
    assert [(r["fork"], r["total"]) for r in rows] == [("alice", "10.0"), ("bob", "5.0"), ("carol", "5.0")]
    changes = gradebook.gradebook_changes(earlier, [regraded, carol])
    assert changes == {"added": ["carol"], "changed": ["alice (5.0 -> 10.0)"], "unchanged": [], "kept": ["bob"]}


def test_a_fork_keeps_its_gradebook_name_and_a_new_fork_with_the_same_folder_name_gets_another(tmp_path):
    (tmp_path / "a" / "alice").mkdir(parents=True)
    (tmp_path / "b" / "alice").mkdir(parents=True)
    taken = {"alice": str((tmp_path / "a" / "alice").resolve())}
    names = intake.unique_names([tmp_path / "b" / "alice", tmp_path / "a" / "alice"], taken=taken)
    assert names == {"alice-2": tmp_path / "b" / "alice", "alice": tmp_path / "a" / "alice"}


@pytest.mark.parametrize("content", ["name,score\nalice,3\n", "\x00\xff\xfe"])
def test_a_foreign_gradebook_csv_is_refused_and_left_alone(tmp_path, capsys, content):
    from mnist_checks import cli

    (tmp_path / "fork").mkdir()
    book = tmp_path / "out" / "gradebook.csv"
    book.parent.mkdir()
    book.write_bytes(content.encode("latin-1"))
    assert cli.main(["grade", str(tmp_path / "fork"), "--out", str(book.parent)]) == 2
    err = capsys.readouterr().err
    assert "gradebook.csv" in err and "move that file away" in err and "Traceback" not in err
    assert book.read_bytes() == content.encode("latin-1")


def test_edits_to_canonical_files_are_warnings(tmp_path):
    reference, fork = tmp_path / "reference", tmp_path / "fork"
    for root in (reference, fork):
        (root / "tests").mkdir(parents=True)
        (root / "tests" / "test_q1.py").write_text("def test(): assert split()\n")
    (fork / "tests" / "test_q1.py").write_text("def test(): assert True\n")
    (fork / "tests" / "test_mine.py").write_text("")
    warnings = intake.edited_canonical_files(fork, reference)
    assert warnings == [
        "added tests/test_mine.py (ignored: the canonical tests and settings ran)",
        "edited tests/test_q1.py (ignored: the canonical tests and settings ran)",
    ]


def test_marker_expression_selects_graded_tests_of_a_tier():
    assert checker.marker_expression("fast") == "(fast) and (q1 or q2 or q3 or q4 or q5)"
    assert checker.marker_expression("all").startswith("(fast or slow) and")


def test_the_real_starters_package_holds_no_solution_line_in_any_module(tmp_path):
    """Students get the package without the solutions: not in the contract, and not quoted in
    any other module (the mutation catalogue quotes them, so it stays with the instructor)."""
    from pathlib import Path

    from mnist_checks import exercise
    from mnist_checks.grading.starter import solution_lines, write_starter

    reference = Path(exercise.__file__).resolve().parent.parent
    write_starter(reference, tmp_path / "starter")
    secret = solution_lines((reference / "mnist_checks" / "exercise.py").read_text())
    leaks = {str(p.relative_to(tmp_path)): [line for line in secret if line in p.read_text(errors="replace")]
             for p in (tmp_path / "starter" / "mnist_checks").rglob("*") if p.is_file()}
    assert {path: lines for path, lines in leaks.items() if lines} == {}


def test_starter_project_holds_what_students_need_and_none_of_the_instructors_material(tmp_path):
    from mnist_checks.grading.starter import STARTER_README, write_starter

    reference = tmp_path / "reference"
    students = ["mnist_checks/exercise.py", "mnist_checks/data.py", "tests/test_q1_split.py", "tests/test_full_data.py",
                "tests/data/mnist_sample.npz", "conftest.py", "pyproject.toml"]
    instructors = ["mnist_checks/grading/mutants.py", "mnist_checks/grading/variants.py", "tests/test_grading.py",
                   "tests/test_run.py", "tests/test_new.py", "tests/data/contracts/independent_01_style.py",
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


def _git(repo, *args) -> str:
    import subprocess

    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_the_starter_is_a_git_repository_with_one_commit_of_all_its_files_whatever_the_users_git_config(
        tmp_path, monkeypatch):
    """The starter is a git repository on main with exactly one commit, by mnist-checks, of every file it holds,
    even where the user has no git identity and a git configuration that signs and names branches otherwise."""
    from pathlib import Path

    from mnist_checks import exercise
    from mnist_checks.grading.starter import STARTER_MESSAGE, write_starter

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
    log = _git(starter, "log", "--format=%an <%ae>|%cn <%ce>|%s|%G?")
    assert log == f"mnist-checks <mnist-checks@localhost>|mnist-checks <mnist-checks@localhost>|{STARTER_MESSAGE}|N"
    assert _git(starter, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    on_disk = sorted(p.relative_to(starter).as_posix() for p in starter.rglob("*")
                     if p.is_file() and ".git" not in p.relative_to(starter).parts)
    assert sorted(_git(starter, "ls-files").splitlines()) == on_disk and len(on_disk) > 20
    assert _git(starter, "status", "--porcelain", "--ignored") == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "starter"], "nothing left beside it"
    assert intake.head_commit(starter) == _git(starter, "rev-parse", "HEAD")[:7]


def test_a_fork_skipped_as_graded_before_gets_its_new_head_commit_in_the_gradebook(tmp_path):
    """A fork whose contract is unchanged since it was graded keeps its grade, and its row names the commit it
    is at now, not the one it was graded at."""
    import dataclasses

    from mnist_checks.grading import sandbox
    from mnist_checks.grading.starter import commit_starter

    fork, out = tmp_path / "fork", tmp_path / "grades" / "fork"
    (fork / "mnist_checks").mkdir(parents=True)
    (fork / "mnist_checks" / "exercise.py").write_text(REFERENCE)
    first = commit_starter(fork)
    scored_with = batch.Batch(tier="fast", rubric=DEFAULT_RUBRIC, graded=[], key_base="a batch",
                              isolation=sandbox.UNISOLATED, reference=tmp_path)
    job = batch.prepare(fork, "fork", out, scored_with)
    assert isinstance(job, checker.Job) and job.commit == first[:7]
    earlier = dataclasses.replace(a_result(), fork="fork", path=str(fork), commit=job.commit, key=job.key)
    results.write_fork_outputs(earlier, out, "")
    _git(fork, "-c", "user.name=A Student", "-c", "user.email=s@example.com", "commit", "--quiet", "--allow-empty",
         "--message", "README only")
    cached = batch.prepare(fork, "fork", out, scored_with)
    assert isinstance(cached, results.ForkResult) and cached.status == "cached"
    assert cached.commit == _git(fork, "rev-parse", "HEAD")[:7] != first[:7]
    assert gradebook.gradebook_rows([cached])[0]["commit"] == cached.commit


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
    import yaml

    from mnist_checks.grading.starter import classroom_workflow
    from mnist_checks.questions import QUESTIONS
    workflow = yaml.safe_load(classroom_workflow(DEFAULT_RUBRIC))
    steps = workflow["jobs"]["autograding"]["steps"]
    graders = {s["id"]: s["with"] for s in steps
               if s.get("uses", "").startswith("classroom-resources/autograding-command")}
    assert {q: graders[q]["max-score"] for q in QUESTIONS} == {q: DEFAULT_RUBRIC[q]["fast"] for q in QUESTIONS}
    assert {q: graders[q]["command"] for q in QUESTIONS} == {
        q: f'pytest -m "fast and {q}" -p no:cacheprovider' for q in QUESTIONS}
    reporter = next(s for s in steps
                    if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter"))
    assert reporter["with"]["runners"].split(",") == list(QUESTIONS)
    assert set(reporter["env"]) == {f"{q.upper()}_RESULTS" for q in QUESTIONS}
    assert all(f"steps.{q}.outputs.result" in reporter["env"][f"{q.upper()}_RESULTS"] for q in QUESTIONS)


@pytest.mark.parametrize(("argv", "problem"), [
    (["grade", "{tmp}/missing"], "not a directory"),
    (["grade", "{tmp}", "--rubric", "{tmp}/none.json"], "not a readable JSON rubric"),
    (["grade", "{tmp}", "--reference", "{tmp}"], "not the reference checkout"),
    (["starter", "{tmp}/out", "--reference", "{tmp}"], "not the reference checkout"),
])
def test_grade_and_starter_commands_reject_bad_input_with_a_message(tmp_path, capsys, argv, problem):
    from mnist_checks import cli

    assert cli.main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err


def test_starter_command_refuses_to_overwrite_a_directory(tmp_path, capsys):
    from mnist_checks import cli

    (tmp_path / "kept.txt").write_text("mine")
    assert cli.main(["starter", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "kept.txt").read_text() == "mine"


def test_grading_refuses_where_forks_cannot_be_sandboxed_and_names_the_remedy(tmp_path, capsys, monkeypatch):
    """No bubblewrap on this PATH: the grader says why and how to proceed, and grades nothing."""
    from mnist_checks import cli

    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "fork").mkdir()
    assert cli.main(["grade", str(tmp_path / "fork"), "--out", str(tmp_path / "grades")]) == 2
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "apt-get install bubblewrap" in err and "--allow-unisolated" in err
    assert "Traceback" not in err and not (tmp_path / "grades").exists()


@pytest.mark.parametrize(("kind", "lines", "feedback"), [
    ("AssertionError", ["assert (56000, 14000) == (60000, 10000)", "", "At index 0 diff: 56000 != 60000",
                        "Use -v to get more diff"],
     "expected: (60000, 10000)\nfound:    (56000, 14000)\nfirst difference at position 0: found 56000, expected 60000"),
    ("AssertionError", ["assert 3 == 2", "+  where 3 = len(array([4, 9, 2]))",
                        "Failing test case: test_split_takes_one_seventh_rounded_up_as_test_rows(",
                        "contract=<IsolatedContract exercise.py (bubblewrap)>,", "n=11,",
                        "seed=0,  # or any other generated value", ")"],
     "expected: 2\nfound:    3\nwhere 3 = len(array([4, 9, 2]))\nfor example with n=11, seed=0"),
    ("AssertionError", ["Arrays are not equal", "ACTUAL: array([0.996], dtype=float32)", "DESIRED: array([1])"],
     "expected: array([1])\nfound:    array([0.996], dtype=float32)\nArrays are not equal"),
    ("AssertionError", ["assert (np.float32(0.0) == 0.0 and np.float32(0.996) == 1.0)"],
     "this was false: (np.float32(0.0) == 0.0 and np.float32(0.996) == 1.0)"),
    ("ValueError", ["bad shape (/sandbox/fork/exercise.py line 12)",
                    "in /tmp/mnist-checks-grader-x1/canon/tests/test_q4_scale.py:33"],
     "ValueError: bad shape (exercise.py line 12)\nin tests/test_q4_scale.py:33"),
])
def test_feedback_says_expected_and_found_in_plain_words_without_the_graders_paths(kind, lines, feedback):
    from mnist_checks.grading.feedback import plain_words

    assert plain_words(kind, lines) == feedback
