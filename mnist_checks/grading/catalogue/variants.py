"""Correct contracts, generated: the exercise's answers in the many spellings students use.

The exercise (ML-10E2) asks to split the 70,000 digits into 60,000 for training and 10,000 for
testing (Q1), to train an MLP with a hidden layer of 32 nodes (Q2), to extract the predicted
digits (Q3), to scale the grey levels 0..255 to 0..1 (Q4) and to train a CNN (Q5).  Every
``GeneratedVariant`` is a whole contract (a complete ``mnist_checks/exercise.py``, not an edit)
that answers them correctly, written one way along each of the independent axes in ``AXES``:
how Keras is imported, how the models are built, whether they get an input shape, how
activations, loss, metric and optimizer are spelled, no-op layers, and the Q1/Q3/Q4/Q5 one-liners.
The variants are a seeded subset of the axes' product that holds every possible pair of axis
values, plus the exercise's own code cells (``exercise-as-published``).  ``mnist-checks
mutants`` grades them as correct variants: each must keep every point (``mutation_report``).
"""

from __future__ import annotations

import ast
import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

from ...installed import package_dir

#: How many variants the product yields besides the exercise's own code, and the seed of their draw.
COUNT, SEED = 200, 0
#: Variants drawn per pick; the pick is the one holding the most pairs of axis values not yet held.
CANDIDATES = 16
PUBLISHED = "exercise-as-published"

#: The axes of spelling, in the order of the variants' names: each value's name and what it writes.
AXES = {
    "imports": {"keras": "import keras", "tfkeras": "from tensorflow import keras", "tf": "tf.keras",
                "models": "from tensorflow.keras import models, layers"},
    "build": {"seq": "Sequential([...])", "add": "Sequential() and add()", "func": "functional API"},
    "input": {"input": "an Input", "shape": "input_shape= on the first layer", "noinput": "no input shape"},
    "activation": {"str": "activations as strings", "fn": "keras.activations functions", "tfnn": "tf.nn functions",
                   "ops": "keras.ops functions", "actlayer": "Activation layers", "relulayer": "ReLU/Softmax layers"},
    "loss": {"str": "loss string", "fn": "loss function", "obj": "loss object"},
    "metric": {"accuracy": "'accuracy'", "acc": "'acc'", "sparseacc": "'sparse_categorical_accuracy'",
               "accobj": "SparseCategoricalAccuracy()", "accnamed": "SparseCategoricalAccuracy(name='accuracy')",
               "accfn": "sparse_categorical_accuracy function"},
    "optimizer": {"adam": "'adam'", "adamobj": "Adam()", "adamlr": "Adam(learning_rate=0.001)",
                  "adam1e3": "Adam(1e-3)"},
    "noop": {"none": "no extra layer", "flatten": "Flatten() first in the MLP", "dropout0": "Dropout(0.0) in the MLP"},
    "split": {"tts": "train_test_split", "modsel": "model_selection.train_test_split",
              "ratio": "test_size=10_000 / 70_000"},
    "digits": {"npargmax": "np.argmax", "tfargmax": "tf.argmax", "method": ".argmax(axis=-1)",
               "list": "a list of one int per row", "tuple": "a tuple of np.argmax's digits",
               "tensor": "tf.argmax's tensor as it is"},
    "scale": {"div": "X / 255 (float64)", "astype": "astype('float32') / 255.0", "divcast": "(X / 255).astype",
              "tensor": "tf.cast(X, tf.float32) / 255, a tensor"},
    "images": {"reshape": "reshape(-1, 28, 28, 1)", "expand": "np.expand_dims", "npreshape": "np.reshape(len(X))",
               "tensor": "tf.reshape, a tensor"},
}
ORDER = ("split", "build_mlp", "predicted_digits", "scale", "to_images", "build_cnn")
MLP_SHAPE, CNN_SHAPE = "(784,)", "(28, 28, 1)"


@dataclass(frozen=True)
class GeneratedVariant:
    """A whole correct contract; ``spelling`` holds its (axis, value) pairs (none for the exercise's own)."""

    name: str
    what: str
    source: str
    spelling: tuple[tuple[str, str], ...] = ()


@lru_cache(maxsize=None)
def generate_variants() -> tuple[GeneratedVariant, ...]:
    """The exercise's own code, then ``COUNT`` variants covering every pair of axis values: the same every call."""
    return (published(), *(_variant(choice) for choice in _choices(COUNT, SEED)))


def sample_variants(n: int, seed: int = 0) -> tuple[GeneratedVariant, ...]:
    """``n`` variants: the exercise's own code and ``n - 1`` others drawn with ``seed``, in catalogue order."""
    first, *others = generate_variants()
    if not 1 <= n <= len(others) + 1:
        raise ValueError(f"a sample holds 1 to {len(others) + 1} variants, not {n}")
    drawn = sorted(random.Random(seed).sample(range(len(others)), n - 1))
    return (first, *(others[i] for i in drawn))


