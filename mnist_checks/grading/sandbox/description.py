"""Models as declarative descriptions: what a fork's builder (Q2, Q5) returns across the wire.

The student server ``describe``s the model a fork built: its layers as classes from an
allow-list with their configuration values, the input shape, the compile settings, whether a
layer is the very object of an earlier build (shared weights), and the initial weights as
arrays.  The checker ``rebuild``s the model from that with its own code after ``validate``
checked every class, key and value: no Keras config is ever deserialised by Keras and no model
file is ever loaded, so a description cannot run code (Keras's ``safe_mode`` has been bypassed
repeatedly: CVE-2024-3660, CVE-2025-1550, CVE-2025-8747, CVE-2025-9905).

What training uses is carried too (issue 30): each layer's regularizers, constraints and
initializers and whether it trains, and the compile's ``loss_weights``, as configurations of
Keras's own classes from the allow-lists of ``mnist_checks.grading.sandbox.allowlists``.  A
custom regularizer or constraint is refused by name; a custom initializer is described by its
name alone and accepted, since the weights it drew are carried as arrays.
"""

from __future__ import annotations

import numpy as np

from ...activations import activation_name
from ...architecture import Refused, layer_chain, layer_config
from ...compat import built, keras
from .allowlists import (
    ACTIVATIONS,
    LAYERS,
    LOSS_CLASSES,
    LOSS_NAMES,
    MAX_LAYERS,
    METRIC_CLASSES,
    METRIC_NAMES,
    OBJECT_KINDS,
    OPTIMIZERS,
    UNREADABLE,
    int_list,
    number,
    object_kind,
    positive_int,
)

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
        try:
            config = layer_config(layer)
        except Exception as error:  # a custom object inside it that cannot say its configuration
            config = {UNREADABLE: f"{type(error).__name__}: {error}"[:300]}
        carried = LAYERS.get(kind, {})
        values = {key: _plain(config[key]) for key in carried if key in config and not object_kind(key)}
        for key in filter(object_kind, carried):
            values[key] = _describe_object(object_kind(key), getattr(layer, key, None))
        if "activation" in carried:
            function = getattr(layer, "activation", None)
            values["activation"] = activation_name(function) or {"unsupported": _name_of(function)}
        if UNREADABLE in config:  # after the objects: a refused custom object is the better message
            values[UNREADABLE] = str(config[UNREADABLE])
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


def _describe_object(kind: str, value):
    """A regularizer, constraint or initializer as ``{"class", "config"}`` when it is an object of
    Keras's own allow-listed class, else by its class's name alone (refused, but for an
    initializer, whose weights are carried)."""
    if value is None:
        return None
    module, allowed = OBJECT_KINDS[kind]
    name = type(value).__name__
    if name not in allowed or type(value) is not getattr(getattr(keras, module), name, None):
        return {"custom": name} if kind == "initializer" else {"unsupported": name}
    config = value.get_config() if hasattr(value, "get_config") else {}
    carried = {key: _plain(config[key]) for key in allowed[name] if key in config}
    if kind == "initializer":  # a seed Keras keeps as an object changes nothing that crosses: the weights do
        carried = {key: v for key, v in carried.items() if allowed[name][key](v)}
    return {"class": name, "config": carried}


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
        compiled = model.get_compile_config() or {}
    except (AttributeError, TypeError, ValueError):
        compiled = {}
    settings["metrics"] = _metrics(compiled.get("metrics"))
    settings["loss_weights"] = _plain_mapping(compiled.get("loss_weights"))
    return settings


def _plain_mapping(value):
    """``_plain``, keeping a mapping of names to values (``loss_weights={"dense_1": 1.0}``)."""
    if isinstance(value, dict):
        return {str(key): _plain(v) for key, v in value.items()}
    return _plain(value)


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
    if shape is not None and not (int_list()(shape) or (isinstance(shape, list) and 0 < len(shape) <= 4
                                                     and all(v is None or positive_int(v) for v in shape))):
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
    _check_loss_weights(settings.get("loss_weights"))
    metrics = settings.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or len(metrics) > 8:
            raise Refused("metrics: a list of at most 8")
        for metric in metrics:
            ok = metric in METRIC_NAMES if isinstance(metric, str) else (
                isinstance(metric, dict) and set(metric) == {"class"} and metric["class"] in METRIC_CLASSES)
            if not ok:
                raise Refused(f"metric {metric!r} is not among {', '.join(sorted(METRIC_NAMES | METRIC_CLASSES))}")


def _check_loss_weights(weights) -> None:
    """``loss_weights``: none, a number, or one per output (numbers, or the metric names Keras 3
    takes there from a positional ``compile(optimizer, loss, ["acc"])``: judged, not refused)."""
    weight = number(0, 1e6)
    if weights is None or weight(weights):
        return
    if isinstance(weights, list) and len(weights) == 1 and (weight(weights[0]) or weights[0] in METRIC_NAMES):
        return
    if isinstance(weights, dict) and len(weights) == 1 and all(weight(v) for v in weights.values()):
        return
    raise Refused(f"loss_weights={weights!r}: a model with one output takes one loss weight, a number")


def _check_config(where: str, config, allowed: dict) -> None:
    if not isinstance(config, dict):
        raise Refused(f"{where}: configuration is not a mapping")
    for key, value in config.items():
        if key == UNREADABLE:
            raise Refused(f"{where}: its configuration cannot be read ({value}): build it from Keras's standard "
                          "layers, regularizers and constraints")
        if key not in allowed:
            raise Refused(f"{where}: configuration key {key!r} is not carried")
        if not allowed[key](value):
            if object_kind(key) and isinstance(value, dict) and "unsupported" in value:
                kind = object_kind(key)
                module, known = OBJECT_KINDS[kind]
                raise Refused(f"{where}: {key} {value['unsupported']} is none of Keras's {kind}s the grader rebuilds "
                              f"({', '.join(sorted(known))}); a custom {kind} carries code, which the grader never "
                              f"runs: leave {key} out (the exercise's models have none)")
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
        config = {key: _keras_instance(object_kind(key), v) if object_kind(key) else
                  tuple(v) if isinstance(v, list) else v for key, v in layer["config"].items()
                  if not (object_kind(key) and (v is None or "custom" in v))}  # Keras's default
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
        weights = settings.get("loss_weights")
        model.compile(optimizer=_optimizer(settings["optimizer"]), loss=_rebuilt_loss(settings["loss"]),
                      metrics=_rebuilt_metrics(settings["metrics"]),
                      loss_weights=list(weights.values()) if isinstance(weights, dict) else weights)
    return model


def _keras_instance(kind: str, spec: dict):
    """The regularizer, constraint or initializer ``spec`` describes, made from Keras's own class."""
    module = getattr(keras, OBJECT_KINDS[kind][0])
    return getattr(module, spec["class"])(**{key: tuple(v) if isinstance(v, list) else v
                                             for key, v in spec["config"].items()})


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
