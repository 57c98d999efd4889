"""What a person reads after a run: a terminal table, a learning-curve plot, a Markdown report.

Everything is written atomically (a temporary file renamed into place), so an interrupted run
never leaves a half-written output.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path

RECORD = "record.json"
PLOT = "learning_curves.png"
REPORT = "report.md"


def rows(record: dict) -> list[dict]:
    """One summary row per trained model: final val_acc against the published figure."""
    out = []
    for name, model in record["models"].items():
        published = record["published"][name]
        final = model["history"]["val_accuracy"][-1]
        out.append(
            {
                "model": name,
                "question": model["question"],
                "epochs": model["epochs"],
                "parameters": model["parameters"],
                "val_acc": final,
                "published": published["val_accuracy"],
                "difference": final - published["val_accuracy"],
                "within": abs(final - published["val_accuracy"]) <= published["tolerance"] + 1e-12,
                "tolerance": published["tolerance"],
                "median_epoch_s": statistics.median(model["history"]["seconds"]),
            }
        )
    return out


def table(record: dict) -> str:
    """A plain-text table of ``rows(record)`` for the terminal."""
    header = ("model", "Q", "epochs", "params", "val_acc", "published", "diff", "within tol", "epoch s (median)")
    lines = [
        (
            r["model"], r["question"], str(r["epochs"]), f"{r['parameters']:,}", f"{r['val_acc']:.4f}",
            f"{r['published']:.3f}", f"{r['difference']:+.4f}", f"{'yes' if r['within'] else 'NO'} (±{r['tolerance']})",
            f"{r['median_epoch_s']:.2f}",
        )
        for r in rows(record)
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines)]
    fmt = lambda cells: "  ".join(cell.ljust(width) for cell, width in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def plot_curves(record: dict, path: Path) -> None:
    """Validation accuracy per epoch for every model (solid), each beside the published run's (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    drawn: dict[tuple, list[str]] = {}  # a published curve -> the models compared with it
    colours, lowest = {}, 1.0
    for name, model in record["models"].items():
        accuracy = model["history"]["val_accuracy"]
        (line,) = ax.plot(range(1, len(accuracy) + 1), accuracy, marker=".",
                          label=f"{name}: ours (final {accuracy[-1]:.4f})")
        published = record["published"][name]
        curve = tuple(published.get("curve") or [published["val_accuracy"]])
        drawn.setdefault(curve, []).append(name)
        colours.setdefault(curve, line.get_color())
        lowest = min(lowest, *accuracy, *curve)
    for curve, names in drawn.items():
        ax.plot(range(1, len(curve) + 1), curve, color=colours[curve], linestyle="--", linewidth=1,
                label=f"published, compared with {' and '.join(names)} (final {curve[-1]:.4f})")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (10,000 test digits)")
    ax.set_title("MNIST exercise: validation accuracy per epoch, ours (solid) vs published (dashed)")
    ax.set_ylim(max(0.0, min(0.9, lowest) - 0.01), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    with _atomic(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)


def markdown(record: dict) -> str:
    """A short report: environment, the table, the plot, and what the figures mean."""
    env = record["environment"]
    settings = record["settings"]
    lines = [
        "# MNIST exercise: our run vs the published figures",
        "",
        f"TensorFlow {env['tensorflow']}, Keras {env['keras']} ({env['backend']}), Python {env['python']}, "
        f"device {env['device']}, CPU {env['cpu']} ({env['cores']} cores), seed {env['seed']}, "
        f"{'fast path' if settings['fast'] else 'plain fit'}.",
        "",
        "| model | Q | epochs | parameters | val_acc | published | difference | within tolerance | median epoch (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows(record):
        lines.append(
            f"| {r['model']} | {r['question']} | {r['epochs']} | {r['parameters']:,} | {r['val_acc']:.4f} | "
            f"{r['published']:.3f} | {r['difference']:+.4f} | {'yes' if r['within'] else 'no'} (±{r['tolerance']}) | "
            f"{r['median_epoch_s']:.2f} |"
        )
    if record.get("interrupted_during"):
        lines += ["", f"**Interrupted** (Ctrl-C) while training {record['interrupted_during']}: the models "
                      "from it on were not trained, and are missing here."]
    lines += ["", f"![validation accuracy per epoch]({PLOT})", ""]
    for name, model in record["models"].items():
        lines.append(f"- **{name}**: {model['description']}.")
    warm = record["models"].get("mlp_scaled_warm")
    if warm:
        lines.append(
            f"- Training the warm-started model changed {warm['raw_predictions_changed']:.1%} of the raw MLP's "
            "predicted test digits: the two models share their weights."
        )
    lines += ["", "Dashed lines: the published run's validation accuracy after each epoch (its Q4 model was "
              "warm-started from the raw MLP, so both scaled MLPs are drawn against it).", ""]
    return "\n".join(lines)


def spread(records: list[dict]) -> str:
    """A Markdown table of final val_acc across runs (e.g. seeds): mean, sd, range, per model."""
    names = [name for name in records[0]["models"] if all(name in r["models"] for r in records)]
    seeds = ", ".join(str(r["settings"]["seed"]) for r in records)
    env = records[0]["environment"]
    lines = [
        f"Final-epoch val_accuracy over {len(records)} runs (seeds {seeds}); TensorFlow {env['tensorflow']}, "
        f"Keras {env['keras']} ({env['backend']}), {env['device']}, {env['cpu']} ({env['cores']} cores).",
        "",
        "| model | published | mean | sd | min | max | mean - published |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        finals = [r["models"][name]["history"]["val_accuracy"][-1] for r in records]
        published = records[0]["published"][name]["val_accuracy"]
        sd = statistics.stdev(finals) if len(finals) > 1 else 0.0
        mean = statistics.mean(finals)
        lines.append(
            f"| {name} | {published:.3f} | {mean:.4f} | {sd:.4f} | {min(finals):.4f} | {max(finals):.4f} | "
            f"{mean - published:+.4f} |"
        )
    if all("cnn" in r["models"] and "mlp_scaled" in r["models"] for r in records):
        ratios = [
            (1 - r["models"]["cnn"]["history"]["val_accuracy"][-1])
            / (1 - r["models"]["mlp_scaled"]["history"]["val_accuracy"][-1])
            for r in records
        ]
        lines += ["", f"CNN error / scaled-MLP error: {min(ratios):.2f}-{max(ratios):.2f}."]
    return "\n".join(lines) + "\n"


def write_outputs(record: dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the JSON record, the plot and the report into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"record": out / RECORD, "plot": out / PLOT, "report": out / REPORT}
    with _atomic(paths["record"], "w") as handle:
        json.dump(record, handle, indent=2)
    plot_curves(record, paths["plot"])
    with _atomic(paths["report"], "w") as handle:
        handle.write(markdown(record))
    return paths


class _atomic:
    """Open a temporary file beside ``path``; rename it onto ``path`` only if the block succeeds."""

    def __init__(self, path: Path, mode: str):
        self.path, self.mode = Path(path), mode

    def __enter__(self):
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        self.handle = os.fdopen(fd, self.mode)
        return self.handle

    def __exit__(self, kind, value, traceback):
        self.handle.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)
        return False
