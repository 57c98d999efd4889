"""The whole exercise with its published settings: Q2's MLP on raw pixels, Q4's MLP on scaled
pixels, Q5's CNN on scaled images, each validated on Q1's 10,000 test digits every epoch.

``run_exercise`` trains each model once and returns a ``Run``: a JSON-serialisable ``record``
(per-epoch metrics and wall times, parameter counts, environment, published figures) plus the
trained models and their test-set predictions for checks that need them.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from types import ModuleType

import numpy as np

from . import facts, trainings
from .compat import built, environment, keras, normalise_history, set_seed
from .plan import IMPROVEMENTS, Improvement, Model, Settings, planned
from .records import ModelRecord, TrainingRecord
from .significance import Comparison, compare
from .speed import STEPS_PER_EXECUTION, as_tensors, batches, compile_for_speed, fit_arrays


@dataclass
class Run:
    """A finished run: the ``record`` for people and files, models and predictions for checks."""

    record: dict
    models: dict = field(default_factory=dict)
    predictions: dict = field(default_factory=dict)  # predicted test digits right after training
    y_test: np.ndarray | None = None
    #: The raw MLP whose layer objects Q4's warm-started model took: ``models["mlp_raw"]``, or the
    #: reference's MLP trained as Q2's when grading (``run_exercise``'s ``reference``).
    warm_source: object = None


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``run`` holds the models that finished before it, and its record
    names the model that was training (``interrupted_during``)."""

    def __init__(self, run: Run):
        super().__init__(f"interrupted during {run.record.get('interrupted_during')}")
        self.run = run


