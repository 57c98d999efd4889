"""The compatibility table: what the suite did on each TensorFlow/Keras environment.

As a pytest plugin (``-p mnist_checks.compat_log``, which tox.ini adds) it writes, when
``MNIST_CHECKS_COMPAT_LOG`` names a file, the session's versions and outcome next to that file
(``NAME.fast.json``, ``NAME.slow.json``); a slow session adds each model's final val_accuracy
against its window and the McNemar tests of Q4's and Q5's improvements (the fidelity table).
``python -m mnist_checks.compat_log DIR OUT.md`` turns a directory of them into the Markdown
tables in docs/compatibility.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import pytest

ENV = "MNIST_CHECKS_COMPAT_LOG"
_STARTED = time.monotonic()
#: A pytest session's runs of the exercise (the records of ``run.run_exercise``, one per seed):
#: the suite's plugin appends each (``exercise_run``) and says their trainings at the end; this
#: plugin takes the first one's figures. Here, in the core, so that the core imports no grading.
RUN_RECORDS = pytest.StashKey[list]()


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get(ENV)
    if not target:
        return
    from . import compat

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    counts = {kind: len(reporter.stats.get(kind, [])) if reporter else 0
              for kind in ("passed", "failed", "error", "skipped")}
    tier = session.config.getoption("markexpr") or "all"
    entry = {
        "env": Path(target).stem,
        "tier": tier,
        "python": platform.python_version(),
        "tensorflow": compat.TENSORFLOW_VERSION,
        "keras": compat.KERAS_VERSION,
        "backend": compat.BACKEND,
        "exit": int(exitstatus),
        "seconds": round(time.monotonic() - _STARTED, 1),
        **counts,
    }
    record = next(iter(session.config.stash.get(RUN_RECORDS, [])), None)  # the first seed's
    if record:
        from .records import models_of
        from .report import rows

        entry["median_epoch_seconds"] = {
            name: round(statistics.median(model.seconds), 2) for name, model in models_of(record).items()
        }
        entry["models"] = {row["model"]: {key: row[key] for key in ("val_accuracy", "published", "tolerance", "within")}
                           for row in rows(record)}
        entry["improvements"] = record.get("improvements", [])
    path = Path(target).with_suffix(f".{tier.replace(' ', '_')}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry, indent=2))


def table(entries: list[dict]) -> str:
    """Markdown: one row per environment, the fast result and, where run, the slow one."""
    by_env: dict[str, dict] = {}
    for entry in entries:
        by_env.setdefault(entry["env"], {})[entry["tier"]] = entry
    lines = [
        "| environment | TensorFlow | Keras | backend | fast | slow | median epoch s (MLP raw / CNN) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for env in sorted(by_env):
        tiers = by_env[env]
        first = next(iter(tiers.values()))
        slow = tiers.get("slow")
        epochs = slow.get("median_epoch_seconds", {}) if slow else {}
        lines.append(
            f"| {env} | {first['tensorflow'] or '-'} | {first['keras']} | {first['backend']} | "
            f"{_outcome(tiers.get('fast'))} | {_outcome(slow)} | "
            f"{' / '.join(str(epochs[k]) for k in ('mlp_raw', 'cnn') if k in epochs) or '-'} |"
        )
    return "\n".join(lines)


def fidelity(entries: list[dict]) -> str:
    """Markdown: per environment's slow session, each model's final val_accuracy against its window
    (published figure +- tolerance), then each improvement claim's McNemar test (Q4, Q5)."""
    slow = sorted((entry for entry in entries if entry["tier"] == "slow" and entry.get("models")),
                  key=lambda entry: entry["env"])
    if not slow:
        return ""
    lines = ["| environment | TensorFlow / Keras | model | final val_accuracy | window | inside |",
             "| --- | --- | --- | --- | --- | --- |"]
    for entry in slow:
        for name, model in entry["models"].items():
            low, high = model["published"] - model["tolerance"], model["published"] + model["tolerance"]
            inside = {True: "yes", False: "**no**", None: "not judged"}[model["within"]]
            lines.append(f"| {entry['env']} | {entry['tensorflow']} / {entry['keras']} | {name} | "
                         f"{model['val_accuracy']:.4f} | {low:.4f}-{high:.4f} | {inside} |")
    lines += ["", "| environment | improvement | digits only the better model got right | only the other | "
              "McNemar's exact p (one-sided) | accuracy difference (interval) |",
              "| --- | --- | --- | --- | --- | --- |"]
    for entry in slow:
        for found in entry.get("improvements", []):
            low, high = found["interval"]
            lines.append(f"| {entry['env']} | {found['better']} over {found['worse']} | {found['only_better_right']:,} "
                         f"| {found['only_worse_right']:,} | {found['p_value']:.2g} | "
                         f"{found['difference']:+.4f} ({low:+.4f} to {high:+.4f}) |")
    return "\n".join(lines)


def _outcome(entry: dict | None) -> str:
    if entry is None:
        return "not run"
    verdict = "pass" if entry["exit"] == 0 else "FAIL"
    return f"{verdict}: {entry['passed']} passed, {entry['failed'] + entry['error']} failed ({entry['seconds']:.0f} s)"


def main(argv: list[str] | None = None) -> None:
    source, out = (argv or sys.argv[1:])[:2]
    entries = [json.loads(p.read_text()) for p in sorted(Path(source).glob("*.json"))]
    if not entries:
        sys.exit(f"{source}: no compatibility logs; run `tox` first")
    header = (
        "# Compatibility across TensorFlow and Keras\n\n"
        f"Made by `tox -e compat-report` on {date.today().isoformat()}, on {platform.machine()} "
        f"({os.cpu_count()} cores), Python {entries[0]['python']}.\n\n"
    )
    claims = fidelity(entries)
    if claims:
        claims = ("\n\n## Fidelity: the slow tier's claims on each environment\n\n"
                  "Made by `tox -e ENV -- -m slow` on each environment, then "
                  "`python -m mnist_checks.compat_log .tox/compat docs/compatibility.md`.\n\n" + claims)
    Path(out).write_text(header + table(entries) + claims + "\n")
    print(Path(out).read_text())


if __name__ == "__main__":
    main()
