"""Q2 and Q5 judged by what a model computes, never by how it is spelled.

A model is the exercise's model when, given the same weights, it computes the same outputs on
probe inputs, at inference and in training (a ``Dropout`` computes nothing at inference but
trains differently).  It is compiled as the exercise compiles when its optimizer moves weights
as adam with its defaults does, its loss has the value of sparse categorical cross-entropy on
probabilities, and one of its metrics has the value of the accuracy.  Each check returns None
when it holds, else what differs in the student's words and how to write it instead.
"""

from __future__ import annotations

import numpy as np

from . import facts
from .architecture import architecture
from .compat import (
    KERAS_MAJOR,
    built,
    compiled_loss_weights,
    keras,
    loss_settings,
    loss_weight_values,
    ops,
    unit_loss_weights,
)

#: The exercise's models: their layers (``facts``) and the inputs they take (batch left out).
EXERCISE = {
    "mlp": (facts.MLP_ARCHITECTURE, (facts.N_PIXELS,)),
    "cnn": (facts.CNN_ARCHITECTURE, facts.IMAGE_SHAPE),
}
#: Outputs are probabilities in float32: the same model computes them equal to within rounding.
OUTPUT_TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
#: Probe inputs per kind: pixels scaled to [0, 1] and raw grey levels 0..255 (Q2 trains on
#: both), so that an activation that differs only for large inputs (relu6) shows.
N_PROBES = 8


def exercise_model(which: str):
    """The exercise's ``"mlp"`` (Q2) or ``"cnn"`` (Q5), built from ``facts`` with Keras's own layers."""
    layers, shape = EXERCISE[which]
    made = [keras.Input(shape=shape)]
    for kind, settings in layers:
        if kind == "Dense":
            made.append(keras.layers.Dense(settings["units"], activation=settings["activation"]))
        elif kind == "Conv2D":
            made.append(keras.layers.Conv2D(settings["filters"], settings["kernel_size"],
                                            activation=settings["activation"]))
        elif kind == "MaxPooling2D":
            made.append(keras.layers.MaxPooling2D(settings["pool_size"]))
        else:
            made.append(getattr(keras.layers, kind)())
    return keras.Sequential(made)


def model_difference(model, which: str) -> str | None:
    """None when ``model`` computes what the exercise's ``which`` model computes, given the same
    weights, at inference and in training; else the first layer that differs and how to write it."""
    layers, shape = EXERCISE[which]
    model = built(model, shape)
    reference = exercise_model(which)
    try:
        found = [tuple(np.shape(w)) for w in model.get_weights()]
    except (AttributeError, ValueError) as error:
        return f"the model's weights cannot be read ({error}): return a keras.Sequential or keras.Model"
    expected = [tuple(w.shape) for w in reference.get_weights()]
    if found != expected:
        return _spelling_difference(model, layers) or (
            f"its weights have shapes {found}; the exercise's model has {expected}")
    original = model.get_weights()
    rng = np.random.default_rng(0)
    probes = [rng.uniform(0, 1, (N_PROBES, *shape)).astype(np.float32),
              rng.uniform(0, facts.MAX_GREY, (N_PROBES, *shape)).astype(np.float32)]
    drawn = [rng.normal(0, 1 / np.sqrt(max(1, np.prod(s[:-1]))), s).astype(np.float32) for s in expected]
    try:
        for weights in (original, drawn):
            model.set_weights(weights)
            reference.set_weights(weights)
            for x in probes:
                for training in (False, True):
                    ours = np.asarray(reference(x, training=training))
                    try:
                        theirs = np.asarray(model(x, training=training))
                    except Exception as error:  # the model cannot compute on the exercise's inputs
                        return f"the model cannot compute on inputs of shape {x.shape}: {error}"
                    if theirs.shape != ours.shape or not np.allclose(theirs, ours, **OUTPUT_TOLERANCE):
                        return _spelling_difference(model, layers) or (
                            "with the exercise's weights, the model computes other outputs than the exercise's"
                            + (" while it trains (a layer such as Dropout?)" if training else ""))
    finally:
        model.set_weights(original)
    return None


