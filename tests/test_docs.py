"""README.md and docs/ stay true to the project: every relative link leads to a file (and a heading)
that exists, every ``mnist-checks`` command they show names a real subcommand and real options,
every ``pytest -m`` a registered marker, and CI runs the README's install and test commands.

Commands are read from shell code blocks (```bash, ```sh, ```console or none; a ```text block is
output or a map, not commands) and from inline code spans in the prose; links and headings from
the prose alone. Headings become anchors as GitHub makes them: lowercase, spaces to '-',
punctuation dropped, a repeated heading suffixed -1, -2, ...
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"", "bash", "sh", "shell", "console", "zsh"}


@dataclass
class Page:
    path: Path
    prose: list[tuple[int, str]]  # paragraphs outside fenced blocks: (first line number, text)
    blocks: list[tuple[int, str, list[str]]]  # fenced blocks: (first line number, info string, lines)

    @property
    def name(self) -> str:
        return str(self.path.relative_to(ROOT))


def read(path: Path) -> Page:
    prose, blocks, paragraph, start, fence = [], [], [], 0, None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence[0]) and set(stripped) == {fence[0][0]}:
                fence = None
            else:
                blocks[-1][2].append(line)
            continue
        opening = re.match(r"(`{3,}|~{3,})\s*([\w+-]*)", stripped)
        if opening or not stripped:
            if paragraph:
                prose.append((start, "\n".join(paragraph)))
            paragraph = []
            if opening:
                fence = (opening.group(1), opening.group(2).lower())
                blocks.append((number, fence[1], []))
            continue
        if not paragraph:
            start = number
        paragraph.append(line)
    if paragraph:
        prose.append((start, "\n".join(paragraph)))
    return Page(path, prose, blocks)


CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


def anchors(page: Page) -> set[str]:
    """The anchors GitHub gives the page's headings."""
    seen: dict[str, int] = {}
    for _, paragraph in page.prose:
        for line in paragraph.splitlines():
            heading = HEADING.match(line)
            if not heading:
                continue
            text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(2))  # a link's text stays
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            seen[slug] = seen.get(slug, -1) + 1
            if seen[slug]:
                seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def links(page: Page):
    """(line number, target) of every link in the page's prose; code spans hold no links."""
    for start, paragraph in page.prose:
        text = CODE_SPAN.sub(lambda span: re.sub(r"[^\n]", " ", span.group(0)), paragraph)
        for match in [*LINK.finditer(text), *DEFINITION.finditer(text)]:
            yield start + text.count("\n", 0, match.start()), match.group(1)


def broken_links(page: Page) -> list[str]:
    problems = []
    for number, target in links(page):
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # https:, mailto:, ...: not a file here
            continue
        where = f"{page.name}:{number}: ({target})"
        path, _, fragment = target.partition("#")
        file = (page.path.parent / path).resolve() if path else page.path
        if not file.exists():
            problems.append(f"{where}: no such file")
        elif not file.is_relative_to(ROOT):
            problems.append(f"{where}: outside the repository")
        elif fragment and file.suffix == ".md" and fragment not in anchors(read(file)):
            problems.append(f"{where}: {file.relative_to(ROOT)} has no heading with the anchor #{fragment}")
    return problems


def test_every_relative_link_leads_to_a_file_and_heading_that_exist():
    problems = [problem for page in map(read, PAGES) for problem in broken_links(page)]
    assert not problems, "\n" + "\n".join(problems)


def commands(page: Page, mentioning: str = r"mnist[-_]checks|pytest|tox"):
    """(line number, tokens) of every simple command the page shows: shell blocks' lines (without
    comments, continuations joined) and inline code spans, each split at pipes, ``&&``, ``;``;
    only those whose text matches ``mentioning``."""
    texts = []
    for start, info, lines in page.blocks:
        if info in SHELL_BLOCKS:
            joined = "\n".join(lines).replace("\\\n", " ")
            texts += [(start + 1 + number, line.removeprefix("$ ")) for number, line in enumerate(joined.split("\n"))]
    for start, paragraph in page.prose:
        for span in CODE_SPAN.finditer(paragraph):
            texts.append((start + paragraph.count("\n", 0, span.start()), span.group(2).replace("\n", " ")))
    for number, text in texts:
        if not re.search(mentioning, text):
            continue
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote: a span of prose, not a command
            continue
        segment = []
        for token in [*tokens, ";"]:
            if set(token) <= set("();<>|&"):
                if segment:
                    yield number, segment
                segment = []
            else:
                segment.append(token)


