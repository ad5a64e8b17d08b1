"""The LSTM forward passes the core benchmark compares against, in PyTorch's gate order (i, f, g, o):

    z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,   (i, f, g, o) = (sigm, sigm, tanh, sigm)(chunks of z_t)
    c_t = f * c_{t-1} + i * g,                      h_t = o * tanh(c_t)

- ``naive_numpy``: the textbook loop: two matrix-vector products per gate per step, sigmoid as
  1 / (1 + exp(-z)), every per-step array appended to a list (the lists are the record; nothing is stacked).
- ``TorchFused``: nn.LSTM's own forward under torch.no_grad: one call, records only h_t.
- ``TorchGateLoop``: a per-step PyTorch loop under torch.no_grad that captures what core records
  (pre-activations, activations, c_t, tanh(c_t), h_t) into preallocated tensors; the input projection is one
  matmul up front, as in core, so it is a fair "record everything in PyTorch" baseline, not a strawman.

Each takes a float array x (T, 1, I) and PyTorch-named parameters and returns the final h (1, H), which the
benchmark checks against core before timing anything.
"""

from __future__ import annotations

import numpy as np
import torch


def _sigmoid_exp(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def naive_numpy(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    W_ih, W_hh = params["weight_ih_l0"], params["weight_hh_l0"]
    b_ih, b_hh = params["bias_ih_l0"], params["bias_hh_l0"]
    H = W_hh.shape[1]
    rows = {gate: slice(k * H, (k + 1) * H) for k, gate in enumerate("ifgo")}
    W_i = {gate: W_ih[r] for gate, r in rows.items()}
    W_h = {gate: W_hh[r] for gate, r in rows.items()}
    b = {gate: (b_ih[r], b_hh[r]) for gate, r in rows.items()}
    h = np.zeros(H, x.dtype)
    c = np.zeros(H, x.dtype)
    record: dict[str, list[np.ndarray]] = {name: [] for name in ("pre", "act", "c", "tanh_c", "h")}
    for x_t in x[:, 0]:
        pre = {gate: W_i[gate] @ x_t + b[gate][0] + W_h[gate] @ h + b[gate][1] for gate in "ifgo"}
        act = {gate: np.tanh(z) if gate == "g" else _sigmoid_exp(z) for gate, z in pre.items()}
        c = act["f"] * c + act["i"] * act["g"]
        tanh_c = np.tanh(c)
        h = act["o"] * tanh_c
        record["pre"].append(pre)
        record["act"].append(act)
        record["c"].append(c)
        record["tanh_c"].append(tanh_c)
        record["h"].append(h)
    return h[None]


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


class TorchFused:
    """nn.LSTM with the given weights; ``__call__`` runs its fused forward."""

    def __init__(self, params: dict[str, np.ndarray], input_size: int, hidden_size: int):
        dtype = _torch_dtype(params["weight_hh_l0"].dtype)
        self.module = torch.nn.LSTM(input_size, hidden_size).to(dtype)
        with torch.no_grad():
            for name, tensor in self.module.named_parameters():
                tensor.copy_(torch.from_numpy(params[name]))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            _, (h, _) = self.module(torch.from_numpy(x))
        return h[0].numpy()


class TorchGateLoop:
    """A per-step PyTorch LSTM loop that writes every gate of every step into (T, 1, width) record tensors."""

    def __init__(self, params: dict[str, np.ndarray]):
        self.W_ihT = torch.from_numpy(params["weight_ih_l0"]).T.contiguous()
        self.W_hhT = torch.from_numpy(params["weight_hh_l0"]).T.contiguous()
        self.bias = torch.from_numpy(params["bias_ih_l0"] + params["bias_hh_l0"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        H = self.W_hhT.shape[0]
        T = x.shape[0]
        dtype = self.W_hhT.dtype
        with torch.no_grad():
            pre = torch.addmm(self.bias, torch.from_numpy(x[:, 0]), self.W_ihT).unsqueeze(1)
            act = torch.empty(T, 1, 4 * H, dtype=dtype)
            c = torch.empty(T, 1, H, dtype=dtype)
            tanh_c = torch.empty(T, 1, H, dtype=dtype)
            h = torch.empty(T, 1, H, dtype=dtype)
            h_prev = torch.zeros(1, H, dtype=dtype)
            c_prev = torch.zeros(1, H, dtype=dtype)
            for t in range(T):
                pre[t].addmm_(h_prev, self.W_hhT)
                i, f, g, o = pre[t].chunk(4, dim=1)
                a_i, a_f, a_g, a_o = act[t].chunk(4, dim=1)
                torch.sigmoid(i, out=a_i)
                torch.sigmoid(f, out=a_f)
                torch.tanh(g, out=a_g)
                torch.sigmoid(o, out=a_o)
                torch.addcmul(a_f * c_prev, a_i, a_g, out=c[t])
                torch.tanh(c[t], out=tanh_c[t])
                torch.mul(a_o, tanh_c[t], out=h[t])
                h_prev, c_prev = h[t], c[t]
        return h[-1].numpy()
