"""Shared fixtures of the spec suite: the contract under test, the sample, the full data."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SAMPLE = Path(__file__).parent / "tests" / "data" / "mnist_sample.npz"
#: Every run ends with the points per question (and the grader's log, when it asks for one).
pytest_plugins = ("mnist_checks.grading.students.plugin",)

# Time is never a claim of the spec suite (speed lives in benchmarks/): a property test must not
# fail because a loaded machine, or a call through the grader's student server, was slow.
# Hypothesis's 200 ms deadline and its too-slow health check made the same fork's grade differ
# between runs. Derandomized and without an example database, a student's own run draws exactly
# the examples the grader draws: the same code gets the same points locally and when graded.
hypothesis_settings.register_profile("mnist-checks", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                                     derandomize=True, database=None)
hypothesis_settings.load_profile("mnist-checks")
#: Every test belongs to exactly one tier: `-m fast`, `-m e2e` and `-m slow` together run every
#: test under tests/; benchmarks/ (marker `benchmark`) runs only when asked for.
TIERS = ("fast", "e2e", "slow", "benchmark")


def pytest_collection_modifyitems(config, items):
    untiered = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in TIERS)]
    if untiered:
        raise pytest.UsageError(
            "tests without a tier marker (fast, e2e, slow or benchmark) would escape `-m fast`, `-m e2e` and "
            "`-m slow`:\n  "
            + "\n  ".join(untiered)
        )


@pytest.hookimpl(trylast=True)  # after `-m` has deselected: only the tests that will run count
def pytest_collection_finish(session):
    """Stop once, before any test, when the selected tests need the full data and it is not there:
    one actionable message instead of the same error from every test that uses it."""
    config = session.config
    needing = [item for item in session.items if "digits" in getattr(item, "fixturenames", ())]
    if not needing or config.option.collectonly or config.getoption("--grade-collect", default=None):
        return
    from mnist_checks.data import ENV_DATA, DataError, locate

    try:
        locate()
    except DataError as error:
        pytest.exit(f"{len(needing)} of the selected tests need the full MNIST data set (70,000 digits), "
                    f"and it is not available:\n{error}\npytest reads it from {ENV_DATA}: point it at mnist.npz or "
                    f"digits.csv.zip, or the folder holding one, e.g. `{ENV_DATA}=~/data/mnist.npz pytest -m slow`. "
                    "(`pytest -m fast` needs no data.)", returncode=pytest.ExitCode.USAGE_ERROR)


def _seed_count(text: str) -> int:
    """``--seeds N``: a whole number of seeds, 1 or more."""
    import argparse

    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the number of seeds is a whole number, 1 or more")
    return count


def pytest_generate_tests(metafunc):
    """With ``--seeds N`` (N > 1) every test of the exercise's run is checked on each seed's run,
    one seed's run at a time (``exercise_run[seed1]``); with one seed the tests keep their ids."""
    seeds = metafunc.config.getoption("--seeds", default=1)
    if seeds > 1 and "exercise_run" in metafunc.fixturenames:
        metafunc.parametrize("exercise_run", range(seeds), indirect=True, scope="session",
                             ids=[f"seed{seed}" for seed in range(seeds)])


def pytest_addoption(parser):
    from mnist_checks.grading.limits import Limits

    parser.addoption(
        "--contract", metavar="PATH",
        help="test this contract (a student's mnist_checks/exercise.py, or the definitions of its exercise.ipynb) "
             "instead of the installed one: a checkout, a .py file or a notebook; write --contract=PATH (given "
             "apart, pytest first reads PATH as a folder of tests)",
    )
    parser.addoption(
        "--isolated", nargs="?", const="auto",
        choices=("auto", "strongest", "bubblewrap", "uid", "unisolated", "preloaded"),
        metavar="LEVEL",
        help="never run the contract in this process: a student server answers its calls with data "
             "(as `mnist-checks grade` does), sandboxed by bubblewrap; LEVEL 'uid' runs it as a uid of its own "
             "(as root, where bubblewrap cannot start), 'strongest' the first of those two that holds, "
             "'unisolated' a plain process, "
             "'preloaded' a plain one forked with TensorFlow loaded (the grader's catalogue alone)",
    )
    parser.addoption("--allow-unisolated", action="store_true",
                     help="with --isolated: use a plain separate process where bubblewrap cannot run")
    parser.addoption("--call-timeout", type=float, default=Limits.call_seconds, metavar="S",
                     help="with --isolated: seconds one call of the contract may take (default: %(default)s)")
    parser.addoption("--fork-memory-mb", type=int, default=Limits.memory_mb, metavar="MB",
                     help="with --isolated: address space of the contract's process (default: %(default)s)")
    parser.addoption("--seeds", type=_seed_count, default=1, metavar="N",
                     help="train the slow tier's models with seeds 0 to N-1 and check every claim on each seed; "
                          "the end of the run gives each model's mean accuracy with an interval and the share of "
                          "seeds on which each improvement holds (default: 1, seed 0)")
    parser.addoption("--retrain", action="store_true",
                     help="train every model of the slow tier again instead of reusing an earlier training of "
                          "the very same model, data and settings (also: MNIST_CHECKS_RETRAIN=1)")