@pytest.fixture(scope="module")
def cli_parser() -> argparse.ArgumentParser:
    """``mnist-checks``'s own parser, built as ``cli.main`` builds it; nothing is parsed or run."""
    from mnist_checks import cli

    return cli.build_parser()


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {option: action for action in parser._actions for option in action.option_strings}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return action.choices


def wrong_cli_commands(page: Page, parser: argparse.ArgumentParser) -> list[str]:
    problems, subcommands = [], _subcommands(parser)
    for number, tokens in commands(page):
        for i, token in enumerate(tokens):
            if token == "mnist-checks" or (token == "mnist_checks" and tokens[i - 1:i] == ["-m"]):
                rest = tokens[i + 1:]
                break
        else:
            continue
        where = f"{page.name}:{number}: {shlex.join(tokens)}"
        if not rest:
            continue  # the command's name alone, in prose
        if rest[0].startswith("-"):
            command, known, arguments = None, _options(parser), rest
        elif re.fullmatch(r"[a-z][a-z-]*", rest[0]):
            command = rest[0]
            if command not in subcommands:
                problems.append(f"{where}: no subcommand {command!r} (there are {', '.join(subcommands)})")
                continue
            known, arguments = _options(subcommands[command]), rest[1:]
        else:
            continue  # not a command: e.g. the starter's commit author, `mnist-checks <mnist-checks@localhost>`
        for j, argument in enumerate(arguments):
            if not argument.startswith("-") or argument == "-":
                continue
            option, equals, value = argument.partition("=")
            if option not in known:
                problems.append(f"{where}: {command or 'mnist-checks'} has no option {option}")
                continue
            if not equals and j + 1 < len(arguments):
                value = arguments[j + 1]
            choices = known[option].choices
            if choices and (equals or known[option].nargs != 0) and value and value not in choices:
                problems.append(f"{where}: {option} takes one of {', '.join(map(str, choices))}, not {value!r}")
    return problems


def test_every_mnist_checks_command_shown_names_a_real_subcommand_and_real_options(cli_parser):
    problems = [problem for page in map(read, PAGES) for problem in wrong_cli_commands(page, cli_parser)]
    assert not problems, "\n" + "\n".join(problems)


