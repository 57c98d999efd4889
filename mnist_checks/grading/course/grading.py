"""One batch's settings (``Grading``) and what it reports (``GradingReport``), issue 35.

``batch.grade_forks`` grades with a ``Grading``: every setting of ``mnist-checks grade`` in one
frozen object, whose defaults are the command line's (``commands.common.defaults`` reads them
from its fields). Who grades otherwise changes what they need of it (``dataclasses.replace``):
the mutation report (``catalogue.mutation_report``) and Gradescope's autograder (``gradescope``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..limits import Limits
from ..sandbox import levels
from ..students.rubric import DEFAULT_RUBRIC
from .history import LatePolicy
from .results import ForkResult
from .roster import Matching, Student


@dataclass(frozen=True)
class Grading:
    """How a batch grades its forks: the tests (``tier``) and their points (``rubric``), each fork's
    ``limits`` and ``isolation``, where the checks run (``jobs`` here, or a Dask ``cluster``), what is
    taken from earlier calls (``regrade``, ``retrain``, ``reuse``), the slow tier's ``data`` and
    ``trainings``, and a course's records (``due``, ``late_policy``, ``roster``: issue 34)."""

    tier: str = "fast"  # the graded tests: fast, slow or all (slow and all need the full data)
    rubric: dict = field(default_factory=lambda: DEFAULT_RUBRIC)  # points per question and tier (load_rubric)
    limits: Limits = Limits()
    isolation: str = "auto"  # levels.CHOICES; "preloaded" is for the catalogue's own code alone, never students'
    allow_unisolated: bool = False  # grade where no sandbox can start (UNSAFE); every row says so
    jobs: int = 1  # forks graded at once here, or the worker processes of cluster "local"
    # None: this machine's pool; "local" or a scheduler's address: a cluster the batch opens and closes
    # (pools.cluster_client); a distributed.Client: the caller's, left open
    cluster: object = None
    regrade: bool = False  # grade again forks graded before with the same contract, tests and rubric
    retrain: bool = False  # reuse no training from earlier calls (also $MNIST_CHECKS_RETRAIN)
    # the full data set beyond the fast tier (data.locate's source; None: as `run` finds it), located once
    # and given to each checker's environment, never to the grader's own
    data: str | None = None
    trainings: str | None = None  # the store kept across calls (trainings.open_store); None: the default one
    reuse: tuple = ()  # folders of earlier outputs whose gradings are taken (batch.reusable)
    due: datetime | None = None  # grade each fork's last commit by then (history.at_due)
    late_policy: LatePolicy | None = None  # with due: later commits graded at HEAD, less a penalty
    roster: list[Student] | None = None  # the course's students (roster.read_roster): each row's student

    def __post_init__(self):
        if self.cluster is not None and self.isolation not in ("auto", levels.BUBBLEWRAP):
            raise ValueError(f"isolation {self.isolation} grades on this machine, not on a cluster (its workers use "
                             "bubblewrap)")


@dataclass
class GradingReport:
    """What one ``grade_forks`` call did: ``results``, a row per fork given, in their order; the
    gradebook's rows before the call (``earlier``) and as it wrote them (``gradebook``); and the
    roster's ``matching`` of the forks (None without a roster)."""

    results: list[ForkResult]
    earlier: list[dict] = field(default_factory=list)
    gradebook: list[dict] = field(default_factory=list)
    matching: Matching | None = None
