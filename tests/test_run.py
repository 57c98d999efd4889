"""The run behind `mnist-checks run` and the slow suite, on the 700-digit sample, one epoch each:
its record, its determinism, the warm start it makes visible, its outputs and its command line."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from mnist_checks import cli, facts, plots, report
from mnist_checks.plan import MODELS, Settings
from mnist_checks.records import ModelRecord, models_of
from mnist_checks.run import RunInterrupted, run_exercise

# One pytest-xdist worker runs this module (pytest -n 2 --dist loadgroup): its module fixture is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("run")]

SHORT = Settings(mlp_epochs=2, cnn_epochs=1, warm=True)


@pytest.fixture(scope="module")
def short_run(sample, contract):
    return run_exercise(*sample, SHORT, contract=contract)


def test_run_trains_the_models_in_the_exercises_order(short_run):
    assert list(short_run.record["models"]) == ["mlp_raw", "mlp_scaled", "mlp_scaled_warm", "cnn"]


def test_run_records_every_epochs_metrics_and_wall_time(short_run):
    for name, model in short_run.record["models"].items():
        history = model["history"]
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
            assert len(history[key]) == model["epochs"], (name, key)
        assert all(s > 0 for s in history["seconds"])
        assert 0 <= history["val_accuracy"][-1] <= 1


def test_run_record_survives_json(short_run):
    assert json.loads(json.dumps(short_run.record)) == short_run.record
    read_back = {name: model.to_json() for name, model in models_of(json.loads(json.dumps(short_run.record))).items()}
    assert json.dumps(read_back, indent=2) == json.dumps(short_run.record["models"], indent=2)  # typed, byte for byte


def test_run_predictions_are_the_test_digits_predicted_right_after_training(short_run, sample, contract):
    X_test = contract.to_images(contract.split(contract.scale(sample[0]))[1])
    again = contract.predicted_digits(short_run.models["cnn"].predict(X_test, verbose=0))
    assert short_run.predictions["cnn"].shape == short_run.y_test.shape == (100,)
    np.testing.assert_array_equal(short_run.predictions["cnn"], again)


def test_same_seed_gives_the_same_run_with_plain_fit_or_the_fast_path(sample, contract, short_run):
    """A second run, with plain fit() instead of steps_per_execution, reproduces every loss and
    accuracy exactly: the seed fixes the run, and the fast path changes dispatch, not arithmetic."""
    assert not SHORT.plain_fit
    plain = run_exercise(*sample, dataclasses.replace(SHORT, plain_fit=True), contract=contract).record["models"]
    for name, fast in short_run.record["models"].items():
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            np.testing.assert_array_equal(fast["history"][key], plain[name]["history"][key], err_msg=f"{name} {key}")


def test_warm_started_q4_model_shares_the_raw_mlps_weights_and_fresh_ones_do_not(short_run):
    ids = {name: {id(v) for v in model.weights} for name, model in short_run.models.items()}
    assert ids["mlp_scaled_warm"] == ids["mlp_raw"]
    assert not ids["mlp_scaled"] & ids["mlp_raw"]
    assert short_run.record["models"]["mlp_scaled_warm"]["raw_predictions_changed"] > 0


def test_outputs_are_a_record_a_plot_and_a_report(short_run, tmp_path):
    paths = report.write_outputs(short_run.record, tmp_path / "out")
    assert json.loads(paths["record"].read_text()) == short_run.record
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = paths["report"].read_text()
    assert f"]({report.PLOT})" in text
    for name in short_run.record["models"]:
        assert f"| {name} |" in text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths.values())


def test_table_compares_each_model_with_its_published_figure(short_run):
    lines = report.table(short_run.record).splitlines()
    assert "published" in lines[0] and len(lines) == 2 + 4
    assert any(line.startswith("cnn") and "0.992" in line for line in lines)


def test_cli_run_prints_the_table_and_writes_the_outputs(monkeypatch, sample, short_run, tmp_path, capsys):
    """The command line passes its options to the run and reports what the run returns."""
    calls = []

    def fake_run(X, y, settings, **kwargs):
        calls.append(settings)
        kwargs["on_model"](MODELS["cnn"], settings.cnn_epochs)
        return short_run

    _sample_as_data(monkeypatch, sample)
    monkeypatch.setattr("mnist_checks.run.run_exercise", fake_run)
    argv = ["run", "--out", str(tmp_path), "--mlp-epochs", "4", "--cnn-epochs", "3", "--quiet", "--seed", "3",
            "--warm", "--plain-fit"]
    assert cli.main(argv) == 3, "no model trained for its published epochs: none judged"
    assert calls == [Settings(seed=3, mlp_epochs=4, cnn_epochs=3, warm=True, plain_fit=True)]
    out = capsys.readouterr().out
    assert "[4/4] cnn" in out and "published" in out
    assert f"data: the sample ({len(sample[0]):,} digits)" in out
    assert json.loads((tmp_path / report.LATEST / report.RECORD).read_text()) == short_run.record
    assert (tmp_path / report.LATEST).resolve().name.endswith("-seed3")


def _sample_as_data(monkeypatch, sample):
    monkeypatch.setattr("mnist_checks.data.locate", lambda *args, **kwargs: "the sample")
    monkeypatch.setattr("mnist_checks.data.load_digits", lambda *args, **kwargs: sample)


def _runs(out) -> list:
    return sorted(path.name for path in out.glob("run-*"))


def test_cli_reports_a_bad_data_source_without_a_traceback(tmp_path, capsys):
    assert cli.main(["run", "--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "missing.npz" in err and "no such file" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_interrupted_run_writes_nothing(monkeypatch, sample, tmp_path, capsys):
    _sample_as_data(monkeypatch, sample)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("mnist_checks.run.run_exercise", interrupted)
    assert cli.main(["run", "--out", str(tmp_path / "out")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [
    ["run", "--mlp-epochs", "0"], ["run", "--mlp-epochs", "x"], ["run", "--seed", "x"], ["run", "--seed", "-5"],
    ["run", "--seed", "99999999999"], ["grade", "f", "--call-timeout", "-1"], ["grade", "f", "--jobs", "two"],
    ["grade", "f", "--memory-mb", "-3"], ["mutants", "--min-kill-rate", "2"], [], ["run", "--seeds", "4-2"],
    ["run", "--seeds", "0,x"], ["run", "--seed", "1", "--seeds", "0-4"], ["run", "--seeds", "0-5000"],
])
def test_cli_rejects_bad_arguments_with_usage_before_any_work(argv, capsys, monkeypatch):
    monkeypatch.setattr("mnist_checks.data.locate", lambda *a, **k: pytest.fail("loaded data despite a bad option"))
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: mnist-checks" in err
    assert "Traceback" not in err and " _" not in err, "internal names leak into the message"


@pytest.mark.parametrize("seed", ["-5", "99999999999"])
def test_cli_says_the_seed_range(seed, capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--seed", seed])
    assert f"from 0 to {cli.MAX_SEED}" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--jobs", "2"], "--jobs, --cluster and --spread-page are for several seeds: give them with --seeds"),
    (["run", "--spread-page", "docs/spread.md"], "--spread-page are for several seeds: give them with --seeds"),
    (["run", "--seeds", "0-1", "--cluster", "local"], 'pip install -e ".[cluster]"'),
    (["grade", ".", "--cluster", "local"], 'pip install -e ".[cluster]"'),
])
def test_cli_options_for_many_jobs_say_what_they_need_before_any_work(argv, message, monkeypatch, capsys, sample,
                                                                      tmp_path):
    """Without Dask installed (an import that fails), --cluster names the extra to install."""
    import sys

    _sample_as_data(monkeypatch, sample)
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_cli_refuses_an_unwritable_output_directory_before_loading_data(where, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    out = blocker if where == "a file" else blocker / "runs"
    monkeypatch.setattr("mnist_checks.data.locate", lambda *a, **k: pytest.fail("loaded data before checking --out"))
    assert cli.main(["run", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mnist-checks: --out {out}: cannot write") and err.count("\n") == 2  # and the remedy
    assert blocker.read_text() == "not a directory"


def test_every_run_gets_its_own_directory_and_latest_points_to_the_newest_complete_one(
        monkeypatch, sample, short_run, tmp_path, capsys):
    _sample_as_data(monkeypatch, sample)
    monkeypatch.setattr("mnist_checks.run.run_exercise", lambda *a, **k: short_run)
    out = tmp_path / "out"
    assert cli.main(["run", "--out", str(out), "--quiet"]) == 3  # complete, though none judged: short epochs
    first = (out / report.LATEST).resolve()
    kept = {path.name: path.read_bytes() for path in first.iterdir()}
    assert sorted(kept) == sorted([report.RECORD, report.PLOT, report.REPORT])

    partial = dataclasses.replace(short_run, record=json.loads(json.dumps(short_run.record)))
    del partial.record["models"]["cnn"]
    partial.record["interrupted_during"] = "cnn"

    def interrupted(*args, **kwargs):
        raise RunInterrupted(partial)

    monkeypatch.setattr("mnist_checks.run.run_exercise", interrupted)
    assert cli.main(["run", "--out", str(out), "--quiet"]) == 130
    assert len(_runs(out)) == 2 and (out / report.LATEST).resolve() == first, "a partial run became latest"
    monkeypatch.setattr("mnist_checks.run.run_exercise", lambda *a, **k: short_run)
    assert cli.main(["run", "--out", str(out), "--quiet"]) == 3
    assert len(_runs(out)) == 3 and (out / report.LATEST).resolve() not in (first, out / _runs(out)[1])
    assert {path.name: path.read_bytes() for path in first.iterdir()} == kept, "an earlier run was changed"


def test_outputs_get_the_permissions_of_the_users_umask(short_run, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        paths = report.write_outputs(short_run.record, tmp_path)
    finally:
        os.umask(old)
    assert {oct(path.stat().st_mode & 0o777) for path in paths.values()} == {"0o644"}


def test_record_says_when_from_which_data_with_which_version_and_how_long(sample, contract):
    from mnist_checks import __version__
    from mnist_checks.data import sha256_of

    record = run_exercise(*sample, Settings(mlp_epochs=1, cnn_epochs=1), contract=contract, source="sample.npz").record
    assert record["started_at"][:2] == "20" and record["started_at"].endswith("+00:00")
    assert record["data"] == {"source": "sample.npz", "rows": len(sample[0]),
                              "pixels_sha256": sha256_of(sample[0]), "labels_sha256": sha256_of(sample[1])}
    assert record["environment"]["package"] == __version__
    assert record["wall_seconds"] >= sum(sum(m["history"]["seconds"]) for m in record["models"].values()) - 0.1


def test_cli_exits_1_when_a_model_trained_as_published_misses_its_tolerance(monkeypatch, sample, short_run,
                                                                          tmp_path, capsys):
    record = json.loads(json.dumps(short_run.record))
    cnn = record["models"]["cnn"]
    cnn["epochs"] = len(facts.PUBLISHED["cnn"].curve)
    cnn["history"]["val_accuracy"][-1] = facts.PUBLISHED["cnn"].val_accuracy - 0.05
    _sample_as_data(monkeypatch, sample)
    monkeypatch.setattr("mnist_checks.run.run_exercise", lambda *a, **k: dataclasses.replace(short_run, record=record))
    assert cli.main(["run", "--out", str(tmp_path), "--quiet"]) == 1
    assert "outside the published tolerance: cnn" in capsys.readouterr().err
    assert report.out_of_tolerance(short_run.record) == [], "models trained for other epochs are not judged"


def test_plot_ticks_the_first_and_last_epoch_and_marks_a_partial_run(short_run, tmp_path, monkeypatch):
    import matplotlib.axes

    assert plots.epoch_ticks(1) == [1]
    for last in (2, 10, 13, 20, 37):
        ticks = plots.epoch_ticks(last)
        assert ticks[0] == 1 and ticks[-1] == last and ticks == sorted(set(ticks)) and len(ticks) <= 12
    titles, ticks = [], []
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, text, **k: titles.append(text))
    original = matplotlib.axes.Axes.set_xticks
    monkeypatch.setattr(matplotlib.axes.Axes, "set_xticks",
                        lambda self, values, *a, **k: (ticks.append(list(values)), original(self, values, *a, **k)))
    partial = {**short_run.record, "interrupted_during": "cnn"}
    plots.plot_curves(short_run.record, tmp_path / "a.png")
    plots.plot_curves(partial, tmp_path / "b.png")
    assert ticks[0][0] == 1
    assert ticks[0][-1] == max(len(facts.PUBLISHED[n].curve) for n in short_run.record["models"])
    assert "PARTIAL" not in titles[0] and "PARTIAL RUN" in titles[1] and "cnn" in titles[1]


def test_cli_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    options = ("--data", "--no-download", "--out", "--seed", "--mlp-epochs", "--cnn-epochs", "--warm", "--plain-fit")
    for option in options:
        assert option in text


def test_spread_tabulates_each_models_final_accuracy_across_runs(short_run, tmp_path, capsys):
    paths = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        record = json.loads(json.dumps(short_run.record))
        record["settings"]["seed"] = seed
        for model in record["models"].values():
            model["history"]["val_accuracy"][-1] = 0.9 + shift
        paths.append(tmp_path / f"seed{seed}.json")
        paths[-1].write_text(json.dumps(record))
    assert cli.main(["spread", *map(str, paths), "--out", str(tmp_path / "spread.md")]) == 0
    row = next(line for line in (tmp_path / "spread.md").read_text().splitlines() if line.startswith("| cnn |"))
    assert row.split(" | ")[1:6] == ["0.992", "0.9100", "0.0141", "0.9000", "0.9200"]
    # Into a page with the markers (docs/spread.md): its table and margins rewritten, its prose kept, and
    # the windows this spread makes unsafe named.
    page = tmp_path / "page.md"
    page.write_text((Path(__file__).resolve().parent.parent / "docs" / "spread.md").read_text())
    capsys.readouterr()
    assert cli.main(["spread", *map(str, paths), "--out", str(page)]) == 0
    written, said = page.read_text(), capsys.readouterr().out
    assert "| cnn | 0.992 | 0.9100 | 0.0141 | 0.9000 | 0.9200 |" in written and "How the tolerances" in written
    assert next(line for line in written.splitlines() if line.startswith("| cnn | 0.8677-0.9523 |"))
    assert "window: cnn's window" in said and "honest runs would fail it" in said


@pytest.mark.parametrize("change, complaint", [
    (lambda r: r["settings"].update(cnn_epochs=9), "differ in their settings"),
    (lambda r: r.update(interrupted_during="cnn"), "an interrupted run"),
    (lambda r: r.pop("models"), "not a record.json"),
    (lambda r: r["models"]["cnn"]["history"].update(val_accuracy=[]), "not a record.json"),
    (lambda r: r.update(models=[1, 2]), "not a record.json"),
])
def test_spread_refuses_runs_that_do_not_pool_and_malformed_records(short_run, tmp_path, capsys, change, complaint):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(short_run.record))
    record = json.loads(json.dumps(short_run.record))
    change(record)
    bad.write_text(json.dumps(record))
    assert cli.main(["spread", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert complaint in err and "Traceback" not in err and "bad.json" in err


def test_published_curves_end_at_the_published_figures_after_the_published_epochs():
    """The per-epoch figures copied from the exercise agree with its finals and its epochs."""
    for name, claim in facts.PUBLISHED.items():
        epochs = Settings().cnn_epochs if name == "cnn" else Settings().mlp_epochs
        assert len(claim.curve) == epochs, name
        assert round(claim.curve[-1], 3) == claim.val_accuracy, name


def test_plot_draws_each_published_curve_once_beside_every_model(short_run, tmp_path, monkeypatch):
    import matplotlib.axes

    drawn = []  # (y values, linestyle) of every line plotted
    original = matplotlib.axes.Axes.plot

    def recording_plot(self, x, y, *args, **kwargs):
        drawn.append((tuple(y), kwargs.get("linestyle")))
        return original(self, x, y, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", recording_plot)
    plots.plot_curves(short_run.record, tmp_path / "plot.png")
    dashed = [y for y, style in drawn if style == "--"]
    assert sorted(dashed) == sorted({facts.PUBLISHED[name].curve for name in short_run.record["models"]})
    assert len(drawn) - len(dashed) == len(short_run.record["models"])


def test_ctrl_c_keeps_the_models_that_finished_and_names_the_one_in_training(sample, contract):
    """Also: ``on_model`` announces each model before it trains, ``on_epoch`` each of its epochs as it ends."""
    told = []

    def interrupt_the_cnn(model, epochs):
        told.append((model.name, epochs))
        if model.name == "cnn":
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as stopped:
        run_exercise(*sample, Settings(mlp_epochs=2, cnn_epochs=1), contract=contract, on_model=interrupt_the_cnn,
                     on_epoch=lambda done, epochs: told.append((done, epochs)))
    record = stopped.value.run.record
    assert list(record["models"]) == ["mlp_raw", "mlp_scaled"]
    assert record["interrupted_during"] == "cnn"
    assert told == [("mlp_raw", 2), (1, 2), (2, 2), ("mlp_scaled", 2), (1, 2), (2, 2), ("cnn", 1)]


def test_cli_interrupted_run_writes_what_finished_and_says_so(monkeypatch, sample, short_run, tmp_path, capsys):
    partial = dataclasses.replace(short_run, record=json.loads(json.dumps(short_run.record)))
    del partial.record["models"]["cnn"]
    partial.record["interrupted_during"] = "cnn"

    def interrupted(*args, **kwargs):
        raise RunInterrupted(partial)

    _sample_as_data(monkeypatch, sample)
    monkeypatch.setattr("mnist_checks.run.run_exercise", interrupted)
    assert cli.main(["run", "--out", str(tmp_path / "out"), "--quiet"]) == 130
    assert "interrupted during cnn" in capsys.readouterr().err
    (run_dir,) = (tmp_path / "out").glob("run-*")
    written = json.loads((run_dir / report.RECORD).read_text())
    assert written["interrupted_during"] == "cnn" and "cnn" not in written["models"]
    assert "**Interrupted**" in (run_dir / report.REPORT).read_text()
    assert not (tmp_path / "out" / report.LATEST).exists()


def test_cli_shows_no_tensorflow_start_up_lines_unless_verbose():
    import os
    import subprocess
    import sys

    code = "import mnist_checks.compat as c; c.keras.ops.convert_to_tensor([1.0]) if c.KERAS_MAJOR >= 3 else None"
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_CHECKS_VERBOSE", "TF_CPP_MIN_LOG_LEVEL")}
    quiet = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert quiet.stderr == ""
    loud = subprocess.run([sys.executable, "-c", code], env={**env, "MNIST_CHECKS_VERBOSE": "1"},
                          capture_output=True, text=True, check=True)
    assert loud.stderr == "" or "I0000" in loud.stderr or "oneDNN" in loud.stderr or "absl" in loud.stderr


def test_learning_curves_across_seeds_are_bands_from_the_lowest_to_the_highest_seed(tmp_path):
    """Issue 20: per model and epoch, the band runs from the lowest seed's val_accuracy to the
    highest's, around their median, for the epochs every seed reached; the plot draws them."""
    def record(seed, curve):
        published = {"val_accuracy": 0.924, "tolerance": 0.02, "curve": list(facts.PUBLISHED["mlp_raw"].curve)}
        model = ModelRecord("q2", "Q2's MLP", len(curve), 101770, {"val_accuracy": curve}, 0.924)
        return {"settings": {"seed": seed}, "published": {"mlp_raw": published}, "models": {"mlp_raw": model.to_json()}}

    records = [record(0, [0.80, 0.90, 0.92]), record(1, [0.84, 0.88, 0.93]), record(2, [0.82, 0.86])]
    low, median, high = plots.bands(records)["mlp_raw"]
    assert (low, median, high) == ([0.80, 0.86], [0.82, 0.88], [0.84, 0.90])
    plots.plot_bands(records, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
