"""Activations however they are spelled (Q2, Q5): a name for any function Keras accepts.

A student writes ``activation='relu'``, ``activation=tf.nn.relu``, ``keras.activations.relu``,
``keras.ops.relu`` or ``Activation('relu')``: the same function.  ``activation_name`` gives each
its one name, first by identity against the functions Keras, TensorFlow and ``keras.ops`` export
under the allow-listed names, then by its values on probe inputs against Keras's own functions.
Only the name ever leaves a fork's process; the checker rebuilds with its own function.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from .compat import keras, ops

#: The activations the grader rebuilds, in the order a probe tries them (synonyms: the first wins).
NAMES = (
    "linear", "relu", "softmax", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "swish", "gelu",
    "exponential", "leaky_relu", "relu6", "hard_sigmoid", "log_softmax", "mish", "silu",
)
#: Other names under which libraries export the same functions (TensorFlow's ``softmax_v2``, ...).
ALIASES = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax", "silu": "swish", "identity": "linear"}


def activation_name(function) -> str | None:
    """The allow-listed name of ``function`` (a string, a callable, ``None``), or None if it is
    none of them.  ``None`` is Keras's ``linear``."""
    if function is None:
        return "linear"
    if isinstance(function, str):
        name = ALIASES.get(function, function)
        return name if name in NAMES else None
    if isinstance(function, dict):  # Keras's serialised form of a function
        return activation_name(function.get("config") if isinstance(function.get("config"), str)
                               else function.get("class_name"))
    known = _known_functions()
    if id(function) in known:
        return known[id(function)]
    return _by_values(function)


@functools.cache
def _known_functions() -> dict[int, str]:
    """``id`` of every function exported under an allow-listed name -> that name."""
    modules = [keras.activations, getattr(keras, "ops", None)]
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None:
        modules += [tensorflow.nn, tensorflow.math, tensorflow.keras.activations]
    known = {}
    for module in filter(None, modules):
        for exported in (*NAMES, *ALIASES):
            function = getattr(module, exported, None)
            if callable(function):
                known.setdefault(id(function), ALIASES.get(exported, exported))
    return known


#: Probe inputs: negative, small, and beyond 6 (relu6), in rows (softmax acts along the last axis).
_PROBE = np.linspace(-9.0, 9.0, 40, dtype=np.float32).reshape(4, 10)


def _values(function, x):
    out = function(ops.convert_to_tensor(x))
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64)


def _by_values(function) -> str | None:
    try:
        found = _values(function, _PROBE)
    except Exception:  # a function that does not take a tensor is no activation Keras accepts
        return None
    if found.shape != _PROBE.shape or not np.all(np.isfinite(found)):
        return None
    for name in NAMES:
        try:
            expected = _values(keras.activations.get(name), _PROBE)
        except (ValueError, AttributeError):  # a name this Keras does not have
            continue
        if np.allclose(found, expected, rtol=1e-5, atol=1e-6):
            return name
    return None
