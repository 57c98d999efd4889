"""The mutation catalogue and its report: every edit applies to the reference, and the report
counts kills, false fails and points lost outside a mutant's question correctly."""

import pytest

from mnist_checks import exercise
from mnist_checks.grading.mutants import MUTANTS, VARIANTS, Edit, EditDoesNotApply, apply
from mnist_checks.grading.mutation_report import Outcome, markdown, summarise

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
    from mnist_checks.grading.mutation_report import verdict

    assert verdict(summarise(outcomes, tier), min_kill_rate) == failing
