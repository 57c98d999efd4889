"""Gradescope's autograder: the zip ``mnist-checks gradescope`` writes, and what it does there for
each submission.

The zip follows Gradescope's autograder specification: ``setup.sh`` (run once, as root, when the
image is built) and an executable ``run_autograder`` at its root, the zip unpacked at
``/autograder/source``.  It carries this exact version of the project (a wheel built from the
reference checkout, and the reference's canonical files, ``intake.CANONICAL``) and its settings
(``CONFIG``); never the data set.  ``run_autograder`` runs ``python -m mnist_checks.grading.course.gradescope
run``: ``run`` lays the submission out as a fork (a repository, a lone ``exercise.py`` or
``exercise.ipynb``, at the top or one folder down), grades it with ``batch.grade_forks`` and
writes Gradescope's ``results/results.json`` from the fork's own results.json
(``gradescope_results``); a submission it cannot grade, or a grader that fails, still gets a
valid results.json that says why.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ... import __version__
from ... import data as datasets
from ...errors import MnistChecksError
from ...files import write_atomically
from ...notebook import MAX_NOTEBOOK_BYTES, NOTEBOOK
from ..contract import CONTRACT
from ..limits import Limits
from ..students.rubric import DEFAULT_RUBRIC
from . import pages
from .batch import grade_forks
from .gradescope_results import VISIBILITIES, failed_results, gradescope_results, nothing_to_grade
from .grading import Grading
from .intake import CANONICAL, SKIP, copy_entries
from .results import RESULTS

#: Where Gradescope lays the autograder out; ``run_autograder`` and ``run`` read it from here.
ENV_ROOT, DEFAULT_ROOT = "AUTOGRADER_ROOT", "/autograder"
#: The zip's entries: the scripts at its root, the settings, the wheel's folder, the reference's.
SETUP, RUN, CONFIG = "setup.sh", "run_autograder", "mnist-checks-gradescope.json"
WHEELS, REFERENCE = "wheels", "reference"
#: Under the root: the full data set for the slow tier (``setup.sh``'s ``data`` step puts it there).
DATA_DIR = "mnist-data"
#: The tiers an autograder grades: the fast one alone, or both.
TIERS = ("fast", "all")
#: How forks are sealed off there: the strongest the image allows (bubblewrap, else a uid of
#: their own), or one level named. Never unisolated: these are students' submissions.
ISOLATIONS = ("strongest", "bubblewrap", "uid")
#: One submission per container: the container's memory is the grading's, not a cgroup of its own.
GRADESCOPE_LIMITS = Limits(grading_mb=0)
#: What ``setup.sh`` installs with apt-get: Python, bubblewrap, setpriv and libseccomp (isolation uid).
APT_PACKAGES = ("python3", "python3-venv", "python3-pip", "bubblewrap", "util-linux", "libseccomp2")
#: The project's files a wheel is built from (copied, so that the checkout is left as it was).
BUILD_INPUTS = ("pyproject.toml", "README.md", "mnist_checks")
#: A fork's files as laid out: a submission's contract and notebook, whatever folder they came in.
HANDED_IN = (CONTRACT, NOTEBOOK)
#: The most of a handed-in file copied: one byte over the most the grader reads (it then says "too large").
COPIED_BYTES = MAX_NOTEBOOK_BYTES + 1
#: The fork's name in the grader's outputs.
FORK = "submission"
#: What Gradescope shows where nothing else can be said: Python itself did not start.
FALLBACK = {"score": 0.0, "output": "The autograder could not start (its Python environment is missing: setup.sh "
                                    "failed). Nothing was graded; tell your instructor.",
            "output_format": "text", "stdout_visibility": "hidden", "visibility": "visible", "tests": []}


class GradescopeError(MnistChecksError):
    """The autograder's package cannot be written, or its settings read; the message says why."""

    remedy = "`mnist-checks gradescope --help` says what each option takes (docs/gradescope.md)"


# --- the zip ------------------------------------------------------------------------------------


