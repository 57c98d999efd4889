"""This suite run by pytest inside pytest, as students and the grader run it: the points per
question at the end of each run, the graded tests' claims as collected, and the slow tier's stop
when the data is missing. Each test starts a pytest that imports TensorFlow (the e2e tier)."""

import re
from pathlib import Path

import pytest

from mnist_checks.grading.course import checker
from mnist_checks.grading.solutions import starter_source

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("pytest_runs")]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graded():
    """Every graded test of this checkout, as the grader collects them (one pytest, both tiers)."""
    return checker.collect_graded_tests(ROOT, "all")


def test_every_pytest_run_ends_with_the_points_per_question_of_the_tests_that_ran(tmp_path):
    """A student sees their points per question at the end of each run: full marks for the
    reference, fewer for a Q4 that divides by 256; the same over two pytest-xdist workers."""
    import subprocess
    import sys

    from mnist_checks import exercise

    reference = Path(exercise.__file__).read_text()
    wrong = tmp_path / "exercise.py"
    wrong.write_text(reference.replace("np.float32(255)", "np.float32(256)"))

    def points(*contract):
        done = subprocess.run([sys.executable, "-m", "pytest", "-m", "fast and q4", "-p", "no:cacheprovider",
                               "tests/test_q4_scale.py", *contract], cwd=ROOT, capture_output=True, text=True)
        return re.search(r"^Q4 +([\d.]+)/10 +fast (\d+)/(\d+) tests$", done.stdout, re.MULTILINE)

    right, divided = points(), points("--contract", str(wrong))
    assert right and float(right[1]) == 10 and right[2] == right[3]
    assert divided and float(divided[1]) < 10 and int(divided[2]) < int(divided[3])
    divided_in_parallel = points("--contract", str(wrong), "-n", "2")
    assert divided_in_parallel and divided_in_parallel.groups() == divided.groups()


def test_the_end_of_run_summary_names_the_function_of_each_question_not_started(tmp_path):
    """A student's run of the starter ends with one line per untouched question, naming the function that still
    raises NotImplementedError (`Q2   0.0/15  not started: build_mlp raises NotImplementedError`); a question
    they started keeps its counts; each function not written yet is told once, in one line, without a traceback."""
    import subprocess
    import sys

    from mnist_checks import exercise

    starter = starter_source(Path(exercise.__file__).read_text())
    q4 = 'raise NotImplementedError("Q4: scale is not implemented yet")'
    assert q4 in starter
    contract = tmp_path / "exercise.py"  # the starter with Q4 done
    contract.write_text(starter.replace(q4, "return np.asarray(X, dtype=np.float32) / np.float32(255)"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "fast and (q2 or q4 or q5)", "-p", "no:cacheprovider",
                           "tests/test_q2_mlp.py", "tests/test_q4_scale.py", "tests/test_q5_cnn.py",
                           "--contract", str(contract)], cwd=ROOT, capture_output=True, text=True)
    summary = done.stdout.split("points per question")[-1]
    assert re.search(r"^Q2   0\.0/15  not started: build_mlp raises NotImplementedError$", summary, re.MULTILINE)
    assert re.search(r"^Q5   0\.0/15  not started: to_images, build_cnn raise NotImplementedError$", summary,
                     re.MULTILINE)
    assert re.search(r"^Q4  10\.0/10  fast (\d+)/\1 tests$", summary, re.MULTILINE)
    assert re.search(r"^Q2: build_mlp is not implemented yet \(\d+ tests wait for it\)$", done.stdout, re.MULTILINE)
    assert "build_mlp is not implemented yet" not in done.stdout.replace("\nQ2: build_mlp is not implemented yet (", "")
    assert 'raise NotImplementedError("' not in done.stdout, "no traceback down to the starter's line"


def _figures() -> set[float]:
    """Every number ``mnist_checks.facts`` holds: its constants, tuples, mappings, published figures."""
    from dataclasses import astuple

    from mnist_checks import facts

    found, pending = set(), [value for name, value in vars(facts).items() if not name.startswith("_")]
    while pending:
        value = pending.pop()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.add(float(value))
        elif isinstance(value, (tuple, list)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, facts.Published):
            pending.extend(astuple(value))
    return found