class _EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch, validation included; ``after(epochs done)``, if given, is told
    as each epoch ends."""

    def __init__(self, after=None):
        super().__init__()
        self.seconds: list[float] = []
        self.after = after

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        if self.after:
            self.after(len(self.seconds))


def run_exercise(X, y, settings: Settings = Settings(), *, contract: ModuleType | None = None,
                 reference: ModuleType | None = None, verbose: int = 0, on_model=None, on_epoch=None,
                 source: str | os.PathLike | None = None, store=None) -> Run:
    """Train the exercise's models (Q2, Q4, Q5; ``plan.PLAN``) on ``(X, y)`` and record everything.

    ``contract`` is the student's module (default ``mnist_checks.exercise``); ``verbose`` is
    Keras's (0 silent, 1 progress bar with ETA, 2 a line per epoch); ``on_model(model, epochs)``
    is called before each ``plan.Model`` trains (a warm-started one's before its warm start), and
    ``on_epoch(done, epochs)`` as each of its epochs ends (never for a training taken from the
    store, nor for the warm start's own); ``source`` (where ``X, y`` came from) goes into
    the record beside their fingerprints. Ctrl-C raises ``RunInterrupted`` carrying what finished.

    With a ``store`` (``mnist_checks.trainings``), a training already done with the same key
    (the same arrays fed to ``fit``, model, initial weights, compile settings, run settings and
    environment) is taken from it instead of trained again, and each one trained goes into it;
    each model's record says its key and whether it was ``reused``.

    With a ``reference`` (the reference contract, when grading), each model takes from
    ``contract`` only the functions of its own question and the rest from the reference, so that a
    mistake costs the trained-model claims of its own question alone: Q2's MLP is the contract's
    ``build_mlp`` on the reference's split; Q4's is the reference MLP on the contract's ``scale``
    (the warm-started one starts from the reference's MLP trained as Q2's);
    Q5's CNN is the contract's ``build_cnn`` on its ``to_images`` of the reference's scaled split;
    Q3's digits are the contract's ``predicted_digits``.
    """
    if contract is None:
        from . import exercise as contract
    started = time.perf_counter()
    training = _Training(X, y, settings, contract, reference or contract, _new_record(settings, X, y, source),
                         verbose=verbose, on_model=on_model, on_epoch=on_epoch, store=store)
    run = training.run
    try:
        training.train_all()
    finally:
        run.record["wall_seconds"] = round(time.perf_counter() - started, 1)
    run.record["improvements"] = [compare_models(run, claim).as_record() for claim in IMPROVEMENTS
                                  if {claim.better, claim.worse} <= set(run.predictions)]
    return run


class _Training:
    """One ``run_exercise``: its inputs, each made once and dropped after its last model, and the
    plan's models trained (or taken from the store) one after the other into ``run``."""

    def __init__(self, X, y, settings: Settings, contract: ModuleType, reference: ModuleType, record: dict, *,
                 verbose: int, on_model, on_epoch=None, store):
        self.X, self.settings, self.contract, self.reference = X, settings, contract, reference
        self.verbose, self.on_model, self.on_epoch, self.store = verbose, on_model, on_epoch, store
        X_train, X_test, y_train, y_test = reference.split(X, y)
        self.scaled_split = reference.split(contract.scale(X))
        self.run = Run(record=record, y_test=np.asarray(y_test))
        (self.y_train, self.y_test), self.labels = self.feed(y_train, y_test)
        self.inputs = {"raw": self.feed(X_train.astype(np.float32), X_test.astype(np.float32)),
                       "scaled": self.feed(*self.scaled_split)}
        self.raw_test = self.inputs["raw"][0][1]  # the warm start's effect on the raw MLP is measured on it

    def feed(self, *arrays):
        """The arrays as ``fit()`` gets them (backend tensors made once on the fast path; raw
        pixels as float32, the values Keras casts them to at every step), and their digests."""
        plain = self.settings.plain_fit
        arrays = [np.asarray(a) for a in arrays] if plain else fit_arrays(*arrays)
        return (arrays if plain else as_tensors(*arrays)), [trainings.array_digest(a) for a in arrays]

    def images(self):
        """Q5's inputs: the contract's ``to_images`` of the scaled split (the reference's, when grading)."""
        contract, reference = self.contract, self.reference
        C_train, C_test = (self.scaled_split if reference is contract
                           else reference.split(reference.scale(self.X)))
        return self.feed(contract.to_images(C_train), contract.to_images(C_test))

    def build(self, name: str):
        """A fresh network for the plan's model ``name``, from the function of its own question."""
        if name == "mlp_raw":
            return self.contract.build_mlp()
        if name == "mlp_scaled":
            return self.reference.build_mlp()
        if name == "mlp_scaled_warm":
            return warm_started_mlp(self.run.warm_source)
        return self.contract.build_cnn()

    def warm_start(self, model: Model) -> None:
        """Where Q4's warm-started ``model`` starts: the raw MLP whose layer objects it takes, and
        that MLP's digits on the raw test pixels before it trains on.  The exercise's own is Q2's
        MLP; when grading, it is the reference's MLP trained as Q2's is (from the store: one
        training per course), so that the warm-started claim judges the contract's ``scale`` alone
        and a mistake of Q2's costs Q2 alone (issue 30)."""
        if self.reference is self.contract:
            self.run.warm_source, self.warm_digits = self.run.models["mlp_raw"], self.contract
            self.warm_before = self.run.predictions["mlp_raw"]
            return
        set_seed(self.settings.seed)
        network = self.reference.build_mlp()
        training, _, _ = self.trained(network, self.inputs["raw"], model.epochs(self.settings))
        self.run.warm_source, self.warm_digits = network, self.reference
        self.warm_before = self.reference.predicted_digits(training.probabilities)

    def train_all(self) -> None:
        """Every model of the plan in order; Ctrl-C raises ``RunInterrupted`` with what finished."""
        models = planned(self.settings)
        last_use = {model.inputs: index for index, model in enumerate(models)}
        if self.reference is not self.contract:  # the warm start's raw MLP trains just before its warm model
            last_use["raw"] = max([last_use.get("raw", 0)] + [i for i, model in enumerate(models) if model.warm])
        current = None  # the model in training, named in the record if the run is interrupted
        try:
            for index, model in enumerate(models):
                current = model.name
                if self.on_model:  # before the warm start, which may train the reference's MLP first
                    self.on_model(model, model.epochs(self.settings))
                if model.inputs not in self.inputs:
                    self.inputs[model.inputs] = self.images()
                if model.warm:
                    self.warm_start(model)
                set_seed(self.settings.seed, self.contract)
                entry = self.train(model, self.build(model.name), self.inputs[model.inputs])
                if model.warm:
                    raw_now = self.warm_digits.predicted_digits(self.run.warm_source.predict(self.raw_test, verbose=0))
                    self.run.record["models"][model.name] = replace(
                        entry, raw_predictions_changed=float(np.mean(raw_now != self.warm_before)),
                        warm_start="the contract's Q2 MLP" if self.warm_digits is self.contract
                        else "the reference's Q2 MLP").to_json()
                for kind in [kind for kind, last in last_use.items() if last == index]:
                    del self.inputs[kind]  # each input set is dropped after its last model: the CNN needs only images
        except KeyboardInterrupt:
            self.run.record["interrupted_during"] = current
            raise RunInterrupted(self.run) from None

    def train(self, model: Model, network, fed) -> ModelRecord:
        """Train ``network`` as the plan's ``model`` (or take its training from the store) and record it."""
        epochs = model.epochs(self.settings)
        training, key, reused_or_why = self.trained(network, fed, epochs, self.on_epoch)
        self.run.models[model.name] = network
        self.run.predictions[model.name] = self.contract.predicted_digits(training.probabilities)
        entry = ModelRecord(
            question=model.question, description=model.description, epochs=epochs,
            parameters=int(network.count_params()), history=training.history,
            published_val_accuracy=facts.PUBLISHED[model.name].val_accuracy,
            training=TrainingRecord(key, reused=reused_or_why) if key else TrainingRecord(None, why=reused_or_why),
        )
        self.run.record["models"][model.name] = entry.to_json()
        return entry

    def trained(self, network, fed, epochs: int, on_epoch=None):
        """``network`` trained for ``epochs`` on ``fed`` (or its training taken from the store):
        ``(training, key, reused)``, or ``(training, None, why it has no key)``; ``on_epoch(done,
        epochs)`` as each epoch trained ends."""
        settings = self.settings
        (x_train, x_test), (train_digest, test_digest) = fed
        built(network, tuple(int(d) for d in x_train.shape[1:]))  # its initial weights exist before it is keyed
        if not settings.plain_fit:
            compile_for_speed(network)  # before the key: the model keyed is the model trained
        data = {"x_train": train_digest, "x_test": test_digest, "y_train": self.labels[0], "y_test": self.labels[1]}
        run_settings = {"epochs": epochs, "batch_size": settings.batch_size, "seed": settings.seed,
                        "steps_per_execution": 1 if settings.plain_fit else STEPS_PER_EXECUTION}
        try:
            key, why = trainings.training_key(network, data, run_settings, self.run.record["environment"]), None
        except trainings.NoKey as error:
            key, why = None, str(error)
        training, reused = trainings.fetch_or_train(self.store, key,
                                                    lambda: self.fit(network, x_train, x_test, epochs, on_epoch))
        if reused:
            network.set_weights(training.weights)
        return training, key, reused if key else why

    def fit(self, network, x_train, x_test, epochs: int, on_epoch=None) -> trainings.Training:
        """``network.fit`` for ``epochs``, validated on the test digits every epoch."""
        settings = self.settings
        set_seed(settings.seed)  # the batches' order depends on the seed alone, not on how the model was built
        timer = _EpochTimer(after=(lambda done: on_epoch(done, epochs)) if on_epoch else None)
        train_batches = None if settings.plain_fit else batches(x_train, self.y_train, settings.batch_size,
                                                                shuffle=True)
        if train_batches is None:
            history = network.fit(
                x_train, self.y_train, epochs=epochs, batch_size=settings.batch_size,
                validation_data=(x_test, self.y_test), verbose=self.verbose, callbacks=[timer],
            )
        else:  # the same batches, made after the seed as fit() makes them, without tf.data's stalls
            history = network.fit(
                train_batches, epochs=epochs, shuffle=False, verbose=self.verbose, callbacks=[timer],  # shuffled there
                validation_data=batches(x_test, self.y_test, settings.batch_size, shuffle=False),
            )
        probabilities = network.predict(x_test, batch_size=settings.batch_size, verbose=0)
        return trainings.Training(network.get_weights(), {**normalise_history(history.history),
                                                          "seconds": timer.seconds}, np.asarray(probabilities))


def compare_models(run: Run, claim: Improvement) -> Comparison:
    """Q4, Q5: McNemar's test of ``claim.better`` against ``claim.worse`` on the run's test digits,
    from Q3's ``predicted_digits`` of each."""
    return compare(run.y_test, run.predictions[claim.better], run.predictions[claim.worse],
                   better=claim.better, worse=claim.worse)


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
