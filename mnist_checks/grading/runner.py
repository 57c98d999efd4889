"""Grade forks: the canonical tests against each fork's contract, in its own sandbox and process.

Each fork gets a temporary directory holding a fresh copy of the canonical package and tests,
the fork's contract file alone, and its own working, home and temporary directories; a
subprocess runs pytest there under a wall-clock limit, a per-test limit (pytest-timeout) and an
address-space limit, with its output read into a bounded buffer.  A fork's own tests, conftest
and pytest settings are never used.  Results stream to a log test by test, so a crash or a
timeout keeps what finished.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from .contract import CONTRACT
from .starter import INSTRUCTOR_ONLY
from .rubric import QUESTIONS, TIERS, score_tests, totals

#: What a sandbox copies of the reference: the canonical package, tests and pytest settings.
CANONICAL = ("mnist_checks", "tests", "conftest.py", "pyproject.toml")
_SKIP = {"__pycache__", ".pytest_cache", ".hypothesis", "mnist_checks.egg-info"}
RESULTS, JUNIT, OUTPUT, GRADEBOOK = "results.json", "junit.xml", "output.txt", "gradebook.csv"


@dataclass(frozen=True)
class Limits:
    """Per-fork limits. 8 GiB of address space: TensorFlow 2.21's import and a CNN's training
    abort under 2 GiB and pass at 4 GiB (measured here), and the slow tier holds the full data."""

    fork_seconds: float = 1800
    test_seconds: float = 600
    memory_mb: int | None = 8192
    output_bytes: int = 64_000


@dataclass
class ForkResult:
    fork: str
    path: str
    status: str  # graded, cached, failed to load, timeout, crashed, tampered, error
    reason: str = ""
    commit: str = ""
    tests: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    key: str = ""

    @property
    def totals(self) -> dict:
        return totals(self.tests)


def marker_expression(tier: str) -> str:
    tiers = TIERS if tier == "all" else (tier,)
    return f"({' or '.join(tiers)}) and ({' or '.join(QUESTIONS)})"


def pytest_command(root: Path, tier: str, *extra: str) -> list[str]:
    """pytest on the canonical tests under ``root``, with ``root``'s settings alone."""
    return [
        sys.executable, "-m", "pytest", str(root / "tests"), "-c", str(root / "pyproject.toml"),
        "--rootdir", str(root), "-m", marker_expression(tier), "-p", "no:cacheprovider",
        "-p", "mnist_checks.grading.pytest_plugin", "-q", "-o", "addopts=--strict-markers", *extra,
    ]


def collect_graded_tests(reference: Path, tier: str) -> list[dict]:
    """The graded tests of ``tier`` (id, question, tier, claim), as pytest collects them."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "collected.json"
        done = subprocess.run(pytest_command(reference, tier, "--grade-collect", str(listing)),
                              capture_output=True, text=True, cwd=tmp, env=_child_env(reference, Path(tmp)))
        if not listing.exists():
            raise RuntimeError(f"collecting the canonical tests failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return json.loads(listing.read_text())


def grade_forks(forks, reference: Path, out: Path, *, tier: str = "fast", rubric: dict, limits: Limits = Limits(),
                jobs: int = 1, regrade: bool = False, on_result=None) -> list[ForkResult]:
    """Grade every fork (``jobs`` at a time); write each one's results and the gradebook."""
    reference, out = Path(reference).resolve(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    graded = collect_graded_tests(reference, tier)
    key_base = _digest(json.dumps([tier, rubric], sort_keys=True).encode() + _tree_digest(reference).encode())
    names = _unique_names([Path(f) for f in forks])

    def one(item):
        name, fork = item
        result = grade_fork(fork, name, reference, out / name, tier=tier, rubric=rubric, limits=limits,
                            graded=graded, key_base=key_base, regrade=regrade)
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, names.items()))
    write_gradebook(results, out / GRADEBOOK)
    return results


def grade_fork(fork: Path, name: str, reference: Path, out: Path, *, tier: str, rubric: dict, limits: Limits,
               graded: list[dict], key_base: str, regrade: bool = False) -> ForkResult:
    """Grade one fork into ``out`` (results.json, junit.xml, output.txt)."""
    fork = Path(fork).resolve()
    result = ForkResult(fork=name, path=str(fork), status="graded", commit=_commit(fork))
    contract = fork / CONTRACT
    result.key = _digest(key_base.encode() + (contract.read_bytes() if contract.is_file() else b""))
    previous = out / RESULTS
    if not regrade and previous.is_file():
        try:
            cached = json.loads(previous.read_text())["extra_data"]
            if cached["key"] == result.key:
                return _from_results(previous, name)
        except (ValueError, KeyError):
            pass
    result.warnings = edited_canonical_files(fork, reference)
    start = time.monotonic()
    if not contract.is_file():
        result.status, result.reason = "error", f"no contract module: {CONTRACT} is missing from the fork"
        outcomes, output = {}, ""
    else:
        outcomes, output = _run_sandboxed(contract, reference, tier, limits, result)
    result.seconds = round(time.monotonic() - start, 1)
    result.tests = score_tests(_merge(graded, outcomes, result), rubric)
    if result.status == "tampered":
        result.tests = [{**test, "score": 0.0} for test in result.tests]
    _classify(result)
    write_fork_outputs(result, out, output)
    return result


