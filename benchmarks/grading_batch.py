"""A course-sized batch for timing slow-tier grading: 20 forks, most of which train the same models.

    python benchmarks/grading_batch.py DIR            # writes DIR/forks/*, prints the fork list
    python benchmarks/grading_batch.py DIR --subset   # one fork of each kind (before/after on less)

Then time ``mnist-checks grade DIR/forks/* --tier slow --jobs 2 --retrain`` (one training per
distinct key), the same with ``MNIST_CHECKS_TRAININGS=off`` (one training per fork, as before
trainings were shared), and with ``--cluster local`` (docs/grading-at-scale.md has the figures).

The batch: 14 forks behaviourally equivalent to the reference (copies and correct variants from
the mutation catalogue), 3 forks sharing one mistake (Q4 divides by 256, written into three
different solutions) and 3 distinct mistakes that change what is trained (Q2 64 units, Q5 average
pooling, Q5 sigmoid convolutions).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_checks import exercise
from mnist_checks.grading.catalogue.mutants import MUTANTS, VARIANTS, apply
from mnist_checks.grading.students.starter import write_starter

REFERENCE_ROOT = Path(exercise.__file__).resolve().parent.parent
EQUIVALENT = ("functional-api", "model-add", "named-layers", "exercise-metrics-acc", "astype-then-divide", "np-divide",
              "tf-argmax", "np-argmax-last-axis", "np-reshape-len", "test-size-as-count-ratio", "split-returns-tuple",
              "cnn-kernel-as-int")
SHARED_MISTAKE = "q4-divides-by-256"
SHARED_IN = (None, "named-layers", "model-add")  # the reference's solution, and two variants
DISTINCT = ("q2-64-units", "q5-average-pooling", "q5-sigmoid-convolution")


def batch() -> dict[str, str]:
    """Fork name -> contract source, in the order above."""
    source = (REFERENCE_ROOT / "mnist_checks" / "exercise.py").read_text()
    variants = {v.name: v for v in VARIANTS}
    mutants = {m.name: m for m in MUTANTS}
    forks = {"reference-1": source, "reference-2": source}
    forks.update({f"equivalent-{name}": apply(source, variants[name].edits) for name in EQUIVALENT})
    for base in SHARED_IN:
        start = source if base is None else apply(source, variants[base].edits)
        forks[f"shared-{SHARED_MISTAKE}-{base or 'reference'}"] = apply(start, mutants[SHARED_MISTAKE].edits)
    forks.update({f"distinct-{name}": apply(source, mutants[name].edits) for name in DISTINCT})
    return forks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--subset", action="store_true",
                        help="one fork of each kind: reference, equivalent, shared, distinct")
    args = parser.parse_args()
    forks = batch()
    if args.subset:
        kinds = ("reference-", "equivalent-", "shared-", "distinct-")
        forks = {name: forks[name] for name in (next(n for n in forks if n.startswith(kind)) for kind in kinds)}
    for name, source in forks.items():
        target = args.directory / "forks" / name
        write_starter(REFERENCE_ROOT, target)
        (target / "mnist_checks" / "exercise.py").write_text(source)
        print(target)


if __name__ == "__main__":
    main()
