"""Every wall time a user waits for, side by side in one run on a quiet machine: the exercise's
own script, ``mnist-checks run``, the slow tier cold and warm, the fast tier here and in the
starter; and each model's milliseconds per step in ``run`` against its kernel floor, measured in
the same run. Writes the tables into docs/benchmarks.md (between its side-by-side markers).

    MNIST_CHECKS_DATA=../shared/data python benchmarks/side_by_side.py            # about 15 minutes
    MNIST_CHECKS_DATA=../shared/data python benchmarks/side_by_side.py --no-write # print only
    MNIST_CHECKS_DATA=../shared/data python benchmarks/side_by_side.py --rounds 3 # medians of 3 rounds

The data directory must hold digits.csv.zip (the script reads it, as the exercise does) and
mnist.npz. Each command runs in its own process, one after the other, so that each pays its own
imports and reads, as a user's does; the slow tier's first run starts from an empty training store.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from mnist_checks.records import models_of

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- side-by-side: begin -->", "<!-- side-by-side: end -->"
#: Wall-time targets as a ratio to the exercise's script, measured in the same run.
RATIO_TARGETS = {"run": 0.5, "slow, cold": 0.6, "slow, warm": 0.05}
#: Wall-time targets in seconds on the 2-core machine.
SECONDS_TARGETS = {"fast": 30, "fast, two workers": 30, "fast, starter": 8}
#: The record's model names, and which kernel floor each one's steps are held against.
MODELS = {"mlp_raw": "mlp", "mlp_scaled": "mlp", "cnn": "cnn"}
#: The floors, in one fresh process: TensorFlow's and Keras's import, each data file's read, and
#: one training step of each model in TensorFlow's kernels alone.
FLOOR = """
import time
start = time.perf_counter()
import tensorflow, keras
imported = time.perf_counter() - start
import json, sys
from pathlib import Path
from mnist_checks import exercise
from mnist_checks.data import read_digits
from mnist_checks.speed import kernel_ms_per_step
reads = {}
for name in ("mnist.npz", "digits.csv.zip"):
    start = time.perf_counter()
    read_digits(Path(sys.argv[1]) / name)
    reads[name] = time.perf_counter() - start
print(json.dumps({"import": imported, "read": reads, "mlp": kernel_ms_per_step(exercise.build_mlp(), steps=1875),
                  "cnn": kernel_ms_per_step(exercise.build_cnn(), steps=300)}))
