"""Models as declarative descriptions: what a fork's builder (Q2, Q5) returns across the wire.

The student server ``describe``s the model a fork built: its layers as classes from an
allow-list with their configuration values, the input shape, the compile settings, whether a
layer is the very object of an earlier build (shared weights), and the initial weights as
arrays.  The checker ``rebuild``s the model from that with its own code after ``validate``
checked every class, key and value: no Keras config is ever deserialised by Keras and no model
file is ever loaded, so a description cannot run code (Keras's ``safe_mode`` has been bypassed
repeatedly: CVE-2024-3660, CVE-2025-1550, CVE-2025-8747, CVE-2025-9905).

Initializers, regularizers and constraints are not carried: the initial weights are.
"""

from __future__ import annotations

import numpy as np

from ..activations import NAMES as ACTIVATION_NAMES
from ..activations import activation_name
from ..architecture import Refused, layer_chain
from ..compat import built, keras

ACTIVATIONS = frozenset(ACTIVATION_NAMES)
PADDINGS = frozenset({"valid", "same"})


def _int(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 100_000


def _ints(length=None):
    def check(value):
        return (isinstance(value, (list, tuple)) and (length is None or len(value) == length)
                and 0 < len(value) <= 4 and all(_int(v) for v in value))
    return check


def _optional(check):
    return lambda value: value is None or check(value)


def _number(low=0.0, high=float("inf")):
    return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _bool(value):
    return isinstance(value, bool)


def _one_of(allowed):
    return lambda value: isinstance(value, str) and value in allowed


_int_or_pair = lambda value: _int(value) or _ints(2)(value)  # noqa: E731

#: Layer class -> the configuration keys carried, each with its check.  A student reasonably
#: builds the exercise's models from these; anything else is refused with its name.
LAYERS = {
    "Dense": {"units": _int, "activation": _one_of(ACTIVATIONS), "use_bias": _bool},
    "Conv2D": {"filters": _int, "kernel_size": _int_or_pair, "strides": _int_or_pair, "padding": _one_of(PADDINGS),
               "dilation_rate": _int_or_pair, "activation": _one_of(ACTIVATIONS), "use_bias": _bool},
    "MaxPooling2D": {"pool_size": _int_or_pair, "strides": _optional(_int_or_pair), "padding": _one_of(PADDINGS)},
    "AveragePooling2D": {"pool_size": _int_or_pair, "strides": _optional(_int_or_pair), "padding": _one_of(PADDINGS)},
    "Flatten": {},
    "Dropout": {"rate": _number(0, 1), "seed": _optional(lambda v: isinstance(v, int) and not isinstance(v, bool))},
    "Reshape": {"target_shape": _ints()},
    "Activation": {"activation": _one_of(ACTIVATIONS)},
    "ReLU": {"max_value": _optional(_number(0, 1e6)), "negative_slope": _number(0, 1e6),
             "threshold": _number(-1e6, 1e6)},
    "Softmax": {"axis": lambda v: isinstance(v, int) and not isinstance(v, bool)},
    "BatchNormalization": {"momentum": _number(0, 1), "epsilon": _number(0, 1), "center": _bool, "scale": _bool},
    "Rescaling": {"scale": _number(-1e6, 1e6), "offset": _number(-1e6, 1e6)},
}

OPTIMIZERS = {
    name: {"learning_rate": _number(0, 10), "weight_decay": _optional(_number(0, 10)),
           "clipnorm": _optional(_number()), "clipvalue": _optional(_number()), "global_clipnorm": _optional(_number()),
           **extra}
    for name, extra in {
        "Adam": {"beta_1": _number(0, 1), "beta_2": _number(0, 1), "epsilon": _number(0, 1), "amsgrad": _bool},
        "AdamW": {"beta_1": _number(0, 1), "beta_2": _number(0, 1), "epsilon": _number(0, 1), "amsgrad": _bool},
        "Adamax": {"beta_1": _number(0, 1), "beta_2": _number(0, 1), "epsilon": _number(0, 1)},
        "Nadam": {"beta_1": _number(0, 1), "beta_2": _number(0, 1), "epsilon": _number(0, 1)},
        "SGD": {"momentum": _number(0, 1), "nesterov": _bool},
        "RMSprop": {"rho": _number(0, 1), "momentum": _number(0, 1), "epsilon": _number(0, 1), "centered": _bool},
        "Adagrad": {"initial_accumulator_value": _number(0, 1e6), "epsilon": _number(0, 1)},
        "Adadelta": {"rho": _number(0, 1), "epsilon": _number(0, 1)},
    }.items()
}

LOSS_NAMES = frozenset({
    "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
    "mse", "mean_absolute_error", "mae", "kl_divergence", "kld", "categorical_hinge", "hinge", "poisson",
})
LOSS_CLASSES = {
    "SparseCategoricalCrossentropy": {"from_logits": _bool, "ignore_class": _optional(lambda v: isinstance(v, int))},
    "CategoricalCrossentropy": {"from_logits": _bool, "label_smoothing": _number(0, 1)},
    "BinaryCrossentropy": {"from_logits": _bool, "label_smoothing": _number(0, 1)},
    "MeanSquaredError": {}, "MeanAbsoluteError": {}, "KLDivergence": {}, "CategoricalHinge": {},
}
METRIC_NAMES = frozenset({
    "accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mse", "mae", "mean_squared_error", "mean_absolute_error", "crossentropy", "sparse_categorical_crossentropy",
})
METRIC_CLASSES = frozenset({"SparseCategoricalAccuracy", "CategoricalAccuracy", "Accuracy"})

MAX_LAYERS = 64


# --- in the student server ------------------------------------------------------------------


def describe(model, earlier: dict, model_id: int, input_shape: tuple | None = None) -> tuple[dict, list]:
    """The description of ``model`` and its initial weights, in the fork's process.

    An unbuilt model (no ``Input``, as the exercise writes its models) is built on
    ``input_shape`` first, as its first ``fit()`` would build it.  Every spelling Keras accepts
    is described by its meaning: an activation given as a function (``tf.nn.relu``) by its name,
    a metric given as a function or an object by its name or class.  ``earlier`` maps
    ``id(layer)`` of every layer of earlier builds to ``[model_id, index]``; a layer found there
    is described as ``{"same_as": [model_id, index]}``.  Raises ``Refused`` for what the checker
    would refuse anyway (a subclassed model, a branching graph).
    """
    if input_shape is not None:
        built(model, input_shape)
    layers = layer_chain(model)
    described = []
    for layer in layers:
        if id(layer) in earlier:
            described.append({"same_as": earlier[id(layer)]})
            continue
        kind = type(layer).__name__
        config = layer.get_config()
        carried = LAYERS.get(kind, {})
        values = {key: _plain(config[key]) for key in carried if key in config}
        if "activation" in carried:
            function = getattr(layer, "activation", None)
            values["activation"] = activation_name(function) or {"unsupported": _name_of(function)}
        described.append({"class": kind, "config": values})
    for index, layer in enumerate(layers):
        earlier.setdefault(id(layer), [model_id, index])
    description = {
        "kind": "model",
        "id": model_id,
        "input_shape": _input_shape(model),
        "layers": described,
        "compile": _compile_settings(model),
    }
    return description, [np.asarray(w) for w in model.get_weights()] if description["input_shape"] else []


def _input_shape(model):
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    shape = inputs[0].shape
    shape = shape.as_list() if hasattr(shape, "as_list") else list(shape)
    return [int(v) if v is not None else None for v in shape[1:]]


def _compile_settings(model) -> dict | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    settings = {"optimizer": {"class": type(optimizer).__name__, "config": {}}}
    config = optimizer.get_config()
    for key in OPTIMIZERS.get(type(optimizer).__name__, {}):
        if key in config:
            settings["optimizer"]["config"][key] = _plain(config[key])
    settings["loss"] = _loss(getattr(model, "loss", None))
    try:
        metrics = model.get_compile_config().get("metrics")
    except (AttributeError, TypeError, ValueError):
        metrics = None
    settings["metrics"] = _metrics(metrics)
    return settings


def _name_of(function) -> str:
    return str(getattr(function, "__name__", type(function).__name__))


def _loss(loss):
    if loss is None or isinstance(loss, str):
        return loss
    if callable(loss) and not isinstance(loss, keras.losses.Loss):
        return getattr(loss, "__name__", type(loss).__name__)
    kind = type(loss).__name__
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return {"class": kind, "config": {key: _plain(config[key]) for key in LOSS_CLASSES.get(kind, {}) if key in config}}


def _metrics(metrics):
    if metrics is None:
        return None
    if isinstance(metrics, (str, dict)):
        metrics = [metrics]
    out = []
    for metric in metrics:
        if isinstance(metric, dict) and metric.get("class_name") == "function":  # a metric function
            out.append(str(metric.get("config")))
        elif isinstance(metric, dict):  # a serialised metric object
            out.append({"class": str(metric.get("class_name"))})
        elif isinstance(metric, str):
            out.append(metric)
        elif callable(metric) and not isinstance(metric, keras.metrics.Metric):
            out.append(_name_of(metric))
        else:
            out.append({"class": type(metric).__name__})
    return out


def _plain(value):
    """A configuration value as plain JSON (tuples become lists; anything else its repr, refused later)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.size == 1):
        return value.item()  # Keras 2 keeps a ReLU's negative_slope as a 0-d array
    return {"unsupported": f"{type(value).__name__}"}


# --- in the checker ---------------------------------------------------------------------------


def validate(description) -> None:
    """Check a description from a fork against the allow-lists; ``Refused`` names the first problem."""
    if not isinstance(description, dict) or description.get("kind") != "model":
        raise Refused("not a model description")
    shape = description.get("input_shape")
    if shape is not None and not (_ints()(shape) or (isinstance(shape, list) and 0 < len(shape) <= 4
                                                     and all(v is None or _int(v) for v in shape))):
        raise Refused(f"input shape {shape!r}")
    layers = description.get("layers")
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise Refused(f"a model needs a list of at most {MAX_LAYERS} layers")
    for index, layer in enumerate(layers):
        where = f"layer {index}"
        if not isinstance(layer, dict):
            raise Refused(f"{where}: not a layer description")
        if "same_as" in layer:
            same = layer["same_as"]
            if set(layer) != {"same_as"} or not (isinstance(same, list) and len(same) == 2
                                                 and all(isinstance(v, int) and v >= 0 for v in same)):
                raise Refused(f"{where}: a malformed reference to an earlier layer")
            continue
        kind = layer.get("class")
        if kind not in LAYERS:
            raise Refused(f"{where}: layer class {kind!r} is not among the layers the grader rebuilds "
                          f"({', '.join(sorted(LAYERS))}); a Lambda or custom layer carries code, which the "
                          "grader never runs: build the model from Keras's standard layers")
        _check_config(f"{where} ({kind})", layer.get("config"), LAYERS[kind])
    settings = description.get("compile")
    if settings is None:
        return
    if not isinstance(settings, dict):
        raise Refused("compile settings")
    optimizer = settings.get("optimizer") or {}
    if optimizer.get("class") not in OPTIMIZERS:
        raise Refused(f"optimizer {optimizer.get('class')!r} is not among {', '.join(sorted(OPTIMIZERS))}")
    _check_config(f"optimizer {optimizer['class']}", optimizer.get("config"), OPTIMIZERS[optimizer["class"]])
    loss = settings.get("loss")
    if isinstance(loss, dict):
        if loss.get("class") not in LOSS_CLASSES:
            raise Refused(f"loss {loss.get('class')!r} is not among {', '.join(sorted(LOSS_CLASSES))}")
        _check_config(f"loss {loss['class']}", loss.get("config"), LOSS_CLASSES[loss["class"]])
    elif loss is not None and loss not in LOSS_NAMES:
        raise Refused(f"loss {loss!r} is not among {', '.join(sorted(LOSS_NAMES))}")
    metrics = settings.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or len(metrics) > 8:
            raise Refused("metrics: a list of at most 8")
        for metric in metrics:
            ok = metric in METRIC_NAMES if isinstance(metric, str) else (
                isinstance(metric, dict) and set(metric) == {"class"} and metric["class"] in METRIC_CLASSES)
            if not ok:
                raise Refused(f"metric {metric!r} is not among {', '.join(sorted(METRIC_NAMES | METRIC_CLASSES))}")


def _check_config(where: str, config, allowed: dict) -> None:
    if not isinstance(config, dict):
        raise Refused(f"{where}: configuration is not a mapping")
    for key, value in config.items():
        if key not in allowed:
            raise Refused(f"{where}: configuration key {key!r} is not carried")
        if not allowed[key](value):
            if key == "activation" and isinstance(value, dict) and "unsupported" in value:
                raise Refused(f"{where}: activation {value['unsupported']} is none of Keras's activations: "
                              f"write one of {', '.join(sorted(ACTIVATIONS))}, e.g. activation='relu'")
            raise Refused(f"{where}: {key}={value!r} is refused")


def rebuild(description: dict, weights: list, built: dict) -> "keras.Model":
    """The model a validated description describes, made with the checker's own code.

    ``built`` maps model ids to the layers rebuilt so far: a layer that was the very object of
    an earlier build is that earlier rebuilt layer again, so shared weights stay shared.
    """
    validate(description)
    layers = []
    for index, layer in enumerate(description["layers"]):
        if "same_as" in layer:
            model_id, position = layer["same_as"]
            try:
                layers.append(built[model_id][position])
            except (KeyError, IndexError):
                raise Refused(f"layer {index}: refers to a layer the grader never rebuilt") from None
            continue
        config = {key: tuple(v) if isinstance(v, list) else v for key, v in layer["config"].items()}
        layers.append(getattr(keras.layers, layer["class"])(**config))
    shape = description["input_shape"]
    model = keras.Sequential([keras.Input(shape=tuple(shape)), *layers] if shape is not None else layers)
    built[description["id"]] = layers
    if weights:
        expected = [tuple(w.shape) for w in model.get_weights()]
        found = [tuple(np.shape(w)) for w in weights]
        if expected != found:
            raise Refused(f"weights of shapes {found} for a model whose weights have shapes {expected}")
        model.set_weights(weights)
    settings = description["compile"]
    if settings is not None:
        model.compile(optimizer=_optimizer(settings["optimizer"]), loss=_rebuilt_loss(settings["loss"]),
                      metrics=_rebuilt_metrics(settings["metrics"]))
    return model


def _optimizer(spec: dict):
    return getattr(keras.optimizers, spec["class"])(**spec["config"])


def _rebuilt_loss(loss):
    if isinstance(loss, dict):
        return getattr(keras.losses, loss["class"])(**loss["config"])
    return loss


def _rebuilt_metrics(metrics):
    if metrics is None:
        return None
    return [m if isinstance(m, str) else getattr(keras.metrics, m["class"])() for m in metrics]
