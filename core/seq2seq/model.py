"""Encoder-decoder forward passes (teacher forcing, greedy decoding) and the backward pass through all of it.

    encoder:  core.network.forward over E_src[x_1..x_S]  ->  outputs h_1..h_S (memory), final states f_l
    bridge:   s_0^(l) = f_l or tanh(W_b f_l + b_b)                        (core.seq2seq.bridge)
    decoder:  s_t = cell(E_dec[y_{t-1}], s_{t-1}),  y_{-1} = START          (core.seq2seq.decoder)
    output:   o_t = h~_t with attention (core.seq2seq.attention), else s_t;  logits_t = W_o o_t + b_o
    loss:     L = -(1/N) sum_{t,b: target != PAD} log softmax(logits_t)[target_t]

What the decoder reads at step t > 0:

* teacher forcing: the previous *target* token with probability ``teacher_forcing`` (one coin per step and
  sequence, from ``np.random.default_rng(seed)``), else its own previous prediction argmax(logits_{t-1});
* greedy decoding: its previous prediction, until every sequence has emitted END or ``max_length`` steps ran.

A prediction is the argmax over every token but PAD and START, which only ever go *into* the decoder.

Backward runs the same path in reverse: output layer -> attention (dL/ds_t and dL/dh_j) -> decoder BPTT over
the fed tokens (core.bptt.backward with d_top = dL/ds_t) -> dL/ds_0 -> bridge -> encoder BPTT with dh_final =
dL/df and d_top = dL/dh_j (the gradient that attention sends into the encoder outputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import activations, bptt, losses
from core.network import InputError
from core.network import forward as network_forward
from core.params import Params
from core.seq2seq import attention, bridge, decoder
from core.seq2seq.attention import AttentionRecord
from core.seq2seq.config import Seq2SeqConfig
from core.seq2seq.params import cast_params, check_params, prefixed, side
from core.seq2seq.trace import Seq2SeqTrace
from core.trace import Trace


def as_batch(tokens: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(tokens)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer) or arr.shape[0] < 1:
        raise InputError(f"{what} must be integer token ids shaped (T,) or (T, B), T >= 1; got {arr.shape}")
    return arr.astype(np.int64)


def padded_lengths(tokens: np.ndarray, pad_id: int, what: str) -> np.ndarray:
    """Lengths of right-padded sequences; padding must only come after the last real token."""
    real = tokens != pad_id
    lengths: np.ndarray = real.sum(axis=0)
    if not np.array_equal(real, np.arange(tokens.shape[0])[:, None] < lengths[None, :]):
        raise InputError(f"{what}: the padding id {pad_id} may only appear after a sequence's last token")
    if lengths.min() < 1:
        raise InputError(f"{what}: every sequence needs at least one real token")
    return lengths


def top_k(probs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k likeliest tokens per position (ties: lower id first) and their probabilities."""
    k = min(k, probs.shape[-1])
    ids = np.argsort(-probs, axis=-1, kind="stable")[..., :k]
    return ids, np.take_along_axis(probs, ids, axis=-1)


def predict(config: Seq2SeqConfig, logits: np.ndarray) -> np.ndarray:
    """argmax over the tokens a decoder may emit: PAD and START are input-only and never chosen."""
    allowed = logits.copy()
    allowed[..., [config.pad_id, config.start_id]] = -np.inf
    chosen: np.ndarray = allowed.argmax(axis=-1)
    return chosen


def _stack(records: list[AttentionRecord]) -> AttentionRecord:
    """One record over all steps from the per-step records (each with a leading axis of 1)."""

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(r, name) for r in records], axis=0)

    energy = None if records[0].energy is None else cat("energy")
    return AttentionRecord(cat("scores"), cat("weights"), cat("context"), cat("hidden"), energy)


@dataclass
class Encoded:
    """The encoder's run and what the decoder takes from it."""

    source: np.ndarray  # (S, B)
    trace: Trace
    final_h: np.ndarray  # (L, B, K)
    final_c: np.ndarray | None
    h0: np.ndarray  # (L, B, H_dec) decoder initial state: the context vector after the bridge
    c0: np.ndarray | None
    memory: attention.Memory | None


