"""The sub-steps of one timestep, in the lecture notes' order, each with a paragraph that tells it with this
step's numbers for the chosen unit j and, where a weighted sum is taken, the whole sum written out.

    LSTM: 1 forget, 2 input, 3 candidate, 4 cell update, 5 output, 6 hidden state
    GRU:  1 reset, 2 update, 3 candidate, 4 new state
    RNN:  1 combine, 2 activate, 3 output

A gate's sum for unit j is PyTorch's W_ih[row] · x_t + b_ih[row] + W_hh[row] · h_{t-1} + b_hh[row], where row is
the gate's block of H rows (LSTM i, f, g, o; GRU r, z, n) plus j. For a one-hot input the product W_ih · x_t
picks one column of W_ih, the input token's, so it is written as that one weight."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.cell_diagram import fmt, paren
from app.web.simulation import Simulation

SUBSTEP_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("forget", "input", "candidate", "cell update", "output", "hidden state"),
    "gru": ("reset", "update", "candidate", "new state"),
    "rnn": ("combine", "activate", "output"),
}
GATE_ROWS = {"lstm": "ifgo", "gru": "rzn"}
MAX_SUBSTEPS = max(len(names) for names in SUBSTEP_NAMES.values())
SHOWN_TERMS = 12  # terms of W_hh · h written out before the rest is summed up in one figure


@dataclass(frozen=True)
class WrittenSum:
    """One unit's weighted sum with every number: the input part, the memory part and the biases."""

    target: str  # e.g. 'f_t[3] before σ'
    input_part: str  # 'W_if[3, “h”] = 0.412' or '0.12 × 0.50 + …'
    input_value: float
    memory_part: str
    memory_value: float
    bias: float
    total: float

    @property
    def line(self) -> str:
        return (
            f"{self.target} = {fmt(self.input_value)} + {paren(self.memory_value)} + {paren(self.bias)}"
            f" = {fmt(self.total)}"
        )


@dataclass(frozen=True)
class SubStep:
    number: int
    name: str
    title: str
    equation: str
    narration: str
    written: WrittenSum | None = None


def pct(v: float) -> str:
    return f"{v:.0%}"


def count(cell: str) -> int:
    return len(SUBSTEP_NAMES[cell])


def shown_substep(sim: Simulation) -> int:
    """The state's sub-step clamped to the cell's (no ``s`` in the URL: the last, the whole step done)."""
    k = count(sim.config.cell)
    s = sim.state.s
    return k if s is None else max(1, min(k, s))


def products(weights: np.ndarray, values: np.ndarray) -> str:
    """'0.120 × 0.500 + (−0.300) × 0.100 + …' for the largest terms, the rest summed up."""
    terms = weights * values
    order = np.argsort(-np.abs(terms), kind="stable")
    shown = [f"{paren(weights[k])} × {paren(values[k])}" for k in order[:SHOWN_TERMS]]
    rest = len(terms) - SHOWN_TERMS
    if rest > 0:
        shown.append(f"({rest} smaller terms: {fmt(float(terms[order[SHOWN_TERMS:]].sum()))})")
    return " + ".join(shown)


def times(a: float, b: float) -> str:
    """'0.442 × (−0.008)': a product as written by hand."""
    return f"{fmt(a)} × {paren(b)}"


def written_sum(sim: Simulation, gate: str, target: str) -> WrittenSum:
    """The gate's (or the RNN's) sum for the shown unit, from the weights and this step's x_t and h_{t-1}."""
    state, cfg = sim.state, sim.config
    H = cfg.hidden_size
    j = state.unit if state.unit is not None else 0
    row = GATE_ROWS[cfg.cell].index(gate) * H + j if cfg.cell in GATE_ROWS else j
    W_ih, W_hh = sim.layer_weight("weight_ih"), sim.layer_weight("weight_hh")
    b_ih, b_hh = sim.layer_bias("bias_ih"), sim.layer_bias("bias_hh")
    lt = sim.trace.layers[state.layer][state.dir]
    x, h_prev = lt.x[state.t, 0], lt.quantities(("h_prev",))["h_prev"][state.t, 0]
    input_value = float(W_ih[row] @ x)
    memory_value = float(W_hh[row] @ h_prev)
    bias = float((b_ih[row] if b_ih is not None else 0.0) + (b_hh[row] if b_hh is not None else 0.0))
    one_hot = state.layer == 0 and cfg.input_encoding == "onehot"
    name = f"W_i{gate}" if cfg.cell in GATE_ROWS else "W_ih"
    if one_hot:
        token = sim.labels[state.t]
        input_part = f"{name}[{j}, “{token}”] = {fmt(input_value)} (x_t is one-hot: it picks one column)"
    else:
        input_part = products(W_ih[row], x)
    return WrittenSum(
        target,
        input_part,
        input_value,
        products(W_hh[row], h_prev),
        memory_value,
        bias,
        input_value + memory_value + bias,
    )


