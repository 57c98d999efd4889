"""How long a course's slow-tier grading takes on N machines, from measured per-training times.

    python benchmarks/simulate_course.py                      # 300 forks, 1-16 machines
    python benchmarks/simulate_course.py --forks 300 --machines 16 --mlp 95 --cnn 420 --overhead 45
    python benchmarks/simulate_course.py --measured-batch --machines 1   # against the measured 20-fork batch

A discrete-event simulation of ``mnist-checks grade --tier slow`` with shared trainings
(``mnist_checks.trainings``): each machine checks ``--slots`` forks at a time; a fork first spends
``--overhead`` seconds (its checker, its student server, the data, the claims), then needs its
four trainings in order (raw MLP, scaled MLP, warm-started MLP, CNN). A training already done is
reused at no cost; one being trained by another machine is waited for (its lock); any other is
trained, taking ``--mlp`` or ``--cnn`` seconds. Without sharing ("before") every fork trains all
four. The defaults are the times measured on the 2-core machine with two forks at a time
(docs/grading-at-scale.md).

The course: ``--equivalent`` of the forks train exactly the reference's models; ``--shared`` of
them make one of ``--common-mistakes`` mistakes that change the Q4 inputs (scaled MLP, warm MLP
and CNN retrain; the raw MLP is shared); the rest make a mistake of their own that changes one
model (raw MLP with the warm start, or the CNN). Forks arrive in a seeded random order.
"""

from __future__ import annotations

import argparse
import heapq
import random

MODELS = ("mlp_raw", "mlp_scaled", "mlp_scaled_warm", "cnn")


def course(forks: int, equivalent: float, shared: float, common: int, seed: int = 0) -> list[list[str]]:
    """Each fork's four training keys, in grading order."""
    rng = random.Random(seed)
    reference = [f"{model}:reference" for model in MODELS]
    out = []
    for index in range(forks):
        draw = rng.random()
        if draw < equivalent:
            keys = list(reference)
        elif draw < equivalent + shared:
            mistake = f"common-{rng.randrange(common)}"
            keys = [reference[0]] + [f"{model}:{mistake}" for model in MODELS[1:]]
        elif rng.random() < 0.5:  # a Q2 mistake: its raw MLP, hence its warm start, differ
            keys = [f"mlp_raw:own-{index}", reference[1], f"mlp_scaled_warm:own-{index}", reference[3]]
        else:  # a Q5 mistake: its CNN differs
            keys = reference[:3] + [f"cnn:own-{index}"]
        out.append(keys)
    return out


def measured_batch() -> list[list[str]]:
    """The keys of ``benchmarks/grading_batch.py``'s 20 forks, in the order the grader takes them
    (by name): 14 equivalent, 3 sharing Q4's divide-by-256 (scaled and warm MLP), 3 distinct."""
    reference = {model: f"{model}:reference" for model in MODELS}
    forks = {name: dict(reference) for name in [f"equivalent-{i}" for i in range(12)] + ["reference-1", "reference-2"]}
    for base in ("model-add", "named-layers", "reference"):
        forks[f"shared-{base}"] = {**reference, "mlp_scaled": "mlp_scaled:q4", "mlp_scaled_warm": "mlp_scaled_warm:q4"}
    forks["distinct-q2-64-units"] = {**reference, "mlp_raw": "mlp_raw:q2", "mlp_scaled_warm": "mlp_scaled_warm:q2"}
    forks["distinct-q5-average-pooling"] = {**reference, "cnn": "cnn:average"}
    forks["distinct-q5-sigmoid-convolution"] = {**reference, "cnn": "cnn:sigmoid"}
    return [[keys[model] for model in MODELS] for _, keys in sorted(forks.items())]


def makespan(keys_per_fork: list[list[str]], machines: int, seconds: dict, overhead: float, share: bool) -> float:
    """Seconds until the last fork is graded; each machine takes the next fork when it is free.

    Events run in time order, so whichever machine reaches a key first trains it: one that
    reaches it later waits for that training to finish (its lock), then reuses it."""
    queue = list(keys_per_fork)[::-1]
    finished: dict[str, float] = {}  # key -> when its training finishes (or finished)
    events = [(0.0, machine, None, 0) for machine in range(machines)]  # (time, machine, fork, next key)
    heapq.heapify(events)
    last = 0.0
    while events:
        now, machine, fork, step = heapq.heappop(events)
        last = max(last, now)
        if fork is None or step == len(fork):
            if queue:
                heapq.heappush(events, (now + overhead, machine, queue.pop(), 0))
            continue
        key = fork[step]
        if share and key in finished:
            heapq.heappush(events, (max(now, finished[key]), machine, fork, step + 1))  # reused, maybe after a wait
        else:
            done = now + seconds[key.split(":")[0]]
            if share:
                finished[key] = done
            heapq.heappush(events, (done, machine, fork, step + 1))
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forks", type=int, default=300)
    parser.add_argument("--machines", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--mlp", type=float, default=95.0, help="seconds per MLP training (20 epochs)")
    parser.add_argument("--cnn", type=float, default=420.0, help="seconds per CNN training (10 epochs)")
    parser.add_argument("--overhead", type=float, default=45.0, help="seconds per fork besides training")
    parser.add_argument("--equivalent", type=float, default=0.7)
    parser.add_argument("--shared", type=float, default=0.15)
    parser.add_argument("--common-mistakes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slots", type=int, default=2, help="forks checked at once per machine (--jobs)")
    parser.add_argument("--measured-batch", action="store_true",
                        help="simulate benchmarks/grading_batch.py's 20 forks instead of a course")
    args = parser.parse_args()
    seconds = {"mlp_raw": args.mlp, "mlp_scaled": args.mlp, "mlp_scaled_warm": args.mlp, "cnn": args.cnn}
    if args.measured_batch:
        forks = measured_batch()
    else:
        forks = course(args.forks, args.equivalent, args.shared, args.common_mistakes, args.seed)
    distinct = len({key for keys in forks for key in keys})
    print(f"{len(forks)} forks, {distinct} distinct trainings of {4 * len(forks)}; per training {args.mlp:g} s "
          f"(MLP), {args.cnn:g} s (CNN); {args.overhead:g} s per fork besides; {args.slots} forks at once per "
          "machine\n")
    print("| machines | before: one training per fork | after: one per distinct key | speed-up |")
    print("| --- | --- | --- | --- |")
    for machines in args.machines:
        before = makespan(forks, machines * args.slots, seconds, args.overhead, share=False)
        after = makespan(forks, machines * args.slots, seconds, args.overhead, share=True)
        print(f"| {machines} | {before / 60:.0f} min | {after / 60:.0f} min | {before / after:.1f}x |")


if __name__ == "__main__":
    main()
