"""``mnist-checks run`` (one seed, or several with ``--seeds``) and ``mnist-checks spread``."""

from __future__ import annotations

import sys

from .. import facts, report, seeds
from ..data import ENV_CACHE, ENV_DATA
from ..plan import Settings, planned
from ..questions import label
from ..records import models_of
from .common import (
    INTERRUPTED,
    MAX_SEED,
    UsageError,
    defaults,
    plural,
    positive,
    seed_list,
    seed_number,
    verbose_option,
)

#: ``run``'s exit status for each ``seeds.verdict`` (2: bad input, nothing trained; 130: Ctrl-C).
RUN_EXIT = {seeds.PASSED: 0, seeds.OUTSIDE: 1, seeds.NOT_JUDGED: 3}


def add_run_parser(commands) -> None:
    one, many = defaults(seeds.run_seed), defaults(seeds.run_seeds)
    run = commands.add_parser(
        "run",
        help="train the exercise's three models and report them against the published figures",
        parents=[verbose_option()],
        description=(
            f"Train Q2's MLP on raw pixels ({Settings.mlp_epochs} epochs), Q4's MLP on scaled pixels "
            f"({Settings.mlp_epochs} epochs, fresh weights) and Q5's CNN ({Settings.cnn_epochs} epochs) with adam "
            f"and batch {Settings.batch_size}, validating on the {facts.N_TEST:,} test digits every epoch (about 5 "
            "minutes on 2 CPU cores). Prints a table and writes record.json, "
            "learning_curves.png and report.md into a new directory OUT/run-DATE-TIME-seedN; OUT/latest "
            "points to the newest complete run. No run ever replaces another."
        ),
        epilog=("exit status: 0 when every model trained as published is within its tolerance (models trained "
                "for other epochs are shown, not judged); 1 when one is outside it; 2 on bad options, data or "
                "output directory (nothing trained); 3 when no model was trained as published, so none was judged "
                "(e.g. --mlp-epochs 1 --cnn-epochs 1); 130 on Ctrl-C (the models that finished are written)."),
    )
    run.add_argument("--data", metavar="PATH",
                     help=f"MNIST file (.npz, .csv, .csv.zip), directory, URL, or 'exercise'/'keras'; "
                          f"default: ${ENV_DATA}, else the download cache (${ENV_CACHE}), downloading on first use")
    run.add_argument("--no-download", action="store_true", help="never use the network; fail if no local source")
    run.add_argument("--out", default=one["out"], metavar="DIR",
                     help="where each run's directory goes (default: %(default)s)")
    chosen = run.add_mutually_exclusive_group()
    chosen.add_argument("--seed", type=seed_number, default=Settings.seed,
                        help=f"seed for Python, numpy and the backend, 0 to {MAX_SEED} (default: %(default)s)")
    chosen.add_argument("--seeds", type=seed_list, metavar="LIST",
                        help="train one run per seed, in parallel (--jobs, or --cluster), e.g. 0-4 or 0,3,7: a "
                             "directory per seed and OUT/spread-*.md, the final val_accuracy's spread across them")
    run.add_argument("--jobs", type=positive, default=many["jobs"], metavar="N",
                     help="with --seeds: seeds trained at once on this machine (default: %(default)s)")
    run.add_argument("--cluster", metavar="ADDRESS",
                     help="with --seeds: train them on a Dask cluster, 'local' or tcp://HOST:8786 (the extra: "
                          "pip install -e \".[cluster]\")")
    run.add_argument("--spread-page", metavar="FILE",
                     help="with --seeds: also rewrite FILE's spread table and the windows' margins, between its "
                          "markers (docs/spread.md), and say which windows the new spread makes unsafe or vacuous")
    run.add_argument("--mlp-epochs", type=positive, default=Settings.mlp_epochs, metavar="N",
                     help="epochs of each MLP (default: %(default)s, as published)")
    run.add_argument("--cnn-epochs", type=positive, default=Settings.cnn_epochs, metavar="N",
                     help="epochs of the CNN (default: %(default)s, as published)")
    run.add_argument("--warm", action="store_true",
                     help="also train Q4's MLP as the exercise builds it: from the raw MLP's layers, so warm-started")
    run.add_argument("--plain-fit", action="store_true",
                     help="train with the exercise's plain fit() instead of the fast path (same math, slower)")
    run.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    run.set_defaults(handler=run_command)