def output_sentence(sim: Simulation) -> str:
    """What the output layer makes of h_t at the shown step, when the shown layer is the top one."""
    state, cfg = sim.state, sim.config
    if state.layer == cfg.num_layers - 1 and sim.onward:
        return sim.onward
    if state.layer != cfg.num_layers - 1 or sim.trace.logits is None:
        return f"h_t goes up to layer {state.layer + 2} as its input, and on to the next step."
    best = sim.top_outputs(state.t)
    if best:
        listed = ", ".join(f"“{label}” {pct(p)}" for label, p in best)
        return f"The output layer reads all of h_t and gives its guesses: {listed}."
    return f"The output layer reads all of h_t: y_t = {fmt(float(sim.trace.logits[state.t, 0, 0]))}."


def lstm_steps(sim: Simulation, v: dict[str, float], j: int) -> list[SubStep]:
    token = sim.labels[sim.state.t]
    fc, ig = v["f"] * v["c_prev"], v["i"] * v["g"]
    bus = "[h_{t-1}, x_t]"
    return [
        SubStep(1, "forget", "Forget gate: how much old memory to keep", f"f_t = σ(W_f {bus} + b_f)",
                f"The forget gate reads the previous hidden state and the input “{token}”. For unit {j} its "
                f"weighted sum is {fmt(v['f_pre'])}, and σ of that is {fmt(v['f'])}: the cell will keep "
                f"{pct(v['f'])} of its old memory c_{{t-1}} = {fmt(v['c_prev'])}.",
                written_sum(sim, "f", f"f_t[{j}] before σ")),
        SubStep(2, "input", "Input gate: how much new information to write", f"i_t = σ(W_i {bus} + b_i)",
                f"The input gate reads the same two vectors with its own weights: σ({fmt(v['i_pre'])}) = "
                f"{fmt(v['i'])}, so {pct(v['i'])} of the candidate will be written into unit {j}'s memory.",
                written_sum(sim, "i", f"i_t[{j}] before σ")),
        SubStep(3, "candidate", "Candidate: the new information itself", f"g_t = tanh(W_g {bus} + b_g)",
                f"The candidate g_t (the notes' C̃_t) is what could be written, squashed by tanh into −1..1: "
                f"tanh({fmt(v['g_pre'])}) = {fmt(v['g'])}.",
                written_sum(sim, "g", f"g_t[{j}] before tanh")),
        SubStep(4, "cell update", "Cell update: keep some old, add some new", "c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t",
                f"Along the line at the top, the old memory is scaled by the forget gate, "
                f"{times(v['f'], v['c_prev'])} = {fmt(fc)}, and the gated candidate is added, "
                f"{times(v['i'], v['g'])} = {fmt(ig)}: the new cell state is c_t = {fmt(v['c'])}."),
        SubStep(5, "output", "Output gate: how much of the memory to show", f"o_t = σ(W_o {bus} + b_o)",
                f"The output gate decides how much of the cell state unit {j} shows to the rest of the network: "
                f"σ({fmt(v['o_pre'])}) = {fmt(v['o'])}.",
                written_sum(sim, "o", f"o_t[{j}] before σ")),
        SubStep(6, "hidden state", "New hidden state", "h_t = o_t ⊙ tanh(c_t)",
                f"The memory is squashed, tanh({fmt(v['c'])}) = {fmt(v['tanh_c'])}, and scaled by the output "
                f"gate: h_t = {times(v['o'], v['tanh_c'])} = {fmt(v['h'])}. Both c_t and h_t go on to "
                f"the next step. {output_sentence(sim)}"),
    ]


