"""``mnist-checks grade``, ``mutants`` and ``starter``: the instructor's commands."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from ..errors import MnistChecksError
from ..grading.course.batch import DEFAULT_OUT as DEFAULT_GRADES
from ..grading.course.batch import GradingInterrupted, grade_forks
from ..grading.course.class_report import REPORT_HTML
from ..grading.course.gradebook import GRADEBOOK, gradebook_changes, shared_trainings, summary_table
from ..grading.course.grading import Grading, GradingReport
from ..grading.course.history import parse_due, parse_late_policy
from ..grading.course.results import ForkStatus
from ..grading.course.roster import matching_lines, read_roster
from ..grading.limits import Limits
from ..grading.sandbox import levels
from ..grading.solutions import has_catalogue
from ..grading.students.rubric import load_rubric
from ..grading.students.starter import write_starter
from .common import (
    INTERRUPTED,
    UsageError,
    defaults,
    fraction,
    megabytes,
    plural,
    positive,
    reference_checkout,
    seconds,
    verbose_option,
    weighed_rubric,
)
from .progress import GradingProgress

if has_catalogue():
    from ..grading.catalogue import mutation_report
else:  # the students' starter holds no catalogue (solutions.instructors_only): `mutants` says so when it runs
    mutation_report = None



def _argument(parse):
    """An argparse type of ``parse``, its ``MnistChecksError`` said as argparse says a bad value."""

    def argument(text: str):
        try:
            return parse(text)
        except MnistChecksError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return argument


due_date, late_policy = _argument(parse_due), _argument(parse_late_policy)


def _grading_options() -> argparse.ArgumentParser:
    """The options ``grade`` and ``mutants`` share, their defaults ``Grading``'s."""
    grading = defaults(Grading)
    graders = argparse.ArgumentParser(add_help=False)
    graders.add_argument("--tier", choices=("fast", "slow", "all"), default=grading["tier"],
                         help="which tests to grade with (default: %(default)s; slow and all need the full data)")
    graders.add_argument("--jobs", type=positive, default=grading["jobs"], metavar="N",
                         help="forks graded at once (default: %(default)s)")
    graders.add_argument("--rubric", metavar="FILE",
                         help="points per question and tier as JSON (default: the built-in rubric)")
    graders.add_argument("--reference", metavar="DIR",
                         help="the instructor's checkout holding the canonical tests (default: this installation's)")
    graders.add_argument("--allow-unisolated", action="store_true",
                         help="grade even where bubblewrap cannot sandbox forks (UNSAFE: a fork can then read your "
                              "files and the network); every row says so")
    return graders


def _course_options(grade) -> None:
    """``grade``'s options of a course's records (issue 34): the due date, late work, the roster."""
    grade.add_argument("--due", type=due_date, metavar="WHEN",
                       help="grade each fork at its last commit committed at or before WHEN (ISO 8601 with its UTC "
                            "offset: 2026-12-10T23:59+01:00), read from its .git without touching the checkout; the "
                            "row records the commit, its time and the commits after WHEN (default: each fork's "
                            "checkout as it is)")
    grade.add_argument("--late-policy", type=late_policy, metavar="PENALTY",
                       help="with --due: grade forks with commits after the due date at HEAD, their total lowered "
                            "by PENALTY per day late, days counted up to the last commit: 10%%/day, or "
                            "10%%/day,max=50%% (default: late commits are not graded)")
    grade.add_argument("--roster", metavar="FILE",
                       help="the course's students: GitHub Classroom's roster export (classroom_roster.csv) or a CSV "
                            "of identifier, name and fork or github_username; rows then carry each student, and the "
                            "summary lists students without a fork and forks without a student")