def _run_sandboxed(contract: Path, reference: Path, tier: str, limits: Limits, result: ForkResult):
    with tempfile.TemporaryDirectory(prefix="mnist-checks-grade-") as tmp:
        tmp = Path(tmp)
        canon = tmp / "canon"
        for entry in CANONICAL:
            source = reference / entry
            if source.is_dir():
                shutil.copytree(source, canon / entry, ignore=shutil.ignore_patterns(*_SKIP))
            elif source.is_file():
                canon.mkdir(exist_ok=True)
                shutil.copy2(source, canon / entry)
        impl = tmp / "impl" / CONTRACT
        impl.parent.mkdir(parents=True)
        shutil.copy2(contract, impl)
        for folder in ("work", "home", "tmp"):
            (tmp / folder).mkdir()
        canon_before, reference_before = _tree_digest(canon), _tree_digest(reference)
        log = tmp / "grade-log.jsonl"
        command = pytest_command(canon, tier, "--impl", str(tmp / "impl"), "--grade-log", str(log),
                                 "--timeout", str(limits.test_seconds))
        output, returncode, timed_out = _run(command, tmp, limits)
        outcomes = {}
        if log.exists():
            for line in log.read_text().splitlines():
                entry = json.loads(line)
                outcomes[entry["id"]] = entry
        tampered = [label for label, before, root in (("the canonical tests", canon_before, canon),
                                                      ("the instructor's checkout", reference_before, reference))
                    if _tree_digest(root) != before]
    if tampered:
        result.status, result.reason = "tampered", f"changed {' and '.join(tampered)} while being graded"
    elif timed_out:
        result.status = "timeout"
        result.reason = f"stopped at the {limits.fork_seconds:g} s wall-clock limit per fork after {len(outcomes)} tests"
    elif returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (memory limit?)" if name in ("SIGKILL", "SIGABRT", "SIGSEGV") and limits.memory_mb else ""
        result.status, result.reason = "crashed", f"the test process died of {name}{hint} after {len(outcomes)} tests"
    elif returncode not in (0, 1):
        result.status, result.reason = "error", f"pytest exited {returncode}: {output.strip()[-500:]}"
    return outcomes, output


def _run(command: list[str], sandbox: Path, limits: Limits):
    """Run ``command`` in ``sandbox`` under the limits; return (bounded output, returncode, timed out)."""

    def confine():
        os.setsid()
        if limits.memory_mb:
            size = limits.memory_mb * 1024**2
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    process = subprocess.Popen(command, cwd=sandbox / "work", env=_child_env(sandbox / "canon", sandbox),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               preexec_fn=confine)
    kept, total = bytearray(), [0]

    def drain():
        for chunk in iter(lambda: process.stdout.read(65536), b""):
            total[0] += len(chunk)
            if len(kept) < limits.output_bytes:
                kept.extend(chunk[: limits.output_bytes - len(kept)])

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=limits.fork_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    reader.join(timeout=10)
    text = kept.decode(errors="replace")
    if total[0] > len(kept):
        text += f"\n[... {total[0] - len(kept):,} more bytes of output left out]\n"
    return text, process.returncode, timed_out