def test_every_graded_claim_is_a_sentence_whose_figures_are_the_published_ones(graded):
    """What a student reads for each graded test is its docstring's first line: a whole sentence
    (not the test's name), and every decimal or figure of 1,000 and more in it is one of
    ``facts``'s, so a claim can neither lose its decimals nor keep a stale figure."""
    figures = _figures()
    assert len(graded) > 50
    problems = []
    for test in graded:
        claim = test.claim
        if not claim.endswith("."):
            problems.append(f"{test.id}: no one-line docstring claim, the student would read {claim!r}")
        for number in re.findall(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?", claim):
            value = float(number.replace(",", ""))
            if ("." in number or value >= 1000) and value not in figures:
                problems.append(f"{test.id}: {number} in {claim!r} is no figure of mnist_checks.facts")
    assert problems == []


def test_the_starters_readme_states_every_claim_the_tests_check(graded):
    """Students read the rules where they work: every graded test's claim is in their README."""
    readme = (ROOT / "docs" / "starter-README.md").read_text()
    claims = {test.claim for test in graded}
    assert len(claims) > 40
    assert sorted(claim for claim in claims if claim not in readme) == []


def test_the_example_rubric_weighs_each_collected_behaviour_check_at_half_its_questions_fast_points(graded):
    """docs/rubric-example.json (issue 34) on the graded tests as the grader collects them, tags and all."""
    from fractions import Fraction

    from mnist_checks.grading.students.rubric import check_weights, load_rubric, score_tests

    rubric = load_rubric(ROOT / "docs" / "rubric-example.json")
    check_weights(rubric, graded)
    scored = score_tests([{**test.to_json(), "outcome": "passed"} for test in graded], rubric)
    behaviour = {test["id"]: test for test in scored if "behaviour" in test["tags"]}
    assert sorted(behaviour) == [
        "tests/test_q2_mlp.py::test_mlp_computes_what_dense_32_relu_then_dense_10_softmax_computes",
        "tests/test_q5_cnn.py::test_cnn_computes_what_the_exercises_convolutions_pooling_and_dense_layers_compute"]
    assert all(Fraction(test["share"]) == Fraction(rubric[test["question"]]["fast"], 2) for test in behaviour.values())
    assert sum(Fraction(test["share"]) for test in scored) == 100


def test_the_slow_tier_without_data_stops_once_at_once_with_the_remedy(tmp_path):
    """No data: one message naming the remedy, before any test runs, not an error per test."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MNIST_CHECKS_DATA": str(tmp_path / "nowhere"), "MNIST_CHECKS_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "slow", "-p", "no:cacheprovider",
                           "tests/test_claims.py", "tests/test_q3_predictions.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]
    assert output.count("need the full MNIST data set") == 1 and "MNIST_CHECKS_DATA=" in output
    assert "--data" not in output, "pytest has no --data: the remedy is the environment variable"
    assert "nowhere" in output and "Traceback" not in output and " passed" not in output and " error" not in output


def test_seeds_n_checks_every_claim_of_the_run_once_per_seed_and_refuses_a_count_below_one():
    """`pytest -m slow --seeds 2` runs each test of the exercise's run once on seed 0's run and once
    on seed 1's; tests of the data alone run once; without --seeds the ids are the grader's."""
    import subprocess
    import sys

    def collected(*options):
        done = subprocess.run([sys.executable, "-m", "pytest", "-m", "slow", "--collect-only", "-q",
                               "-p", "no:cacheprovider", "tests/test_claims.py", "tests/test_full_data.py", *options],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        return done, [line for line in done.stdout.splitlines() if line.startswith("tests/")]

    _, once = collected()
    done, twice = collected("--seeds", "2")
    assert done.returncode == 0, done.stdout[-2000:]
    of_the_run = [test for test in once if test.startswith("tests/test_claims.py")]
    assert len(of_the_run) > 15 and not any("seed" in test for test in once)
    for test in of_the_run:
        for seed in (0, 1):
            base, _, parameters = test.partition("[")
            with_seed = f"{base}[seed{seed}-{parameters}" if parameters else f"{base}[seed{seed}]"
            assert with_seed in twice, f"{with_seed} not collected with --seeds 2"
    assert len(twice) == 2 * len(of_the_run) + len(once) - len(of_the_run)
    refused, _ = collected("--seeds", "0")
    assert refused.returncode == 4 and "the number of seeds is a whole number, 1 or more" in refused.stderr
