"""Every file a graded fork gets in ``OUT/FORK/``, written in one place: its feedback pages
(``feedback_page``), then output.txt, junit.xml and results.json (``results``), each whole or not
at all. results.json comes last: a fork that has one has every output written."""

from __future__ import annotations

from pathlib import Path

from .feedback_page import write_feedback
from .results import ForkResult, write_fork_outputs


def write_outputs(result: ForkResult, out: Path, output: str) -> None:
    """A graded (or cached) fork's outputs in ``out``; ``output`` is the checker's output.txt."""
    write_feedback(result, out)
    write_fork_outputs(result, out, output)
