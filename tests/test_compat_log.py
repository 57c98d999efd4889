"""The compatibility log's fidelity table (issue 20): per TensorFlow environment, each model's final
val_accuracy against its window and each improvement's McNemar test, as written into
docs/compatibility.md."""

import pytest

from mnist_checks import compat_log, facts

pytestmark = pytest.mark.fast


def _slow_entry(env: str, raw_accuracy: float) -> dict:
    published = facts.PUBLISHED["mlp_raw"]
    return {
        "env": env, "tier": "slow", "tensorflow": "2.15.1", "keras": "2.15.0", "backend": "tensorflow",
        "python": "3.11.7", "exit": 0, "seconds": 400.0, "passed": 26, "failed": 0, "error": 0, "skipped": 0,
        "models": {"mlp_raw": {"val_accuracy": raw_accuracy, "published": published.val_accuracy,
                               "tolerance": published.tolerance, "within": published.admits(raw_accuracy)}},
        "improvements": [{"better": "cnn", "worse": "mlp_scaled", "digits": 10000, "only_better_right": 331,
                          "only_worse_right": 42, "p_value": 1e-50, "difference": 0.0289,
                          "interval": [0.0255, 0.0323]}],
    }


def test_the_fidelity_table_marks_a_model_outside_its_window_and_prints_each_mcnemar_test():
    published = facts.PUBLISHED["mlp_raw"]
    inside = published.val_accuracy
    outside = published.val_accuracy - published.tolerance - 0.01
    table = compat_log.fidelity([_slow_entry("tf221", inside), _slow_entry("tf215", outside),
                                 {**_slow_entry("tf218", inside), "tier": "fast"}])
    rows = [line for line in table.splitlines() if "| mlp_raw |" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| tf215", "| tf221"], "slow sessions only, by environment"
    assert rows[0].endswith("| **no** |") and rows[1].endswith("| yes |")
    low, high = published.val_accuracy - published.tolerance, published.val_accuracy + published.tolerance
    assert f"{low:.4f}-{high:.4f}" in rows[0]
    assert "| tf215 | cnn over mlp_scaled | 331 | 42 | 1e-50 | +0.0289 (+0.0255 to +0.0323) |" in table


def test_the_fidelity_table_is_empty_without_a_slow_session():
    assert compat_log.fidelity([{**_slow_entry("tf221", 0.92), "tier": "fast"}]) == ""