def run_command(args) -> int:
    """``run``: ``seeds.run_seed`` (``--seeds``: ``run_seeds_command``), its table and its verdict."""
    if args.seeds is not None:
        return run_seeds_command(args)
    if args.cluster or args.jobs != defaults(seeds.run_seeds)["jobs"] or args.spread_page:
        raise UsageError("--jobs, --cluster and --spread-page are for several seeds: give them with --seeds")
    settings = _settings(args)
    written = seeds.run_seed(args.out, settings, data=args.data, download=not args.no_download,
                             verbose=0 if args.quiet else (1 if sys.stdout.isatty() else 2),
                             on_data=_say_data, on_model=_announcer(settings))
    record = written.run.record
    print()
    print(report.table(record))
    for line in report.improvements(record):
        print(line)
    print(f"\nwrote {', '.join(p.name for p in written.paths.values())} into {written.directory}")
    if written.interrupted_during:
        print(f"mnist-checks: interrupted during {written.interrupted_during}; {written.directory} holds the "
              f"{len(record['models'])} model(s) that finished (a partial run: "
              f"{args.out}/{report.LATEST} still points to the last complete one)", file=sys.stderr)
        return INTERRUPTED
    if written.latest is not None:
        print(f"{written.latest} -> {written.directory.name}")
    else:
        print(f"mnist-checks: could not point {args.out}/{report.LATEST} to this run: {written.latest_error}",
              file=sys.stderr)
    return _run_exit(seeds.verdict([record]))


def run_seeds_command(args) -> int:
    """``run --seeds``: ``seeds.run_seeds``, each seed's finals as it finishes, the spread, the verdict."""

    def started(where, source):
        print(f"data: {source}")
        print(f"training {plural(len(args.seeds), 'seed')} ({', '.join(map(str, args.seeds))}) {where}", flush=True)

    def finished(seed, record, directory):
        finals = ", ".join(f"{name} {model.final_val_accuracy:.4f}" for name, model in models_of(record).items())
        print(f"  seed {seed}: {finals} ({record['wall_seconds']:.0f} s) -> {directory}", flush=True)

    try:
        runs = seeds.run_seeds(args.seeds, args.out, _settings(args), data=args.data, download=not args.no_download,
                               jobs=args.jobs, cluster=args.cluster, spread_page=args.spread_page,
                               on_start=started, on_seed=finished)
    except seeds.SeedsInterrupted as stop:
        print(f"\nmnist-checks: interrupted; {stop.finished} of {plural(stop.total, 'seed')} finished and were "
              "written", file=sys.stderr)
        return INTERRUPTED
    if args.spread_page:
        _say_windows(runs.window_problems, args.spread_page)
    print(f"\n{runs.spread}\nwrote {runs.spread_path} and the learning curves across the seeds, {runs.bands_path}")
    return _run_exit(seeds.verdict(runs.records, per_seed=True))


def _settings(args) -> Settings:
    return Settings(seed=args.seed, mlp_epochs=args.mlp_epochs, cnn_epochs=args.cnn_epochs, warm=args.warm,
                    plain_fit=args.plain_fit)


def _say_data(source, digits: int) -> None:
    print(f"data: {source} ({digits:,} digits)", flush=True)


def _announcer(settings: Settings):
    """``run_exercise``'s ``on_model``: a line before each model trains."""
    models = planned(settings)

    def announce(model, epochs):
        print(f"\n[{models.index(model) + 1}/{len(models)}] {model.name}: {model.description} "
              f"({label(model.question)}), {plural(epochs, 'epoch')}", flush=True)

    return announce


def _run_exit(verdict: seeds.Verdict) -> int:
    if verdict.message:
        print(f"mnist-checks: {verdict.message}", file=sys.stderr)
    return RUN_EXIT[verdict.outcome]


# spread ---------------------------------------------------------------------------------------


def add_spread_parser(commands) -> None:
    spread = commands.add_parser(
        "spread",
        help="tabulate final val_accuracy across several runs' record.json (e.g. one per seed)",
        description=("Mean, sd and range of each model's final val_accuracy across runs, as Markdown. Runs with "
                     "different epochs or batch size, and interrupted runs, are refused: their finals do not pool."),
    )
    spread.add_argument("records", nargs="+", metavar="RECORD",
                        help="record.json files written by 'mnist-checks run', or their run directories")
    spread.add_argument("--out", metavar="FILE",
                        help="also write the table to FILE; where FILE holds the spread markers (docs/spread.md), "
                             "rewrite the table and the windows' margins between them and keep the rest")
    spread.set_defaults(handler=spread_command)


def spread_command(args) -> int:
    """``spread``: ``seeds.spread_files``, and what the spread says of the windows."""
    text, problems = seeds.spread_files(args.records, args.out)
    print(text)
    if args.out:
        _say_windows(problems, args.out)
    return 0


def _say_windows(problems: list[str], page) -> None:
    """After a spread was written into ``page``: what it says about facts.PUBLISHED's windows."""
    for problem in problems:
        print(f"window: {problem}")
    if problems:
        print(f"{page}: {len(problems)} window(s) no longer follow from the spread; tests/test_windows.py fails "
              "until facts.PUBLISHED follows")


