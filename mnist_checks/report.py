"""What a person reads after a run: a terminal table, a learning-curve plot, a Markdown report.

Every run gets its own directory under the output directory (``run_directory``) and ``latest``
points to the newest complete one, so no run ever replaces another. Everything is written
atomically (a temporary file renamed into place), with the user's umask, so an interrupted run
never leaves a half-written output.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import statistics
from datetime import datetime
from pathlib import Path

from . import facts
from .errors import MnistChecksError
from .facts import Published
from .files import atomic_file
from .plots import plot_curves
from .questions import label
from .records import by_model, models_of

#: Where ``mnist-checks run`` puts its run directories unless told.
DEFAULT_OUT = "mnist-checks-output"
RECORD = "record.json"
PLOT = "learning_curves.png"
REPORT = "report.md"
LATEST = "latest"


class RecordError(MnistChecksError, ValueError):
    """A record.json that ``spread`` cannot use, or records it must not mix; the message says why."""

    remedy = ("give record.json files written by `mnist-checks run` (or their run directories), all trained with "
              "the same epochs and batch size")


def run_directory(out_dir: str | os.PathLike, started: datetime, seed: int) -> Path:
    """Create and return a new, empty directory for one run: ``OUT/run-YYYYmmdd-HHMMSS-seedN``.

    Checked before any training: raises ``OSError`` at once when ``out_dir`` is a file, lies under
    a file or cannot be written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"run-{started:%Y%m%d-%H%M%S}-seed{seed}"
    for n in itertools.count(1):
        path = out / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        probe = path / f".probe-{secrets.token_hex(4)}"
        probe.write_bytes(b"")  # a directory we may enter but not write into fails here, not after training
        probe.unlink()
        return path


def point_latest(run_dir: Path) -> Path:
    """Make ``OUT/latest`` point to ``run_dir`` (a relative link, replaced atomically)."""
    link = run_dir.parent / LATEST
    tmp = run_dir.parent / f".{LATEST}-{secrets.token_hex(4)}"
    os.symlink(run_dir.name, tmp)
    try:
        os.replace(tmp, link)
    except OSError:
        os.unlink(tmp)
        raise
    return link


def published_epochs(record: dict, name: str) -> int:
    """The epochs of the published run of model ``name``: its per-epoch curve's length."""
    published = record["published"][name]
    return len(published.get("curve") or ()) or models_of(record)[name].epochs


def rows(record: dict) -> list[dict]:
    """One summary row per trained model: final val_accuracy against the published figure.

    ``within`` is None for a model trained for other epochs than the published run: its figure
    is shown, not judged."""
    out = []
    for name, model in models_of(record).items():
        published = record["published"][name]
        final = model.final_val_accuracy
        judged = model.epochs == published_epochs(record, name)
        claim = Published.from_record(published)
        out.append(
            {
                "model": name,
                "question": label(model.question),
                "epochs": model.epochs,
                "parameters": model.parameters,
                "val_accuracy": final,
                "published": published["val_accuracy"],
                "difference": final - published["val_accuracy"],
                "within": claim.admits(final) if judged else None,
                "tolerance": published["tolerance"],
                "median_epoch_s": statistics.median(model.seconds),
            }
        )
    return out


