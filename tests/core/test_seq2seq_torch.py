"""Parity with a PyTorch re-implementation: loss, logits, attention weights and every gradient under teacher
forcing.

The reference is written from the equations, not from core.seq2seq: nn.Embedding -> nn.RNN/LSTM/GRU over a
packed source (pack_padded_sequence) -> h_n reshaped to (L, D, B, H) and concatenated -> tanh(nn.Linear)
bridge (plain nn.Linear for the LSTM cell state) -> decoder module over [START, targets[:-1]] -> attention
written with tensor ops -> nn.Linear -> F.cross_entropy(ignore_index=PAD). Autograd gives the gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402, N812 (PyTorch's own convention)
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from core.seq2seq import Seq2SeqConfig, forward, init_params, loss_and_gradients  # noqa: E402

pytestmark = pytest.mark.torch

MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def torch_loss(config: Seq2SeqConfig, params: dict[str, np.ndarray], source: np.ndarray, lengths: np.ndarray,
               target: np.ndarray):
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}

    def recurrent(side: str):
        return {n[len(side) + 1 :]: t for n, t in tensors.items() if n.startswith(side + ".")}

    def run(side: str, inputs, state, bidirectional: bool, hidden: int):
        module = MODULES[config.cell](config.embedding_size, hidden, config.num_layers,
                                      bidirectional=bidirectional).double()
        return torch.func.functional_call(module, recurrent(side), (inputs, state))

    src = torch.tensor(source)
    tgt = torch.tensor(target)
    T, B = tgt.shape
    L, D, H = config.num_layers, config.num_directions, config.hidden_size
    embedded = F.embedding(src, tensors["encoder_embedding.weight"])
    packed = pack_padded_sequence(embedded, torch.tensor(lengths), enforce_sorted=False)
    out, final = run("encoder", packed, None, config.bidirectional, H)
    memory, _ = pad_packed_sequence(out, total_length=source.shape[0])

    def hand_over(state, bridge: str, squash: bool):
        joined = state.reshape(L, D, B, H).permute(0, 2, 1, 3).reshape(L, B, D * H)
        if not config.has_bridge:
            return joined
        mapped = joined @ tensors[f"{bridge}.weight"].T + tensors[f"{bridge}.bias"]
        return torch.tanh(mapped) if squash else mapped

    if config.cell == "lstm":
        state = (hand_over(final[0], "bridge", True), hand_over(final[1], "bridge_cell", False))
    else:
        state = hand_over(final, "bridge", True)
    fed = torch.cat([torch.full((1, B), config.start_id), tgt[:-1]])
    fed_embedded = F.embedding(fed, tensors["decoder_embedding.weight"])
    s, _ = run("decoder", fed_embedded, state, False, config.dec_hidden)
    weights = None
    top = s
    if config.attention != "none":
        if config.attention == "dot":
            scores = torch.einsum("tbh,sbh->tbs", s, memory)
        elif config.attention == "general":
            scores = torch.einsum("tbh,hk,sbk->tbs", s, tensors["attention.weight"], memory)
        else:
            q = s @ tensors["attention.query.weight"].T
            k = memory @ tensors["attention.key.weight"].T
            u = torch.tanh(q[:, :, None, :] + k.permute(1, 0, 2)[None])
            scores = (u @ tensors["attention.energy.weight"].T)[..., 0]
        real = torch.arange(source.shape[0])[None, :] < torch.tensor(lengths)[:, None]  # (B, S)
        weights = torch.softmax(scores.masked_fill(~real[None], float("-inf")), dim=-1)
        context = torch.einsum("tbs,sbk->tbk", weights, memory)
        top = torch.tanh(torch.cat([context, s], -1) @ tensors["attention.combine.weight"].T
                         + tensors["attention.combine.bias"])
    logits = top @ tensors["output.weight"].T + tensors["output.bias"]
    loss = F.cross_entropy(logits.reshape(T * B, -1), tgt.reshape(-1), ignore_index=config.pad_id)
    loss.backward()
    grads = {k: t.grad.numpy() for k, t in tensors.items()}
    weights_np = None if weights is None else weights.detach().numpy()
    return float(loss.detach()), logits.detach().numpy(), weights_np, grads


CONFIGS = [
    {"cell": "lstm", "attention": "additive", "bidirectional": True, "num_layers": 2, "decoder_hidden_size": 5},
    {"cell": "gru", "attention": "general", "num_layers": 1, "decoder_hidden_size": 4},
    {"cell": "rnn", "attention": "dot", "bidirectional": True},
    {"cell": "lstm", "attention": "none", "num_layers": 2},
]


@pytest.mark.parametrize("options", CONFIGS, ids=lambda o: f"{o['cell']}-{o['attention']}")
def test_matches_pytorch(options):
    config = Seq2SeqConfig(src_vocab_size=7, tgt_vocab_size=8, embedding_size=3, hidden_size=3, **options)
    params = init_params(config, 5)
    rng = np.random.default_rng(11)
    lengths = np.array([6, 3, 5, 1])
    source = rng.integers(1, 7, (6, 4))
    source[np.arange(6)[:, None] >= lengths[None, :]] = config.pad_id
    target = rng.integers(3, 8, (5, 4))
    target[3, 1] = config.end_id
    target[4:, 1] = config.pad_id
    target[1, 3] = config.end_id
    target[2:, 3] = config.pad_id

    loss, trace, grads = loss_and_gradients(params, config, source, target)
    ref_loss, ref_logits, ref_weights, ref_grads = torch_loss(config, params, source, lengths, target)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(trace.logits, ref_logits, rtol=1e-10, atol=1e-12)
    if ref_weights is not None:
        np.testing.assert_allclose(trace.attention.weights, ref_weights, rtol=1e-10, atol=1e-12)
    assert sorted(grads) == sorted(ref_grads)
    for name, ref in ref_grads.items():
        np.testing.assert_allclose(grads[name], ref, rtol=1e-9, atol=1e-12, err_msg=name)
    # the teacher-forced trace and a plain forward agree
    np.testing.assert_array_equal(forward(params, config, source, target).logits, trace.logits)
