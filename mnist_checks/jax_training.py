"""The MLPs' fastest path: Keras on JAX, in a process of its own (Q2, Q4).

The MLP's steps are tiny (0.3 ms of kernels): what costs is the dispatch around them, and Keras on
JAX dispatches them faster than TensorFlow's fast path, while TensorFlow's oneDNN kernels train the
CNN faster (docs/benchmarks.md). The arithmetic is the same: the same model (its Keras config and
its very initial weights), the same optimizer, loss and metrics (its compile config), the same
batch size and epochs. What differs is the backend, and so the order in which the batches are
shuffled; the record and the training key say which path trained each model.

Keras picks its backend once per process, so the training runs in a child process
(``python -m mnist_checks.jax_training``, one per run, ``JaxTrainer``) that imports Keras on JAX
and no TensorFlow. Where
JAX is not installed, on Keras 2, with ``MNIST_CHECKS_JAX=0``, or for a model whose layers Keras
cannot write as a config of its own, the model trains on TensorFlow as before.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: ``MNIST_CHECKS_JAX=0`` trains every model on TensorFlow even where JAX is installed.
ENV_JAX = "MNIST_CHECKS_JAX"
#: The kinds of model (``plan.Model.kind``) that train on JAX when it is there.
KINDS = frozenset({"mlp"})
_JOB, _WEIGHTS, _RESULT = "job.json", "weights.npz", "result.npz"
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


class Unportable(ValueError):
    """A model that cannot cross to another backend as Keras's own config; it trains on TensorFlow."""


def available() -> bool:
    """Whether models can train on JAX here: JAX installed, Keras 3, not turned off."""
    if os.environ.get(ENV_JAX, "") == "0" or importlib.util.find_spec("jax") is None:
        return False
    from .compat import KERAS_MAJOR

    return KERAS_MAJOR >= 3


def jax_version() -> str:
    from importlib.metadata import version

    return version("jax")


def portable(model) -> dict:
    """``model``'s architecture and compile settings as Keras's own JSON; ``Unportable`` if
    anything in it is not Keras's (a custom layer, a function for an activation) and would come
    back as something else."""
    from .compat import architecture, keras

    try:
        spec = {"model": model.to_json(), "compile": model.get_compile_config()}
        json.dumps(spec["compile"])
        back = keras.models.model_from_json(spec["model"])
    except Exception as error:  # whatever Keras refuses to write or read back
        raise Unportable(f"Keras cannot write it as its own config ({type(error).__name__}: {error})") from None
    if architecture(back) != architecture(model):
        raise Unportable("its Keras config does not rebuild the same layers")
    return spec


class JaxTrainer:
    """A child process with Keras on JAX that trains one job after another: started once, at a
    run's first training on JAX, so that it pays JAX's start-up once for all the MLPs of the run.
    A context manager; ``close`` ends the process."""

    def __init__(self):
        env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
        self._process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=env)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def train(self, spec: dict, weights: list, arrays: dict, *, epochs: int, batch_size: int, seed: int,
              verbose: int = 0):
        """Train the model ``spec`` describes (``portable``) from ``weights`` on ``arrays`` (x_train,
        y_train, x_test, y_test) on Keras's JAX backend; its ``trainings.Training``."""
        from .compat import normalise_history
        from .trainings import Training

        with tempfile.TemporaryDirectory(prefix="mnist-checks-jax-") as scratch:
            scratch = Path(scratch)
            job = {**spec, "epochs": epochs, "batch_size": batch_size, "seed": seed, "verbose": verbose}
            (scratch / _JOB).write_text(json.dumps(job))
            np.savez(scratch / _WEIGHTS, *[np.asarray(w) for w in weights])
            for name in _ARRAYS:
                np.save(scratch / f"{name}.npy", np.asarray(arrays[name]))
            try:
                self._process.stdin.write(f"{scratch}\n")
                self._process.stdin.flush()
                reply = self._process.stdout.readline()
            except (BrokenPipeError, OSError):
                reply = ""
            if not reply:
                raise RuntimeError(f"the process training on JAX ended (exit {self._process.wait()}); its "
                                   "error is above. MNIST_CHECKS_JAX=0 trains every model on TensorFlow")
            reply = json.loads(reply)
            if reply["error"]:
                raise RuntimeError(f"training on JAX failed:\n{reply['error']}\nMNIST_CHECKS_JAX=0 trains every "
                                   "model on TensorFlow")
            with np.load(scratch / _RESULT) as result:
                trained = [result[f"w{i}"] for i in range(len(weights))]
                probabilities = result["probabilities"]
            history = json.loads((scratch / "history.json").read_text())
        return Training(trained, {**normalise_history(history["metrics"]), "seconds": history["seconds"]},
                        probabilities)

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._process.stdin.close()
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()


def _train_here(scratch: Path) -> None:
    """The child's side of one job: the job's model from its config and weights, fit, predict."""
    import time

    import keras

    job = json.loads((scratch / _JOB).read_text())
    arrays = {name: np.load(scratch / f"{name}.npy") for name in _ARRAYS}
    model = keras.models.model_from_json(job["model"])
    with np.load(scratch / _WEIGHTS) as weights:
        model.set_weights([weights[f"arr_{i}"] for i in range(len(weights.files))])
    model.compile_from_config(job["compile"])
    keras.utils.set_random_seed(job["seed"])
    seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    history = model.fit(arrays["x_train"], arrays["y_train"], epochs=job["epochs"], batch_size=job["batch_size"],
                        validation_data=(arrays["x_test"], arrays["y_test"]), verbose=job["verbose"],
                        callbacks=[EpochTimer()])
    probabilities = model.predict(arrays["x_test"], batch_size=job["batch_size"], verbose=0)
    metrics = {key: [float(v) for v in values] for key, values in history.history.items()}
    (scratch / "history.json").write_text(json.dumps({"metrics": metrics, "seconds": seconds}))
    np.savez(scratch / _RESULT, probabilities=np.asarray(probabilities),
             **{f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    keras.backend.clear_session()


def _serve() -> None:
    """The child: one job directory per line on stdin, one JSON reply per line on the original
    stdout; Keras's own output (its progress) goes to stderr, where the user sees it."""
    import traceback

    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        try:
            _train_here(Path(line.strip()))
            error = None
        except Exception:  # sent to the parent, which raises it there
            error = traceback.format_exc()
        replies.write(json.dumps({"error": error}) + "\n")
        replies.flush()


if __name__ == "__main__":
    _serve()
