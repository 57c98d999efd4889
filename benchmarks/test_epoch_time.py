"""One training epoch of the exercise's MLP (Q2/Q4) and CNN (Q5) at its settings: 60,000 rows,
batch 32, adam; per device, with the exercise's plain fit() and with the package's fast path.

Run: ``pytest benchmarks`` (see docs/benchmarks.md). Each round trains a fresh model, warmed up in the
round's setup on 64 batches so that tracing is not timed and no round reuses another's state.
Plain fit trains on numpy arrays, as the exercise does (``fit()`` copies them into the backend at
every call, and that copy is part of its epoch); the fast path on tensors made once per session.
"""

from __future__ import annotations

import pytest

from mnist_checks import compat, facts
from mnist_checks.compat import environment
from mnist_checks.speed import STEPS_PER_EXECUTION, compile_for_speed, training_flops

pytestmark = pytest.mark.benchmark
BATCH = facts.BATCH_SIZE


def device_name(device: str) -> str | None:
    return compat.gpu_name() if device == "gpu" else environment()["cpu"]


@pytest.mark.parametrize("device", ["cpu", "gpu"])
@pytest.mark.parametrize("path", ["plain", "fast"])
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_one_training_epoch(benchmark, request, contract, training_set, matmul_peak, record_median, model, path,
                            device):
    if device == "gpu" and compat.gpu_name() is None:
        pytest.skip(f"no GPU visible to Keras's {compat.BACKEND} backend on this machine")
    X, y = training_set[(model, path)]
    build = contract.build_mlp if model == "mlp" else contract.build_cnn

    def fresh_warm_model():
        with compat.on_device(device):
            net = build()
            if path == "fast":
                compile_for_speed(net)
            net.fit(X[: 64 * BATCH], y[: 64 * BATCH], epochs=1, batch_size=BATCH, verbose=0)
        return (net,), {}

    def one_epoch(net):
        with compat.on_device(device):
            net.fit(X, y, epochs=1, batch_size=BATCH, verbose=0)

    benchmark.group = model
    benchmark.name = f"{model}-{path}-{device}"
    benchmark.pedantic(one_epoch, setup=fresh_warm_model, rounds=request.config.getoption("--epoch-rounds"),
                       iterations=1, warmup_rounds=0)
    median = benchmark.stats.stats.median
    record_median((model, path, device), median)
    steps = -(-len(X) // BATCH)
    flops = training_flops(build(), len(X))
    peak = matmul_peak(device)
    benchmark.extra_info.update(
        device=device,
        device_name=device_name(device),
        backend=compat.BACKEND,
        keras=compat.KERAS_VERSION,
        tensorflow=compat.TENSORFLOW_VERSION,
        path=path if path == "plain" else f"fast (steps_per_execution={STEPS_PER_EXECUTION}, tensors made once)",
        steps=steps,
        samples_per_second=round(len(X) / median),
        ms_per_step=round(1000 * median / steps, 3),
        published_ms_per_step=facts.PUBLISHED_MS_PER_STEP[model],
        training_gflop_per_epoch=round(flops / 1e9, 1),
        matmul_peak_gflops=round(peak / 1e9, 1),
        fraction_of_matmul_peak=round(flops / median / peak, 3),
    )