def write_autograder_zip(out_zip, reference: Path, *, tier: str = "fast", rubric: dict = DEFAULT_RUBRIC,
                         fast_visibility: str = "visible", slow_visibility: str = "after_published",
                         leaderboard: bool = True, isolation: str = "strongest",
                         limits: Limits = GRADESCOPE_LIMITS) -> list[str]:
    """Write Gradescope's autograder zip to ``out_zip`` (whole or not at all): ``setup.sh`` and
    ``run_autograder`` (mode 0755), ``CONFIG``, the wheel under ``wheels/`` and the reference's
    canonical files under ``reference/``; the names it holds, in order."""
    config = autograder_config(tier=tier, rubric=rubric, fast_visibility=fast_visibility,
                               slow_visibility=slow_visibility, leaderboard=leaderboard, isolation=isolation,
                               limits=limits)
    reference = Path(reference)
    with tempfile.TemporaryDirectory(prefix="mnist-checks-gradescope-") as scratch:
        wheel = build_wheel(reference, Path(scratch) / "wheels")
        entries = {SETUP: (script(SETUP), 0o755), RUN: (script(RUN), 0o755),
                   CONFIG: (json.dumps(config, indent=2).encode(), 0o644),
                   f"{WHEELS}/{wheel.name}": (wheel.read_bytes(), 0o644)}
        for relative, path in canonical_files(reference):
            entries[f"{REFERENCE}/{relative}"] = (path.read_bytes(), 0o644)
        buffer = Path(scratch) / "autograder.zip"
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, (content, mode) in entries.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
        Path(out_zip).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out_zip, buffer.read_bytes())
    return list(entries)


def autograder_config(*, tier: str, rubric: dict, fast_visibility: str, slow_visibility: str, leaderboard: bool,
                      isolation: str, limits: Limits) -> dict:
    """The settings ``run`` grades with, checked."""
    if tier not in TIERS:
        raise GradescopeError(f"tier {tier!r}: one of {', '.join(TIERS)}")
    for visibility in (fast_visibility, slow_visibility):
        if visibility not in VISIBILITIES:
            raise GradescopeError(f"visibility {visibility!r}: one of {', '.join(VISIBILITIES)} (Gradescope's)")
    if isolation not in ISOLATIONS:
        raise GradescopeError(f"isolation {isolation!r}: one of {', '.join(ISOLATIONS)}")
    return {"version": __version__, "tier": tier, "rubric": rubric,
            "visibility": {"fast": fast_visibility, "slow": slow_visibility}, "leaderboard": bool(leaderboard),
            "isolation": isolation, "limits": dataclasses.asdict(limits)}


def script(name: str) -> bytes:
    """``setup.sh`` or ``run_autograder``, from its template."""
    return pages.render(f"gradescope-{name}.j2", version=__version__, module=__name__, wheels=WHEELS, extra="cpu",
                        apt_packages=APT_PACKAGES, fallback=json.dumps(FALLBACK)).encode()


