"""One fork's result (``ForkResult``, its ``ForkStatus``) and its outputs: Gradescope's
results.json, JUnit XML and the checker's output, each written whole or not at all."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from ...files import write_atomically
from ...questions import QUESTIONS, label
from ..students.rubric import TIERS, not_started, not_started_note, shown, totals

#: Each fork's output files, in its own folder of the grading's output.
RESULTS, JUNIT, OUTPUT = "results.json", "junit.xml", "output.txt"


class ForkStatus(str, enum.Enum):
    """How a fork's grading ended; a string (its value) in results.json and the gradebook."""

    GRADED = "graded"  # the canonical tests ran to their end
    CACHED = "cached"  # graded before with the same contract, tests and rubric: that result again
    FAILED_TO_LOAD = "failed to load"  # every test failed the same way before it ran: the contract does not load
    TIMEOUT = "timeout"  # stopped at the wall-clock limit per fork
    CRASHED = "crashed"  # the checker died (a signal, or the grading's memory limit)
    TAMPERED = "tampered"  # the canonical tests changed while it was graded (a grader bug: scored 0)
    UNENDED = "not ended"  # a process of its grading outlived every kill: nothing of it is trusted (scored 0)
    ERROR = "error"  # no contract to grade, or pytest itself failed
    NOT_GRADED = "not graded"  # not reached: interrupted, or the cluster failed

    def __str__(self) -> str:
        return self.value

    @property
    def meaning(self) -> str:
        """What the status says, in a sentence for the people who read the grades."""
        return STATUS_MEANINGS[self]


#: Each status in a sentence: the feedback pages, the class report and docs/grading.md say these.
STATUS_MEANINGS = {
    ForkStatus.GRADED: "the canonical tests ran to their end; the points are theirs",
    ForkStatus.CACHED: "graded before with the same contract file, tests and rubric: that grading again, which "
                       "the exit status and the class report take as it ended",
    ForkStatus.FAILED_TO_LOAD: "every test failed the same way before it ran: the contract file does not load "
                               "(a syntax error, a missing import, an exception at import)",
    ForkStatus.TIMEOUT: "stopped at the wall-clock limit per fork (--fork-timeout); tests finished before it count",
    ForkStatus.CRASHED: "the checker died (a signal, or the grading's memory limit); tests finished before it count",
    ForkStatus.TAMPERED: "the canonical tests changed while the fork was graded, a grader bug: scored 0",
    ForkStatus.UNENDED: "a process of the grading outlived every kill: nothing of it is trusted, scored 0",
    ForkStatus.ERROR: "no contract to grade (missing, unreadable, too large, a link), or pytest itself failed",
    ForkStatus.NOT_GRADED: "not reached: the call was interrupted or the cluster failed; an earlier grade is kept",
}

#: The longest message line kept in ``lost_points``'s summary of a claim.
LOST_MESSAGE_CHARS = 90


@dataclass
class ForkResult:
    """One fork's grading: its scored tests, status and why, and what it was graded with."""

    fork: str
    path: str
    status: ForkStatus
    reason: str = ""
    commit: str = ""
    tests: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    key: str = ""
    isolation: str = ""
    trainings: dict = field(default_factory=dict)  # model -> its training's key, and whether it was reused
    worker: str = ""  # the Dask worker that checked it, on a cluster
    memory: str = ""  # the grading's memory limit, how it was held, and its peak
    graded_as: str = ""  # a cached result's: the status of the grading it repeats
    left_out: list = field(default_factory=list)  # a notebook's: what of it was not graded, and why
    # graded by a due date (``grade --due``): the commit's time, how late, the late policy's penalty in percent
    handed_in: dict = field(default_factory=dict)
    student: dict = field(default_factory=dict)  # from the roster (``grade --roster``): identifier, name

    @property
    def totals(self) -> dict:
        """``rubric.totals`` of its tests; the total lowered by a late penalty (``handed_in``), if any."""
        sums = totals(self.tests)
        penalty = self.handed_in.get("penalty") or 0
        if penalty and "total" in sums:
            score, maximum = sums["total"]
            sums["total"] = (score * (100 - penalty) / 100, maximum)
        return sums

    @property
    def ended(self) -> str:
        """How its grading ended: its status, or a cached result's ``graded_as`` (a contract that
        failed to load is cached as it was, and still needs a look)."""
        return self.graded_as if self.status == ForkStatus.CACHED and self.graded_as else str(self.status)

    def lost(self) -> list[dict]:
        """Each test that lost points (failed, errored, not run), in order, with the points lost."""
        return [{**test, "lost": test["max_score"] - test["score"]} for test in self.tests
                if test["score"] < test["max_score"]]


