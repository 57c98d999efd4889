"""Benchmark fixtures: the exercise's training data, the device's matmul peak, and the ratios
(fast path vs plain fit, GPU vs CPU) printed after the run and saved with --benchmark-save."""

from __future__ import annotations

import pytest

MEDIANS = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addoption("--epoch-rounds", type=int, default=3,
                     help="rounds (fresh model each) per epoch benchmark (default: 3)")


def pytest_configure(config):
    config.stash[MEDIANS] = {}


@pytest.fixture(scope="session")
def training_set(digits, contract):
    """Q1's 60,000 training rows, scaled (Q4): flat for the MLP, as images for the CNN; numpy
    arrays for plain fit, backend tensors made once for the fast path (as ``mnist_checks.run``
    makes them once per run)."""
    from mnist_checks.speed import as_tensors

    X_train, _, y_train, _ = contract.split(*digits)
    X = contract.scale(X_train)
    arrays = {"mlp": (X, y_train), "cnn": (contract.to_images(X), y_train)}
    return {(model, path): (data if path == "plain" else tuple(as_tensors(*data)))
            for model, data in arrays.items() for path in ("plain", "fast")}


@pytest.fixture(scope="session")
def matmul_peak():
    """Dense float32 matmul FLOP/s per device, measured once in this benchmark run."""
    from mnist_checks.speed import matmul_peak_flops

    cache = {}

    def peak(device):
        if device not in cache:
            cache[device] = matmul_peak_flops(device)
        return cache[device]

    return peak


@pytest.fixture
def record_median(request):
    """Remember a benchmark's median seconds under (model, path, device) for the ratios."""
    def record(key, seconds):
        request.config.stash[MEDIANS][key] = seconds

    return record


def ratios(medians: dict) -> list[tuple[str, float]]:
    """Side-by-side speed-ups from the medians of one run."""
    out = []
    for model in ("mlp", "cnn"):
        for device in ("cpu", "gpu"):
            plain, fast = medians.get((model, "plain", device)), medians.get((model, "fast", device))
            if plain and fast:
                out.append((f"{model} on {device}: fast path vs plain fit", plain / fast))
        for path in ("plain", "fast"):
            cpu, gpu = medians.get((model, path, "cpu")), medians.get((model, path, "gpu"))
            if cpu and gpu:
                out.append((f"{model} {path}: GPU vs CPU", cpu / gpu))
    return out


def pytest_terminal_summary(terminalreporter, config):
    found = ratios(config.stash.get(MEDIANS, {}))
    if found:
        terminalreporter.section("epoch speed-ups (ratio of medians, same run)")
        for name, ratio in found:
            terminalreporter.write_line(f"{name}: {ratio:.2f}x")


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["speedups"] = dict(ratios(config.stash.get(MEDIANS, {})))
