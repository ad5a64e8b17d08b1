"""An encoder-decoder run as JSON: the encoder's trace, the context vector, the decoder's trace, attention
and outputs, column-oriented and rounded like app.wire.serialize (sequence 0 of the batch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.services.seq2seq import Seq2SeqResult
from app.wire.serialize import API_VERSION, _r, layer_records


def _ids(values: np.ndarray) -> np.ndarray:
    """Integer or boolean columns as orjson needs them: C-contiguous (core may hand out strided views)."""
    return np.ascontiguousarray(values)


def _label_list(ids: np.ndarray, vocab: list[str] | None) -> list[str | None] | None:
    if vocab is None:
        return None
    return [vocab[k] if 0 <= k < len(vocab) else None for k in ids.tolist()]


def seq2seq_payload(result: Seq2SeqResult) -> dict[str, Any]:
    trace, p = result.trace, result.precision
    config = {**result.config.to_dict(), "src_vocab": result.src_vocab, "tgt_vocab": result.tgt_vocab}
    source = _ids(trace.source[: trace.source_lengths[0], 0])
    n_out = int(trace.output_lengths[0])
    tokens = _ids(trace.tokens[:, 0])
    attention = None
    if trace.attention is not None:
        s_len = int(trace.source_lengths[0])
        attention = {
            "scores": _r(trace.attention.scores[:, 0, :s_len], p),
            "weights": _r(trace.attention.weights[:, 0, :s_len], p),
            "context": _r(trace.attention.context[:, 0], p),
            "hidden": _r(trace.attention.hidden[:, 0], p),
        }
    diverged = [t for t in (trace.encoder.diverged_at(), trace.decoder.diverged_at()) if t is not None]
    return {
        "api_version": API_VERSION,
        "config": config,
        "weights": result.source,
        "mode": trace.mode,
        "precision": p,
        "source": {
            "tokens": source,
            "labels": _label_list(source, result.src_vocab),
            "typed": result.read_source.typed,
            "unknown": result.read_source.unknown,
        },
        "encoder": {"steps": int(source.size), "layers": layer_records(trace.encoder, result.quantities, p)},
        "context": {
            "h": _r(trace.context[:, 0], p),
            "c": None if trace.context_c is None else _r(trace.context_c[:, 0], p),
        },
        "decoder": {
            "steps": trace.num_steps,
            "fed_tokens": _ids(trace.fed_tokens[:, 0]),
            "fed_labels": _label_list(trace.fed_tokens[:, 0], result.tgt_vocab),
            "teacher_forced": _ids(trace.teacher_forced[:, 0]),
            "layers": layer_records(trace.decoder, result.quantities, p),
        },
        "attention": attention,
        "output": {
            "logits": _r(trace.logits[:, 0], p),
            "probs": _r(trace.probs[:, 0], p),
            "topk_tokens": _ids(trace.topk_tokens[:, 0]),
            "topk_probs": _r(trace.topk_probs[:, 0], p),
            "tokens": tokens,
            "labels": _label_list(tokens, result.tgt_vocab),
            "length": n_out,
            "text": None
            if result.tgt_vocab is None
            else " ".join(result.tgt_vocab[k] for k in tokens[:n_out].tolist() if k != result.config.end_id),
        },
        "diverged_at": min(diverged) if diverged else None,
    }