def _spelling_difference(model, layers) -> str | None:
    """The first layer whose class or settings differ from the exercise's, in the student's words."""
    found = architecture(model)
    expected = [(kind, dict(settings)) for kind, settings in layers]
    for index, (ours, theirs) in enumerate(zip(expected, found), 1):
        if ours == theirs:
            continue
        if theirs[0] in ("Dropout",):
            return (f"layer {index} is {spell(*theirs)}, which changes what the model computes while it trains; "
                    "the exercise's model has no such layer: remove it")
        if ours[0] != theirs[0]:
            return f"layer {index} is {spell(*theirs)} where the exercise's is {spell(*ours)}: write {spell(*ours)}"
        keys = [key for key in ours[1] if ours[1][key] != theirs[1].get(key)]
        fix = ", ".join(f"{key}={_literal(ours[1][key])}" for key in keys)
        return (f"layer {index} is {spell(*theirs)} where the exercise's is {spell(*ours)}: "
                f"write {fix}" + (" (Keras's default)" if all(k in ("strides", "padding", "use_bias",
                                                                      "dilation_rate") for k in keys) else ""))
    if len(found) > len(expected):
        return (f"layer {len(expected) + 1} is {spell(*found[len(expected)])}, after the exercise's last layer "
                f"{spell(*expected[-1])}: remove it")
    if len(found) < len(expected):
        return f"the model ends after layer {len(found)}: the exercise's goes on with {spell(*expected[len(found)])}"
    return None


def spell(kind: str, settings: dict) -> str:
    """A layer as a student writes it: ``Dense(32, activation='relu')``, ``MaxPooling2D((2, 2))``."""
    settings = dict(settings)
    first = [settings.pop(key) for key in ("units", "filters", "kernel_size", "pool_size", "rate") if key in settings]
    defaults = {"strides": [(1, 1), settings.get("pool_size"), None], "padding": ["valid"],
                "dilation_rate": [(1, 1)], "use_bias": [True], "activation": ["linear"]}
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        defaults["strides"].append(first[0] if first else None)
    rest = [f"{key}={_literal(value)}" for key, value in settings.items() if value not in defaults.get(key, [])]
    return f"{kind}({', '.join([*map(_literal, first), *rest])})"


def _literal(value) -> str:
    return repr(value)


def probability_difference(probabilities) -> str | None:
    """None when every row of ``probabilities`` is 10 probabilities that sum to one, as a softmax
    output layer gives them (Q2, Q3, Q5); else what the rows are and how to make them so."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    sums = probabilities.sum(axis=1)
    if np.allclose(sums, 1.0, rtol=0, atol=facts.PROBABILITY_SUM_TOLERANCE) and probabilities.min() >= 0:
        return None
    return (f"the model's outputs are not probabilities (rows sum to {sums.min():.4g} .. {sums.max():.4g}): give the "
            "last layer activation='softmax' (and remove from_logits=True from the loss)")


def fresh_weights_difference(first: list, second: list) -> str | None:
    """None when two builds' kernels (every weight array of two or more axes) all differ: newly
    drawn in each build (Q2, Q5), by Keras's default ``glorot_uniform`` or any initializer that
    draws (``he_normal``, ``RandomNormal``, ...).  Biases may start equal (Keras's ``zeros``)."""
    if not first:
        return "the model has no weights: build it on its inputs (an Input, or input_shape=) before returning it"
    for index, (a, b) in enumerate(zip(first, second)):
        if np.ndim(a) >= 2 and np.array_equal(a, b):
            return (f"two builds start from the same weights (weight {index}, of shape {tuple(np.shape(a))}): its "
                    "initializer draws nothing (zeros, ones, Constant?) or the builds share it; the exercise's "
                    "layers draw new weights in every build: leave kernel_initializer at Keras's default "
                    "(glorot_uniform) or use one that draws (he_normal, ...)")
    return None


# --- compile settings ---------------------------------------------------------------------------

#: Gradients of five probe steps, large then small (a shrinking second moment shows amsgrad), one
#: of them constant: adam adds epsilon to sqrt(v) before bias correction (about 0.03 |g| at
#: the first step), so epsilon=1.0 shows and 1e-8 (PyTorch's default) moves weights alike to 1e-5.
_GRADIENTS = np.array([[0.1, -0.2, 0.3, 1.0, 5.0], [1.0, 1.0, -1.0, 1.0, -5.0], [-0.5, 1e-3, 2.0, 1.0, 0.3],
                       [1e-3, -1e-3, 1e-3, 1.0, 1e-3], [1e-3, 1e-3, -1e-3, 1.0, 1e-3]], dtype=np.float32)
_START = np.array([0.5, -1.0, 2.0, 0.0, 3.0], dtype=np.float32)


def _steps(optimizer) -> np.ndarray:
    """How far five steps of ``optimizer`` on the probe gradients move the probe weights."""
    if KERAS_MAJOR >= 3:
        variable = keras.Variable(_START.copy())
    else:
        import tensorflow as tf

        variable = tf.Variable(_START.copy())
    for gradient in _GRADIENTS:
        optimizer.apply_gradients([(ops.convert_to_tensor(gradient), variable)])
    return np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable, dtype=np.float64) - _START


