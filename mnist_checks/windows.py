"""Windows derived, not typed (issue 20; Q2, Q4, Q5): each final-accuracy window in
``facts.PUBLISHED`` checked against the seed spread ``mnist-checks spread`` measured
(docs/spread.md).  Safe: it holds the spread's mean plus and minus ``facts.WINDOW_SAFE_SDS`` sd
and every run measured, so an honest run does not fail it (not flaky).  Telling: it leaves out the
mean of each model ``facts.KNOWN_WRONG`` names, so that mistake does not pass it (not vacuous)."""

from __future__ import annotations

from . import facts
from .facts import Published


def band(spread: dict, sds: float = facts.WINDOW_SAFE_SDS) -> tuple[float, float]:
    """Where honest runs land, from a ``report.read_spread`` row: the mean plus and minus ``sds``
    sd, widened to hold every run measured."""
    return (min(spread["mean"] - sds * spread["sd"], spread["min"]),
            max(spread["mean"] + sds * spread["sd"], spread["max"]))


def unsafe(name: str, window: Published, spread: dict, sds: float = facts.WINDOW_SAFE_SDS) -> str | None:
    """Why ``window`` would fail honest runs of ``name`` given its measured ``spread`` (a row of
    ``report.read_spread``), or ``None`` when it is safe."""
    low, high = band(spread, sds)
    if window.admits(low) and window.admits(high):
        return None
    return (f"{name}'s window {window.val_accuracy:.3f} +- {window.tolerance:g} "
            f"({window.val_accuracy - window.tolerance:.4f}-{window.val_accuracy + window.tolerance:.4f}) "
            f"does not hold {low:.4f}-{high:.4f}, the measured mean {spread['mean']:.4f} +- {sds:g} sd "
            f"({spread['sd']:.4f}) and every run ({spread['min']:.4f}-{spread['max']:.4f}): honest runs would "
            "fail it; widen the tolerance in facts.PUBLISHED, or measure more seeds")


def vacuous(name: str, window: Published, wrong: str, spread: dict, why: str) -> str | None:
    """Why ``window`` would pass the known-wrong model ``wrong`` (its ``spread`` row), or ``None``."""
    if not window.admits(spread["mean"]):
        return None
    return (f"{name}'s window {window.val_accuracy:.3f} +- {window.tolerance:g} admits {wrong}'s mean "
            f"{spread['mean']:.4f}, yet {why}: narrow the tolerance in facts.PUBLISHED")


def problems(spreads: dict[str, dict], published: dict[str, Published] = facts.PUBLISHED,
             known_wrong: dict[str, dict[str, str]] = facts.KNOWN_WRONG) -> list[str]:
    """Every window of ``published`` that is unsafe or vacuous against ``spreads``; a model the
    spread did not measure is a problem too (the window is then typed, not derived)."""
    found = []
    for name, window in published.items():
        if name not in spreads:
            found.append(f"{name}: the spread has no row for it; measure it with `mnist-checks run --seeds ...`")
            continue
        found.append(unsafe(name, window, spreads[name]))
        for wrong, why in known_wrong.get(name, {}).items():
            found.append(vacuous(name, window, wrong, spreads[wrong], why) if wrong in spreads
                         else f"{name}: the spread has no row for the known-wrong {wrong}")
    return [problem for problem in found if problem]


def margins(spreads: dict[str, dict], published: dict[str, Published] = facts.PUBLISHED,
            known_wrong: dict[str, dict[str, str]] = facts.KNOWN_WRONG, sds: float = facts.WINDOW_SAFE_SDS) -> str:
    """A Markdown table of each window's room: the band of honest runs (mean +- ``sds`` sd, every
    run included), the window, the room left below and above, and the known-wrong means it leaves
    out (docs/spread.md; ``mnist-checks spread --out`` rewrites it)."""
    lines = [f"| model | band (mean +- {sds:g} sd, runs included) | window | room below | room above "
             "| known-wrong mean, outside |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, window in published.items():
        if name not in spreads:
            continue
        low, high = band(spreads[name], sds)
        bottom, top = window.val_accuracy - window.tolerance, window.val_accuracy + window.tolerance
        wrong = ", ".join(f"{other} {spreads[other]['mean']:.4f}" for other in known_wrong.get(name, {})
                          if other in spreads and not window.admits(spreads[other]["mean"]))
        lines.append(f"| {name} | {low:.4f}-{high:.4f} | {bottom:.3f}-{top:.3f} | {low - bottom:.4f} "
                     f"| {top - high:.4f} | {wrong or '-'} |")
    return "\n".join(lines) + "\n"
