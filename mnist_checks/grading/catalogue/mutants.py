"""The suite's own mutation score: realistic student mistakes and correct variants, as data.

Each ``Mutant`` is one documented mistake: an edit of one function of the reference contract
(``mnist_checks/exercise.py``), naming the question it belongs to.  Each ``Variant`` is a
correct construction a good student writes differently from the reference; it must keep full
marks.  Edits apply to the reference source and fail loudly (``EditDoesNotApply``) when the
reference changed under them.  ``mnist-checks mutants`` grades them all through the normal grader
and reports what the canonical tests catch (``mnist_checks.grading.catalogue.mutation_report``).

To add a mutation: append a ``Mutant`` with the function, the exact text it replaces inside
that function and the replacement, the question, and one line saying what the student did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...errors import MnistChecksError


class EditDoesNotApply(MnistChecksError, ValueError):
    """An edit whose text is not found exactly once in its function: the reference changed."""

    remedy = "update that mistake's edit in mnist_checks/grading/catalogue/mutants.py to the reference's current code"


@dataclass(frozen=True)
class Edit:
    function: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    """A realistic single mistake; ``question`` is where its points must be lost."""

    name: str
    question: str
    what: str
    edits: tuple[Edit, ...]
    #: Visible only once the model trains (the fast tier cannot see it): slow tier's to kill.
    needs_training: bool = False
    #: A mistake on this Keras major version alone (None: on every one).
    only_on_keras: int | None = None


@dataclass(frozen=True)
class Variant:
    """A correct construction other than the reference's; it must keep every point."""

    name: str
    what: str
    edits: tuple[Edit, ...] = field(default_factory=tuple)


def edit(function: str, old: str, new: str) -> tuple[Edit, ...]:
    return (Edit(function, old, new),)


def apply(source: str, edits: tuple[Edit, ...]) -> str:
    """``source`` with every edit applied inside the function it names."""
    for change in edits:
        start, end = _function_span(source, change.function)
        body = source[start:end]
        found = body.count(change.old)
        if found != 1:
            raise EditDoesNotApply(f"{change.function}: {change.old!r} occurs {found} times, not once: "
                                   "update the mutation to the reference")
        source = source[:start] + body.replace(change.old, change.new) + source[end:]
    return source


def _function_span(source: str, name: str) -> tuple[int, int]:
    match = re.search(rf"^def {name}\(", source, flags=re.MULTILINE)
    if match is None:
        raise EditDoesNotApply(f"no function {name}() in the reference")
    body = source.index("\n", match.end()) + 1
    following = re.search(r"^\S", source[body:], flags=re.MULTILINE)  # the next top-level line
    return match.start(), body + following.start() if following else len(source)


SPLIT = "return train_test_split(*arrays, test_size=SPLIT_TEST_SIZE, random_state=random_state)"
MLP_HIDDEN = 'keras.layers.Dense(32, activation="relu"),'
MLP_OUT = 'keras.layers.Dense(N_CLASSES, activation="softmax"),'
COMPILE = "model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)"
ARGMAX = "return probabilities.argmax(axis=1)"
SCALE = "return np.asarray(X, dtype=np.float32) / np.float32(255)"
RESHAPE = "return X.reshape((-1, *IMAGE_SHAPE))"
CONV1 = 'keras.layers.Conv2D(32, (3, 3), activation="relu"),'
_AFTER_POOL1 = (',\n            keras.layers.Conv2D(64, (3, 3), activation="relu"),'
                '\n            keras.layers.MaxPooling2D')
#: The first pooling layer (the second is followed by Flatten).
POOL1 = "keras.layers.MaxPooling2D((2, 2))" + _AFTER_POOL1
CONV3 = 'keras.layers.Conv2D(64, (3, 3), activation="relu"),\n            keras.layers.Flatten(),'
CNN_DENSE = 'keras.layers.Dense(64, activation="relu"),'

