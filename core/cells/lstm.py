"""LSTM cell, as PyTorch's nn.LSTM (gate chunks i, f, g, o):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
    g_t = tanh   (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate (often written C~_t)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

The forward step evaluates all four gates at once: since sigmoid(z) = 0.5 tanh(z/2) + 0.5, the activation of the
whole gate row is tanh(s * z) * s + m with s = (1/2, 1/2, 1, 1/2) and m = (1/2, 1/2, 0, 1/2) per chunk: one tanh
over 4H numbers instead of four calls.

Backward, with dh = dL/dh_t and dc = dL/dc_t arriving from later timesteps:

    do = dh * tanh(c_t)                    dc_t' = dc + dh * o_t * (1 - tanh^2(c_t))
    di = dc_t' * g_t     df = dc_t' * c_{t-1}     dg = dc_t' * i_t     dL/dc_{t-1} = dc_t' * f_t
    d pre = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]      dL/dh_{t-1} = d pre W_hh
"""

from __future__ import annotations

import numpy as np

from core.cells.kernel import Kernel, Record, Workspace, chunks

GATES = ("i", "f", "g", "o")


def _allocate(T: int, B: int, H: int, dtype: np.dtype) -> Record:
    return {
        "pre": np.zeros((T, B, 4 * H), dtype),
        "act": np.zeros((T, B, 4 * H), dtype),
        "c": np.zeros((T, B, H), dtype),
        "tanh_c": np.zeros((T, B, H), dtype),
        "h": np.zeros((T, B, H), dtype),
    }


def _workspace(B: int, H: int, dtype: np.dtype) -> Workspace:
    scale = np.full(4 * H, 0.5, dtype)
    scale[2 * H : 3 * H] = 1.0
    shift = np.full(4 * H, 0.5, dtype)
    shift[2 * H : 3 * H] = 0.0
    return {"hid": np.empty((B, 4 * H), dtype), "ig": np.empty((B, H), dtype), "scale": scale, "shift": shift}


def _input_bias(b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    return b_ih + b_hh


def _step(rec, t, h_prev, c_prev, W_hhT, b_hh, work):
    H = h_prev.shape[-1]
    pre = rec["pre"][t]
    np.matmul(h_prev, W_hhT, out=work["hid"])
    pre += work["hid"]
    a = rec["act"][t]
    np.multiply(pre, work["scale"], out=a)
    np.tanh(a, out=a)
    a *= work["scale"]
    a += work["shift"]
    c = rec["c"][t]
    np.multiply(a[:, H : 2 * H], c_prev, out=c)
    np.multiply(a[:, :H], a[:, 2 * H : 3 * H], out=work["ig"])
    c += work["ig"]
    tc = rec["tanh_c"][t]
    np.tanh(c, out=tc)
    h = rec["h"][t]
    np.multiply(a[:, 3 * H :], tc, out=h)
    return h, c


def _step_backward(rec, t, h_prev, c_prev, W_hh, dh, dc):
    H = W_hh.shape[1]
    a = rec["act"][t]
    i, f, g, o = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]
    tc = rec["tanh_c"][t]
    dc_total = dc + dh * o * (1.0 - tc * tc)
    d_pre = np.concatenate(
        [
            dc_total * g * i * (1.0 - i),
            dc_total * c_prev * f * (1.0 - f),
            dc_total * i * (1.0 - g * g),
            dh * tc * o * (1.0 - o),
        ],
        axis=-1,
    )
    return d_pre, d_pre, d_pre @ W_hh, dc_total * f, dc_total


def _quantities(rec: Record) -> dict[str, np.ndarray]:
    q = {f"{k}_pre": v for k, v in chunks(rec["pre"], GATES).items()}
    q.update(chunks(rec["act"], GATES))
    q.update(c=rec["c"], tanh_c=rec["tanh_c"], h=rec["h"])
    return q


LSTM = Kernel(
    name="lstm",
    gates=GATES,
    has_cell_state=True,
    allocate=_allocate,
    workspace=_workspace,
    input_bias=_input_bias,
    step=_step,
    step_backward=_step_backward,
    quantities=_quantities,
)
