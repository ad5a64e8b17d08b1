"""Which word does the decoder write next? A predict-then-reveal question on the trained encoder-decoder's own
run of a lesson step's state (app.web.seq2seq, the same run as POST /api/v1/seq2seq/trace).

At decoder step k the decoder has read the source and written y_1 .. y_{k-1}; it writes

    y_k = argmax_w p_k(w),    p_k = softmax(W_o o_k + b_o)    (o_k = s_k, or tanh(W_c [ctx_k; s_k]) with attention)

The choices are the run's three likeliest words at that step and one word of the target vocabulary the model
finds unlikely there (from the less likely half, none of the special tokens), in an order drawn from a seed
(the step), so the question is the same every time and its answer is the trace's own argmax.
"""

from __future__ import annotations

import numpy as np

from app.web import seq2seq
from app.web.question import Question
from app.web.seq2seq_state import Seq2SeqState

CHOICES = 3  # of the likeliest, plus one unlikely word


def write_question(state: Seq2SeqState) -> Question:
    """The question at ``state``'s step, which must be a decoder step."""
    view = seq2seq.build(state)
    t, S = view.state.t, len(view.encoder)
    if t < S:
        raise ValueError(f"step {t} is an encoder step; the decoder starts at step {S}")
    k = t - S
    column = view.decoder[k]
    trace, vocab = view.result.trace, view.result.tgt_vocab
    probs = trace.probs[k, 0]
    rng = np.random.default_rng(t)
    likely = [c.token for c in column.top[:CHOICES]]
    unlikely = [
        w for i in np.argsort(probs)[: len(vocab) // 2] if (w := vocab[int(i)]) not in seq2seq.SPECIAL
    ]
    choices = [*likely, str(rng.choice(unlikely))]
    order = rng.permutation(len(choices))
    written = " ".join(d.output for d in view.decoder[:k])
    so_far = f"written “{written}” so far" if written else "written nothing yet (it has just read START)"
    odds = ", ".join(f"“{c.token}” {c.probability:.1%}" for c in column.top[:CHOICES])
    context = " and its attention context" if view.attention != "none" else ""
    return Question(
        1,
        "write",
        f"The decoder has read “{view.source_text}” and {so_far}. Which word does it write next?",
        tuple(choices[j] for j in order),
        int(np.flatnonzero(order == likely.index(column.output))[0]),
        f"At decoder step {k + 1} its likeliest words are {odds}: the output layer turns s_{k + 1}{context} "
        f"into a probability for every word it knows, and greedy decoding writes the likeliest, "
        f"“{column.output}”.",
        "/seq2seq?" + state.query(t=t),
        f"the decoder's step {k + 1}",
    )
