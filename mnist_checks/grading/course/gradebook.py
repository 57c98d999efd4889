"""The course's gradebook (gradebook.csv): a row per fork, merged with earlier calls' rows so
that none is ever lost; what changed, the shared trainings, and the summary printed after a batch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ...errors import MnistChecksError
from ...files import write_atomically
from ...questions import QUESTIONS, label
from ..students.rubric import TIERS, shown
from .results import ForkResult, ForkStatus, lost_points

#: The gradebook's file, in the grading's output folder.
GRADEBOOK = "gradebook.csv"


#: ``student`` and ``name`` come from a roster (``grade --roster``); ``committed``, ``late`` and
#: ``penalty`` (percent) from a due date (``grade --due``); ``total`` is after any late penalty.
GRADEBOOK_COLUMNS = ["fork", "student", "name", "path", "commit", "committed", "late", "penalty", "status", "total",
                     "max", *QUESTIONS, *TIERS, "isolation", "memory", "reason", "lost", "warnings", "trainings",
                     "reused"]


#: How many hex digits of a training's key the gradebook shows: forks with the same one shared it.
SHORT_KEY = 12


def trainings_cell(result: ForkResult) -> tuple[str, str]:
    """The gradebook's ``trainings`` (``model=key`` for each trained model, short keys: forks
    that show the same key shared that training) and ``reused`` (how many were done before)."""
    keyed = {name: t for name, t in result.trainings.items() if t.get("key")}
    cell = " ".join(f"{name}={t['key'][:SHORT_KEY]}" for name, t in keyed.items())
    unkeyed = [f"{name}=unkeyed" for name, t in result.trainings.items() if not t.get("key")]
    reused = f"{sum(bool(t.get('reused')) for t in keyed.values())}/{len(result.trainings)}" if result.trainings else ""
    return " ".join([cell, *unkeyed]).strip(), reused


def gradebook_rows(results: list[ForkResult]) -> list[dict]:
    """The gradebook's row of each result: status, points per question and tier, and why."""
    rows = []
    for result in results:
        sums = result.totals
        row = {"fork": result.fork, "path": result.path, "commit": result.commit, "status": str(result.status),
               "total": shown(sums.get("total", (0, 0))[0]), "max": shown(sums.get("total", (0, 0))[1]),
               "isolation": result.isolation, "memory": result.memory, "reason": result.reason,
               "lost": lost_points(result), "warnings": "; ".join(result.warnings)}
        row["trainings"], row["reused"] = trainings_cell(result)
        row["student"], row["name"] = result.student.get("identifier", ""), result.student.get("name", "")
        row["committed"], row["late"] = result.handed_in.get("committed", ""), result.handed_in.get("late", "")
        row["penalty"] = f"{result.handed_in['penalty']:g}" if result.handed_in.get("penalty") else ""
        for key in (*QUESTIONS, *TIERS):
            row[key] = shown(sums[key][0]) if key in sums else ""
        rows.append(row)
    return rows


class GradebookError(MnistChecksError, ValueError):
    """An existing gradebook.csv that the grader did not write: it is never overwritten."""

    remedy = "move that file away, or pass another --out"


def read_gradebook(path: Path) -> list[dict]:
    """The rows of an earlier call's gradebook (none if there is no file yet)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise GradebookError(f"{path}: cannot read the earlier gradebook ({error})") from None
    unknown = [c for c in columns if c not in GRADEBOOK_COLUMNS]
    if "fork" not in columns or "status" not in columns or unknown:
        raise GradebookError(f"{path}: not a gradebook of mnist-checks grade (columns {', '.join(columns) or 'none'}); "
                             "it was left as it is")
    return [{column: row.get(column) or "" for column in GRADEBOOK_COLUMNS} for row in rows]


def merge_gradebook(earlier: list[dict], results: list[ForkResult]) -> list[dict]:
    """The gradebook after this call: each earlier row in its place, replaced where this call
    graded the same fork (same path), then this call's new forks. No fork's row is ever lost, and
    no grade: a fork this call did not reach (interrupted) keeps its earlier row as it was."""
    before = {row["path"]: row for row in earlier if row.get("path")}
    current = {row["path"]: _kept(row, before.get(row["path"])) or row for row in gradebook_rows(results)}
    merged = [current.pop(row["path"], row) if row.get("path") else row for row in earlier]
    return merged + list(current.values())


#: The mark a kept row carries (``_kept``) in its warnings: its grade is from an earlier call.
KEPT_MARK = "kept from an earlier call: this call did not reach the fork"


def _kept(row: dict, old: dict | None) -> dict | None:
    """``old``, marked kept, where this call's ``row`` is no grade (``not graded``) and ``old`` is one."""
    if row["status"] == ForkStatus.NOT_GRADED and old is not None and old["status"] != ForkStatus.NOT_GRADED:
        marked = old["warnings"] if old["warnings"].startswith(KEPT_MARK) else "; ".join(
            filter(None, [KEPT_MARK, old["warnings"]]))
        return {**old, "warnings": marked}
    return None


