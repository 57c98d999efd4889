"""The learning curves a run leaves (Q2, Q4, Q5): each model's validation accuracy per epoch beside
the published run's, and across seeds as bands. PNG files, written whole or not at all."""

from __future__ import annotations

import statistics
from pathlib import Path

from .files import atomic_file
from .records import by_model, models_of


def plot_curves(record: dict, path: Path) -> None:
    """Validation accuracy per epoch for every model (solid), each beside the published run's (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    drawn: dict[tuple, list[str]] = {}  # a published curve -> the models compared with it
    colours, lowest = {}, 1.0
    models = models_of(record)
    for name, model in models.items():
        accuracy = model.val_accuracy
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
    longest = max(len(curve) for curve in [*drawn, *(model.val_accuracy for model in models.values())])
    title = "MNIST exercise: validation accuracy per epoch, ours (solid) vs published (dashed)"
    if record.get("interrupted_during"):
        title += f"\nPARTIAL RUN: interrupted while training {record['interrupted_during']}"
    save_accuracy_plot(fig, ax, longest=longest, lowest=lowest, title=title, fontsize=10, path=path)


def save_accuracy_plot(fig, ax, *, longest: int, lowest: float, title: str, fontsize: int, path: Path) -> None:
    """The axes, title and legend every accuracy-per-epoch plot shares; the PNG written atomically."""
    import matplotlib.pyplot as plt

    ax.set_xticks(epoch_ticks(longest))
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (10,000 test digits)")
    ax.set_title(title, fontsize=fontsize)
    ax.set_ylim(max(0.0, min(0.9, lowest) - 0.01), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)


def bands(records: list[dict]) -> dict[str, tuple[list[float], list[float], list[float]]]:
    """Per model trained in every record and for the epochs all of them reached: the lowest, the
    median and the highest val_accuracy across the records (seeds), epoch by epoch."""
    out = {}
    for name, models in by_model(records).items():
        curves = [model.val_accuracy for model in models]
        epochs = min(len(curve) for curve in curves)
        by_epoch = [[curve[epoch] for curve in curves] for epoch in range(epochs)]
        out[name] = ([min(e) for e in by_epoch], [statistics.median(e) for e in by_epoch], [max(e) for e in by_epoch])
    return out


def plot_bands(records: list[dict], path: Path) -> None:
    """Validation accuracy per epoch across seeds (issue 20): each model's band from the lowest to
    the highest seed with its median (solid), beside the published run's curve (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    lowest, longest = 1.0, 1
    for name, (low, median, high) in bands(records).items():
        epochs = range(1, len(median) + 1)
        (line,) = ax.plot(epochs, median, label=f"{name}: median of {len(records)} seeds (final {median[-1]:.4f})")
        ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.2)
        published = records[0]["published"][name]
        curve = tuple(published.get("curve") or [published["val_accuracy"]])
        ax.plot(range(1, len(curve) + 1), curve, color=line.get_color(), linestyle="--", linewidth=1)
        lowest, longest = min(lowest, *low, *curve), max(longest, len(median), len(curve))
    seeds = ", ".join(str(r["settings"]["seed"]) for r in records)
    title = f"MNIST exercise across seeds {seeds}: lowest to highest seed (band), median (solid), published (dashed)"
    save_accuracy_plot(fig, ax, longest=longest, lowest=lowest, title=title, fontsize=9, path=path)


def epoch_ticks(last: int) -> list[int]:
    """Epoch ticks for a plot of epochs 1..last: always the first and the last epoch."""
    step = 1 if last <= 12 else 5
    return sorted({1, last, *range(step, last, step)})
