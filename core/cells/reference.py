"""The three cells written the way a textbook writes them: one timestep of one sequence, one line per equation.

The tuned kernels beside this module (rnn.py, lstm.py, gru.py) compute the same numbers for a whole batch and a
whole sequence at once, with tricks that make them fast and hard to read: the gates of a step stacked into one
matrix product, sigmoid folded into tanh, results written in place into preallocated arrays. This module has
none of that. Read it to learn what a cell does; the tests check that the fast kernels agree with it
(tests/core/test_reference_cells.py), so what you read here is what the simulator computes.

Conventions are PyTorch's (nn.RNN, nn.LSTM, nn.GRU), so a PyTorch state_dict's matrices go straight in:

- ``x`` is the input vector x_t, shape (I,); ``h_prev`` (and the LSTM's ``c_prev``) the state h_{t-1}, shape (H,).
- ``W_ih`` (G*H, I) and ``W_hh`` (G*H, H) stack the G gates' matrices row-block by row-block, in the order
  (i, f, g, o) for the LSTM and (r, z, n) for the GRU; ``b_ih`` and ``b_hh`` (G*H,) stack their biases the same
  way. The vanilla RNN has G = 1. :func:`gate_blocks` cuts them apart, so W_if is the forget gate's input matrix.
- Every function returns a dict of named vectors, named as the simulator's trace names them
  (``i``, ``f_pre``, ``c``, ...), the pre-activation of a gate being ``<gate>_pre``.

Backward: each ``*_step_backward`` takes the gradient of the loss arriving at this step's outputs (dh = dL/dh_t,
and for the LSTM dc = dL/dc_t from the next step) and applies the chain rule one equation at a time, last
equation first. It returns dL/d(everything the step read): the gates' pre-activations, x, h_prev (c_prev), and
this step's share of the weight and bias gradients (the whole sequence's gradient is the sum over steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Vector = np.ndarray
Step = dict[str, np.ndarray]

NONLINEARITIES = ("tanh", "sigmoid", "relu")


def sigmoid(z: Vector) -> Vector:
    """The logistic function 1 / (1 + e^-z), squashing any number into (0, 1)."""
    result: Vector = 1.0 / (1.0 + np.exp(-z))
    return result


def tanh(z: Vector) -> Vector:
    """The hyperbolic tangent, squashing any number into (-1, 1)."""
    result: Vector = np.tanh(z)
    return result


def relu(z: Vector) -> Vector:
    """max(z, 0), entry by entry."""
    result: Vector = np.maximum(z, 0.0)
    return result


def gate_blocks(stacked: np.ndarray, gates: int) -> list[np.ndarray]:
    """Cut a stacked weight matrix (or bias) into its gates' equal row blocks, in PyTorch's order."""
    return list(np.split(stacked, gates))


# ----------------------------------------------------------------------------------------------------------
# Vanilla (Elman) RNN


def rnn_step(
    x: Vector, h_prev: Vector, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: Vector, b_hh: Vector,
    nonlinearity: str = "tanh",
) -> Step:
    """h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act being tanh, sigmoid or relu."""
    act = {"tanh": tanh, "sigmoid": sigmoid, "relu": relu}[nonlinearity]
    pre = W_ih @ x + b_ih + W_hh @ h_prev + b_hh  # pre-activation
    h = act(pre)  # new hidden state
    return {"pre": pre, "h": h}


def rnn_step_backward(
    step: Step, x: Vector, h_prev: Vector, W_ih: np.ndarray, W_hh: np.ndarray, dh: Vector,
    nonlinearity: str = "tanh",
) -> Step:
    """The gradients of one RNN step, from dh = dL/dh_t."""
    pre, h = step["pre"], step["h"]
    slope = {"tanh": 1.0 - h**2, "sigmoid": h * (1.0 - h), "relu": (pre > 0).astype(pre.dtype)}[nonlinearity]
    d_pre = dh * slope  # h = act(pre)
    return {
        "pre": d_pre,
        "x": W_ih.T @ d_pre,  # pre = W_ih x + ...
        "h_prev": W_hh.T @ d_pre,  # pre = ... + W_hh h_prev + ...
        "W_ih": np.outer(d_pre, x),
        "W_hh": np.outer(d_pre, h_prev),
        "b_ih": d_pre,
        "b_hh": d_pre,
    }


# ----------------------------------------------------------------------------------------------------------
# LSTM


def lstm_step(
    x: Vector, h_prev: Vector, c_prev: Vector, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: Vector, b_hh: Vector
) -> Step:
    """One LSTM step: three sigmoid gates (input i, forget f, output o), a tanh candidate g, cell state c."""
    W_ii, W_if, W_ig, W_io = gate_blocks(W_ih, 4)
    W_hi, W_hf, W_hg, W_ho = gate_blocks(W_hh, 4)
    b_ii, b_if, b_ig, b_io = gate_blocks(b_ih, 4)
    b_hi, b_hf, b_hg, b_ho = gate_blocks(b_hh, 4)

    i_pre = W_ii @ x + b_ii + W_hi @ h_prev + b_hi
    f_pre = W_if @ x + b_if + W_hf @ h_prev + b_hf
    g_pre = W_ig @ x + b_ig + W_hg @ h_prev + b_hg
    o_pre = W_io @ x + b_io + W_ho @ h_prev + b_ho
    i = sigmoid(i_pre)  # input gate: how much of the candidate enters the cell
    f = sigmoid(f_pre)  # forget gate: how much of the old cell state is kept
    g = tanh(g_pre)  # candidate values (often written C~_t)
    o = sigmoid(o_pre)  # output gate: how much of the cell is shown as h
    c = f * c_prev + i * g  # new cell state
    tanh_c = tanh(c)
    h = o * tanh_c  # new hidden state
    return {"i_pre": i_pre, "f_pre": f_pre, "g_pre": g_pre, "o_pre": o_pre,
            "i": i, "f": f, "g": g, "o": o, "c": c, "tanh_c": tanh_c, "h": h}


def lstm_step_backward(
    step: Step, x: Vector, h_prev: Vector, c_prev: Vector, W_ih: np.ndarray, W_hh: np.ndarray,
    dh: Vector, dc: Vector,
) -> Step:
    """The gradients of one LSTM step, from dh = dL/dh_t and dc = dL/dc_t through the next step's c.

    Besides the inputs' gradients, ``c`` holds the total dL/dc_t (dc plus the path through h_t = o tanh(c_t)).
    """
    i, f, g, o, tanh_c = step["i"], step["f"], step["g"], step["o"], step["tanh_c"]
    do = dh * tanh_c  # h = o * tanh(c)
    dc_total = dc + dh * o * (1.0 - tanh_c**2)  # ... and c reaches h through tanh
    di = dc_total * g  # c = f * c_prev + i * g
    df = dc_total * c_prev
    dg = dc_total * i
    dc_prev = dc_total * f
    di_pre = di * i * (1.0 - i)  # i = sigmoid(i_pre)
    df_pre = df * f * (1.0 - f)
    dg_pre = dg * (1.0 - g**2)  # g = tanh(g_pre)
    do_pre = do * o * (1.0 - o)
    d_pre = np.concatenate([di_pre, df_pre, dg_pre, do_pre])  # every gate's pre-activation reads x and h_prev
    return {
        "i_pre": di_pre, "f_pre": df_pre, "g_pre": dg_pre, "o_pre": do_pre,
        "c": dc_total,
        "x": W_ih.T @ d_pre,
        "h_prev": W_hh.T @ d_pre,
        "c_prev": dc_prev,
        "W_ih": np.outer(d_pre, x),
        "W_hh": np.outer(d_pre, h_prev),
        "b_ih": d_pre,
        "b_hh": d_pre,
    }


# ----------------------------------------------------------------------------------------------------------
# GRU


def gru_step(
    x: Vector, h_prev: Vector, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: Vector, b_hh: Vector
) -> Step:
    """One GRU step: reset gate r, update gate z, candidate n; the reset gate scales the hidden part of n."""
    W_ir, W_iz, W_in = gate_blocks(W_ih, 3)
    W_hr, W_hz, W_hn = gate_blocks(W_hh, 3)
    b_ir, b_iz, b_in = gate_blocks(b_ih, 3)
    b_hr, b_hz, b_hn = gate_blocks(b_hh, 3)

    r_pre = W_ir @ x + b_ir + W_hr @ h_prev + b_hr
    z_pre = W_iz @ x + b_iz + W_hz @ h_prev + b_hz
    r = sigmoid(r_pre)  # reset gate: how much of h_prev the candidate may see
    z = sigmoid(z_pre)  # update gate: how much of h_prev is kept
    hn = W_hn @ h_prev + b_hn  # the hidden part of the candidate, before the reset gate scales it
    n_pre = W_in @ x + b_in + r * hn
    n = tanh(n_pre)  # candidate hidden state
    h = (1.0 - z) * n + z * h_prev  # new hidden state: between the candidate and the old state
    return {"r_pre": r_pre, "z_pre": z_pre, "n_pre": n_pre, "r": r, "z": z, "n": n, "hn": hn, "h": h}


def gru_step_backward(
    step: Step, x: Vector, h_prev: Vector, W_ih: np.ndarray, W_hh: np.ndarray, dh: Vector
) -> Step:
    """The gradients of one GRU step, from dh = dL/dh_t. ``hn`` holds dL/d(W_hn h_prev + b_hn)."""
    r, z, n, hn = step["r"], step["z"], step["n"], step["hn"]
    dn = dh * (1.0 - z)  # h = (1 - z) * n + z * h_prev
    dz = dh * (h_prev - n)
    dh_prev_direct = dh * z
    dn_pre = dn * (1.0 - n**2)  # n = tanh(n_pre)
    dr = dn_pre * hn  # n_pre = W_in x + b_in + r * hn
    dhn = dn_pre * r
    dr_pre = dr * r * (1.0 - r)  # r = sigmoid(r_pre)
    dz_pre = dz * z * (1.0 - z)  # z = sigmoid(z_pre)
    d_input_part = np.concatenate([dr_pre, dz_pre, dn_pre])  # what W_ih x + b_ih's three blocks receive
    d_hidden_part = np.concatenate([dr_pre, dz_pre, dhn])  # what W_hh h_prev + b_hh's three blocks receive
    return {
        "r_pre": dr_pre, "z_pre": dz_pre, "n_pre": dn_pre, "hn": dhn,
        "x": W_ih.T @ d_input_part,
        "h_prev": dh_prev_direct + W_hh.T @ d_hidden_part,
        "W_ih": np.outer(d_input_part, x),
        "W_hh": np.outer(d_hidden_part, h_prev),
        "b_ih": d_input_part,
        "b_hh": d_hidden_part,
    }


# ----------------------------------------------------------------------------------------------------------
# A whole sequence, one step after another


def run_sequence(
    cell: str, xs: Sequence[Vector], h0: Vector, c0: Vector | None, W_ih: np.ndarray, W_hh: np.ndarray,
    b_ih: Vector, b_hh: Vector, nonlinearity: str = "tanh", reverse: bool = False,
) -> list[Step]:
    """Every step of one sequence, listed by position t (a reverse layer reads the sequence from its end)."""
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    steps: dict[int, Step] = {}
    h, c = h0, c0
    for t in order:
        if cell == "rnn":
            steps[t] = rnn_step(xs[t], h, W_ih, W_hh, b_ih, b_hh, nonlinearity)
        elif cell == "lstm":
            assert c is not None, "the LSTM needs c0"
            steps[t] = lstm_step(xs[t], h, c, W_ih, W_hh, b_ih, b_hh)
            c = steps[t]["c"]
        elif cell == "gru":
            steps[t] = gru_step(xs[t], h, W_ih, W_hh, b_ih, b_hh)
        else:
            raise ValueError(f"unknown cell {cell!r}")
        h = steps[t]["h"]
    return [steps[t] for t in range(len(xs))]


@dataclass
class SequenceGradients:
    """What :func:`backprop_sequence` finds: every step's gradients, and their sums over the sequence."""

    steps: list[Step]  # by position t; ``h`` holds the total dL/dh_t (and for the LSTM ``c`` the total dL/dc_t)
    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: Vector
    b_hh: Vector
    h0: Vector
    c0: Vector | None  # the LSTM's; None for the others