def grade_of(row: dict) -> tuple:
    """What a row's grade is: how its grading ended and its points (total, maximum, per question
    and tier). A ``cached`` row repeats an earlier grading: its status is ``None``, which
    ``same_grade`` takes as any."""
    status = None if row["status"] == ForkStatus.CACHED else row["status"]
    return (status, *(_number(row[key]) for key in ("total", "max", *QUESTIONS, *TIERS)))


def same_grade(old: dict, row: dict) -> bool:
    """Whether two rows hold the same grade: the same points, spelled however (``60``, ``60.0``),
    and the same status unless one of them is cached (it repeats the grading before it)."""
    (before, *points_before), (after, *points_after) = grade_of(old), grade_of(row)
    return points_before == points_after and (before is None or after is None or before == after)


def _number(cell) -> float | None:
    """A gradebook cell as a number (``"60"`` and ``"60.0"`` alike), ``None`` if empty."""
    try:
        return float(cell)
    except (TypeError, ValueError):
        return None


def gradebook_changes(earlier: list[dict], results: list[ForkResult]) -> dict[str, list[str]]:
    """Which forks this call ``added`` to the gradebook, which rows it ``changed`` (their grade,
    ``grade_of``, differs: ``alice (60.0 -> 58.5)``, ``bob (graded -> timeout)``), which it graded
    ``unchanged``, and which earlier rows it ``kept``."""
    before = {row["path"]: row for row in earlier if row.get("path")}
    changes: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": [], "kept": []}
    for row in gradebook_rows(results):
        old = before.pop(row["path"], None)
        if old is None:
            changes["added"].append(row["fork"])
        elif _kept(row, old):
            changes["kept"].append(row["fork"])
        elif not same_grade(old, row):
            changes["changed"].append(f"{row['fork']} ({_what_changed(old, row)})")
        else:
            changes["unchanged"].append(row["fork"])
    changes["kept"] += [row["fork"] for row in earlier if row.get("path") in before or not row.get("path")]
    return changes


def _what_changed(old: dict, row: dict) -> str:
    """``5.0 -> 10.0`` (the total), ``graded -> timeout`` (the status), else the points that moved."""
    if _number(old["total"]) != _number(row["total"]):
        return f"{old['total']} -> {row['total']}"
    if old["status"] != row["status"]:
        return f"{old['status']} -> {row['status']}"
    return ", ".join(f"{label(key) if key in QUESTIONS else key} {old[key] or '-'} -> {row[key] or '-'}"
                     for key in ("max", *QUESTIONS, *TIERS) if _number(old[key]) != _number(row[key]))


def write_gradebook(rows: list, path: Path) -> None:
    """Write ``rows`` (gradebook dicts, or ``ForkResult`` turned into them) as the CSV gradebook."""
    rows = [row if isinstance(row, dict) else gradebook_rows([row])[0] for row in rows]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=GRADEBOOK_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(Path(path), text.getvalue().encode())


def shared_trainings(results: list[ForkResult]) -> str:
    """What the batch trained: ``trainings: 80 trained models of 20 fork(s), 10 distinct: 10
    trained in this call, 70 reused``; empty where nothing was trained."""
    models = [(r, t) for r in results for t in r.trainings.values()]
    if not models:
        return ""
    keyed = [(r, t) for r, t in models if t.get("key")]
    trained = sum(r.status != "cached" and not t.get("reused") for r, t in keyed)
    forks = sum(bool(r.trainings) for r in results)
    distinct = len({t["key"] for _, t in keyed})
    unkeyed = len(models) - len(keyed)
    unkeyed_note = f", {unkeyed} unkeyed (trained each time)" if unkeyed else ""
    return (f"trainings: {len(models)} trained models of {forks} fork(s), {distinct} distinct: {trained} trained in "
            f"this call, {len(keyed) - trained} reused{unkeyed_note}; forks with the same key in the gradebook's "
            "trainings column shared that training")


#: How much of a fork's reason (or where it lost points) the terminal's summary shows; the
#: gradebook and the fork's feedback page have all of it.
NOTE_CHARS = 100


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 3] + "..."


def summary_table(results: list[ForkResult]) -> str:
    """The table ``mnist-checks grade`` prints after a batch: a line per fork."""
    header = ["fork", "status", "total", *[label(q) for q in QUESTIONS], "reason / warnings"]
    lines = []
    for row, result in zip(gradebook_rows(results), results):
        note = row["reason"] or row["lost"] or (
            f"{len(result.warnings)} warning(s): {result.warnings[0]}" if result.warnings else "")
        lines.append([row["fork"], row["status"], f"{row['total']:g}/{row['max']:g}",
                      *[f"{row[q]:g}" if row[q] != "" else "-" for q in QUESTIONS], _cut(note, NOTE_CHARS)])
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])