MUTANTS = (
    # Q1: the split
    Mutant("q1-test-size-0.2", "q1", "test_size=0.2 instead of 1/7",
           edit("split", "test_size=SPLIT_TEST_SIZE", "test_size=0.2")),
    Mutant("q1-test-size-1-6", "q1", "test_size=1/6", edit("split", "test_size=SPLIT_TEST_SIZE", "test_size=1 / 6")),
    Mutant("q1-train-and-test-swapped", "q1", "test_size=6/7: train and test swapped",
           edit("split", "test_size=SPLIT_TEST_SIZE", "test_size=6 / 7")),
    Mutant("q1-default-seed-42", "q1", "default random_state 42 instead of the exercise's 0",
           edit("split", "random_state: int = SPLIT_RANDOM_STATE", "random_state: int = 42")),
    Mutant("q1-ignores-random-state", "q1", "always random_state=0, whatever the caller asks",
           edit("split", "random_state=random_state)", "random_state=0)")),
    Mutant("q1-no-shuffle", "q1", "shuffle=False: the last rows become the test set",
           edit("split", "random_state=random_state)", "random_state=random_state, shuffle=False)")),
    Mutant("q1-stratified", "q1", "stratified on the last array: X alone splits differently from (X, y)",
           edit("split", SPLIT, "return train_test_split(*arrays, test_size=SPLIT_TEST_SIZE, "
                                "random_state=random_state, stratify=arrays[-1] if len(arrays) > 1 else None)")),
    Mutant("q1-no-seed", "q1", "random_state=None: a different split every call",
           edit("split", "random_state=random_state)", "random_state=None)")),
    # Q2: the MLP
    Mutant("q2-64-units", "q2", "Dense(64) hidden layer",
           edit("build_mlp", MLP_HIDDEN, 'keras.layers.Dense(64, activation="relu"),')),
    Mutant("q2-sigmoid-hidden", "q2", "sigmoid instead of relu in the hidden layer",
           edit("build_mlp", MLP_HIDDEN, 'keras.layers.Dense(32, activation="sigmoid"),')),
    Mutant("q2-no-hidden-activation", "q2", "hidden layer without activation (linear)",
           edit("build_mlp", MLP_HIDDEN, "keras.layers.Dense(32),")),
    Mutant("q2-linear-output", "q2", "output layer without softmax",
           edit("build_mlp", MLP_OUT, "keras.layers.Dense(N_CLASSES),")),
    Mutant("q2-sigmoid-output", "q2", "sigmoid output instead of softmax",
           edit("build_mlp", MLP_OUT, 'keras.layers.Dense(N_CLASSES, activation="sigmoid"),')),
    Mutant("q2-extra-hidden-layer", "q2", "a second Dense(32, relu)",
           edit("build_mlp", MLP_HIDDEN, MLP_HIDDEN + "\n            " + MLP_HIDDEN)),
    Mutant("q2-dropout", "q2", "a Dropout(0.2) the exercise does not have",
           edit("build_mlp", MLP_HIDDEN, MLP_HIDDEN + "\n            keras.layers.Dropout(0.2),")),
    Mutant("q2-no-bias", "q2", "use_bias=False in the hidden layer",
           edit("build_mlp", MLP_HIDDEN, 'keras.layers.Dense(32, activation="relu", use_bias=False),')),
    Mutant("q2-sgd", "q2", "SGD instead of adam", edit("build_mlp", "optimizer=OPTIMIZER", 'optimizer="sgd"')),
    Mutant("q2-adam-lr-0.01", "q2", "adam at learning rate 0.01",
           edit("build_mlp", "optimizer=OPTIMIZER", "optimizer=keras.optimizers.Adam(0.01)")),
    Mutant("q2-adam-epsilon-1", "q2", "adam with epsilon=1.0 (trains far slower)",
           edit("build_mlp", "optimizer=OPTIMIZER", "optimizer=keras.optimizers.Adam(epsilon=1.0)")),
    Mutant("q2-amsgrad", "q2", "adam's amsgrad variant",
           edit("build_mlp", "optimizer=OPTIMIZER", "optimizer=keras.optimizers.Adam(amsgrad=True)")),
    Mutant("q2-adamw", "q2", "AdamW (adam with weight decay)",
           edit("build_mlp", "optimizer=OPTIMIZER", "optimizer=keras.optimizers.AdamW()")),
    Mutant("q2-relu6-hidden", "q2", "a ReLU capped at 6 in the hidden layer",
           edit("build_mlp", MLP_HIDDEN, "keras.layers.Dense(32),\n            keras.layers.ReLU(max_value=6),")),
    Mutant("q2-accuracy-of-equal-values", "q2", "keras.metrics.Accuracy(): equal values, not the argmax's accuracy",
           edit("build_mlp", "metrics=METRICS", "metrics=[keras.metrics.Accuracy()]")),
    Mutant("q2-from-logits", "q2", "a loss for logits on a softmax output",
           edit("build_mlp", "loss=LOSS", "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)")),
    Mutant("q2-mse-loss", "q2", "mean squared error loss", edit("build_mlp", "loss=LOSS", 'loss="mse"')),
    Mutant("q2-no-metrics", "q2", "compiled without the accuracy metric",
           edit("build_mlp", "metrics=METRICS", "metrics=[]")),
    Mutant("q2-not-compiled", "q2", "returns the model uncompiled", edit("build_mlp", "    " + COMPILE + "\n", "")),
    Mutant("q2-shared-layers", "q2", "every build reuses the same layer objects (warm start)",
           edit("build_mlp", "    model = keras.Sequential(",
                "    global _layers\n    _layers = globals().get('_layers') or "
                "[keras.layers.Dense(32, activation='relu'), keras.layers.Dense(N_CLASSES, activation='softmax')]\n"
                "    model = keras.Sequential([keras.Input(shape=(N_PIXELS,)), *_layers])\n    _unused = (")),
    # Q2: what training uses beyond the outputs (issue 30)
    Mutant("q2-l2-kernel", "q2", "an L2 penalty on the hidden layer's kernel",
           edit("build_mlp", MLP_HIDDEN,
                'keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01)),')),
    Mutant("q2-l1-bias", "q2", "an L1 penalty on the hidden layer's bias",
           edit("build_mlp", MLP_HIDDEN,
                'keras.layers.Dense(32, activation="relu", bias_regularizer=keras.regularizers.l1(0.01)),')),
    Mutant("q2-activity-l2", "q2", "an L2 penalty on the hidden layer's outputs",
           edit("build_mlp", MLP_HIDDEN,
                'keras.layers.Dense(32, activation="relu", activity_regularizer=keras.regularizers.l2(0.01)),')),
    Mutant("q2-max-norm", "q2", "a max-norm constraint (3) on the hidden layer's kernel",
           edit("build_mlp", MLP_HIDDEN,
                'keras.layers.Dense(32, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3)),')),
    Mutant("q2-frozen-hidden", "q2", "the hidden layer frozen (trainable=False)",
           edit("build_mlp", MLP_HIDDEN, 'keras.layers.Dense(32, activation="relu", trainable=False),')),
    Mutant("q2-loss-weights", "q2", "compile(loss_weights=[2.0]): the loss doubled",
           edit("build_mlp", "metrics=METRICS)", "metrics=METRICS, loss_weights=[2.0])")),
    Mutant("q2-positional-metrics", "q2", "compile(optimizer, loss, metrics) positionally: Keras 3 reads loss_weights",
           edit("build_mlp", COMPILE, "model.compile(OPTIMIZER, LOSS, METRICS)"), only_on_keras=3),
    Mutant("q2-zeros-kernel", "q2", "kernel_initializer='zeros': every build the same weights, units that stay equal",
           edit("build_mlp", MLP_HIDDEN, 'keras.layers.Dense(32, activation="relu", kernel_initializer="zeros"),')),
    # Q3: predicted digits
    Mutant("q3-argmin", "q3", "argmin instead of argmax",
           edit("predicted_digits", ARGMAX, "return probabilities.argmin(axis=1)")),
    Mutant("q3-axis-0", "q3", "argmax over the wrong axis",
           edit("predicted_digits", ARGMAX, "return probabilities.argmax(axis=0)")),
    Mutant("q3-max-not-argmax", "q3", "the largest probability instead of its digit",
           edit("predicted_digits", ARGMAX, "return probabilities.max(axis=1)")),
    Mutant("q3-float-digits", "q3", "digits as floats",
           edit("predicted_digits", ARGMAX, "return probabilities.argmax(axis=1).astype(float)")),
    Mutant("q3-rounded-first", "q3", "rounds probabilities before the argmax",
           edit("predicted_digits", ARGMAX, "return np.round(probabilities, 1).argmax(axis=1)")),
    # Q4: scaling
    Mutant("q4-divides-by-256", "q4", "divides by 256", edit("scale", "np.float32(255)", "np.float32(256)")),
    Mutant("q4-no-scaling", "q4", "returns the pixels unscaled",
           edit("scale", SCALE, "return np.asarray(X, dtype=np.float32)")),
    Mutant("q4-mutates-argument", "q4", "divides its argument in place",
           edit("scale", SCALE, "X = np.asarray(X, dtype=np.float32)\n    X /= 255\n    return X")),
    Mutant("q4-integer-division", "q4", "integer division", edit("scale", SCALE, "return np.asarray(X) // 255")),
    Mutant("q4-min-max", "q4", "min-max scaling: right on MNIST, wrong for any batch without 0 and 255",
           edit("scale", SCALE, "X = np.asarray(X, dtype=np.float32)\n    return (X - X.min()) / (X.max() - X.min())")),
    Mutant("q4-flattens", "q4", "flattens its input",
           edit("scale", SCALE, "return (np.asarray(X, dtype=np.float32) / 255).reshape(len(X), -1)")),
    # Q5: the CNN and its images
    Mutant("q5-16-filters", "q5", "Conv2D(16) first",
           edit("build_cnn", CONV1, 'keras.layers.Conv2D(16, (3, 3), activation="relu"),')),
    Mutant("q5-5x5-kernel", "q5", "5x5 first kernel",
           edit("build_cnn", CONV1, 'keras.layers.Conv2D(32, (5, 5), activation="relu"),')),
    Mutant("q5-same-padding", "q5", "padding='same' in the first convolution",
           edit("build_cnn", CONV1, 'keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same"),')),
    Mutant("q5-sigmoid-convolution", "q5", "sigmoid in the first convolution",
           edit("build_cnn", CONV1, 'keras.layers.Conv2D(32, (3, 3), activation="sigmoid"),')),
    Mutant("q5-linear-convolution", "q5", "no activation in the first convolution",
           edit("build_cnn", CONV1, "keras.layers.Conv2D(32, (3, 3)),")),
    Mutant("q5-average-pooling", "q5", "average instead of max pooling",
           edit("build_cnn", POOL1, "keras.layers.AveragePooling2D((2, 2))" + _AFTER_POOL1)),
    Mutant("q5-pool-stride-1", "q5", "pooling with strides 1",
           edit("build_cnn", POOL1, "keras.layers.MaxPooling2D((2, 2), strides=1)" + _AFTER_POOL1)),
    Mutant("q5-no-third-convolution", "q5", "the third Conv2D left out",
           edit("build_cnn", CONV3, "keras.layers.Flatten(),")),
    Mutant("q5-tanh-dense", "q5", "tanh in the Dense(64)",
           edit("build_cnn", CNN_DENSE, 'keras.layers.Dense(64, activation="tanh"),')),
    Mutant("q5-dense-128", "q5", "Dense(128) instead of 64",
           edit("build_cnn", CNN_DENSE, 'keras.layers.Dense(128, activation="relu"),')),
    Mutant("q5-linear-output", "q5", "CNN output without softmax",
           edit("build_cnn", MLP_OUT, "keras.layers.Dense(N_CLASSES),")),
    Mutant("q5-sgd", "q5", "the CNN compiled with SGD", edit("build_cnn", "optimizer=OPTIMIZER", 'optimizer="sgd"')),
    Mutant("q5-adam-beta-1", "q5", "the CNN's adam with beta_1=0.5",
           edit("build_cnn", "optimizer=OPTIMIZER", "optimizer=keras.optimizers.Adam(beta_1=0.5)")),
    Mutant("q5-from-logits", "q5", "the CNN's loss for logits on a softmax output",
           edit("build_cnn", "loss=LOSS", "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)")),
    Mutant("q5-l2-dense", "q5", "an L2 penalty on the CNN's Dense(64) kernel",
           edit("build_cnn", CNN_DENSE,
                'keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.l2(0.001)),')),
    Mutant("q5-non-negative-convolution", "q5", "a NonNeg constraint on the first convolution's kernel",
           edit("build_cnn", CONV1,
                'keras.layers.Conv2D(32, (3, 3), activation="relu", kernel_constraint=keras.constraints.NonNeg()),')),
    Mutant("q5-images-transposed", "q5", "images transposed (column-major pixels)",
           edit("to_images", RESHAPE, "return X.reshape((-1, 28, 28)).transpose(0, 2, 1)[..., None]")),
    Mutant("q5-channels-first", "q5", "images as (n, 1, 28, 28)",
           edit("to_images", RESHAPE, "return X.reshape((-1, 1, 28, 28))")),
    Mutant("q5-fortran-order", "q5", "reshape in Fortran order",
           edit("to_images", RESHAPE, 'return X.reshape((-1, *IMAGE_SHAPE), order="F")')),
)

