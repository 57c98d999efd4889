"""The grader's teardown, soaked: the forks that leave processes behind, graded round after round
with both cores kept busy, counting what outlives each grading (issue 29).

    python benchmarks/teardown_soak.py DIR --rounds 10

Each round grades, in one `mnist-checks grade --jobs 2` call, the course's `outlives-grading`
(daemons in sessions of their own, forked at import and at every call of split) and
`disturbs-others` (kills what it can) beside the reference, while two busy loops hold both
cores; after the call returns it counts the attack's processes still alive (tests/course.py's
``attack_processes``) and the rows not graded cleanly. It prints one line a round and exits 1 if
any round left a survivor or a row not as expected.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from course import ATTACKS, MARKER, NOTHING_ELSE, PRELUDE, SOURCE, attack_processes, write_fork  # noqa: E402

from mnist_checks import cli  # noqa: E402

SOAKED = ("outlives-grading", "disturbs-others")


def busy(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def one_round(root: Path) -> tuple[list[str], dict]:
    out = root / "grades"
    forks = [write_fork(root, "reference", SOURCE)]
    for name in SOAKED:
        text = PRELUDE + ATTACKS[name] + NOTHING_ELSE.replace("{", "{{").replace("}", "}}")
        forks.append(write_fork(root, name, text.format(reference=str(root), out=str(out),
                                                        classmate=str(root / "reference" / "mnist_checks"
                                                                      / "exercise.py"),
                                                        port=1, marker=MARKER, store=str(root / "store"))))
    status = cli.main(["grade", *map(str, forks), "--out", str(out), "--jobs", "2", "--call-timeout", "60"])
    survivors = attack_processes()
    with open(out / "gradebook.csv") as handle:
        book = {row["fork"]: (row["status"], row["total"]) for row in csv.DictReader(handle)}
    book["exit"] = status
    return survivors, book


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    failed = False
    for round_ in range(1, args.rounds + 1):
        loads = [multiprocessing.Process(target=busy, args=(3600,), daemon=True) for _ in range(2)]
        for load in loads:
            load.start()
        started = time.monotonic()
        try:
            survivors, book = one_round(args.directory / f"round{round_}")
        finally:
            for load in loads:
                load.terminate()
        expected = {"reference": ("graded", "60.0"), **{name: ("graded", "0.0") for name in SOAKED}, "exit": 0}
        wrong = {name: found for name, found in book.items() if expected.get(name) != found}
        failed |= bool(survivors or wrong)
        print(f"round {round_}: {len(survivors)} survivors, {time.monotonic() - started:.0f} s"
              + (f", rows not as expected: {wrong}" if wrong else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
