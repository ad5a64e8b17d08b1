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

def lstm_at(s: int, hl: str, t: int = 2, **more) -> Live:
    """The LSTM lesson's live state: the cell of step t at sub-step s, pointing at part ``hl`` of the drawing,
    on the trained English character model (real gates, not random weights)."""
    return Live("cell", {"preset": "english", "input": "hello", "t": t, "s": s, "hl": hl, **more})


LSTM = Lesson(
    "lstm",
    "The LSTM, step by step",
    "An LSTM adds a second state, the cell state c, and three sigmoid gates that decide what to erase, what "
    "to write and what to show. Seven steps, in the order of the notes, each on the drawing of one cell.",
    (
        Step(
            "What the cell receives",
            (
                "Every LSTM step receives three things: the input x_t (here the letter “l”), the previous "
                "hidden state h_{t-1} and the previous cell state c_{t-1}. In the drawing, c_{t-1} enters at "
                "the top left and runs along the line across the top; h_{t-1} enters at the bottom left and "
                "joins x_t, rising from below, into one bus [h_{t-1}, x_t].",
                "That bus is outlined: every gate reads it, each with its own weights.",
            ),
            "Point at (or Tab to) c_{t-1} and h_{t-1} in the drawing: the readout gives unit 0's values.",
            lstm_at(1, "bus"),
            ("[h_{t-1}, x_t]: the previous hidden state joined to the input",),
        ),
        Step(
            "Forget gate",
            (
                "The first decision is what to erase from the memory. The forget gate, the outlined σ block "
                "on the left, squashes its weighted sum of the bus into (0, 1), one value per unit: near 1 "
                "keeps that unit of c_{t-1}, near 0 wipes it.",
                "Its wire runs straight up to the × on the cell-state line, where it will scale the old "
                "memory. The narration beside the drawing gives this step's numbers, and its “whole sum” "
                "writes out the weighted sum.",
            ),
            "Press . and , to move between sub-steps, and → to see the forget gate of the next letter.",
            lstm_at(1, "f"),
            ("f_t = σ(W_f · [h_{t-1}, x_t] + b_f)",),
            predict="gate:f",
        ),
        Step(
            "Input gate",
            (
                "Next comes how much to write. The input gate, the second σ block, is another sigmoid of the "
                "same bus with its own weights W_i: near 1 the unit accepts new information, near 0 it keeps "
                "its memory as it is.",
            ),
            "Compare the input gate's value with the forget gate's: is this unit more ready to forget or "
            "to write?",
            lstm_at(2, "i"),
            ("i_t = σ(W_i · [h_{t-1}, x_t] + b_i)",),
        ),
        Step(
            "Candidate values",
            (
                "The outlined tanh block proposes the new information itself, the candidate C̃_t (PyTorch "
                "calls it g_t, in its gate order i, f, g, o), with values in (−1, 1).",
                "In the next sub-step the input gate and the candidate meet at the × node above them: "
                "i_t ⊙ C̃_t is what actually reaches the memory. A unit is written only where the gate is "
                "open and the candidate large.",
            ),
            "Pick another unit in “Numbers of unit” and watch the product i_t ⊙ C̃_t change with it.",
            lstm_at(3, "g"),
            ("C̃_t = tanh(W_C · [h_{t-1}, x_t] + b_C)",),
        ),
        Step(
            "The new cell state",
            (
                "Along the line at the top the memory is updated: the old c_{t-1} times the forget gate, "
                "plus the new information: c_t = f_t ⊙ c_{t-1} + i_t ⊙ C̃_t, one unit at a time. The "
                "outlined + node is where the two meet.",
                "Notice what is missing on that line: no weight matrix and no squashing function. When f_t "
                "stays near 1 the memory, and its gradient, pass through almost unchanged; this is how the "
                "LSTM fights the vanishing gradient.",
            ),
            "Check the narration's sum against the values printed at the two × nodes.",
            lstm_at(4, "add_c", t=3),
            ("c_t = f_t ⊙ c_{t-1} + i_t ⊙ C̃_t",),
            predict="memory",
        ),
        Step(
            "Output gate",
            (
                "Now the LSTM decides what to reveal. The output gate, the last σ block on the right, is one "
                "more sigmoid of the bus: how much of each unit's memory the rest of the network may see.",
            ),
            "Step with → through the word: does the output gate open and close with the letters?",
            lstm_at(5, "o", t=3),
            ("o_t = σ(W_o · [h_{t-1}, x_t] + b_o)",),
        ),
        Step(
            "The new hidden state",
            (
                "The memory goes through tanh, squeezing it into (−1, 1), and is multiplied by the output "
                "gate at the outlined × node: h_t = o_t ⊙ tanh(c_t). The new h_t leaves at the bottom right, "
                "to the output layer and on to the next step, beside c_t at the top.",
                "So h_t is a filtered view of the memory: a unit can hold a value in c for many steps while "
                "o_t keeps it hidden until it becomes useful.",
            ),
            "Press . to go on to the next letter's forget gate: its h_{t-1} is the h_t you just saw.",
            lstm_at(6, "mul_o", t=4),
            ("h_t = o_t ⊙ tanh(c_t)",),
            predict="next",
        ),
    ),
)

#: The trained trio of core.evidence: RNN, LSTM and GRU taught the adding problem by one recipe.
TRAINED = {"evidence": "adding"}

