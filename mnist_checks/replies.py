"""What the contract's data functions return, read as numpy reads it (Q1, Q3, Q4, Q5; issue 30).

The exercise writes no code for Q3, and a student's ``[int(np.argmax(p)) for p in
probabilities]`` (a list), a tuple, or a ``tf.Tensor`` is, for numpy, the array the exercise
means.  ``read_reply`` turns each such reply into that array wherever the exercise's code would
take it (split's parts, scale, to_images, predicted_digits); a reply numpy cannot read as numbers
is refused in the contract's words (``UnreadableReply``), never as an error from inside a test.
``NumpyReplies`` is a contract (the module, or a fork's ``IsolatedContract``) seen that way: the
spec suite's view of every contract.  The student server reads replies the same way before they
cross, so a list crosses as one array.
"""

from __future__ import annotations

import functools

import numpy as np

#: The contract's functions that return data, and what they return: split's parts, or one array.
DATA_FUNCTIONS = {"split": "parts", "predicted_digits": "array", "scale": "array", "to_images": "array"}
#: Array kinds a reply may hold: booleans, integers, floats.
NUMERIC_KINDS = frozenset("biuf")


class UnreadableReply(TypeError):
    """A data function's reply that numpy cannot read as an array of numbers; the message says
    what it returned and what to return instead."""


def read_reply(function: str, value):
    """``function``'s reply (a contract function of ``DATA_FUNCTIONS``) as numpy arrays: split's
    parts as a tuple of arrays, any other reply as one array; other functions' replies unchanged."""
    shape = DATA_FUNCTIONS.get(function)
    if shape is None:
        return value
    if shape == "array":
        return _array(value, f"{function}()")
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise UnreadableReply(f"split() returned {_kind(value)}, not the parts train_test_split returns: return them "
                              "as it gives them (X_train, X_test, y_train, y_test), e.g. return train_test_split(...)")
    return tuple(_array(part, f"split()'s part {index}") for index, part in enumerate(value, 1))


def _array(value, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        return value
    if value is None:
        raise UnreadableReply(f"{what} returned None: does it end without `return`?")
    if hasattr(value, "numpy") and callable(value.numpy) and not isinstance(value, type):
        value = value.numpy()  # a backend tensor (tf.argmax, keras.ops)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged rows, objects numpy cannot convert
        raise UnreadableReply(f"{what} returned {_kind(value)} that numpy cannot read as one array "
                              f"({str(error).splitlines()[0][:200]}): return a numpy array") from None
    if array.dtype.kind not in NUMERIC_KINDS:
        raise UnreadableReply(f"{what} returned {_kind(value)} of {array.dtype} values, which are not numbers: "
                              "return a numpy array of numbers")
    return array


def _kind(value) -> str:
    kind = type(value)
    module = kind.__module__.split(".")[0]
    name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    return f"a {name}"


class NumpyReplies:
    """``contract`` whose data functions' replies are read by ``read_reply``; everything else
    (the builders, a fork's server's lifecycle) is the contract's own."""

    def __init__(self, contract):
        self.contract = contract

    def __getattr__(self, name: str):
        value = getattr(self.contract, name)
        if name not in DATA_FUNCTIONS or not callable(value):
            return value

        @functools.wraps(value)
        def read(*args, **kwargs):
            __tracebackhide__ = True  # pytest shows the test's call and the contract's frames, not this wrapper
            return read_reply(name, value(*args, **kwargs))

        return read

    def set_remote_seed(self, seed: int) -> None:
        """Seed the fork's process too, where the contract is answered by one (``compat.set_seed``)."""
        remote = getattr(type(self.contract), "set_remote_seed", None)
        if remote is not None:
            remote(self.contract, seed)

    def __repr__(self) -> str:
        return f"NumpyReplies({self.contract!r})"
