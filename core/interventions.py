"""What-if interventions: change one number inside a run and let the rest of the sequence follow from it.

Three kinds, each at a timestep t (the first two also at a layer and a direction, 0 forward, 1 reverse):

    Clamp(gate, unit, value)        a_t[unit] := value for a gate activation a of the cell
                                    (LSTM: i, f, g, o; GRU: r, z, n; the vanilla RNN has no gates)
    SetState(state, unit, value)    h_t[unit] := value, or c_t[unit] := value (LSTM only)
    ReplaceInput(token | vector)    x_t := the token (encoded as the network encodes tokens) or the vector

The run is the ordinary one up to step t. At step t the cell computes as usual, except that the intervened
number replaces the computed one the moment it is computed, so everything computed from it in that step and
in every later step reads the new number:

    LSTM, clamp f_t[u]:  c_t = f_t * c_{t-1} + i_t * g_t and h_t = o_t * tanh(c_t) use the clamped f_t[u]
    LSTM, set c_t[u]:    tanh(c_t) and h_t follow from the new c_t[u]; the next step reads it as c_{t-1}
    GRU, clamp r_t[u]:   n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)) uses the clamped r_t[u]
    set h_t[u]:          the next step (and the layer above, and the output layer) reads the new h_t[u]

A replaced input is read by both directions of layer 0. The record keeps the pre-activations as computed (a
clamp replaces an activation, not what it was computed from). In a batch an intervention applies to every
sequence; where a padded sequence has already ended, its state is carried through as always, unchanged.

Gradients: an intervened number is a constant of the run, so no gradient flows through it to what it was
computed from (a clamped f_t[u] sends none to W_if, W_hf, the biases, x_t or h_{t-1}; a set h_t[u] none to
o_t[u] or c_t[u]). The gradient with respect to the number itself is still reported: dL/dh_t and dL/dc_t in
the gradients are those of the values the run used.

:func:`plan_edits` turns a list of interventions into per-(layer, direction) :class:`StepEdit`s, keyed by
timestep, that the cells' scans and step_backward read (core.cells.kernel describes the contract).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.config import NetworkConfig

#: The gates a clamp can name, per cell, with the range of their activation (sigmoid gates in [0, 1], the
#: tanh candidates in [-1, 1]): a clamp asks "what if the gate had been this", a value it could have taken.
GATE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "lstm": {"i": (0.0, 1.0), "f": (0.0, 1.0), "g": (-1.0, 1.0), "o": (0.0, 1.0)},
    "gru": {"r": (0.0, 1.0), "z": (0.0, 1.0), "n": (-1.0, 1.0)},
    "rnn": {},
}


@dataclass(frozen=True)
class Clamp:
    """Gate ``gate``'s activation of unit ``unit`` at timestep ``t`` is ``value``, whatever the cell computes."""

    t: int
    gate: str
    unit: int
    value: float
    layer: int = 0
    direction: int = 0


@dataclass(frozen=True)
class SetState:
    """h_t[unit] (``state`` 'h') or c_t[unit] (``state`` 'c', LSTM) is overwritten with ``value``."""

    t: int
    state: str
    unit: int
    value: float
    layer: int = 0
    direction: int = 0


@dataclass(frozen=True)
class ReplaceInput:
    """Timestep ``t`` reads ``token`` (a token id, for a token network) or ``vector`` (for a vector network)."""

    t: int
    token: int | None = None
    vector: tuple[float, ...] | None = None


Intervention = Clamp | SetState | ReplaceInput


class InterventionError(ValueError):
    """An intervention that does not fit the network or the input: ``index`` is its place in the list and
    ``field`` the attribute at fault, so a caller can point at it."""

    def __init__(self, message: str, index: int, field: str) -> None:
        super().__init__(f"intervention {index}: {message}")
        self.message = message
        self.index = index
        self.field = field


def _target(iv: Intervention) -> tuple[object, ...]:
    """What an intervention writes: two that write the same number contradict each other."""
    if isinstance(iv, Clamp):
        return ("gate", iv.layer, iv.direction, iv.t, iv.gate, iv.unit)
    if isinstance(iv, SetState):
        return ("state", iv.layer, iv.direction, iv.t, iv.state, iv.unit)
    return ("input", iv.t)


