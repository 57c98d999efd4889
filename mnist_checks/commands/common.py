"""What every command shares: the usage error, the argparse types with their messages, the
``--verbose`` option, the reference checkout, and reading the library's defaults."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
from pathlib import Path

from ..errors import MnistChecksError


class UsageError(MnistChecksError):
    """A command given something it cannot work with; the message says what."""

    remedy = "`mnist-checks COMMAND --help` says what each option takes"


#: The largest seed numpy's generator accepts (2**32 - 1).
MAX_SEED = 2**32 - 1
#: The exit status of a command stopped by Ctrl-C.
INTERRUPTED = 130


def defaults(function) -> dict:
    """A function's keyword defaults, or a dataclass's fields' (a settings object: ``Grading``):
    the command line's defaults are the library's."""
    if dataclasses.is_dataclass(function):
        missing = dataclasses.MISSING
        return {f.name: f.default_factory() if f.default is missing else f.default for f in dataclasses.fields(function)
                if f.default is not missing or f.default_factory is not missing}
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def verbose_option() -> argparse.ArgumentParser:
    """``--verbose``, as a parent parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true",
                        help="also show TensorFlow's own start-up lines and warnings (hidden by default)")
    return common


def _ranged(kind, what: str, accepts, bounds: str):
    """An argparse type: ``kind(text)`` where ``accepts`` it; else a message saying what was
    expected (``what``) or where it must lie (``bounds``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    return parse


positive = _ranged(int, "a whole number of at least 1", lambda v: v >= 1, "at least 1")
seed_number = _ranged(int, f"a whole number from 0 to {MAX_SEED}", lambda v: 0 <= v <= MAX_SEED,
                f"from 0 to {MAX_SEED} (numpy's seed range)")
seconds = _ranged(float, "a number of seconds", lambda v: 0 < v < float("inf"), "a positive number of seconds")
megabytes = _ranged(int, "a whole number of megabytes", lambda v: v >= 0, "0 (no limit) or more")
fraction = _ranged(float, "a fraction from 0 to 1", lambda v: 0 <= v <= 1, "from 0 to 1")


def seed_list(text: str) -> list[int]:
    """``0-4`` or ``0,3,7`` (or both: ``0-2,9``) as a list of distinct seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        first, last = seed_number(low), seed_number(high) if high else None
        if last is not None and last < first:
            raise argparse.ArgumentTypeError(f"a range runs upwards: {part.strip()}")
        seeds += [s for s in range(first, (last if last is not None else first) + 1) if s not in seeds]
    if len(seeds) > 1000:
        raise argparse.ArgumentTypeError(f"{len(seeds)} seeds: at most 1000")
    return seeds




def plural(count: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def reference_checkout(given: str | None) -> Path:
    """The reference checkout: ``given``, or the one this package was installed from."""
    root = Path(given) if given else Path(__file__).resolve().parent.parent.parent
    if not (root / "tests").is_dir() or not (root / "mnist_checks" / "exercise.py").is_file():
        raise UsageError(
            f"{root}: not the reference checkout (no tests/ or mnist_checks/exercise.py); install the "
            "instructor's clone with `pip install -e .` or pass --reference DIR"
        )
    return root


def weighed_rubric(path: str | None, reference: Path) -> tuple[dict | None, list | None]:
    """The rubric of ``--rubric FILE`` (None without one) and, where it weighs claims, the reference's
    graded tests of every tier, against which its weights were checked (``rubric.check_weights``,
    issue 34): a misspelt test name is refused when the starter or the autograder is written, not at
    the first grading."""
    from ..grading.course.checker import collect_graded_tests
    from ..grading.students.rubric import WEIGHTS, check_weights, load_rubric

    rubric = load_rubric(path) if path else None
    graded = collect_graded_tests(reference, "all") if rubric and rubric.get(WEIGHTS) else None
    if graded is not None:
        check_weights(rubric, graded)
    return rubric, graded
