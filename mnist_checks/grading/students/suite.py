"""What the spec suite's fixtures and collection checks do (the plugin wires them): its tiers, the
full data set's check before any test, ``--seeds``, the sample, and the contract under test,
imported here or behind a sandboxed student server (``--isolated``)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from .grade_log import GradeLog
from .session import INSTALLED_CONTRACT, Session

#: Every test belongs to exactly one tier: `-m fast`, `-m e2e` and `-m slow` together run every
#: test under tests/; benchmarks/ (marker `benchmark`) runs only when asked for.
SUITE_TIERS = ("fast", "e2e", "slow", "benchmark")
#: 700 real MNIST digits (600 training, 100 test), committed under the checkout's tests/data.
SAMPLE = Path("tests") / "data" / "mnist_sample.npz"
#: The suite's hypothesis settings (``load_hypothesis_profile``).
HYPOTHESIS_PROFILE = "mnist-checks"


def load_hypothesis_profile() -> None:
    """Time is never a claim of the spec suite (speed lives in benchmarks/): a property test must
    not fail because a loaded machine, or a call through the grader's student server, was slow.
    Hypothesis's 200 ms deadline and its too-slow health check made the same fork's grade differ
    between runs. Derandomized and without an example database, a student's own run draws exactly
    the examples the grader draws: the same code gets the same points locally and when graded."""
    hypothesis_settings.register_profile(HYPOTHESIS_PROFILE, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow], derandomize=True,
                                         database=None)
    hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def check_tiers(items) -> None:
    """Refuse a collection with a test of no tier: it would escape `-m fast`, `-m e2e` and `-m slow`."""
    untiered = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in SUITE_TIERS)]
    if untiered:
        raise pytest.UsageError(
            "tests without a tier marker (fast, e2e, slow or benchmark) would escape `-m fast`, `-m e2e` and "
            "`-m slow`:\n  "
            + "\n  ".join(untiered)
        )


def check_full_data(items) -> None:
    """Stop once, before any test, when the selected ``items`` need the full data and it is not
    there: one actionable message instead of the same error from every test that uses it."""
    needing = [item for item in items if "digits" in getattr(item, "fixturenames", ())]
    if not needing:
        return
    from ...data import ENV_DATA, DataError, locate

    try:
        locate()
    except DataError as error:
        pytest.exit(f"{len(needing)} of the selected tests need the full MNIST data set (70,000 digits), "
                    f"and it is not available:\n{error}\npytest reads it from {ENV_DATA}: point it at mnist.npz or "
                    f"digits.csv.zip, or the folder holding one, e.g. `{ENV_DATA}=~/data/mnist.npz pytest -m slow`. "
                    "(`pytest -m fast` needs no data.)", returncode=pytest.ExitCode.USAGE_ERROR)


def seed_count(text: str) -> int:
    """``--seeds N``: a whole number of seeds, 1 or more."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the number of seeds is a whole number, 1 or more")
    return count


def installed_package() -> Path:
    """The folder of the installed ``mnist_checks`` package."""
    return Path(importlib.import_module("mnist_checks").__file__).parent


def notebook_checkout() -> Path | None:
    """This checkout, where it holds a notebook contract (``mnist_checks/exercise.ipynb``): the
    contract is then chosen as the grader chooses it (``contract.choose``); else None."""
    package = installed_package()
    return package.parent if (package / "exercise.ipynb").is_file() else None


def sample_file(root: Path) -> Path:
    """The sample of the checkout at ``root`` (pytest's rootdir), else the installed package's checkout's."""
    here = root / SAMPLE
    return here if here.is_file() else installed_package().parent / SAMPLE


def open_contract(session: Session, addfinalizer):
    """The student's contract under test (Q1-Q5): imported here, or with ``--isolated`` a proxy
    whose every call a sandboxed student server answers with data, closed by ``addfinalizer``'s
    finalizer (what its teardown could not end goes to the grader's log); either way its data
    replies read as numpy reads them (``NumpyReplies``: a list of digits is an array of digits)."""
    from ...replies import NumpyReplies

    path = session.contract_path(notebook_checkout())
    if session.isolated:
        from ..sandbox.isolated import open_contract as open_isolated

        contract = open_isolated(path or installed_package() / "exercise.py", isolation=session.isolated,
                                 allow_unisolated=session.allow_unisolated, limits=session.limits)

        def close():
            contract.close()
            GradeLog(session.grade_log).note_unended(contract.unended)

        addfinalizer(close)
        contract.check_loaded()
        return NumpyReplies(contract)
    if path is None:
        return NumpyReplies(importlib.import_module(INSTALLED_CONTRACT))
    from ..contract import load_contract

    return NumpyReplies(load_contract(path))