def backprop_sequence(
    cell: str, xs: Sequence[Vector], h0: Vector, c0: Vector | None, W_ih: np.ndarray, W_hh: np.ndarray,
    steps: list[Step], dh_out: Sequence[Vector], nonlinearity: str = "tanh", reverse: bool = False,
    dh_last: Vector | None = None, dc_last: Vector | None = None,
) -> SequenceGradients:
    """Backpropagation through time over one sequence, plainly: visit the steps in the opposite order.

    ``dh_out[t]`` is dL/dh_t from outside the recurrence (an output, the layer above); ``dh_last`` / ``dc_last``
    the gradient at the final state. At each step the gradient of h_t is what arrives from outside plus what
    the next step sends back through h_{t-1}.
    """
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    H = h0.shape[0]
    dh_next = np.zeros(H) if dh_last is None else dh_last
    dc_next = np.zeros(H) if dc_last is None else dc_last
    totals = {"W_ih": np.zeros_like(W_ih), "W_hh": np.zeros_like(W_hh),
              "b_ih": np.zeros(W_ih.shape[0]), "b_hh": np.zeros(W_hh.shape[0])}
    grads: dict[int, Step] = {}
    for position, t in reversed(list(enumerate(order))):
        before = order[position - 1] if position > 0 else None  # the step that ran just before t
        h_prev = h0 if before is None else steps[before]["h"]
        dh = dh_out[t] + dh_next
        if cell == "rnn":
            grads[t] = rnn_step_backward(steps[t], xs[t], h_prev, W_ih, W_hh, dh, nonlinearity)
        elif cell == "lstm":
            assert c0 is not None, "the LSTM needs c0"
            c_prev = c0 if before is None else steps[before]["c"]
            grads[t] = lstm_step_backward(steps[t], xs[t], h_prev, c_prev, W_ih, W_hh, dh, dc_next)
            dc_next = grads[t]["c_prev"]
        elif cell == "gru":
            grads[t] = gru_step_backward(steps[t], xs[t], h_prev, W_ih, W_hh, dh)
        else:
            raise ValueError(f"unknown cell {cell!r}")
        grads[t]["h"] = dh
        dh_next = grads[t]["h_prev"]
        for name, total in totals.items():
            total += grads[t][name]
    return SequenceGradients(
        steps=[grads[t] for t in range(len(xs))], W_ih=totals["W_ih"], W_hh=totals["W_hh"],
        b_ih=totals["b_ih"], b_hh=totals["b_hh"], h0=dh_next, c0=dc_next if cell == "lstm" else None,
    )
