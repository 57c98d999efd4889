"""``mnist-checks``: run the exercise and report it against the published figures."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .data import ENV_CACHE, ENV_DATA, DataError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mnist-checks",
        description="The MNIST teaching exercise (Q1-Q5) as executable specifications.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="train the exercise's three models and report them against the published figures",
        description=(
            "Train Q2's MLP on raw pixels (20 epochs), Q4's MLP on scaled pixels (20 epochs, fresh "
            "weights) and Q5's CNN (10 epochs) with adam and batch 32, validating on the 10,000 test "
            "digits every epoch. Prints a table and writes record.json, learning_curves.png and "
            "report.md into the output directory."
        ),
    )
    run.add_argument("--data", metavar="PATH",
                     help=f"MNIST file (.npz, .csv, .csv.zip), directory, URL, or 'exercise'/'keras'; "
                          f"default: ${ENV_DATA}, else the download cache (${ENV_CACHE}), downloading on first use")
    run.add_argument("--no-download", action="store_true", help="never use the network; fail if no local source")
    run.add_argument("--out", default="mnist-checks-output", metavar="DIR",
                     help="output directory (default: %(default)s)")
    run.add_argument("--seed", type=int, default=0, help="seed for Python, numpy and the backend (default: %(default)s)")
    run.add_argument("--mlp-epochs", type=_positive, default=20, metavar="N",
                     help="epochs of each MLP (default: %(default)s, as published)")
    run.add_argument("--cnn-epochs", type=_positive, default=10, metavar="N",
                     help="epochs of the CNN (default: %(default)s, as published)")
    run.add_argument("--faithful", action="store_true",
                     help="also train Q4 literally: a second MLP built from the first one's layers (warm-started)")
    run.add_argument("--plain-fit", action="store_true",
                     help="train with the exercise's plain fit() instead of the fast path (same math, slower)")
    run.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    run.set_defaults(handler=_run)

    spread = commands.add_parser(
        "spread",
        help="tabulate final val_acc across several runs' record.json (e.g. one per seed)",
        description="Mean, sd and range of each model's final val_accuracy across runs, as Markdown.",
    )
    spread.add_argument("records", nargs="+", metavar="RECORD", help="record.json files written by 'mnist-checks run'")
    spread.add_argument("--out", metavar="FILE", help="also write the table to FILE")
    spread.set_defaults(handler=_spread)

    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except DataError as error:
        print(f"mnist-checks: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmnist-checks: interrupted; no output was written", file=sys.stderr)
        return 130


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _run(args) -> int:
    from .data import load_digits

    X, y = load_digits(args.data, download=not args.no_download)
    from . import report
    from .run import MODELS, Settings, run_exercise

    settings = Settings(seed=args.seed, mlp_epochs=args.mlp_epochs, cnn_epochs=args.cnn_epochs,
                        faithful=args.faithful, fast=not args.plain_fit)
    names = [n for n in MODELS if settings.faithful or n != "mlp_scaled_warm"]

    def announce(name, epochs):
        print(f"\n[{names.index(name) + 1}/{len(names)}] {name}: {MODELS[name][1]} ({MODELS[name][0]}), {epochs} epochs",
              flush=True)

    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    result = run_exercise(X, y, settings, verbose=verbose, on_model=announce)
    print()
    print(report.table(result.record))
    paths = report.write_outputs(result.record, args.out)
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _spread(args) -> int:
    import json
    from pathlib import Path

    from . import report

    records = []
    for name in args.records:
        try:
            records.append(json.loads(Path(name).read_text()))
        except (OSError, ValueError) as error:
            print(f"mnist-checks: {name}: not a readable record: {error}", file=sys.stderr)
            return 2
    text = report.spread(records)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
