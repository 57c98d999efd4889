"""``mnist-checks``: run the exercise and report it against the published figures."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from . import __version__
from .data import ENV_CACHE, ENV_DATA
from .errors import MnistChecksError


class UsageError(MnistChecksError):
    """A command given something it cannot work with; the message says what."""


#: The largest seed numpy's generator accepts (2**32 - 1).
MAX_SEED = 2**32 - 1
#: Where ``grade`` and ``mutants`` write unless told (``run``: ``report.DEFAULT_OUT``).
DEFAULT_GRADES, DEFAULT_MUTANTS = "grades", "mutants"


def _defaults(function) -> dict:
    """A function's keyword defaults: the command line's defaults are the library's."""
    import inspect

    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def main(argv: list[str] | None = None) -> int:
    from . import facts, report
    from .grading.runner import Limits, grade_forks
    from .plan import Settings

    grading = _defaults(grade_forks)
    try:
        from .grading.mutation_report import run as grade_catalogue
    except ImportError:  # the students' starter holds no catalogue: `mutants` says so when it runs
        catalogue = {}
    else:
        catalogue = _defaults(grade_catalogue)
    parser = argparse.ArgumentParser(
        prog="mnist-checks",
        description="The MNIST teaching exercise (Q1-Q5) as executable specifications.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true",
                        help="also show TensorFlow's own start-up lines and warnings (hidden by default)")

    run = commands.add_parser(
        "run",
        help="train the exercise's three models and report them against the published figures",
        parents=[common],
        description=(
            f"Train Q2's MLP on raw pixels ({Settings.mlp_epochs} epochs), Q4's MLP on scaled pixels "
            f"({Settings.mlp_epochs} epochs, fresh weights) and Q5's CNN ({Settings.cnn_epochs} epochs) with adam "
            f"and batch {Settings.batch_size}, validating on the {facts.N_TEST:,} test digits every epoch (about 4 "
            "minutes on 2 CPU cores). Prints a table and writes record.json, "
            "learning_curves.png and report.md into a new directory OUT/run-DATE-TIME-seedN; OUT/latest "
            "points to the newest complete run. No run ever replaces another."
        ),
        epilog=("exit status: 0 when every model trained as published is within its tolerance (models trained "
                "for other epochs are shown, not judged); 1 when one is outside it; 2 on bad options, data or "
                "output directory (nothing trained); 130 on Ctrl-C (the models that finished are written)."),
    )
    run.add_argument("--data", metavar="PATH",
                     help=f"MNIST file (.npz, .csv, .csv.zip), directory, URL, or 'exercise'/'keras'; "
                          f"default: ${ENV_DATA}, else the download cache (${ENV_CACHE}), downloading on first use")
    run.add_argument("--no-download", action="store_true", help="never use the network; fail if no local source")
    run.add_argument("--out", default=report.DEFAULT_OUT, metavar="DIR",
                     help="where each run's directory goes (default: %(default)s)")
    seeds = run.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_seed, default=Settings.seed,
                       help=f"seed for Python, numpy and the backend, 0 to {MAX_SEED} (default: %(default)s)")
    seeds.add_argument("--seeds", type=_seed_list, metavar="LIST",
                       help="train one run per seed, in parallel (--jobs, or --cluster), e.g. 0-4 or 0,3,7: a "
                            "directory per seed and OUT/spread-*.md, the final val_accuracy's spread across them")
    run.add_argument("--jobs", type=_positive, default=1, metavar="N",
                     help="with --seeds: seeds trained at once on this machine (default: %(default)s)")
    run.add_argument("--cluster", metavar="ADDRESS",
                     help="with --seeds: train them on a Dask cluster, 'local' or tcp://HOST:8786 (the extra: "
                          "pip install -e \".[cluster]\")")
    run.add_argument("--spread-page", metavar="FILE",
                     help="with --seeds: also rewrite FILE's spread table and the windows' margins, between its "
                          "markers (docs/spread.md), and say which windows the new spread makes unsafe or vacuous")
    run.add_argument("--mlp-epochs", type=_positive, default=Settings.mlp_epochs, metavar="N",
                     help="epochs of each MLP (default: %(default)s, as published)")
    run.add_argument("--cnn-epochs", type=_positive, default=Settings.cnn_epochs, metavar="N",
                     help="epochs of the CNN (default: %(default)s, as published)")
    run.add_argument("--warm", action="store_true",
                     help="also train Q4's MLP as the exercise builds it: from the raw MLP's layers, so warm-started")
    run.add_argument("--plain-fit", action="store_true",
                     help="train with the exercise's plain fit() instead of the fast path (same math, slower)")
    run.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    run.set_defaults(handler=_run)

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
    spread.set_defaults(handler=_spread)

    graders = argparse.ArgumentParser(add_help=False)  # what grade and mutants share
    graders.add_argument("--tier", choices=("fast", "slow", "all"), default=grading["tier"],
                         help="which tests to grade with (default: %(default)s; slow and all need the full data)")
    graders.add_argument("--jobs", type=_positive, default=grading["jobs"], metavar="N",
                         help="forks graded at once (default: %(default)s)")
    graders.add_argument("--rubric", metavar="FILE",
                         help="points per question and tier as JSON (default: the built-in rubric)")
    graders.add_argument("--reference", metavar="DIR",
                         help="the instructor's checkout holding the canonical tests (default: this installation's)")
    graders.add_argument("--allow-unisolated", action="store_true",
                         help="grade even where bubblewrap cannot sandbox forks (UNSAFE: a fork can then read your "
                              "files and the network); every row says so")

    grade = commands.add_parser(
        "grade", parents=[common, graders],
        help="grade students' forks: the canonical tests against each fork's mnist_checks/exercise.py",
        description=(
            "Grade each FORK (a checkout of the starter) with the instructor's canonical tests. Only the fork's "
            "mnist_checks/exercise.py is read; its code runs in a bubblewrap sandbox (no network, no files but "
            "its own, every process killed at the end) and answers the checker with data only. Writes "
            "OUT/FORK/results.json "
            "(Gradescope's format), OUT/FORK/junit.xml, OUT/FORK/output.txt and OUT/gradebook.csv, and "
            "prints a summary. A fork already graded with the same contract file, tier and rubric is "
            "skipped unless --regrade."
        ),
    )
    grade.add_argument("forks", nargs="+", metavar="FORK", help="fork checkouts to grade")
    grade.add_argument("--out", default=DEFAULT_GRADES, metavar="DIR", help="output directory (default: %(default)s)")
    grade.add_argument("--fork-timeout", type=_seconds, default=Limits.fork_seconds, metavar="S",
                       help="wall-clock limit per fork in seconds (default: %(default)g)")
    grade.add_argument("--call-timeout", type=_seconds, default=Limits.call_seconds, metavar="S",
                       help="limit in seconds for one call of a fork's function (default: %(default)g); training "
                            "happens in the checker and counts only against --fork-timeout")
    grade.add_argument("--memory-mb", type=_megabytes, default=Limits.memory_mb, metavar="MB",
                       help="address-space limit of a fork's process; 0 for none (default: %(default)s; TensorFlow "
                            "needs 4096 or more)")
    grade.add_argument("--grading-memory-mb", type=_megabytes, default=Limits.grading_mb, metavar="MB",
                       help="memory one fork's grading may hold, the checker and the fork's process together, in a "
                            "cgroup of its own where the host allows; 0 for none (default: %(default)s); --jobs is "
                            "lowered to what fits the machine")
    grade.add_argument("--data", metavar="PATH",
                       help="the full data set for the slow tier (default: as 'run' finds it)")
    grade.add_argument("--regrade", action="store_true", help="grade again forks already graded")
    grade.add_argument("--retrain", action="store_true",
                       help="reuse no training from earlier calls (within this call each distinct training is still "
                            "done once); also MNIST_CHECKS_RETRAIN=1")
    grade.add_argument("--cluster", metavar="ADDRESS",
                       help="grade on a Dask cluster: 'local' (--jobs worker processes here) or a scheduler's address "
                            "tcp://HOST:8786; needs the extra: pip install -e \".[cluster]\" (default: this "
                            "machine's pool)")
    grade.set_defaults(handler=_grade)

    mutants = commands.add_parser(
        "mutants", parents=[common, graders],
        help="grade the catalogue of student mistakes and correct variants: how much does a green run prove?",
        description=(
            "Build a fork for every mutation (a realistic single mistake) and correct variant in "
            "mnist_checks/grading/mutants.py, grade them all with the canonical tests, and write OUT/mutants.md "
            "and OUT/mutants.json: per mutant the points lost per question and the tests that caught it, per "
            "variant its score, the kill rate and the false-fail rate. Exits 1 if a correct variant loses a "
            "point, a fast-tier mistake loses points outside its own question, or the kill rate is below "
            "--min-kill-rate."
        ),
    )
    mutants.add_argument("--out", default=DEFAULT_MUTANTS, metavar="DIR",
                         help="output directory (default: %(default)s)")
    mutants.add_argument("--min-kill-rate", type=_fraction, default=0.0, metavar="R",
                         help="exit 1 if fewer than this fraction of mutants lose points (default: %(default)s)")
    mutants.add_argument("--variants", choices=("sample", "all"), default=catalogue.get("variants"),
                         help="the generated correct variants (whole contracts in other spellings, "
                              "mnist_checks/grading/variants.py) to grade besides the hand-written ones: a fixed "
                              "sample with the exercise's own code, or all of them (default: %(default)s)")
    mutants.set_defaults(handler=_mutants)

    starter = commands.add_parser(
        "starter",
        help="write the students' starter: this project with every solution replaced by NotImplementedError",
        description="Copy the reference project into DIR with mnist_checks/exercise.py's solutions cut out.",
    )
    starter.add_argument("directory", metavar="DIR", help="where to write the starter (must not exist or be empty)")
    starter.add_argument("--reference", metavar="DIR", help="the reference checkout (default: this installation's)")
    starter.set_defaults(handler=_starter)

    args = parser.parse_args(argv)
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
        return 130


