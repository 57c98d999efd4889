"""Is an improvement real? Paired tests of two models on the same test digits (Q4, Q5).

Both models predict the same 10,000 test digits, so their errors are paired: only the digits
on which they disagree about being right say which model is better (McNemar, 1947; the test
Dietterich, 1998, recommends for two classifiers on one test set).  ``compare`` counts those
disagreements and runs McNemar's exact test, a binomial test of the disagreements against an
even split (``scipy.stats.binomtest``), one-sided for "better than"; the accuracy difference's
interval is the exact (Clopper-Pearson) interval of that split, scaled to the test set.

Across seeds (``pytest -m slow --seeds N``), ``across_seeds`` gives a model's mean final accuracy
with an interval that covers both what varies between seeds and the test set's own sampling
uncertainty (Bouthillier et al., MLSys 2021), and ``improvement_share`` how many seeds show an
improvement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binomtest, norm

from .facts import IMPROVEMENT_ALPHA, IMPROVEMENT_CONFIDENCE


@dataclass(frozen=True)
class Comparison:
    """``better`` against ``worse`` on the same digits: their disagreements and McNemar's test."""

    better: str
    worse: str
    digits: int
    only_better_right: int  # digits the better model got right and the worse one wrong
    only_worse_right: int
    p_value: float  # McNemar's exact test, one-sided: the better model is right more often
    difference: float  # accuracy of better minus accuracy of worse
    interval: tuple[float, float]  # IMPROVEMENT_CONFIDENCE interval of the difference

    def is_improvement(self, alpha: float = IMPROVEMENT_ALPHA) -> bool:
        """Whether ``better`` is significantly more accurate than ``worse`` at level ``alpha``."""
        return self.p_value < alpha

    def sentence(self) -> str:
        low, high = self.interval
        return (f"{self.better} vs {self.worse}: {self.only_better_right:,} digits only {self.better} got right, "
                f"{self.only_worse_right:,} only {self.worse}; McNemar's exact p = {self.p_value:.2g}; accuracy "
                f"{self.difference:+.4f} ({IMPROVEMENT_CONFIDENCE:.0%} interval {low:+.4f} to {high:+.4f})")

    def as_record(self) -> dict:
        return {**asdict(self), "interval": list(self.interval)}

    @classmethod
    def from_record(cls, record: dict) -> "Comparison":
        return cls(**{**record, "interval": tuple(record["interval"])})


def compare(y_true, better_predicted, worse_predicted, *, better: str, worse: str,
            confidence: float = IMPROVEMENT_CONFIDENCE) -> Comparison:
    """McNemar's exact test of ``better`` against ``worse``: their predicted digits for the same
    true digits ``y_true`` (Q3's ``predicted_digits`` of each model)."""
    y_true, better_predicted, worse_predicted = (np.asarray(a).ravel() for a in (y_true, better_predicted,
                                                                              worse_predicted))
    if not len(y_true) == len(better_predicted) == len(worse_predicted):
        raise ValueError(f"predictions for {len(better_predicted)} and {len(worse_predicted)} digits of "
                         f"{len(y_true)}: both models must predict the same digits")
    better_right, worse_right = better_predicted == y_true, worse_predicted == y_true
    only_better, only_worse = int(np.sum(better_right & ~worse_right)), int(np.sum(worse_right & ~better_right))
    disagreements, digits = only_better + only_worse, len(y_true)
    if disagreements == 0:
        return Comparison(better, worse, digits, 0, 0, 1.0, 0.0, (0.0, 0.0))
    one_sided = binomtest(only_better, disagreements, 0.5, alternative="greater")
    share = binomtest(only_better, disagreements, 0.5).proportion_ci(confidence, method="exact")
    scale = disagreements / digits  # difference = scale * (2 * share - 1)
    return Comparison(better, worse, digits, only_better, only_worse, float(one_sided.pvalue),
                      (only_better - only_worse) / digits,
                      (scale * (2 * share.low - 1), scale * (2 * share.high - 1)))


@dataclass(frozen=True)
class AcrossSeeds:
    """One model's final accuracy over several seeds, each on the same ``digits`` test digits."""

    model: str
    finals: tuple[float, ...]
    digits: int
    confidence: float = IMPROVEMENT_CONFIDENCE

    @property
    def mean(self) -> float:
        return float(np.mean(self.finals))

    @property
    def seed_sd(self) -> float:
        """The seeds' standard deviation (0 for one seed)."""
        return float(np.std(self.finals, ddof=1)) if len(self.finals) > 1 else 0.0

    @property
    def binomial_se(self) -> float:
        """The test set's sampling standard error at the mean accuracy: sqrt(p (1 - p) / digits)."""
        return float(np.sqrt(self.mean * (1 - self.mean) / self.digits))

    @property
    def interval(self) -> tuple[float, float]:
        """A normal interval for the accuracy a new seed would average to on new digits: the mean's
        variance is the seeds' variance over their number plus the test set's binomial variance."""
        half = norm.ppf(0.5 + self.confidence / 2) * np.sqrt(self.seed_sd ** 2 / len(self.finals)
                                                            + self.binomial_se ** 2)
        return self.mean - float(half), self.mean + float(half)

    def sentence(self) -> str:
        low, high, seeds = *self.interval, len(self.finals)
        return (f"{self.model}: mean {self.mean:.4f} over {seeds} seed{'s' * (seeds != 1)} "
                f"({min(self.finals):.4f}-{max(self.finals):.4f}), {self.confidence:.0%} interval {low:.4f}-"
                f"{high:.4f} (seed sd {self.seed_sd:.4f}, the test set's binomial se {self.binomial_se:.4f})")


def improvement_share(comparisons: list[Comparison], alpha: float = IMPROVEMENT_ALPHA) -> str:
    """One improvement claim over several seeds: on how many it holds at ``alpha``, and the
    largest p-value."""
    first = comparisons[0]
    held = sum(comparison.is_improvement(alpha) for comparison in comparisons)
    return (f"{first.better} over {first.worse}: an improvement at alpha {alpha} on {held} of {len(comparisons)} "
            f"seeds ({held / len(comparisons):.0%}); largest p {max(c.p_value for c in comparisons):.2g}")
