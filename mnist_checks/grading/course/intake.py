"""What the grader reads of a fork, once, and of the reference: the fork's contract file (its
bytes are what is graded), its commit, its edits of canonical files, a name per fork; the canonical
tests copied for the checker, and their digest.

Nothing here runs a line of a fork, or git: a fork's own git configuration would run its code.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from ...files import sha256_hex
from ...notebook import MAX_NOTEBOOK_BYTES, NOTEBOOK
from ..contract import CONTRACT, Picked, implements_any, pick
from ..students.starter import for_students

#: What the checker copies of the reference: the canonical package, tests and pytest settings.
CANONICAL = ("mnist_checks", "tests", "conftest.py", "pyproject.toml")


#: The canonical files and settings a fork may have edited (told as warnings, never used).
EDITABLE = ("tests", "conftest.py", "pyproject.toml", "tox.ini", "pytest.ini", "setup.cfg")
#: What the grader reads of a fork's checkout: its contract (or notebook) and ``EDITABLE``.
READ_FROM_FORK = (CONTRACT, NOTEBOOK, *EDITABLE)


SKIP = {"__pycache__", ".pytest_cache", ".hypothesis", "mnist_checks.egg-info"}


#: The contract file a fork may send: far above any honest solution, far below a denial of service.
MAX_CONTRACT_BYTES = 1024**2


def read_contract(path: Path, limit: int = MAX_CONTRACT_BYTES) -> tuple[bytes | None, str]:
    """A fork's contract file, read once (its bytes are what is graded and keyed); or why not.

    Neither the file nor its folder may be a symbolic link: a fork's ``mnist_checks`` linked to
    the instructor's checkout would otherwise hand in the reference solution.
    """
    name = Path(*path.parts[-2:])
    missing = f"no contract module: {name} is missing from the fork"
    if path.parent.is_symlink() or path.is_symlink():
        return None, f"{name} (or its folder) is a symbolic link: hand in the file itself"
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, missing
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None, f"{name} is not a regular file"
        source = handle.read(limit + 1)
    if len(source) > limit:
        return None, f"{name} is over {limit:,} bytes"
    return source, ""


def read_submission(fork: Path) -> Picked:
    """What a fork hands in (``contract.pick``): its exercise.py, or the module built from its
    exercise.ipynb (never run here: only its definitions are kept). Each file is read once, by the
    rules of ``read_contract``; a notebook by ``notebook.read_notebook``'s too."""
    module, module_problem = read_contract(fork / CONTRACT)
    if not (fork / NOTEBOOK).exists() and not (fork / NOTEBOOK).is_symlink():
        return Picked(None if module is None else module.decode("utf-8", errors="replace"), CONTRACT,
                      problem=module_problem)
    notebook, problem = read_contract(fork / NOTEBOOK, MAX_NOTEBOOK_BYTES)
    text = None if module is None else module.decode("utf-8", errors="replace")
    if notebook is None:  # a link, not a regular file, or too large: refused unread
        if text is not None and implements_any(text):
            return Picked(text, CONTRACT, note=f"graded exercise.py: {problem}")
        return Picked(None, NOTEBOOK, problem=problem)
    picked = pick(text, notebook)
    if picked.source is not None and len(picked.source.encode()) > MAX_CONTRACT_BYTES:
        return Picked(None, NOTEBOOK, problem=f"the module built from {NOTEBOOK} is over {MAX_CONTRACT_BYTES:,} bytes")
    return picked


def copy_canonical(reference: Path, canon: Path) -> Path:
    """Copy the reference's canonical package, tests and settings into ``canon`` (the checker's own)."""
    return copy_entries(reference, canon, CANONICAL)


def copy_entries(reference: Path, target: Path, entries) -> Path:
    """Copy each of ``entries`` (files or folders of ``reference``; caches left out, ``SKIP``) into ``target``."""
    for entry in entries:
        source = reference / entry
        if source.is_dir():
            shutil.copytree(source, target / entry, ignore=shutil.ignore_patterns(*SKIP))
        elif source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / entry)
    return target