def _ranged(kind, what: str, accepts, bounds: str):
    """An argparse type: ``kind(text)`` where ``accepts`` it; else a message saying what was
    expected (``what``) or where it must lie (``bounds``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    return parse


_positive = _ranged(int, "a whole number of at least 1", lambda v: v >= 1, "at least 1")
_seed = _ranged(int, f"a whole number from 0 to {MAX_SEED}", lambda v: 0 <= v <= MAX_SEED,
                f"from 0 to {MAX_SEED} (numpy's seed range)")
_seconds = _ranged(float, "a number of seconds", lambda v: 0 < v < float("inf"), "a positive number of seconds")
_megabytes = _ranged(int, "a whole number of megabytes", lambda v: v >= 0, "0 (no limit) or more")
_fraction = _ranged(float, "a fraction from 0 to 1", lambda v: 0 <= v <= 1, "from 0 to 1")


def _seed_list(text: str) -> list[int]:
    """``0-4`` or ``0,3,7`` (or both: ``0-2,9``) as a list of distinct seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        first, last = _seed(low), _seed(high) if high else None
        if last is not None and last < first:
            raise argparse.ArgumentTypeError(f"a range runs upwards: {part.strip()}")
        seeds += [s for s in range(first, (last if last is not None else first) + 1) if s not in seeds]
    if len(seeds) > 1000:
        raise argparse.ArgumentTypeError(f"{len(seeds)} seeds: at most 1000")
    return seeds


