"""The course's class report and feedback pages opened in a real headless Chromium (Debian's
``chromium``, driven by Playwright): every fork linked, every question's distribution drawn, a
fork's page reached by its link; a screenshot of each under the test's output.

Where Chromium is missing the tests skip, unless ``MNIST_CHECKS_REQUIRE_BROWSER`` is set (CI
installs Chromium and sets it): then they fail, so a missing browser cannot pass as green."""

import os
import shutil

import pytest

from mnist_checks.grading.course import class_report, feedback_page

# The course's worker (pytest -n 2 --dist loadgroup): the session's course is graded once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("course")]

#: Set (CI sets it) to fail where no Chromium can be started instead of skipping.
REQUIRE_BROWSER = "MNIST_CHECKS_REQUIRE_BROWSER"


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, the system's (``chromium`` on PATH), started by Playwright."""
    from playwright.sync_api import Error, sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail("no chromium on PATH: apt-get install chromium")
        pytest.skip(f"no chromium on PATH (apt-get install chromium); set {REQUIRE_BROWSER}=1 to fail instead")
    with sync_playwright() as playwright:
        try:
            # Chromium's own sandbox needs user namespaces Chromium may not get as root in a container;
            # the pages are the grader's own output, opened from disk with no network.
            started = playwright.chromium.launch(executable_path=executable, chromium_sandbox=False)
        except Error as error:
            pytest.fail(f"{executable} did not start headless: {error}")
        yield started
        started.close()


@pytest.fixture
def page(browser):
    opened = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("requestfailed", lambda request: errors.append(f"{request.url} failed"))
    yield opened
    opened.close()
    assert errors == [], "the page asked for something it does not hold, or its script failed"


def test_the_class_report_links_every_fork_and_draws_every_questions_distribution(course, page, tmp_path):
    report = course["out"] / class_report.REPORT_HTML
    page.goto(report.as_uri())
    linked = page.eval_on_selector_all("a.feedback", "links => links.map(link => link.textContent)")
    assert sorted(linked) == sorted(course["book"]), "every fork of the gradebook is linked to its page"
    drawn = page.eval_on_selector_all(
        "figure.distribution img", "images => images.map(i => [i.closest('figure').dataset.question, "
                                   "i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().height > 0])")
    assert drawn == [[q, True] for q in ("q1", "q2", "q3", "q4", "q5", "total")], "each drawn, decoded and shown"
    failed = page.eval_on_selector_all("tr.failed-claim", "rows => rows.length")
    assert 0 < failed <= class_report.TOP_CLAIMS
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_a_forks_link_opens_its_feedback_page_with_what_lost_its_points(course, page, tmp_path):
    """The sigmoid fork's page, reached from the report: Q2's failed claim says sigmoid, and no
    grader path shows anywhere on the page."""
    page.goto((course["out"] / class_report.REPORT_HTML).as_uri())
    page.click("a.feedback >> text=q2-sigmoid-hidden")
    page.wait_for_load_state()
    assert page.url.endswith(f"q2-sigmoid-hidden/{feedback_page.FEEDBACK_HTML}")
    assert page.title().startswith("q2-sigmoid-hidden: ")
    failed = page.inner_text("section#q2 li.claim.failed")
    assert "sigmoid" in failed
    body = page.inner_text("body")
    assert "mnist_checks/grading" not in body and "mnist-checks-grader" not in body
    page.screenshot(path=tmp_path / "feedback.png", full_page=True)
    assert (tmp_path / "feedback.png").stat().st_size > 10_000
