"""The whole exercise with its published settings: Q2's MLP on raw pixels, Q4's MLP on scaled
pixels, Q5's CNN on scaled images, each validated on Q1's 10,000 test digits every epoch.

``run_exercise`` trains each model once and returns a ``Run``: a JSON-serialisable ``record``
(per-epoch metrics and wall times, parameter counts, environment, published figures) plus the
trained models and their test-set predictions for checks that need them.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from types import ModuleType

import numpy as np

from . import facts
from . import trainings
from .compat import BACKEND, KERAS_VERSION, keras, normalise_history, set_seed
from .speed import STEPS_PER_EXECUTION, as_tensors, compile_for_speed, fit_arrays


@dataclass(frozen=True)
class Settings:
    """How the exercise is run; the defaults are the published settings."""

    seed: int = 0
    mlp_epochs: int = 20
    cnn_epochs: int = 10
    batch_size: int = 32
    faithful: bool = False  # also train Q4 literally: a second MLP on the first one's layers
    fast: bool = True  # the fast path (mnist_checks.speed); False runs the exercise's plain fit


@dataclass
class Run:
    """A finished run: the ``record`` for people and files, models and predictions for checks."""

    record: dict
    models: dict = field(default_factory=dict)
    predictions: dict = field(default_factory=dict)  # predicted test digits right after training
    y_test: np.ndarray | None = None


#: The models of a run, in training order: name -> (question, description).
MODELS = {
    "mlp_raw": ("Q2", "MLP on raw pixels 0..255"),
    "mlp_scaled": ("Q4", "MLP on pixels scaled to [0, 1], fresh weights"),
    "mlp_scaled_warm": ("Q4", "MLP on scaled pixels built from the raw MLP's layers (warm start), as the exercise does"),
    "cnn": ("Q5", "CNN on scaled (28, 28, 1) images"),
}


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``run`` holds the models that finished before it, and its record
    names the model that was training (``interrupted_during``)."""

    def __init__(self, run: Run):
        super().__init__(f"interrupted during {run.record.get('interrupted_during')}")
        self.run = run