def optimizer_difference(model) -> str | None:
    """None when the compiled optimizer moves weights as adam with its defaults (learning rate
    0.001) does: five steps on probe gradients, from a fresh copy of it."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return "the model is not compiled: call model.compile(optimizer='adam', ...) before returning it"
    adam = keras.optimizers.Adam()
    try:
        copy = type(optimizer).from_config(optimizer.get_config())
        found = _steps(copy)
    except Exception as error:  # an optimizer that cannot be copied or stepped is not adam
        return f"the optimizer {type(optimizer).__name__} cannot take a step ({error}): write optimizer='adam'"
    if np.allclose(found, _steps(adam), rtol=2e-4, atol=1e-9):
        return None
    if type(optimizer).__name__ != "Adam":
        return f"the optimizer is {type(optimizer).__name__}; the exercise's is adam: write optimizer='adam'"
    theirs, ours = optimizer.get_config(), adam.get_config()
    changed = [key for key in ours if key != "name" and key in theirs and not _same(theirs[key], ours[key])]
    settings = ", ".join(f"{key}={theirs[key]!r}" for key in changed) or "its settings"
    return (f"adam with {settings}; the exercise uses adam's defaults (learning rate {facts.ADAM_LEARNING_RATE}): "
            "write optimizer='adam'")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and bool(np.isclose(a, b, rtol=1e-6))
    return a == b


def _probe_probabilities(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (n, facts.N_CLASSES)).astype(np.float32)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return rng.integers(0, facts.N_CLASSES, n), (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def loss_difference(model) -> str | None:
    """None when the compiled loss of integer labels and predicted probabilities is sparse
    categorical cross-entropy: the mean of -log p(true digit), on probe labels and probabilities."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return "the model has no loss: compile it with loss='sparse_categorical_crossentropy'"
    labels, probabilities = _probe_probabilities()
    expected = -np.mean(np.log(probabilities[np.arange(len(labels)), labels]))
    try:
        function = keras.losses.get(loss) if isinstance(loss, str) else loss
        found = float(np.mean(np.asarray(function(labels, probabilities))))
    except Exception as error:  # a loss that cannot take integer labels
        found, why = None, f" (it cannot take integer labels: {str(error).splitlines()[0][:200]})"
    else:
        why = ""
    if found is not None and np.isclose(found, expected, rtol=1e-4):
        return None
    name, logits = loss_settings(model)
    if logits:
        return ("the loss takes logits (from_logits=True), but the exercise's model gives probabilities (softmax): "
                "remove from_logits=True")
    return (f"the loss is {name}{why}; the exercise's is sparse categorical cross-entropy on probabilities: "
            "write loss='sparse_categorical_crossentropy'")


def accuracy_difference(results: dict, expected: float) -> str | None:
    """None when one compiled metric of ``evaluate(return_dict=True)``'s ``results`` has the value
    of the accuracy ``expected`` (the share of digits whose most probable class is their label),
    whatever its name; else which metrics there are and how to write one."""
    metrics = {name: float(value) for name, value in results.items() if not name.endswith("loss")}
    if any(abs(value - expected) <= 1e-6 for value in metrics.values()):
        return None
    found = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()) or "none"
    return (f"no compiled metric is the accuracy ({expected:.4f} on these digits); metrics: {found}: "
            "compile with metrics=['accuracy']")


# --- one training step (issue 30) -----------------------------------------------------------------

#: What a layer adds to training beyond its outputs: each is named when the step differs.
TRAINING_SETTINGS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                     "bias_constraint")
#: One step agrees to float32 rounding: equivalent spellings gave identical losses and weights
#: (differences of 0); an l2(0.01) or a MaxNorm moves weights by up to twice adam's learning
#: rate (2e-3) and l2(1e-6) changes the loss by 1e-5 of itself, so these bounds separate them.
STEP_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
#: The scales of the step's starting weights: as Keras's initializers draw them, and ten times
#: larger, where a max-norm constraint of a few units binds.
STEP_SCALES = (1.0, 10.0)
N_STEP_PROBES = 32


def compile_difference(model) -> str | None:
    """None when the model is compiled so that it can train; else why not, in the student's
    words: uncompiled, or metrics given where Keras 3 takes loss weights (Q2, Q5)."""
    if getattr(model, "optimizer", None) is None:
        return "the model is not compiled: call model.compile(optimizer='adam', ...) before returning it"
    values = loss_weight_values(compiled_loss_weights(model))
    if any(isinstance(value, str) for value in values):
        return (f"compile() got {values!r} as loss_weights, not as metrics: Keras 3's order is "
                "compile(optimizer, loss, loss_weights, metrics), so a third positional argument weighs the loss: "
                f"write metrics={values!r}")
    return None


