"""The generated correct variants (``mnist_checks/grading/catalogue/variants.py``): at least 200 distinct whole
contracts, every pair of spellings in one of them, the same every call (each one runs on Keras:
``test_variants_rebuilt.py``)."""

import itertools
from pathlib import Path

import pytest

from mnist_checks import exercise
from mnist_checks.compat import KERAS_MAJOR
from mnist_checks.grading.catalogue.mutants import MUTANTS, VARIANTS
from mnist_checks.grading.catalogue.variants import (
    AXES,
    ORDER,
    PUBLISHED,
    generate_variants,
    published_functions,
    sample_variants,
)
from mnist_checks.grading.contract import CONTRACT

pytestmark = pytest.mark.fast

#: The one combination of spellings that cannot exist: the functional API starts from an Input.
IMPOSSIBLE = {(("build", "func"), ("input", "shape")), (("build", "func"), ("input", "noinput"))}


def body(variant) -> str:
    """A variant's source without its first line, the header that names it."""
    return variant.source.split("\n", 1)[1]


def test_the_catalogue_holds_at_least_200_distinct_contracts():
    """At least 200 variants, no two with the same source once the header naming them is set aside."""
    variants = generate_variants()
    assert len(variants) >= 200
    assert len({body(v) for v in variants}) == len(variants)


def test_variant_names_are_unique_and_clash_with_no_hand_written_mutant_or_variant():
    """Every name is unique, among the generated variants and with MUTANTS and VARIANTS: each is a fork's name."""
    names = [v.name for v in (*MUTANTS, *VARIANTS, *generate_variants())]
    assert len(names) == len(set(names))
    assert all(v.what and "\n" not in v.what for v in generate_variants())


def test_a_variants_name_is_its_axis_values_in_the_axes_order():
    """A generated name joins one value of each axis, in ``AXES`` order; only the exercise's own code has none."""
    first, *others = generate_variants()
    assert first.name == PUBLISHED and first.spelling == ()
    for variant in others:
        assert [axis for axis, _ in variant.spelling] == list(AXES)
        assert all(value in AXES[axis] for axis, value in variant.spelling)
        assert variant.name == "-".join(value for _, value in variant.spelling)


def test_every_possible_pair_of_axis_values_is_in_some_variant():
    """Pairwise coverage: any two values of two axes meet in a variant, but for the functional API without an Input."""
    values = [[(axis, value) for value in AXES[axis]] for axis in AXES]
    wanted = {pair for left, right in itertools.combinations(values, 2) for pair in itertools.product(left, right)}
    held = {pair for v in generate_variants() for pair in itertools.combinations(v.spelling, 2)}
    assert wanted - IMPOSSIBLE - held == set()
    assert held & IMPOSSIBLE == set()


def test_generating_again_gives_the_same_variants_in_the_same_order():
    """Deterministic: a fresh generation (cache bypassed) equals the first, names, texts and order."""
    assert generate_variants.__wrapped__() == generate_variants()


def test_the_sample_holds_the_exercises_own_code_and_is_the_same_for_a_seed():
    """``sample_variants(n, seed)``: n distinct variants, the exercise's own first, the same for the same seed."""
    sample = sample_variants(13)
    assert len(sample) == len({v.name for v in sample}) == 13
    assert sample[0].name == PUBLISHED and sample == sample_variants(13, seed=0)
    assert sample_variants(13, seed=1)[0].name == PUBLISHED and sample_variants(13, seed=1) != sample
    with pytest.raises(ValueError):
        sample_variants(0)


def test_the_exercise_as_published_is_its_code_cells_in_the_contracts_functions():
    """``exercise-as-published`` keeps the exercise's spellings: models and layers, no Input, ['acc'], X/255."""
    source = generate_variants()[0].source
    for cell in ("from tensorflow.keras import models, layers", "clf1 = models.Sequential(net1)", "metrics=['acc']",
                 "return X/255", "model_selection.train_test_split(*arrays, test_size=1/7, random_state=random_state)",
                 "def split(*arrays, random_state=0):"):
        assert cell in source
    assert "Input" not in source


def test_the_exercise_as_publisheds_definitions_one_by_one_are_its_own_text():
    """``published_functions``: the notebook's answering cells are cut from ``exercise-as-published``, not rewritten."""
    functions = published_functions()
    assert list(functions) == list(ORDER)
    source = generate_variants()[0].source
    assert all(text in source for text in functions.values())


def test_the_report_grades_a_sample_by_default_and_writes_each_generated_source_as_its_forks_contract(tmp_path):
    """``mutation_report``: 'sample' is the exercise's own code and 12 more, 'all' is every variant, and
    ``build_forks`` gives each generated variant a fork whose contract is its whole source."""
    from mnist_checks.grading.catalogue.mutation_report import build_forks, generated, mutants_here

    sample = generated()
    assert len(sample) == 13 and sample[0].name == PUBLISHED and generated("all") == generate_variants()
    forks = build_forks(Path(exercise.__file__).resolve().parent.parent, tmp_path, sample)
    assert len(forks) == len(mutants_here()) + len(VARIANTS) + len(sample)
    assert len(mutants_here()) == len(MUTANTS) - (KERAS_MAJOR < 3)  # compile(optimizer, loss, metrics) is Keras 2's
    assert all((forks[v.name] / CONTRACT).read_text() == v.source for v in sample)