def _run(args) -> int:
    from datetime import datetime

    from . import report
    from .data import load_digits, locate

    if args.seeds is not None:
        return _run_seeds(args)
    if args.cluster or args.jobs != 1 or args.spread_page:
        raise UsageError("--jobs, --cluster and --spread-page are for several seeds: give them with --seeds")

    started, fresh_out = datetime.now(), not os.path.lexists(args.out)
    try:
        run_dir = report.run_directory(args.out, started, args.seed)  # before minutes of training, not after
    except OSError as error:
        raise UsageError(f"--out {args.out}: cannot write the run's outputs there ({error.strerror or error}); "
                         "pass a directory you can write to") from None

    def discard():  # nothing trained: leave no empty directory behind
        run_dir.rmdir()
        if fresh_out:
            with contextlib.suppress(OSError):
                run_dir.parent.rmdir()

    result = None
    try:
        source = locate(args.data, download=not args.no_download)
        result = _train(args, load_digits(source), source)
    finally:
        if result is None:
            discard()
    print()
    print(report.table(result.record))
    for line in report.improvements(result.record):
        print(line)
    paths = report.write_outputs(result.record, run_dir)
    print(f"\nwrote {', '.join(p.name for p in paths.values())} into {run_dir}")
    if "interrupted_during" in result.record:
        print(f"mnist-checks: interrupted during {result.record['interrupted_during']}; {run_dir} holds the "
              f"{len(result.record['models'])} model(s) that finished (a partial run: "
              f"{args.out}/{report.LATEST} still points to the last complete one)", file=sys.stderr)
        return 130
    try:
        print(f"{report.point_latest(run_dir)} -> {run_dir.name}")
    except OSError as error:
        print(f"mnist-checks: could not point {args.out}/{report.LATEST} to this run: {error.strerror or error}",
              file=sys.stderr)
    outside = report.out_of_tolerance(result.record)
    if outside:
        print(f"mnist-checks: outside the published tolerance: {', '.join(outside)}", file=sys.stderr)
        return 1
    return 0


