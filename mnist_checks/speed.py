"""The training fast path, and what an epoch costs: the models' FLOPs, this machine's matmul peak.

The fast path (``compile_for_speed`` and ``as_tensors``) is what ``mnist_checks.run`` trains with
unless told to use plain ``fit()``; it changes how batches are dispatched, not what is computed
(a fast test checks that both give the same losses). The benchmarks (``benchmarks/``) time both;
their figures are in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import math
import time

from .compat import BACKEND, array_batches, compiled_loss_weights, keras, on_device, ops

#: Keras runs this many training steps per call into the backend on the fast path. It changes
#: no arithmetic (still one adam update per batch of 32); it removes per-step Python and
#: dispatch overhead, which dominates the MLP's tiny steps. Keras's torch backend refuses any
#: other value than 1 (``fit`` raises ValueError), so there the fast path only makes the tensors once.
STEPS_PER_EXECUTION = 1 if BACKEND == "torch" else 64
#: Training costs about three forward passes: the forward, and a backward pass of twice its work.
TRAINING_PASSES = 3


def compile_for_speed(model) -> None:
    """Recompile ``model`` with the same optimizer (its config, fresh state), loss, loss weights
    and accuracy, running ``STEPS_PER_EXECUTION`` batches per backend call."""
    optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
    model.compile(optimizer=optimizer, loss=model.loss, metrics=["accuracy"], loss_weights=compiled_loss_weights(model),
                  steps_per_execution=STEPS_PER_EXECUTION)


def fit_arrays(*arrays) -> list:
    """Each array as ``fit()`` computes with it: floats and images as float32 (the dtype Keras
    trains in; uint8 pixels and float64 ones convert exactly), labels as they are."""
    import numpy as np

    out = []
    for array in arrays:
        array = np.asarray(array)
        if array.dtype.kind == "f" or array.ndim > 1:
            array = array.astype(np.float32, copy=False)
        out.append(array)
    return out


def as_tensors(*arrays) -> list:
    """Each of ``fit_arrays`` as a backend tensor, made once: ``fit()`` then shuffles and batches
    the tensor in place instead of copying the numpy array into the backend at every call. The
    same values, so the same batches and the same updates."""
    return [ops.convert_to_tensor(array) for array in fit_arrays(*arrays)]


def batches(x, y, batch_size: int, *, shuffle: bool):
    """``fit()``'s own batches of ``(x, y)`` (``compat.array_batches``), with tf.data's autotuning
    off; None where Keras builds its batches otherwise (then ``fit`` takes the arrays).

    Autotuning changes no batch; it costs whole epochs: its optimisation thread sleeps for periods
    that double while an epoch runs, and some epochs' end waits for that sleep to finish, idle (no
    CPU time spent) for about as long as the epoch itself (docs/benchmarks.md, "Stalls")."""
    dataset = array_batches(x, y, batch_size, shuffle=shuffle)
    if dataset is None:
        return None
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    steps = -(-int(x.shape[0]) // batch_size)  # said, so that fit() knows the epoch's length (progress, ETA)
    return dataset.with_options(options).apply(tf.data.experimental.assert_cardinality(steps))


def forward_flops(model) -> int:
    """Multiply-adds x 2 of one image's forward pass through the Dense and Conv2D layers.

    Pooling, flattening, activations and biases are left out: they are a rounding error here.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            total += 2 * int(layer.kernel.shape[0]) * layer.units
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = (int(d) for d in layer.kernel.shape)
            out = layer.output.shape
            total += 2 * kh * kw * c_in * c_out * int(out[1]) * int(out[2])
    return total


def training_flops(model, n_samples: int) -> int:
    """FLOPs of one training epoch over ``n_samples`` images (no validation pass)."""
    return TRAINING_PASSES * forward_flops(model) * n_samples


def matmul_peak_flops(device: str = "cpu", n: int = 2048, repeats: int = 5) -> float:
    """This machine's dense float32 matmul rate on ``device`` through the backend, in FLOP/s:
    the best of ``repeats`` ``n x n`` products after a warm-up."""
    import numpy as np

    rng = np.random.default_rng(0)
    with on_device(device):
        a = ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
        b = ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
        ops.convert_to_numpy(ops.matmul(a, b))
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            ops.convert_to_numpy(ops.matmul(a, b))  # to numpy: waits for the device
            best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def kernel_ms_per_step(model, steps: int = 300, repeats: int = 3, batch_size: int = 32) -> float:
    """The floor of one training step of ``model`` on this machine, in milliseconds: forward,
    backward and adam's update of ``steps`` batches of random data inside one compiled TensorFlow
    loop, no Keras training loop and no input pipeline around them; the best of ``repeats``.

    Only TensorFlow's kernels remain, so no change of dispatch can train faster than this without
    changing the arithmetic (docs/benchmarks.md)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    x = tf.constant(rng.random((steps, batch_size, *shape), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, (steps, batch_size)))
    optimizer = keras.optimizers.Adam()
    loss = keras.losses.SparseCategoricalCrossentropy()
    weights = model.trainable_variables

    @tf.function
    def train(n):
        for i in tf.range(n):
            with tf.GradientTape() as tape:
                value = loss(y[i], model(x[i], training=True))
            optimizer.apply_gradients(zip(tape.gradient(value, weights), weights))

    train(tf.constant(min(steps, 8)))  # traced and warmed outside the timing
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        train(tf.constant(steps))
        best = min(best, time.perf_counter() - start)
    return 1000 * best / steps