def edited_canonical_files(fork: Path, reference: Path) -> list[str]:
    """Warnings for canonical files a fork changed, added or removed (they are never used)."""
    warnings = []
    for entry in EDITABLE:
        if not (fork / entry).exists():
            continue  # a fork holding only its contract
        ours, theirs = file_digests(reference / entry), file_digests(fork / entry)
        for relative in sorted(set(ours) | set(theirs)):
            if relative not in theirs and not for_students(relative):
                continue  # the instructor's own files: a starter's fork never had them
            if ours.get(relative) != theirs.get(relative):
                what = "added" if relative not in ours else "removed" if relative not in theirs else "edited"
                warnings.append(f"{what} {relative} (ignored: the canonical tests and settings ran)")
    return warnings


def file_digests(path: Path) -> dict[str, str]:
    """Digests of the regular files under ``path`` (symbolic links are never followed: a fork's
    ``tests/x.py`` may point at ``/dev/zero``); files over 16 MB count by their size alone."""
    if path.is_symlink():
        return {path.name: "a symbolic link"}
    if path.is_file():
        return {path.name: file_digest(path)}
    if not path.is_dir():
        return {}
    found = {}
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP)
        for name in sorted(files):
            file = Path(folder) / name
            found[str(file.relative_to(path.parent))] = "a symbolic link" if file.is_symlink() else file_digest(file)
    return found


def file_digest(path: Path) -> str:
    """A regular file's SHA-256, or its size where it is over 16 MB (a fork's file is never read whole)."""
    if not path.is_file():
        return "not a regular file"
    size = path.stat().st_size
    return f"{size} bytes" if size > 16 * 1024**2 else sha256_hex(path.read_bytes())


def tree_digest(root: Path) -> str:
    """One digest of the canonical files under ``root``: it changes when any of them does."""
    digest = hashlib.sha256()
    for entry in CANONICAL:
        for relative, content in sorted(file_digests(root / entry).items()):
            digest.update(f"{relative}\0{content}\0".encode())
    return digest.hexdigest()


def head_commit(fork: Path) -> str:
    """The fork's HEAD commit (7 hex digits, as ``git log --oneline`` shows it), read from its
    ``.git`` without running git: a fork's own git configuration (``core.fsmonitor``, hooks)
    would run its code in the grader. HEAD on a branch (a loose or packed ref, as a starter made
    by ``mnist-checks starter`` and cloned has) or detached; empty where there is none."""
    git = fork / ".git"
    try:
        head = (git / "HEAD").read_text(errors="replace").strip() if git.is_dir() and not git.is_symlink() else ""
        if head.startswith("ref: "):
            ref = head[5:].strip()
            if ".." in ref or not ref.startswith("refs/"):
                return ""
            target = git / ref
            if target.is_file() and not target.is_symlink():
                head = target.read_text(errors="replace").strip()
            else:
                packed = git / "packed-refs"
                lines = packed.read_text(errors="replace").splitlines() if packed.is_file() else []
                head = next((line.split()[0] for line in lines if line.endswith(" " + ref)), "")
    except OSError:
        return ""
    # 40 hex digits (SHA-1), or 64 in a SHA-256 repository; the gradebook shows git's short form
    return head[:7] if len(head) in (40, 64) and all(c in "0123456789abcdef" for c in head) else ""


def unique_names(forks: list[Path], taken: dict[str, str] | None = None) -> dict[str, Path]:
    """A name (and output directory) per fork: its folder's name, suffixed where two differ only
    in their parents. A fork already in the gradebook (``taken``: name -> path) keeps its name."""
    taken = taken or {}
    by_path = {path: name for name, path in taken.items() if path}
    names: dict[str, Path] = {}
    for fork in forks:
        resolved = fork.resolve()
        if by_path.get(str(resolved)) and by_path[str(resolved)] not in names:
            names[by_path[str(resolved)]] = fork
            continue
        name = resolved.name or "fork"
        candidate, n = name, 2
        while candidate in names or candidate in taken:
            candidate, n = f"{name}-{n}", n + 1
        names[candidate] = fork
    return names
