"""Every Seq2Seq gradient against central differences (float64, relative error < 1e-6 per tensor).

Loss: cross-entropy over the non-PAD target positions under teacher forcing, on a padded batch (sources and
targets of different lengths). Weights are the default initialisation doubled, so that every path (attention's
query side in particular, whose effect nearly cancels in the softmax at small weights) carries a gradient well
above the finite-difference noise.
"""

from __future__ import annotations

import numpy as np
import pytest
from numgrad import assert_gradient_matches, central_difference

from core.losses import cross_entropy
from core.seq2seq import Seq2SeqConfig, forward, init_params, loss_and_gradients, parameter_shapes

CELLS = ["rnn", "lstm", "gru"]
EPS = 1e-5  # roundoff / eps stays far below the smallest gradients checked; truncation is O(eps^2)
ATTENTIONS = ["none", "additive", "dot", "general"]


def batch(config: Seq2SeqConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sources (5, 3) and targets (4, 3), right-padded, targets ending with END where they are short."""
    rng = np.random.default_rng(seed)
    source = rng.integers(1, config.src_vocab_size, (5, 3))
    source[4:, 0] = config.pad_id
    source[2:, 1] = config.pad_id
    target = rng.integers(3, config.tgt_vocab_size, (4, 3))
    target[2, 0] = config.end_id
    target[3:, 0] = config.pad_id
    return source, target


def check_all(config: Seq2SeqConfig, seed: int = 0, teacher_forcing: float = 1.0) -> None:
    params = {k: 2.0 * v for k, v in init_params(config, seed).items()}
    source, target = batch(config, seed)

    def loss() -> float:  # the forward pass alone, as loss_and_gradients computes it
        trace = forward(params, config, source, target, teacher_forcing=teacher_forcing, seed=seed)
        return cross_entropy(trace.logits, target, target != config.pad_id)[0]

    value, _, grads = loss_and_gradients(params, config, source, target, teacher_forcing=teacher_forcing,
                                         seed=seed)
    assert value == loss()
    assert list(grads) == list(parameter_shapes(config))
    for name, tensor in params.items():
        assert_gradient_matches(name, central_difference(loss, tensor, EPS), grads[name])


def small(cell: str, attention: str, **kw) -> Seq2SeqConfig:
    sizes = {"decoder_hidden_size": None if attention == "dot" else 3,
             "attention_size": 2 if attention == "additive" else None}
    sizes.update(kw)
    return Seq2SeqConfig(cell=cell, src_vocab_size=5, tgt_vocab_size=6, embedding_size=2, hidden_size=2,
                         attention=attention, **sizes)


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_and_attention(cell, attention):
    check_all(small(cell, attention))


@pytest.mark.parametrize(
    ("cell", "attention", "options"),
    [
        ("lstm", "additive", {"bidirectional": True, "num_layers": 2}),  # bridge for h and c, stacked
        ("gru", "dot", {"bidirectional": True}),  # identity hand-over: K = 2H = H_dec
        ("rnn", "none", {"num_layers": 2, "nonlinearity": "relu", "decoder_hidden_size": 2}),
        ("lstm", "general", {"num_layers": 2, "decoder_hidden_size": 2}),  # identity, stacked, LSTM c
    ],
)
def test_deeper_and_bidirectional(cell, attention, options):
    check_all(small(cell, attention, **options), seed=1)


@pytest.mark.parametrize("cell", CELLS)
def test_partial_teacher_forcing(cell):
    """Fed-back predictions are discrete choices: the gradient flows through everything else."""
    config = small(cell, "general")
    params = init_params(config, 2)
    source, target = batch(config, 2)
    trace = loss_and_gradients(params, config, source, target, teacher_forcing=0.5, seed=4)[1]
    assert trace.teacher_forced[1:].any() and not trace.teacher_forced[1:].all()
    check_all(config, seed=2, teacher_forcing=0.5)
