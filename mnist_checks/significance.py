"""Is an improvement real? Paired tests of two models on the same test digits (Q4, Q5).

Both models predict the same 10,000 test digits, so their errors are paired: only the digits
on which they disagree about being right say which model is better (McNemar, 1947; the test
Dietterich, 1998, recommends for two classifiers on one test set).  ``compare`` counts those
disagreements and runs McNemar's exact test, a binomial test of the disagreements against an
even split (``scipy.stats.binomtest``), one-sided for "better than"; the accuracy difference's
interval is the exact (Clopper-Pearson) interval of that split, scaled to the test set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binomtest

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
