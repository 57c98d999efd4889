"""The mutation catalogue and its report: every edit applies to the reference, and the report
counts kills, false fails and points lost outside a mutant's question correctly; the catalogue's
contracts as notebooks: the exercise's own code cells as published, and the rest built from modules."""

import ast
import re
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from mnist_checks import exercise
from mnist_checks.grading.catalogue.mutants import MUTANTS, VARIANTS, Edit, EditDoesNotApply, apply
from mnist_checks.grading.catalogue.mutation_report import (
    NOTEBOOK_SUFFIX,
    Outcome,
    as_notebooks,
    build_forks,
    counts,
    generated,
    independent,
    markdown,
    notebook_sample,
    summarise,
    verdict,
)
from mnist_checks.grading.catalogue.published_notebook import CODE_CELLS, SECTIONS, published_notebook
from mnist_checks.grading.catalogue.variants import PUBLISHED, generate_variants, published_functions
from mnist_checks.grading.contract import CONTRACT, FUNCTIONS, pick
from mnist_checks.grading.solutions import starter_source
from mnist_checks.notebook import NOTEBOOK, contract_from_notebook, read_notebook

pytestmark = pytest.mark.fast

SOURCE = open(exercise.__file__).read()


def test_the_catalogue_has_40_mistakes_over_every_question_and_10_correct_variants():
    assert len(MUTANTS) >= 40 and len(VARIANTS) >= 10
    assert {m.question for m in MUTANTS} == {"q1", "q2", "q3", "q4", "q5"}
    names = [item.name for item in (*MUTANTS, *VARIANTS)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("item", [*MUTANTS, *VARIANTS], ids=lambda item: item.name)
def test_every_edit_applies_once_and_leaves_valid_python(item):
    edited = apply(SOURCE, item.edits)
    assert edited != SOURCE
    compile(edited, item.name, "exec")


def test_an_edit_that_no_longer_matches_the_reference_fails_loudly():
    with pytest.raises(EditDoesNotApply, match="occurs 0 times"):
        apply(SOURCE, (Edit("split", "test_size=0.25", "test_size=0.3"),))
    with pytest.raises(EditDoesNotApply, match="no function"):
        apply(SOURCE, (Edit("build_rnn", "x", "y"),))


def test_an_edit_touches_only_the_function_it_names():
    """Both builders end in the same softmax layer: a Q2 edit must leave the CNN alone."""
    old = 'keras.layers.Dense(N_CLASSES, activation="softmax"),'
    edited = apply(SOURCE, (Edit("build_mlp", old, "keras.layers.Dense(N_CLASSES),"),))
    assert edited.count(old) == SOURCE.count(old) - 1
    assert edited.split("def build_cnn")[1] == SOURCE.split("def build_cnn")[1]


def outcome(name, kind, question, lost):
    total = sum(lost.values())
    return Outcome(name=name, kind=kind, question=question, what="", score=60 - total, max_score=60, lost=lost,
                   caught_by=["t::a"] if total else [])


def test_the_report_counts_kills_survivors_false_fails_and_misplaced_points():
    outcomes = [
        outcome("a", "mutant", "q1", {"q1": 5, "q4": 0}),
        outcome("b", "mutant", "q1", {"q1": 0}),
        outcome("c", "mutant", "q2", {"q2": 3, "q5": 1}),
        outcome("ok", "variant", "", {"q2": 0}),
        outcome("bad", "variant", "", {"q3": 2}),
    ]
    report = summarise(outcomes, "fast")
    assert report["kill_rate"] == pytest.approx(2 / 3) and report["survivors"] == ["b"]
    assert report["per_question"]["q1"] == {"mutants": 2, "killed": 1, "kill_rate": 0.5}
    assert report["false_fails"] == ["bad"] and report["false_fail_rate"] == 0.5
    assert report["misplaced_points"] == {"c": {"q5": 1}}
    text = markdown(report)
    assert "**survives**" in text and "**false fail**" in text and "66.7%" in text


@pytest.mark.parametrize(("outcomes", "tier", "min_kill_rate", "failing"), [
    ([outcome("a", "mutant", "q1", {"q1": 5}), outcome("ok", "variant", "", {})], "fast", 0.0, []),
    ([outcome("a", "mutant", "q1", {"q1": 5}), outcome("bad", "variant", "", {"q3": 2})], "fast", 0.0,
     ["correct variants lost points: bad"]),
    ([outcome("c", "mutant", "q2", {"q2": 3, "q5": 1})], "fast", 0.0,
     ["mistakes lost points outside their own question: c (Q5)"]),
    ([outcome("c", "mutant", "q2", {"q2": 3, "q5": 1})], "slow", 0.0, []),  # misplaced points fail the fast tier alone
    ([outcome("a", "mutant", "q1", {"q1": 5}), outcome("b", "mutant", "q1", {"q1": 0})], "fast", 0.75,
     ["kill rate 50.0% is below --min-kill-rate 75.0%"]),
])
def test_the_reports_verdict_fails_it_for_a_false_fail_misplaced_points_or_too_few_kills(outcomes, tier,
                                                                                       min_kill_rate, failing):
    assert verdict(summarise(outcomes, tier), min_kill_rate) == failing


# --- the catalogue as notebooks ------------------------------------------------------------------

REFERENCE_ROOT = Path(exercise.__file__).resolve().parent.parent
#: The published exercise (an IPython transcript), beside the checkout as CI has it: ../shared/seed.
SEED = REFERENCE_ROOT.parent / "shared" / "seed" / "000_2d9ef0ec2f92d1dd.txt"


def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"the published exercise is not beside this checkout ({SEED} is absent)")
    return SEED.read_text()


