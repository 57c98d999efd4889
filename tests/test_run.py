"""The run behind `mnist-checks run` and the slow suite, on the 700-digit sample, one epoch each:
its record, its determinism, the warm start it makes visible, its outputs and its command line."""

import dataclasses
import json

import numpy as np
import pytest

from mnist_checks import cli, facts, report
from mnist_checks.run import RunInterrupted, Settings, run_exercise

pytestmark = pytest.mark.fast

SHORT = Settings(mlp_epochs=2, cnn_epochs=1, faithful=True)


@pytest.fixture(scope="module")
def short_run(sample, ex):
    return run_exercise(*sample, SHORT, impl=ex)


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


def test_run_predictions_are_the_test_digits_predicted_right_after_training(short_run, sample, ex):
    X_test = ex.to_images(ex.split(ex.scale(sample[0]))[1])
    again = ex.predicted_digits(short_run.models["cnn"].predict(X_test, verbose=0))
    assert short_run.predictions["cnn"].shape == short_run.y_test.shape == (100,)
    np.testing.assert_array_equal(short_run.predictions["cnn"], again)


def test_same_seed_gives_the_same_run_with_plain_fit_or_the_fast_path(sample, ex, short_run):
    """A second run, with plain fit() instead of steps_per_execution, reproduces every loss and
    accuracy exactly: the seed fixes the run, and the fast path changes dispatch, not arithmetic."""
    assert SHORT.fast
    plain = run_exercise(*sample, dataclasses.replace(SHORT, fast=False), impl=ex).record["models"]
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


def test_an_interrupted_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "record.json"
    target.write_text("previous")
    with pytest.raises(KeyboardInterrupt):
        with report._atomic(target, "w") as handle:
            handle.write("half")
            raise KeyboardInterrupt
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_cli_run_prints_the_table_and_writes_the_outputs(monkeypatch, sample, short_run, tmp_path, capsys):
    """The command line passes its options to the run and reports what the run returns."""
    calls = []

    def fake_run(X, y, settings, **kwargs):
        calls.append(settings)
        kwargs["on_model"]("cnn", settings.cnn_epochs)
        return short_run

    monkeypatch.setattr("mnist_checks.data.load_digits", lambda *args, **kwargs: sample)
    monkeypatch.setattr("mnist_checks.run.run_exercise", fake_run)
    argv = ["run", "--out", str(tmp_path), "--mlp-epochs", "4", "--cnn-epochs", "3", "--quiet", "--seed", "3",
            "--faithful", "--plain-fit"]
    assert cli.main(argv) == 0
    assert calls == [Settings(seed=3, mlp_epochs=4, cnn_epochs=3, faithful=True, fast=False)]
    out = capsys.readouterr().out
    assert "[4/4] cnn" in out and "published" in out
    assert json.loads((tmp_path / report.RECORD).read_text()) == short_run.record


def test_cli_reports_a_bad_data_source_without_a_traceback(tmp_path, capsys):
    assert cli.main(["run", "--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "missing.npz" in err and "no such file" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_interrupted_run_writes_nothing(monkeypatch, sample, tmp_path, capsys):
    monkeypatch.setattr("mnist_checks.data.load_digits", lambda *args, **kwargs: sample)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("mnist_checks.run.run_exercise", interrupted)
    assert cli.main(["run", "--out", str(tmp_path / "out")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["run", "--mlp-epochs", "0"], ["run", "--seed", "x"], []])
def test_cli_rejects_bad_arguments_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "usage: mnist-checks" in capsys.readouterr().err


def test_cli_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    for option in ("--data", "--no-download", "--out", "--seed", "--mlp-epochs", "--cnn-epochs", "--faithful", "--plain-fit"):
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
    report.plot_curves(short_run.record, tmp_path / "plot.png")
    dashed = [y for y, style in drawn if style == "--"]
    assert sorted(dashed) == sorted({facts.PUBLISHED[name].curve for name in short_run.record["models"]})
    assert len(drawn) - len(dashed) == len(short_run.record["models"])


def test_ctrl_c_keeps_the_models_that_finished_and_names_the_one_in_training(sample, ex):
    def interrupt_the_cnn(name, epochs):
        if name == "cnn":
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as stopped:
        run_exercise(*sample, Settings(mlp_epochs=1, cnn_epochs=1), impl=ex, on_model=interrupt_the_cnn)
    record = stopped.value.run.record
    assert list(record["models"]) == ["mlp_raw", "mlp_scaled"]
    assert record["interrupted_during"] == "cnn"


def test_cli_interrupted_run_writes_what_finished_and_says_so(monkeypatch, sample, short_run, tmp_path, capsys):
    partial = dataclasses.replace(short_run, record=json.loads(json.dumps(short_run.record)))
    del partial.record["models"]["cnn"]
    partial.record["interrupted_during"] = "cnn"

    def interrupted(*args, **kwargs):
        raise RunInterrupted(partial)

    monkeypatch.setattr("mnist_checks.data.load_digits", lambda *args, **kwargs: sample)
    monkeypatch.setattr("mnist_checks.run.run_exercise", interrupted)
    assert cli.main(["run", "--out", str(tmp_path / "out"), "--quiet"]) == 130
    assert "interrupted during cnn" in capsys.readouterr().err
    written = json.loads((tmp_path / "out" / report.RECORD).read_text())
    assert written["interrupted_during"] == "cnn" and "cnn" not in written["models"]
    assert "**Interrupted**" in (tmp_path / "out" / report.REPORT).read_text()