def required_pairs() -> frozenset:
    """Every pair of (axis, value) that some variant can hold: the pairs the catalogue must cover."""
    values = [[(axis, value) for value in AXES[axis]] for axis in AXES]
    return frozenset(pair for left, right in itertools.combinations(values, 2)
                     for pair in itertools.product(left, right) if _possible(dict(pair)))


def pairs(choice: dict) -> set:
    """The pairs of (axis, value) that one variant holds."""
    return set(itertools.combinations(choice.items(), 2))


def _possible(choice: dict) -> bool:
    """The functional API starts from an Input: it has neither an input_shape= nor an unbuilt form."""
    return choice.get("build") != "func" or choice.get("input", "input") == "input"


def _choices(count: int, seed: int) -> list[dict]:
    """``count`` distinct spellings or more, until every possible pair is held (greedy, AETG-like)."""
    rng = random.Random(seed)
    uncovered, chosen, seen = set(required_pairs()), [], set()
    while len(chosen) < count or uncovered:
        candidates = [c for c in (_draw(rng) for _ in range(CANDIDATES)) if tuple(c.values()) not in seen]
        if candidates:
            best = max(candidates, key=lambda c: len(pairs(c) & uncovered))
            chosen.append(best)
            seen.add(tuple(best.values()))
            uncovered -= pairs(best)
    return chosen


def _draw(rng: random.Random) -> dict:
    while True:
        choice = {axis: rng.choice(list(values)) for axis, values in AXES.items()}
        if _possible(choice):
            return choice


class _Names:
    """Keras's names as one import style spells them, and the imports that the source then needs."""

    def __init__(self, style: str):
        self.style, self.imports, self.submodules = style, set(), []
        if style == "models":
            self.submodules = ["models", "layers"]
        else:
            self.imports.add({"keras": "import keras", "tfkeras": "from tensorflow import keras",
                              "tf": "import tensorflow as tf"}[style])

    def __call__(self, path: str) -> str:
        """``path`` under keras (``layers.Dense``, ``Sequential``, ``ops.relu``) as this style writes it."""
        if self.style != "models":
            return f"{'tf.keras' if self.style == 'tf' else 'keras'}.{path}"
        path = {"Sequential": "models.Sequential", "Model": "models.Model", "Input": "layers.Input"}.get(path, path)
        if path.split(".")[0] not in self.submodules:
            self.submodules.append(path.split(".")[0])
        return path

    def tf(self, path: str) -> str:
        self.imports.add("import tensorflow as tf")
        return f"tf.{path}"

    def np(self, path: str) -> str:
        self.imports.add("import numpy as np")
        return f"np.{path}"

    def lines(self) -> list[str]:
        """The import lines, sorted as isort does: plain imports first, then from-imports, by module."""
        found = set(self.imports)
        if self.submodules:
            found.add(f"from tensorflow.keras import {', '.join(self.submodules[:2] + sorted(self.submodules[2:]))}")
        return sorted(found, key=lambda line: (line.startswith("from"), line.split()[1]))


#: A layer to build: its constructor's name and arguments.
Layer = tuple[str, str]


def _activation(names: _Names, spelling: str, function: str) -> str:
    if spelling == "str":
        return f"'{function}'"
    if spelling == "tfnn":
        return names.tf(f"nn.{function}")
    return names(f"{'activations' if spelling == 'fn' else 'ops'}.{function}")


def _activated(names: _Names, spelling: str, layer: str, args: str, function: str) -> list[Layer]:
    """``layer(args)`` followed by ``function`` (relu or softmax), as ``spelling`` writes the activation."""
    built = names(f"layers.{layer}")
    if spelling == "actlayer":
        return [(built, args), (names("layers.Activation"), f"'{function}'")]
    if spelling == "relulayer":
        return [(built, args), (names(f"layers.{'ReLU' if function == 'relu' else 'Softmax'}"), "")]
    return [(built, f"{args}, activation={_activation(names, spelling, function)}")]


def _mlp_layers(names: _Names, choice: dict) -> list[Layer]:
    """Q2: Dense(32, relu) -> Dense(10, softmax), with the no-op layer the choice adds."""
    spelling = choice["activation"]
    layers = [(names("layers.Flatten"), "")] if choice["noop"] == "flatten" else []
    layers += _activated(names, spelling, "Dense", "32", "relu")
    if choice["noop"] == "dropout0":
        layers.append((names("layers.Dropout"), "0.0"))
    return layers + _activated(names, spelling, "Dense", "10", "softmax")


