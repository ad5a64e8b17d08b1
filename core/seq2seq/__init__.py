"""Encoder-decoder (Seq2Seq) models: an encoder of any cell reads the source, its final state (the context
vector) starts a decoder that writes the target one token at a time, optionally attending over the encoder's
outputs.

Modules: ``config`` (Seq2SeqConfig), ``params`` (names, shapes, init), ``bridge`` (encoder state -> decoder
state), ``decoder`` (the step-by-step recurrence), ``attention`` (additive / dot / general), ``model``
(teacher forcing, greedy decoding, backward), ``beam`` (beam search), ``trace`` (Seq2SeqTrace), and
``adapter`` (training through core.train; imported on its own, as it builds on core.tasks.base).

    params = init_params(config, seed=0)
    trace = greedy_decode(params, config, source_ids)            # or beam_decode(..., width=3)
    loss, trace, grads = loss_and_gradients(params, config, source_ids, target_ids, teacher_forcing=0.5)
"""

from core.seq2seq.beam import BeamSearch, beam_decode
from core.seq2seq.config import ATTENTIONS, Seq2SeqConfig
from core.seq2seq.model import backward, forward, greedy_decode, loss_and_gradients
from core.seq2seq.params import check_params, init_params, parameter_shapes
from core.seq2seq.trace import Seq2SeqTrace

__all__ = [
    "ATTENTIONS", "BeamSearch", "Seq2SeqConfig", "Seq2SeqTrace", "backward", "beam_decode", "check_params",
    "forward", "greedy_decode", "init_params", "loss_and_gradients", "parameter_shapes",
]
