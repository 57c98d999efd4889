"""Grading forks: mnist_checks/grading/course/batch.py."""

import pytest
from helpers import git

from mnist_checks.grading.course import batch, checker, gradebook, results
from mnist_checks.grading.students.rubric import DEFAULT_RUBRIC, score_tests

pytestmark = pytest.mark.fast

#: A fork's contract: only its bytes (the cache key) and its commit matter to these tests.
CONTRACT_SOURCE = "def scale(X):\n    return X / 255\n"


@pytest.mark.parametrize(("raised", "reason"), [
    ({"q1": "split()", "q2": "build_mlp()", "q3": "predicted_digits()", "q4": "scale()", "q5": "build_cnn()"},
     batch.NOT_STARTED),
    ({"q1": "split()", "q2": "build_mlp()", "q3": "predicted_digits()", "q4": "passed", "q5": "build_cnn()"}, ""),
    ({"q1": "split()", "q2": "build_mlp()", "q3": "predicted_digits()", "q4": "AssertionError", "q5": "build_cnn()"},
     ""),
])
def test_a_fork_whose_every_graded_test_raised_not_implemented_reads_as_not_started(raised, reason, starter_run):
    """The gradebook's reason for a fork whose every graded test raised NotImplementedError is "not started";
    a fork that passes or fails any test otherwise keeps its normal (empty) reason."""
    result = results.ForkResult(fork="f", path="/forks/f", status="graded",
                               tests=score_tests(starter_run(raised), DEFAULT_RUBRIC))
    batch.classify(result)
    assert (result.status, result.reason) == ("graded", reason)
    assert gradebook.gradebook_rows([result])[0]["reason"] == reason


def test_a_fork_skipped_as_graded_before_gets_its_new_head_commit_in_the_gradebook(tmp_path, a_result):
    """A fork whose contract is unchanged since it was graded keeps its grade, and its row names the commit it
    is at now, not the one it was graded at."""
    import dataclasses

    from mnist_checks.grading.sandbox import levels
    from mnist_checks.grading.students.starter import commit_starter

    fork, out = tmp_path / "fork", tmp_path / "grades" / "fork"
    (fork / "mnist_checks").mkdir(parents=True)
    (fork / "mnist_checks" / "exercise.py").write_text(CONTRACT_SOURCE)
    first = commit_starter(fork)
    scored_with = batch.Batch(tier="fast", rubric=DEFAULT_RUBRIC, graded=[], key_base="a batch",
                              isolation=levels.UNISOLATED, reference=tmp_path)
    job = batch.prepare(fork, "fork", out, scored_with)
    assert isinstance(job, checker.Job) and job.commit == first[:7]
    earlier = dataclasses.replace(a_result(), fork="fork", path=str(fork), commit=job.commit, key=job.key)
    results.write_fork_outputs(earlier, out, "")
    git(fork, "-c", "user.name=A Student", "-c", "user.email=s@example.com", "commit", "--quiet", "--allow-empty",
         "--message", "README only")
    cached = batch.prepare(fork, "fork", out, scored_with)
    assert isinstance(cached, results.ForkResult) and cached.status == "cached"
    assert cached.commit == git(fork, "rev-parse", "HEAD")[:7] != first[:7]
    assert gradebook.gradebook_rows([cached])[0]["commit"] == cached.commit


def test_a_fork_graded_before_in_a_reused_folder_takes_that_grading_at_its_isolation_or_the_sandboxs(tmp_path,
                                                                                                   a_result):
    """``Grading(reuse=...)``: a contract graded with the same tests, rubric and tier into another
    folder is taken from there, when graded at this batch's isolation or in the sandbox (whose grading
    stands for any); one graded another way, or another contract, is graded afresh."""
    import dataclasses

    from mnist_checks.files import sha256_hex
    from mnist_checks.grading.sandbox import levels

    fork = tmp_path / "fork"
    (fork / "mnist_checks").mkdir(parents=True)
    (fork / "mnist_checks" / "exercise.py").write_text(CONTRACT_SOURCE)
    bases = {level: batch.key_base("fast", DEFAULT_RUBRIC, level, "canon") for level in
             ("preloaded", "bubblewrap", "unisolated")}
    for level, base in bases.items():
        earlier = dataclasses.replace(a_result(), fork=level, isolation=level,
                                      key=sha256_hex(base.encode() + CONTRACT_SOURCE.encode()))
        results.write_fork_outputs(earlier, tmp_path / "earlier" / level, f"{level}'s output")

    def prepared(level, folders, name):
        scored_with = batch.Batch(tier="fast", rubric=DEFAULT_RUBRIC, graded=[], key_base=bases[level],
                                  isolation=levels.PRELOADED, reference=tmp_path,
                                  sandboxed_key_base=bases["bubblewrap"], reusable=batch.reusable(folders))
        return batch.prepare(fork, "fork", tmp_path / name / "fork", scored_with)

    own = prepared("preloaded", [tmp_path / "earlier" / "preloaded"], "own")
    assert isinstance(own, results.ForkResult) and own.status == "cached" and own.isolation == "preloaded"
    assert own.path == str(fork.resolve()) and (tmp_path / "own" / "fork" / results.RESULTS).is_file()
    assert (tmp_path / "own" / "fork" / results.OUTPUT).read_text() == "preloaded's output"
    sandboxed = prepared("preloaded", [tmp_path / "earlier" / "bubblewrap"], "sandboxed")
    assert isinstance(sandboxed, results.ForkResult) and sandboxed.isolation == "bubblewrap"
    assert isinstance(prepared("preloaded", [tmp_path / "earlier" / "unisolated"], "weaker"), checker.Job)
    (fork / "mnist_checks" / "exercise.py").write_text(CONTRACT_SOURCE + "# changed\n")
    assert isinstance(prepared("preloaded", [tmp_path / "earlier"], "changed"), checker.Job)


def test_the_data_set_reaches_each_checkers_environment_never_the_graders(tmp_path, monkeypatch):
    """``Grading.data`` (issue 35): the batch gives each checker process the data set in its own
    environment (``Checker.data``); the grader's ``os.environ`` stays as it was."""
    import os

    from mnist_checks.data import ENV_DATA
    from mnist_checks.grading.limits import Limits
    from mnist_checks.grading.sandbox import levels

    class Started(Exception):
        pass

    seen = {}

    def start_checker(args, cwd, env, cell, *, ready_server=False):
        seen.update(env)
        raise Started

    monkeypatch.setattr(checker, "start_checker", start_checker)
    monkeypatch.delenv(ENV_DATA, raising=False)
    data = str(tmp_path / "mnist.npz")
    with pytest.raises(Started):
        checker.Checker(tmp_path, tmp_path, "all", Limits(), levels.UNISOLATED, tmp_path, data=data).check(b"")
    assert seen[ENV_DATA] == data and ENV_DATA not in os.environ