def _cnn_layers(names: _Names, choice: dict) -> list[Layer]:
    """Q5: three 3x3 convolutions (32, 64, 64) with 2x2 max pooling between, Dense(64), Dense(10)."""
    spelling = choice["activation"]
    pool = (names("layers.MaxPooling2D"), "(2, 2)")
    conv = [_activated(names, spelling, "Conv2D", f"{filters}, (3, 3)", "relu") for filters in (32, 64, 64)]
    return [*conv[0], pool, *conv[1], pool, *conv[2], (names("layers.Flatten"), ""),
            *_activated(names, spelling, "Dense", "64", "relu"), *_activated(names, spelling, "Dense", "10", "softmax")]


def _call(layer: Layer, input_shape: str | None = None) -> str:
    built, args = layer
    if input_shape is not None:
        args = f"{args}, input_shape={input_shape}" if args else f"input_shape={input_shape}"
    return f"{built}({args})"


def _model(names: _Names, choice: dict, layers: list[Layer], shape: str) -> list[str]:
    """The lines that make ``model`` from ``layers`` as the choice builds it."""
    calls = [_call(layers[0], shape if choice["input"] == "shape" else None), *map(_call, layers[1:])]
    if choice["build"] == "func":
        sources, targets = ["inputs"] + ["x"] * (len(calls) - 1), ["x"] * (len(calls) - 1) + ["outputs"]
        steps = [f"{target} = {call}({source})" for target, call, source in zip(targets, calls, sources)]
        return [f"inputs = {names('Input')}(shape={shape})", *steps, f"model = {names('Model')}(inputs, outputs)"]
    if choice["input"] == "input":
        calls.insert(0, f"{names('Input')}(shape={shape})")
    if choice["build"] == "add":
        return [f"model = {names('Sequential')}()", *(f"model.add({call})" for call in calls)]
    return [f"model = {names('Sequential')}([", *(f"    {call}," for call in calls), "])"]


def _compile(names: _Names, choice: dict) -> str:
    loss = {"str": "'sparse_categorical_crossentropy'", "fn": "losses.sparse_categorical_crossentropy",
            "obj": "losses.SparseCategoricalCrossentropy()"}[choice["loss"]]
    metric = {"accuracy": "'accuracy'", "acc": "'acc'", "sparseacc": "'sparse_categorical_accuracy'",
              "accobj": "metrics.SparseCategoricalAccuracy()",
              "accnamed": "metrics.SparseCategoricalAccuracy(name='accuracy')",
              "accfn": "metrics.sparse_categorical_accuracy"}[choice["metric"]]
    optimizer = {"adam": "'adam'", "adamobj": "optimizers.Adam()", "adamlr": "optimizers.Adam(learning_rate=0.001)",
                 "adam1e3": "optimizers.Adam(1e-3)"}[choice["optimizer"]]
    loss, metric, optimizer = (text if text.startswith("'") else names(text) for text in (loss, metric, optimizer))
    return f"model.compile(optimizer={optimizer}, loss={loss}, metrics=[{metric}])"


def _builder(names: _Names, choice: dict, layers: list[Layer], shape: str) -> list[str]:
    return [*_model(names, choice, layers, shape), _compile(names, choice), "return model"]


def _split(names: _Names, spelling: str) -> list[str]:
    if spelling == "modsel":
        names.imports.add("from sklearn import model_selection")
        return ["return model_selection.train_test_split(*arrays, test_size=1/7, random_state=random_state)"]
    names.imports.add("from sklearn.model_selection import train_test_split")
    test_size = "10_000 / 70_000" if spelling == "ratio" else "1 / 7"
    return [f"return train_test_split(*arrays, test_size={test_size}, random_state=random_state)"]


def _digits(names: _Names, spelling: str) -> list[str]:
    if spelling == "tfargmax":
        return [f"return {names.tf('argmax')}(probabilities, axis=1).numpy()"]
    if spelling == "tensor":
        return [f"return {names.tf('argmax')}(probabilities, axis=1)"]
    if spelling == "list":
        return [f"return [int({names.np('argmax')}(p)) for p in probabilities]"]
    if spelling == "tuple":
        return [f"return tuple({names.np('argmax')}(probabilities, axis=1))"]
    if spelling == "method":
        return [f"return {names.np('asarray')}(probabilities).argmax(axis=-1)"]
    return [f"return {names.np('argmax')}(probabilities, axis=1)"]


def _scale(names: _Names, spelling: str) -> list[str]:
    if spelling == "astype":
        return ["return X.astype('float32') / 255.0"]
    if spelling == "divcast":
        return [f"return (X / 255).astype({names.np('float32')})"]
    if spelling == "tensor":
        return [f"return {names.tf('cast')}(X, {names.tf('float32')}) / 255"]
    return ["return X / 255"]


