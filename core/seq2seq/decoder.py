"""The decoder's recurrence, one timestep at a time, because each step's input depends on the step before.

At step t every decoder layer l advances with the cell's own kernel (core.cells):

    x_t^(0) = E_dec[y_{t-1}]        (y_{-1} = START; then the fed-back token: the previous prediction, or the
                                      previous target token under teacher forcing)
    s_t^(l) = cell(x_t^(l), s_{t-1}^(l) [, c_{t-1}^(l)]),   x_t^(l+1) = s_t^(l)

Records are preallocated (T, B, ...) arrays, exactly like core.layer's, so the finished run is wrapped in
ordinary :class:`~core.layer.LayerTrace` objects and a :class:`~core.trace.Trace`. That is also why the
backward pass needs no decoder-specific code: once the fed tokens are fixed, the decoder is a plain stacked
network over those tokens, and core.bptt.backward (core.layer.backward_layer -> kernel.step_backward) walks it
back. The feedback itself (argmax of the previous output) is a discrete choice and carries no gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells import Kernel, kernel_for
from core.cells.kernel import Record, Workspace
from core.config import NetworkConfig
from core.layer import LayerTrace
from core.params import Params, recurrent_names
from core.trace import Trace

State = list[tuple[np.ndarray, np.ndarray | None]]  # per layer: (h, c or None), each (B, H)


@dataclass
class DecoderRun:
    """Records and scratch space of every decoder layer for up to ``T`` steps of ``B`` sequences."""

    config: NetworkConfig
    params: Params  # the decoder's tensors under core.network names
    kernel: Kernel
    records: list[Record]
    layer_inputs: list[np.ndarray]  # per layer (T, B, input width)
    tokens: np.ndarray  # (T, B) fed tokens
    work: list[Workspace]
    W_hhT: list[np.ndarray]
    input_bias: list[np.ndarray]


def start(params: Params, config: NetworkConfig, T: int, B: int) -> DecoderRun:
    kernel = kernel_for(config.cell, config.nonlinearity)
    H, dtype = config.hidden_size, config.np_dtype
    records, inputs, work, W_hhT, bias = [], [], [], [], []
    for layer in range(config.num_layers):
        w_ih, w_hh, b_ih, b_hh = (params[n] for n in recurrent_names(layer, False))
        records.append(kernel.allocate(T, B, H, dtype))
        inputs.append(np.zeros((T, B, config.layer_input_size(layer)), dtype))
        work.append(kernel.workspace(B, H, dtype))
        W_hhT.append(np.ascontiguousarray(w_hh.T))
        bias.append(kernel.input_bias(b_ih, b_hh))
    return DecoderRun(config, params, kernel, records, inputs, np.zeros((T, B), np.int64), work, W_hhT, bias)


def step(run: DecoderRun, t: int, tokens: np.ndarray, state: State) -> State:
    """Advance every layer by one step from the fed ``tokens`` (B,); returns the new per-layer state."""
    run.tokens[t] = tokens
    x = run.params["embedding.weight"][tokens]
    new_state: State = []
    with np.errstate(over="ignore", invalid="ignore"):
        for layer, (h_prev, c_prev) in enumerate(state):
            w_ih, _, _, b_hh = recurrent_names(layer, False)
            run.layer_inputs[layer][t] = x
            record = run.records[layer]
            np.matmul(x, run.params[w_ih].T, out=record["pre"][t])
            record["pre"][t] += run.input_bias[layer]
            h, c = run.kernel.step(record, t, h_prev, c_prev, run.W_hhT[layer], run.params[b_hh],
                                   run.work[layer])
            new_state.append((h, c))
            x = h
    return new_state


def initial_state(h0: np.ndarray, c0: np.ndarray | None) -> State:
    return [(h0[layer], None if c0 is None else c0[layer]) for layer in range(h0.shape[0])]


def to_trace(run: DecoderRun, steps: int, h0: np.ndarray, c0: np.ndarray | None, lengths: np.ndarray,
             output_mask: np.ndarray) -> Trace:
    """The first ``steps`` steps as a core Trace: tokens are the fed tokens, ``top`` the top layer's s_t."""
    layers = []
    for layer, record in enumerate(run.records):
        cut = {name: arr[:steps] for name, arr in record.items()}
        c0_l = None if c0 is None else c0[layer]
        x = run.layer_inputs[layer][:steps]
        layers.append([LayerTrace(layer, False, run.kernel, x, cut, h0[layer], c0_l)])
    top = layers[-1][0].h
    return Trace(run.config, "many_to_many", run.layer_inputs[0][:steps], run.tokens[:steps], lengths, layers,
                 top, None, None, output_mask)
