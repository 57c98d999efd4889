"""The README holds what it promises: the layout names every module and test file, and only those
(the students' README and the graded claims: ``test_pytest_runs.py``)."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent


def test_the_readmes_layout_names_every_module_and_test_file_and_nothing_else():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"[\w.]+\.py\b", layout))
    files = {path.name for path in (ROOT / "mnist_checks").rglob("*.py") if not path.name.startswith("__")}
    files |= {path.name for path in (ROOT / "tests").glob("*.py")}
    assert sorted(files - named) == [], "files the layout does not name"
    everywhere = {path.name for path in ROOT.rglob("*.py")
                  if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)}
    assert sorted(named - everywhere) == [], "the layout names files that do not exist"