def add_grade_parser(commands) -> None:
    grade = commands.add_parser(
        "grade", parents=[verbose_option(), _grading_options()],
        help="grade students' forks: the canonical tests against each fork's mnist_checks/exercise.py "
             "(or the definitions of its exercise.ipynb)",
        description=(
            "Grade each FORK (a checkout of the starter) with the instructor's canonical tests. Only the fork's "
            "mnist_checks/exercise.py is read, or the imports, constants and definitions of its "
            "mnist_checks/exercise.ipynb (never run here; the rest is left out and listed); its code runs in a "
            "bubblewrap sandbox (no network, no files but "
            "its own, every process killed at the end) and answers the checker with data only. Writes "
            "OUT/FORK/results.json "
            "(Gradescope's format), OUT/FORK/junit.xml, OUT/FORK/output.txt, the fork's feedback page "
            "OUT/FORK/feedback.html and .md, OUT/gradebook.csv and the class report OUT/report.html and .png, "
            "and prints a summary. A fork already graded with the same contract file, tier and rubric is "
            "skipped unless --regrade."
        ),
        epilog=("exit status: 0 when every fork was graded (status graded, or cached from a grading that was); 1 "
                "when a fork's row needs "
                "a look (failed to load, timeout, crashed, tampered, not ended, error, not graded: its status "
                "and reason are in the summary and the gradebook); 2 for input the command cannot take; "
                "130 when interrupted (Ctrl-C)"),
    )
    grade.add_argument("forks", nargs="+", metavar="FORK", help="fork checkouts to grade")
    grade.add_argument("--out", default=DEFAULT_GRADES, metavar="DIR", help="output directory (default: %(default)s)")
    grade.add_argument("--fork-timeout", type=seconds, default=Limits.fork_seconds, metavar="S",
                       help="wall-clock limit per fork in seconds (default: %(default)g)")
    grade.add_argument("--call-timeout", type=seconds, default=Limits.call_seconds, metavar="S",
                       help="limit in seconds for one call of a fork's function (default: %(default)g); training "
                            "happens in the checker and counts only against --fork-timeout")
    grade.add_argument("--memory-mb", type=megabytes, default=Limits.memory_mb, metavar="MB",
                       help="address-space limit of a fork's process; 0 for none (default: %(default)s; TensorFlow "
                            "needs 4096 or more)")
    grade.add_argument("--grading-memory-mb", type=megabytes, default=Limits.grading_mb, metavar="MB",
                       help="memory one fork's grading may hold, the checker and the fork's process together, in a "
                            "cgroup of its own where the host allows; 0 for none (default: %(default)s); --jobs is "
                            "lowered to what fits the machine")
    grade.add_argument("--data", metavar="PATH",
                       help="the full data set for the slow tier (default: as 'run' finds it)")
    grade.add_argument("--regrade", action="store_true", help="grade again forks already graded")
    grade.add_argument("--retrain", action="store_true",
                       help="reuse no training from earlier calls (within this call each distinct training is still "
                            "done once); also MNIST_CHECKS_RETRAIN=1")
    grade.add_argument("--isolation", choices=levels.CHOICES, default=defaults(Grading)["isolation"],
                       help="how forks are sealed off: 'bubblewrap' (namespaces), 'uid' (as root where bubblewrap "
                            "cannot start, e.g. in Docker: a uid of each fork's own, rlimits, no network by seccomp; "
                            "docs/grading.md says what each holds), 'strongest' (bubblewrap, else uid), 'auto' "
                            "(bubblewrap, else refuse unless --allow-unisolated; default: %(default)s)")
    _course_options(grade)
    grade.add_argument("--cluster", metavar="ADDRESS",
                       help="grade on a Dask cluster: 'local' (--jobs worker processes here) or a scheduler's address "
                            "tcp://HOST:8786; needs the extra: pip install -e \".[cluster]\" (default: this "
                            "machine's pool)")
    grade.set_defaults(handler=grade_command)


def grade_command(args) -> int:
    """``grade``: the command line as a ``Grading``, ``grade_forks`` with it over the forks, then the
    summary and what changed in the gradebook (its ``GradingReport``)."""
    reference, grading = reference_checkout(args.reference), grading_of(args)
    progress = GradingProgress(len(args.forks))
    try:
        with contextlib.ExitStack() as shown:  # the live line is gone before anything below

            def begin(where: str) -> None:  # the first line, then the live line (on a terminal) below it
                print(f"grading {len(args.forks)} fork(s), {grading.tier} tier, {where}", flush=True)
                shown.enter_context(progress)

            report = grade_forks(args.forks, reference, args.out, grading, on_begin=begin, on_start=progress.started,
                                 on_result=progress.finished, say=lambda line: progress.say(f"mnist-checks: {line}"))
    except GradingInterrupted as stop:
        left = sum(r.status == "not graded" for r in stop.results)
        print(f"\nmnist-checks: interrupted; {args.out}/{GRADEBOOK} lists all {len(stop.results)} forks, "
              f"{left} of them not graded", file=sys.stderr)
        return INTERRUPTED
    _say_graded(report, args.out)
    if report.matching is not None:
        for line in matching_lines(report.matching):
            print(line)
    return 0 if all(result.ended in GRADED_STATUSES for result in report.results) else NEEDS_A_LOOK


