"""What a model description may hold: the allow-lists the checker validates it against.

Each layer class, optimizer, loss, metric, regularizer, constraint and initializer a student
reasonably builds the exercise's models from (Q2, Q5), with the configuration keys carried and a
check of each value.  ``mnist_checks.grading.sandbox.description`` describes models in these terms and
refuses anything else by name.
"""

from __future__ import annotations

from ...activations import NAMES as ACTIVATION_NAMES

ACTIVATIONS = frozenset(ACTIVATION_NAMES)
PADDINGS = frozenset({"valid", "same"})


def positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 100_000


def int_list(length=None):
    def check(value):
        return (isinstance(value, (list, tuple)) and (length is None or len(value) == length)
                and 0 < len(value) <= 4 and all(positive_int(v) for v in value))
    return check


def optional(check):
    return lambda value: value is None or check(value)


def number(low=0.0, high=float("inf")):
    return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def boolean(value):
    return isinstance(value, bool)


def one_of(allowed):
    return lambda value: isinstance(value, str) and value in allowed


_int_or_pair = lambda value: positive_int(value) or int_list(2)(value)  # noqa: E731
_one_axis = lambda value: isinstance(value, int) and not isinstance(value, bool) and -8 <= value <= 8  # noqa: E731
_axis = lambda value: _one_axis(value) or (  # noqa: E731
    isinstance(value, list) and len(value) <= 4 and all(_one_axis(v) for v in value))
_seed = optional(lambda value: isinstance(value, int) and not isinstance(value, bool))

#: Keras's regularizers, constraints and initializers the grader rebuilds: class -> carried keys.
REGULARIZERS = {"L1": {"l1": number(0, 1e6)}, "L2": {"l2": number(0, 1e6)},
                "L1L2": {"l1": number(0, 1e6), "l2": number(0, 1e6)}}
CONSTRAINTS = {"MaxNorm": {"max_value": number(0, 1e6), "axis": _axis}, "NonNeg": {}, "UnitNorm": {"axis": _axis},
               "MinMaxNorm": {"min_value": number(0, 1e6), "max_value": number(0, 1e6), "rate": number(0, 1),
                              "axis": _axis}}
_SCALED = {"seed": _seed}
INITIALIZERS = {
    **dict.fromkeys(("GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"), _SCALED),
    "Zeros": {}, "Ones": {}, "Constant": {"value": number(-1e6, 1e6)},
    "RandomNormal": {"mean": number(-1e6, 1e6), "stddev": number(0, 1e6), "seed": _seed},
    "TruncatedNormal": {"mean": number(-1e6, 1e6), "stddev": number(0, 1e6), "seed": _seed},
    "RandomUniform": {"minval": number(-1e6, 1e6), "maxval": number(-1e6, 1e6), "seed": _seed},
    "VarianceScaling": {"scale": number(0, 1e6), "mode": one_of({"fan_in", "fan_out", "fan_avg"}),
                        "distribution": one_of({"truncated_normal", "untruncated_normal", "uniform", "normal"}),
                        "seed": _seed},
    "Orthogonal": {"gain": number(0, 1e6), "seed": _seed},
    "Identity": {"gain": number(0, 1e6)},
}
#: Where each kind of object lives in Keras, and its allow-list.
OBJECT_KINDS = {"regularizer": ("regularizers", REGULARIZERS), "constraint": ("constraints", CONSTRAINTS),
                "initializer": ("initializers", INITIALIZERS)}


def object_kind(key: str) -> str | None:
    """``kernel_regularizer`` -> ``regularizer``; None for a key that holds no Keras object."""
    kind = key.rsplit("_", 1)[-1]
    return kind if kind in OBJECT_KINDS and "_" in key else None


def _keras_object(kind: str):
    """A check of a carried regularizer, constraint or initializer: None, or an allow-listed
    class with its carried configuration (a custom initializer is ``{"custom": name}``)."""
    allowed = OBJECT_KINDS[kind][1]

    def check(value):
        if value is None or (kind == "initializer" and isinstance(value, dict) and set(value) == {"custom"}
                             and isinstance(value["custom"], str)):
            return True
        return (isinstance(value, dict) and set(value) == {"class", "config"} and value["class"] in allowed
                and isinstance(value["config"], dict)
                and all(key in allowed[value["class"]] and allowed[value["class"]][key](v)
                        for key, v in value["config"].items()))
    return check


def _with_training(keys: dict, objects: tuple[str, ...]) -> dict:
    """A layer's carried keys plus ``trainable`` and its regularizers, constraints, initializers."""
    return {**keys, "trainable": boolean, **{key: _keras_object(object_kind(key)) for key in objects}}


