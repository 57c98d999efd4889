"""``mnist-checks mutants``: grade the catalogue (``mutants.py``) and say how much a green run proves.

Every mutant and correct variant becomes a fork (the starter with the edited contract), graded
by the normal grader: by default at isolation ``preloaded`` (the catalogue is our own code, not
hostile: each fork's student server starts with TensorFlow loaded, no sandbox), or through the
sandbox (``isolation="bubblewrap"``), which grades every fork the same, test by test
(``tests/test_course.py``); the generated correct variants (``variants.py``: whole
contracts in other spellings) join the hand-written ones, a fixed sample of them or all.  The
report gives per mutant the points it lost per question and the tests that caught it, per
variant its score, and the kill rate (mutants that lose a point) and false-fail rate (variants
that lose a point, generated or not), per question and in total.

Contracts are handed in as notebooks too (``--notebooks``): a fork holding the starter's
exercise.py and ``mnist_checks/exercise.ipynb``, graded as the grader grades a student's notebook
(``notebook.contract_from_notebook``). By default the exercise's own code cells as published
(``published_notebook``), the independent contracts' notebooks and one mistake per question
(``notebook_sample``); ``all``: every mistake and hand-written variant besides. Each is a mutant or
correct variant like the rest, and must lose exactly the points its module loses ("As notebooks").
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

from ...notebook import NOTEBOOK, notebook_from_module
from ...questions import QUESTIONS, label
from ..contract import CONTRACT, FUNCTIONS
from ..course.batch import grade_forks
from ..course.grading import Grading
from ..sandbox import levels
from ..solutions import starter_source
from .mutants import MUTANTS, VARIANTS, Mutant, apply
from .published_notebook import published_notebook
from .variants import PUBLISHED, GeneratedVariant, generate_variants, sample_variants

REPORT_MD, REPORT_JSON = "mutants.md", "mutants.json"
#: Where ``mnist-checks mutants`` writes the forks, their grades and the report unless told.
DEFAULT_OUT = "mutants"
#: ``--variants sample``: the exercise's own code and this many generated variants drawn with SAMPLE_SEED.
SAMPLE_SIZE, SAMPLE_SEED = 12, 0
#: Correct contracts written by someone who had not read the checks, in tutorials' styles (their README).
INDEPENDENT = Path("tests") / "data" / "contracts"
#: A notebook fork's name: its module's, then this. ``--notebooks sample``'s draw of mistakes uses NOTEBOOK_SEED.
NOTEBOOK_SUFFIX, NOTEBOOK_SEED = "-ipynb", 0
#: The markdown cell before each function's cell in a notebook built from a module.
HEADINGS = {function: f"## {label(question)}: {function}" for function, question in FUNCTIONS.items()}
#: How the catalogue is graded unless told: at isolation preloaded (its forks are this project's own
#: code, not students'), otherwise as ``mnist-checks grade`` grades; every fork afresh (``run``).
CATALOGUE_GRADING = Grading(isolation=levels.PRELOADED.level)


@dataclass
class Outcome:
    name: str
    kind: str  # "mutant" or "variant"
    question: str  # the mutant's question; "" for a variant
    what: str
    score: float
    max_score: float
    lost: dict  # question -> points lost
    caught_by: list  # test ids that failed
    module: str = ""  # a notebook's: the fork of the same contract as a module

    @property
    def killed(self) -> bool:
        return self.score < self.max_score - 1e-9

    @property
    def lost_elsewhere(self) -> dict:
        """Points lost outside the mutant's own question: points that did not stay with it."""
        return {q: p for q, p in self.lost.items() if q != self.question and p > 1e-9}


def mutants_here() -> tuple:
    """The catalogue's mistakes on this Keras: a mistake of one major version alone
    (``only_on_keras``: Keras 3 reads a third positional argument of ``compile`` as loss weights,
    Keras 2 as metrics) is left out on the other."""
    from ...compat import KERAS_MAJOR

    return tuple(m for m in MUTANTS if m.only_on_keras in (None, KERAS_MAJOR))


def generated(variants: str = "sample") -> tuple[GeneratedVariant, ...]:
    """The generated correct variants to grade: ``"all"``, or ``"sample"`` (the exercise's own code
    and ``SAMPLE_SIZE`` others, the same every call)."""
    if variants == "all":
        return generate_variants()
    if variants == "sample":
        return sample_variants(SAMPLE_SIZE + 1, SAMPLE_SEED)
    raise ValueError(f"variants: 'sample' or 'all', not {variants!r}")


