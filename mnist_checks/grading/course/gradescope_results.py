"""Gradescope's results.json, in its words, from a fork's own (``results.results_json``): each
test with its question's tag (``q1``..``q5``), its tier's visibility and Markdown a student can act
on; the summary showing only the tiers students may see now; the CNN's val_accuracy on the
leaderboard where the slow tier trained it; and the results of a submission with nothing to grade
or of a grader that failed, valid all the same (Gradescope's autograder specification)."""

from __future__ import annotations

from pathlib import Path

from ...notebook import NOTEBOOK
from ...questions import QUESTIONS, TITLES, label
from ..contract import CONTRACT
from ..students.rubric import shown, totals
from .feedback_page import for_people
from .results import ForkStatus

#: Gradescope's words: a test's and the results' visibility, a test's status, an output's format.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
STATUSES = ("passed", "failed")
OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")
#: What students are told of a tier they cannot see yet, by its visibility.
LATER = {"hidden": "not shown", "after_due_date": "shown after the due date",
         "after_published": "shown once the grades are published"}
#: The leaderboard's column: the CNN's final val_accuracy, as the slow tier trained it.
LEADERBOARD_MODEL, LEADERBOARD_NAME = "cnn", "CNN val_accuracy"


def gradescope_results(graded: dict, config: dict, *, metadata: dict | None = None, handed_in: str = "") -> dict:
    """Gradescope's results.json from a fork's (``results.results_json``): each test with its
    question's tag, its tier's visibility and Markdown a student can act on; the summary in
    Markdown, showing only what students may see now; the grader's details in ``extra_data``;
    the CNN's val_accuracy on the leaderboard where the slow tier trained it."""
    extra = graded["extra_data"]
    raw = extra["raw_tests"]
    tests = [{"name": test["name"], "number": test["number"], "score": test["score"],
              "max_score": test["max_score"], "status": test["status"], "output": claim_output(found),
              "output_format": "md", "tags": [found["question"]],
              "visibility": config["visibility"][found["tier"]]} for test, found in zip(graded["tests"], raw)]
    results = {
        "score": graded["score"],
        "output": summary(graded, config, metadata or {}, handed_in),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "visibility": "visible",
        "tests": tests,
        "extra_data": {**extra, "max_score": graded.get("max_score"), "handed_in": handed_in,
                       "autograder": {key: config[key] for key in ("version", "tier", "visibility", "isolation")}},
    }
    board = leaderboard(extra) if config["leaderboard"] else []
    if board:
        results["leaderboard"] = board
    return results


def claim_output(test: dict) -> str:
    """A test's output as Markdown: passed, or the claim and what differed (``feedback_page.for_people``)."""
    if test["outcome"] == "passed":
        return f"passed: {test['claim']}"
    message = for_people(test.get("message", ""))
    fence = "````" if "```" in message else "```"
    return f"**{test['outcome']}**: {test['claim']}" + (f"\n\n{fence}text\n{message}\n{fence}" if message else "")


