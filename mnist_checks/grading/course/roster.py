"""The course's roster: who the students are, read from GitHub Classroom's roster export or a
plain CSV, and which graded fork is whose (``match``).

Two layouts, told apart by nothing but their columns (matched case-insensitively, surrounding
spaces stripped, spaces and hyphens read as ``_``; a byte-order mark, as Excel writes, is fine):

- GitHub Classroom's ``classroom_roster.csv``: ``"identifier","github_username","github_id","name"``;
  a student who has not linked an account yet has an empty ``github_username``.
- a plain CSV: ``identifier`` (or ``student``, ``id``), optional ``name``, a fork folder (``fork``)
  and/or a GitHub user (``github_username``, ``github``), and optional LMS fields: ``email``,
  ``section``, ``canvas_id`` (or ``lms_id``), ``sis_login_id``.

A row with neither fork nor user is a student without a fork (not linked yet), never an error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import MnistChecksError


@dataclass(frozen=True)
class Student:
    """One roster row. ``fork`` is a fork folder's name; ``lms_id`` the LMS's own id (Canvas's ``ID``)."""

    identifier: str
    name: str = ""
    github_username: str = ""
    fork: str = ""
    email: str = ""
    section: str = ""
    lms_id: str = ""
    sis_login_id: str = ""


#: Each ``Student`` field and the roster columns that give it, the first present winning.
COLUMNS = {
    "identifier": ("identifier", "student", "id"),
    "name": ("name",),
    "github_username": ("github_username", "github"),
    "fork": ("fork",),
    "email": ("email",),
    "section": ("section",),
    "lms_id": ("canvas_id", "lms_id"),
    "sis_login_id": ("sis_login_id",),
}


class RosterError(MnistChecksError, ValueError):
    """A roster file that cannot be read as one row per student; the message says where."""

    remedy = ("give a CSV with a row per student: GitHub Classroom's classroom_roster.csv, or columns identifier, "
              "name, fork or github_username (docs/grading.md, \"Into the LMS\")")


def column_key(header: str) -> str:
    """A header cell as ``COLUMNS`` names it: ``" SIS Login ID"`` -> ``sis_login_id``."""
    return "_".join(header.strip().lower().replace("-", " ").split())


def read_roster(path: str | Path) -> list[Student]:
    """The students of the roster file at ``path``, in its order; ``RosterError`` if it cannot be
    read, has no identifier column or no fork and user column, or names an identifier, a GitHub
    user or a fork twice."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"roster {path}: no such file") from None
    except IsADirectoryError:
        raise RosterError(f"roster {path}: a folder, not a CSV file") from None
    except OSError as error:
        raise RosterError(f"roster {path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise RosterError(f"roster {path}: not UTF-8 text (save it from the spreadsheet as \"CSV UTF-8\")") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise RosterError(f"roster {path}: not a CSV file ({error})") from None
    students = _students(path, rows)
    _refuse_duplicates(path, students)
    return [student for _, student in students]


def _students(path: Path, rows: list[list[str]]) -> list[tuple[int, Student]]:
    """(line, Student) for every non-blank row under the header."""
    lines = [(number, row) for number, row in enumerate(rows, 1) if any(cell.strip() for cell in row)]
    if not lines:
        raise RosterError(f"roster {path}: empty, not even a header")
    (_, header), body = lines[0], lines[1:]
    keys = [column_key(cell) for cell in header]
    where = {name: next((keys.index(c) for c in aliases if c in keys), None) for name, aliases in COLUMNS.items()}
    if where["identifier"] is None:
        raise RosterError(f"roster {path}: no identifier column (identifier, student or id) among its columns "
                          f"{', '.join(header)}")
    if where["fork"] is None and where["github_username"] is None:
        raise RosterError(f"roster {path}: no fork or github_username column: nothing says which fork is whose")
    students = []
    for number, row in body:
        cells = {name: row[i].strip() if i is not None and i < len(row) else "" for name, i in where.items()}
        if not cells["identifier"]:
            raise RosterError(f"roster {path}, row {number}: no identifier ({', '.join(filter(None, row))})")
        cells["github_username"] = cells["github_username"].removeprefix("@")
        students.append((number, Student(**cells)))
    return students


def _refuse_duplicates(path: Path, students: list[tuple[int, Student]]) -> None:
    """``RosterError`` naming each identifier, GitHub user or fork that two rows share."""
    for what, key in (("identifier", lambda s: s.identifier), ("GitHub user", lambda s: s.github_username.lower()),
                      ("fork", lambda s: fork_folder(s.fork).lower())):
        rows: dict[str, list[int]] = {}
        for number, student in students:
            if key(student):
                rows.setdefault(key(student), []).append(number)
        twice = [f"{value} (rows {', '.join(map(str, lines))})" for value, lines in rows.items() if len(lines) > 1]
        if twice:
            raise RosterError(f"roster {path}: the same {what} in two rows: {'; '.join(twice)}; each student has "
                              f"one row, each {what} one student")


def fork_folder(fork: str) -> str:
    """A roster's ``fork`` cell as a folder name: ``forks/alice/`` -> ``alice``."""
    return Path(fork.strip()).name if fork.strip() else ""


@dataclass(frozen=True)
class Matching:
    """Which fork is whose. ``students``: fork name -> its student; ``without_fork``: students no
    fork matched, in roster order; ``without_student``: forks no student matched, in the forks'
    order; ``several``: student identifier -> their forks, where two or more matched one student
    (none of them is in ``students``: which one counts is the instructor's call)."""

    students: dict[str, Student] = field(default_factory=dict)
    without_fork: list[Student] = field(default_factory=list)
    without_student: list[str] = field(default_factory=list)
    several: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every student has one fork and every fork a student."""
        return not (self.without_fork or self.without_student or self.several)


def owner(students: list[Student], fork: str, path: str | Path | None = None) -> Student | None:
    """The student whose fork ``fork`` (checked out at ``path``) is: the fork's folder or name equals
    their ``fork``, else equals their GitHub user, else ends with ``-<user>`` (GitHub Classroom's
    ``<assignment-prefix>-<username>``), the longest user winning; case-insensitive."""
    names = {fork.lower(), Path(path).name.lower() if path else fork.lower()}
    best, rank = None, (0, 0)
    for student in students:
        folder, user = fork_folder(student.fork).lower(), student.github_username.lower()
        found = max((3, len(folder)) if folder and folder in names else (0, 0),
                    (2, len(user)) if user and user in names else (0, 0),
                    (1, len(user)) if user and any(name.endswith(f"-{user}") for name in names) else (0, 0))
        if found > rank:
            best, rank = student, found
    return best


def match(students: list[Student], forks: dict[str, Path]) -> Matching:
    """``Matching`` of the roster's ``students`` with ``forks`` (the gradebook's fork name -> its
    checkout path), each fork to its ``owner``; a student two forks match gets neither."""
    owners = {name: owner(students, name, path) for name, path in forks.items()}
    by_student: dict[str, list[str]] = {}
    for name, student in owners.items():
        if student is not None:
            by_student.setdefault(student.identifier, []).append(name)
    several = {identifier: names for identifier, names in by_student.items() if len(names) > 1}
    return Matching(
        students={name: s for name, s in owners.items() if s is not None and s.identifier not in several},
        without_fork=[s for s in students if s.identifier not in by_student],
        without_student=[name for name, s in owners.items() if s is None],
        several=several)


def matching_lines(matching: Matching) -> list[str]:
    """What a summary says of ``matching``: a line for students without a fork, forks without a
    student and students with several forks; none where every one matched."""
    lines = []
    if matching.without_fork:
        lines.append(f"students without a fork: {', '.join(s.identifier for s in matching.without_fork)}")
    if matching.without_student:
        lines.append(f"forks without a student: {', '.join(matching.without_student)}")
    if matching.several:
        lines.append("students with several forks (none taken; keep one): " + "; ".join(
            f"{identifier} ({', '.join(forks)})" for identifier, forks in matching.several.items()))
    return lines
