"""Runs written to directories of their own, one per seed: what ``mnist-checks run`` does.

``run_seed`` trains the exercise once (``run.run_exercise``) into a new ``OUT/run-DATE-TIME-seedN``
and points ``OUT/latest`` to it; ``run_seeds`` trains one run per seed on this machine's process
pool or a Dask cluster, writes each seed's directory as it finishes, then the spread across them
(``report.spread``) and their learning curves as bands.  Each returns what it wrote, and
``verdict`` says what the records mean against the published figures.

``spread_files`` reads runs' records back for ``mnist-checks spread``.  Importing this module
imports no TensorFlow: ``run`` is imported when a run starts.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import cluster as clusters
from . import data as datasets
from . import facts, plots, report
from .errors import MnistChecksError
from .plan import Settings
from .records import models_of

if TYPE_CHECKING:
    from .run import Run


class OutputError(MnistChecksError):
    """An output directory that cannot be written: said before any training."""

    remedy = "pass another --out, or make that directory writable"


def run_directories(out_dir: str | os.PathLike, started: datetime, seeds: list[int]) -> dict[int, Path]:
    """A new directory per seed (``report.run_directory``), all made before any training; where
    ``out_dir`` cannot be written, ``OutputError`` and none of them left behind."""
    made: dict[int, Path] = {}
    try:
        for seed in seeds:
            made[seed] = report.run_directory(out_dir, started, seed)
    except OSError as error:
        for directory in made.values():
            discard_run_directory(directory)
        whose = "run's" if len(seeds) == 1 else "runs'"
        raise OutputError(f"--out {out_dir}: cannot write the {whose} outputs there ({error.strerror or error})"
                          ) from None
    return made


def discard_run_directory(run_dir: Path, *, with_out: bool = False) -> None:
    """Remove a run directory that nothing was written into, and its output directory too where
    the run made it (``with_out``) and it holds nothing else: a run that trained nothing leaves
    nothing behind. Never removes anything that is not empty."""
    for path in (run_dir, run_dir.parent) if with_out else (run_dir,):
        with contextlib.suppress(OSError):
            path.rmdir()


#: What finished runs say against the published figures (``verdict``).
PASSED, OUTSIDE, NOT_JUDGED = "passed", "outside", "not judged"


@dataclass(frozen=True)
class Verdict:
    """``outcome`` is ``PASSED``, ``OUTSIDE`` or ``NOT_JUDGED``; ``message`` says which models, or
    why none was judged ("" when passed)."""

    outcome: str
    message: str = ""


def verdict(records: list[dict], *, per_seed: bool = False) -> Verdict:
    """What runs' records say: ``OUTSIDE`` where a model trained as published (for the published
    run's epochs) ended outside the published tolerance, naming them (per seed with ``per_seed``);
    else ``NOT_JUDGED`` where no model was trained as published, so none was judged (each is shown,
    not judged: other epochs); else ``PASSED``."""
    outside = [(record["settings"]["seed"], report.out_of_tolerance(record)) for record in records]
    outside = [(seed, names) for seed, names in outside if names]
    if outside:
        said = ("; ".join(f"seed {seed}: {', '.join(names)}" for seed, names in outside) if per_seed
                else ", ".join(name for _, names in outside for name in names))
        return Verdict(OUTSIDE, f"outside the published tolerance: {said}")
    if all(row["within"] is None for record in records for row in report.rows(record)):
        return Verdict(NOT_JUDGED, f"not judged: no model trained for the published epochs (MLPs {facts.MLP_EPOCHS}, "
                                   f"CNN {facts.CNN_EPOCHS}), so none was held to its tolerance")
    return Verdict(PASSED)



@dataclass
class Written:
    """One run written into its directory: ``latest`` is ``OUT/latest`` where it now points to this
    run (a complete one), else None with ``latest_error`` saying why where pointing it failed."""

    run: Run
    directory: Path
    paths: dict
    latest: Path | None = None
    latest_error: str | None = None

    @property
    def interrupted_during(self) -> str | None:
        return self.run.record.get("interrupted_during")


@dataclass
class SeedRuns:
    """Runs of several seeds, each written into its directory, and the spread across them."""

    records: list[dict]
    directories: dict[int, Path]
    spread: str  # report.spread's Markdown table
    spread_path: Path
    bands_path: Path
    window_problems: list[str] | None = None  # with a spread page: what report.write_spread says


class SeedsInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``run_seeds``: the seeds that had finished were written, the others not."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} seeds finished")
        self.finished, self.total = finished, total


def run_seed(out: str | os.PathLike = report.DEFAULT_OUT, settings: Settings = Settings(), *, data=None,
             download: bool = True, verbose: int = 0, on_data=None, on_model=None) -> Written:
    """Train the exercise with ``settings`` on the digits ``data`` names (``data.locate``) into a new
    directory ``OUT/run-DATE-TIME-seedN``, made before anything is loaded; point ``OUT/latest`` to it.

    ``on_data(path, digits)`` is called once the data is loaded, ``on_model`` and ``verbose`` are
    ``run_exercise``'s.  Where nothing trained (bad data, Ctrl-C in the first model) the directory
    is removed again, and ``OUT`` too where this call made it; Ctrl-C later keeps the models that
    finished as a partial run, which ``latest`` never points to.
    """
    fresh_out = not os.path.lexists(out)
    run_dir = run_directories(out, datetime.now(), [settings.seed])[settings.seed]
    finished = None
    try:
        source = datasets.locate(data, download=download)
        X, y = datasets.load_digits(source)
        if on_data:
            on_data(source, len(X))
        from . import run as run_module  # TensorFlow: imported once there is data to train on

        try:
            finished = run_module.run_exercise(X, y, settings, verbose=verbose, on_model=on_model, source=source)
        except run_module.RunInterrupted as stop:
            if not models_of(stop.run.record):
                raise KeyboardInterrupt from None
            finished = stop.run  # keep what finished: minutes of training are not thrown away
    finally:
        if finished is None:
            discard_run_directory(run_dir, with_out=fresh_out)
    written = Written(finished, run_dir, report.write_outputs(finished.record, run_dir))
    if written.interrupted_during is None:
        try:
            written.latest = report.point_latest(run_dir)
        except OSError as error:
            written.latest_error = error.strerror or str(error)
    return written


def run_seeds(seeds: list[int], out: str | os.PathLike = report.DEFAULT_OUT, settings: Settings = Settings(), *,
              data=None, download: bool = True, jobs: int = 1, cluster: str | None = None, spread_page=None,
              on_start=None, on_seed=None) -> SeedRuns:
    """One run per seed of ``seeds`` with ``settings`` otherwise, ``jobs`` at a time in this
    machine's process pool or on the Dask cluster ``cluster`` names (``cluster.connect``); each job
    carries the data file's content, and each seed's directory is written as it finishes.

    Then ``OUT/spread-DATE-TIME-seedsA-B.md`` (``report.spread``) and the learning curves as bands
    (``curves-...png``); with a ``spread_page`` (docs/spread.md) its table and margins are rewritten
    too.  ``on_start(where, source)`` is called once the jobs are sent, ``on_seed(seed, record,
    directory)`` as each finishes.  Ctrl-C raises ``SeedsInterrupted``; directories of seeds that
    did not finish are removed.
    """
    if cluster:
        clusters.require_dask()
    started = datetime.now()
    directories = run_directories(out, started, seeds)
    finished: dict[int, dict] = {}
    try:
        with _seed_jobs(seeds, settings, data, download, jobs, cluster) as (futures, where, source):
            if on_start:
                on_start(where, source)
            for future in clusters.as_they_finish(futures):
                seed = futures[future]
                record = finished[seed] = future.result()
                report.write_outputs(record, directories[seed])
                if on_seed:
                    on_seed(seed, record, directories[seed])
    except KeyboardInterrupt:
        raise SeedsInterrupted(len(finished), len(seeds)) from None
    finally:
        for seed, directory in directories.items():
            if seed not in finished:
                discard_run_directory(directory)
    return _spread_across(out, started, seeds, finished, directories, spread_page)


def spread_files(names: list[str], out: str | os.PathLike | None = None) -> tuple[str, list[str]]:
    """``mnist-checks spread``: ``report.spread`` of the record.json files ``names`` (or run directories,
    ``OUT/latest`` among them), and with ``out`` the table written there too (``report.write_spread``).
    Returns the table and what it says about the windows where ``out`` is a spread page (else [])."""
    records = []
    for name in names:
        path = Path(name)
        if path.is_dir():  # a run directory, or an output directory's latest
            path = path / report.RECORD
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            why = getattr(error, "strerror", None) or error
            raise report.RecordError(f"{name}: not a readable record: {why}") from None
    text = report.spread(records, list(names))
    return text, (report.write_spread(out, text) if out else [])


@contextlib.contextmanager
def _seed_jobs(seeds, settings: Settings, data, download: bool, jobs: int, cluster: str | None):
    """The seeds' jobs sent to a pool or a cluster: ``(futures -> seed, where they run, data file)``;
    the pool or the cluster's client is closed when the block ends."""
    source = Path(datasets.locate(data, download=download))
    content = source.read_bytes()
    from . import run as run_module  # TensorFlow: imported once there is data to train on

    every = [replace(settings, seed=seed) for seed in seeds]
    if cluster:
        client = clusters.connect(cluster, jobs)
        try:
            shared = client.scatter(content, broadcast=True)
            futures = {client.submit(run_module.run_record, shared, source.name, s, str(source), pure=False): s.seed
                       for s in every}
            yield futures, f"on the Dask cluster {client.scheduler.address}", source
        finally:
            clusters.close(client)
        return
    pool = clusters.process_pool(jobs)
    try:
        futures = {pool.submit(run_module.run_record, content, source.name, s, str(source)): s.seed for s in every}
        yield futures, f"{jobs} at a time", source
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _spread_across(out, started: datetime, seeds: list[int], finished: dict, directories: dict,
                   spread_page) -> SeedRuns:
    """The spread of the finished seeds' records, written beside their directories."""
    records = [finished[seed] for seed in seeds]
    text = report.spread(records, [directories[seed].name for seed in seeds])
    spread_path = Path(out) / f"spread-{started:%Y%m%d-%H%M%S}-seeds{seeds[0]}-{seeds[-1]}.md"
    report.write_text(spread_path, text)
    problems = report.write_spread(spread_page, text) if spread_page else None
    bands_path = spread_path.with_name(spread_path.stem.replace("spread-", "curves-", 1) + ".png")
    plots.plot_bands(records, bands_path)
    return SeedRuns(records, directories, text, spread_path, bands_path, problems)
