"""Trainings as content: each training keyed by what determines it, done once, reused.

One training is one model's ``fit`` at a run's settings (Q2's MLP, Q4's, Q5's CNN).  What
determines it: the arrays fed to ``fit`` (after the implementation's split, scale and reshape),
the model (its layers' classes and settings, its initial weights), its compile settings, the
run's settings (epochs, batch, seed, fast path) and the environment (library versions, device).
``training_key`` digests exactly that; a store keeps what the training produced under its key:
the trained weights, the history with its epoch times, and the test set's probabilities.

A store holds trainings, never verdicts: every claim is checked afresh against the trained model,
and Q3's predicted digits come from the implementation under test each time.  A model that
carries code or randomness of its own (a custom layer or activation, a ``Dropout``) has no key
and is always trained.

Stores: ``DirectoryStore`` (a directory, shared by the processes of one machine, one file lock
per key) and ``ClusterStore`` (a Dask scheduler's metadata and locks, shared by a cluster).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import write_atomically
from .flags import flag

#: Where trainings are kept: a directory, a Dask scheduler's address (``tcp://HOST:PORT``), or
#: ``off``.  Unset: ``trainings/`` in the download cache (``mnist_checks.data.cache_dir``).
ENV_TRAININGS = "MNIST_CHECKS_TRAININGS"
#: Set (to anything but "" or "0") to reuse no earlier training: ``pytest --retrain``. CI gives each run an
#: empty store instead (``ENV_TRAININGS``), so that its steps share the trainings they do.
ENV_RETRAIN = "MNIST_CHECKS_RETRAIN"

#: Layers whose output is a function of their weights and input alone: a model of these, with
#: its initial weights, trains the same way whoever built it and however.
DETERMINISTIC_LAYERS = frozenset({
    "InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Reshape", "Activation",
    "ReLU", "Softmax", "BatchNormalization", "Rescaling",
})
#: The environment a training depends on (``mnist_checks.compat.environment``'s keys): the code that
#: trains, the libraries that compute, and the device and its threads, which order float sums.
KEY_ENVIRONMENT = ("package", "keras", "backend", "tensorflow", "device", "cpu", "cores")
_KERAS_MODULES = ("keras", "tf_keras", "tensorflow")


@dataclass
class Training:
    """What one training produced: the trained weights, the history (``fit``'s metrics per epoch,
    with ``seconds`` per epoch), and ``predict``'s probabilities on the test set."""

    weights: list
    history: dict
    probabilities: np.ndarray

    def to_bytes(self) -> bytes:
        """An npz (no pickle): the weights, the probabilities and the history as JSON."""
        arrays = {f"weight_{i}": np.asarray(w) for i, w in enumerate(self.weights)}
        arrays["probabilities"] = np.asarray(self.probabilities)
        arrays["history"] = np.frombuffer(json.dumps(self.history).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Training":
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            count = sum(name.startswith("weight_") for name in archive.files)
            return cls(weights=[archive[f"weight_{i}"] for i in range(count)],
                       history=json.loads(archive["history"].tobytes().decode()),
                       probabilities=archive["probabilities"])


def array_digest(array) -> str:
    """SHA-256 of an array's dtype, shape and bytes: two arrays with one different pixel, dtype
    or shape never share it."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.reshape(-1).view(np.uint8))
    return digest.hexdigest()


#: What reading a damaged stored training raises: it is then trained again and replaced.
DAMAGED = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


class NoKey(ValueError):
    """A model whose training cannot be keyed; the message says what in it could differ unseen."""


def training_key(model, data: dict, settings: dict, environment: dict) -> str:
    """The key of training ``model`` (built, compiled, with its initial weights) on ``data``
    (name -> ``array_digest`` of each array fed to ``fit``) at ``settings`` in ``environment``.

    Raises ``NoKey`` for a model whose training depends on more than this sees: custom code (a
    layer, activation, loss or optimizer not Keras's own), a layer with randomness of its own, or
    a model that is not one chain of layers.
    """
    content = {
        "model": model_fingerprint(model),
        "weights": [array_digest(w) for w in model.get_weights()],
        "compile": compile_fingerprint(model),
        "data": data,
        "settings": settings,
        "environment": {key: environment.get(key) for key in KEY_ENVIRONMENT},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=_unkeyable).encode()).hexdigest()


def model_fingerprint(model) -> dict:
    """The model as it trains: its layers as (class, settings), normalised so that equivalent
    spellings share a fingerprint, and its input shape.

    Names, input layers and initialisers are left out (the initial weights are keyed instead); an
    activation given as its own layer (``ReLU()``, ``Softmax()``, ``Activation``) becomes the
    activation of the layer before it; activations are named however they were given; a
    regularizer whose every factor is 0 is none (issue 30: what trains alike shares, what trains
    differently never does).
    """
    from .architecture import Refused, layer_chain

    try:
        layers = layer_chain(model)
    except Refused as error:
        raise NoKey(str(error)) from None
    described = []
    for layer in layers:
        kind = type(layer).__name__
        if kind not in DETERMINISTIC_LAYERS or not type(layer).__module__.startswith(_KERAS_MODULES):
            raise NoKey(f"layer {layer.name} ({kind}) is not one of Keras's deterministic layers")
        config = {k: _normalised(k, v) for k, v in layer.get_config().items()
                  if k not in _UNKEYED and not k.endswith("_initializer")}
        if "activation" in config:
            config["activation"] = _activation(layer)
        _check_keras_own(config, f"layer {layer.name}")
        folded = _activation_layer(kind, config, layer)
        if folded is not None:
            if described and described[-1][1].get("activation") == "linear":
                described[-1][1]["activation"] = folded
                continue
            if folded == "linear":
                continue
        described.append([kind, config])
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else None
    input_shape = None if shape is None else [None if d is None else int(d) for d in shape]
    return {"layers": described, "input_shape": input_shape}


#: Configuration keys that change nothing a training computes: names, and the input shape a
#: first layer was given (keyed as the model's input shape).
_UNKEYED = frozenset({"name", "batch_input_shape", "input_shape", "batch_shape", "batch_size"})


def _activation(layer) -> str:
    from .activations import activation_name

    name = activation_name(getattr(layer, "activation", None))
    if name is None:
        raise NoKey(f"layer {layer.name} has an activation that is not Keras's own")
    return name


def _activation_layer(kind: str, config: dict, layer) -> str | None:
    """The activation a layer that only applies one applies (``Activation``, a plain ``ReLU``, a
    ``Softmax`` over the last axis); None for any other layer."""
    if kind == "Activation":
        return config["activation"]
    if kind == "ReLU" and config.get("max_value") is None and not config.get("negative_slope") \
            and not config.get("threshold"):
        return "relu"
    if kind == "Softmax" and config.get("axis") in (-1, [-1]):
        return "softmax"
    return None


def _normalised(key: str, value):
    """A regularizer with every factor 0 is no regularizer."""
    if key.endswith("_regularizer") and isinstance(value, dict):
        factors = value.get("config") or {}
        if factors and all(isinstance(v, (int, float)) and float(v) == 0.0 for v in factors.values()):
            return None
    return value


def compile_fingerprint(model) -> dict:
    """What the model was compiled with, as it trains: the optimizer (class and settings), the
    loss (its name however it was given), loss weights (none when every one is 1) and the
    metrics under the names the history records them (``acc`` is ``accuracy``)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not type(optimizer).__module__.startswith(_KERAS_MODULES):
        raise NoKey(f"an optimizer that is not Keras's own ({type(optimizer).__name__})")
    settings = {k: v for k, v in optimizer.get_config().items() if k != "name"}
    _check_keras_own(settings, "the optimizer")
    loss = model.loss
    if isinstance(loss, str):
        loss_settings = loss
    elif hasattr(loss, "get_config") and type(loss).__module__.startswith(_KERAS_MODULES):
        loss_settings = [type(loss).__name__, {k: v for k, v in loss.get_config().items() if k != "name"}]
        if loss_settings[1] == _default_config(type(loss)):  # Keras compiles a loss's name into this very object
            from .compat import snake_case

            loss_settings = snake_case(type(loss).__name__)
    elif callable(loss) and getattr(loss, "__module__", "").startswith(_KERAS_MODULES):
        loss_settings = loss.__name__
    else:
        raise NoKey(f"a loss that is not Keras's own ({loss!r})")
    try:
        compiled = model.get_compile_config() or {}
    except (AttributeError, TypeError, ValueError):
        compiled = {}
    metrics = json.loads(json.dumps(compiled.get("metrics"), default=_unkeyable))
    from .compat import unit_loss_weights

    weights = json.loads(json.dumps(compiled.get("loss_weights"), default=_unkeyable))
    if unit_loss_weights(weights):
        weights = None
    return {"optimizer": [type(optimizer).__name__, settings], "loss": loss_settings,
            "loss_weights": weights, "metrics": _history_names(metrics)}


def _history_names(metrics):
    """The compiled metrics as the names ``normalise_history`` gives their history: ``acc``,
    ``sparse_categorical_accuracy``, its function and a ``SparseCategoricalAccuracy`` under those
    names are all ``accuracy``; any other metric is keyed whole (``Accuracy()`` is named
    ``accuracy`` too, but counts equal values: another history)."""
    from .compat import ACCURACY_NAMES

    if metrics is None:
        return None
    named = []
    for metric in metrics if isinstance(metrics, list) else [metrics]:
        name = metric
        if isinstance(metric, dict):
            config = metric.get("config")
            if metric.get("class_name") == "function" and isinstance(config, str):
                name = config
            elif metric.get("class_name") == "SparseCategoricalAccuracy" and isinstance(config, dict) \
                    and set(config) <= {"name", "dtype"}:
                name = config.get("name", "sparse_categorical_accuracy")
        named.append("accuracy" if isinstance(name, str) and name in ACCURACY_NAMES else name)
    return named


def _default_config(kind) -> dict | None:
    try:
        return {k: v for k, v in kind().get_config().items() if k != "name"}
    except Exception:  # a loss class that needs arguments has no default
        return None


def _check_keras_own(config, where: str) -> None:
    """Serialised objects in a config name their module: anything not Keras's own is code."""
    if isinstance(config, dict):
        module = config.get("module")
        if isinstance(module, str) and not module.startswith(_KERAS_MODULES):
            raise NoKey(f"{where} uses {config.get('class_name', 'an object')} from {module}, not Keras")
        for value in config.values():
            _check_keras_own(value, where)
    elif isinstance(config, (list, tuple)):
        for value in config:
            _check_keras_own(value, where)
    elif callable(config):
        raise NoKey(f"{where} holds a function ({getattr(config, '__name__', config)!r})")


def _unkeyable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise NoKey(f"a setting that is not plain data ({type(value).__name__})")


# --- stores ------------------------------------------------------------------------------------


class DirectoryStore:
    """Trainings as files ``ROOT/ab/abcdef....npz``, written whole or not at all; one lock file
    per key, so that processes of one machine train each key once."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DirectoryStore({str(self.root)!r})"

    def _path(self, key: str, suffix: str) -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, key: str) -> Training | None:
        path = self._path(key, ".npz")
        try:
            return Training.from_bytes(path.read_bytes())
        except FileNotFoundError:
            return None
        except DAMAGED:  # trained again and replaced
            return None

    def put(self, key: str, training: Training) -> None:
        path = self._path(key, ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, training.to_bytes())

    @contextlib.contextmanager
    def claim(self, key: str):
        """Hold ``key``'s lock: another process asking for the same training waits, then finds it."""
        import fcntl

        path = self._path(key, ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class ClusterStore:
    """Trainings kept by a Dask scheduler (in its metadata, under ``("mnist-checks", "trainings",
    key)``) and trained under a cluster-wide ``Lock`` per key, so that the workers of a cluster
    train each key once.  They live as long as the scheduler does."""

    PREFIX = "mnist-checks-training-"

    def __init__(self, address: str):
        from distributed import Client

        self.address = address
        self._client = Client(address, timeout="30s", set_as_default=False)

    def __repr__(self) -> str:
        return f"ClusterStore({self.address!r})"

    def get(self, key: str) -> Training | None:
        data = self._client.get_metadata(["mnist-checks", "trainings", key], default=None)
        try:
            return None if data is None else Training.from_bytes(data)
        except DAMAGED:
            return None

    def put(self, key: str, training: Training) -> None:
        self._client.set_metadata(["mnist-checks", "trainings", key], training.to_bytes())

    @contextlib.contextmanager
    def claim(self, key: str):
        from distributed import Lock

        with Lock(self.PREFIX + key, scheduler_rpc=self._client.scheduler, loop=self._client.loop):
            yield

    def close(self) -> None:
        self._client.close()


def open_store(spec: str | os.PathLike | None):
    """The store ``spec`` names: a Dask scheduler's address, a directory, or None / ``off`` for none."""
    if spec is None or str(spec) in ("", "off"):
        return None
    if str(spec).startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
        return ClusterStore(str(spec))
    return DirectoryStore(spec)


def retraining() -> bool:
    """Whether earlier trainings are to be ignored (``$MNIST_CHECKS_RETRAIN``)."""
    return flag(ENV_RETRAIN)


def default_store_spec() -> str:
    """``$MNIST_CHECKS_TRAININGS``, else ``trainings/`` in the download cache."""
    from .data import cache_dir

    return os.environ.get(ENV_TRAININGS) or str(cache_dir() / "trainings")


def fetch_or_train(store, key: str | None, train) -> tuple[Training, bool]:
    """The training under ``key`` from ``store`` and True; else ``train()``'s, kept there, and
    False.  Under the key's lock: whoever asks for a training being trained waits for it."""
    if store is None or key is None:
        return train(), False
    found = store.get(key)
    if found is not None:
        return found, True
    with store.claim(key):
        found = store.get(key)
        if found is not None:
            return found, True
        training = train()
        store.put(key, training)
        return training, False