def _run_seeds(args) -> int:
    """``run --seeds``: one run per seed on this machine's process pool or a Dask cluster; each
    job carries the data file's content, and each run's directory is written as it finishes."""
    from datetime import datetime
    from pathlib import Path

    from . import report
    from .cluster import as_they_finish, close, connect, process_pool, require_dask
    from .data import locate
    from .run import run_record

    if args.cluster:
        require_dask()
    started = datetime.now()
    try:
        directories = {seed: report.run_directory(args.out, started, seed) for seed in args.seeds}
    except OSError as error:
        raise UsageError(f"--out {args.out}: cannot write the runs' outputs there ({error.strerror or error}); "
                         "pass a directory you can write to") from None
    finished: dict[int, dict] = {}
    client = pool = None
    try:
        source = Path(locate(args.data, download=not args.no_download))
        content = source.read_bytes()
        settings = [_settings(args, seed) for seed in args.seeds]
        if args.cluster:
            client = connect(args.cluster, args.jobs)
            data = client.scatter(content, broadcast=True)
            futures = {client.submit(run_record, data, source.name, s, str(source), pure=False): s.seed
                       for s in settings}
            where = f"on the Dask cluster {client.scheduler.address}"
        else:
            pool = process_pool(args.jobs)
            futures = {pool.submit(run_record, content, source.name, s, str(source)): s.seed for s in settings}
            where = f"{args.jobs} at a time"
        print(f"training {len(args.seeds)} seeds ({', '.join(map(str, args.seeds))}) {where}", flush=True)
        for future in as_they_finish(futures):
            seed = futures[future]
            record = finished[seed] = future.result()
            report.write_outputs(record, directories[seed])
            finals = ", ".join(f"{name} {model['history']['val_accuracy'][-1]:.4f}"
                               for name, model in record["models"].items())
            print(f"  seed {seed}: {finals} ({record['wall_seconds']:.0f} s) -> {directories[seed]}", flush=True)
    except KeyboardInterrupt:
        print(f"\nmnist-checks: interrupted; {len(finished)} of {len(args.seeds)} seeds finished and were written",
              file=sys.stderr)
        return 130
    finally:
        for seed, directory in directories.items():
            if seed not in finished:
                with contextlib.suppress(OSError):
                    directory.rmdir()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if client is not None:
            close(client)
    records = [finished[seed] for seed in args.seeds]
    text = report.spread(records, [directories[seed].name for seed in args.seeds])
    spread_path = Path(args.out) / f"spread-{started:%Y%m%d-%H%M%S}-seeds{args.seeds[0]}-{args.seeds[-1]}.md"
    report.write_text(spread_path, text)
    if args.spread_page:
        _say_windows(report.write_spread(args.spread_page, text), args.spread_page)
    bands_path = spread_path.with_name(spread_path.stem.replace("spread-", "curves-", 1) + ".png")
    report.plot_bands(records, bands_path)
    print(f"\n{text}\nwrote {spread_path} and the learning curves across the seeds, {bands_path}")
    outside = {seed: report.out_of_tolerance(record) for seed, record in zip(args.seeds, records)}
    outside = {seed: names for seed, names in outside.items() if names}
    if outside:
        print("mnist-checks: outside the published tolerance: "
              + "; ".join(f"seed {seed}: {', '.join(names)}" for seed, names in outside.items()), file=sys.stderr)
        return 1
    return 0


