"""``mnist-checks export``: the gradebook's grades as an LMS imports them (Canvas, Moodle, plain CSV)."""

from __future__ import annotations

from pathlib import Path

from ..grading.course.lms import FORMATS, export_grades, export_lines, gradebook_file, read_grades, side_file
from ..grading.course.roster import read_roster
from .common import UsageError, defaults

#: ``export``'s exit status when a student or fork is unmatched, or a grade was not exported.
UNMATCHED = 1


def add_export_parser(commands) -> None:
    exporting = defaults(export_grades)
    export = commands.add_parser(
        "export",
        help="write the gradebook's grades as Canvas or Moodle imports them, or as a plain CSV, matched to a roster",
        description=(
            "Read GRADES (a `grade` output folder, or its gradebook.csv) and write OUT in the layout --to names: "
            "'canvas' (Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, the assignment, "
            "and a Points Possible row), 'moodle' (Moodle's CSV grade import: ID number, Email address where every "
            "student has one, Full name, the assignment) or 'csv' (every student and fork, status, total, max, "
            "lateness, points per question). Students come from --roster (GitHub Classroom's classroom_roster.csv "
            "or a CSV of your own), else from the gradebook's student column (`grade --roster`). The LMS files hold "
            "only grades to set: a student without a graded fork, and a fork whose grading did not end as graded, "
            "are left out (the LMS keeps what it has), listed with why on screen and in OUT's side file "
            "NAME.unmatched.csv; `total` is after any late penalty."
        ),
        epilog=("exit status: 0 when every student has one graded fork, every fork a student, and every grade "
                "was exported; 1 when one did not (said on screen and in the side file; OUT is written all the "
                "same); 2 for input the command cannot take (no gradebook, a roster it cannot read)"),
    )
    export.add_argument("grades", metavar="GRADES", help="a `grade` output folder, or its gradebook.csv")
    export.add_argument("--to", required=True, choices=FORMATS, help="the layout to write")
    export.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write")
    export.add_argument("--roster", metavar="FILE",
                        help="the students: GitHub Classroom's classroom_roster.csv, or a CSV with identifier, name, "
                             "fork or github_username, and optionally email, section, canvas_id, sis_login_id "
                             "(default: the gradebook's student column)")
    export.add_argument("--assignment", default=exporting["assignment"], metavar="NAME",
                        help="the LMS's name of the assignment column (default: %(default)s)")
    export.set_defaults(handler=export_command)


def export_command(args) -> int:
    """``export``: the gradebook's rows through ``lms.export_grades``; what it wrote and who is unmatched."""
    book = gradebook_file(args.grades)
    out = Path(args.out)
    if book.resolve() in (out.resolve(), side_file(out).resolve()):
        raise UsageError(f"--out {args.out} would overwrite the gradebook {book}: give another file")
    rows = read_grades(book)
    students = read_roster(args.roster) if args.roster else None
    done = export_grades(rows, out, to=args.to, students=students, assignment=args.assignment)
    print("\n".join(export_lines(done)))
    return 0 if done.complete else UNMATCHED
