"""The feedback pages and the class report: mnist_checks/grading/course/feedback_page.py, class_report.py."""

import dataclasses

import pytest

from mnist_checks.grading.course import class_report, feedback_page, gradebook, results
from mnist_checks.grading.course.results import ForkResult, ForkStatus

pytestmark = pytest.mark.fast

GRADER_PATH = "/tmp/mnist-checks-grader-x1y2/canon/mnist_checks/grading/sandbox/isolated.py"


def a_slow_result(a_result) -> ForkResult:
    """alice graded in the slow tier too: two trained models, one training reused, one McNemar line."""
    trainings = {
        "mlp_raw": {"key": "a" * 64, "reused": True, "history": {"val_accuracy": [0.85, 0.9, 0.921]},
                    "improvements": []},
        "cnn": {"key": "b" * 64, "reused": False, "history": {"val_accuracy": [0.98, 0.985, 0.991]},
                "improvements": [{"sentence": "cnn vs mlp_scaled: 250 digits only cnn got right", "real": True}]},
    }
    return dataclasses.replace(a_result(), trainings=trainings)


def test_a_feedback_page_shows_every_claim_its_points_and_what_differed(tmp_path, a_result):
    feedback_page.write_feedback(a_result(), tmp_path)
    for page in (tmp_path / "feedback.html", tmp_path / "feedback.md"):
        text = page.read_text()
        assert "alice: 5 / 10" in text and "split sizes" in text and "deterministic" in text
        assert "expected 10000 test rows, found 14000" in text
        assert "Status: graded (the canonical tests ran to their end" in text
    assert not (tmp_path / "curves.png").exists()  # the fast tier trains nothing to draw


def test_a_feedback_page_names_no_grader_path_and_no_library_warning(tmp_path, a_result):
    """A student reads the page: the grader's private paths and modules, and a library's warnings
    in a message, are left out; what the student's code did stays."""
    result = a_result()
    result.tests[1]["message"] = (f"ValueError: bad shape\n  File \"{GRADER_PATH}\", line 308\n"
                                  "UserWarning: Do not pass an `input_shape` argument to a layer\n"
                                  "/tmp/sandbox-9/work/exercise.py:12: found (56000, 784)")
    feedback_page.write_feedback(result, tmp_path)
    for page in (tmp_path / "feedback.html", tmp_path / "feedback.md"):
        text = page.read_text()
        assert "ValueError: bad shape" in text and "exercise.py:12: found (56000, 784)" in text
        assert "mnist_checks/grading" not in text and "/tmp/" not in text and "UserWarning" not in text