def independent(reference: Path) -> tuple[GeneratedVariant, ...]:
    """The reference checkout's contracts written independently of the checks (``INDEPENDENT``):
    correct variants too, every one of which must keep every point."""
    return tuple(GeneratedVariant(path.stem.replace("_", "-"), "written independently of the checks", path.read_text())
                 for path in sorted((Path(reference) / INDEPENDENT).glob("independent_*.py")))


@dataclass(frozen=True)
class AsNotebook:
    """A catalogued contract handed in as a notebook; ``module`` names its fork as a module."""

    name: str
    module: str
    question: str  # a mistake's question; "" for a correct contract
    what: str
    notebook: str  # the notebook's JSON


def notebook_sample() -> tuple[Mutant, ...]:
    """One mistake per question, drawn with ``NOTEBOOK_SEED`` from those of every Keras: the
    mistakes ``--notebooks sample`` hands in as notebooks, the same every call."""
    draw = random.Random(NOTEBOOK_SEED)
    return tuple(draw.choice([m for m in MUTANTS if m.question == q and m.only_on_keras is None]) for q in QUESTIONS)


def as_notebooks(reference: Path, notebooks: str = "sample") -> tuple[AsNotebook, ...]:
    """The notebook forks ``notebooks`` names: ``"none"``; ``"sample"``: the exercise as published,
    the independent contracts and ``notebook_sample``; ``"all"``: those and every mistake and
    hand-written variant. Each module becomes a cell per function (``notebook_from_module``)."""
    import nbformat

    if notebooks not in ("none", "sample", "all"):
        raise ValueError(f"notebooks: 'sample', 'all' or 'none', not {notebooks!r}")
    if notebooks == "none":
        return ()
    source = (reference / CONTRACT).read_text()
    edited = (*mutants_here(), *VARIANTS) if notebooks == "all" else notebook_sample()
    modules = [*((item, apply(source, item.edits)) for item in edited),
               *((item, item.source) for item in independent(reference))]
    items = [AsNotebook(PUBLISHED + NOTEBOOK_SUFFIX, PUBLISHED, "", "the exercise's code cells as published, "
                        "In [1] to In [18] verbatim, with a cell per contract function",
                        nbformat.writes(published_notebook()))]
    for item, text in modules:
        items.append(AsNotebook(item.name + NOTEBOOK_SUFFIX, item.name, getattr(item, "question", ""),
                                f"{item.what}, as a notebook", nbformat.writes(notebook_from_module(text, HEADINGS))))
    return tuple(items)


def build_forks(reference: Path, root: Path, extra: tuple[GeneratedVariant, ...] = (),
                notebooks: tuple[AsNotebook, ...] = ()) -> dict[str, Path]:
    """A fork per mutant and variant under ``root``, holding its contract alone: the reference
    edited, or for a generated variant (``extra``) its own whole source; for a notebook
    (``notebooks``), the notebook beside the starter's exercise.py."""
    source = (reference / CONTRACT).read_text()
    contracts = {item.name: apply(source, item.edits) for item in (*mutants_here(), *VARIANTS)}
    for item in (*extra, *notebooks):
        if item.name in contracts:
            raise ValueError(f"two variants named {item.name}")
        contracts[item.name] = starter_source(source) if isinstance(item, AsNotebook) else item.source
    forks = {}
    for name, text in contracts.items():
        fork = root / name
        fork.mkdir(parents=True)
        (fork / "mnist_checks").mkdir()
        (fork / CONTRACT).write_text(text)
        forks[name] = fork
    for item in notebooks:
        (forks[item.name] / NOTEBOOK).write_text(item.notebook)
    return forks


