"""Gradients of a loss of the caller's own, given by its upstream gradient R (core.bptt.backward_from_output).

For random R the loss is L = sum_{t,b,k} R_{t,b,k} out_{t,b,k} over the real (unpadded) positions, with out the
top layer's h (directions concatenated) or the output layer's y. Two independent checks:

* central differences of L in every parameter, in x (dL/dx_t, through the equivalent vector-input network for
  token inputs), h0 and c0;
* PyTorch autograd of (out * R).sum() through nn.RNN / nn.LSTM / nn.GRU, packed when the batch is padded,
  with and without an nn.Linear head.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from netcases import Case, kink_free_case, make_case
from numgrad import assert_gradient_matches, central_difference

from core.bptt import backward_from_output
from core.losses import linear

KERNELS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
SCENARIOS = {
    "plain": {},
    "stacked_bidirectional": {"num_layers": 2, "bidirectional": True},
    "padded_initial_state": {"padded": True, "initial_state": True, "batch": 3},
    "onehot": {"encoding": "onehot"},
    "embedding_bidirectional": {"encoding": "embedding", "bidirectional": True},
}


def without_head(case: Case) -> Case:
    config = replace(case.config, output_size=None)
    params = {k: v for k, v in case.params.items() if not k.startswith("output.")}
    return replace(case, config=config, params=params)


def upstream_for(case: Case, of: str) -> np.ndarray:
    trace = case.run()
    out = trace.top if of == "h" else trace.logits
    assert out is not None
    return np.random.default_rng(case.seed + 99).standard_normal(out.shape)


def surrogate(case: Case, upstream: np.ndarray, of: str) -> float:
    """L of the current params / inputs / states (read at call time, so in-place nudges count)."""
    trace = case.run()
    out = trace.top if of == "h" else trace.logits
    assert out is not None
    return linear(out, upstream, trace.mask)[0]


@pytest.mark.parametrize("of", ["h", "y", "h_without_head"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
def test_upstream_gradients_match_central_differences(
    kernel: tuple[str, str], scenario: str, of: str
) -> None:
    cell, nonlinearity = kernel
    case = kink_free_case(cell, nonlinearity=nonlinearity, **SCENARIOS[scenario])
    if of == "h_without_head":
        case, of = without_head(case), "h"
    upstream = upstream_for(case, of)
    value, grads = backward_from_output(case.params, case.run(), upstream, of)
    assert value == pytest.approx(surrogate(case, upstream, of), rel=1e-14)
    assert list(grads.params) == list(case.params)

    def objective() -> float:
        return surrogate(case, upstream, of)

    for name, param in case.params.items():
        if of == "h" and name.startswith("output."):
            # L does not read the output layer: its gradient is exactly zero.
            assert not grads.params[name].any(), name
            continue
        assert_gradient_matches(name, central_difference(objective, param), grads.params[name])

    vector_case = case if case.config.input_encoding == "vector" else case.as_vector_inputs()

    def vector_objective() -> float:
        return surrogate(vector_case, upstream, of)

    numerical = central_difference(vector_objective, vector_case.inputs)
    assert_gradient_matches("d_inputs", numerical, grads.d_inputs)
    if case.h0 is not None:
        assert_gradient_matches("dh0", central_difference(objective, case.h0), grads.dh0)


def test_padded_positions_of_the_upstream_gradient_are_ignored() -> None:
    case = make_case("gru", padded=True, batch=3, steps=5)
    trace = case.run()
    upstream = upstream_for(case, "h")
    noisy = upstream.copy()
    noisy[~trace.mask] = 1e6
    value, grads = backward_from_output(case.params, trace, upstream, "h")
    noisy_value, noisy_grads = backward_from_output(case.params, trace, noisy, "h")
    assert (~trace.mask).any(), "the case must have padded positions"
    assert noisy_value == value
    masked = upstream.copy()
    masked[~trace.mask] = 0.0
    assert value == pytest.approx(float((masked * trace.top).sum()), rel=1e-14)
    for name in grads.params:
        np.testing.assert_array_equal(noisy_grads.params[name], grads.params[name])


def test_bad_upstream_gradients_are_refused() -> None:
    case = make_case("lstm")
    trace = case.run()
    with pytest.raises(ValueError, match="shape"):
        backward_from_output(case.params, trace, np.zeros((1, 1, 1)), "h")
    bad = upstream_for(case, "h")
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        backward_from_output(case.params, trace, bad, "h")
    with pytest.raises(ValueError, match="of must be"):
        backward_from_output(case.params, trace, upstream_for(case, "h"), "c")
    headless = without_head(case)
    with pytest.raises(ValueError, match="output layer"):
        backward_from_output(headless.params, headless.run(), upstream_for(case, "y"), "y")


# ---------------------------------------------------------------------------------------------------------
# PyTorch autograd


TORCH_CASES = [
    # (cell, nonlinearity, options, of)
    ("rnn", "tanh", {}, "h"),
    ("rnn", "relu", {"num_layers": 2, "bidirectional": True}, "y"),
    ("rnn", "tanh", {"num_layers": 3, "padded": True, "batch": 3, "initial_state": True}, "h_without_head"),
    ("lstm", "tanh", {"bidirectional": True, "initial_state": True}, "h"),
    ("lstm", "tanh", {"num_layers": 2, "padded": True, "batch": 4, "encoding": "embedding"}, "y"),
    ("lstm", "tanh", {"num_layers": 2, "bidirectional": True}, "h_without_head"),
    ("gru", "tanh", {"num_layers": 2, "encoding": "onehot"}, "h"),
    ("gru", "tanh", {"bidirectional": True, "padded": True, "batch": 3, "initial_state": True}, "y"),
    ("gru", "tanh", {"num_layers": 3, "bidirectional": True}, "h_without_head"),
]


@pytest.mark.torch
@pytest.mark.parametrize(
    "cell,nonlinearity,options,of",
    TORCH_CASES,
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}" for k in v),
)
def test_upstream_gradients_match_torch_autograd(
    cell: str, nonlinearity: str, options: dict, of: str
) -> None:
    torch = pytest.importorskip("torch")
    from torch_reference import build_module

    case = make_case(cell, nonlinearity=nonlinearity, steps=5, **options)
    if of == "h_without_head":
        case, of = without_head(case), "h"
    upstream = upstream_for(case, of)
    value, grads = backward_from_output(case.params, case.run(), upstream, of)

    ref_value, ref_grads, ref_dx = torch_upstream(torch, build_module, case, upstream, of)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    assert set(grads.params) == set(ref_grads)
    for name, grad in ref_grads.items():
        np.testing.assert_allclose(grads.params[name], grad, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(grads.d_inputs, ref_dx, rtol=1e-10, atol=1e-12, err_msg="d_inputs")


def torch_upstream(torch, build_module, case: Case, upstream: np.ndarray, of: str):  # noqa: ANN001, ANN201
    """(out * R).sum() through PyTorch, and its gradients keyed like case.params, plus dL/dx as core defines
    it: w.r.t. the vectors layer 0 reads (one-hot rows or the embedding rows used)."""
    import torch.nn.functional as F  # noqa: N812
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    config = case.config
    module = build_module(case).double()
    embedding = None
    if config.input_encoding == "vector":
        x = torch.tensor(case.inputs, requires_grad=True)
    else:
        tokens = torch.from_numpy(np.asarray(case.inputs, dtype=np.int64))
        if config.input_encoding == "onehot":
            x = F.one_hot(tokens, config.vocab_size).double().requires_grad_()
        else:
            embedding = torch.nn.Embedding.from_pretrained(
                torch.from_numpy(case.params["embedding.weight"]), freeze=False
            )
            x = embedding(tokens)
            x.retain_grad()
    hx = None
    if case.h0 is not None:
        h0 = torch.tensor(case.h0)
        hx = (h0, torch.tensor(case.c0)) if config.cell == "lstm" else h0
    if case.lengths is None:
        top, _ = module(x, hx)
    else:
        packed = pack_padded_sequence(x, torch.as_tensor(case.lengths), enforce_sorted=False)
        packed_top, _ = module(packed, hx)
        top, _ = pad_packed_sequence(packed_top, total_length=x.shape[0])
    linear_layer = None
    out = top
    if config.output_size is not None:
        linear_layer = torch.nn.Linear(config.top_size, config.output_size).double()
        with torch.no_grad():
            linear_layer.weight.copy_(torch.from_numpy(case.params["output.weight"]))
            linear_layer.bias.copy_(torch.from_numpy(case.params["output.bias"]))
        logits = linear_layer(top)
        out = logits if of == "y" else top
    mask = torch.from_numpy(case.run().mask)[..., None]
    # Padded positions are not part of a sequence; pad_packed_sequence zeroes top there, but not y.
    value = (out * torch.from_numpy(upstream) * mask).sum()
    value.backward()
    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    if linear_layer is not None:
        zero = np.zeros_like
        grads["output.weight"] = (
            zero(case.params["output.weight"])
            if linear_layer.weight.grad is None
            else linear_layer.weight.grad.numpy()
        )
        grads["output.bias"] = (
            zero(case.params["output.bias"])
            if linear_layer.bias.grad is None
            else linear_layer.bias.grad.numpy()
        )
    if embedding is not None:
        grads["embedding.weight"] = embedding.weight.grad.numpy()
    return float(value.detach()), grads, x.grad.numpy()
