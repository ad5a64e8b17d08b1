"""The hand-over from the encoder to the decoder: the context vector becomes the decoder's initial state.

For every layer l, the encoder's final state is f_l = [h_l^fwd ; h_l^rev] (width K = D*H; just h_l when
unidirectional; each direction's "final" state is the one after its last step, i.e. position 0 for the reverse
direction). The decoder's layer l starts from

    s_0^(l) = f_l                                       when K == H_dec (identity: no parameters)
    s_0^(l) = tanh(W_b f_l + b_b)                        otherwise (``bridge.weight``, ``bridge.bias``)

and, for the LSTM, from the cell state g_l = [c_l^fwd ; c_l^rev]:

    c_0^(l) = g_l                                       when K == H_dec
    c_0^(l) = W_bc g_l + b_bc                            otherwise (``bridge_cell.*``; linear, because a cell
                                                         state is not bounded the way h = o * tanh(c) is)

One bridge is shared by all layers. Backward, with z = W_b f + b_b and s_0 = tanh(z):

    dz = ds_0 (1 - s_0^2),   dW_b = sum_l dz_l^T f_l,   db_b = sum_l dz_l,   df_l = dz_l W_b
"""

from __future__ import annotations

import numpy as np

from core.params import Params
from core.seq2seq.config import Seq2SeqConfig
from core.trace import Trace


def encoder_final_states(trace: Trace) -> tuple[np.ndarray, np.ndarray | None]:
    """(L, B, K) final hidden states of every encoder layer, directions concatenated; and the LSTM's c."""
    hs, cs = [], []
    for directions in trace.layers:
        finals = [lt.final_state() for lt in directions]
        hs.append(np.concatenate([h for h, _ in finals], axis=-1))
        if finals[0][1] is not None:
            cs.append(np.concatenate([c for _, c in finals], axis=-1))
    return np.stack(hs), (np.stack(cs) if cs else None)


def split_directions(d_final: np.ndarray, num_directions: int) -> np.ndarray:
    """(L, B, D*H) -> (L*D, B, H), PyTorch's h_n layout, which core.bptt.backward takes as dh_final."""
    L, B, K = d_final.shape
    H = K // num_directions
    return d_final.reshape(L, B, num_directions, H).transpose(0, 2, 1, 3).reshape(L * num_directions, B, H)


def forward(params: Params, config: Seq2SeqConfig, final_h: np.ndarray, final_c: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """Decoder initial states (L, B, H_dec) from the encoder's final states (L, B, K)."""
    if not config.has_bridge:
        return final_h.copy(), (None if final_c is None else final_c.copy())
    h0 = np.tanh(final_h @ params["bridge.weight"].T + params["bridge.bias"])
    c0 = None
    if final_c is not None:
        c0 = final_c @ params["bridge_cell.weight"].T + params["bridge_cell.bias"]
    return h0, c0


def backward(params: Params, config: Seq2SeqConfig, final_h: np.ndarray, final_c: np.ndarray | None,
             h0: np.ndarray, dh0: np.ndarray, dc0: np.ndarray | None
             ) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """(dL/d final_h, dL/d final_c, parameter gradients) from dL/d h0 and dL/d c0 of the decoder."""
    if not config.has_bridge:
        return dh0, dc0, {}
    K = config.memory_size
    dz = dh0 * (1.0 - h0 * h0)
    grads = {"bridge.weight": dz.reshape(-1, dz.shape[-1]).T @ final_h.reshape(-1, K),
             "bridge.bias": dz.sum(axis=(0, 1))}
    d_final_h = dz @ params["bridge.weight"]
    d_final_c = None
    if final_c is not None and dc0 is not None:
        grads["bridge_cell.weight"] = dc0.reshape(-1, dc0.shape[-1]).T @ final_c.reshape(-1, K)
        grads["bridge_cell.bias"] = dc0.sum(axis=(0, 1))
        d_final_c = dc0 @ params["bridge_cell.weight"]
    return d_final_h, d_final_c, grads