def check_interventions(config: NetworkConfig, steps: int, interventions: Sequence[Intervention]) -> None:
    """InterventionError for the first intervention that cannot be applied to ``config`` over ``steps``."""
    seen: dict[tuple[object, ...], int] = {}
    for k, iv in enumerate(interventions):
        _check_one(config, steps, k, iv)
        target = _target(iv)
        if target in seen:
            raise InterventionError(f"writes the same number as intervention {seen[target]}", k, "t")
        seen[target] = k


def _check_one(config: NetworkConfig, steps: int, k: int, iv: Intervention) -> None:
    def need(ok: bool, field: str, message: str) -> None:
        if not ok:
            raise InterventionError(message, k, field)

    if not isinstance(iv, Clamp | SetState | ReplaceInput):
        raise InterventionError(f"unknown intervention {iv!r}", k, "kind")
    need(0 <= iv.t < steps, "t", f"t = {iv.t} is outside the sequence's timesteps 0 .. {steps - 1}")
    if isinstance(iv, ReplaceInput):
        _check_input(config, k, iv)
        return
    need(
        0 <= iv.layer < config.num_layers,
        "layer",
        f"layer = {iv.layer} is outside 0 .. {config.num_layers - 1}",
    )
    need(
        0 <= iv.direction < config.num_directions,
        "direction",
        f"direction = {iv.direction} is outside 0 .. {config.num_directions - 1}"
        + ("" if config.bidirectional else " (the network is not bidirectional)"),
    )
    need(
        0 <= iv.unit < config.hidden_size,
        "unit",
        f"unit = {iv.unit} is outside 0 .. {config.hidden_size - 1} (hidden_size {config.hidden_size})",
    )
    need(math.isfinite(iv.value), "value", "value must be a finite number")
    if isinstance(iv, Clamp):
        ranges = GATE_RANGES[config.cell]
        need(
            iv.gate in ranges,
            "gate",
            f"{_article(config.cell)} {config.cell} cell has no gate {iv.gate!r}; "
            + (f"choose from {', '.join(ranges)}" if ranges else "it has no gates: set its state h instead"),
        )
        low, high = ranges[iv.gate]
        need(
            low <= iv.value <= high,
            "value",
            f"gate {iv.gate} takes values in [{low:g}, {high:g}], got {iv.value}",
        )
    else:
        states = ("h", "c") if config.has_cell_state else ("h",)
        need(
            iv.state in states,
            "state",
            f"{_article(config.cell)} {config.cell} cell has no state {iv.state!r}; choose from {', '.join(states)}"
            + ("" if config.has_cell_state else " (only the LSTM has a cell state c)"),
        )


def _article(cell: str) -> str:
    """'an lstm', 'an rnn' (read letter by letter), 'a gru'."""
    return "a" if cell == "gru" else "an"


def _check_input(config: NetworkConfig, k: int, iv: ReplaceInput) -> None:
    if config.input_encoding == "vector":
        if iv.vector is None or iv.token is not None:
            raise InterventionError(
                f"this network reads vectors of {config.input_size} numbers: give vector, not token", k, "vector"
            )
        if len(iv.vector) != config.input_size:
            raise InterventionError(
                f"vector holds {len(iv.vector)} numbers, the network reads {config.input_size}", k, "vector"
            )
        if not all(math.isfinite(v) for v in iv.vector):
            raise InterventionError("vector must hold finite numbers", k, "vector")
        return
    assert config.vocab_size is not None
    if iv.token is None or iv.vector is not None:
        raise InterventionError("this network reads tokens: give token, not vector", k, "token")
    if not 0 <= iv.token < config.vocab_size:
        raise InterventionError(f"token = {iv.token} is outside 0 .. {config.vocab_size - 1}", k, "token")


