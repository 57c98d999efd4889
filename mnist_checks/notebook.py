"""A contract handed in as a notebook (``mnist_checks/exercise.ipynb``): read by rule, and turned
into the contract module (Q1-Q5's functions) without running a line of it.

Kept, in the notebook's order: imports, function and class definitions, and constants (names
bound to values computed without a call, from names already kept). Left out, and listed for the
student: every other top-level statement (loading data, ``model.fit``, plots, prints), every
IPython magic or shell line (``%matplotlib inline``, ``!pip install``), every cell magic
(``%%time``) and every cell that does not parse. The module then goes through the grader exactly
as an ``exercise.py`` does; ``cite`` turns its line numbers back into the notebook's cells.

Cells are counted from 1 at the top, markdown cells included, as the notebook shows them.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Where a checkout keeps a notebook contract, beside ``contract.CONTRACT``.
NOTEBOOK = Path("mnist_checks") / "exercise.ipynb"
#: A notebook far above any honest one with its plots, far below a denial of service.
MAX_NOTEBOOK_BYTES = 32 * 1024**2
#: Cells: an exercise's notebook has tens; the limit stops 10^5 empty ones before they are validated.
MAX_CELLS = 2_000
#: JSON nesting: a notebook is 6 deep, metadata a few more; deeper is no notebook.
MAX_DEPTH = 64
#: The longest statement shown in a left-out line, and the most lines listed.
SHOWN_CHARS, MAX_LISTED = 60, 100
#: Characters of cells parsed in all: each IPython line blanked parses its cell again, so a cell of
#: thousands of shell lines would otherwise take minutes of the grader's own time.
PARSE_BUDGET = 64 * 1024**2

#: The notebook starter's last cell (``starter.starter_notebook``): it checks the work. Left out
#: unlisted where it is exactly this; any other text in its place is read as any cell is.
CHECK_CELL = 'import sys\n!cd .. && "{sys.executable}" -m pytest -m fast -q -p no:cacheprovider'
_IPYTHON_START = re.compile(r"^\s*(?:[!%?]|\w+\s*=\s*[!%])")
_IPYTHON_LINE = re.compile(r"^\s*(?:[!%?]|\w+\s*=\s*[!%])|\?\s*$")
_MODULE_LINE = re.compile(r"exercise\.py(?:, line |:)(\d+)")


class NotebookRefused(ValueError):
    """A file the grader will not read as a notebook; the message is the one-line reason."""


@dataclass
class Contract:
    """The contract module built from a notebook: its source, what was left out, and per module
    line the notebook's ``(cell, line)`` it came from (``(0, 0)`` for the lines the build adds)."""

    source: str
    left_out: list[str] = field(default_factory=list)
    lines: list[tuple[int, int]] = field(default_factory=list)

    def cite(self, text: str) -> str:
        """``text`` with each ``exercise.py, line N`` (and ``exercise.py:N``) named by its notebook cell."""
        def where(match):
            number = int(match.group(1))
            cell, line = self.lines[number - 1] if 0 < number <= len(self.lines) else (0, 0)
            return f"exercise.ipynb cell {cell}, line {line}" if cell else match.group(0)

        return _MODULE_LINE.sub(where, text)


