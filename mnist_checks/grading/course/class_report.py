"""The class report: ``OUT/report.html`` (one file, opens from disk) and ``OUT/report.png`` (its
plots), read from the gradebook and each fork's results.json, so it covers every fork the
gradebook holds, from this call and earlier ones.

It shows the score distribution per question, the claims most often failed with their counts
and a typical message, the forks by status, the time each fork took, the trainings shared, and
each fork linked to its feedback page (``feedback_page``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from ...files import write_atomically
from ...questions import QUESTIONS, label
from ..students.rubric import NOT_IMPLEMENTED
from . import pages
from .feedback_page import FEEDBACK_HTML, for_people
from .gradebook import GRADEBOOK, read_gradebook
from .results import RESULTS, ForkStatus

#: The report's files, in the grading's output folder.
REPORT_HTML, REPORT_PNG = "report.html", "report.png"
#: How many of the most often failed claims the report lists.
TOP_CLAIMS = 12
#: Bins of each question's score histogram, over 0 to the question's points.
BINS = 10


def class_context(out: Path) -> dict:
    """What the report says of the grading in ``out``: a row per fork (with its feedback page's
    link, where it has one), counts per status, the claims most often failed by code that was
    written (a function still raising NotImplementedError is counted apart, ``unfinished``), the
    trainings."""
    rows = read_gradebook(out / GRADEBOOK)
    forks, failed, trainings, unfinished = [], Counter(), [], 0
    messages: dict[tuple, Counter] = {}
    for row in rows:
        folder = out / row["fork"]
        results = _results(folder / RESULTS)
        extra = results.get("extra_data", {})
        ended = extra.get("graded_as") or row["status"]  # a cached fork: how the grading it repeats ended
        graded = ended in (ForkStatus.GRADED, ForkStatus.CACHED)
        tests = extra.get("raw_tests", []) if graded else []
        unfinished += any(test.get("error") == NOT_IMPLEMENTED for test in tests)
        for test in tests:
            if test.get("outcome") != "passed" and test.get("error") != NOT_IMPLEMENTED:
                key = (test["question"], test["claim"])
                failed[key] += 1
                messages.setdefault(key, Counter())[_typical(test.get("message", ""))] += 1
        trainings += [t for t in extra.get("trainings", {}).values() if isinstance(t, dict)]
        cached = " (cached)" if row["status"] == ForkStatus.CACHED and ended != ForkStatus.CACHED else ""
        forks.append({**row, "ended": ended, "shown_status": ended + cached, "seconds": results.get("execution_time"),
                      "graded": graded,
                      "page": f"{quote(row['fork'])}/{FEEDBACK_HTML}" if (folder / FEEDBACK_HTML).is_file() else "",
                      "maxima": extra.get("by_question", {})})
    statuses = Counter(fork["ended"] for fork in forks)  # a cached fork under the status of the grading it repeats
    return {
        "forks": forks, "questions": [q for q in QUESTIONS if any(f[q] != "" for f in forks)],
        "statuses": [{"status": s, "count": n, "meaning": ForkStatus(s).meaning if s in _STATUS_WORDS else ""}
                     for s, n in statuses.most_common()],
        "claims": [{"question": q, "claim": claim, "count": n, "typical": messages[(q, claim)].most_common(1)[0][0]}
                   for (q, claim), n in failed.most_common(TOP_CLAIMS)],
        "graded": sum(f["graded"] for f in forks), "trainings": _trainings_line(trainings), "unfinished": unfinished,
    }


_STATUS_WORDS = {status.value for status in ForkStatus}


def _typical(message: str) -> str:
    """A failed claim's message in a line: its first two lines (``expected: ... / found: ...``)."""
    return " / ".join([line.strip() for line in for_people(message).splitlines() if line.strip()][:2])


def _results(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _trainings_line(trainings: list[dict]) -> str:
    """``8 trained models, 3 distinct trainings: 5 reused an identical earlier one``."""
    if not trainings:
        return ""
    keyed = [t for t in trainings if t.get("key")]
    reused = sum(bool(t.get("reused")) for t in keyed)
    return (f"{len(trainings)} trained models, {len({t['key'] for t in keyed})} distinct trainings: {reused} reused "
            f"an identical earlier one, {len(trainings) - len(keyed)} unkeyed (trained for their fork alone)")


def write_class_report(out: Path) -> list[Path]:
    """Write ``out/report.html`` and ``out/report.png`` from the gradebook in ``out`` and each
    fork's results.json, each whole or not at all; the paths written."""
    out = Path(out)
    context = class_context(out)
    figures = {q: _distribution_png(context, q) for q in [*context["questions"], "total"]}
    write_atomically(out / REPORT_PNG, _overview_png(context))
    html = pages.render("report.html.j2", **context, figures={q: pages.data_uri(png) for q, png in figures.items()},
                        overview=REPORT_PNG)
    write_atomically(out / REPORT_HTML, html.encode())
    return [out / REPORT_HTML, out / REPORT_PNG]


def _scores(context: dict, question: str) -> tuple[list[float], float]:
    """The graded forks' points on ``question`` (or ``total``) and the most it gives."""
    key = question
    values = [float(f[key]) for f in context["forks"] if f["graded"] and f[key] != ""]
    maxima = [float(f["max"]) if key == "total" else float(f["maxima"].get(key, [0, 0])[1])
              for f in context["forks"] if f["graded"]]
    return values, max(maxima, default=0.0) or max(values, default=1.0) or 1.0


def _draw_distribution(ax, context: dict, question: str) -> None:
    values, most = _scores(context, question)
    edges = [most * i / BINS for i in range(BINS + 1)]
    ax.hist(values, bins=edges, color="#4c72b0", edgecolor="white")
    name = "total" if question == "total" else f"{label(question)}: {pages.TITLES[question]}"
    ax.set_title(f"{name} ({len(values)} graded forks)", fontsize=9)
    ax.set_xlabel(f"points of {pages.points(most)}", fontsize=8)
    ax.set_ylabel("forks", fontsize=8)
    ax.set_xlim(0, most)
    ax.yaxis.get_major_locator().set_params(integer=True)


def _distribution_png(context: dict, question: str) -> bytes:
    plt = pages.pyplot()
    fig, ax = plt.subplots(figsize=(4, 2.6), dpi=100)
    _draw_distribution(ax, context, question)
    fig.tight_layout()
    return pages.png_bytes(fig)


def _overview_png(context: dict) -> bytes:
    """report.png: every question's distribution, the total's, and the forks by status."""
    plt = pages.pyplot()
    panels = [*context["questions"], "total", "status"]
    columns = 3
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(12, 3 * rows), dpi=90, squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        if panel == "status":
            statuses = context["statuses"]
            ax.barh([s["status"] for s in statuses], [s["count"] for s in statuses], color="#8172b2")
            ax.set_title("forks by status", fontsize=9)
            ax.invert_yaxis()
        else:
            _draw_distribution(ax, context, panel)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"MNIST exercise: {len(context['forks'])} forks, {context['graded']} graded")
    fig.tight_layout()
    return pages.png_bytes(fig)