def table(record: dict) -> str:
    """A plain-text table of ``rows(record)`` for the terminal."""
    header = ("model", "Q", "epochs", "params", "val_accuracy", "published", "diff", "within tol", "epoch s (median)")
    lines = [
        (
            r["model"], r["question"], str(r["epochs"]), f"{r['parameters']:,}", f"{r['val_accuracy']:.4f}",
            f"{r['published']:.3f}", f"{r['difference']:+.4f}", _verdict(r, "NO"),
            f"{r['median_epoch_s']:.2f}",
        )
        for r in rows(record)
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines)]
    fmt = lambda cells: "  ".join(cell.ljust(width) for cell, width in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def improvements(record: dict) -> list[str]:
    """Q4's and Q5's improvement claims of the run, each as a sentence with its McNemar test."""
    from .significance import Comparison

    lines = []
    for found in record.get("improvements", []):
        comparison = Comparison.from_record(found)
        verdict = "a real improvement" if comparison.is_improvement() else "NOT a real improvement"
        lines.append(f"{verdict} at p < {facts.IMPROVEMENT_ALPHA}: {comparison.sentence()}")
    return lines


def across_seeds(records: list[dict]) -> list[str]:
    """Runs of several seeds as one answer (``pytest -m slow --seeds N``): each model's mean final
    val_accuracy with an interval covering the seeds' spread and the test set's binomial
    uncertainty, then each improvement claim's share of seeds (``significance``)."""
    from .significance import AcrossSeeds, Comparison, improvement_share

    lines = []
    digits = next((found["digits"] for found in records[0].get("improvements", [])), facts.N_TEST)  # test digits
    for name, models in by_model(records).items():
        finals = tuple(model.final_val_accuracy for model in models)
        lines.append(AcrossSeeds(name, finals, digits).sentence())
    claims: dict[tuple, list] = {}
    for record in records:
        for found in record.get("improvements", []):
            claims.setdefault((found["better"], found["worse"]), []).append(Comparison.from_record(found))
    lines += [improvement_share(comparisons) for comparisons in claims.values()]
    return lines


def _verdict(row: dict, no: str) -> str:
    if row["within"] is None:
        return "not judged (other epochs)"
    return f"{'yes' if row['within'] else no} (±{row['tolerance']})"


def out_of_tolerance(record: dict) -> list[str]:
    """The models trained as published whose final val_accuracy is outside the published tolerance."""
    return [r["model"] for r in rows(record) if r["within"] is False]


def markdown(record: dict) -> str:
    """A short report: environment, the table, the plot, and what the figures mean."""
    env = record["environment"]
    settings = record["settings"]
    lines = [
        "# MNIST exercise: our run vs the published figures",
        "",
        f"TensorFlow {env['tensorflow']}, Keras {env['keras']} ({env['backend']}), Python {env['python']}, "
        f"device {env['device']}, CPU {env['cpu']} ({env['cores']} cores), seed {env['seed']}, "
        f"{'plain fit' if settings.get('plain_fit') else 'fast path'}.",
        *_provenance(record),
        "",
        "| model | Q | epochs | parameters | val_accuracy | published | difference | within tolerance "
        "| median epoch (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows(record):
        lines.append(
            f"| {r['model']} | {r['question']} | {r['epochs']} | {r['parameters']:,} | {r['val_accuracy']:.4f} | "
            f"{r['published']:.3f} | {r['difference']:+.4f} | {_verdict(r, 'no')} | "
            f"{r['median_epoch_s']:.2f} |"
        )
    if record.get("improvements"):
        lines += ["", *[f"- {line}" for line in improvements(record)]]
    if record.get("interrupted_during"):
        lines += ["", f"**Interrupted** (Ctrl-C) while training {record['interrupted_during']}: the models "
                      "from it on were not trained, and are missing here."]
    lines += ["", f"![validation accuracy per epoch]({PLOT})", ""]
    models = models_of(record)
    for name, model in models.items():
        lines.append(f"- **{name}**: {model.description}.")
    warm = models.get("mlp_scaled_warm")
    if warm:
        lines.append(
            f"- Training the warm-started model changed {warm.raw_predictions_changed:.1%} of the raw MLP's "
            "predicted test digits: the two models share their weights."
        )
    lines += ["", "Dashed lines: the published run's validation accuracy after each epoch (its Q4 model was "
              "warm-started from the raw MLP, so both scaled MLPs are drawn against it).", ""]
    return "\n".join(lines)


def _provenance(record: dict) -> list[str]:
    """When, from which data, with which package version and for how long the run went."""
    data, lines = record.get("data") or {}, []
    if record.get("started_at"):
        lines.append(f"Started {record['started_at']}, {record.get('wall_seconds', 0) / 60:.1f} min in all, "
                     f"mnist_checks {record['environment'].get('package', '?')}.")
    if data:
        lines.append(f"Data: {data.get('source') or 'given arrays'} (SHA-256 of the pixels "
                     f"{data['pixels_sha256'][:16]}..., of the labels {data['labels_sha256'][:16]}...).")
    return ["", *lines] if lines else []


#: Settings that change what a final val_accuracy means: runs that differ in one are never pooled.
SPREAD_SETTINGS = ("mlp_epochs", "cnn_epochs", "batch_size")


def checked_record(record, name: str) -> dict:
    """``record`` if it is a complete record.json of ``mnist-checks run``; else ``RecordError``."""
    try:
        settings, models = record["settings"], models_of(record)
        missing = [key for key in ("published", "environment") if key not in record]
        missing += [key for key in (*SPREAD_SETTINGS, "seed") if key not in settings]
        finals = {name: model.final_val_accuracy for name, model in models.items()}
        missing += [f"published.{model}" for model in models if model not in record["published"]]
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        raise RecordError(f"{name}: not a record.json of 'mnist-checks run' (no {error} in it)") from None
    if missing or not finals or not all(isinstance(v, (int, float)) for v in finals.values()):
        raise RecordError(f"{name}: not a record.json of 'mnist-checks run' (settings or models incomplete)")
    if record.get("interrupted_during"):
        raise RecordError(f"{name}: an interrupted run (stopped during {record['interrupted_during']}); "
                          "leave it out or run that seed again")
    return record


def read_spread(text: str) -> tuple[int, dict[str, dict]]:
    """What ``spread``'s table says, read back from a page that holds it (docs/spread.md): the
    number of runs, and per model ``{"mean", "sd", "min", "max"}``."""
    runs = re.search(r"val_accuracy over (\d+) runs", text)
    rows = re.findall(r"^\| (\w+) \| [\d.]+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| [+-][\d.]+ \|$",
                      text, flags=re.MULTILINE)
    if not runs or not rows:
        raise RecordError("no table of 'mnist-checks spread' in this text: write one with "
                          "`mnist-checks spread RUN_DIR ... --out FILE`")
    return int(runs.group(1)), {name: dict(zip(("mean", "sd", "min", "max"), map(float, values)))
                                for name, *values in rows}


#: Where docs/spread.md holds ``spread``'s table, and the windows' margins computed from it.
SPREAD_MARKERS = ("<!-- spread: begin -->", "<!-- spread: end -->")
MARGINS_MARKERS = ("<!-- margins: begin -->", "<!-- margins: end -->")


def spread_page(page: str, table: str) -> str:
    """``page`` (docs/spread.md) with ``spread``'s ``table`` between its spread markers and, between
    its margins markers, each window's margins against that spread (``windows.margins``); the prose
    around them stays as written."""
    from .windows import margins

    page = _between(page, SPREAD_MARKERS, table)
    if MARGINS_MARKERS[0] in page:
        page = _between(page, MARGINS_MARKERS, margins(read_spread(table)[1]))
    return page


def write_spread(path: str | os.PathLike, table: str) -> list[str]:
    """Write ``spread``'s ``table`` to ``path``; where ``path`` is a page with the spread markers
    (docs/spread.md), rewrite its table and margins instead (``spread_page``) and return what the
    new spread says about the windows in ``facts.PUBLISHED`` (``windows.problems``)."""
    from .windows import problems

    page = Path(path).read_text() if Path(path).is_file() else ""
    if SPREAD_MARKERS[0] not in page:
        write_text(path, table)
        return []
    write_text(path, spread_page(page, table))
    return problems(read_spread(table)[1])


def _between(text: str, markers: tuple[str, str], inner: str) -> str:
    begin, end = markers
    if begin not in text or end not in text.split(begin, 1)[1]:
        raise RecordError(f"the page has no {begin} ... {end} markers to write between: add them around "
                          "the part to rewrite, or write to a new file")
    head, rest = text.split(begin, 1)
    return f"{head}{begin}\n{inner}{end}{rest.split(end, 1)[1]}"


def spread(records: list[dict], names: list[str] | None = None) -> str:
    """A Markdown table of final val_accuracy across runs (e.g. seeds): mean, sd, range, per model.

    Raises ``RecordError`` for a record that is malformed or interrupted, and for runs whose
    ``SPREAD_SETTINGS`` differ (their finals are not the same quantity)."""
    names = names or [f"record {i + 1}" for i in range(len(records))]
    records = [checked_record(record, name) for record, name in zip(records, names)]
    groups: dict[tuple, list[str]] = {}
    for record, name in zip(records, names):
        groups.setdefault(tuple(record["settings"][key] for key in SPREAD_SETTINGS), []).append(name)
    if len(groups) > 1:
        raise RecordError("the runs differ in their settings, so their final accuracies do not pool:\n" + "\n".join(
            f"  {', '.join(f'{k}={v}' for k, v in zip(SPREAD_SETTINGS, key))}: {', '.join(group)}"
            for key, group in groups.items()) + "\n  tabulate each group on its own")
    shared = by_model(records)
    seeds = ", ".join(str(r["settings"]["seed"]) for r in records)
    env = records[0]["environment"]
    lines = [
        f"Final-epoch val_accuracy over {len(records)} runs (seeds {seeds}); TensorFlow {env['tensorflow']}, "
        f"Keras {env['keras']} ({env['backend']}), {env['device']}, {env['cpu']} ({env['cores']} cores).",
        "",
        "| model | published | mean | sd | min | max | mean - published |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, models in shared.items():
        finals = [model.final_val_accuracy for model in models]
        published = records[0]["published"][name]["val_accuracy"]
        sd = statistics.stdev(finals) if len(finals) > 1 else 0.0
        mean = statistics.mean(finals)
        lines.append(
            f"| {name} | {published:.3f} | {mean:.4f} | {sd:.4f} | {min(finals):.4f} | {max(finals):.4f} | "
            f"{mean - published:+.4f} |"
        )
    if "cnn" in shared and "mlp_scaled" in shared:
        ratios = [(1 - cnn.final_val_accuracy) / (1 - mlp.final_val_accuracy)
                  for cnn, mlp in zip(shared["cnn"], shared["mlp_scaled"])]
        lines += ["", f"CNN error / scaled-MLP error: {min(ratios):.2f}-{max(ratios):.2f}."]
    return "\n".join(lines) + "\n"


def write_outputs(record: dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the JSON record, the plot and the report into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"record": out / RECORD, "plot": out / PLOT, "report": out / REPORT}
    with atomic_file(paths["record"], "w") as handle:
        json.dump(record, handle, indent=2)
    plot_curves(record, paths["plot"])
    with atomic_file(paths["report"], "w") as handle:
        handle.write(markdown(record))
    return paths


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` into ``path`` whole or not at all."""
    with atomic_file(Path(path), "w") as handle:
        handle.write(text)
    return Path(path)
