"""facts.PUBLISHED's windows follow from the measured seed spread (docs/spread.md; issue 20, Q2,
Q4, Q5): each is safe for honest runs and telling against a known-wrong model, and the check
catches a window made too narrow (flaky) or too wide (vacuous)."""

import dataclasses
import statistics
from pathlib import Path

import pytest

from mnist_checks import facts, report, windows
from mnist_checks.records import ModelRecord

pytestmark = pytest.mark.fast

SPREAD_PAGE = Path(__file__).resolve().parent.parent / "docs" / "spread.md"


@pytest.fixture(scope="module")
def measured():
    return report.read_spread(SPREAD_PAGE.read_text())


def test_every_published_window_is_safe_and_telling_against_the_measured_spread(measured):
    runs, spreads = measured
    assert runs >= 5, "the windows need the spread of at least five seeds: `mnist-checks run --seeds 0 1 2 3 4`"
    assert windows.problems(spreads) == []


def test_a_window_narrower_than_the_spread_makes_safe_is_caught_as_flaky(measured):
    _, spreads = measured
    narrow = dataclasses.replace(facts.PUBLISHED["mlp_raw"], tolerance=0.01)  # 0.914-0.934: sd 0.005 needs more
    (problem,) = windows.problems(spreads, {**facts.PUBLISHED, "mlp_raw": narrow})
    assert problem.startswith("mlp_raw's window") and "honest runs would fail it" in problem


def test_a_window_wide_enough_to_pass_a_known_wrong_model_is_caught_as_vacuous(measured):
    _, spreads = measured
    wide = dataclasses.replace(facts.PUBLISHED["mlp_scaled"], tolerance=0.035)  # 0.915-0.985 admits raw's 0.920
    (problem,) = windows.problems(spreads, {**facts.PUBLISHED, "mlp_scaled": wide})
    assert "admits mlp_raw's mean" in problem and "forgot to scale" in problem


def test_a_window_the_spread_never_measured_is_a_problem(measured):
    _, spreads = measured
    typed = {name: spread for name, spread in spreads.items() if name != "cnn"}
    (problem,) = windows.problems(typed)
    assert problem == "cnn: the spread has no row for it; measure it with `mnist-checks run --seeds ...`"


def test_the_spread_table_reads_back_what_spread_wrote():
    finals = {"mlp_raw": [0.9211, 0.9187, 0.9302], "cnn": [0.9901, 0.9893, 0.9912]}
    records = [{
        "settings": {"mlp_epochs": 20, "cnn_epochs": 10, "batch_size": 32, "seed": seed},
        "published": {name: {"val_accuracy": facts.PUBLISHED[name].val_accuracy} for name in finals},
        "environment": {"tensorflow": "2.21.0", "keras": "3.15.1", "backend": "tensorflow", "device": "cpu",
                        "cpu": "a CPU", "cores": 2},
        "models": {name: ModelRecord("q5" if name == "cnn" else "q2", name, 2, 1, {"val_accuracy": [0.5, values[seed]]},
                                     facts.PUBLISHED[name].val_accuracy).to_json() for name, values in finals.items()},
    } for seed in range(3)]
    runs, spreads = report.read_spread("page\n\n" + report.spread(records) + "\n\nmore prose\n")
    assert runs == 3 and set(spreads) == set(finals)
    for name, values in finals.items():
        assert spreads[name] == pytest.approx({"mean": statistics.mean(values), "sd": statistics.stdev(values),
                                               "min": min(values), "max": max(values)}, abs=5e-5)


def test_a_page_without_the_table_says_how_to_make_one():
    with pytest.raises(report.RecordError, match="mnist-checks spread"):
        report.read_spread("# Seed-to-seed spread\n\nnothing measured yet\n")


def test_the_spread_page_is_what_the_spread_command_writes_from_its_own_table():
    """docs/spread.md's margins table is computed, not typed: rewriting the page from its own table
    changes nothing (a stale margins table, after facts.py or the spread changed, fails here)."""
    page = SPREAD_PAGE.read_text()
    table = page.split(report.SPREAD_MARKERS[0], 1)[1].split(report.SPREAD_MARKERS[1], 1)[0].lstrip("\n")
    assert report.spread_page(page, table) == page


def test_a_new_spread_rewrites_the_table_and_the_margins_and_keeps_the_prose():
    page = SPREAD_PAGE.read_text()
    table = page.split(report.SPREAD_MARKERS[0], 1)[1].split(report.SPREAD_MARKERS[1], 1)[0].lstrip("\n")
    wider = table.replace("| mlp_raw | 0.924 | 0.9204 | 0.0053 |", "| mlp_raw | 0.924 | 0.9204 | 0.0106 |")
    assert wider != table
    rewritten = report.spread_page(page, wider)
    assert "| mlp_raw | 0.924 | 0.9204 | 0.0106 |" in rewritten
    row = next(line for line in rewritten.splitlines() if line.startswith("| mlp_raw | 0.8886-0.9522 |"))
    assert row.split(" | ")[3:5] == ["-0.0154", "-0.0082"], "no room left: the band is wider than the window"
    prose = [line for line in page.splitlines() if line and not line.startswith("|")]
    assert all(line in rewritten for line in prose if "0.0053" not in line)


def test_a_page_without_the_spread_markers_is_refused_with_the_remedy():
    with pytest.raises(report.RecordError, match="<!-- spread: begin -->"):
        report.spread_page("# a page\n", "| model |\n")
