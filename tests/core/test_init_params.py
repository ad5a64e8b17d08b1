"""init_params draws PyTorch's default distributions.

    recurrent tensors ~ U(-k, k), k = 1/sqrt(H)        (mean 0, variance k^2 / 3)
    output layer      ~ U(-k, k), k = 1/sqrt(D*H)      (nn.Linear's fan-in)
    embedding         ~ N(0, 1)

Statistical checks use tensors of a few thousand entries and bounds of several standard errors, so they are
deterministic for the fixed seeds and would still catch a wrong scale or a wrong distribution.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.config import NetworkConfig
from core.params import init_params, parameter_shapes

CONFIG = NetworkConfig(cell="lstm", input_size=40, hidden_size=64, num_layers=2, bidirectional=True,
                       output_size=30, input_encoding="embedding", vocab_size=50)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("hidden", [1, 5, 64])
def test_every_tensor_stays_within_pytorch_bounds(cell: str, hidden: int) -> None:
    config = NetworkConfig(cell=cell, input_size=3, hidden_size=hidden, num_layers=2, bidirectional=True,
                           output_size=4)
    params = init_params(config, seed=hidden)
    assert {k: v.shape for k, v in params.items()} == parameter_shapes(config)
    for name, value in params.items():
        bound = 1 / math.sqrt(config.top_size if name.startswith("output.") else hidden)
        assert np.abs(value).max() <= bound, name


def test_uniform_tensors_fill_their_range_with_the_right_spread() -> None:
    params = init_params(CONFIG, seed=0)
    for name, value in params.items():
        if name == "embedding.weight":
            continue
        k = 1 / math.sqrt(CONFIG.top_size if name.startswith("output.") else CONFIG.hidden_size)
        n = value.size
        assert np.abs(value).max() > k * (1 - 20 / n), f"{name} does not reach its bound {k}"
        assert abs(value.mean()) < 5 * k / math.sqrt(3 * n), name
        if n >= 1000:
            assert value.var() == pytest.approx(k * k / 3, rel=0.1), name


def test_embedding_is_standard_normal() -> None:
    embedding = init_params(CONFIG, seed=1)["embedding.weight"]
    assert abs(embedding.mean()) < 5 / math.sqrt(embedding.size)
    assert embedding.std() == pytest.approx(1.0, rel=0.05)
    assert np.abs(embedding).max() > 3, "a normal sample this size has tails; a uniform one would not"


def test_seed_determines_the_draw_and_dtype_follows_config() -> None:
    a, b, c = init_params(CONFIG, 5), init_params(CONFIG, 5), init_params(CONFIG, 6)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert all(not np.array_equal(a[k], c[k]) for k in a)
    single = init_params(NetworkConfig(cell="gru", hidden_size=4, output_size=2, dtype="float32"), 0)
    assert all(v.dtype == np.float32 for v in single.values())


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bounds_are_the_ones_pytorch_uses(cell: str) -> None:
    """PyTorch's own default init respects (and nearly reaches) the same bounds core uses."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    hidden = 16
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](8, hidden)
    linear = torch.nn.Linear(hidden, 5)
    for value, fan in [(p, hidden) for p in module.parameters()] + [(p, hidden) for p in linear.parameters()]:
        bound = 1 / math.sqrt(fan)
        peak = float(value.detach().abs().max())
        assert peak <= bound
        assert peak > 0.8 * bound