class _EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch, validation included."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def run_exercise(X, y, settings: Settings = Settings(), *, impl: ModuleType | None = None,
                 others: ModuleType | None = None, verbose: int = 0, on_model=None,
                 source: str | os.PathLike | None = None, store=None) -> Run:
    """Train the exercise's models (Q2, Q4, Q5) on ``(X, y)`` and record everything.

    ``impl`` is the student contract module (default ``mnist_checks.exercise``); ``verbose`` is
    Keras's (0 silent, 1 progress bar with ETA, 2 a line per epoch); ``on_model(name, epochs)``
    is called before each model trains; ``source`` (where ``X, y`` came from) goes into the record
    beside their fingerprints. Ctrl-C raises ``RunInterrupted`` carrying what finished.

    With a ``store`` (``mnist_checks.trainings``), a training already done with the same key
    (the same arrays fed to ``fit``, model, initial weights, compile settings, run settings and
    environment) is taken from it instead of trained again, and each one trained goes into it;
    each model's record says its key and whether it was ``reused``.

    With ``others`` (the reference, when grading), each model takes from ``impl`` only the
    functions of its own question and the rest from ``others``, so that a mistake costs the
    trained-model claims of its own question alone: Q2's MLP is ``impl.build_mlp`` on the
    reference's split; Q4's is the reference MLP on ``impl.scale``; Q5's CNN is ``impl.build_cnn``
    on ``impl.to_images`` of the reference's scaled split; Q3's digits are ``impl.predicted_digits``.
    """
    if impl is None:
        from . import exercise as impl
    others = others or impl

    started = time.perf_counter()
    record = _new_record(settings, X, y, source)
    X_train, X_test, y_train, y_test = others.split(X, y)
    S_train, S_test = others.split(impl.scale(X))
    C_train, C_test = (S_train, S_test) if others is impl else others.split(others.scale(X))
    run = Run(record=record, y_test=np.asarray(y_test))
    environment = record["environment"]

    def feed(*arrays):
        """The arrays as ``fit()`` gets them (backend tensors made once on the fast path; raw
        pixels as float32, the values Keras casts them to at every step), and their digests."""
        arrays = fit_arrays(*arrays) if settings.fast else [np.asarray(a) for a in arrays]
        return (as_tensors(*arrays) if settings.fast else arrays), [trainings.array_digest(a) for a in arrays]

    (y_train_in, y_test_in), labels = feed(y_train, y_test)
    raw = feed(X_train.astype(np.float32), X_test.astype(np.float32))
    scaled = feed(S_train, S_test)

    current = None  # the model in training, named in the record if the run is interrupted

    def train(name, model, inputs, epochs):
        nonlocal current
        current = name
        (x_train, x_test), (train_digest, test_digest) = inputs
        if on_model:
            on_model(name, epochs)
        if settings.fast:
            compile_for_speed(model)  # before the key: the model keyed is the model trained
        data = {"x_train": train_digest, "x_test": test_digest, "y_train": labels[0], "y_test": labels[1]}
        run_settings = {"epochs": epochs, "batch_size": settings.batch_size, "seed": settings.seed,
                        "steps_per_execution": STEPS_PER_EXECUTION if settings.fast else 1}
        try:
            key, why = trainings.training_key(model, data, run_settings, environment), None
        except trainings.NoKey as error:
            key, why = None, str(error)

        def fit() -> trainings.Training:
            set_seed(settings.seed)  # the batches' order depends on the seed alone, not on how the model was built
            timer = _EpochTimer()
            history = model.fit(
                x_train, y_train_in, epochs=epochs, batch_size=settings.batch_size,
                validation_data=(x_test, y_test_in), verbose=verbose, callbacks=[timer],
            )
            probabilities = model.predict(x_test, batch_size=settings.batch_size, verbose=0)
            return trainings.Training(model.get_weights(), {**normalise_history(history.history), "seconds": timer.seconds},
                                      np.asarray(probabilities))

        training, reused = trainings.fetch_or_train(store, key, fit)
        if reused:
            model.set_weights(training.weights)
        run.models[name] = model
        run.predictions[name] = impl.predicted_digits(training.probabilities)
        run.record["models"][name] = {
            "question": MODELS[name][0],
            "description": MODELS[name][1],
            "epochs": epochs,
            "parameters": int(model.count_params()),
            "history": training.history,
            "published_val_accuracy": facts.PUBLISHED[name].val_accuracy,
            "training": {"key": key, "reused": reused} if key else {"key": None, "why": why},
        }

    try:
        set_seed(settings.seed, impl)
        train("mlp_raw", impl.build_mlp(), raw, settings.mlp_epochs)
        set_seed(settings.seed, impl)
        train("mlp_scaled", others.build_mlp(), scaled, settings.mlp_epochs)
        if settings.faithful:
            set_seed(settings.seed, impl)
            train("mlp_scaled_warm", warm_started_mlp(run.models["mlp_raw"]), scaled, settings.mlp_epochs)
            raw_now = impl.predicted_digits(run.models["mlp_raw"].predict(raw[0][1], verbose=0))
            run.record["models"]["mlp_scaled_warm"]["raw_predictions_changed"] = float(
                np.mean(raw_now != run.predictions["mlp_raw"])
            )
        del raw, scaled  # the flat copies: the CNN needs images
        images = feed(impl.to_images(C_train), impl.to_images(C_test))
        del C_train, C_test, S_train, S_test
        set_seed(settings.seed, impl)
        train("cnn", impl.build_cnn(), images, settings.cnn_epochs)
    except KeyboardInterrupt:
        run.record["interrupted_during"] = current
        raise RunInterrupted(run) from None
    finally:
        record["wall_seconds"] = round(time.perf_counter() - started, 1)
    return run


def run_record(data: bytes, filename: str, settings: Settings, source: str | None = None) -> dict:
    """The record of a run on the data file whose content is ``data`` (named ``filename``, for its
    layout): the job ``mnist-checks run --seeds`` sends to a pool or a cluster, which need not
    share a file system with the caller."""
    import tempfile
    from pathlib import Path

    from .data import load_digits

    with tempfile.TemporaryDirectory(prefix="mnist-checks-run-") as scratch:
        path = Path(scratch) / filename
        path.write_bytes(data)
        X, y = load_digits(path)
    return run_exercise(X, y, settings, source=source or filename).record


def warm_started_mlp(mlp):
    """Q4 as the exercise wrote it: a new ``Sequential`` over the trained MLP's own layer objects.

    The new model shares every weight with ``mlp``: it starts where ``mlp`` ended, and training it
    changes ``mlp`` too.
    """
    from .exercise import LOSS, METRICS, OPTIMIZER

    model = keras.Sequential([keras.Input(shape=(facts.N_PIXELS,)), *mlp.layers])
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model


def _new_record(settings: Settings, X, y, source) -> dict:
    from .data import sha256_of

    return {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": asdict(settings),
        "data": {"source": None if source is None else os.fspath(source), "rows": len(X),
                 "pixels_sha256": sha256_of(X), "labels_sha256": sha256_of(y)},
        "environment": environment(settings.seed),
        "published": {name: {**asdict(claim), "curve": list(claim.curve)} for name, claim in facts.PUBLISHED.items()},
        "models": {},
    }


def environment(seed: int | None = None) -> dict:
    """Python, TensorFlow, Keras and its backend, the device, the CPU, its cores, the seed."""
    from . import __version__

    env = {
        "package": __version__,
        "python": platform.python_version(),
        "keras": KERAS_VERSION,
        "backend": BACKEND,
        "tensorflow": None,
        "device": "cpu",
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "seed": seed,
    }
    if BACKEND == "tensorflow":
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            env["device"] = details.get("device_name", gpus[0].name)
    return env


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