def in_cells(transcript: str) -> dict[int, str]:
    """``In [n]:`` -> its code: the prompt's line and its ``...:`` continuations, prompts cut off."""
    cells, lines = {}, iter(transcript.splitlines())
    line = next(lines, None)
    while line is not None:
        prompt = re.match(r"In \[(\d+)\]: ?(.*)$", line)
        line = next(lines, None)
        if prompt:
            code = [prompt.group(2)]
            while line is not None and (more := re.match(r"\s+\.\.\.: ?(.*)$", line)):
                code.append(more.group(1))
                line = next(lines, None)
            cells[int(prompt.group(1))] = "\n".join(code)
    return cells


def headings(transcript: str) -> list[str]:
    """The transcript's markdown headings, outside its fenced blocks."""
    found, fenced = [], False
    for line in transcript.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("#"):
            found.append(line)
    return found


def test_the_published_notebooks_code_cells_are_the_exercises_in_cells_verbatim():
    text = seed_text()
    assert dict(enumerate(CODE_CELLS, 1)) == in_cells(text)
    assert [heading for heading, _, _ in SECTIONS] == headings(text)
    assert [step for _, steps, _ in SECTIONS for step in steps] == list(range(1, len(CODE_CELLS) + 1))


def test_the_published_notebook_is_its_sections_with_a_cell_per_contract_function_after_its_questions_cells():
    """Its code cells: the exercise's, numbered as published, and after them ``published``'s own six definitions."""
    cells = published_notebook().cells
    assert [c.source for c in cells if c.cell_type == "markdown"] == [heading for heading, _, _ in SECTIONS]
    numbered = [c for c in cells if c.cell_type == "code" and c.execution_count]
    assert [(c.execution_count, c.source) for c in numbered] == list(enumerate(CODE_CELLS, 1))
    answers = [c.source + "\n" for c in cells if c.cell_type == "code" and not c.execution_count]
    assert answers == [published_functions()[f] for _, _, functions in SECTIONS for f in functions]
    assert sorted(published_functions()) == sorted(FUNCTIONS)


def test_the_built_published_notebook_keeps_its_imports_and_functions_and_leaves_out_every_fit():
    built = contract_from_notebook(read_notebook(nbformat.writes(published_notebook()).encode()))
    assert defined(built.source) == defined(generate_variants()[0].source)
    assert ".fit(" not in built.source and "metrics='acc'" not in built.source
    assert sum(".fit(" in line for line in built.left_out) == 3