def run(reference: Path, out: Path, grading: Grading = CATALOGUE_GRADING, *, on_result=None,
        variants: str = "sample", notebooks: str = "sample") -> dict:
    """Build, grade (with ``grading``, every fork afresh) and report the catalogue, with the generated
    variants that ``variants`` names (``generated``) and the notebooks ``notebooks`` names
    (``as_notebooks``); a fork graded before into one of ``grading.reuse``'s folders is taken from
    there (``batch.grade_forks``); returns the report as data (also written to ``out``)."""
    out = Path(out)
    extra = (*generated(variants), *independent(reference))
    handed_in = as_notebooks(reference, notebooks)
    forks = build_forks(reference, out / "forks", extra, handed_in)
    results = grade_forks(list(forks.values()), reference, out / "grades", replace(grading, regrade=True),
                          on_result=on_result).results
    by_name = {result.fork: result for result in results}
    outcomes = []
    for item in (*mutants_here(), *VARIANTS, *extra, *handed_in):
        result = by_name[item.name]
        sums = result.totals
        lost = {q: round(sums[q][1] - sums[q][0], 4) for q in QUESTIONS if q in sums}
        question = getattr(item, "question", "")
        outcomes.append(Outcome(
            name=item.name, kind="mutant" if question else "variant", question=question, what=item.what,
            score=round(sums.get("total", (0, 0))[0], 4), max_score=round(sums.get("total", (0, 0))[1], 4),
            lost=lost, caught_by=[t["id"] for t in result.tests if t["outcome"] != "passed"],
            module=getattr(item, "module", ""),
        ))
    report = summarise(outcomes, grading.tier)
    (out / REPORT_JSON).write_text(json.dumps(report, indent=2))
    (out / REPORT_MD).write_text(markdown(report))
    return report


def counts(reference: Path, variants: str = "sample", notebooks: str = "sample") -> tuple[int, int]:
    """How many mutants and correct variants ``run`` grades (``variants`` and ``notebooks`` as
    there), notebooks included."""
    handed_in = as_notebooks(reference, notebooks)
    mistakes = sum(bool(item.question) for item in handed_in)
    return (len(mutants_here()) + mistakes, len(VARIANTS) + len(generated(variants)) + len(independent(reference))
            + len(handed_in) - mistakes)


def grade_catalogue(reference: Path, out: str | Path = DEFAULT_OUT, grading: Grading = CATALOGUE_GRADING, *,
                    on_start=None, on_result=None, variants: str = "sample", notebooks: str = "sample") -> dict:
    """``mnist-checks mutants``: ``run`` afresh into ``out`` with ``grading``, the forks of an earlier
    call rebuilt from the catalogue; beyond the fast tier the batch finds (downloads) the full data set
    once and gives it to every fork's checker (``Grading.data``). ``on_start(mutants, variants)`` is
    told how many will be graded (``counts``) before the first."""
    import shutil

    out = Path(out)
    if (out / "forks").exists():
        shutil.rmtree(out / "forks")  # ours from an earlier call: rebuilt from the catalogue
    if on_start:
        on_start(*counts(reference, variants, notebooks))
    return run(reference, out, grading, on_result=on_result, variants=variants, notebooks=notebooks)


def verdict(report: dict, min_kill_rate: float = 0.0) -> list[str]:
    """Why ``report`` fails, one line each; none when it passes. It fails where a correct variant
    lost a point, where in the fast tier a mistake lost points outside its own question (its
    points do not stay with it) or a notebook lost other points than its module, or where fewer
    than ``min_kill_rate`` of the mutants lose points. ``mnist-checks mutants`` exits 1 on any.
    (The slow tier's trainings of a ``Dropout`` differ run to run: there both are reported alone.)"""
    failures = []
    if report["false_fails"]:
        failures.append(f"correct variants lost points: {', '.join(report['false_fails'])}")
    if report["misplaced_points"] and report["tier"] == "fast":
        failures.append("mistakes lost points outside their own question: " + "; ".join(
            f"{name} ({', '.join(label(q) for q in lost)})" for name, lost in report["misplaced_points"].items()))
    if report.get("notebook_mismatches") and report["tier"] == "fast":
        failures.append("notebooks lost other points than their modules: " + "; ".join(
            f"{row['name']} ({_points(row['lost_as_notebook'])}; as a module: {_points(row['lost_as_module'])})"
            for row in report["as_notebooks"] if not row["same"]))
    if report["kill_rate"] < min_kill_rate:
        failures.append(f"kill rate {report['kill_rate']:.1%} is below --min-kill-rate {min_kill_rate:.1%}")
    return failures


