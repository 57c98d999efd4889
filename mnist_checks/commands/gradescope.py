"""``mnist-checks gradescope``: the autograder zip to upload to Gradescope."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from ..grading.course.gradescope import ISOLATIONS, REFERENCE, TIERS, VISIBILITIES, WHEELS, write_autograder_zip
from ..grading.students.rubric import TIERS as RUBRIC_TIERS
from ..grading.students.rubric import load_rubric
from ..questions import QUESTIONS
from .common import UsageError, defaults, megabytes, reference_checkout, seconds, weighed_rubric


def add_gradescope_parser(commands) -> None:
    writing = defaults(write_autograder_zip)
    limits = writing["limits"]
    gradescope = commands.add_parser(
        "gradescope",
        help="write Gradescope's autograder zip: this version of the grader, its canonical tests and settings",
        description=(
            "Write OUT.zip to upload as a Gradescope programming assignment's autograder. It holds setup.sh "
            "(installs Python, bubblewrap and this exact version of mnist_checks, built here as a wheel, into a "
            "virtual environment), run_autograder (grades each submission: a repository, or a lone exercise.py or "
            "exercise.ipynb, as `mnist-checks grade` grades a fork, and writes Gradescope's results.json), the "
            "reference's canonical tests and these settings; never the data set."
        ),
        epilog="exit status: 0 when the zip was written; 2 for input the command cannot take (docs/gradescope.md)",
    )
    gradescope.add_argument("zip", metavar="OUT.zip", help="where to write the autograder zip")
    gradescope.add_argument("--tier", choices=TIERS, default=writing["tier"],
                            help="the tests each submission is graded with: the fast tier (60 points by the default "
                                 "rubric), or all of them (100; setup.sh then downloads the data set once) "
                                 "(default: %(default)s)")
    gradescope.add_argument("--rubric", metavar="FILE",
                            help="points per question and tier as JSON (default: the built-in rubric)")
    gradescope.add_argument("--reference", metavar="DIR",
                            help="the instructor's checkout to package (default: this installation's)")
    gradescope.add_argument("--fast-visibility", choices=VISIBILITIES, default=writing["fast_visibility"],
                            help="when students see the fast tier's tests on Gradescope (default: %(default)s)")
    gradescope.add_argument("--slow-visibility", choices=VISIBILITIES, default=writing["slow_visibility"],
                            help="when students see the slow tier's tests (default: %(default)s)")
    gradescope.add_argument("--leaderboard", action=argparse.BooleanOptionalAction, default=writing["leaderboard"],
                            help="put each submission's CNN val_accuracy on Gradescope's leaderboard where the slow "
                                 "tier trained it (default: %(default)s)")
    gradescope.add_argument("--isolation", choices=ISOLATIONS, default=writing["isolation"],
                            help="how each submission's code is sealed off on Gradescope: the strongest the image "
                                 "allows (bubblewrap, else a uid of its own), or that level alone; grading refuses "
                                 "where it cannot hold (default: %(default)s)")
    gradescope.add_argument("--fork-timeout", type=seconds, default=limits.fork_seconds, metavar="S",
                            help="wall-clock limit of a submission's grading in seconds; keep it under the "
                                 "assignment's own timeout on Gradescope (default: %(default)g)")
    gradescope.add_argument("--grading-memory-mb", type=megabytes, default=limits.grading_mb, metavar="MB",
                            help="memory a submission's grading may hold; 0 for none but the container's, one "
                                 "submission per container (default: %(default)s)")
    gradescope.set_defaults(handler=gradescope_command)


def gradescope_command(args) -> int:
    """``gradescope``: ``write_autograder_zip``, and what to do with it."""
    reference = reference_checkout(args.reference)
    rubric = weighed_rubric(args.rubric, reference)[0] or load_rubric(None)
    if os.path.isdir(args.zip):
        raise UsageError(f"{args.zip} is a folder; the autograder is one zip file: give its path (autograder.zip)")
    limits = dataclasses.replace(defaults(write_autograder_zip)["limits"], fork_seconds=args.fork_timeout,
                                 grading_mb=args.grading_memory_mb)
    names = write_autograder_zip(args.zip, reference, tier=args.tier, rubric=rubric,
                                 fast_visibility=args.fast_visibility, slow_visibility=args.slow_visibility,
                                 leaderboard=args.leaderboard, isolation=args.isolation, limits=limits)
    tiers = ("fast",) if args.tier == "fast" else RUBRIC_TIERS
    points = sum(rubric[question][tier] for question in QUESTIONS for tier in tiers)  # not its weights
    wheel = next(name for name in names if name.startswith(f"{WHEELS}/"))
    print(f"wrote {args.zip} ({Path(args.zip).stat().st_size / 1024**2:.1f} MB): setup.sh, run_autograder, "
          f"{wheel}, the canonical tests under {REFERENCE}/; {args.tier} tier, {points:g} points")
    print("upload it on Gradescope (the assignment's Configure Autograder: Zip file upload) and set the "
          f"assignment's points to {points:g}")
    return 0