def defined(source: str) -> dict[str, str]:
    """A module's functions, each as its syntax tree's dump."""
    return {node.name: ast.dump(node) for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def test_every_notebook_fork_holds_its_notebook_beside_the_starters_exercise_py_and_is_graded_from_it(tmp_path):
    """``--notebooks all``: each notebook is picked over the starter's module and builds back the
    very functions of the same contract as a module."""
    handed_in = as_notebooks(REFERENCE_ROOT, "all")
    forks = build_forks(REFERENCE_ROOT, tmp_path, (*generated(), *independent(REFERENCE_ROOT)), handed_in)
    starter = starter_source(SOURCE)
    for item in handed_in:
        assert (forks[item.name] / CONTRACT).read_text() == starter
        picked = pick(starter, (forks[item.name] / NOTEBOOK).read_bytes())
        assert picked.file == NOTEBOOK and picked.note == "graded exercise.ipynb: exercise.py is the starter's"
        module = (forks[item.module] / CONTRACT).read_text()
        assert defined(picked.source) == defined(module), item.name


def test_notebook_names_are_their_modules_and_a_suffix_distinct_from_every_module_name():
    handed_in = as_notebooks(REFERENCE_ROOT, "all")
    modules = {item.name for item in (*MUTANTS, *VARIANTS, *generate_variants(), *independent(REFERENCE_ROOT))}
    names = [item.name for item in handed_in]
    assert len(names) == len(set(names)) and not set(names) & modules
    assert all(item.name == item.module + NOTEBOOK_SUFFIX and item.module in modules for item in handed_in)
    assert as_notebooks(REFERENCE_ROOT, "none") == ()
    with pytest.raises(ValueError):
        as_notebooks(REFERENCE_ROOT, "some")


def test_the_notebook_sample_is_one_mistake_per_question_of_every_keras_the_same_every_call():
    sample = notebook_sample()
    assert [m.question for m in sample] == ["q1", "q2", "q3", "q4", "q5"]
    assert all(m.only_on_keras is None for m in sample) and sample == notebook_sample()
    default = as_notebooks(REFERENCE_ROOT)
    assert [item.module for item in default] == [PUBLISHED, *(m.name for m in sample),
                                                 *(v.name for v in independent(REFERENCE_ROOT))]
    assert len(default) == 1 + 5 + 14


def test_the_counts_include_the_notebooks_as_mutants_and_correct_variants():
    mutants, variants = counts(REFERENCE_ROOT, notebooks="none")
    assert counts(REFERENCE_ROOT) == (mutants + 5, variants + 15)


def test_the_report_says_per_notebook_whether_it_lost_what_its_module_lost_and_fails_the_fast_tier_if_not():
    outcomes = [
        outcome("a", "mutant", "q1", {"q1": 5}),
        outcome("b", "mutant", "q2", {"q2": 3}),
        outcome("ok", "variant", "", {"q2": 0}),
        replace(outcome("a-ipynb", "mutant", "q1", {"q1": 5, "q2": 0}), module="a"),
        replace(outcome("b-ipynb", "mutant", "q2", {"q2": 1}), module="b"),
        replace(outcome("ok-ipynb", "variant", "", {}), module="ok"),
    ]
    report = summarise(outcomes, "fast")
    assert [(row["name"], row["same"]) for row in report["as_notebooks"]] == [
        ("a-ipynb", True), ("b-ipynb", False), ("ok-ipynb", True)]
    assert report["notebook_mismatches"] == ["b-ipynb"] and report["mutants"] == 4 and report["variants"] == 2
    text = markdown(report)
    assert "## As notebooks" in text and "| b-ipynb | b | Q2 3 | Q2 1 | **no** |" in text
    assert "- As notebooks: **2** of 3 contracts lose the points they lose as modules (not: b-ipynb)" in text
    assert verdict(report) == ["notebooks lost other points than their modules: b-ipynb (Q2 1; as a module: Q2 3)"]
    assert verdict(summarise(outcomes, "slow")) == []
    assert "As notebooks" not in markdown(summarise(outcomes[:3], "fast"))