def encode(params: Params, config: Seq2SeqConfig, source: np.ndarray, source_lengths: np.ndarray | None
           ) -> Encoded:
    """Run the encoder over (S,) / (S, B) source ids; lengths default to the non-PAD prefix of each column.

    ``params`` must already be checked and cast (see :func:`prepared`)."""
    src = as_batch(source, "source")
    if source_lengths is None:
        lens = padded_lengths(src, config.pad_id, "source")
    else:
        lens = np.asarray(source_lengths, dtype=np.int64).reshape(-1)
    enc = network_forward(side(params, "encoder"), config.encoder_config(), src, lengths=lens)
    final_h, final_c = bridge.encoder_final_states(enc)
    h0, c0 = bridge.forward(params, config, final_h, final_c)
    memory = attention.prepare(params, config, enc.top, enc.mask) if config.attention != "none" else None
    return Encoded(src, enc, final_h, final_c, h0, c0, memory)


def prepared(params: Params, config: Seq2SeqConfig) -> Params:
    check_params(params, config)
    return cast_params(params, config)


def output_step(params: Params, config: Seq2SeqConfig, memory: attention.Memory | None, s_t: np.ndarray
                ) -> tuple[np.ndarray, AttentionRecord | None]:
    """logits (B, V) of one decoder step from its top state s_t (B, H_dec), through attention if any."""
    rec = None
    top = s_t
    if memory is not None:
        rec = attention.attend(params, config, memory, s_t[None])
        top = rec.hidden[0]
    return top @ params["output.weight"].T + params["output.bias"], rec


def _run(params: Params, config: Seq2SeqConfig, source: np.ndarray, source_lengths: np.ndarray | None,
         num_steps: int, targets: np.ndarray | None, coins: np.ndarray | None, mode: str, k: int
         ) -> Seq2SeqTrace:
    """Encode, then unroll the decoder: fed by targets and coins under teacher forcing, else by argmax."""
    params = prepared(params, config)
    encoded = encode(params, config, source, source_lengths)
    src, h0, c0, memory = encoded.source, encoded.h0, encoded.c0, encoded.memory
    B, T, V = src.shape[1], num_steps, config.tgt_vocab_size
    run = decoder.start(side(params, "decoder"), config.decoder_config(), T, B)
    state = decoder.initial_state(h0, c0)
    logits = np.zeros((T, B, V), config.np_dtype)
    chosen = np.full((T, B), config.pad_id, np.int64)
    forced = np.zeros((T, B), bool)
    records: list[AttentionRecord] = []
    finished = np.zeros(B, bool)
    out_lengths = np.full(B, T, np.int64)
    fed = np.full(B, config.start_id, np.int64)
    steps = T
    for t in range(T):
        state = decoder.step(run, t, fed, state)
        logits[t], rec = output_step(params, config, memory, state[-1][0])
        if rec is not None:
            records.append(rec)
        prediction = predict(config, logits[t])
        if targets is not None:
            chosen[t] = prediction
            if t + 1 < T:
                assert coins is not None
                forced[t + 1] = coins[t]
                fed = np.where(coins[t], targets[t], prediction)
        else:
            chosen[t] = np.where(finished, config.pad_id, prediction)
            ended = ~finished & (prediction == config.end_id)
            out_lengths[ended] = t + 1
            finished |= ended
            fed = np.where(finished, config.pad_id, prediction)
            if finished.all():
                steps = t + 1
                break
    if targets is not None:
        out_lengths = padded_lengths(targets, config.pad_id, "target")
    logits = logits[:steps]
    out_mask = np.arange(steps)[:, None] < out_lengths[None, :]
    dec = decoder.to_trace(run, steps, h0, c0, out_lengths, out_mask)
    probs = activations.softmax(logits)
    topk_ids, topk_p = top_k(probs, k)
    return Seq2SeqTrace(
        config=config, mode=mode, source=src, source_lengths=encoded.trace.lengths, encoder=encoded.trace,
        encoder_final_h=encoded.final_h, encoder_final_c=encoded.final_c, context=h0, context_c=c0,
        decoder=dec, teacher_forced=forced[:steps], attention=_stack(records) if records else None,
        memory=memory,
        logits=logits, probs=probs, topk_tokens=topk_ids, topk_probs=topk_p, tokens=chosen[:steps],
        output_lengths=out_lengths, targets=targets,
    )


