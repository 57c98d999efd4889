"""The docs hold what they promise: the layout (docs/layout.md) names every module and test file,
and only those (the students' README and the graded claims: ``test_pytest_runs.py``; links,
commands and markers: ``test_docs.py``)."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent


def test_the_layout_page_names_every_module_and_test_file_and_nothing_else():
    layout = (ROOT / "docs" / "layout.md").read_text()
    named = set(re.findall(r"[\w.]+\.py\b", layout))
    files = {path.name for path in (ROOT / "mnist_checks").rglob("*.py") if not path.name.startswith("__")}
    files |= {path.name for path in (ROOT / "tests").glob("*.py")}
    assert sorted(files - named) == [], "files the layout does not name"
    everywhere = {path.name for path in ROOT.rglob("*.py")
                  if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)}
    assert sorted(named - everywhere) == [], "the layout names files that do not exist"
