"""The compatibility table: what the suite did on each TensorFlow/Keras environment.

As a pytest plugin (``-p mnist_checks.compat_log``, which tox.ini adds) it writes, when
``MNIST_CHECKS_COMPAT_LOG`` names a file, the session's versions and outcome next to that file
(``NAME.fast.json``, ``NAME.slow.json``). ``python -m mnist_checks.compat_log DIR OUT.md`` turns
a directory of them into the Markdown table in docs/compatibility.md.
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

ENV = "MNIST_CHECKS_COMPAT_LOG"
_STARTED = time.monotonic()


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get(ENV)
    if not target:
        return
    from . import compat
    from .grading.pytest_plugin import RUN_RECORD

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
    record = session.config.stash.get(RUN_RECORD, None)
    if record:
        entry["median_epoch_seconds"] = {
            name: round(statistics.median(model["history"]["seconds"]), 2) for name, model in record["models"].items()
        }
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
    Path(out).write_text(header + table(entries) + "\n")
    print(Path(out).read_text())


if __name__ == "__main__":
    main()