_DENSE_OBJECTS = ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                  "activity_regularizer", "kernel_constraint", "bias_constraint")
_NORM_OBJECTS = ("beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                 "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")

#: Layer class -> the configuration keys carried, each with its check.  A student reasonably
#: builds the exercise's models from these; anything else is refused with its name.
LAYERS = {
    "Dense": _with_training({"units": positive_int, "activation": one_of(ACTIVATIONS), "use_bias": boolean},
                            _DENSE_OBJECTS),
    "Conv2D": _with_training({"filters": positive_int, "kernel_size": _int_or_pair, "strides": _int_or_pair,
                              "padding": one_of(PADDINGS), "dilation_rate": _int_or_pair,
                              "activation": one_of(ACTIVATIONS), "use_bias": boolean}, _DENSE_OBJECTS),
    "MaxPooling2D": {"pool_size": _int_or_pair, "strides": optional(_int_or_pair), "padding": one_of(PADDINGS)},
    "AveragePooling2D": {"pool_size": _int_or_pair, "strides": optional(_int_or_pair), "padding": one_of(PADDINGS)},
    "Flatten": {},
    "Dropout": {"rate": number(0, 1), "seed": optional(lambda v: isinstance(v, int) and not isinstance(v, bool))},
    "Reshape": {"target_shape": int_list()},
    "Activation": {"activation": one_of(ACTIVATIONS)},
    "ReLU": {"max_value": optional(number(0, 1e6)), "negative_slope": number(0, 1e6),
             "threshold": number(-1e6, 1e6)},
    "Softmax": {"axis": lambda v: isinstance(v, int) and not isinstance(v, bool)},
    "BatchNormalization": _with_training({"momentum": number(0, 1), "epsilon": number(0, 1), "center": boolean,
                                          "scale": boolean}, _NORM_OBJECTS),
    "Rescaling": {"scale": number(-1e6, 1e6), "offset": number(-1e6, 1e6)},
}

#: Every optimizer's settings that change how it trains: carried, so that none is dropped unseen
#: (Keras 3's gradient accumulation and loss scaling, both versions' moving average of weights).
_TRAINING = {"use_ema": boolean, "ema_momentum": number(0, 1), "ema_overwrite_frequency": optional(positive_int),
             "loss_scale_factor": optional(number(0, 1e6)), "gradient_accumulation_steps": optional(positive_int)}
OPTIMIZERS = {
    name: {"learning_rate": number(0, 10), "weight_decay": optional(number(0, 10)),
           "clipnorm": optional(number()), "clipvalue": optional(number()), "global_clipnorm": optional(number()),
           **_TRAINING, **extra}
    for name, extra in {
        "Adam": {"beta_1": number(0, 1), "beta_2": number(0, 1), "epsilon": number(0, 1), "amsgrad": boolean},
        "AdamW": {"beta_1": number(0, 1), "beta_2": number(0, 1), "epsilon": number(0, 1), "amsgrad": boolean},
        "Adamax": {"beta_1": number(0, 1), "beta_2": number(0, 1), "epsilon": number(0, 1)},
        "Nadam": {"beta_1": number(0, 1), "beta_2": number(0, 1), "epsilon": number(0, 1)},
        "SGD": {"momentum": number(0, 1), "nesterov": boolean},
        "RMSprop": {"rho": number(0, 1), "momentum": number(0, 1), "epsilon": number(0, 1), "centered": boolean},
        "Adagrad": {"initial_accumulator_value": number(0, 1e6), "epsilon": number(0, 1)},
        "Adadelta": {"rho": number(0, 1), "epsilon": number(0, 1)},
    }.items()
}

LOSS_NAMES = frozenset({
    "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
    "mse", "mean_absolute_error", "mae", "kl_divergence", "kld", "categorical_hinge", "hinge", "poisson",
})
LOSS_CLASSES = {
    "SparseCategoricalCrossentropy": {"from_logits": boolean, "ignore_class": optional(lambda v: isinstance(v, int))},
    "CategoricalCrossentropy": {"from_logits": boolean, "label_smoothing": number(0, 1)},
    "BinaryCrossentropy": {"from_logits": boolean, "label_smoothing": number(0, 1)},
    "MeanSquaredError": {}, "MeanAbsoluteError": {}, "KLDivergence": {}, "CategoricalHinge": {},
}
METRIC_NAMES = frozenset({
    "accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mse", "mae", "mean_squared_error", "mean_absolute_error", "crossentropy", "sparse_categorical_crossentropy",
})
METRIC_CLASSES = frozenset({"SparseCategoricalAccuracy", "CategoricalAccuracy", "Accuracy"})

MAX_LAYERS = 64
#: The key under which a layer whose ``get_config()`` raised says why.
UNREADABLE = "unreadable"
