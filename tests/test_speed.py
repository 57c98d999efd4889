"""The cost model behind the benchmarks: FLOPs per image and epoch, the matmul peak probe."""

import pytest

from mnist_checks import speed

pytestmark = pytest.mark.fast


def test_mlp_forward_pass_costs_50816_flops_per_image(contract):
    assert speed.forward_flops(contract.build_mlp()) == 2 * (784 * 32 + 32 * 10)


def test_cnn_forward_pass_costs_about_5_6_mflops_per_image(contract):
    """Conv layers 2*9*c_in*c_out*H*W: 389,376 + 4,460,544 + 663,552; dense 73,728 + 1,280."""
    assert speed.forward_flops(contract.build_cnn()) == 5_588_480


def test_cnn_training_epoch_costs_about_1_tflop(contract):
    assert speed.training_flops(contract.build_cnn(), 60_000) == pytest.approx(1.006e12, rel=1e-3)


def test_matmul_peak_is_a_positive_rate(monkeypatch):
    rate = speed.matmul_peak_flops("cpu", n=128, repeats=2)
    assert 1e6 < rate < 1e15