def _settings(args, seed: int):
    from .plan import Settings

    return Settings(seed=seed, mlp_epochs=args.mlp_epochs, cnn_epochs=args.cnn_epochs, warm=args.warm,
                    plain_fit=args.plain_fit)


def _train(args, digits, source):
    """Q2, Q4, Q5 as ``run`` asks; the models that finished if Ctrl-C stops it after the first."""
    from .plan import planned
    from .run import RunInterrupted, run_exercise

    settings = _settings(args, args.seed)
    models = planned(settings)

    def announce(model, epochs):
        print(f"\n[{models.index(model) + 1}/{len(models)}] {model.name}: {model.description} ({model.question}), "
              f"{epochs} epochs",
              flush=True)

    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    try:
        return run_exercise(*digits, settings, verbose=verbose, on_model=announce, source=source)
    except RunInterrupted as stop:
        if not stop.run.record["models"]:
            raise KeyboardInterrupt from None
        return stop.run  # keep what finished: minutes of training are not thrown away


def _reference(args):
    from pathlib import Path

    root = Path(args.reference) if args.reference else Path(__file__).resolve().parent.parent
    if not (root / "tests").is_dir() or not (root / "mnist_checks" / "exercise.py").is_file():
        raise UsageError(
            f"{root}: not the reference checkout (no tests/ or mnist_checks/exercise.py); install the "
            "instructor's clone with `pip install -e .` or pass --reference DIR"
        )
    return root


