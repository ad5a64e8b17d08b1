"""Lessons 5-8: backpropagation through time, the LSTM step by step, LSTM vs RNN, the GRU."""

from __future__ import annotations

from app.lessons.model import Lesson, Live, Step

LONG = "the cat sat on the mat"

BPTT = Lesson(
    "bptt",
    "Backpropagation through time and the vanishing gradient",
    "Training an RNN means sending the error back along the unrolled chain, through every step; each step "
    "multiplies the signal by a factor, and small factors make it vanish.",
    (
        Step(
            "The error travels backwards through time",
            (
                "Backpropagation through time is ordinary backpropagation applied to the unrolled picture. "
                "The loss here is read at the last step only: the network must name the first character of "
                "the text. To blame the state at an early step, the gradient has to pass back through every "
                "column in between.",
                "The chart plots the size ‖∂L/∂h_t‖ at each step on a logarithmic axis. Reading from right "
                "to left, the line falls: every step back loses part of the signal.",
            ),
            "Find the step where the RNN's gradient has dropped below a thousandth of its value at the "
            "last step.",
            Live("gradients", {"cell": "rnn", "input": LONG, "t": 0}),
            ("∂L/∂h_{t-1} = W_hhᵀ diag(1 − h_t²) ∂L/∂h_t",),
        ),
        Step(
            "Why it shrinks: a product of factors",
            (
                "One step back multiplies the gradient by W_hhᵀ and by the derivative of the activation. "
                "tanh' is at most 1 and much smaller where a unit saturates; σ' is at most 0.25. Twenty "
                "steps back, the gradient has been multiplied twenty times.",
                "With sigmoid as the state activation the line collapses by many orders of magnitude: the "
                "first characters get almost no gradient, so training cannot teach the network to use them. "
                "This is the vanishing gradient problem.",
            ),
            "Compare this chart with the previous step (tanh). How many powers of ten apart are the two "
            "RNN lines at t = 0?",
            Live("gradients", {"cell": "rnn", "act": "sigmoid", "input": LONG, "t": 0}),
            ("∂L/∂h_k = (∏_{t=k+1}^{T} W_hhᵀ diag(f'(z_t))) ∂L/∂h_T",),
        ),
        Step(
            "Vanishing, exploding, and clipping",
            (
                "The same product can also grow: when W_hh is large, each step back multiplies by more than "
                "one and the gradient explodes, usually with ReLU. Exploding gradients are tamed by clipping "
                "the gradient's norm in the optimiser before the update; the backward pass itself "
                "stays exact.",
                "Vanishing gradients have no such quick fix. They call for a different cell, one "
                "whose memory "
                "path is not squeezed at every step: the LSTM of the next lesson.",
            ),
            "Try relu and a larger hidden size on the full page. Does the RNN line still fall to the left?",
            Live("gradients", {"cell": "rnn", "act": "relu", "input": LONG, "t": 0}),
        ),
    ),
)

LSTM = Lesson(
    "lstm",
    "The LSTM, step by step",
    "An LSTM adds a second state, the cell state c, and three sigmoid gates that decide what to erase, what "
    "to write and what to show.",
    (
        Step(
            "Two states instead of one",
            (
                "Each LSTM column passes two vectors to the next: the hidden state h (short-term, also the "
                "output) and the cell state c (the long-term memory). Both appear as rows of squares in "
                "every column.",
                "Every block reads three things, x_t, h_{t-1} and c_{t-1}, and produces two, h_t and c_t. "
                "The gates are computed from [h_{t-1}, x_t], the previous hidden state joined to the input.",
            ),
            "Step through the word and compare the h and c rows: which one changes more smoothly?",
            Live("unrolled", {"cell": "lstm", "input": "hello", "t": 2, "hidden": 6}),
        ),
        Step(
            "Forget gate",
            (
                "The first decision is what to erase from the memory. The forget gate f_t is a sigmoid of "
                "the input and previous state, one value in (0, 1) per unit: near 1 keeps that unit of "
                "c_{t-1}, near 0 wipes it.",
                "Find f_t in the list of equations below the diagram. The worked example repeats the sum for "
                "one unit with this step's numbers.",
            ),
            "Step forward with → and watch f_t: which units would keep their memory at this step?",
            Live("cell", {"cell": "lstm", "input": "hello", "t": 2, "hidden": 6}),
            ("f_t = σ(W_f · [h_{t-1}, x_t] + b_f)",),
        ),
        Step(
            "Input gate and candidate",
            (
                "Next comes what to write. A tanh layer proposes a candidate vector C̃_t (written g_t in "
                "PyTorch's gate order i, f, g, o) with values in (−1, 1); the input gate i_t, another "
                "sigmoid, decides how much of each candidate unit actually gets in.",
                "Multiplying the two, i_t ⊙ C̃_t, gives the new information for this step: a unit is written "
                "only where the gate is open and the candidate is large.",
            ),
            "Compare i_t and C̃_t unit by unit: where is their product, the part that reaches the cell, "
            "largest?",
            Live("cell", {"cell": "lstm", "input": "hello", "t": 2, "hidden": 6, "unit": 1}),
            ("i_t = σ(W_i · [h_{t-1}, x_t] + b_i)", "C̃_t = tanh(W_C · [h_{t-1}, x_t] + b_C)"),
        ),
        Step(
            "Updating the cell state",
            (
                "The new memory is the old one, partly erased, plus the new information: "
                "c_t = f_t ⊙ c_{t-1} + i_t ⊙ C̃_t. Both products are element-wise, one unit at a time.",
                "Notice what is missing: no weight matrix and no squashing function sit on the path from "
                "c_{t-1} to c_t. When f_t stays close to 1, the memory and its gradient pass through almost "
                "unchanged. This is how the LSTM fights the vanishing gradient.",
            ),
            "Check the worked example for c_t against the numbers of f_t, c_{t-1}, i_t and C̃_t.",
            Live("cell", {"cell": "lstm", "input": "hello", "t": 3, "hidden": 6}),
            ("c_t = f_t ⊙ c_{t-1} + i_t ⊙ C̃_t",),
        ),
        Step(
            "Output gate and the new hidden state",
            (
                "Finally the LSTM decides what to reveal. The output gate o_t is one more sigmoid; tanh(c_t) "
                "squeezes the memory into (−1, 1), and their product is the new hidden state h_t, which goes "
                "to the output layer and on to the next step.",
                "So h_t is a filtered view of the memory: a unit can hold a value in c for many steps while "
                "o_t keeps it hidden until it becomes useful.",
            ),
            "Step to the last character and follow one unit from c_t through tanh(c_t) and o_t to h_t.",
            Live("cell", {"cell": "lstm", "input": "hello", "t": 4, "hidden": 6}),
            ("o_t = σ(W_o · [h_{t-1}, x_t] + b_o)", "h_t = o_t ⊙ tanh(c_t)"),
        ),
    ),
)