def summary(graded: dict, config: dict, metadata: dict, handed_in: str) -> str:
    """The results' output in Markdown: who, what was graded, the status, and per question the
    points of the tiers students see now; the tiers they will see later, named."""
    extra = graded["extra_data"]
    now = [tier for tier, visibility in config["visibility"].items() if visibility == "visible"]
    later = sorted({test["tier"] for test in extra["raw_tests"]} - set(now), key=["fast", "slow"].index)
    shown_now = [test for test in extra["raw_tests"] if test["tier"] in now]
    sums = totals(shown_now)
    score, maximum = sums.get("total", (0.0, 0.0))
    status = ForkStatus(extra["graded_as"] if extra["status"] == ForkStatus.CACHED else extra["status"])
    title = metadata.get("assignment") or "The MNIST exercise"
    what = " and ".join(sorted({test["tier"] for test in shown_now}, key=["fast", "slow"].index))
    lines = [f"## {title}: {shown(score):g} / {shown(maximum):g}" + (f" ({what} tier{'s' * (' and ' in what)})"
                                                                          if later and what else "")]
    if metadata.get("submitters"):
        lines.append(f"Submitted by {', '.join(metadata['submitters'])}.")
    if handed_in:
        lines.append(f"Graded: {handed_in}.")
    lines.append(f"Status: {status} ({status.meaning}).")
    if extra.get("reason"):
        lines.append(f"**{for_people(extra['reason'])}**")
    lines += [f"> warning: {for_people(warning)}" for warning in extra.get("warnings", [])]
    if shown_now:
        rows = [f"| {label(q)} {TITLES[q]} | {shown(sums[q][0]):g} / {shown(sums[q][1]):g} |"
                for q in QUESTIONS if q in sums]
        lines.append("| question | points |\n|---|---:|\n" + "\n".join(rows))
    for tier in later:
        points = shown(sum(test["max_score"] for test in extra["raw_tests"] if test["tier"] == tier))
        lines.append(f"The {tier} tier's claims ({points:g} points) are {LATER[config['visibility'][tier]]}.")
    if extra.get("left_out"):
        lines.append("Left out of exercise.ipynb (only its imports, constants and definitions are graded):\n"
                     + "\n".join(f"- `{line.replace('`', chr(39))}`" for line in extra["left_out"]))
    return "\n\n".join(lines) + "\n"


def leaderboard(extra: dict) -> list[dict]:
    """Gradescope's leaderboard: the CNN's final val_accuracy where the slow tier trained it; none otherwise."""
    training = extra.get("trainings", {}).get(LEADERBOARD_MODEL) or {}
    curve = training.get("history", {}).get("val_accuracy") or []
    return [{"name": LEADERBOARD_NAME, "value": round(float(curve[-1]), 4), "order": "desc"}] if curve else []


def nothing_to_grade(folder: Path, metadata: dict) -> dict:
    """The results of a submission holding no contract: score 0, what it held, what to hand in."""
    try:
        held = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    except OSError:
        held = []
    listed = ", ".join(f"`{name}`" for name in held[:20]) + (f" and {len(held) - 20} more" if len(held) > 20 else "")
    output = (f"## Nothing to grade: 0 points\n\nThe submission holds neither `{CONTRACT.as_posix()}` nor "
              f"`{NOTEBOOK.as_posix()}`, nor a lone `{CONTRACT.name}` or `{NOTEBOOK.name}`"
              + (f" (it holds {listed})" if held else " (it is empty)")
              + ".\n\nSubmit your repository (or upload the file itself) and the autograder runs again.\n")
    return {"score": 0.0, "output": output, "output_format": "md", "stdout_visibility": "hidden",
            "visibility": "visible", "tests": [],
            "extra_data": {"status": str(ForkStatus.ERROR), "reason": "no contract in the submission", "held": held}}


def failed_results(error: BaseException, graded: dict | None, metadata: dict) -> dict:
    """The results of a grading that failed: the grader's score where it graded before failing,
    else 0; the cause in a sentence (the traceback is on the instructor's stdout)."""
    cause = f"{type(error).__name__}: {error}"
    remedy = getattr(error, "remedy", "")
    output = ("## The autograder failed\n\n"
              + ("It graded this submission, then failed to write the results; the score is the grader's. "
                 if graded else "Nothing was graded; ")
              + f"tell your instructor, who sees the details.\n\n```text\n{cause}"
              + (f"\n{remedy}" if remedy else "") + "\n```\n")
    return {"score": graded.get("score", 0.0) if graded else 0.0, "output": output, "output_format": "md",
            "stdout_visibility": "hidden", "visibility": "visible", "tests": [],
            "extra_data": {"status": "autograder failed", "error": cause, "remedy": remedy,
                           "graded": graded["extra_data"] if graded else None}}
