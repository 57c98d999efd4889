"""The command line and the run policy behind it, without training: `run_exercise` and the data
replaced where they live (`mnist_checks.run`, `mnist_checks.data`) by a fake that returns a record
as a run writes it; what each command prints and exits with; run directories, `latest`, the
verdict, several seeds on a pool, the mutation report's exit rule; `--help` without TensorFlow."""

import dataclasses
import functools
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_checks import cli, facts, report, seeds
from mnist_checks.data import DataError
from mnist_checks.plan import Settings, planned

pytestmark = pytest.mark.fast

COMMANDS = ("run", "spread", "grade", "mutants", "starter")
DATA = "fake.npz"


def fake_record(settings: Settings = Settings(), final: float | None = None) -> dict:
    """A record as ``run_exercise`` writes it for ``settings``: every model ends at its published
    figure, or at ``final``."""
    models = {}
    for model in planned(settings):
        epochs, claim = model.epochs(settings), facts.PUBLISHED[model.name]
        accuracy = [claim.val_accuracy if final is None else final] * epochs
        models[model.name] = {
            "question": model.question, "description": model.description, "epochs": epochs,
            "parameters": model.published_parameters, "published_val_accuracy": claim.val_accuracy,
            "history": {"loss": [0.3] * epochs, "accuracy": accuracy, "val_loss": [0.3] * epochs,
                        "val_accuracy": accuracy, "seconds": [0.1] * epochs},
        }
    environment = {"package": "0", "python": "3", "keras": "3", "backend": "tensorflow", "tensorflow": "2",
                   "device": "cpu", "cpu": "a CPU", "cores": 2, "seed": settings.seed}
    return {"started_at": "2026-01-01T00:00:00+00:00", "settings": dataclasses.asdict(settings),
            "environment": environment, "models": models, "wall_seconds": 1.0,
            "published": {name: {**dataclasses.asdict(claim), "curve": list(claim.curve)}
                          for name, claim in facts.PUBLISHED.items()}}


@pytest.fixture
def training(monkeypatch, tmp_path):
    """``run_exercise``, ``run_record`` and the data replaced at their owners: each model is announced
    as the real run announces it, and ``training.final`` (None: the published figures) is where
    every model ends; the data is 7 blank digits in ``DATA``."""
    import mnist_checks.run

    source = tmp_path / "data" / DATA
    source.parent.mkdir()
    source.write_bytes(b"digits")
    state = SimpleNamespace(final=None, calls=[], source=source)

    def run_exercise(X, y, settings, *, on_model=None, **kwargs):
        state.calls.append(settings)
        for model in planned(settings):
            if on_model:
                on_model(model, model.epochs(settings))
        return mnist_checks.run.Run(record=fake_record(settings, state.final))

    monkeypatch.setattr("mnist_checks.run.run_exercise", run_exercise)
    monkeypatch.setattr("mnist_checks.run.run_record",
                        lambda data, name, settings, source=None: fake_record(settings, state.final))
    monkeypatch.setattr("mnist_checks.cluster.process_pool", lambda jobs: ThreadPoolExecutor(jobs))
    monkeypatch.setattr("mnist_checks.data.locate", lambda data=None, download=True: source)
    monkeypatch.setattr("mnist_checks.data.load_digits",
                        lambda path: (np.zeros((7, 784), np.uint8), np.zeros(7, np.uint8)))
    return state


