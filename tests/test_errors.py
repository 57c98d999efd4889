"""Every error a user can fix is an ``MnistChecksError`` that says how (``errors.py``): the command
line prints its message and its remedy, never a traceback."""

import importlib
import pkgutil

import pytest

import mnist_checks
from mnist_checks.errors import MnistChecksError

pytestmark = pytest.mark.fast


def every_error_class() -> set[type]:
    """The package's ``MnistChecksError`` classes, every module imported."""
    for module in pkgutil.walk_packages(mnist_checks.__path__, "mnist_checks."):
        if not module.name.endswith(("__main__", "checker_start")):  # a script run by path, not imported
            importlib.import_module(module.name)
    found, todo = set(), [MnistChecksError]
    while todo:
        for subclass in todo.pop().__subclasses__():
            if subclass.__module__.startswith("mnist_checks.") and subclass not in found:
                found.add(subclass)
                todo.append(subclass)
    return found


def test_every_error_a_user_can_fix_says_how():
    errors = every_error_class()
    assert len(errors) >= 10, f"only {sorted(e.__name__ for e in errors)}: the package's modules were not all read"
    without = sorted(f"{e.__module__}.{e.__qualname__}" for e in errors if not e.remedy.strip())
    assert not without, f"errors without a remedy (set the class's `remedy`: what the user does next): {without}"


def test_the_command_line_prints_the_remedy_after_the_message(capsys, tmp_path):
    from mnist_checks import cli
    from mnist_checks.report import RecordError

    assert cli.main(["spread", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    message, remedy = err.splitlines()[:2]
    assert message.startswith("mnist-checks: ") and "missing.json" in message
    assert remedy.strip() == RecordError.remedy and "Traceback" not in err