@dataclass(frozen=True)
class StepEdit:
    """What interventions change at one timestep of one layer and direction, as arrays the cells index with.

    Forward: ``gate_columns`` index the cell's row of gate activations (gates side by side in the cell's order,
    H each: column = gate index * H + unit) and take ``gate_values``; likewise ``h_units`` / ``c_units`` of the
    new state. Backward: the ``*_keep`` rows are 1 except 0 where a number was fixed (None when nothing was),
    multiplying the gradient at the point where it would flow on into what the number was computed from.
    """

    gate_columns: np.ndarray
    gate_values: np.ndarray
    h_units: np.ndarray
    h_values: np.ndarray
    c_units: np.ndarray
    c_values: np.ndarray
    gate_keep: np.ndarray | None
    h_keep: np.ndarray | None
    c_keep: np.ndarray | None

    def set_gates(self, row: np.ndarray, start: int = 0) -> None:
        """Write the clamped activations into ``row``, the (B, width) view of columns start .. start + width
        of the gate activations (a cell that computes its gates in two parts calls this once per part)."""
        columns = self.gate_columns - start
        chosen = (columns >= 0) & (columns < row.shape[-1])
        if chosen.any():
            row[:, columns[chosen]] = self.gate_values[chosen]

    def set_h(self, h: np.ndarray) -> None:
        if self.h_units.size:
            h[:, self.h_units] = self.h_values

    def set_c(self, c: np.ndarray) -> None:
        if self.c_units.size:
            c[:, self.c_units] = self.c_values


LayerEdits = dict[int, StepEdit]


def plan_edits(config: NetworkConfig, interventions: Sequence[Intervention]) -> dict[tuple[int, int], LayerEdits]:
    """The clamps and state edits grouped by (layer, direction) and then by timestep, ready for the cells.

    Checked interventions only (see :func:`check_interventions`); input replacements are applied by the caller."""
    grouped: dict[tuple[int, int, int], list[Clamp | SetState]] = {}
    for iv in interventions:
        if isinstance(iv, Clamp | SetState):
            grouped.setdefault((iv.layer, iv.direction, iv.t), []).append(iv)
    edits: dict[tuple[int, int], LayerEdits] = {}
    for (layer, direction, t), group in grouped.items():
        edits.setdefault((layer, direction), {})[t] = _step_edit(config, group)
    return edits


def _step_edit(config: NetworkConfig, group: list[Clamp | SetState]) -> StepEdit:
    H, dtype = config.hidden_size, config.np_dtype
    gates = config.gates

    def written(pairs: list[tuple[int, float]], width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        index = np.array([p[0] for p in pairs], dtype=np.intp)
        values = np.array([p[1] for p in pairs], dtype=dtype)
        keep = None
        if pairs:
            keep = np.ones(width, dtype)
            keep[index] = 0.0
        return index, values, keep

    clamps = [(gates.index(iv.gate) * H + iv.unit, iv.value) for iv in group if isinstance(iv, Clamp)]
    hs = [(iv.unit, iv.value) for iv in group if isinstance(iv, SetState) and iv.state == "h"]
    cs = [(iv.unit, iv.value) for iv in group if isinstance(iv, SetState) and iv.state == "c"]
    gate_columns, gate_values, gate_keep = written(clamps, len(gates) * H)
    h_units, h_values, h_keep = written(hs, H)
    c_units, c_values, c_keep = written(cs, H)
    return StepEdit(gate_columns, gate_values, h_units, h_values, c_units, c_values, gate_keep, h_keep, c_keep)


def input_replacements(interventions: Sequence[Intervention]) -> list[ReplaceInput]:
    return [iv for iv in interventions if isinstance(iv, ReplaceInput)]


def replace_tokens(tokens: np.ndarray, changes: Sequence[ReplaceInput]) -> np.ndarray:
    """A copy of the (T, B) token ids with token t replaced (in every sequence of the batch)."""
    out = tokens.copy()
    for iv in changes:
        out[iv.t] = iv.token
    return out


def replace_vectors(x: np.ndarray, changes: Sequence[ReplaceInput]) -> np.ndarray:
    """A copy of the (T, B, I) input vectors with x_t replaced (in every sequence of the batch)."""
    out = x.copy()
    for iv in changes:
        assert iv.vector is not None
        out[iv.t] = np.asarray(iv.vector, dtype=x.dtype)
    return out