def test_bare_mnist_checks_lists_its_commands(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mnist-checks")
    for command in COMMANDS:
        assert re.search(rf"^ +{command} +\w", err, flags=re.MULTILINE), f"{command} is not listed"


def test_run_announces_each_model_with_one_epoch_or_several_epochs(training, tmp_path, capsys):
    cli.main(["run", "--out", str(tmp_path / "out"), "--mlp-epochs", "2", "--cnn-epochs", "1", "--quiet"])
    announced = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert [line.rsplit(", ", 1)[1] for line in announced] == ["2 epochs", "2 epochs", "1 epoch"]
    assert announced[0].startswith("[1/3] mlp_raw: MLP on raw pixels 0..255 (Q2)")


def test_run_names_its_data_before_training_quiet_or_not(training, tmp_path, capsys):
    for quiet in ([], ["--quiet"]):
        cli.main(["run", "--out", str(tmp_path / "out"), *quiet])
        out = capsys.readouterr().out
        assert f"data: {training.source} (7 digits)\n" in out
        assert out.index("data: ") < out.index("[1/3] mlp_raw")


def test_a_run_in_which_no_model_was_judged_says_so_last_and_exits_3(training, tmp_path, capsys):
    argv = ["run", "--out", str(tmp_path / "out"), "--mlp-epochs", "1", "--cnn-epochs", "1", "--quiet"]
    assert cli.main(argv) == 3
    out, err = capsys.readouterr()
    assert out.count("not judged (other epochs)") == 3
    assert "not judged" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert (tmp_path / "out" / report.LATEST).is_symlink(), "a complete run, though not judged"


@pytest.mark.parametrize(("final", "status", "said"), [
    (None, 0, ""), (0.5, 1, "outside the published tolerance: mlp_raw, mlp_scaled, cnn")])
def test_a_run_as_published_exits_0_within_its_tolerances_and_1_outside(training, tmp_path, capsys, final, status,
                                                                        said):
    training.final = final
    assert cli.main(["run", "--out", str(tmp_path / "out"), "--quiet"]) == status
    assert training.calls == [Settings()]
    assert capsys.readouterr().err.strip() == (f"mnist-checks: {said}" if said else "")


def test_the_run_commands_help_lists_every_exit_status(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for status in ("0 when", "1 when", "2 on", "3 when no model was trained as published", "130 on"):
        assert status in text


def test_run_seed_writes_a_directory_of_its_own_and_points_latest_to_it(training, tmp_path):
    written = seeds.run_seed(tmp_path / "out", Settings(seed=4))
    assert written.directory.parent == tmp_path / "out" and written.directory.name.endswith("-seed4")
    assert (tmp_path / "out" / report.LATEST).resolve() == written.directory.resolve() == written.latest.resolve()
    assert json.loads(written.paths["record"].read_text()) == written.run.record
    assert seeds.verdict([written.run.record]) == seeds.Verdict(seeds.PASSED)


@pytest.mark.parametrize("out_exists", [False, True])
def test_run_seed_leaves_nothing_behind_when_nothing_trained(training, tmp_path, monkeypatch, out_exists):
    def no_data(*args, **kwargs):
        raise DataError("no digits here")

    monkeypatch.setattr("mnist_checks.data.load_digits", no_data)
    out = tmp_path / "out"
    if out_exists:
        out.mkdir()
    with pytest.raises(DataError):
        seeds.run_seed(out)
    assert (list(out.iterdir()) == []) if out_exists else not out.exists()


def test_run_seed_keeps_a_partial_run_that_latest_never_points_to(training, tmp_path, monkeypatch):
    import mnist_checks.run

    partial = fake_record()
    del partial["models"]["cnn"]
    partial["interrupted_during"] = "cnn"

    def interrupted(*args, **kwargs):
        raise mnist_checks.run.RunInterrupted(mnist_checks.run.Run(record=partial))

    monkeypatch.setattr("mnist_checks.run.run_exercise", interrupted)
    written = seeds.run_seed(tmp_path / "out")
    assert written.interrupted_during == "cnn" and written.latest is None
    assert not (tmp_path / "out" / report.LATEST).exists()
    assert json.loads(written.paths["record"].read_text())["interrupted_during"] == "cnn"


def test_run_directories_refuse_an_output_directory_under_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(seeds.OutputError, match=r"^--out .*file/runs: cannot write the runs' outputs there"):
        seeds.run_directories(tmp_path / "file" / "runs", datetime.now(), [0, 1])
    assert [path.name for path in tmp_path.iterdir()] == ["file"]


def test_the_verdict_judges_only_models_trained_as_published():
    published, short = Settings(), Settings(mlp_epochs=1, cnn_epochs=1)
    assert seeds.verdict([fake_record(published)]).outcome == seeds.PASSED
    assert seeds.verdict([fake_record(short)]).outcome == seeds.NOT_JUDGED
    assert seeds.verdict([fake_record(short, final=0.1)]).outcome == seeds.NOT_JUDGED, "not judged at all"
    cnn_only = fake_record(Settings(mlp_epochs=1))  # the CNN as published, the MLPs not
    assert seeds.verdict([cnn_only]).outcome == seeds.PASSED
    wrong = fake_record(Settings(seed=7), final=0.5)
    assert seeds.verdict([fake_record(published), wrong], per_seed=True) == seeds.Verdict(
        seeds.OUTSIDE, "outside the published tolerance: seed 7: mlp_raw, mlp_scaled, cnn")


def test_several_seeds_each_get_a_directory_and_share_a_spread(training, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "--seeds", "3-4", "--jobs", "2", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"data: {training.source}\ntraining 2 seeds (3, 4) 2 at a time\n")
    assert "  seed 3: mlp_raw" in said and "  seed 4: mlp_raw" in said
    assert [path.name.rsplit("-", 1)[1] for path in sorted(out.glob("run-*"))] == ["seed3", "seed4"]
    (spread,) = out.glob("spread-*-seeds3-4.md")
    assert "over 2 runs (seeds 3, 4)" in spread.read_text()
    (curves,) = out.glob("curves-*-seeds3-4.png")
    assert curves.read_bytes().startswith(b"\x89PNG")


def test_one_seed_of_several_is_one_seed_and_none_judged_exits_3(training, tmp_path, capsys):
    argv = ["run", "--seeds", "5", "--mlp-epochs", "1", "--cnn-epochs", "1", "--out", str(tmp_path / "out")]
    assert cli.main(argv) == 3
    out, err = capsys.readouterr()
    assert "training 1 seed (5) 1 at a time" in out and "not judged" in err.strip().splitlines()[-1]


def test_run_seeds_interrupted_writes_the_seeds_that_finished_and_removes_the_others(training, tmp_path):
    def on_seed(seed, record, directory):
        raise KeyboardInterrupt

    with pytest.raises(seeds.SeedsInterrupted) as stopped:
        seeds.run_seeds([0, 1, 2], tmp_path / "out", jobs=1, on_seed=on_seed)
    assert (stopped.value.finished, stopped.value.total) == (1, 3)
    (kept,) = (tmp_path / "out").glob("run-*")
    assert (kept / report.RECORD).is_file()


def test_the_mutants_command_exits_as_the_reports_verdict_says(monkeypatch, tmp_path, capsys):
    from mnist_checks.grading.catalogue import mutation_report
    from mnist_checks.grading.catalogue.mutation_report import Outcome, summarise

    def outcome(name, kind, lost):
        return Outcome(name, kind, "q1" if kind == "mutant" else "", "", 60 - lost, 60, {"q1": lost}, [])

    found = {}

    @functools.wraps(mutation_report.grade_catalogue)  # its signature: the command line's defaults
    def grade_catalogue(reference, out, grading, *, on_start=None, **kwargs):
        on_start(1, 1)
        return found["report"]

    monkeypatch.setattr("mnist_checks.grading.catalogue.mutation_report.grade_catalogue", grade_catalogue)
    found["report"] = summarise([outcome("m", "mutant", 5), outcome("v", "variant", 0)], "fast")
    assert cli.main(["mutants", "--out", str(tmp_path)]) == 0
    assert "grading 1 mutant and 1 correct variant (sample of" in capsys.readouterr().out
    found["report"] = summarise([outcome("m", "mutant", 5), outcome("v", "variant", 2)], "fast")
    assert cli.main(["mutants", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"mnist-checks: {mutation_report.verdict(found['report'])[0]}\n"


def test_the_command_lines_defaults_are_the_librarys(tmp_path):
    """No literal default in the commands: each is a library setting, signature default or constant."""
    for path in (Path(cli.__file__).parent / "commands").glob("*.py"):
        literal = re.findall(r"default=([\d\"'][^,)]*)", path.read_text())
        assert literal == [], f"{path.name}: literal defaults {literal}"
    from mnist_checks.commands.common import defaults
    from mnist_checks.grading.catalogue import mutation_report

    parser = cli.build_parser()
    run = parser.parse_args(["run"])
    assert (run.out, run.jobs) == (report.DEFAULT_OUT, defaults(seeds.run_seeds)["jobs"])
    assert (run.seed, run.mlp_epochs, run.cnn_epochs) == (Settings.seed, Settings.mlp_epochs, Settings.cnn_epochs)
    mutants = parser.parse_args(["mutants"])
    assert (mutants.out, mutants.min_kill_rate) == (mutation_report.DEFAULT_OUT, defaults(mutation_report.verdict)[
        "min_kill_rate"])


def test_a_grading_is_frozen_and_its_defaults_are_the_command_lines(tmp_path):
    """``Grading`` (issue 35): one frozen settings object; ``grade`` without options grades with its
    defaults, and ``mutants`` offers them too (its isolation the catalogue's: ``CATALOGUE_GRADING``)."""
    from mnist_checks.commands.common import defaults
    from mnist_checks.commands.grades import grading_of
    from mnist_checks.grading.catalogue import mutation_report
    from mnist_checks.grading.course.grading import Grading

    grading = Grading()
    with pytest.raises(dataclasses.FrozenInstanceError):
        grading.tier = "slow"
    assert defaults(Grading) == {field.name: getattr(grading, field.name) for field in dataclasses.fields(Grading)}
    parser = cli.build_parser()
    assert grading_of(parser.parse_args(["grade", str(tmp_path)])) == grading
    mutants = parser.parse_args(["mutants"])
    catalogue = mutation_report.CATALOGUE_GRADING
    assert (mutants.tier, mutants.jobs, mutants.allow_unisolated, tuple(mutants.reuse), mutants.isolation) == (
        catalogue.tier, catalogue.jobs, catalogue.allow_unisolated, catalogue.reuse, catalogue.isolation)
    assert dataclasses.replace(catalogue, isolation=grading.isolation) == grading


def test_grade_passes_its_options_as_one_grading_and_sets_no_environment(monkeypatch, tmp_path, capsys):
    """``grade`` parses its options into a ``Grading`` and calls ``grade_forks`` with it: the data set
    travels in it to each checker, never through this process's environment (issue 35)."""
    import os

    from mnist_checks.grading.course import pools
    from mnist_checks.grading.course.grading import GradingReport
    from mnist_checks.grading.course.history import parse_due, parse_late_policy
    from mnist_checks.grading.limits import Limits

    seen = []

    def grade_forks(forks, reference, out, grading, *, on_begin, on_start, on_result, say):
        seen.append(grading)
        on_begin(pools.where(None, grading.jobs))
        return GradingReport([])

    monkeypatch.setattr("mnist_checks.commands.grades.grade_forks", grade_forks)
    (tmp_path / "fork").mkdir()
    before = dict(os.environ)
    assert cli.main(["grade", str(tmp_path / "fork"), "--out", str(tmp_path / "grades"), "--tier", "slow", "--data",
                     str(tmp_path / "mnist.npz"), "--jobs", "3", "--regrade", "--retrain", "--isolation", "uid",
                     "--fork-timeout", "60", "--due", "2026-12-10T23:59+01:00", "--late-policy", "10%/day"]) == 0
    assert dict(os.environ) == before
    (grading,) = seen
    assert (grading.tier, grading.data, grading.jobs, grading.regrade, grading.retrain, grading.isolation) == (
        "slow", str(tmp_path / "mnist.npz"), 3, True, True, "uid")
    assert grading.limits == Limits(fork_seconds=60) and grading.cluster is None and grading.roster is None
    assert (grading.due, grading.late_policy) == (parse_due("2026-12-10T23:59+01:00"), parse_late_policy("10%/day"))
    assert capsys.readouterr().out.startswith("grading 1 fork(s), slow tier, 3 at a time\n")


def test_help_imports_no_tensorflow():
    code = ("import sys\nfrom mnist_checks import cli\n"
            "for argv in ([], ['--help'], ['run', '--help'], ['grade', '--help'], ['mutants', '--help']):\n"
            "    try:\n        cli.main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("argv", "problem"), [
    (["grade", "{tmp}/missing"], "not a directory"),
    (["grade", "{tmp}", "--rubric", "{tmp}/none.json"], "not a readable JSON rubric"),
    (["grade", "{tmp}", "--reference", "{tmp}"], "not the reference checkout"),
    (["starter", "{tmp}/out", "--reference", "{tmp}"], "not the reference checkout"),
    (["grade", "{tmp}", "--out", "{tmp}/grades.txt"], "--out {tmp}/grades.txt is a file; grades go into a folder"),
])
def test_grade_and_starter_commands_reject_bad_input_with_a_message(tmp_path, capsys, argv, problem):
    from mnist_checks import cli

    (tmp_path / "grades.txt").write_text("not a folder")
    problem = problem.format(tmp=tmp_path)
    assert cli.main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err


def test_starter_command_refuses_to_overwrite_a_directory(tmp_path, capsys):
    from mnist_checks import cli

    (tmp_path / "kept.txt").write_text("mine")
    assert cli.main(["starter", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "kept.txt").read_text() == "mine"


def test_grading_refuses_where_forks_cannot_be_sandboxed_and_names_the_remedy(tmp_path, capsys, monkeypatch):
    """No bubblewrap on this PATH: the grader says why and how to proceed, and grades nothing."""
    from mnist_checks import cli

    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "fork").mkdir()
    assert cli.main(["grade", str(tmp_path / "fork"), "--out", str(tmp_path / "grades")]) == 2
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "apt-get install bubblewrap" in err and "--allow-unisolated" in err
    assert "Traceback" not in err and not (tmp_path / "grades").exists()
