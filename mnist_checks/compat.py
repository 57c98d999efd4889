"""The one place where Keras 2 and Keras 3 differ, and where the environment is read.

The exercise was written for ``tf.keras`` on TensorFlow 2.15 (Keras 2); from 2.16 on ``tf.keras``
is Keras 3, and ``TF_USE_LEGACY_KERAS=1`` with ``tf-keras`` brings Keras 2 back.  With
``KERAS_BACKEND`` set to ``jax`` or ``torch`` the multi-backend ``keras`` package is used instead.
Everything else in the package imports ``keras`` from here and uses only what both agree on.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import tempfile

from .flags import flag

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
#: Set (to anything but "" or "0") to see TensorFlow's start-up lines and warnings: ``--verbose``.
ENV_VERBOSE = "MNIST_CHECKS_VERBOSE"


def verbose() -> bool:
    """Whether the backend's own start-up lines and warnings are shown (``$MNIST_CHECKS_VERBOSE``)."""
    return flag(ENV_VERBOSE)


@contextlib.contextmanager
def _backend_start_up_muted():
    """Hold back what the backend's C++ start-up writes to stderr (oneDNN, CPU features, absl):
    TensorFlow prints it before ``TF_CPP_MIN_LOG_LEVEL`` is read.  Shown if the import fails."""
    if verbose():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2 to redirect
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _import_keras():
    with _backend_start_up_muted():
        if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
            import tensorflow as tf

            if not verbose():  # tf.function retracing notes and deprecations: not the user's concern
                tf.get_logger().setLevel("ERROR")
            return tf.keras
        import keras

        return keras


def _distribution_version(module) -> str:
    """The installed version of the package a Keras module comes from (``keras`` or ``tf-keras``).

    Keras 2's ``tf.keras`` has no ``__version__``; the distribution's metadata always does.
    """
    from importlib.metadata import version

    return version(module.__name__.split(".")[0].replace("_", "-"))


keras = _import_keras()
KERAS_VERSION: str = _distribution_version(keras)
KERAS_MAJOR: int = int(KERAS_VERSION.split(".")[0])
BACKEND: str = keras.backend.backend()
#: The TensorFlow that Keras runs on; None on the JAX or torch backend.
TENSORFLOW_VERSION: str | None = sys.modules["tensorflow"].__version__ if BACKEND == "tensorflow" else None


class _Keras2Ops:
    """The few ``keras.ops`` the package uses, for Keras 2 (always on TensorFlow), which has none."""

    @staticmethod
    def convert_to_tensor(x):
        import tensorflow as tf

        return tf.convert_to_tensor(x)

    @staticmethod
    def matmul(a, b):
        import tensorflow as tf

        return tf.linalg.matmul(a, b)

    @staticmethod
    def convert_to_numpy(x):
        return x.numpy()


ops = keras.ops if KERAS_MAJOR >= 3 else _Keras2Ops()


def set_seed(seed: int, *contracts) -> None:
    """Seed Python's, numpy's and the backend's random generators in one call, and those of each
    contract answered by another process (``IsolatedContract``), where the fork builds its models."""
    keras.utils.set_random_seed(seed)
    for contract in contracts:
        remote = getattr(type(contract), "set_remote_seed", None)
        if remote is not None:
            remote(contract, seed)


def built(model, input_shape: tuple):
    """``model``, built on inputs of ``input_shape`` (batch left out) if it is not built yet, as
    its first ``fit()`` would build it: the exercise's own models have no ``Input`` (Q2, Q5)."""
    try:
        if model.inputs:
            return model
    except (AttributeError, ValueError):  # Keras 3: "has no defined inputs yet"
        pass
    build = getattr(model, "build", None)
    if callable(build):
        try:
            build((None, *input_shape))
        except Exception:  # a model that cannot be built on that shape: the claims say what is wrong
            pass
    return model


def optimizer_name(model) -> str:
    """The compiled optimizer's kind in lower case, e.g. ``adam``.

    Its configured name differs (Keras 2 ``Adam``; Keras 3 ``adam``, ``adam_3``, ...); its class
    name does not.
    """
    return type(model.optimizer).__name__.lower()