def test_a_feedback_page_escapes_what_a_fork_controls(tmp_path, a_result):
    """A message carries text a fork chose (a repr, an exception's words): the HTML shows it as
    text, never as markup."""
    result = a_result()
    result.tests[1]["message"] = "found <script>alert('x')</script> & <b>"
    feedback_page.write_feedback(result, tmp_path)
    html = (tmp_path / "feedback.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_a_slow_tier_feedback_page_draws_curves_says_mcnemar_and_the_shared_trainings(tmp_path, a_result):
    written = feedback_page.write_feedback(a_slow_result(a_result), tmp_path)
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG") and tmp_path / "curves.png" in written
    md, html = (tmp_path / "feedback.md").read_text(), (tmp_path / "feedback.html").read_text()
    assert "](curves.png)" in md and 'src="data:image/png;base64,' in html  # the HTML page is one file
    for text in (md, html):
        assert "a real improvement: cnn vs mlp_scaled: 250 digits only cnn got right" in text
        assert f"reused an identical earlier training ({'a' * gradebook.SHORT_KEY})" in text
        assert "0.9210" in text and "0.924 ± 0.02" in text  # mlp_raw's final beside the published figure


def write_course(out, results_):
    for result in results_:
        results.write_fork_outputs(result, out / result.fork, "")
        feedback_page.write_feedback(result, out / result.fork)
    gradebook.write_gradebook(results_, out / gradebook.GRADEBOOK)


def test_the_class_report_links_every_fork_counts_statuses_and_the_claims_most_failed(tmp_path, a_result):
    bob = dataclasses.replace(a_result(), fork="bob <b>", path="/forks/bob")
    never = ForkResult(fork="carol", path="/forks/carol", status=ForkStatus.NOT_GRADED, reason="interrupted")
    full = dataclasses.replace(a_result(), fork="dan", path="/forks/dan",
                               tests=[{**t, "outcome": "passed", "score": t["max_score"]} for t in a_result().tests])
    write_course(tmp_path, [a_result(), bob, full])
    gradebook.write_gradebook([a_result(), bob, full, never], tmp_path / gradebook.GRADEBOOK)
    written = class_report.write_class_report(tmp_path)
    assert written == [tmp_path / "report.html", tmp_path / "report.png"]
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
    context = class_report.class_context(tmp_path)
    assert [f["page"] for f in context["forks"]] == ["alice/feedback.html", "bob%20%3Cb%3E/feedback.html",
                                                     "dan/feedback.html", ""]  # carol has no page yet
    assert {s["status"]: s["count"] for s in context["statuses"]} == {"graded": 3, "not graded": 1}
    (claim,) = context["claims"]
    assert (claim["question"], claim["claim"], claim["count"]) == ("q1", "deterministic", 2)
    assert claim["typical"] == "AssertionError: expected 10000 test rows, found 14000"
    html = (tmp_path / "report.html").read_text()
    assert 'href="bob%20%3Cb%3E/feedback.html"' in html and "bob &lt;b&gt;" in html
    assert html.count('class="distribution"') == 2  # Q1 and the total: the questions graded


def test_the_class_report_reads_forks_graded_in_earlier_calls(tmp_path, a_result):
    """The report is the folder's, not the call's: a fork graded in an earlier call is in it."""
    write_course(tmp_path, [a_result()])
    bob = dataclasses.replace(a_result(), fork="bob", path="/forks/bob")
    results.write_fork_outputs(bob, tmp_path / "bob", "")
    earlier = gradebook.read_gradebook(tmp_path / gradebook.GRADEBOOK)
    gradebook.write_gradebook(gradebook.merge_gradebook(earlier, [bob]), tmp_path / gradebook.GRADEBOOK)
    assert [f["fork"] for f in class_report.class_context(tmp_path)["forks"]] == ["alice", "bob"]


def test_the_class_report_counts_a_cached_fork_under_how_its_grading_ended(tmp_path, a_result):
    """A re-run takes every unchanged fork from cache: the report still says which failed to load,
    and leaves them out of the distributions and the failed claims."""
    broken = [{**t, "outcome": "failed", "score": 0.0, "message": "SyntaxError"} for t in a_result().tests]
    failed = ForkResult(fork="cy", path="/forks/cy", status=ForkStatus.FAILED_TO_LOAD, reason="SyntaxError",
                        tests=broken)
    write_course(tmp_path, [a_result(), failed])
    again = [results.read_results(tmp_path / name / "results.json", name) for name in ("alice", "cy")]
    gradebook.write_gradebook(again, tmp_path / gradebook.GRADEBOOK)  # both rows now read `cached`
    context = class_report.class_context(tmp_path)
    assert [(f["shown_status"], f["graded"]) for f in context["forks"]] == [("graded (cached)", True),
                                                                            ("failed to load (cached)", False)]
    assert {s["status"]: s["count"] for s in context["statuses"]} == {"graded": 1, "failed to load": 1}
    assert [c["count"] for c in context["claims"]] == [1]  # alice's failure alone


def test_the_class_report_leaves_unwritten_functions_out_of_the_claims_most_failed(tmp_path, a_result):
    """A claim failed only because its function still raises NotImplementedError is counted apart
    (``unfinished``), so untouched starters do not fill the table of claims most often failed."""
    unwritten = [{**t, "outcome": "failed", "score": 0.0, "error": "NotImplementedError", "raised_by": "split",
                  "message": "not implemented yet: Q1: split is not implemented yet"} for t in a_result().tests]
    starter = dataclasses.replace(a_result(), fork="starter", path="/forks/starter", tests=unwritten)
    write_course(tmp_path, [a_result(), starter])
    context = class_report.class_context(tmp_path)
    assert [(c["claim"], c["count"]) for c in context["claims"]] == [("deterministic", 1)]  # alice's alone
    assert context["unfinished"] == 1
