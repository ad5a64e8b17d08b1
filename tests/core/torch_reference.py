"""The network of a :class:`~netcases.Case` rebuilt from PyTorch modules, with the case's weights copied in.

    nn.RNN / nn.LSTM / nn.GRU (num_layers, bidirectional)  ->  nn.Linear  ->  cross_entropy or mse_loss

Inputs go through F.one_hot or an nn.Embedding; padded batches through pack_padded_sequence
(enforce_sorted=False). The loss is PyTorch's mean over the counted positions: every real step ('all' or
many-to-many) or each sequence's last real step ('last' or many-to-one). Import only after
``pytest.importorskip("torch")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (PyTorch's own convention)
from netcases import Case
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass
class TorchRun:
    loss: float
    top: np.ndarray  # (T, B, D*H), zero at padded positions (pad_packed_sequence fills them)
    logits: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray | None
    grads: dict[str, np.ndarray]  # keyed like the case's params
    d_inputs: np.ndarray
    dh0: np.ndarray | None
    dc0: np.ndarray | None
    module: nn.Module


def counted_positions(case: Case, steps: int, batch: int) -> np.ndarray:
    """(T, B) bool: where the loss is taken, decided from the case's options (not from core's helper)."""
    lengths = np.full(batch, steps) if case.lengths is None else np.asarray(case.lengths)
    t = np.arange(steps)[:, None]
    if case.where == "last" or (case.where is None and case.shape == "many_to_one"):
        return t == lengths[None, :] - 1
    return t < lengths[None, :]


def build_module(case: Case) -> nn.Module:
    config = case.config
    kwargs = {"input_size": config.input_size, "hidden_size": config.hidden_size,
              "num_layers": config.num_layers, "bidirectional": config.bidirectional}
    if config.cell == "rnn":
        kwargs["nonlinearity"] = config.nonlinearity
    # Cast first, then copy: copying float64 weights into a float32 module would round them.
    module = MODULES[config.cell](**kwargs).to(TORCH_DTYPES[config.dtype])
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            parameter.copy_(torch.from_numpy(case.params[name]))
    return module


def leaf(array: np.ndarray | None, dtype: torch.dtype) -> torch.Tensor | None:
    return None if array is None else torch.tensor(array, dtype=dtype, requires_grad=True)


def run_torch(case: Case) -> TorchRun:
    config = case.config
    dtype = TORCH_DTYPES[config.dtype]
    module = build_module(case)
    linear = nn.Linear(config.top_size, config.output_size).to(dtype)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(case.params["output.weight"]))
        linear.bias.copy_(torch.from_numpy(case.params["output.bias"]))

    embedding = None
    if config.input_encoding == "vector":
        x = leaf(case.inputs, dtype)
    else:
        tokens = torch.from_numpy(np.asarray(case.inputs, dtype=np.int64))
        if config.input_encoding == "onehot":
            x = F.one_hot(tokens, config.vocab_size).to(dtype).requires_grad_()
        else:
            table = torch.from_numpy(case.params["embedding.weight"]).to(dtype)
            embedding = nn.Embedding.from_pretrained(table, freeze=False)
            x = embedding(tokens)
            x.retain_grad()
    steps, batch = x.shape[:2]

    h0, c0 = leaf(case.h0, dtype), leaf(case.c0, dtype)
    if config.cell == "lstm" and h0 is not None:
        hx = (h0, c0 if c0 is not None else torch.zeros_like(h0))
    else:
        hx = h0
    if case.lengths is None:
        top, state = module(x, hx)
    else:
        lengths = torch.as_tensor(case.lengths, dtype=torch.int64)
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        packed_top, state = module(packed, hx)
        top, _ = pad_packed_sequence(packed_top, total_length=steps)
    h_n, c_n = state if config.cell == "lstm" else (state, None)
    logits = linear(top)

    counted = torch.from_numpy(counted_positions(case, steps, batch))
    if case.loss == "cross_entropy":
        targets = torch.from_numpy(np.asarray(case.targets, dtype=np.int64))
        loss = F.cross_entropy(logits[counted], targets[counted])
    else:
        out = torch.softmax(logits, -1) if config.output_activation == "softmax" else logits
        loss = F.mse_loss(out[counted], torch.tensor(case.targets, dtype=dtype)[counted])
    loss.backward()

    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    grads["output.weight"] = linear.weight.grad.numpy()
    grads["output.bias"] = linear.bias.grad.numpy()
    if embedding is not None:
        grads["embedding.weight"] = embedding.weight.grad.numpy()

    def numpy_or_none(t: torch.Tensor | None) -> np.ndarray | None:
        return None if t is None else t.detach().numpy()

    return TorchRun(
        loss=float(loss.detach()), top=top.detach().numpy(), logits=logits.detach().numpy(),
        h_n=h_n.detach().numpy(), c_n=numpy_or_none(c_n), grads=grads, d_inputs=x.grad.numpy(),
        dh0=None if h0 is None else h0.grad.numpy(), dc0=None if c0 is None else c0.grad.numpy(),
        module=module,
    )