def _grade(args) -> int:
    from pathlib import Path

    from .grading.rubric import load_rubric
    from .grading.runner import (
        GRADEBOOK,
        GradingInterrupted,
        Limits,
        grade_forks,
        gradebook_changes,
        read_gradebook,
        shared_trainings,
        summary_table,
    )

    reference = _reference(args)
    rubric = load_rubric(args.rubric)
    missing = [fork for fork in args.forks if not os.path.isdir(fork)]
    if missing:
        raise UsageError(f"not a directory: {', '.join(missing)}; pass the forks' checkouts")
    if args.tier != "fast":
        from .data import ENV_DATA, locate

        os.environ[ENV_DATA] = str(locate(args.data))  # resolved (downloaded) once, read by every fork
    limits = Limits(fork_seconds=args.fork_timeout, call_seconds=args.call_timeout, memory_mb=args.memory_mb or None,
                    grading_mb=args.grading_memory_mb)

    def progress(result):
        total = result.totals.get("total", (0.0, 0.0))
        print(f"  {result.fork}: {total[0]:.1f}/{total[1]:.1f} {result.status} ({result.seconds:.0f} s)", flush=True)

    client = None
    if args.cluster:
        from .cluster import connect

        client = connect(args.cluster, args.jobs)
    where = f"on the Dask cluster {client.scheduler.address}" if client else f"{args.jobs} at a time"
    print(f"grading {len(args.forks)} fork(s), {args.tier} tier, {where}", flush=True)
    earlier = read_gradebook(Path(args.out) / GRADEBOOK)  # refused here, before any grading, if not ours
    try:
        results = grade_forks(args.forks, reference, args.out, tier=args.tier, rubric=rubric, limits=limits,
                              jobs=args.jobs, regrade=args.regrade, allow_unisolated=args.allow_unisolated,
                              retrain=args.retrain, cluster=client, on_result=progress,
                              say=lambda line: print(f"mnist-checks: {line}", file=sys.stderr, flush=True))
    except GradingInterrupted as stop:
        left = sum(r.status == "not graded" for r in stop.results)
        print(f"\nmnist-checks: interrupted; {args.out}/gradebook.csv lists all {len(stop.results)} forks, "
              f"{left} of them not graded", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            from .cluster import close

            close(client)
    print()
    if results and results[0].isolation:
        print(f"isolation: {results[0].isolation}")
    print(summary_table(results))
    shared = shared_trainings(results)
    if shared:
        print(f"\n{shared}")
    changes = gradebook_changes(earlier, results)
    said = [f"{len(changes[key])} {key}" + (f" ({', '.join(changes[key])})" if key != "kept" and changes[key] else "")
            for key in ("changed", "added", "unchanged", "kept") if changes[key]]
    print(f"\nwrote {args.out}/FORK/results.json, junit.xml, output.txt and {args.out}/{GRADEBOOK}: "
          f"{sum(map(len, changes.values()))} rows; " + "; ".join(said)
          + (" from earlier calls" if changes["kept"] else ""))
    return 0


def _mutants(args) -> int:
    import shutil
    from pathlib import Path

    try:
        from .grading import mutation_report
    except ImportError:
        raise UsageError("the mutation catalogue is the instructor's (it quotes the solutions): run "
                         "`mnist-checks mutants` from the instructor's checkout") from None
    from .grading.rubric import load_rubric
    from .grading.runner import GradingInterrupted, Limits

    reference = _reference(args)
    rubric = load_rubric(args.rubric)
    out = Path(args.out)
    if (out / "forks").exists():
        shutil.rmtree(out / "forks")  # ours from an earlier run: rebuilt from the catalogue
    if args.tier != "fast":
        from .data import ENV_DATA, locate

        os.environ[ENV_DATA] = str(locate(None))
    variants = (len(mutation_report.VARIANTS) + len(mutation_report.generated(args.variants))
                + len(mutation_report.independent(reference)))
    count = len(mutation_report.MUTANTS) + variants
    print(f"grading {len(mutation_report.MUTANTS)} mutants and {variants} correct variants ({args.variants} of the "
          f"generated ones, and those written independently), {args.tier} tier, {args.jobs} at a time", flush=True)
    done = [0]

    def progress(result):
        done[0] += 1
        total = result.totals.get("total", (0.0, 0.0))
        print(f"  [{done[0]}/{count}] {result.fork}: {total[0]:.1f}/{total[1]:.1f}", flush=True)

    try:
        report = mutation_report.run(reference, out, tier=args.tier, rubric=rubric, limits=Limits(), jobs=args.jobs,
                                     on_result=progress, allow_unisolated=args.allow_unisolated,
                                     variants=args.variants)
    except GradingInterrupted:
        print("\nmnist-checks: interrupted; no report written", file=sys.stderr)
        return 130
    print()
    print(mutation_report.markdown(report).split("\n## Mutants")[0].strip())
    if report["survivors"]:
        print(f"\nsurvivors: {', '.join(report['survivors'])}")
    print(f"\nwrote {out / mutation_report.REPORT_MD} and {out / mutation_report.REPORT_JSON}")
    if report["false_fails"]:
        print(f"mnist-checks: correct variants lost points: {', '.join(report['false_fails'])}", file=sys.stderr)
        return 1
    if report["misplaced_points"] and args.tier == "fast":
        print("mnist-checks: mistakes lost points outside their own question: "
              + "; ".join(f"{name} ({', '.join(q.upper() for q in lost)})"
                          for name, lost in report["misplaced_points"].items()),
              file=sys.stderr)
        return 1
    if report["kill_rate"] < args.min_kill_rate:
        print(f"mnist-checks: kill rate {report['kill_rate']:.1%} is below --min-kill-rate {args.min_kill_rate:.1%}",
              file=sys.stderr)
        return 1
    return 0


def _starter(args) -> int:
    from .grading.starter import write_starter

    try:
        contract = write_starter(_reference(args), args.directory)
    except (FileExistsError, ValueError) as error:
        raise UsageError(str(error)) from None
    print(f"wrote the starter into {args.directory}; students implement {contract}")
    return 0


def _spread(args) -> int:
    import json
    from pathlib import Path

    from . import report

    records = []
    for name in args.records:
        path = Path(name)
        if path.is_dir():  # a run directory, or an output directory's latest
            path = path / report.RECORD
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            raise UsageError(f"{name}: not a readable record: {getattr(error, 'strerror', None) or error}") from None
    text = report.spread(records, args.records)
    print(text)
    if args.out:
        _say_windows(report.write_spread(args.out, text), args.out)
    return 0


def _say_windows(problems: list[str], page) -> None:
    """After a spread was written into ``page``: what it says about facts.PUBLISHED's windows."""
    for problem in problems:
        print(f"window: {problem}")
    if problems:
        print(f"{page}: {len(problems)} window(s) no longer follow from the spread; tests/test_windows.py fails "
              "until facts.PUBLISHED follows")

if __name__ == "__main__":
    sys.exit(main())