def training_settings_difference(model) -> str | None:
    """The first setting that makes ``model`` train otherwise than the exercise's model with the
    same outputs (a regularizer, a constraint, a frozen layer, ``loss_weights``), in the student's
    words; None when it has none.  Names what ``training_step_difference`` found."""
    weights = compiled_loss_weights(model)
    if not unit_loss_weights(weights):
        return (f"the model is compiled with loss_weights={weights!r}, which scales its loss; the exercise's has "
                "none: remove loss_weights")
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for index, layer in enumerate(layers, 1):
        if layer.weights and not layer.trainable:
            return (f"layer {index} ({type(layer).__name__}) is frozen (trainable=False): the exercise trains every "
                    "layer: remove trainable=False")
        for key in TRAINING_SETTINGS:
            value = getattr(layer, key, None)
            if value is not None and not _neutral(value):
                return (f"layer {index} ({type(layer).__name__}) has {key}={_spell_object(value)}, which the "
                        "exercise's has not: remove it")
    return None


def _neutral(value) -> bool:
    """A regularizer whose every factor is 0 (``l2(0.0)``) adds nothing to training."""
    if not isinstance(value, keras.regularizers.Regularizer):
        return False
    try:
        config = value.get_config()
    except Exception:  # a custom regularizer: not neutral as far as anyone can tell
        return False
    return bool(config) and all(isinstance(v, (int, float, np.floating)) and float(v) == 0.0 for v in config.values())


def _spell_object(value) -> str:
    """A Keras object as a student writes it: ``L2(0.01)``, ``MaxNorm(max_value=3, axis=0)``."""
    try:
        config = value.get_config()
    except Exception:
        config = {}
    shown = {key: f"{float(v):.6g}" if isinstance(v, (float, np.floating)) else repr(v) for key, v in config.items()}
    args = [*shown.values()] if len(shown) == 1 else [f"{key}={v}" for key, v in shown.items()]
    return f"{type(value).__name__}({', '.join(args)})"


def training_step_difference(model, which: str) -> str | None:
    """None when one ``train_on_batch`` of ``model`` reports the loss and leaves the weights that
    the exercise's ``which`` model (Q2, Q5) gives from the same weights on the same probe batch;
    else the first training setting that differs, in the student's words.

    The exercise's model takes its step with a copy of ``model``'s optimizer and its loss: those
    are judged by ``optimizer_difference`` and ``loss_difference``, and a model that computes other
    outputs by ``model_difference``, so that each mistake costs its own claim.  What the step
    judges is everything else training uses: regularizers, constraints, frozen layers, loss
    weights, and whatever Keras adds later.  ``model``'s weights are restored after; its optimizer
    has taken the steps.
    """
    difference = compile_difference(model)
    if difference is not None:
        return difference
    reference = exercise_model(which)
    if [w.shape for w in model.get_weights()] != [w.shape for w in reference.get_weights()]:
        return None  # another model: the claim of what it computes says so
    optimizer = model.optimizer
    try:
        copy = type(optimizer).from_config(optimizer.get_config())
        reference.compile(optimizer=copy, loss=model.loss)
    except Exception:  # an optimizer or loss that cannot be copied: their own claims say so
        return None
    _, shape = EXERCISE[which]
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (N_STEP_PROBES, *shape)).astype(np.float32)
    y = rng.integers(0, facts.N_CLASSES, N_STEP_PROBES)
    original = model.get_weights()
    try:
        for scale in STEP_SCALES:
            start = [rng.normal(0, scale / np.sqrt(max(1, np.prod(w.shape[:-1]))), w.shape).astype(np.float32)
                     for w in original]
            expected_loss, expected = _one_step(reference, start, x, y)
            try:
                found_loss, found = _one_step(model, start, x, y)
            except Exception as error:  # a model that cannot take a step on the exercise's batches
                return f"the model cannot take a training step: {str(error).splitlines()[0][:300]}"
            same_loss = np.isclose(found_loss, expected_loss, **STEP_TOLERANCE)
            if same_loss and all(np.allclose(a, b, **STEP_TOLERANCE) for a, b in zip(found, expected)):
                continue
            if model_difference(model, which) is not None:  # asked only now: most models take the step
                return None  # another model: the claim of what it computes says so
            what = (f"reports loss {found_loss:.6g} where the exercise's reports {expected_loss:.6g}" if not same_loss
                    else "moves the weights otherwise than the exercise's")
            return training_settings_difference(model) or (
                f"from the same weights, one training step of the model {what}: something it adds to training "
                "(a regularizer, a constraint, a frozen layer, loss_weights) differs from the exercise's model")
    finally:
        model.set_weights(original)
    return None


def _one_step(model, weights: list, x, y) -> tuple[float, list]:
    """``model.train_on_batch(x, y)`` from ``weights``, run eagerly (no tracing: a fraction of a
    second), as (the loss it reports, its weights after)."""
    model.set_weights(weights)
    eager = model.run_eagerly
    model.run_eagerly = True
    try:
        reported = model.train_on_batch(x, y)
    finally:
        model.run_eagerly = eager
    loss = reported[0] if isinstance(reported, (list, tuple)) else reported
    return float(np.asarray(loss)), model.get_weights()
