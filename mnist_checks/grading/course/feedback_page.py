"""A fork's feedback page: ``FORK/feedback.html`` (one file, opens from disk) and
``FORK/feedback.md`` (for Gradescope and GitHub Classroom), written beside its results.json.

Per question (Q1-Q5) its points and every claim, passed or failed with what differed and how to
fix it (the checker's message in plain words, ``feedback.plain_words``); in the slow tier each
trained model's final val_accuracy beside the published figure, its learning curve beside the
published run's (``curves.png``), its McNemar line, and whether its training was shared. Nothing
of the grader's paths or of a library's warnings: a student reads it."""

from __future__ import annotations

import re
from pathlib import Path

from ... import facts
from ...files import write_atomically
from ...questions import QUESTIONS
from ..students.feedback import without_paths
from . import pages
from .gradebook import SHORT_KEY
from .results import ForkResult, ForkStatus

#: The page's files, in the fork's folder of the grading's output.
FEEDBACK_HTML, FEEDBACK_MD, CURVES_PNG = "feedback.html", "feedback.md", "curves.png"

#: Lines of a message a student should never read: a library's warning, a grader's module.
_NOT_FOR_PEOPLE = re.compile(r"\w+Warning: |mnist_checks/grading/|site-packages/")


def for_people(message: str) -> str:
    """A checker's message without the grader's paths and without lines that are a library's
    warning or name a grader module."""
    lines = without_paths(message).splitlines()
    return "\n".join(line for line in lines if not _NOT_FOR_PEOPLE.search(line)).strip()


def feedback_context(result: ForkResult) -> dict:
    """What both pages say of ``result``: the score, the status in a sentence, every claim by
    question, and the trainings (slow tier)."""
    sums = result.totals
    score, maximum = sums.get("total", (0.0, 0.0))
    status = ForkStatus(result.status)
    questions = []
    for question in QUESTIONS:
        tests = [t for t in result.tests if t["question"] == question]
        if tests:
            questions.append({"id": question, "score": sums[question][0], "max": sums[question][1],
                              "claims": [_claim(t) for t in tests]})
    tiers = sorted({t["tier"] for t in result.tests}, key=["fast", "slow"].index)
    return {
        "fork": result.fork, "commit": result.commit, "score": score, "maximum": maximum,
        "status_line": f"Status: {status} ({status.meaning}).",
        "tiers": " and ".join(tiers) + (" tiers" if len(tiers) > 1 else " tier") if tiers else "no tests ran",
        "reason": for_people(result.reason), "warnings": [for_people(w) for w in result.warnings],
        "left_out": result.left_out, "questions": questions,
        "trainings": [_training(name, t) for name, t in result.trainings.items()],
    }


def _claim(test: dict) -> dict:
    passed = test["outcome"] == "passed"
    return {"claim": test["claim"], "tier": test["tier"], "passed": passed, "outcome": test["outcome"],
            "score": test["score"], "max": test["max_score"], "message": "" if passed else for_people(
                test.get("message", ""))}


def _training(name: str, training: dict) -> dict:
    """A trained model's line: final val_accuracy, the published figure, how it was trained."""
    curve = training.get("history", {}).get("val_accuracy") or []
    published = facts.PUBLISHED.get(name)
    if training.get("key"):
        how = (f"reused an identical earlier training ({training['key'][:SHORT_KEY]})" if training.get("reused")
               else f"trained for this grading ({training['key'][:SHORT_KEY]}); forks with the same model share it")
    else:
        how = f"trained for this fork alone: {training.get('why') or 'no training key'}"
    return {"model": name, "final": f"{curve[-1]:.4f}" if curve else "-", "curve": curve, "how": how,
            "published": f"{published.val_accuracy:.3f} ± {published.tolerance:g}" if published else "-",
            "improvements": [("a real improvement: " if said["real"] else "NOT a real improvement: ") + said["sentence"]
                             for said in training.get("improvements", [])]}


def write_feedback(result: ForkResult, out: Path) -> list[Path]:
    """Write ``out/feedback.html`` and ``out/feedback.md`` (and ``out/curves.png`` where models
    were trained), each whole or not at all; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    context = feedback_context(result)
    written = []
    curves = _curves_png(context["trainings"])
    if curves:
        write_atomically(out / CURVES_PNG, curves)
        written.append(out / CURVES_PNG)
    write_atomically(out / FEEDBACK_MD, pages.render("feedback.md.j2", **context,
                                                     curves=CURVES_PNG if curves else "").encode())
    write_atomically(out / FEEDBACK_HTML, pages.render("feedback.html.j2", **context,
                                                       curves_uri=pages.data_uri(curves) if curves else "").encode())
    return [*written, out / FEEDBACK_MD, out / FEEDBACK_HTML]


def _curves_png(trainings: list[dict]) -> bytes:
    """Each trained model's validation accuracy per epoch (solid) beside the published run's
    (dashed); no bytes where no model was trained."""
    drawn = [t for t in trainings if t["curve"]]
    if not drawn:
        return b""
    plt = pages.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    lowest = 1.0
    for training in drawn:
        curve = training["curve"]
        (line,) = ax.plot(range(1, len(curve) + 1), curve, marker=".",
                          label=f"{training['model']} (final {curve[-1]:.4f})")
        published = facts.PUBLISHED.get(training["model"])
        if published and published.curve:
            ax.plot(range(1, len(published.curve) + 1), published.curve, color=line.get_color(), linestyle="--",
                    linewidth=1, label=f"{training['model']}: published (final {published.curve[-1]:.4f})")
            lowest = min(lowest, *published.curve)
        lowest = min(lowest, *curve)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (10,000 test digits)")
    ax.set_ylim(max(0.0, min(0.9, lowest) - 0.01), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Validation accuracy per epoch: this fork's (solid), the published run's (dashed)", fontsize=10)
    fig.tight_layout()
    return pages.png_bytes(fig)