def lost_points(result: ForkResult) -> str:
    """Where ``result`` lost points, question by question: ``Q2 -1.5: the hidden layer is relu
    (expected: relu / found: sigmoid)``; each question's first failed claim and its message's
    first line, with how many more failed."""
    by_question: dict[str, list[dict]] = {}
    for test in result.lost():
        by_question.setdefault(test["question"], []).append(test)
    parts = []
    for question, lost in by_question.items():
        unwritten = not_started(lost)
        if unwritten is not None:  # every lost point raised NotImplementedError: say which function
            parts.append(f"{label(question)} -{shown(sum(t['lost'] for t in lost)):g}: "
                         + not_started_note(unwritten).replace("not started: ", "not implemented: "))
            continue
        first = lost[0]
        line = next((x.strip() for x in first.get("message", "").splitlines() if x.strip()), "")
        line = line if len(line) <= LOST_MESSAGE_CHARS else line[: LOST_MESSAGE_CHARS - 3] + "..."
        more = f" (+{len(lost) - 1} more)" if len(lost) > 1 else ""
        parts.append(f"{label(question)} -{shown(sum(t['lost'] for t in lost)):g}: {first['claim'].rstrip('.')}"
                     + (f" ({line})" if line else "") + more)
    return "; ".join(parts)


def results_json(result: ForkResult) -> dict:
    """Gradescope's results.json for one fork, with the grader's details under ``extra_data``."""
    sums = result.totals
    score, maximum = sums.get("total", (0.0, 0.0))
    counters: dict[str, int] = {}
    tests = []
    for test in result.tests:
        number = counters[test["question"]] = counters.get(test["question"], 0) + 1
        output = f"claim: {test['claim']}\n{test.get('message', '')}" if test["outcome"] != "passed" else ""
        tests.append({
            "name": f"{label(test['question'])} ({test['tier']}): {test['claim']}",
            "number": f"{test['question'][1:]}.{number}",
            "score": shown(test["score"]),
            "max_score": shown(test["max_score"]),
            "status": "passed" if test["outcome"] == "passed" else "failed",
            "output": output,
            "visibility": "visible",
        })
    lines = [f"{result.fork}: {shown(score)} / {shown(maximum)} ({result.status})"]
    if result.reason:
        lines.append(result.reason)
    lines += [f"warning: {w}" for w in result.warnings]
    return {
        "score": shown(score),
        "max_score": shown(maximum),
        "execution_time": result.seconds,
        "output": "\n".join(lines),
        "tests": tests,
        "extra_data": {
            "fork": result.fork, "path": result.path, "commit": result.commit, "status": result.status,
            "graded_as": result.ended,
            "reason": result.reason, "warnings": result.warnings, "key": result.key, "isolation": result.isolation,
            "memory": result.memory, "trainings": result.trainings, "worker": result.worker,
            "left_out": result.left_out, "handed_in": result.handed_in, "student": result.student,
            "by_question": {q: [shown(points) for points in sums.get(q, (0.0, 0.0))] for q in QUESTIONS},
            "by_tier": {t: [shown(points) for points in sums[t]] for t in TIERS if t in sums},
            "raw_tests": result.tests,
        },
    }


def junit_xml(result: ForkResult) -> bytes:
    """JUnit XML of one fork's graded tests, one testcase per test."""
    suite = ElementTree.Element("testsuite", name=f"mnist-checks {result.fork}", tests=str(len(result.tests)),
                                failures=str(sum(t["outcome"] != "passed" for t in result.tests)),
                                time=str(result.seconds))
    for test in result.tests:
        case = ElementTree.SubElement(suite, "testcase", classname=test["question"], name=test["id"],
                                      time=str(test.get("seconds", 0.0)))
        if test["outcome"] != "passed":
            failure = ElementTree.SubElement(case, "failure", message=test.get("message", "")[:200])
            failure.text = test.get("message", "")
    return ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)


def write_fork_outputs(result: ForkResult, out: Path, output: str) -> None:
    """A fork's output.txt, junit.xml and results.json, each written whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / OUTPUT, output.encode())
    write_atomically(out / JUNIT, junit_xml(result))
    write_atomically(out / RESULTS, json.dumps(results_json(result), indent=2).encode())


def read_results(path: Path, name: str) -> ForkResult:
    """A fork's earlier result, from its results.json, as ``cached``."""
    data = json.loads(path.read_text())
    extra = data["extra_data"]
    return ForkResult(fork=name, path=extra["path"], status=ForkStatus.CACHED, reason=extra["reason"],
                      commit=extra["commit"], tests=extra["raw_tests"], warnings=extra["warnings"],
                      seconds=data["execution_time"],
                      key=extra["key"], isolation=extra.get("isolation", ""), trainings=extra.get("trainings", {}),
                      worker=extra.get("worker", ""), memory=extra.get("memory", ""),
                      left_out=extra.get("left_out", []), handed_in=extra.get("handed_in", {}),
                      student=extra.get("student", {}),
                      graded_as=extra.get("graded_as") or (extra["status"] if extra["status"] != "cached" else ""))