def registered_markers(pytestconfig) -> set[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest's own reading of the same [tool.pytest.ini_options]
        markers = pytestconfig.getini("markers")
    else:
        markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    return {re.split(r"[:(]", marker, maxsplit=1)[0].strip() for marker in markers}


def marker_expressions(tokens: list[str]) -> list[str]:
    """What follows each ``-m`` given to pytest: after ``pytest`` itself, or after tox's ``--``."""
    if "pytest" in tokens:
        tokens = tokens[tokens.index("pytest") + 1:]
    elif "tox" in tokens and "--" in tokens[tokens.index("tox"):]:
        tokens = tokens[tokens.index("--", tokens.index("tox")) + 1:]
    else:
        return []
    return [tokens[i + 1] if token == "-m" else token[2:] for i, token in enumerate(tokens)
            if (token == "-m" and i + 1 < len(tokens)) or (token.startswith("-m") and len(token) > 2)]


def unregistered_markers(page: Page, registered: set[str]) -> list[str]:
    problems = []
    for number, tokens in commands(page):
        for expression in marker_expressions(tokens):
            names = set(re.findall(r"[A-Za-z_]\w*", expression)) - {"and", "or", "not"}
            problems += [f"{page.name}:{number}: {shlex.join(tokens)}: no marker {name!r} in pyproject.toml"
                         for name in sorted(names - registered)]
    return problems


def test_every_pytest_marker_shown_is_registered(pytestconfig):
    registered = registered_markers(pytestconfig)
    assert {"fast", "slow", "e2e"} <= registered
    problems = [problem for page in map(read, PAGES) for problem in unregistered_markers(page, registered)]
    assert not problems, "\n" + "\n".join(problems)


def _section_commands(heading: str, path: Path = ROOT / "README.md") -> list[list[str]]:
    """The commands of the first shell block under ``## heading`` (of the README unless ``path``
    names another page), comments dropped."""
    readme = path.read_text()
    section = readme.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    page = read(path)
    block = next(lines for _, info, lines in page.blocks if info in SHELL_BLOCKS and "\n".join(lines) in section)
    return [tokens for _, tokens in commands(Page(page.path, [], [(0, "bash", block)]), mentioning=".")]


def test_the_readmes_install_makes_and_activates_a_virtual_environment_as_the_starters_does():
    """A newcomer following either README installs into a virtual environment made and activated
    the same way, before the first pip install, never into the system's Python."""
    ours = _section_commands("Install")
    starter = _section_commands("Install (once)", ROOT / "docs" / "starter-README.md")
    venv = [command for command in starter if command[0] != "pip"]
    assert venv and [command for command in venv if command not in ours] == [], ours
    assert ours.index(venv[-1]) < min(i for i, command in enumerate(ours) if command[0] == "pip")


def test_ci_runs_the_readmes_install_and_test_commands():
    """.ci/run installs with the README's install command and runs exactly the README's test tiers;
    its virtual environment is a folder of its own (``$venv``), which stands for the README's
    ``.venv``: CI removes and remakes it, and must not take a developer's ``.venv`` with it."""
    ci = (ROOT / ".ci" / "run").read_text()
    quiet = {"--quiet", "-q"}
    ci_commands = []
    for line in ci.splitlines():
        try:
            ci_commands.append([token.replace("$venv", ".venv") for token in shlex.split(line, comments=True)
                                if token not in quiet])
        except ValueError:  # a quote across lines: not one of the commands compared here
            continue
    installs = _section_commands("Install")
    assert installs, "the README's Install section shows no command"
    assert [install for install in installs if install not in ci_commands] == []
    tiers = [marker_expressions(tokens) for tokens in _section_commands("Test")]
    assert all(len(tier) == 1 for tier in tiers) and tiers, "each README test command is one pytest -m TIER"
    assert 'pytest -m "$@"' in ci, ".ci/run's run_tier no longer runs pytest -m TIER"
    ci_tiers = re.findall(r"^run_tier (\w+)", ci, re.MULTILINE)
    assert sorted(ci_tiers) == sorted(tier for (tier,) in tiers)


GROUPED = '''
import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("n", range(6))
def test_one_of_a_group(n):
    pass
'''


def test_ci_keeps_each_xdist_group_on_one_worker(tmp_path):
    """.ci/run runs the e2e tier with ``-n 2 --dist loadgroup`` so that the tests sharing a module's
    or the session's fixture (the graded course) run on one worker, which builds it once: with the
    pytest and pytest-xdist installed here, six tests of one group all run on the same worker."""
    import subprocess
    import sys

    assert "run_tier e2e -n 2 --dist loadgroup" in (ROOT / ".ci" / "run").read_text()
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    done = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-n", "2", "--dist", "loadgroup", "-v",
                           "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTEST_ADDOPTS": ""})
    workers = set(re.findall(r"\[(gw\d+)\].* PASSED test_grouped", done.stdout))
    assert done.returncode == 0 and "6 passed" in done.stdout, done.stdout[-2000:]
    assert len(workers) == 1, f"one group ran on {sorted(workers)}: pytest-xdist's --dist loadgroup is broken here"


def test_the_grading_guide_says_what_every_status_word_means_as_the_pages_do():
    """docs/grading.md's table of status words is the code's (``results.STATUS_MEANINGS``, which
    the feedback pages and the class report print): a status added or reworded shows up here."""
    from mnist_checks.grading.course.results import STATUS_MEANINGS, ForkStatus

    table = dict(re.findall(r"^\| `([^`]+)` \| (.+) \|$", (ROOT / "docs" / "grading.md").read_text(), re.MULTILINE))
    assert set(STATUS_MEANINGS) == set(ForkStatus), "every status has its sentence"
    assert table == {status.value: meaning for status, meaning in STATUS_MEANINGS.items()}


def test_the_grading_guides_table_of_what_each_isolation_holds_names_every_attack_the_course_grades():
    """docs/grading.md's table, attack by attack, at bubblewrap and at uid: its rows are the
    hostile family tests/test_grading_attacks.py grades at both levels, no more, no fewer."""
    from course import ATTACKS

    guide = (ROOT / "docs" / "grading.md").read_text()
    section = guide.split("### Where user namespaces are refused", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([a-z]+(?:-[a-z]+)+) \| (.+) \| (.+) \| (.+) \|$", section, re.MULTILINE)
    assert {row[0] for row in rows} == set(ATTACKS)
    assert all(cell.strip() for row in rows for cell in row)