LSTM_VS_RNN = Lesson(
    "lstm-vs-rnn",
    "LSTM vs RNN on a long-term dependency",
    "Gates alone do not remember: an untrained LSTM forgets as quickly as an RNN. What a trained LSTM can "
    "do is learn to keep its forget gate open for as long as the task needs.",
    (
        Step(
            "Untrained, both forget",
            (
                "Here the same text runs through an RNN, an LSTM and a GRU with freshly drawn weights, and "
                "the loss asks for the first character at the last step. All three gradient lines fall to "
                "the left.",
                "That is expected: with random weights the forget gate sits near 0.5, so the cell state "
                "halves at every step. The LSTM's advantage is that it can learn to change this.",
            ),
            "Read the table: at t = 0, which cell passes back the most gradient?",
            Live("gradients", {"cell": "lstm", "input": LONG, "t": 0}),
        ),
        Step(
            "Three cells, one input",
            (
                "The comparison view runs the three cells on the same characters with the same seed and "
                "sizes. The RNN has one state row per column; the LSTM adds the cell state; the GRU keeps "
                "one state but mixes old and new with a gate.",
                "Follow one long input to the end: the pictures show how differently the three kinds of "
                "memory evolve, even before any training.",
            ),
            "Step to the end of the text. Which model's state still looks like it did a few steps ago?",
            Live("compare", {"input": LONG, "t": 10, "hidden": 6}),
        ),
        Step(
            "The adding problem: a trained LSTM remembers",
            (
                "This LSTM was trained on the adding problem: 20 steps of random numbers, two of them marked "
                "(✓). At the end it must output the sum of the two marked numbers, so it has to keep the "
                "first one for up to nineteen steps while ignoring everything unmarked.",
                "Step along and watch the cell state: a few units change when a marked number arrives and "
                "then hold still. The final output is close to the true sum shown above the picture. A "
                "vanilla RNN rewrites its whole state at every step, which makes this kind of long wait much "
                "harder to learn.",
            ),
            "Step to a marked number (✓) and read the gate view below the picture: how open is the input "
            "gate there, and what does the forget gate do on the steps after it?",
            Live(preset="adding", sample=0, t=19),
        ),
    ),
)

GRU = Lesson(
    "gru",
    "The GRU",
    "The gated recurrent unit keeps the LSTM's key idea, a gated path for memory, with two gates and a "
    "single state.",
    (
        Step(
            "Reset and update gates",
            (
                "A GRU has a reset gate r_t and an update gate z_t, both sigmoids of the input and the "
                "previous state. The reset gate decides how much of h_{t-1} the candidate n_t may look at; "
                "the update gate decides how much of the old state to keep.",
                "The candidate is a tanh layer like the vanilla RNN's, except that the recurrent part is "
                "multiplied by r_t first.",
            ),
            "Find the unit with the smallest reset gate: how much of h_{t-1} does its candidate see?",
            Live("cell", {"cell": "gru", "input": "hello", "t": 2, "hidden": 6}),
            (
                "r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)",
                "z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)",
                "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))",
            ),
        ),
        Step(
            "Blending old and new",
            (
                "The new state is a weighted average, unit by unit: h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}. "
                "With z_t near 1 a unit copies its old value forward untouched, the same kind of protected "
                "path the LSTM's cell state offers.",
                "There is no separate cell state and no output gate: h_t is both the memory and the output, "
                "so a GRU has about three quarters of an LSTM's weights for the same hidden size.",
            ),
            "Step through the word: does a unit with z_t close to 1 keep its colour in the next column?",
            Live("unrolled", {"cell": "gru", "input": "hello", "t": 3, "hidden": 6}),
            ("h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}",),
        ),
        Step(
            "RNN, LSTM and GRU side by side",
            (
                "Put the three cells on one input and compare. Here the GRU's gradient line decays more "
                "slowly than the others even untrained, because its update gate starts near "
                "0.5 and blends rather than overwrites.",
                "In practice LSTM and GRU perform similarly on many tasks; the GRU is smaller and a little "
                "faster, the LSTM's separate memory can help on the longest dependencies.",
            ),
            "Read the t = 0 row of the table: how many times larger is the GRU's gradient than the RNN's?",
            Live("gradients", {"cell": "gru", "input": LONG, "t": 0}),
        ),
    ),
)

LESSONS = (BPTT, LSTM, LSTM_VS_RNN, GRU)