LSTM_VS_RNN = Lesson(
    "lstm-vs-rnn",
    "LSTM vs RNN on a long-term dependency",
    "Gates do not remember by themselves; what they give is a path the gradient can travel, so training can "
    "teach the cell to keep a number for as long as the task needs. Here is the evidence, on three models "
    "trained the same way.",
    (
        Step(
            "Same task, same recipe, different cells",
            (
                "Three networks were trained on the adding problem: forty steps of random numbers, two of "
                "them marked ✓, and at the last step the answer must be the sum of the two marked numbers. "
                "The first marked number comes in the first half, so it has to be kept for twenty steps or "
                "more. All three saw the same minibatches with the same optimiser settings and seed; they "
                "have about the same number of weights, which gives the RNN the widest state of the three.",
                "The loss chart tells the result. Answering 1 every time scores about 0.167; the RNN never "
                "gets below that level in three thousand steps. The GRU breaks away within a few hundred "
                "steps, the LSTM after about eight hundred, and both end some three orders of magnitude "
                "lower.",
            ),
            "Open the loss table: at which step does each gated cell first drop below 0.05?",
            Live("compare", TRAINED),
        ),
        Step(
            "Predict: which cell keeps the marker?",
            (
                "Here is a new sequence for the trained RNN and LSTM. Its first marked number arrives early, "
                "and the answer is only read at the last step, so a model that solves the task must carry "
                "that number across thirty steps and more.",
                "The question is asked without any loss: nudge the input at the marked step and measure how "
                "far the final answer moves, ‖∂y_T/∂x_t‖. A model that kept the number answers differently "
                "when it changes; a model that forgot it barely moves. Commit a guess, then read the "
                "influence row and the gradient chart of this very sequence.",
            ),
            "After the reveal, find the marked step in the table under the influence row: how many powers of "
            "ten lie between the two models?",
            Live("gradients", {**TRAINED, "seed": 3}),
            ("‖∂y_T/∂x_t‖_F = sqrt(Σ_{k,i} (∂y_{T,k}/∂x_{t,i})²)",),
            predict="keeps:rnn,lstm",
        ),
        Step(
            "Where the RNN's gradient goes",
            (
                "The same three trained models, one sequence, the task's own loss at the last step. The "
                "chart plots ‖∂L/∂h_t‖ on a logarithmic axis. The RNN's line drops by more than ten powers "
                "of ten on the way back to the first step: whatever happened at the first marked number "
                "(dashed line) sent it almost no training signal, so the RNN never learned to keep it.",
                "The LSTM's and GRU's lines stay within a couple of powers of ten across all forty steps. "
                "Their level is lower at the end only because their answers are nearly right, so the loss "
                "has little to correct; what matters is that the signal survives the trip back.",
                "Below, the influence row asks the same question without any loss: how much does the "
                "final answer move when the input at step t moves?",
            ),
            "Change the sequence number. Does the RNN's gradient at t = 0 ever come within a million times "
            "the LSTM's?",
            Live("gradients", {**TRAINED, "t": 0}),
            ("∂L/∂h_k = (∏_{t=k+1}^{T} ∂h_t/∂h_{t-1})ᵀ ∂L/∂h_T",),
        ),
        Step(
            "Inside the trained LSTM",
            (
                "This is the trained LSTM on a sequence whose first marked number arrives at step 18 and the "
                "second at step 36. Its final answer is close to the true sum shown above the picture.",
                "Most units of the cell state wander, but one of them is the memory: unit 14 jumps by about "
                "half when the marked number arrives, and then holds still until the second mark, because "
                "its forget gate stays above 0.98 and its input gate below 0.02 on every step in between.",
            ),
            "Pick unit 14 under “Numbers of unit” and step on from 18: how much does its c_t change "
            "before step 36?",
            Live(preset="adding-lstm", sample=1, t=18),
            ("c_t = f_t ⊙ c_{t-1} + i_t ⊙ C̃_t",),
        ),
        Step(
            "The RNN trained the same way",
            (
                "The RNN from the same run, on the same sequence. Whatever the numbers, it gives about the "
                "same answer, close to 0.9: the best it could learn without reaching back is a guess near "
                "the average sum.",
                "Its hidden state is rewritten through W_hh and tanh at every step, so by the last step "
                "almost nothing of step 18 is left, and during training almost no gradient reached it.",
            ),
            "Pick the other samples: how much does the RNN's answer change between them, and how much the "
            "true sum?",
            Live(preset="adding-rnn", sample=1, t=39),
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
            "Press . and , to walk the sub-steps: reset gate, update gate, then the candidate at the "
            "outlined tanh block. How much of h_{t-1} does this unit's candidate see?",
            Live("cell", {"cell": "gru", "input": "hello", "t": 2, "hidden": 6, "s": 3, "hl": "n"}),
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
            "The outlined + on the top line adds the kept part z ⊙ h_{t-1} and the new part (1 − z) ⊙ n. "
            "Step with →: does a unit with z_t close to 1 keep its value in the next step?",
            Live("cell", {"cell": "gru", "input": "hello", "t": 3, "hidden": 6, "s": 4, "hl": "add_h"}),
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
        Step(
            "Predict: one state against two",
            (
                "Back to the adding problem and the three models trained on it in lesson 7, on a sequence "
                "they have not been shown in a lesson yet. The LSTM keeps its numbers in a cell state that "
                "only the forget and input gates touch; the GRU has a single state that is also its output, "
                "and one gate fewer.",
                "Does that simpler design cost it memory? Guess whether the trained GRU's final answer "
                "depends on the first marked number as much as the trained LSTM's does, then check on the "
                "influence row.",
            ),
            "After the reveal, compare the GRU's and the LSTM's rows of the influence chart between the two "
            "marked steps: where do they differ most?",
            Live("gradients", {**TRAINED, "seed": 6}),
            predict="keeps:lstm,gru",
        ),
    ),
)

LESSONS = (BPTT, LSTM, LSTM_VS_RNN, GRU)