def build_wheel(reference: Path, into: Path) -> Path:
    """A wheel of the reference's package (``pip wheel --no-deps``), built from a copy of its build
    inputs; without build isolation where this environment's setuptools can, else with it (pip
    then fetches the build requirements from the package registry)."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mnist-checks-wheel-") as scratch:
        project = copy_entries(reference, Path(scratch) / "project", BUILD_INPUTS)
        said = ""
        for isolation in (["--no-build-isolation"], []):
            done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *isolation,
                                   "--wheel-dir", str(into), str(project)], capture_output=True, text=True)
            if done.returncode == 0:
                break
            said = (done.stderr or done.stdout).strip()[-800:]
        else:
            raise GradescopeError(f"pip could not build a wheel of {reference}: {said}")
    wheels = sorted(into.glob("mnist_checks-*.whl"))
    if not wheels:
        raise GradescopeError(f"pip built no mnist_checks wheel of {reference}")
    return wheels[-1]


def canonical_files(reference: Path) -> list[tuple[str, Path]]:
    """The reference's canonical files (``intake.CANONICAL``) as (path in the zip, file): no
    caches, no links, never a copy of the data set (``data.KNOWN_FILES``)."""
    found = []
    for entry in CANONICAL:
        top = reference / entry
        paths = [top] if top.is_file() else sorted(top.rglob("*")) if top.is_dir() else []
        for path in paths:
            relative = path.relative_to(reference)
            if (path.is_file() and not path.is_symlink() and path.name not in datasets.KNOWN_FILES
                    and not SKIP.intersection(relative.parts)):
                found.append((relative.as_posix(), path))
    return found


# --- on Gradescope: the submission ----------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """What a submission hands in: its contract files (paths under the submission's folder) and
    how they came (a repository, a lone file); none where it holds neither."""

    files: tuple[Path, ...]
    layout: str

    @property
    def said(self) -> str:
        return f"{' and '.join(path.as_posix() for path in self.files)} ({self.layout})"


def find_submission(folder: Path) -> Submission:
    """The contract a submission hands in: ``mnist_checks/exercise.py`` or ``.ipynb`` of a
    repository, or a lone ``exercise.py`` or ``exercise.ipynb``; at the top, else one folder
    down (a repository downloaded from GitHub comes in one); links and hidden folders never
    followed. Empty ``files`` where there is none."""
    top = [folder]
    try:
        top += sorted(child for child in folder.iterdir() if child.is_dir() and not child.is_symlink()
                      and not child.name.startswith((".", "__MACOSX")))
    except OSError:
        pass
    for base in top:
        for place, layout in ((base / CONTRACT.parent, "a repository"), (base, "a lone file")):
            if place.is_symlink() or not place.is_dir():
                continue
            files = tuple(place / path.name for path in HANDED_IN if _present(place / path.name))
            if files:
                return Submission(tuple(path.relative_to(folder) for path in files), layout)
    return Submission((), "")


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def lay_out(folder: Path, submission: Submission, fork: Path) -> Path:
    """``fork``, a fork holding the submission's contract files where the grader reads them
    (``mnist_checks/``). A link stays a link and anything but a regular file an empty folder,
    so that the grader refuses them as it refuses a fork's; a file is copied up to
    ``COPIED_BYTES`` (the grader refuses a longer one unread)."""
    (fork / CONTRACT.parent).mkdir(parents=True)
    for relative in submission.files:
        source, target = folder / relative, fork / CONTRACT.parent / relative.name
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_file():
            with open(source, "rb") as reading, open(target, "wb") as writing:
                writing.write(reading.read(COPIED_BYTES))
        else:
            target.mkdir()
    return fork


def read_metadata(path: Path) -> tuple[dict, str]:
    """What the grader keeps of Gradescope's ``submission_metadata.json``: the submitters' names,
    the assignment's title and due date, when it was submitted; and why not, where it is missing
    or malformed (never an error: grading goes on without it)."""
    try:
        metadata = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, f"no {path.name}"
    except (OSError, ValueError) as error:
        return {}, f"{path.name} could not be read: {error}"
    if not isinstance(metadata, dict):
        return {}, f"{path.name} is not a JSON object"
    users = metadata.get("users") if isinstance(metadata.get("users"), list) else []
    assignment = metadata.get("assignment") if isinstance(metadata.get("assignment"), dict) else {}
    names = [user.get("name") for user in users if isinstance(user, dict)]
    kept = {"submitters": [name for name in names if isinstance(name, str)],
            "assignment": assignment.get("title") if isinstance(assignment.get("title"), str) else "",
            "due_date": assignment.get("due_date") if isinstance(assignment.get("due_date"), str) else "",
            "submitted_at": metadata.get("created_at") if isinstance(metadata.get("created_at"), str) else ""}
    return kept, ""


def read_config(source: Path) -> dict:
    """The autograder's settings (``CONFIG`` in the unpacked zip), checked as they were written."""
    try:
        config = json.loads((source / CONFIG).read_text())
        checked = autograder_config(tier=config["tier"], rubric=config["rubric"],
                                    fast_visibility=config["visibility"]["fast"],
                                    slow_visibility=config["visibility"]["slow"], leaderboard=config["leaderboard"],
                                    isolation=config["isolation"], limits=Limits(**config["limits"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GradescopeError(f"{source / CONFIG}: not the autograder's settings ({type(error).__name__}: {error}); "
                              "write the zip again with `mnist-checks gradescope`") from None
    return checked


# --- on Gradescope: grading and results.json ----------------------------------------------------------


def run(root: Path) -> dict:
    """Grade the submission under ``root`` (Gradescope's ``/autograder``) and write
    ``root/results/results.json``; the results written. Never raises for a submission or a
    grader failure: the results then say what happened (score 0 only where nothing was graded)."""
    started = time.monotonic()
    metadata, metadata_problem = read_metadata(root / "submission_metadata.json")
    graded, submission = None, Submission((), "")
    try:
        config = read_config(root / "source")
        submission = find_submission(root / "submission")
        if not submission.files:
            results = nothing_to_grade(root / "submission", metadata)
        else:
            with tempfile.TemporaryDirectory(prefix="mnist-checks-gradescope-") as work:
                fork = lay_out(root / "submission", submission, Path(work) / FORK)
                out = Path(work) / "grades"
                grade(fork, out, config, root)
                graded = json.loads((out / FORK / RESULTS).read_text())
                _say_output(out / FORK)
                results = gradescope_results(graded, config, metadata=metadata, handed_in=submission.said)
    except Exception as error:  # noqa: BLE001 - whatever failed, Gradescope gets a results.json saying so
        traceback.print_exc()
        results = failed_results(error, graded, metadata)
    results["execution_time"] = round(time.monotonic() - started)
    results.setdefault("extra_data", {})["metadata"] = {**metadata, "problem": metadata_problem}
    path = root / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(results, indent=2).encode())
    print(f"wrote {path}: {results['score']} points")
    return results


def grading_of(config: dict, root: Path) -> Grading:
    """The autograder's ``Grading``: its tier, rubric, isolation and limits, every submission graded
    afresh; beyond the fast tier, the data set ``setup.sh`` put under ``root`` (else as found)."""
    here = root / DATA_DIR
    return Grading(tier=config["tier"], rubric=config["rubric"], limits=Limits(**config["limits"]),
                   isolation=config["isolation"], regrade=True, data=str(here) if here.is_dir() else None)


def grade(fork: Path, out: Path, config: dict, root: Path) -> None:
    """``batch.grade_forks`` on the one fork, with the autograder's ``Grading`` (``grading_of``)."""
    grade_forks([fork], root / "source" / REFERENCE, out, grading_of(config, root), say=print)


def _say_output(fork_out: Path) -> None:
    """The checker's output, on run_autograder's stdout (the instructor's alone: hidden from students)."""
    output = fork_out / "output.txt"
    if output.is_file():
        print(output.read_text(errors="replace"))


# --- setup.sh's data step ----------------------------------------------------------------------------


def fetch_data(source: Path, root: Path) -> Path | None:
    """The full data set into ``root/DATA_DIR`` where the autograder's tier needs it (downloaded
    once, or taken from ``$MNIST_CHECKS_DATA``); None for the fast tier, which needs none."""
    if read_config(source)["tier"] == "fast":
        return None
    found = datasets.locate()
    target = root / DATA_DIR / found.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(found, target)
    return target


def main(argv: list[str] | None = None) -> int:
    """``run`` (``run_autograder``'s, for each submission) and ``data`` (``setup.sh``'s, once)."""
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("run", help=f"grade ${ENV_ROOT}/submission into ${ENV_ROOT}/results/results.json")
    fetch = steps.add_parser("data", help="put the full data set where the slow tier reads it (setup.sh)")
    fetch.add_argument("--source", required=True, help="the unpacked zip")
    fetch.add_argument("--root", required=True, help=f"the autograder's root (${ENV_ROOT})")
    args = parser.parse_args(argv)
    if args.step == "run":
        run(Path(os.environ.get(ENV_ROOT) or DEFAULT_ROOT))
        return 0
    try:
        target = fetch_data(Path(args.source), Path(args.root))
    except MnistChecksError as error:
        print(f"mnist-checks: {error}" + (f"\n  {error.remedy}" if error.remedy else ""), file=sys.stderr)
        return 2
    print("the fast tier needs no data set: none fetched" if target is None else f"the data set is in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