def _notebook_checkout() -> Path | None:
    """This checkout, where it holds a notebook contract (``mnist_checks/exercise.ipynb``): the
    contract is then chosen as the grader chooses it (``contract.choose``); else None."""
    package = Path(importlib.import_module("mnist_checks").__file__).parent
    return package.parent if (package / "exercise.ipynb").is_file() else None


def pytest_terminal_summary(terminalreporter, config):
    """For a checkout with a notebook (this one, or ``--contract``'s) or a notebook given: which file
    was checked and what of the notebook was left out (as the grader's feedback lists it), after
    the points."""
    from mnist_checks.notebook import NOTEBOOK

    given = config.getoption("--contract")
    path = Path(given) if given else _notebook_checkout()
    if path is None or not (path.suffix == ".ipynb" or (path / NOTEBOOK).is_file()):
        return
    from mnist_checks.grading.contract import described

    terminalreporter.write_sep("=", "the contract checked")
    for line in described(path):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def contract(request):
    """The student's contract under test (Q1-Q5): imported here, or with ``--isolated`` a proxy
    whose every call a sandboxed student server answers with data; either way its data replies
    read as numpy reads them (``NumpyReplies``: a list of digits is an array of digits)."""
    from mnist_checks.replies import NumpyReplies

    path = request.config.getoption("--contract") or _notebook_checkout()
    if request.config.getoption("--isolated"):
        from mnist_checks.grading.limits import Limits
        from mnist_checks.grading.sandbox.isolated import open_contract

        contract = open_contract(
            path or Path(importlib.import_module("mnist_checks").__file__).parent / "exercise.py",
            isolation=request.config.getoption("--isolated"),
            allow_unisolated=request.config.getoption("--allow-unisolated"),
            limits=Limits(call_seconds=request.config.getoption("--call-timeout"),
                          memory_mb=request.config.getoption("--fork-memory-mb")),
        )
        def close():
            from mnist_checks.grading.students.plugin import note_unended

            contract.close()
            note_unended(request.config, contract.unended)

        request.addfinalizer(close)
        contract.check_loaded()
        return NumpyReplies(contract)
    if path is None:
        return NumpyReplies(importlib.import_module("mnist_checks.exercise"))
    from mnist_checks.grading.contract import load_contract

    return NumpyReplies(load_contract(path))


@pytest.fixture(scope="session")
def sample():
    """700 real MNIST digits (600 training, 100 test) as ``(X, y)``, committed under tests/data."""
    from mnist_checks.data import read_digits

    X, y = read_digits(SAMPLE)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@pytest.fixture(scope="session")
def scaled_sample(sample):
    """The sample's pixels divided by 255 as float32, computed here so that tests of one question
    do not depend on the student's answer to another (Q4's ``scale``)."""
    X, y = sample
    return (X / np.float32(255)).astype(np.float32), y


@pytest.fixture(scope="session")
def digits():
    """The full MNIST data set from the configured source (``MNIST_CHECKS_DATA``) or a download."""
    from mnist_checks.data import load_digits

    return load_digits()


@pytest.fixture
def seeded(contract):
    """Seed Python, numpy and the backend (the contract's too) so model weights are
    reproducible within a test."""
    from mnist_checks.compat import set_seed

    set_seed(0, contract)
    np.random.seed(0)


def _reference_when_grading(request):
    """The installed reference contract when a fork is graded through its server (``--isolated``
    with ``--contract``) and the installed one holds the solutions; else None (a student's own run)."""
    if not (request.config.getoption("--isolated") and request.config.getoption("--contract")):
        return None
    reference = importlib.import_module("mnist_checks.exercise")
    try:
        reference.split(np.arange(7))
    except NotImplementedError:
        return None  # the starter: nothing to take the other questions from
    return reference


@pytest.fixture(scope="session")
def exercise_run(request, digits, contract):
    """The whole exercise at its published settings, trained once per test session (Q2, Q4, Q5),
    with the exercise's literal warm-started Q4 model beside the fresh one; with ``--seeds N``
    once per seed (``request.param``), each checked in turn.

    A training already done with the very same arrays, model, initial weights and settings is
    reused from the store (``mnist_checks.trainings``: ``$MNIST_CHECKS_TRAININGS``, else the
    download cache); ``--retrain`` or ``MNIST_CHECKS_RETRAIN=1`` trains everything again."""
    from mnist_checks import trainings
    from mnist_checks.grading.students.plugin import note_epoch, note_run, note_training
    from mnist_checks.plan import Settings
    from mnist_checks.run import run_exercise

    retrain = request.config.getoption("--retrain") or trainings.retraining()
    store = None if retrain else trainings.open_store(trainings.default_store_spec())
    seed = getattr(request, "param", Settings.seed)
    run = run_exercise(*digits, Settings(warm=True, seed=seed), contract=contract,
                       reference=_reference_when_grading(request), store=store,
                       on_model=lambda model, epochs: note_training(request.config, model.name, epochs),
                       on_epoch=lambda done, epochs: note_epoch(request.config, done, epochs))
    note_run(request.config, run.record)
    return run