"""
#: The models each command trains (the slow tier's fourth is Q4's warm-started MLP) and the data
#: files it reads; the floor of a command is TensorFlow's import, those reads and those models'
#: training steps in the kernels alone (no validation pass, no Keras loop).
WORK = {
    "run": (("mlp", 20), ("mlp", 20), ("cnn", 10)), "slow, cold": (("mlp", 20), ("mlp", 20), ("mlp", 20), ("cnn", 10)),
}
READS = {"run": ("mnist.npz",), "slow, cold": ("mnist.npz", "digits.csv.zip"),
         "slow, warm": ("mnist.npz", "digits.csv.zip")}
STEPS_PER_EPOCH = 1875
SLOW = ["-m", "pytest", "-m", "slow", "-p", "no:cacheprovider", "-q", "tests/test_claims.py", "tests/test_full_data.py"]


#: Each command's share of the machine's CPU time that the hypervisor gave to other guests
#: (``/proc/stat``'s steal): on a shared machine the same command takes longer when it is high.
STEAL: dict[str, float] = {}


def cpu_times() -> list[int]:
    """The machine's CPU time so far, in ticks, by kind (``/proc/stat``'s first line)."""
    try:
        return [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return []


def timed(name: str, command: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, str]:
    """Wall seconds of ``command`` and its output; stops the benchmark if it fails."""
    print(f"[{name}] {' '.join(command)}", flush=True)
    before, start = cpu_times(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, after = time.perf_counter() - start, cpu_times()
    if done.returncode != 0:
        sys.exit(f"side_by_side: {name} failed (exit {done.returncode}):\n{done.stdout[-3000:]}")
    if len(before) > 7 and len(after) > 7 and sum(after) > sum(before):
        STEAL[name] = (after[7] - before[7]) / (sum(after) - sum(before))
    print(f"[{name}] {seconds:.1f} s", flush=True)
    return seconds, done.stdout


def measure(data: Path, scratch: Path) -> dict:
    """Run every command once, in order; their wall times, the run's record and the kernel floors."""
    STEAL.clear()
    scratch.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    env = {**os.environ, "MNIST_CHECKS_DATA": str(data), "MNIST_CHECKS_TRAININGS": str(scratch / "store"),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("MNIST_CHECKS_RETRAIN", None)
    walls = {"script": None}  # first in the table, timed last: a failure of ours shows before its 10 minutes
    walls["run"], _ = timed("run", [python, "-m", "mnist_checks.cli", "run", "--quiet", "--data", str(data),
                                    "--out", str(scratch / "run")], env)
    walls["slow, cold"], slow = timed("slow, cold", [python, *SLOW], env)
    trained = next((line for line in slow.splitlines() if line.startswith("trained, validation included")), "")
    walls["slow, warm"], _ = timed("slow, warm", [python, *SLOW], env)
    fast = [python, "-m", "pytest", "-m", "fast", "-p", "no:cacheprovider", "-q"]
    walls["fast"], _ = timed("fast", fast, env)
    walls["fast, two workers"], _ = timed("fast, two workers", [*fast, "-n", "2"], env)
    starter = scratch / "starter"
    timed("starter", [python, "-m", "mnist_checks.cli", "starter", str(starter)], env)
    (starter / "mnist_checks" / "exercise.py").write_text((ROOT / "mnist_checks" / "exercise.py").read_text())
    walls["fast, starter"], _ = timed("fast, starter", [python, "-m", "pytest", "-m", "fast", "-p", "no:cacheprovider",
                                                        "-q"], {**env, "PYTHONPATH": str(starter)}, cwd=starter)
    walls["script"], _ = timed("script", [python, "benchmarks/exercise_script.py", str(data / "digits.csv.zip")], env)
    _, floors = timed("floors", [python, "-c", FLOOR, str(data)], env)
    record = json.loads((scratch / "run" / "latest" / "record.json").read_text())
    return {"walls": walls, "floors": json.loads(floors.strip().splitlines()[-1]), "record": record,
            "slow_trained": trained, "steal": dict(STEAL)}


def medians(rounds: list[dict]) -> dict:
    """Rounds of ``measure`` as one: each wall time, floor and steal the median over the rounds
    (with each wall time's range), each ratio the median of the rounds' own ratios; the run's record
    and the slow tier's report from the round whose ``run`` took the median time."""
    median_of = statistics.median
    walls = {name: median_of([r["walls"][name] for r in rounds]) for name in rounds[0]["walls"]}
    middle = sorted(rounds, key=lambda r: r["walls"]["run"])[(len(rounds) - 1) // 2]
    floors = {kind: median_of([r["floors"][kind] for r in rounds]) for kind in ("import", "mlp", "cnn")}
    files = rounds[0]["floors"]["read"]
    floors["read"] = {file: median_of([r["floors"]["read"][file] for r in rounds]) for file in files}
    steal = {name: median_of([r["steal"][name] for r in rounds]) for name in rounds[0]["steal"]
             if all(name in r["steal"] for r in rounds)}
    ratios = {name: median_of([r["walls"][name] / r["walls"]["script"] for r in rounds]) for name in walls}
    ranges = {name: (min(r["walls"][name] for r in rounds), max(r["walls"][name] for r in rounds)) for name in walls}
    return {"walls": walls, "floors": floors, "record": middle["record"], "slow_trained": middle["slow_trained"],
            "steal": steal, "ratios": ratios, "ranges": ranges if len(rounds) > 1 else {}, "rounds": len(rounds)}


def floor_seconds(name: str, floors: dict) -> float | None:
    """The least ``name`` can take on this machine (``WORK``, ``READS``): every command that runs a
    test or trains a model imports TensorFlow first."""
    if name == "script":
        return None
    training = sum(epochs * STEPS_PER_EPOCH * floors[kind] / 1000 for kind, epochs in WORK.get(name, ()))
    return floors["import"] + sum(floors["read"][file] for file in READS.get(name, ())) + training


def tables(measured: dict) -> str:
    """The two markdown tables and the line that says where and with what they were measured."""
    walls, floors, record = measured["walls"], measured["floors"], measured["record"]
    environment = record["environment"]
    script = walls["script"]
    commands = {
        "script": "`python benchmarks/exercise_script.py DATA/digits.csv.zip` (the exercise's code cells, 3 models)",
        "run": "`mnist-checks run --quiet` (3 models)",
        "slow, cold": "`pytest -m slow tests/test_claims.py tests/test_full_data.py`, empty training store (4 models)",
        "slow, warm": "the same again: every training reused",
        "fast": "`pytest -m fast` (this repository)",
        "fast, two workers": "`pytest -m fast -n 2` (this repository, two pytest-xdist workers)",
        "fast, starter": "`pytest -m fast` in the starter, with the reference's solutions",
    }
    lines = [
        f"Measured {date.today().isoformat()} with `python benchmarks/side_by_side.py` on {environment.get('cpu')}, "
        f"{os.cpu_count()} CPUs, TensorFlow {environment.get('tensorflow')}, Keras {environment.get('keras')}; "
        "one command after another, nothing else running"
        + (f"; each figure the median of {measured['rounds']} rounds (range in brackets)." if measured.get("ranges")
           else "."),
        "",
        "| what | wall time (s) | ratio to the script | target | met | floor (s) | floor's ratio to the script "
        "| steal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, seconds in walls.items():
        ratio = measured.get("ratios", {}).get(name, seconds / script)  # each round's own ratio, their median
        if name in RATIO_TARGETS:
            target, met = f"<= {RATIO_TARGETS[name]}x", ratio <= RATIO_TARGETS[name]
        elif name in SECONDS_TARGETS:
            target, met = f"<= {SECONDS_TARGETS[name]} s", seconds <= SECONDS_TARGETS[name]
        else:
            target, met = "", None
        shown = "" if met is None else ("yes" if met else "**no**")
        floor = floor_seconds(name, floors)
        floor_shown = " | " if floor is None else f"{floor:.1f} | {floor / script:.3f}x"
        steal = measured.get("steal", {}).get(name)
        stolen = "" if steal is None else f"{steal:.0%}"
        spread = measured.get("ranges", {}).get(name)
        wall = f"{seconds:.1f}" + (f" ({spread[0]:.1f}-{spread[1]:.1f})" if spread else "")
        lines.append(f"| {commands[name]} | {wall} | {ratio:.3f}x | {target} | {shown} | {floor_shown} "
                     f"| {stolen} |")
    lines += ["", "Steal is the share of the machine's CPU time that the hypervisor gave to other guests while "
              "the command ran (`/proc/stat`): on this shared machine a command takes longer when it is high, "
              "so compare rows with similar steal, and ratios over seconds."]
    reads = ", ".join(f"{file} {seconds:.1f} s" for file, seconds in floors["read"].items())
    lines += ["", f"Floors, measured in the same run in one fresh process: `import tensorflow, keras` "
              f"{floors['import']:.1f} s; reading {reads}; one training step in TensorFlow's kernels alone: "
              f"MLP {floors['mlp']:.2f} ms, CNN {floors['cnn']:.2f} ms ({STEPS_PER_EPOCH:,} steps an epoch). "
              "A command's floor is the import, the data files it reads and its models' training steps at that "
              "speed (no validation pass, no Keras loop, nothing else): no change of ours can make it faster than that "
              "without changing what is computed."]
    if measured.get("slow_trained"):
        lines += ["", f"The cold slow tier's trainings, as it reported them: {measured['slow_trained']}."]
    lines += [
        "",
        "Each model's epochs in that `mnist-checks run`, against its kernel floor (forward, backward and",
        "adam's update in one compiled TensorFlow loop, no Keras loop, no input pipeline:",
        "`mnist_checks.speed.kernel_ms_per_step`), measured in the same benchmark run. An epoch here is 1,875",
        "training steps plus the validation pass over 10,000 digits.",
        "",
        "| model | epochs | median epoch (s) | slowest epoch (s) | ms per training step, validation included "
        "| kernel floor (ms/step) | ratio to the floor |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    models = models_of(record)
    for name, kind in MODELS.items():
        seconds = models[name].seconds
        steps = 1875
        per_step = 1000 * statistics.median(seconds) / steps
        lines.append(f"| {name} | {len(seconds)} | {statistics.median(seconds):.2f} | {max(seconds):.2f} "
                     f"| {per_step:.2f} | {floors[kind]:.2f} | {per_step / floors[kind]:.2f}x |")
    return "\n".join(lines) + "\n"


def write(doc: Path, text: str) -> None:
    """Replace what stands between the markers in ``doc`` with ``text``."""
    content = doc.read_text()
    if BEGIN not in content or END not in content:
        sys.exit(f"side_by_side: {doc} has no {BEGIN} ... {END} markers to write between")
    head, rest = content.split(BEGIN, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}{END}{rest.split(END, 1)[1]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=os.environ.get("MNIST_CHECKS_DATA"),
                        help="directory holding digits.csv.zip and mnist.npz (default: $MNIST_CHECKS_DATA)")
    parser.add_argument("--no-write", action="store_true", help=f"print the tables; leave {DOC.name} alone")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every command this many times, in turn, and report medians (default: 1)")
    args = parser.parse_args(argv)
    if args.data is None or not (Path(args.data) / "digits.csv.zip").is_file():
        parser.error("--data (or MNIST_CHECKS_DATA) must be a directory holding digits.csv.zip and mnist.npz")
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    with tempfile.TemporaryDirectory(prefix="mnist-checks-side-by-side-") as scratch:
        measured = medians([measure(Path(args.data).resolve(), Path(scratch) / f"round-{number}")
                            for number in range(1, args.rounds + 1)])
    text = tables(measured)
    print(text)
    print(json.dumps({"walls": measured["walls"], "floors": measured["floors"]}))
    if not args.no_write:
        write(DOC, text)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
