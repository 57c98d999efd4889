"""Where Keras 2 and Keras 3 differ, the raw behaviour of the installed Keras, and the one
normalised behaviour the package relies on (``mnist_checks.compat``)."""

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from mnist_checks import architecture, compat
from mnist_checks.compat import KERAS_MAJOR, keras

pytestmark = pytest.mark.fast


def test_metrics_acc_as_a_string_is_keras_2_only(contract):
    """The exercise's ``metrics='acc'``: Keras 2 accepts it, Keras 3 wants a list."""
    model = contract.build_mlp()
    if KERAS_MAJOR >= 3:
        with pytest.raises((TypeError, ValueError)):
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics="acc")
    else:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics="acc")


def test_history_names_acc_as_accuracy(sample, contract):
    """``metrics=['acc']`` logs ``acc`` in Keras 2 and 3 alike; the package reads ``accuracy``."""
    model = contract.build_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    X, y = contract.scale(sample[0][:64]), sample[1][:64]
    raw = model.fit(X, y, validation_data=(X, y), epochs=1, verbose=0).history
    assert "acc" in raw and "val_acc" in raw
    assert set(compat.normalise_history(raw)) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def summary_total(model) -> int:
    text = io.StringIO()
    with redirect_stdout(text):
        model.summary()
    return int(re.search(r"Total params: ([\d,]+)", text.getvalue()).group(1).replace(",", ""))


def test_summary_total_counts_optimizer_variables_after_training_in_keras_3_only(sample, contract):
    model = contract.build_mlp()
    assert summary_total(model) == 25_450
    model.train_on_batch(contract.scale(sample[0][:32]), sample[1][:32])
    if KERAS_MAJOR >= 3:
        assert summary_total(model) > 25_450
    else:
        assert summary_total(model) == 25_450
    assert model.count_params() == 25_450


def test_layer_output_shape_attribute_is_keras_2_only(contract):
    model = contract.build_cnn()
    assert hasattr(model.layers[0], "output_shape") == (KERAS_MAJOR == 2)
    assert architecture.output_shapes(model)[0] == (26, 26, 32)


def test_optimizer_names_differ_but_its_kind_is_adam(contract):
    first, second = contract.build_mlp(), contract.build_mlp()
    names = {first.optimizer.get_config()["name"], second.optimizer.get_config()["name"]}
    if KERAS_MAJOR >= 3:
        assert all(name.startswith("adam") for name in names)
    else:
        assert names == {"Adam"}
    assert compat.optimizer_name(first) == compat.optimizer_name(second) == "adam"


def test_keras_version_is_read_from_the_installed_distribution():
    assert compat.KERAS_VERSION.split(".")[0] == str(KERAS_MAJOR)
    assert compat.BACKEND in {"tensorflow", "jax", "torch"}


def test_on_device_cpu_trains_a_model(contract, sample):
    with compat.on_device("cpu"):
        model = contract.build_mlp()
        loss = model.train_on_batch(contract.scale(sample[0][:32]), sample[1][:32])
    assert np.isfinite(np.ravel(loss)[0])


def test_weights_exist_only_once_a_model_knows_its_input(contract):
    """The exercise builds ``Sequential([Dense(32), Dense(10)])`` without an input: it has no
    weights until its first batch, and ``count_params()`` raises on Keras 2 and 3 alike; asking
    for its ``weights`` raises on Keras 2 and gives ``[]`` on Keras 3. The contract's builders
    declare ``keras.Input``, so their weights exist and count before any training."""
    exercise_style = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    if KERAS_MAJOR >= 3:
        assert exercise_style.weights == []
    else:
        with pytest.raises(ValueError, match="not yet been created"):
            exercise_style.weights  # noqa: B018
    with pytest.raises(ValueError):
        exercise_style.count_params()
    assert len(contract.build_mlp().weights) == 4 and contract.build_mlp().count_params() == 25_450


def test_predict_prints_a_progress_bar_unless_told_not_to(sample, contract, capfd):
    """Keras 2 and 3 both print a progress bar from ``predict()`` by default (Keras 2 as
    ``1/1 [====...]``, Keras 3 as ``1/1 ━━━━...``); the package always passes ``verbose=0``."""
    model = contract.build_mlp()
    X = contract.scale(sample[0][:8])
    capfd.readouterr()
    model.predict(X)
    assert "1/1" in "".join(capfd.readouterr())
    model.predict(X, verbose=0)
    assert "1/1" not in "".join(capfd.readouterr())