def summarise(outcomes: list[Outcome], tier: str) -> dict:
    mutants = [o for o in outcomes if o.kind == "mutant"]
    variants = [o for o in outcomes if o.kind == "variant"]
    per_question = {}
    for q in QUESTIONS:
        mine = [o for o in mutants if o.question == q]
        per_question[q] = {"mutants": len(mine), "killed": sum(o.killed for o in mine),
                           "kill_rate": _rate(sum(o.killed for o in mine), len(mine))}
    by_name = {o.name: o for o in outcomes}
    as_notebooks = [{"name": o.name, "module": o.module, "lost_as_module": _lost(by_name[o.module]) if o.module in
                     by_name else None, "lost_as_notebook": _lost(o)} for o in outcomes if o.module]
    for row in as_notebooks:
        row["same"] = row["lost_as_module"] is not None and _same(row["lost_as_module"], row["lost_as_notebook"])
    return {
        "tier": tier,
        "kill_rate": _rate(sum(o.killed for o in mutants), len(mutants)),
        "killed": sum(o.killed for o in mutants),
        "mutants": len(mutants),
        "false_fail_rate": _rate(sum(o.killed for o in variants), len(variants)),
        "false_fails": [o.name for o in variants if o.killed],
        "variants": len(variants),
        "misplaced_points": {o.name: o.lost_elsewhere for o in mutants if o.lost_elsewhere},
        "per_question": per_question,
        "survivors": [o.name for o in mutants if not o.killed],
        "as_notebooks": as_notebooks,
        "notebook_mismatches": [row["name"] for row in as_notebooks if not row["same"]],
        "outcomes": [{**o.__dict__, "killed": o.killed} for o in outcomes],
    }


def markdown(report: dict) -> str:
    lines = [
        f"# Mutation report ({report['tier']} tier)", "",
        f"- Kill rate: **{report['kill_rate']:.1%}** ({report['killed']} of {report['mutants']} mistakes lose points)",
        f"- False fails: **{len(report['false_fails'])}** of {report['variants']} correct variants lose points"
        + (f" ({', '.join(report['false_fails'])})" if report["false_fails"] else ""),
        f"- Mutants that lose points outside their own question: {len(report['misplaced_points'])}",
        *([f"- As notebooks: **{len(report['as_notebooks']) - len(report['notebook_mismatches'])}** of "
           f"{len(report['as_notebooks'])} contracts lose the points they lose as modules"
           + (f" (not: {', '.join(report['notebook_mismatches'])})" if report["notebook_mismatches"] else "")]
          if report.get("as_notebooks") else []), "",
        "| question | mutants | killed | kill rate |", "| --- | --- | --- | --- |",
    ]
    for q, row in report["per_question"].items():
        lines.append(f"| {label(q)} | {row['mutants']} | {row['killed']} | {row['kill_rate']:.0%} |")
    lines += ["", "## Mutants", "",
              "| mutant | question | what the student did | score | points lost per question | caught by |",
              "| --- | --- | --- | --- | --- | --- |"]
    for o in report["outcomes"]:
        if o["kind"] != "mutant":
            continue
        lost = ", ".join(f"{label(q)} {p:g}" for q, p in o["lost"].items() if p > 1e-9) or "**survives**"
        caught = ", ".join(sorted({t.split("::")[-1] for t in o["caught_by"]})[:3])
        more = len({t.split("::")[-1] for t in o["caught_by"]}) - 3
        lines.append(f"| {o['name']} | {label(o['question'])} | {o['what']} | {o['score']:g}/{o['max_score']:g} | "
                     f"{lost} | {caught}{f' (+{more})' if more > 0 else ''} |")
    lines += ["", "## Correct variants", "", "| variant | what | score |", "| --- | --- | --- |"]
    for o in report["outcomes"]:
        if o["kind"] == "variant":
            flag = "" if not o["killed"] else " **false fail**"
            lines.append(f"| {o['name']} | {o['what']} | {o['score']:g}/{o['max_score']:g}{flag} |")
    if report.get("as_notebooks"):
        lines += ["", "## As notebooks", "", "Each contract handed in as `mnist_checks/exercise.ipynb` beside the "
                  "starter's exercise.py, against the same contract as a module.", "",
                  "| notebook | module | points lost as a module | as a notebook | same? |",
                  "| --- | --- | --- | --- | --- |"]
        for row in report["as_notebooks"]:
            module = "not graded" if row["lost_as_module"] is None else _points(row["lost_as_module"])
            lines.append(f"| {row['name']} | {row['module']} | {module} | {_points(row['lost_as_notebook'])} | "
                         f"{'yes' if row['same'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def _lost(outcome: Outcome) -> dict:
    """The points an outcome lost, per question that lost any."""
    return {q: p for q, p in outcome.lost.items() if p > 1e-9}


def _same(left: dict, right: dict) -> bool:
    return left.keys() == right.keys() and all(abs(left[q] - right[q]) < 1e-6 for q in left)


def _points(lost: dict) -> str:
    return ", ".join(f"{label(q)} {p:g}" for q, p in lost.items()) or "none"


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 1.0
