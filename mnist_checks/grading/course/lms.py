"""The gradebook's grades as an LMS imports them (``mnist-checks export``): Canvas's gradebook
import, Moodle's CSV grade import, or a plain CSV; each student matched through the roster.

- ``canvas``: Canvas's "How do I import grades in the Gradebook?"
  (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807):
  columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one per
  assignment, and below the header the ``Points Possible`` row that Canvas's own export writes
  (PrairieLearn/PrairieLearn#4547 lists which identity columns Canvas needs in practice).
- ``moodle``: Moodle's Grades > Import > CSV file (https://docs.moodle.org/en/Grade_import): the
  teacher maps "Map from" ``ID number`` to *useridnumber* (or ``Email address`` to *useremail*)
  and the assignment's column to its grade item. Moodle's importer
  (grade/import/csv/classes/load_data.php) reads an empty grade cell as "no grade", clearing the
  grade Moodle has; gives a row whose user cell is empty to the row before's student; and stops
  the whole import at a user it does not know.
- ``csv``: every student and fork, their status, total, maximum, lateness and points per question.

So the LMS files hold only grades to set: a student without a graded fork is left out of them
(the LMS keeps what it has; an empty cell would clear Moodle's grade), as is a fork whose grading
did not end as ``graded`` (or ``cached``): its points may not be the student's (``timeout``,
``crashed``, ``error``, ...). Nothing is dropped silently: every student and fork not in the file
is listed, with why, in the side file ``<out>.unmatched.csv`` and by ``export_lines``.
Points are the gradebook's cells as written (two decimals); ``total`` is after any late penalty.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import MnistChecksError
from ...files import write_atomically
from ...questions import QUESTIONS
from .gradebook import GRADEBOOK, GradebookError, read_gradebook
from .results import ForkStatus
from .roster import Matching, Student, match, matching_lines

#: The layouts ``export_grades`` writes.
FORMATS = ("canvas", "moodle", "csv")
DEFAULT_ASSIGNMENT = "MNIST exercise"
#: The statuses whose points go into an LMS: the grading ran to its end (or repeats one that did).
EXPORTED_STATUSES = frozenset({ForkStatus.GRADED.value, ForkStatus.CACHED.value})
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
PLAIN_COLUMNS = ["identifier", "name", "github_username", "fork", "status", "total", "max", "late", "penalty",
                 *QUESTIONS]
SIDE_COLUMNS = ["why", "identifier", "name", "github_username", "fork", "status", "total", "max"]
#: Why an entry is not in an LMS file.
NO_FORK = "no graded fork"
NO_STUDENT = "no student in the roster"


class ExportError(MnistChecksError, ValueError):
    """Grades that cannot be exported as asked; the message says why."""

    remedy = "`mnist-checks export --help` says what it takes; docs/grading.md, \"Into the LMS\", shows each layout"

    def __init__(self, message: str, remedy: str | None = None):
        super().__init__(message)
        if remedy:
            self.remedy = remedy


@dataclass(frozen=True)
class Entry:
    """A student, their graded row (a gradebook dict), or both; ``why`` it is not in an LMS file
    (empty: it is)."""

    student: Student | None
    row: dict | None
    why: str = ""


@dataclass(frozen=True)
class Export:
    """What ``export_grades`` wrote: ``out`` (``to``'s layout), the ``side`` file (None where every
    entry is in ``out``), every entry, the matching, and ``notes`` on the file."""

    out: Path
    to: str
    entries: list[Entry]
    matching: Matching
    side: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exported(self) -> list[Entry]:
        return [entry for entry in self.entries if not entry.why]

    @property
    def complete(self) -> bool:
        """Every student and fork matched, and every grade exported."""
        return all(not entry.why for entry in self.entries)


def gradebook_file(grades: str | Path) -> Path:
    """The gradebook that ``grades`` names: a ``grade`` output folder's gradebook.csv, or the file."""
    path = Path(grades)
    if path.is_dir():
        path = path / GRADEBOOK
        if not path.is_file():
            raise ExportError(f"{grades}: no {GRADEBOOK} in that folder, so not a `mnist-checks grade` output",
                              "pass the --out folder of `mnist-checks grade`, or its gradebook.csv")
    elif not path.is_file():
        raise ExportError(f"{grades}: no such folder or file", "pass the --out folder of `mnist-checks grade`")
    return path


def read_grades(path: Path) -> list[dict]:
    """The gradebook's rows (``read_gradebook``), refused where it is not one or holds none."""
    try:
        rows = read_gradebook(path)
    except GradebookError as error:
        raise ExportError(str(error), "pass the --out folder of `mnist-checks grade`, or its gradebook.csv") from None
    if not rows:
        raise ExportError(f"{path}: no fork in it: nothing to export", "grade the forks first: mnist-checks grade")
    return rows