def _child_env(canon: Path, sandbox: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(
        PYTHONPATH=str(canon), HOME=str(sandbox / "home"), TMPDIR=str(sandbox / "tmp"),
        MPLCONFIGDIR=str(sandbox / "tmp"), PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="2",
        # nothing a fork does needs the network: a download attempt fails at once
        HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="",
    )
    return env


def _merge(graded: list[dict], outcomes: dict, result: ForkResult) -> list[dict]:
    merged = []
    for test in graded:
        found = outcomes.get(test["id"])
        if found is None:
            why = result.reason or "not run"
            merged.append({**test, "outcome": "not run", "message": f"not run: {why}"})
        else:
            merged.append({**test, "outcome": found["outcome"], "message": found.get("message", ""),
                           "phase": found["phase"], "seconds": found.get("seconds", 0.0)})
    return merged


def _classify(result: ForkResult) -> None:
    """Name the one problem to fix first where every test failed the same way before it ran:
    a contract that does not load (syntax error, missing import, exception at import)."""
    if result.status != "graded" or not result.tests:
        return
    failures = {(t.get("phase"), t.get("message", "")) for t in result.tests if t["outcome"] != "passed"}
    if len(failures) == 1 and not any(t["outcome"] == "passed" for t in result.tests):
        phase, message = failures.pop()
        if phase == "setup" and "not implemented yet" not in message:
            result.status, result.reason = "failed to load", message.splitlines()[0][:300]


def edited_canonical_files(fork: Path, reference: Path) -> list[str]:
    """Warnings for canonical files a fork changed, added or removed (they are never used)."""
    warnings = []
    for entry in ("tests", "conftest.py", "pyproject.toml", "tox.ini", "pytest.ini", "setup.cfg"):
        if not (fork / entry).exists():
            continue  # a fork holding only its contract
        ours, theirs = _files(reference / entry), _files(fork / entry)
        for relative in sorted(set(ours) | set(theirs)):
            if relative in INSTRUCTOR_ONLY:
                continue
            if ours.get(relative) != theirs.get(relative):
                what = "added" if relative not in ours else "removed" if relative not in theirs else "edited"
                warnings.append(f"{what} {relative} (ignored: the canonical tests and settings ran)")
    return warnings


def _files(path: Path) -> dict[str, str]:
    if path.is_file():
        return {path.name: _digest(path.read_bytes())}
    if not path.is_dir():
        return {}
    return {str(p.relative_to(path.parent)): _digest(p.read_bytes()) for p in sorted(path.rglob("*"))
            if p.is_file() and not _SKIP & set(p.parts)}


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for entry in CANONICAL:
        for relative, content in sorted(_files(root / entry).items()):
            digest.update(f"{relative}\0{content}\0".encode())
    return digest.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _commit(fork: Path) -> str:
    done = subprocess.run(["git", "-C", str(fork), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def _unique_names(forks: list[Path]) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for fork in forks:
        name = fork.resolve().name or "fork"
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}-{n}", n + 1
        names[candidate] = fork
    return names


# --- outputs -------------------------------------------------------------------------------


def results_json(result: ForkResult) -> dict:
    """Gradescope's results.json for one fork, with the grader's details under ``extra_data``."""
    sums = result.totals
    score, maximum = sums.get("total", (0.0, 0.0))
    counters: dict[str, int] = {}
    tests = []
    for test in result.tests:
        number = counters[test["question"]] = counters.get(test["question"], 0) + 1
        output = test.get("message", "") if test["outcome"] != "passed" else ""
        tests.append({
            "name": f"{test['question'].upper()} ({test['tier']}): {test['claim']}",
            "number": f"{test['question'][1:]}.{number}",
            "score": round(test["score"], 4),
            "max_score": round(test["max_score"], 4),
            "status": "passed" if test["outcome"] == "passed" else "failed",
            "output": output,
            "visibility": "visible",
        })
    lines = [f"{result.fork}: {score:.1f} / {maximum:.1f} ({result.status})"]
    if result.reason:
        lines.append(result.reason)
    lines += [f"warning: {w}" for w in result.warnings]
    return {
        "score": round(score, 2),
        "max_score": round(maximum, 2),
        "execution_time": result.seconds,
        "output": "\n".join(lines),
        "tests": tests,
        "extra_data": {
            "fork": result.fork, "path": result.path, "commit": result.commit, "status": result.status,
            "reason": result.reason, "warnings": result.warnings, "key": result.key,
            "by_question": {q: sums.get(q, (0.0, 0.0)) for q in QUESTIONS},
            "by_tier": {t: sums[t] for t in TIERS if t in sums},
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
    out.mkdir(parents=True, exist_ok=True)
    (out / OUTPUT).write_text(output)
    (out / JUNIT).write_bytes(junit_xml(result))
    (out / RESULTS).write_text(json.dumps(results_json(result), indent=2))


def _from_results(path: Path, name: str) -> ForkResult:
    data = json.loads(path.read_text())
    extra = data["extra_data"]
    return ForkResult(fork=name, path=extra["path"], status="cached", reason=extra["reason"], commit=extra["commit"],
                      tests=extra["raw_tests"], warnings=extra["warnings"], seconds=data["execution_time"],
                      key=extra["key"])


GRADEBOOK_COLUMNS = ["fork", "commit", "status", "total", "max", *QUESTIONS, *TIERS, "reason", "warnings"]


def gradebook_rows(results: list[ForkResult]) -> list[dict]:
    rows = []
    for result in results:
        sums = result.totals
        row = {"fork": result.fork, "commit": result.commit, "status": result.status,
               "total": round(sums.get("total", (0, 0))[0], 2), "max": round(sums.get("total", (0, 0))[1], 2),
               "reason": result.reason, "warnings": "; ".join(result.warnings)}
        for key in (*QUESTIONS, *TIERS):
            row[key] = round(sums[key][0], 2) if key in sums else ""
        rows.append(row)
    return rows


def write_gradebook(results: list[ForkResult], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=GRADEBOOK_COLUMNS)
        writer.writeheader()
        writer.writerows(gradebook_rows(results))


def summary_table(results: list[ForkResult]) -> str:
    header = ["fork", "status", "total", *[q.upper() for q in QUESTIONS], "reason / warnings"]
    lines = []
    for row, result in zip(gradebook_rows(results), results):
        note = row["reason"] or (f"{len(result.warnings)} warning(s): {result.warnings[0]}" if result.warnings else "")
        lines.append([row["fork"], row["status"], f"{row['total']:g}/{row['max']:g}",
                      *[f"{row[q]:g}" if row[q] != "" else "-" for q in QUESTIONS], note[:70]])
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])