def _images(names: _Names, spelling: str) -> list[str]:
    if spelling == "expand":
        return [f"return {names.np('expand_dims')}(X.reshape(-1, 28, 28), -1)"]
    if spelling == "npreshape":
        return [f"return {names.np('reshape')}(X, (len(X), 28, 28, 1))"]
    if spelling == "tensor":
        return [f"return {names.tf('reshape')}(X, (-1, 28, 28, 1))"]
    return ["return X.reshape(-1, 28, 28, 1)"]


def _bodies(names: _Names, choice: dict) -> dict[str, list[str]]:
    """Each contract function's body lines, in the choice's spellings."""
    return {
        "split": _split(names, choice["split"]),
        "build_mlp": _builder(names, choice, _mlp_layers(names, choice), MLP_SHAPE),
        "predicted_digits": _digits(names, choice["digits"]),
        "scale": _scale(names, choice["scale"]),
        "to_images": _images(names, choice["images"]),
        "build_cnn": _builder(names, choice, _cnn_layers(names, choice), CNN_SHAPE),
    }


def _variant(choice: dict) -> GeneratedVariant:
    names = _Names(choice["imports"])
    bodies = _bodies(names, choice)
    name = "-".join(choice.values())
    what = "; ".join(AXES[axis][value] for axis, value in choice.items())
    return GeneratedVariant(name, what, _source(name, names.lines(), bodies), tuple(choice.items()))


@lru_cache(maxsize=None)
def _docstrings() -> dict[str, str]:
    """The starter's docstrings: the reference contract's, as a student's file keeps them."""
    tree = ast.parse((package_dir() / "exercise.py").read_text())
    return {node.name: ast.get_docstring(node, clean=False) for node in tree.body if isinstance(node, ast.FunctionDef)}


def _signature(function: str) -> str:
    parameters = {"split": "*arrays, random_state=0", "predicted_digits": "probabilities"}
    return f"def {function}({parameters.get(function, 'X' if function in ('scale', 'to_images') else '')}):"


def _function(function: str, body: list[str]) -> str:
    """One contract function's definition: the starter's signature and docstring, then ``body``."""
    return "\n".join([_signature(function), f'    """{_docstrings()[function]}"""',
                      *(f"    {line}" for line in body)]) + "\n"


def _source(name: str, imports: list[str], bodies: dict[str, list[str]]) -> str:
    """A whole contract module: a header, its imports and the six functions in the reference's order."""
    functions = [_function(function, bodies[function]) for function in ORDER]
    header = f'"""The MNIST exercise, Q1-Q5 (generated variant {name})."""\n\n'
    return header + "\n".join(imports) + "\n\n\n" + "\n\n".join(functions)


#: The exercise's own code cells (In [3] to In [17]), each in the contract function that answers it.
_PUBLISHED = {
    "split": ["return model_selection.train_test_split(*arrays, test_size=1/7, random_state=random_state)"],
    "build_mlp": ["net1 = [layers.Dense(32, activation='relu'), layers.Dense(10, activation='softmax')]",
                  "clf1 = models.Sequential(net1)",
                  "clf1.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['acc'])",
                  "return clf1"],
    "predicted_digits": ["return np.argmax(probabilities, axis=1)"],
    "scale": ["return X/255"],
    "to_images": ["return X.reshape(len(X), 28, 28, 1)"],
    "build_cnn": ["net2 = [layers.Conv2D(32, (3, 3), activation='relu'),",
                  "    layers.MaxPooling2D((2, 2)),",
                  "    layers.Conv2D(64, (3, 3), activation='relu'),",
                  "    layers.MaxPooling2D((2, 2)),",
                  "    layers.Conv2D(64, (3, 3), activation='relu'),",
                  "    layers.Flatten(),",
                  "    layers.Dense(64, activation='relu'),",
                  "    layers.Dense(10, activation='softmax')]",
                  "clf3 = models.Sequential(net2)",
                  "clf3.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['acc'])",
                  "return clf3"],
}


def published() -> GeneratedVariant:
    """The exercise as published: its code cells, as literally as the contract's functions allow."""
    imports = ["import numpy as np", "from sklearn import model_selection",
               "from tensorflow.keras import models, layers"]
    what = ("the exercise's own code: models.Sequential(net) without an Input, metrics=['acc'] (a list: "
            "Keras 3 rejects the string), X/255, model_selection.train_test_split(..., test_size=1/7)")
    return GeneratedVariant(PUBLISHED, what, _source(PUBLISHED, imports, _PUBLISHED))


def published_functions() -> dict[str, str]:
    """``published``'s six definitions, each on its own: the cells that answer the questions in the
    exercise's notebook (``published_notebook``)."""
    return {function: _function(function, _PUBLISHED[function]) for function in ORDER}
