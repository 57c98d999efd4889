"""``mnist-checks``: run the exercise and report it against the published figures.

Each command is a pair in ``mnist_checks.commands``: ``add_<command>_parser(commands)`` adds its
parser, every default read from the library (``Settings``, ``Limits``, the library functions' own
defaults), and ``<command>_command(args)`` calls one library function and turns its result into
lines and an exit status.  ``main`` builds the top parser, parses and dispatches.  Importing this
module imports no TensorFlow (``mnist-checks --help`` stays quick).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .commands.common import INTERRUPTED, MAX_SEED, UsageError  # noqa: F401  (MAX_SEED, UsageError: the CLI's)
from .commands.exports import add_export_parser
from .commands.grades import add_grade_parser, add_mutants_parser, add_starter_parser
from .commands.gradescope import add_gradescope_parser
from .commands.runs import add_run_parser, add_spread_parser
from .errors import MnistChecksError

#: The commands, in the order ``mnist-checks --help`` lists them.
PARSERS = (add_run_parser, add_spread_parser, add_grade_parser, add_mutants_parser, add_starter_parser,
           add_gradescope_parser, add_export_parser)


def build_parser() -> argparse.ArgumentParser:
    """The top parser, with every command's."""
    parser = argparse.ArgumentParser(
        prog="mnist-checks",
        description="The MNIST teaching exercise (Q1-Q5) as executable specifications.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in PARSERS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `mnist-checks`: say which commands there are
        parser.print_help(sys.stderr)
        parser.exit(2, "\nmnist-checks: error: give a COMMAND; `mnist-checks COMMAND --help` says more\n")
    if getattr(args, "verbose", False):
        from .compat import ENV_VERBOSE

        os.environ[ENV_VERBOSE] = "1"  # read when TensorFlow is imported, and by every process started
    try:
        return args.handler(args)
    except MnistChecksError as error:
        print(f"mnist-checks: {error}" + (f"\n  {error.remedy}" if error.remedy else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the commands that write as they go say what they kept themselves
        print("\nmnist-checks: interrupted; no output was written", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
