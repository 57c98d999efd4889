"""The spec suite's pytest plugin, the one the checkout's ``conftest.py`` names and the grader's
checker loads (``-p``): it wires the suite's options, hooks and fixtures; the work is done in the
modules beside it (issue 35).

- ``session``: the run's settings, read once from its options (``config.stash[SESSION]``);
- ``suite``: the tiers every test has, the full data's check before any test, ``--seeds``, and the
  fixtures' contract under test (imported, or behind a student server with ``--isolated``);
- ``outcomes``: each graded test as collected (``--grade-collect FILE`` writes them and stops)
  and as it finished; a test that a contract function's NotImplementedError stopped counts apart
  as ``not implemented`` (``N``), in one line instead of a traceback;
- ``grade_log``: with ``--grade-log FILE``, one JSON line per finished test and per training, as
  they happen, so that a process that crashes or is killed mid-run keeps every line before it;
- ``summary``: every run ends with the exercise's trainings, each function not written yet (once),
  the points per question the repository's rubric gives the tests that ran, the contract checked
  where it is a notebook, and with ``--classroom-report`` (the starter's Classroom workflow, issue
  34) GitHub Classroom's report of the run.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from ...compat_log import RUN_RECORDS
from ..limits import Limits
from . import suite, summary
from .grade_log import GradeLog
from .outcomes import NOT_IMPLEMENTED_YET, describe, graded_outcomes, outcome_of
from .session import SESSION, Session, session_of

# TensorFlow's C++ log (its CPU features, its devices) on every import would bury pytest's report.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
suite.load_hypothesis_profile()  # why: its docstring

#: The node ids as collected, in order: the Classroom report's order within a question, the same
#: over pytest-xdist's workers (``pytest_xdist_node_collection_finished``).
COLLECTED = pytest.StashKey[list]()


def pytest_addoption(parser):
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
    parser.addoption("--seeds", type=suite.seed_count, default=1, metavar="N",
                     help="train the slow tier's models with seeds 0 to N-1 and check every claim on each seed; "
                          "the end of the run gives each model's mean accuracy with an interval and the share of "
                          "seeds on which each improvement holds (default: 1, seed 0)")
    parser.addoption("--retrain", action="store_true",
                     help="train every model of the slow tier again instead of reusing an earlier training of "
                          "the very same model, data and settings (also: MNIST_CHECKS_RETRAIN=1)")
    group = parser.getgroup("mnist-checks grading")
    group.addoption("--grading", action="store_true",
                    help="the grader's run of a fork's contract: models the question under test does not build "
                         "are taken from the installed reference")
    group.addoption("--grade-log", metavar="FILE", help="append one JSON line per finished test")
    group.addoption("--grade-collect", metavar="FILE", help="write the graded tests as JSON and stop")
    group.addoption("--classroom-report", action="store_true",
                    help="GitHub Classroom's report of the run: q1..q5 to $GITHUB_OUTPUT, the points per question "
                         "to $GITHUB_STEP_SUMMARY (where unset: into --classroom-out DIR, else the terminal)")
    group.addoption("--classroom-out", metavar="DIR", help="where --classroom-report writes outside GitHub Actions")


def pytest_configure(config):
    """The run's settings, read once (``session.Session``)."""
    config.stash[SESSION] = Session.from_config(config)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: every collected test has a tier
def pytest_collection_modifyitems(config, items):
    suite.check_tiers(items)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")  # after `-m`: the tests that run
def pytest_collection_modifyitems_order(config, items):
    config.stash[COLLECTED] = [item.nodeid for item in items]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """pytest-xdist's controller: the ids a worker collected, in order (each worker collects them all)."""
    node.config.stash[COLLECTED] = list(ids)


@pytest.hookimpl(trylast=True)  # after `-m` has deselected: only the tests that will run count
def pytest_collection_finish(session):
    """``--grade-collect FILE``: the graded tests (``GradedTest.to_json``'s); else, before any
    test, the full data's check for the tests that need it (``suite.check_full_data``)."""
    options = session_of(session.config)
    if options.grade_collect:
        graded = [test.to_json() for test in map(describe, session.items) if test.question]
        with open(options.grade_collect, "w") as handle:
            json.dump(graded, handle)
    elif not session.config.option.collectonly:
        suite.check_full_data(session.items)


def pytest_runtestloop(session):
    if session_of(session.config).grade_collect:
        return True  # collected only
    return None


def pytest_generate_tests(metafunc):
    """With ``--seeds N`` (N > 1) every test of the exercise's run is checked on each seed's run,
    one seed's run at a time (``exercise_run[seed1]``); with one seed the tests keep their ids."""
    seeds = session_of(metafunc.config).seeds
    if seeds > 1 and "exercise_run" in metafunc.fixturenames:
        metafunc.parametrize("exercise_run", range(seeds), indirect=True, scope="session",
                             ids=[f"seed{seed}" for seed in range(seeds)])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each finished test's outcome (``outcomes.outcome_of``): on its report as ``report.graded``
    where it is graded (a JSON dict, which travels to pytest-xdist's controller), and a line of
    the grader's log."""
    report = (yield).get_result()
    finished = report.when == "call" or (report.when == "setup" and not report.passed)
    if not (finished or (report.when == "teardown" and report.failed)):
        return
    options = session_of(item.config)
    outcome = outcome_of(item, call, report, with_message=options.classroom_report or bool(options.grade_log))
    if outcome.test.question and outcome.test.tier:
        report.graded = outcome.to_json()
    GradeLog(options.grade_log).note_outcome(outcome)


def pytest_report_teststatus(report, config):
    """A test that a contract function not written yet stopped, in its call or a fixture: counted
    as ``not implemented`` (``N``), apart from the failures and errors pytest reports in full."""
    if report.failed and getattr(report, "not_implemented", None):
        return NOT_IMPLEMENTED_YET, "N", ("NOT IMPLEMENTED", {"yellow": True})
    return None


def pytest_terminal_summary(terminalreporter, config):
    """Every run ends with its trainings (which were reused from an earlier, identical training),
    each contract function not written yet, the points per question of the tests that ran (the
    repository's ``rubric.json``, else the default rubric; not in the grader's run, which scores
    with its own), and the contract checked where it is a notebook."""
    options = session_of(config)
    summary.say_runs(terminalreporter, config.stash.get(RUN_RECORDS, []))
    summary.say_not_implemented(terminalreporter)
    tests = [outcome.to_json() for outcome in graded_outcomes(terminalreporter.stats).values()]
    if tests and not options.grade_log:
        summary.say_points(terminalreporter, tests, config.rootpath)
    summary.say_contract(terminalreporter, options.contract_path(suite.notebook_checkout()))


@pytest.hookimpl(trylast=True, specname="pytest_terminal_summary")  # after the points per question
def pytest_terminal_summary_classroom(terminalreporter, config):
    """With ``--classroom-report``: GitHub Classroom's report of the run (``summary.classroom_report``),
    written once, by pytest-xdist's controller."""
    options = session_of(config)
    if not options.classroom_report or hasattr(config, "workerinput"):
        return
    tests = [outcome.to_json() for outcome in graded_outcomes(terminalreporter.stats).values()]
    summary.classroom_report(terminalreporter, tests, config.rootpath, config.stash.get(COLLECTED, []),
                             options.classroom_out)


@pytest.fixture(scope="session")
def contract(request):
    """The student's contract under test (Q1-Q5): imported here, or with ``--isolated`` a proxy
    whose every call a sandboxed student server answers with data (``suite.open_contract``)."""
    return suite.open_contract(session_of(request.config), request.addfinalizer)


@pytest.fixture(scope="session")
def sample(request):
    """700 real MNIST digits (600 training, 100 test) as ``(X, y)``, committed under tests/data."""
    from ...data import read_digits

    X, y = read_digits(suite.sample_file(request.config.rootpath))
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
    from ...data import load_digits

    return load_digits()


@pytest.fixture
def seeded(contract):
    """Seed Python, numpy and the backend (the contract's too) so model weights are
    reproducible within a test."""
    from ...compat import set_seed

    set_seed(0, contract)
    np.random.seed(0)


@pytest.fixture(scope="session")
def exercise_run(request, digits, contract):
    """The whole exercise at its published settings, trained once per test session (Q2, Q4, Q5),
    with the exercise's literal warm-started Q4 model beside the fresh one; with ``--seeds N``
    once per seed (``request.param``), each checked in turn. In the grader's run (``--grading``)
    the models the question under test does not build come from the installed reference.

    A training already done with the very same arrays, model, initial weights and settings is
    reused from the store (``mnist_checks.trainings``: ``$MNIST_CHECKS_TRAININGS``, else the
    download cache); ``--retrain`` or ``MNIST_CHECKS_RETRAIN=1`` trains everything again."""
    from ... import trainings
    from ...plan import Settings
    from ...run import run_exercise

    options = session_of(request.config)
    log = GradeLog(options.grade_log)
    retrain = options.retrain or trainings.retraining()
    store = None if retrain else trainings.open_store(trainings.default_store_spec())
    run = run_exercise(*digits, Settings(warm=True, seed=getattr(request, "param", Settings.seed)),
                       contract=contract, reference=options.reference(), store=store,
                       on_model=lambda model, epochs: log.note_training(model.name, epochs), on_epoch=log.note_epoch)
    request.config.stash.setdefault(RUN_RECORDS, []).append(run.record)  # said at the end; compat_log's
    log.note_run(run.record)
    return run
