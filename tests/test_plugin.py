"""The suite's one pytest plugin (issue 35): the checkout's conftest.py only names it, and a run's
settings are its options, read once (``session.Session``); the grader's run of a fork is one
because the checker says so (``--grading``), never because the installed contract looks solved."""

import argparse
import ast
import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from mnist_checks.grading.course import checker
from mnist_checks.grading.students import plugin
from mnist_checks.grading.students.session import INSTALLED_CONTRACT, Session

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent


class _Options:
    """The plugin's options (``pytest_addoption``) in an argparse parser, as pytest's own passes them on."""

    def __init__(self):
        self.parser = argparse.ArgumentParser()
        plugin.pytest_addoption(self)

    def addoption(self, *names, **settings):
        self.parser.add_argument(*names, **settings)

    def getgroup(self, name):
        return self

    def config(self, *args: str):
        """What ``config.getoption`` answers for the command line ``args``."""
        parsed = self.parser.parse_args(args)
        return SimpleNamespace(getoption=lambda name: getattr(parsed, name.lstrip("-").replace("-", "_")))


def test_only_the_checkers_grading_flag_takes_the_other_questions_models_from_the_installed_reference():
    """``pytest --isolated --contract=PATH`` is a student's run the grader's way: every model is the
    contract's own, even here, where the installed contract is the solved reference."""
    options = _Options()
    students = Session.from_config(options.config("--isolated", "--contract=exercise.py"))
    assert (students.isolated, students.contract, students.grading) == ("auto", "exercise.py", False)
    assert students.reference() is None
    graders = Session.from_config(options.config("--grading", "--isolated=uid", "--contract=exercise.py"))
    assert graders.grading and graders.reference() is importlib.import_module(INSTALLED_CONTRACT)
    assert Session.from_config(options.config()) == Session(), "a plain `pytest`: the defaults"


def test_the_checkouts_conftest_holds_nothing_but_the_plugins_name():
    """A student's run (conftest.py) and the grader's checker (``-p``) load the very same plugin."""
    module = ast.parse((ROOT / "conftest.py").read_text())
    docstring, *rest = module.body
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
    assert [ast.unparse(node) for node in rest] == [f"pytest_plugins = ({plugin.__name__!r},)"]
    args = checker.pytest_args(ROOT, "fast")
    assert args[args.index(plugin.__name__) - 1] == "-p"


def test_the_checker_says_grading_only_where_its_reference_holds_the_solutions(tmp_path):
    """A reference with its solutions lends the other questions' models (``--grading``); a starter
    given as the reference has none to lend: each fork trains with its own answers, never with a
    NotImplementedError that would fail correct code."""
    from mnist_checks import exercise
    from mnist_checks.grading.solutions import starter_source

    contract = tmp_path / "mnist_checks" / "exercise.py"
    contract.parent.mkdir()
    contract.write_text(Path(exercise.__file__).read_text())
    assert checker.grading_mode(tmp_path) == ("--grading",)
    contract.write_text(starter_source(contract.read_text()))
    assert checker.grading_mode(tmp_path) == ()