def grading_of(args) -> Grading:
    """``grade``'s command line as a ``Grading``; input it cannot take refused (``UsageError``, the
    roster's and rubric's own errors) before any grading."""
    rubric = load_rubric(args.rubric)
    if args.late_policy is not None and args.due is None:
        raise UsageError("--late-policy says how late work is graded: give the due date too (--due WHEN)")
    roster = read_roster(args.roster) if args.roster else None
    missing = [fork for fork in args.forks if not os.path.isdir(fork)]
    if missing:
        raise UsageError(f"not a directory: {', '.join(missing)}; pass the forks' checkouts")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is a file; grades go into a folder (FORK/results.json, {GRADEBOOK}): "
                         "give a folder's path")
    limits = Limits(fork_seconds=args.fork_timeout, call_seconds=args.call_timeout, memory_mb=args.memory_mb or None,
                    grading_mb=args.grading_memory_mb)
    return Grading(tier=args.tier, rubric=rubric, limits=limits, isolation=args.isolation,
                   allow_unisolated=args.allow_unisolated, jobs=args.jobs, cluster=args.cluster, regrade=args.regrade,
                   retrain=args.retrain, data=args.data, due=args.due, late_policy=args.late_policy, roster=roster)


#: ``grade``'s exit status when a fork's row needs a look: its grading ended otherwise than graded.
NEEDS_A_LOOK = 1
GRADED_STATUSES = frozenset({ForkStatus.GRADED, ForkStatus.CACHED})


def _say_graded(report: GradingReport, out: str) -> None:
    results = report.results
    print()
    if results and results[0].isolation:
        print(f"isolation: {results[0].isolation}")
    print(summary_table(results))
    shared = shared_trainings(results)
    if shared:
        print(f"\n{shared}")
    changes = gradebook_changes(report.earlier, results)
    said = [f"{len(changes[key])} {key}" + (f" ({', '.join(changes[key])})" if key != "kept" and changes[key] else "")
            for key in ("changed", "added", "unchanged", "kept") if changes[key]]
    print(f"\nwrote {out}/FORK/results.json, junit.xml, output.txt, feedback.html and .md, {out}/{GRADEBOOK} "
          f"and {out}/{REPORT_HTML}: "
          f"{sum(map(len, changes.values()))} rows; " + "; ".join(said)
          + (" from earlier calls" if changes["kept"] else ""))


def add_mutants_parser(commands) -> None:
    catalogue = defaults(mutation_report.grade_catalogue) if mutation_report else {}  # the starter has none
    isolation = catalogue["grading"].isolation if catalogue else None
    judged = defaults(mutation_report.verdict) if mutation_report else {}
    mutants = commands.add_parser(
        "mutants", parents=[verbose_option(), _grading_options()],
        help="grade the catalogue of student mistakes and correct variants: how much does a green run prove?",
        description=(
            "Build a fork for every mutation (a realistic single mistake) and correct variant in "
            "mnist_checks/grading/catalogue/mutants.py, grade them all with the canonical tests, and write "
            "OUT/mutants.md and OUT/mutants.json: per mutant the points lost per question and the tests that caught "
            "it, per variant its score, the kill rate and the false-fail rate. Exits 1 if a correct variant loses a "
            "point, a fast-tier mistake loses points outside its own question, or the kill rate is below "
            "--min-kill-rate."
        ),
    )
    mutants.add_argument("--out", default=catalogue.get("out"), metavar="DIR",
                         help="output directory (default: %(default)s)")
    mutants.add_argument("--min-kill-rate", type=fraction, default=judged.get("min_kill_rate"), metavar="R",
                         help="exit 1 if fewer than this fraction of mutants lose points (default: %(default)s)")
    mutants.add_argument("--variants", choices=("sample", "all"), default=catalogue.get("variants"),
                         help="the generated correct variants (whole contracts in other spellings, "
                              "mnist_checks/grading/catalogue/variants.py) to grade besides the hand-written "
                              "ones: a fixed sample with the exercise's own code, or all of them "
                              "(default: %(default)s)")
    mutants.add_argument("--isolation", choices=("preloaded", "bubblewrap"), default=isolation,
                         help="how the catalogue's forks are run: 'preloaded', a plain process started with "
                              "TensorFlow loaded (the catalogue is this project's own code, not students'), or "
                              "'bubblewrap', the sandbox students' forks get; both grade alike, test by test "
                              "(default: %(default)s)")
    mutants.add_argument("--notebooks", choices=("sample", "all", "none"), default=catalogue.get("notebooks"),
                         help="the catalogue's contracts also handed in as notebooks (mnist_checks/exercise.ipynb "
                              "beside the starter's exercise.py), each to lose exactly what its module loses: "
                              "'sample', the exercise's own code cells as published, the independent contracts and "
                              "one mistake per question; 'all', every mistake and hand-written variant besides "
                              "(default: %(default)s)")
    mutants.add_argument("--reuse", action="append", default=[], metavar="DIR",
                         help="take a fork's grading from an earlier `grade` or `mutants` output under DIR where "
                              "its contract was graded with the same tests, rubric and tier, at this isolation or "
                              "in the sandbox (repeatable; CI reuses the e2e tier's course)")
    mutants.set_defaults(handler=mutants_command)