def read_notebook(data: bytes):
    """The notebook in ``data`` (nbformat 4, validated), or ``NotebookRefused`` with why, by rule:
    its size, its JSON, its nesting, its number of cells, then nbformat's schema."""
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookRefused(f"the notebook is over {MAX_NOTEBOOK_BYTES // 1024**2} MB (clear its outputs)")
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text)
    except UnicodeDecodeError:
        raise NotebookRefused("the notebook is not UTF-8 text") from None
    except RecursionError:
        raise NotebookRefused(f"the notebook's JSON is nested over {MAX_DEPTH} deep") from None
    except ValueError as error:
        raise NotebookRefused(f"the notebook is not JSON ({error})") from None
    if not isinstance(parsed, dict):
        raise NotebookRefused("the notebook is not a JSON object")
    if _depth(parsed) > MAX_DEPTH:
        raise NotebookRefused(f"the notebook's JSON is nested over {MAX_DEPTH} deep")
    sheets = parsed.get("worksheets") if isinstance(parsed.get("worksheets"), list) else [parsed]  # nbformat 3's
    count = sum(len(sheet["cells"]) for sheet in sheets
                if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list))
    if count > MAX_CELLS:
        raise NotebookRefused(f"the notebook has {count:,} cells, over {MAX_CELLS:,}")
    try:  # the JSON parsed above, read as its version and converted to 4, then validated once
        major, minor = nbformat.reader.get_version(parsed)
        if major not in nbformat.versions:
            raise ValueError(f"nbformat {major!r} is no version nbformat reads")
        notebook = nbformat.convert(nbformat.versions[major].to_notebook_json(parsed, minor=minor), 4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat's reader and validator raise several kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NotebookRefused(f"not a valid notebook (nbformat: {first[:200]})") from None
    return notebook


def _depth(value) -> int:
    """How deep ``value``'s lists and objects nest, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def contract_from_notebook(notebook) -> Contract:
    """Q1-Q5's module from the notebook's code cells: definitions kept, everything else left out
    and listed ("cell 7, line 1: clf1.fit(...) left out: only definitions are graded")."""
    contract = Contract(source="")
    future: list[str] = []
    body: list[str] = []
    known = set(dir(builtins))
    shown_cell = 0
    budget = [PARSE_BUDGET]
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "code" or not cell.source.strip() or cell.source.strip() == CHECK_CELL:
            continue
        lines = cell.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # Python's line breaks alone
        first = next(line for line in lines if line.strip())
        if first.lstrip().startswith("%%"):
            contract.left_out.append(f"cell {number}: a {first.split()[0]} cell left out: cell magics are never graded")
            continue
        tree = _parse(number, lines, contract.left_out, budget)
        if tree is None:
            continue
        for statement in tree.body:
            segment = _segment(lines, statement)
            why = _left_out_because(statement, known)
            if why is None and isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                future.extend(segment)
            elif why is None:
                if number != shown_cell:
                    body.append(f"# exercise.ipynb, cell {number}")
                    contract.lines.append((0, 0))
                    shown_cell = number
                start = statement.end_lineno - len(segment) + 1
                body.extend(segment)
                contract.lines.extend((number, start + i) for i in range(len(segment)))
                known |= _bound_names(statement)
            elif why:
                shown = " ".join(line.strip() for line in segment)
                shown = shown if len(shown) <= SHOWN_CHARS else shown[: SHOWN_CHARS - 3] + "..."
                contract.left_out.append(f"cell {number}, line {statement.lineno}: {shown} left out: {why}")
    contract.left_out.sort(key=_place)
    if len(contract.left_out) > MAX_LISTED:
        more = len(contract.left_out) - MAX_LISTED
        contract.left_out[MAX_LISTED:] = [f"... and {more:,} more left out"]
    header = ["# The contract built by mnist_checks from mnist_checks/exercise.ipynb: its definitions alone.", *future]
    contract.lines[:0] = [(0, 0)] * len(header)
    contract.source = "\n".join(header + body) + "\n"
    return contract


def _segment(lines: list[str], statement: ast.stmt) -> list[str]:
    """A top-level statement's own lines: a definition from its first decorator on; a simple
    statement without what shares its lines (``import numpy as np; model.fit(X)`` keeps the import)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        start = min([statement.lineno, *(d.lineno for d in statement.decorator_list)])
        return lines[start - 1: statement.end_lineno]
    first, last = statement.lineno - 1, statement.end_lineno - 1
    segment = [line.encode() for line in lines[first: last + 1]]  # the parser's columns count UTF-8 bytes
    segment[-1] = segment[-1][: statement.end_col_offset]
    segment[0] = segment[0][statement.col_offset:]
    return [line.decode() for line in segment]


def _place(line: str) -> tuple[int, int]:
    """A left-out line's (cell, line), to list them in the notebook's order."""
    match = re.match(r"cell (\d+)(?:, line (\d+))?", line)
    return (int(match.group(1)), int(match.group(2) or 0)) if match else (0, 0)


def _parse(number: int, lines: list[str], left_out: list[str], budget: list[int]) -> ast.Module | None:
    """A cell's statements, with its IPython lines blanked (each listed), or None where it does not
    parse. Lines that start as magics and shell lines do are blanked at once, and those that turn
    out to lie inside a string are put back; any other IPython line is blanked when the parser
    stops at it (all of them so, where blanking at once broke the cell). Each try parses the cell
    again: ``budget`` bounds the characters parsed in all."""
    original = list(lines)
    blanked = {i for i, line in enumerate(lines) if _IPYTHON_START.match(line)}
    for i in blanked:
        lines[i] = ""
    tree, why = _parse_blanking(number, lines, budget, blanked)
    if tree is None and blanked:  # a blanked line closed a string, say: one line at a time, as the parser stops
        lines[:], blanked = original, set()
        tree, why = _parse_blanking(number, lines, budget, blanked)
    inside = {i for node in ast.walk(tree) if isinstance(node, (ast.Constant, ast.JoinedStr))
              and node.end_lineno > node.lineno for i in range(node.lineno, node.end_lineno)} if tree else set()
    if inside & blanked:  # 0-based: the lines of a string after its first; put back, parsed again
        for i in inside & blanked:
            lines[i] = original[i]
        blanked -= inside
        tree, why = _parse_blanking(number, lines, budget, blanked)
    if tree is None:
        left_out.append(why)
        return None
    left_out.extend(f"cell {number}, line {i + 1}: {original[i].strip()[:SHOWN_CHARS]} left out: IPython magics "
                    "and shell lines are never graded" for i in sorted(blanked))
    return tree


def _parse_blanking(number: int, lines: list[str], budget: list[int],
                    blanked: set[int]) -> tuple[ast.Module | None, str]:
    """``lines`` parsed, blanking each IPython line the parser stops at (added to ``blanked``);
    or None and why the cell is left out."""
    while True:
        text = "\n".join(lines)
        budget[0] -= len(text)
        if budget[0] < 0:
            return None, f"cell {number}: left out, past the {PARSE_BUDGET // 1024**2} MB of cells the grader parses"
        try:
            return ast.parse(text), ""
        except SyntaxError as error:
            line = error.lineno or 0
            if 0 < line <= len(lines) and _IPYTHON_LINE.search(lines[line - 1]) and lines[line - 1].strip():
                lines[line - 1] = ""
                blanked.add(line - 1)
                continue
            return None, f"cell {number}: left out, it does not parse (line {line}: {error.msg})"
        except (RecursionError, MemoryError):  # Python's parser gives up on nesting this deep
            return None, f"cell {number}: left out, it nests too deeply for Python's parser"


def _left_out_because(statement: ast.stmt, known: set[str]) -> str | None:
    """Why a top-level statement is left out; None where it is kept; "" where it is left out unsaid
    (a bare string: a comment)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return ""
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        annotation = [statement.annotation] if isinstance(statement, ast.AnnAssign) else []
        if all(isinstance(t, ast.Name) for t in targets) and all(_constant(v, known)
                                                                 for v in [statement.value, *annotation]):
            return None
    return "only definitions are graded"


def _constant(value: ast.expr, known: set[str]) -> bool:
    """Whether ``value`` is computed without a call, from names already kept (or built in)."""
    for node in ast.walk(value):
        if isinstance(node, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda,
                             ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
        if isinstance(node, ast.Name) and node.id not in known:
            return False
    return True


def _bound_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def notebook_from_module(source: str, markdown: dict[str, str] | None = None, *, end: list | None = None):
    """A notebook of a contract module's source, one step a cell: its imports and constants, then
    each function in a cell of its own; ``markdown[name]`` is a markdown cell put before function
    ``name``'s, and ``end`` cells come last. Building the contract back gives the same module."""
    import nbformat.v4 as v4

    markdown = markdown or {}
    lines = source.splitlines()
    tree = ast.parse(source)
    starts = []
    for statement in tree.body:
        start = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        defines = isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        while defines and start > 1 and lines[start - 2].startswith("#"):
            start -= 1  # the comment just above a function goes with it
        if defines or not starts or starts[-1][1]:
            starts.append((start, getattr(statement, "name", "") if defines else ""))
    cells = []
    for (start, name), (stop, _) in zip(starts, [*starts[1:], (len(lines) + 1, "")]):
        if name in markdown:
            cells.append(v4.new_markdown_cell(markdown[name]))
        text = "\n".join(lines[start - 1: stop - 1]).strip("\n")
        if text:
            cells.append(v4.new_code_cell(text))
    notebook = v4.new_notebook(cells=[*cells, *(end or [])])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook
