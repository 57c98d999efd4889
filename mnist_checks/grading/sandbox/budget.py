"""What a fork may cost the grader (issue 19): its replies and its models, bounded before use.

A reply is bounded by what its call can legitimately return, worked out from the call's own
arguments before a byte of the reply is decoded (``reply_bound``).  A model description is
costed from the description alone, layer by layer (``model_cost``), and refused above
``facts.MODEL_BUDGET`` before the checker builds a layer (``check_model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, prod

import numpy as np

from ...facts import BATCH_SIZE, MODEL_BUDGET
from .description import Refused

#: Room in every reply for the archive's own headers (zip entries, array headers).
HEADERS_BYTES = 1024**2
#: A float64 element: the widest a contract function may legitimately make its input's values.
FLOAT64 = 8


@dataclass(frozen=True)
class Cost:
    """A model's size, computed from its description (Q2, Q5)."""

    parameters: int
    activations: int  # every layer's outputs for one training batch of BATCH_SIZE digits
    multiply_adds: int  # forward, per digit


def reply_bound(call: str, args: tuple, kwargs: dict) -> tuple[int, str]:
    """The most bytes of arrays the reply to ``call(*args, **kwargs)`` may carry, and why.

    Every call may send back the array arguments it changed in place (the server reports them),
    so each bound includes its arguments once more in float64.
    """
    given = sum(_elements(value) for value in (*args, *kwargs.values())) * FLOAT64
    if call in ("split", "scale", "to_images"):
        return 2 * given + HEADERS_BYTES, (f"the arrays it was given in float64 ({_mb(given)}), and those "
                                            "arguments again if it changed them")
    if call == "predicted_digits":
        rows = int(np.shape(args[0])[0]) if args and np.ndim(args[0]) else 0
        return rows * FLOAT64 + given + HEADERS_BYTES, (f"one integer per row given ({rows:,}), and its "
                                                         "argument again if it changed it")
    if call in ("build_mlp", "build_cnn"):
        weights = MODEL_BUDGET.parameters * FLOAT64
        return weights + given + HEADERS_BYTES, (f"the initial weights of a model within the budget "
                                                 f"({MODEL_BUDGET.parameters:,} parameters in float64: "
                                                 f"{_mb(weights)})")
    return given + HEADERS_BYTES, "no arrays but its arguments"


def model_cost(description: dict, input_shape: tuple, earlier: dict) -> tuple[Cost, list[dict]]:
    """The ``Cost`` of a validated description, and its layers with references to earlier
    builds' layers (``{"same_as": [model, index]}``, looked up in ``earlier``) resolved.

    ``input_shape`` is where the model is built when the description has none: the call's
    input (Q2's (784,), Q5's (28, 28, 1)), as ``fit()`` would build it.
    """
    shape = _input_shape(description.get("input_shape"), tuple(input_shape))
    layers, parameters, outputs, multiply_adds = [], 0, 0, 0
    for index, layer in enumerate(description["layers"]):
        if "same_as" in layer:
            model_id, position = layer["same_as"]
            try:
                layer = earlier[model_id][position]
            except (KeyError, IndexError):
                raise Refused(f"layer {index}: refers to a layer the grader never rebuilt") from None
        layers.append(layer)
        shape, weights, work = _layer_cost(f"layer {index} ({layer['class']})", layer["class"], layer["config"],
                                           shape)
        parameters += weights
        outputs += prod(shape)
        multiply_adds += work
    return Cost(parameters, outputs * BATCH_SIZE, multiply_adds), layers


def check_model(description: dict, input_shape: tuple, earlier: dict) -> list[dict]:
    """Refuse a description above ``facts.MODEL_BUDGET``, naming the budget; its resolved layers
    (for ``earlier``) when within it."""
    cost, layers = model_cost(description, input_shape, earlier)
    budget = MODEL_BUDGET
    over = [(what, found, limit, times) for what, found, limit, times in (
        ("parameters", cost.parameters, budget.parameters, budget.times_cnn),
        (f"activations in a batch of {BATCH_SIZE}", cost.activations, budget.activations, budget.times_cnn),
        ("multiply-adds per digit", cost.multiply_adds, budget.multiply_adds, budget.compute_times_cnn),
    ) if found > limit]
    if over:
        what, found, limit, times = over[0]
        raise Refused(f"it has {found:,} {what}; the grader builds models of at most {limit:,} ({times} times "
                      f"the exercise's CNN's {limit // times:,}): build the exercise's model")
    return layers


def _input_shape(described, default: tuple) -> tuple:
    if described is None:
        return default
    if None in described:
        if len(described) != len(default):
            raise Refused(f"input shape {tuple(described)} has unknown sizes, and the exercise's input is {default}")
        described = [d if v is None else v for v, d in zip(described, default)]
    return tuple(described)


def _pair(value, default):
    value = default if value is None else value
    return (value, value) if isinstance(value, int) else tuple(value)


def _layer_cost(where: str, kind: str, config: dict, shape: tuple) -> tuple[tuple, int, int]:
    """(output shape, parameters, forward multiply-adds per digit) of one layer on ``shape``."""
    size = prod(shape)
    if kind == "Dense":
        units, bias = config.get("units", 1), config.get("use_bias", True)
        if not shape:
            raise Refused(f"{where}: a Dense layer on a scalar input")
        return (*shape[:-1], units), shape[-1] * units + units * bias, size * units
    if kind == "Conv2D":
        height, width, channels = _image(where, shape)
        kernel, strides = _pair(config.get("kernel_size"), 1), _pair(config.get("strides"), 1)
        dilation, filters = _pair(config.get("dilation_rate"), 1), config.get("filters", 1)
        span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        out = _window(where, (height, width), span, strides, config.get("padding", "valid"))
        weights = kernel[0] * kernel[1] * channels * filters + filters * config.get("use_bias", True)
        return (*out, filters), weights, out[0] * out[1] * filters * kernel[0] * kernel[1] * channels
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        height, width, channels = _image(where, shape)
        pool = _pair(config.get("pool_size"), 2)
        out = _window(where, (height, width), pool, _pair(config.get("strides"), pool), config.get("padding", "valid"))
        return (*out, channels), 0, 0
    if kind == "Flatten":
        return (size,), 0, 0
    if kind == "Reshape":
        target = tuple(config.get("target_shape", ()))
        if prod(target) != size:
            raise Refused(f"{where}: cannot reshape {size:,} values into {target}")
        return target, 0, 0
    if kind == "BatchNormalization":
        kept = 2 + config.get("center", True) + config.get("scale", True)  # moving mean and variance always
        return shape, kept * (shape[-1] if shape else 1), size
    if kind == "Rescaling":
        return shape, 0, size
    return shape, 0, 0  # Dropout, Activation, ReLU, Softmax: the same shape, no weights


def _image(where: str, shape: tuple) -> tuple:
    if len(shape) != 3:
        raise Refused(f"{where}: needs images (height, width, channels), and its input has shape {shape}")
    return shape


def _window(where: str, size: tuple, span: tuple, strides: tuple, padding: str) -> tuple:
    if padding == "same":
        return tuple(ceil(n / s) for n, s in zip(size, strides))
    out = tuple((n - k) // s + 1 for n, k, s in zip(size, span, strides))
    if min(out) < 1:
        raise Refused(f"{where}: its {span[0]}x{span[1]} window does not fit the {size[0]}x{size[1]} input")
    return out


def _elements(value) -> int:
    """How many numbers ``value`` holds: an array's elements, a list's or a scalar's numbers."""
    if isinstance(value, (list, tuple)):
        return sum(_elements(v) for v in value)
    if isinstance(value, (bool, int, float, np.generic)):
        return 1
    return int(np.size(value)) if isinstance(value, np.ndarray) or hasattr(value, "__array__") else 0


def _mb(size: int) -> str:
    return f"{size / 1024**2:,.1f} MB"