def forward(params: Params, config: Seq2SeqConfig, source: np.ndarray, targets: np.ndarray, *,
            source_lengths: np.ndarray | None = None, teacher_forcing: float = 1.0, seed: int = 0,
            top_k: int = 5) -> Seq2SeqTrace:
    """Run over (S, B) source ids with (T, B) target ids (END included, then PAD), as in training."""
    if not 0.0 <= teacher_forcing <= 1.0:
        raise ValueError(f"teacher_forcing must be a probability in [0, 1], got {teacher_forcing}")
    tgt = as_batch(targets, "targets")
    if tgt.min() < 0 or tgt.max() >= config.tgt_vocab_size:
        raise InputError(f"target ids must lie in [0, {config.tgt_vocab_size - 1}]")
    padded_lengths(tgt, config.pad_id, "targets")
    T, B = tgt.shape
    coins = np.random.default_rng(seed).random((T, B)) < teacher_forcing
    return _run(params, config, source, source_lengths, T, tgt, coins, "teacher_forcing", top_k)


def greedy_decode(params: Params, config: Seq2SeqConfig, source: np.ndarray, *,
                  source_lengths: np.ndarray | None = None, max_length: int | None = None,
                  top_k: int = 5) -> Seq2SeqTrace:
    """Feed back argmax at every step until END (per sequence) or ``max_length`` (config.max_length)."""
    cap = config.max_length if max_length is None else max_length
    if cap < 1:
        raise ValueError("max_length must be at least 1")
    return _run(params, config, source, source_lengths, cap, None, None, "greedy", top_k)


def backward(params: Params, trace: Seq2SeqTrace, d_logits: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of every parameter (keyed and ordered like ``params``) given dL/dlogits (T, B, V)."""
    config = trace.config
    params = cast_params(params, config)
    grads: dict[str, np.ndarray] = {}
    s = trace.decoder.top
    out_in = trace.attention.hidden if trace.attention is not None else s
    grads["output.weight"] = np.einsum("tbv,tbh->vh", d_logits, out_in)
    grads["output.bias"] = d_logits.sum(axis=(0, 1))
    d_out = d_logits @ params["output.weight"]
    d_keys = None
    if trace.attention is not None:
        assert trace.memory is not None
        d_s, d_keys, g_att = attention.backward(params, config, trace.memory, s, trace.attention, d_out)
        grads.update(g_att)
    else:
        d_s = d_out
    dec = bptt.backward(side(params, "decoder"), trace.decoder, d_top=d_s)
    grads.update(prefixed(dec.params, "decoder"))
    d_final_h, d_final_c, g_bridge = bridge.backward(
        params, config, trace.encoder_final_h, trace.encoder_final_c, trace.context, dec.dh0, dec.dc0)
    grads.update(g_bridge)
    D = config.num_directions
    enc = bptt.backward(
        side(params, "encoder"), trace.encoder, d_top=d_keys,
        dh_final=bridge.split_directions(d_final_h, D),
        dc_final=None if d_final_c is None else bridge.split_directions(d_final_c, D),
    )
    grads.update(prefixed(enc.params, "encoder"))
    return {name: grads[name] for name in params}


def loss_and_gradients(params: Params, config: Seq2SeqConfig, source: np.ndarray, targets: np.ndarray, *,
                       source_lengths: np.ndarray | None = None, teacher_forcing: float = 1.0, seed: int = 0
                       ) -> tuple[float, Seq2SeqTrace, dict[str, np.ndarray]]:
    """Cross-entropy over the non-PAD target positions, the trace, and the gradient of every parameter."""
    trace = forward(params, config, source, targets, source_lengths=source_lengths,
                    teacher_forcing=teacher_forcing, seed=seed)
    assert trace.targets is not None
    value, d_logits = losses.cross_entropy(trace.logits, trace.targets, trace.targets != config.pad_id)
    return value, trace, backward(params, trace, d_logits)