def students_in(rows: list[dict]) -> list[Student]:
    """The students the gradebook's ``student`` and ``name`` columns name (graded with a roster)."""
    found: dict[str, Student] = {}
    for row in rows:
        if row.get("student"):
            found.setdefault(row["student"], Student(identifier=row["student"], name=row.get("name", "")))
    return list(found.values())


def pairing(rows: list[dict], students: list[Student]) -> Matching:
    """Which row is whose: by the row's ``student`` where the roster knows it, else by its fork's
    name (``roster.match``) among the students not yet paired."""
    known = {student.identifier: student for student in students}
    by_column = {row["fork"]: known[row["student"]] for row in rows if row.get("student") in known}
    paired = {student.identifier for student in by_column.values()}
    rest = match([s for s in students if s.identifier not in paired],
                 {row["fork"]: Path(row["path"] or row["fork"]) for row in rows if row["fork"] not in by_column})
    groups: dict[str, list[str]] = {}
    for fork, student in by_column.items():
        groups.setdefault(student.identifier, []).append(fork)
    several = {**{identifier: forks for identifier, forks in groups.items() if len(forks) > 1}, **rest.several}
    owned = {**by_column, **rest.students}
    owners = {student.identifier for student in owned.values()} | set(several)
    return Matching(students={fork: s for fork, s in owned.items() if s.identifier not in several},
                    without_fork=[s for s in students if s.identifier not in owners],
                    without_student=rest.without_student, several=several)


def unended(row: dict) -> str:
    """Why a row's points are not exported (empty: they are)."""
    if row["status"] in EXPORTED_STATUSES:
        return ""
    return f"its grading ended '{row['status']}', not graded: regrade the fork, or enter its grade by hand"


def entries(rows: list[dict], matching: Matching, students: list[Student]) -> list[Entry]:
    """Every student in roster order (one entry per fork where they have several), then every
    fork without a student; each with why it is not exported, if it is not."""
    row_of = {row["fork"]: row for row in rows}
    fork_of = {student.identifier: fork for fork, student in matching.students.items()}
    found = []
    for student in students:
        forks = matching.several.get(student.identifier)
        if forks:
            found += [Entry(student, row_of[fork], f"one of this student's {len(forks)} forks ({', '.join(forks)}): "
                                                   "remove the others from the gradebook") for fork in forks]
        elif student.identifier in fork_of:
            row = row_of[fork_of[student.identifier]]
            found.append(Entry(student, row, unended(row)))
        else:
            found.append(Entry(student, None, NO_FORK))
    return found + [Entry(None, row_of[fork], NO_STUDENT) for fork in matching.without_student]


def points_possible(exported: list[Entry]) -> str:
    """The one maximum of the exported rows; ``ExportError`` where they were graded out of several."""
    maxima: dict[float, list[str]] = {}
    for entry in exported:
        maxima.setdefault(float(entry.row["max"] or 0), []).append(entry.row["fork"])
    if len(maxima) > 1:
        said = "; ".join(f"{value:g} ({', '.join(forks[:3])}{', ...' if len(forks) > 3 else ''})"
                         for value, forks in sorted(maxima.items()))
        raise ExportError(f"the forks were graded out of different maxima: {said}; an LMS column has one",
                          "regrade them alike (same --tier and --rubric), or export to csv")
    return next((entry.row["max"] for entry in exported), "")


def canvas_table(found: list[Entry], assignment: str) -> tuple[list[list[str]], list[str]]:
    """Canvas's import: the header, the ``Points Possible`` row, a row per exported student."""
    exported = [entry for entry in found if not entry.why]
    table = [[*CANVAS_COLUMNS, assignment], ["Points Possible", "", "", "", "", points_possible(exported)]]
    table += [[e.student.name, e.student.lms_id, e.student.identifier, e.student.sis_login_id or e.student.email,
               e.student.section, e.row["total"]] for e in exported]
    notes = []
    if "final" in assignment.lower():
        notes.append(f"Canvas has been seen to skip an imported column whose name holds 'final' "
                     f"(instructure/canvas-lms#2134): check that {assignment!r} was imported")
    return table, notes


def moodle_table(found: list[Entry], assignment: str) -> tuple[list[list[str]], list[str]]:
    """Moodle's CSV import: ``ID number`` (the roster's identifier), ``Email address`` where every
    exported student has one (an empty user cell gives the grade to the row before's student), the
    name, and the assignment; a row per exported student."""
    exported = [entry for entry in found if not entry.why]
    maximum = points_possible(exported)
    emails = bool(exported) and all(entry.student.email for entry in exported)
    header = ["ID number", *(["Email address"] if emails else []), "Full name", assignment]
    table = [header] + [[e.student.identifier, *([e.student.email] if emails else []), e.student.name, e.row["total"]]
                        for e in exported]
    notes = [f"in Moodle map from 'ID number' to useridnumber{' (or Email address to useremail)' if emails else ''}"
             f", and {assignment!r} to its grade item (maximum {maximum})"] if exported else []
    if exported and not emails:
        notes.append("no Email address column: not every exported student has an email in the roster")
    return table, notes


def plain_table(found: list[Entry]) -> tuple[list[list[str]], list[str]]:
    """Every entry: the student's identity, and the row's status and points (``no fork`` where none)."""
    table = [PLAIN_COLUMNS]
    for entry in found:
        student, row = entry.student or Student(identifier=""), entry.row or {}
        table.append([student.identifier, student.name, student.github_username, row.get("fork", ""),
                      row.get("status", "no fork"), *(row.get(key, "") for key in PLAIN_COLUMNS[5:])])
    return table, []


def side_table(found: list[Entry]) -> list[list[str]]:
    """The side file: each entry not in the LMS file, with why."""
    table = [SIDE_COLUMNS]
    for entry in found:
        if entry.why:
            student, row = entry.student or Student(identifier=""), entry.row or {}
            table.append([entry.why, student.identifier, student.name, student.github_username, row.get("fork", ""),
                          row.get("status", ""), row.get("total", ""), row.get("max", "")])
    return table


def write_csv(path: Path, table: list[list[str]]) -> None:
    """``table`` as CSV (UTF-8), whole or not at all."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows(table)
    write_atomically(path, text.getvalue().encode())


def side_file(out: Path) -> Path:
    """Where the students and forks not in ``out`` are listed: ``grades.csv`` -> ``grades.unmatched.csv``."""
    return out.with_suffix(".unmatched.csv")


def export_grades(rows: list[dict], out: str | Path, *, to: str, students: list[Student] | None = None,
                  assignment: str = DEFAULT_ASSIGNMENT) -> Export:
    """Write the gradebook's ``rows`` to ``out`` in ``to``'s layout (``FORMATS``), each matched to
    one of ``students`` (a roster; None: those the rows' ``student`` column names), and the side
    file of those left out; a side file of an earlier export is removed where none is left out."""
    out = Path(out)
    if to not in FORMATS:
        raise ExportError(f"no layout {to!r}: there are {', '.join(FORMATS)}")
    if not assignment.strip():
        raise ExportError("an empty assignment name: the LMS names its column by it", "give --assignment NAME")
    if out.is_dir() or not out.parent.is_dir():
        raise ExportError(f"--out {out}: {'a folder' if out.is_dir() else 'its folder does not exist'}",
                          "give the path of the CSV file to write, in a folder that exists")
    if students is None:
        students = students_in(rows)
        if not students:
            raise ExportError("the gradebook was graded without a roster: nothing says whose fork is whose",
                              "pass --roster FILE (GitHub Classroom's classroom_roster.csv, or a CSV of your own)")
    matching = pairing(rows, students)
    found = entries(rows, matching, students)
    table, notes = (plain_table(found) if to == "csv" else
                    canvas_table(found, assignment) if to == "canvas" else moodle_table(found, assignment))
    write_csv(out, table)
    side = side_file(out)
    if any(entry.why for entry in found):
        write_csv(side, side_table(found))
    else:
        side.unlink(missing_ok=True)
    return Export(out=out, to=to, entries=found, matching=matching, side=side if side.exists() else None, notes=notes)


def export_lines(done: Export) -> list[str]:
    """What ``mnist-checks export`` prints: what it wrote, who is unmatched, what was not exported."""
    graded = done.exported
    maximum = next((entry.row["max"] for entry in graded), "")
    lines = [f"wrote {done.out} ({done.to}): {len(graded)} student(s)' grades" + (f", out of {maximum}" if maximum
                                                                                   else "")]
    lines += matching_lines(done.matching)
    looks = [entry for entry in done.entries if entry.row and entry.why and entry.why == unended(entry.row)
             and entry.student is not None]
    if looks:
        lines.append("not exported, their grading did not end as graded: " + ", ".join(
            f"{e.student.identifier} ({e.row['fork']}: {e.row['status']}, {e.row['total']}/{e.row['max']})"
            for e in looks))
    lines += done.notes
    if done.side:
        left = sum(bool(entry.why) for entry in done.entries)
        where = "left out of the LMS file" if done.to != "csv" else "unmatched or not graded"
        lines.append(f"wrote {done.side}: {left} student(s) and fork(s) {where}, with why")
    return lines