def mutants_command(args) -> int:
    """``mutants``: ``mutation_report.grade_catalogue``, its summary, and its ``verdict``."""
    if mutation_report is None:
        raise UsageError("the mutation catalogue is the instructor's (it quotes the solutions): run "
                         "`mnist-checks mutants` from the instructor's checkout")
    missing = [folder for folder in args.reuse if not Path(folder).is_dir()]
    if missing:
        raise UsageError(f"--reuse {missing[0]}: no such folder (a `grade` or `mutants` output to take gradings from)")
    done, count = [0], [0]

    def start(mutants, variants):
        count[0] = mutants + variants
        print(f"grading {plural(mutants, 'mutant')} and {plural(variants, 'correct variant')} ({args.variants} of "
              f"the generated ones, and those written independently; {args.notebooks} as notebooks), {args.tier} "
              f"tier, {args.jobs} at a time, "
              f"isolation {args.isolation}",
              flush=True)

    def progress(result):
        done[0] += 1
        total = result.totals.get("total", (0.0, 0.0))
        taken = f" (taken from {result.isolation}'s earlier grading)" if result.status == "cached" else ""
        print(f"  [{done[0]}/{count[0]}] {result.fork}: {total[0]:.1f}/{total[1]:.1f}{taken}", flush=True)

    grading = Grading(tier=args.tier, rubric=load_rubric(args.rubric), jobs=args.jobs,
                      allow_unisolated=args.allow_unisolated, isolation=args.isolation, reuse=tuple(args.reuse))
    try:
        found = mutation_report.grade_catalogue(reference_checkout(args.reference), Path(args.out), grading,
                                                on_start=start, on_result=progress, variants=args.variants,
                                                notebooks=args.notebooks)
    except GradingInterrupted:
        print("\nmnist-checks: interrupted; no report written", file=sys.stderr)
        return INTERRUPTED
    print()
    print(mutation_report.markdown(found).split("\n## Mutants")[0].strip())
    if found["survivors"]:
        print(f"\nsurvivors: {', '.join(found['survivors'])}")
    print(f"\nwrote {Path(args.out) / mutation_report.REPORT_MD} and {Path(args.out) / mutation_report.REPORT_JSON}")
    failures = mutation_report.verdict(found, args.min_kill_rate)
    for failure in failures:
        print(f"mnist-checks: {failure}", file=sys.stderr)
    return 1 if failures else 0


# starter --------------------------------------------------------------------------------------


def add_starter_parser(commands) -> None:
    starting = defaults(write_starter)
    starter = commands.add_parser(
        "starter",
        help="write the students' starter: this project with every solution replaced by NotImplementedError",
        description="Copy the reference project into DIR with mnist_checks/exercise.py's solutions cut out.",
    )
    starter.add_argument("directory", metavar="DIR", help="where to write the starter (must not exist or be empty)")
    starter.add_argument("--reference", metavar="DIR", help="the reference checkout (default: this installation's)")
    starter.add_argument("--notebook", action="store_true", default=starting["notebook"],
                         help="also write mnist_checks/exercise.ipynb: the same functions a cell each under the "
                              "exercise's own questions, and a last cell that runs `pytest -m fast`; students who "
                              "answer in it are graded on it (without it: exercise.py alone)")
    starter.add_argument("--rubric", metavar="FILE",
                         help="the course's rubric (JSON, as for grade): written into the starter as rubric.json, "
                              "which the students' own pytest runs score with, and shown in its README with the "
                              "points of each weighted claim (default: the built-in rubric, and no rubric.json)")
    starter.set_defaults(handler=starter_command)


def starter_command(args) -> int:
    """``starter``: ``write_starter`` into the directory, with the course's rubric where one is given;
    weights of it checked against the reference's graded tests, which count their points (issue 34)."""
    reference = reference_checkout(args.reference)
    rubric, graded = weighed_rubric(args.rubric, reference)
    try:
        contract = write_starter(reference, args.directory, rubric, notebook=args.notebook, graded=graded)
    except (FileExistsError, ValueError) as error:
        raise UsageError(str(error)) from None
    where = f"{contract} or {contract.with_suffix('.ipynb')}" if args.notebook else contract
    print(f"wrote the starter into {args.directory}; students implement {where}")
    return 0