def compiled_loss_weights(model):
    """The ``loss_weights`` the model was compiled with (None when none), on Keras 2 and 3."""
    try:
        return (model.get_compile_config() or {}).get("loss_weights")
    except (AttributeError, TypeError, ValueError):
        return None


def loss_weight_values(weights) -> list:
    """``loss_weights`` as the list of its values: none, a number, a list or a mapping by output."""
    if weights is None:
        return []
    if isinstance(weights, dict):
        return list(weights.values())
    return list(weights) if isinstance(weights, (list, tuple)) else [weights]


def unit_loss_weights(weights) -> bool:
    """Whether ``loss_weights`` leaves the loss as it is: none, or every weight 1."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == 1.0
               for v in loss_weight_values(weights))


def loss_settings(model) -> tuple[str, bool]:
    """The compiled loss as ``(snake_case name, from_logits)``, however it was given: a string, a
    ``Loss`` object or a function.  Keras 3 quietly undoes ``from_logits=True`` on a softmax
    output (it takes the softmax's logits), Keras 2 applies a second softmax: only the setting
    itself says the same thing on both."""
    loss = model.loss
    if isinstance(loss, str):
        name, logits = loss, False
    elif hasattr(loss, "get_config"):
        name, logits = type(loss).__name__, bool(loss.get_config().get("from_logits", False))
    else:
        name, logits = getattr(loss, "__name__", type(loss).__name__), False
    return snake_case(name), logits


def snake_case(name: str) -> str:
    """``SparseCategoricalCrossentropy`` as its function's name, ``sparse_categorical_crossentropy``."""
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


#: Names of compiled metrics that are the accuracy of integer labels against probabilities
#: (``normalise_history`` names them all ``accuracy``).
ACCURACY_NAMES = ("accuracy", "acc", "sparse_categorical_accuracy")


def normalise_history(history: dict) -> dict:
    """``fit()``'s history with its accuracy under the names Keras 3 and ``metrics=['accuracy']``
    give it, ``accuracy``/``val_accuracy``, however it was compiled (Keras 2's ``acc``, or
    ``sparse_categorical_accuracy``)."""
    renamed = {}
    for key, values in history.items():
        stem = key.removeprefix("val_")
        if stem in ACCURACY_NAMES and "accuracy" not in history:
            key = key.replace(stem, "accuracy")
        renamed.setdefault(key, [float(v) for v in values])
    return renamed


def gpu_name() -> str | None:
    """The name of the first GPU the backend sees, or None where it sees none."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name) if gpus else None
    if BACKEND == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return gpus[0].device_kind if gpus else None
    if BACKEND == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return None


def array_batches(x, y, batch_size: int, *, shuffle: bool):
    """The ``tf.data`` pipeline Keras 3's ``fit(x, y, batch_size, shuffle)`` builds from arrays
    (its ``ArrayDataAdapter``): the very batches in the very order ``fit`` would draw. None where
    Keras has no such adapter: Keras 2, or a backend other than TensorFlow."""
    if KERAS_MAJOR < 3 or BACKEND != "tensorflow":
        return None
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # a Keras that moved it: fit() makes the same batches itself
        return None
    return ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle).get_tf_dataset()


def on_device(kind: str):
    """A context in which models are built and trained on ``"cpu"`` or ``"gpu"``.

    Keras 3 has ``keras.device`` for every backend; Keras 2 runs on TensorFlow's ``tf.device``.
    """
    name = {"cpu": "cpu:0", "gpu": "gpu:0"}[kind]
    if KERAS_MAJOR >= 3:
        return keras.device(name)
    import tensorflow as tf

    return tf.device(name.upper())


def environment(seed: int | None = None) -> dict:
    """Python, TensorFlow, Keras and its backend, the device, the CPU, its cores, the seed."""
    from . import __version__

    return {
        "package": __version__,
        "python": platform.python_version(),
        "keras": KERAS_VERSION,
        "backend": BACKEND,
        "tensorflow": TENSORFLOW_VERSION,
        "device": gpu_name() or "cpu",
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "seed": seed,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