_FUNCTIONAL_MLP = '''    inputs = keras.Input(shape=(N_PIXELS,))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model
'''
_FUNCTIONAL_CNN = '''    inputs = keras.Input(shape=IMAGE_SHAPE)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model
'''
_MLP_BODY = '''    model = keras.Sequential(
        [
            keras.Input(shape=(N_PIXELS,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model
'''

VARIANTS = (
    Variant("functional-api", "both models with the functional API and an explicit Input",
            (Edit("build_mlp", _MLP_BODY, _FUNCTIONAL_MLP),
             Edit("build_cnn", "    model = keras.Sequential(\n",
                  "    return _functional_cnn()\n    model = keras.Sequential(\n"),
             Edit("to_images", "    # END SOLUTION\n",
                  "    # END SOLUTION\n\n\ndef _functional_cnn():\n" + _FUNCTIONAL_CNN))),
    Variant("model-add", "the MLP built with model.add",
            edit("build_mlp", _MLP_BODY, '''    model = keras.Sequential()
    model.add(keras.Input(shape=(784,)))
    model.add(keras.layers.Dense(32, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=OPTIMIZER, loss=LOSS, metrics=METRICS)
    return model
''')),
    Variant("named-layers", "every MLP layer named", edit("build_mlp", MLP_HIDDEN + "\n            " + MLP_OUT,
            'keras.layers.Dense(32, activation="relu", name="hidden"),\n            '
            'keras.layers.Dense(N_CLASSES, activation="softmax", name="digits"),')),
    Variant("objects-not-strings", "optimizer and loss as objects",
            edit("build_mlp", COMPILE, "model.compile(optimizer=keras.optimizers.Adam(), "
                 "loss=keras.losses.SparseCategoricalCrossentropy(), metrics=METRICS)")),
    Variant("exercise-metrics-acc", "the exercise's own metrics=['acc']",
            edit("build_mlp", "metrics=METRICS", 'metrics=["acc"]')),
    Variant("separate-activation-layers", "activations as their own layers",
            edit("build_mlp", MLP_HIDDEN + "\n            " + MLP_OUT,
                 'keras.layers.Dense(32),\n            keras.layers.Activation("relu"),\n            '
                 'keras.layers.Dense(N_CLASSES),\n            keras.layers.Softmax(),')),
    Variant("astype-then-divide", "astype(float32) before dividing by 255",
            edit("scale", SCALE, 'return np.asarray(X).astype("float32") / 255')),
    Variant("np-divide", "np.divide with a float32 dtype",
            edit("scale", SCALE, "return np.divide(X, 255, dtype=np.float32)")),
    Variant("tf-argmax", "tf.argmax, returned as numpy",
            edit("predicted_digits", ARGMAX,
                 "import tensorflow as tf\n    return tf.argmax(probabilities, axis=1).numpy()")),
    Variant("np-argmax-last-axis", "np.argmax over axis -1",
            edit("predicted_digits", ARGMAX, "return np.argmax(probabilities, axis=-1)")),
    Variant("np-reshape-len", "np.reshape to (len(X), 28, 28, 1)",
            edit("to_images", RESHAPE, "return np.reshape(X, (len(X), 28, 28, 1))")),
    Variant("test-size-as-count-ratio", "test_size=10000/70000",
            edit("split", "test_size=SPLIT_TEST_SIZE", "test_size=10_000 / 70_000")),
    Variant("split-returns-tuple", "train_test_split's result as a tuple",
            edit("split", SPLIT,
                 "return tuple(train_test_split(*arrays, test_size=SPLIT_TEST_SIZE, random_state=random_state))")),
    # Once mistakes, now correct: the exercise is the arbiter (its X/255 is float64), and
    # predict()'s rows never tie, so how a tie is broken is no claim of the exercise.
    Variant("scale-float64", "X / 255 in float64, as the exercise writes it",
            edit("scale", SCALE, "return np.asarray(X) / 255")),
    Variant("argmax-from-the-end", "the argmax found from the highest digit down (ties would go up)",
            edit("predicted_digits", ARGMAX, "return 9 - probabilities[:, ::-1].argmax(axis=1)")),
    # What training uses, spelled so that it changes nothing (issue 30): their step is the exercise's.
    Variant("regularizer-none", "kernel_regularizer=None written out",
            edit("build_mlp", MLP_HIDDEN, 'keras.layers.Dense(32, activation="relu", kernel_regularizer=None),')),
    Variant("l2-of-zero", "keras.regularizers.l2(0.0): a penalty of nothing",
            edit("build_mlp", MLP_HIDDEN,
                 'keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.l2(0.0)),')),
    Variant("loss-weights-one", "compile(loss_weights=[1.0])",
            edit("build_mlp", "metrics=METRICS)", "metrics=METRICS, loss_weights=[1.0])")),
    Variant("he-normal-initializer", "kernel_initializer='he_normal' in both models: other weights, newly drawn",
            (Edit("build_mlp", MLP_HIDDEN,
                  'keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),'),
             Edit("build_cnn", CONV1, 'keras.layers.Conv2D(32, (3, 3), activation="relu", '
                                      'kernel_initializer="he_normal"),'))),
    Variant("predicted-digits-as-a-list", "one int per row, as a list: [int(np.argmax(p)) for p in probabilities]",
            edit("predicted_digits", ARGMAX, "return [int(np.argmax(p)) for p in probabilities]")),
    Variant("predicted-digits-as-a-tensor", "tf.argmax's tensor, returned as it is",
            edit("predicted_digits", ARGMAX, "import tensorflow as tf\n    return tf.argmax(probabilities, axis=1)")),
    Variant("cnn-kernel-as-int", "kernel sizes and pool sizes as plain ints",
            (Edit("build_cnn", CONV1, 'keras.layers.Conv2D(32, 3, activation="relu"),'),
             Edit("build_cnn", POOL1, "keras.layers.MaxPooling2D(2)" + _AFTER_POOL1))),
)
