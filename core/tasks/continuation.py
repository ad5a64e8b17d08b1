"""Continue a token sequence: read a prompt, then let the network write on by feeding back its own outputs.

The prompt's first n-1 tokens run through core.network.forward to set the state; core.generate then starts
from the last prompt token with that state (h0, c0) and feeds back each emitted token:

    k_t = argmax_k y_t[k]                        (greedy)
    k_t ~ softmax(y_t / temperature)             (sampled; lower temperature = safer, higher = wilder)

A one-token prompt is plain one-to-many generation from a single input.
"""

from __future__ import annotations

import numpy as np

from core.config import NetworkConfig
from core.generate import generate
from core.network import forward
from core.params import Params
from core.trace import Trace


def final_states(trace: Trace) -> tuple[np.ndarray, np.ndarray | None]:
    """(L, B, H) h and c after the last step of every layer, the layout core.network takes as h0 / c0."""
    pairs = [row[0].final_state() for row in trace.layers]
    h = np.stack([h for h, _ in pairs])
    cells = [c for _, c in pairs if c is not None]
    return h, (np.stack(cells) if cells else None)


def continue_tokens(
    params: Params,
    config: NetworkConfig,
    prompt: np.ndarray,
    steps: int,
    *,
    temperature: float = 1.0,
    sample: bool = False,
    seed: int | None = None,
) -> tuple[np.ndarray, Trace]:
    """``steps`` new token ids after ``prompt`` (1-D ids), and the generation trace (which starts at the last
    prompt token)."""
    prompt = np.asarray(prompt, dtype=np.int64).reshape(-1)
    if prompt.size < 1:
        raise ValueError("a prompt needs at least one token")
    if config.bidirectional:
        raise ValueError("a bidirectional network cannot generate")
    h0 = c0 = None
    if prompt.size > 1:
        h0, c0 = final_states(forward(params, config, prompt[:-1]))
    trace = generate(
        params,
        config,
        int(prompt[-1]),
        steps,
        temperature=temperature,
        sample=sample,
        seed=seed,
        h0=h0,
        c0=c0,
    )
    return np.asarray(trace.extra["generated"], dtype=np.int64), trace
