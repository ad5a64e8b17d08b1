"""Attention over the encoder outputs, applied after each decoder step (Luong-style placement).

The memory is the top encoder layer's outputs h_1..h_S (width K, both directions concatenated). At decoder
step t the query is the top decoder state s_t (width H_dec). One score per source position j:

    additive (Bahdanau):  e_tj = v^T tanh(W_q s_t + W_k h_j)       (attention.query / .key / .energy)
    dot      (Luong):     e_tj = s_t^T h_j                           (needs H_dec == K)
    general  (Luong):     e_tj = s_t^T W h_j                         (attention.weight)

    a_t = softmax_j(e_tj) over the real source positions (padding gets weight 0)
    c_t = sum_j a_tj h_j                                             context vector of step t
    h~_t = tanh(W_c [c_t ; s_t] + b_c)                               attentional state (attention.combine)

The decoder's output layer then reads h~_t instead of s_t. Context enters the decoder only there: the
recurrence itself (s_t from s_{t-1} and the fed token) is the plain cell, so attention changes what the
decoder says, not how its state evolves. Everything is vectorised over a leading axis of decoder steps: the
decode loop calls it with one step, the backward pass with all of them.

Backward, from dL/dh~_t:

    dz = dh~ (1 - h~^2);  dW_c = sum dz^T [c; s];  [dc ; ds] = dz W_c
    da_tj = dc_t . h_j;   dh_j += sum_t a_tj dc_t;   de_tj = a_tj (da_tj - sum_i a_ti da_ti)
    dot:      ds_t += sum_j de_tj h_j;        dh_j += sum_t de_tj s_t
    general:  ds_t += sum_j de_tj W h_j;      dW = sum de_tj s_t h_j^T;     dh_j += sum_t de_tj W^T s_t
    additive: with u = tanh(W_q s + W_k h):   du = de v (1 - u^2);  dv = sum de u;
              ds += (sum_j du) W_q;      dW_q = sum_t (sum_j du)^T s
              dh_j += (sum_t du) W_k;    dW_k = sum_j (sum_t du)^T h_j
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.params import Params
from core.seq2seq.config import Seq2SeqConfig


@dataclass
class Memory:
    keys: np.ndarray  # (S, B, K) encoder outputs h_j
    mask: np.ndarray  # (S, B) True at real source positions
    projected: np.ndarray  # (S, B, A) W_k h_j (additive), (S, B, H_dec) W h_j (general), h_j itself (dot)


@dataclass
class AttentionRecord:
    """Per decoder step t (leading axis) and sequence b."""

    scores: np.ndarray  # (T, B, S) e_tj
    weights: np.ndarray  # (T, B, S) a_tj
    context: np.ndarray  # (T, B, K) c_t
    hidden: np.ndarray  # (T, B, H_dec) h~_t
    energy: np.ndarray | None  # (T, B, S, A) tanh(W_q s_t + W_k h_j), additive only


def prepare(params: Params, config: Seq2SeqConfig, keys: np.ndarray, mask: np.ndarray) -> Memory:
    """Project the encoder outputs once: the key side of the score does not change between decoder steps."""
    if config.attention == "additive":
        projected = keys @ params["attention.key.weight"].T
    elif config.attention == "general":
        projected = keys @ params["attention.weight"].T
    else:
        projected = keys
    return Memory(keys, mask, projected)


def attend(params: Params, config: Seq2SeqConfig, memory: Memory, queries: np.ndarray) -> AttentionRecord:
    """Scores, weights, context vectors and attentional hidden states for queries s_t shaped (T, B, H_dec)."""
    energy = None
    if config.attention == "additive":
        q = queries @ params["attention.query.weight"].T
        energy = np.tanh(q[:, :, None, :] + memory.projected.transpose(1, 0, 2)[None])
        scores = energy @ params["attention.energy.weight"][0]
    else:
        scores = np.einsum("tbh,sbh->tbs", queries, memory.projected)
    live = memory.mask.T[None]
    peak = np.max(np.where(live, scores, -np.inf), axis=-1, keepdims=True)
    shifted = np.where(live, scores - peak, -np.inf)
    weights = np.exp(shifted)
    weights /= weights.sum(axis=-1, keepdims=True)
    context = np.einsum("tbs,sbk->tbk", weights, memory.keys)
    joined = np.concatenate([context, queries], axis=-1)
    hidden = np.tanh(joined @ params["attention.combine.weight"].T + params["attention.combine.bias"])
    return AttentionRecord(scores, weights, context, hidden, energy)


def backward(params: Params, config: Seq2SeqConfig, memory: Memory, queries: np.ndarray, rec: AttentionRecord,
             d_hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(dL/d queries (T, B, H_dec), dL/d keys (S, B, K), parameter gradients) from dL/dh~ (T, B, H_dec)."""
    K = config.memory_size
    grads: dict[str, np.ndarray] = {}
    dz = d_hidden * (1.0 - rec.hidden * rec.hidden)
    joined = np.concatenate([rec.context, queries], axis=-1)
    grads["attention.combine.weight"] = np.einsum("tbo,tbi->oi", dz, joined)
    grads["attention.combine.bias"] = dz.sum(axis=(0, 1))
    d_joined = dz @ params["attention.combine.weight"]
    d_context, d_queries = d_joined[..., :K], d_joined[..., K:].copy()

    d_weights = np.einsum("tbk,sbk->tbs", d_context, memory.keys)
    d_keys = np.einsum("tbs,tbk->sbk", rec.weights, d_context)
    d_scores = rec.weights * (d_weights - (rec.weights * d_weights).sum(axis=-1, keepdims=True))

    if config.attention in ("dot", "general"):
        d_queries += np.einsum("tbs,sbh->tbh", d_scores, memory.projected)
        d_projected = np.einsum("tbs,tbh->sbh", d_scores, queries)
        if config.attention == "dot":
            d_keys += d_projected
        else:
            grads["attention.weight"] = np.einsum("sbh,sbk->hk", d_projected, memory.keys)
            d_keys += d_projected @ params["attention.weight"]
    else:
        assert rec.energy is not None
        v = params["attention.energy.weight"][0]
        grads["attention.energy.weight"] = np.einsum("tbs,tbsa->a", d_scores, rec.energy)[None]
        d_pre = d_scores[..., None] * v * (1.0 - rec.energy * rec.energy)
        d_q = d_pre.sum(axis=2)
        d_k = d_pre.sum(axis=0).transpose(1, 0, 2)
        grads["attention.query.weight"] = np.einsum("tba,tbh->ah", d_q, queries)
        grads["attention.key.weight"] = np.einsum("sba,sbk->ak", d_k, memory.keys)
        d_queries += d_q @ params["attention.query.weight"]
        d_keys += d_k @ params["attention.key.weight"]
    return d_queries, d_keys, grads
