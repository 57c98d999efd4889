"""A model's architecture however it was built (Q2, Q5): its layers as ``(class, settings)`` and
their output shapes, the same for every equivalent construction Keras accepts."""

from __future__ import annotations

import warnings

from .activations import activation_name
from .compat import keras


class Refused(ValueError):
    """A model the checker will not rebuild; the message names what was refused and why."""


#: Layers that only apply an activation: read as part of the layer before them.
ACTIVATION_LAYERS = {"Activation": None, "ReLU": "relu", "Softmax": "softmax"}
#: The settings ``architecture`` reads of each layer class (the others have none that matter here).
ARCHITECTURE_KEYS = {
    "Dense": ("units", "activation", "use_bias"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "Dropout": ("rate",),
}


def architecture(model) -> list[tuple[str, dict]]:
    """The model layer by layer as ``(class, settings)``, the same for every equivalent construction.

    Input layers and layers that change nothing (no weights, output shape = input shape, the same
    in training: a ``Flatten`` of flat rows) are left out; an activation given as its own layer
    (``Activation``, ``ReLU``, ``Softmax``) becomes the activation of the layer before it when that
    one has none; activations are named however they were given (``tf.nn.relu`` is ``relu``);
    sizes given as ints become pairs, pooling strides left to their default become the pool size.
    """
    layers: list[tuple[str, dict]] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer" or (kind not in ACTIVATION_LAYERS and kind not in ARCHITECTURE_KEYS
                                    and _changes_nothing(layer)):
            continue
        config = layer_config(layer)
        if kind in ACTIVATION_LAYERS:
            name = ACTIVATION_LAYERS[kind] if kind != "Activation" else activation_name(layer.activation)
            if kind == "ReLU" and (config.get("max_value") is not None or config.get("negative_slope")
                                   or config.get("threshold")):
                name = "relu with max_value, negative_slope or threshold"
            if layers and layers[-1][1].get("activation") == "linear":
                layers[-1][1]["activation"] = name
            else:
                layers.append(("Activation", {"activation": name}))
            continue
        settings = {}
        for key in ARCHITECTURE_KEYS.get(kind, ()):
            value = config.get(key)
            if key == "activation":
                value = activation_name(getattr(layer, "activation", value)) or _activation_of(value)
            elif key in ("kernel_size", "pool_size", "strides", "dilation_rate"):
                value = (value, value) if isinstance(value, int) else tuple(value) if value is not None else None
            settings[key] = value
        if kind in ("MaxPooling2D", "AveragePooling2D") and settings["strides"] is None:
            settings["strides"] = settings["pool_size"]
        layers.append((kind, settings))
    return layers


#: Layers that compute something else while training than at inference: never "no-ops".
TRAINING_ONLY_LAYERS = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout", "GaussianNoise",
    "AlphaDropout", "ActivityRegularization", "BatchNormalization",
})


def _changes_nothing(layer) -> bool:
    """Whether ``layer`` passes its input on unchanged in shape, has no weights and trains as it
    predicts (a ``Flatten`` of rows that are already flat)."""
    return type(layer).__name__ not in TRAINING_ONLY_LAYERS and _keeps_its_shape(layer)


def _keeps_its_shape(layer) -> bool:
    """Whether ``layer`` has no weights and outputs the shape it takes (a ``Flatten`` of flat rows,
    a ``Dropout``: what it computes is the architecture's claim, not the shapes')."""
    if layer.weights:
        return False
    try:
        return _shape(layer.input) == _shape(layer.output)
    except (AttributeError, ValueError):
        return False


def _shape(tensor) -> tuple:
    shape = tensor.shape
    return tuple(shape.as_list()) if hasattr(shape, "as_list") else tuple(shape)


def layer_config(layer) -> dict:
    """``layer.get_config()``, without Keras 3's warning that an activation given as a lambda is
    unsafe to serialize: an activation is read from the layer itself (``activation_name``) and a
    model never crosses as Keras's serialization, so the warning would only tell a student about
    code of ours (``description`` names or refuses the lambda itself)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The object being serialized includes a `lambda`",
                                category=UserWarning)
        return layer.get_config()


def _activation_of(value) -> str:
    """An activation's name from a layer config (a string, or Keras's serialised form)."""
    if isinstance(value, dict):
        value = value.get("config", {}).get("name", value.get("class_name"))
    return str(value)


def output_shapes(model) -> list[tuple]:
    """Each layer's output shape without the batch dimension, activation-only layers and layers
    without weights that keep their input's shape (``Flatten`` of flat rows, ``Dropout``) left out.

    Keras 2 has ``layer.output_shape``; Keras 3 removed it, but both have ``layer.output.shape``
    (a ``TensorShape`` in Keras 2, a tuple in Keras 3).
    """
    shapes = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ACTIVATION_LAYERS or kind == "InputLayer" or _keeps_its_shape(layer):
            continue
        shapes.append(_shape(layer.output)[1:])
    return shapes


def layer_chain(model) -> list:
    """The layers of a Sequential model, or of a functional model whose layers form one chain."""
    if not isinstance(model, keras.Model):
        raise Refused(f"a {type(model).__name__}, not a keras.Model")
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if isinstance(model, keras.Sequential):
        return layers
    if type(model).__name__ not in ("Functional", "Model") or not hasattr(model, "inputs"):
        raise Refused(f"a subclassed model ({type(model).__name__}); build it with keras.Sequential or the "
                      "functional API")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise Refused(f"a functional model with {len(model.inputs)} inputs and {len(model.outputs)} outputs; the "
                      "exercise's models have one of each")
    previous = model.inputs[0]
    for layer in layers:
        try:
            source = layer.input
        except (AttributeError, ValueError) as error:
            raise Refused(f"layer {layer.name} is used more than once or not connected ({error})") from None
        if source is not previous:
            raise Refused(f"layer {layer.name} does not take the previous layer's output: not a chain of layers")
        previous = layer.output
    if previous is not model.outputs[0]:
        raise Refused("the model's output is not its last layer's output")
    return layers