def gru_steps(sim: Simulation, v: dict[str, float], j: int) -> list[SubStep]:
    token = sim.labels[sim.state.t]
    in_part = v["n_pre"] - v["r"] * v["hn"]
    keep, blend = v["z"] * v["h_prev"], (1 - v["z"]) * v["n"]
    return [
        SubStep(1, "reset", "Reset gate: how much of the past the candidate may use",
                "r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)",
                f"The reset gate reads the previous state and the input “{token}”: σ({fmt(v['r_pre'])}) = "
                f"{fmt(v['r'])}. Near 0 the candidate ignores the past; near 1 it uses it fully.",
                written_sum(sim, "r", f"r_t[{j}] before σ")),
        SubStep(2, "update", "Update gate: how much of the old state to keep",
                "z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)",
                f"The update gate is σ({fmt(v['z_pre'])}) = {fmt(v['z'])}: unit {j} will keep {pct(v['z'])} "
                f"of its old state and take {pct(1 - v['z'])} (that is 1 − z) from the candidate.",
                written_sum(sim, "z", f"z_t[{j}] before σ")),
        SubStep(3, "candidate", "Candidate state", "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))",
                f"The candidate adds the input part {fmt(in_part)} to the hidden part {fmt(v['hn'])} scaled by "
                f"the reset gate, {times(v['r'], v['hn'])} = {fmt(v['r'] * v['hn'])}, and squashes the "
                f"sum: n_t = tanh({fmt(v['n_pre'])}) = {fmt(v['n'])}."),
        SubStep(4, "new state", "New hidden state: a blend of old and new", "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}",
                f"The new state blends the two: {times(v['z'], v['h_prev'])} = {fmt(keep)} kept, plus "
                f"{times(1 - v['z'], v['n'])} = {fmt(blend)} new, so h_t = {fmt(v['h'])}. "
                f"{output_sentence(sim)}"),
    ]


def rnn_steps(sim: Simulation, v: dict[str, float], j: int) -> list[SubStep]:
    token = sim.labels[sim.state.t]
    act = sim.config.nonlinearity
    written = written_sum(sim, "h", f"sum[{j}]")
    squash = {
        "tanh": "tanh squashes it into −1..1",
        "sigmoid": "the sigmoid squashes it into 0..1",
        "relu": "relu keeps a positive sum and turns a negative one into 0",
    }[act]
    return [
        SubStep(1, "combine", "Combine memory and input", "W_ih x_t + b_ih + W_hh h_{t-1} + b_hh",
                f"Unit {j} adds what it remembers, W_hh h_{{t-1}} + b_hh = "
                f"{fmt(written.memory_value + written.bias - _ih_bias(sim, j))}, to what it reads for “{token}”, "
                f"W_ih x_t + b_ih = {fmt(written.input_value + _ih_bias(sim, j))}: the sum is {fmt(v['pre'])}.",
                written),
        SubStep(2, "activate", f"Activate: {act}", f"h_t = {act}(W_ih x_t + b_ih + W_hh h_{{t-1}} + b_hh)",
                f"{squash[0].upper()}{squash[1:]}: h_t = {act}({fmt(v['pre'])}) = {fmt(v['h'])}. This is the "
                f"whole memory the network carries to the next step."),
        SubStep(3, "output", "Output", "y_t = W_hy h_t + b_y", output_sentence(sim)),
    ]


def _ih_bias(sim: Simulation, j: int) -> float:
    b = sim.layer_bias("bias_ih")
    return float(b[j]) if b is not None else 0.0


def build(sim: Simulation) -> list[SubStep]:
    state = sim.state
    j = state.unit if state.unit is not None else 0
    q = sim.trace.layers[state.layer][state.dir].quantities()
    v = {name: float(arr[state.t, 0, j]) for name, arr in q.items()}
    return {"lstm": lstm_steps, "gru": gru_steps, "rnn": rnn_steps}[sim.config.cell](sim, v, j)
