"""Lessons 1-4: why sequences need memory, the unrolled RNN, activation functions, the four shapes."""

from __future__ import annotations

from app.lessons.model import Lesson, Live, Step

RNN_EQ = "h_t = tanh(W_hh h_{t-1} + W_xh x_t)"
OUT_EQ = "y_t = W_hy h_t"

MEMORY = Lesson(
    "memory",
    "Why sequences need memory",
    "A feed-forward network judges each input on its own; a recurrent network also carries a summary of "
    "everything it has read so far.",
    (
        Step(
            "Two identical inputs, two different states",
            (
                "The word “hello” contains the letter l twice, at t = 2 and t = 3. A feed-forward network "
                "maps an input straight to an output, so it would treat both copies of l identically: it has "
                "no idea what came before.",
                "A recurrent network also receives its own previous hidden state. Step from t = 2 to t = 3 "
                "and compare the coloured squares of h: the input is the same letter, the state is not, "
                "because h_2 already holds a trace of “hel”.",
            ),
            "Press → to move one step at a time and watch the highlighted column. Which squares change "
            "sign between the two l's?",
            Live("unrolled", {"cell": "rnn", "input": "hello", "t": 2, "hidden": 6}),
        ),
        Step(
            "The hidden state is the memory",
            (
                "Every row of this picture is one hidden unit, every column one timestep. Reading along a "
                "row shows how one unit's value drifts as new characters arrive; nothing but this vector "
                "connects the past to the present.",
                "That is the whole trick of a recurrent network: the hidden state is recomputed from the new "
                "input and the old state at every step, so it can keep information for as long as the "
                "weights let it survive.",
            ),
            "Choose a unit in the Unit menu to plot its value over time. Does it react to the "
            "spaces in the text?",
            Live("heatmaps", {"cell": "rnn", "input": "hello world", "t": 5, "hidden": 6}),
        ),
        Step(
            "One step is a feed-forward network",
            (
                "Shorten the sequence to a single character and the recurrent arrow has nothing to carry: "
                "the previous state is the zero vector, so W_hh h_0 vanishes and the cell computes "
                "tanh(W_xh x_1) like an ordinary hidden layer.",
                "Seen this way, a feed-forward network is the one-timestep special case, and recurrence is "
                "what lets the same weights read sequences of any length.",
            ),
            "Type a longer word into the simulator (open the full page) and watch the arrow between "
            "columns appear again.",
            Live("unrolled", {"cell": "rnn", "input": "l", "hidden": 6}),
            (RNN_EQ, "h_0 = 0  ⇒  h_1 = tanh(W_xh x_1)"),
        ),
    ),
)

UNROLLED = Lesson(
    "unrolled-rnn",
    "The unrolled RNN and its equations",
    "Draw the loop once per timestep and a recurrent network becomes a deep feed-forward network whose "
    "layers all share one set of weights.",
    (
        Step(
            "Unrolling the loop",
            (
                "The notes draw an RNN as one cell with an arrow bending back into itself. Unrolling copies "
                "that cell once per input: column t reads x_t from below, receives h_{t-1} from the "
                "left, and "
                "passes h_t both upwards to the output and rightwards to the next column.",
                "The copies are not separate networks: every column uses the same W_xh, W_hh and W_hy. "
                "Only the vectors flowing through them differ.",
            ),
            "Step through “cat” with the arrow keys. Which column's state depends on all three letters?",
            Live("unrolled", {"cell": "rnn", "input": "cat", "hidden": 6}),
            (RNN_EQ, OUT_EQ),
        ),
        Step(
            "One step with real numbers",
            (
                "Inside one column the cell does two matrix-vector products and adds them: W_xh x_t looks at "
                "the new character, W_hh h_{t-1} at the memory. The sum goes through tanh, which squeezes "
                "every unit into (−1, 1).",
                "Like PyTorch, Unrolled also adds two bias vectors inside the tanh, b_ih and b_hh; the "
                "notes leave them out to keep the formula short. The drawing shows the two sums for one unit, "
                "the outlined + adds them, and the narration beside it writes every term out.",
            ),
            "Change the timestep with ← and → and follow how h_{t-1} in the inputs is exactly the h_t "
            "of the step before.",
            Live("cell", {"cell": "rnn", "input": "cat", "t": 1, "hidden": 6, "s": 1, "hl": "add"}),
            ("h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)",),
        ),
        Step(
            "From state to output",
            (
                "The output layer reads only h_t: y_t = W_hy h_t (plus a bias). Here the text is the input "
                "and the network is asked to guess the next character, so y_t goes through a softmax and "
                "the top row shows the most likely character with its probability.",
                "These weights are random (drawn from the seed), so the guesses are poor; training would "
                "adjust W_xh, W_hh and W_hy together, through backpropagation through time.",
            ),
            "Change the seed on the full page: the equations stay the same, the numbers and guesses change.",
            Live("unrolled", {"cell": "rnn", "input": "cat", "t": 2, "hidden": 6}),
            (OUT_EQ, "p_t = softmax(W_hy h_t + b_y)"),
        ),
    ),
)

ACTIVATIONS = Lesson(
    "activations",
    "Activation functions and the state",
    "The nonlinearity decides which values the hidden state can take: sigmoid keeps it in (0, 1), tanh in "
    "(−1, 1), and ReLU lets it grow without a ceiling.",
    (
        Step(
            "tanh: centred on zero",
            (
                "tanh(z) = (e^z − e^−z) / (e^z + e^−z) maps any sum to a value between −1 and 1, and maps 0 "
                "to 0. The state can therefore push a unit either way, and a sum far from zero saturates "
                "near ±1.",
                "This is the default for a vanilla RNN: the heatmap uses blue and orange about equally.",
            ),
            "Look for units that sit close to ±1 for several steps: they are saturated, and a small "
            "change of their input barely moves them.",
            Live("heatmaps", {"cell": "rnn", "act": "tanh", "input": "hello world", "t": 10}),
            ("tanh(z) ∈ (−1, 1),  tanh(0) = 0",),
        ),
        Step(
            "sigmoid: a value between 0 and 1",
            (
                "σ(z) = 1 / (1 + e^−z) squashes every sum into (0, 1) and sends 0 to 0.5. Used as "
                "the state's "
                "activation it can never be negative, so every unit is orange: the state only says “how "
                "much”, never “which way”.",
                "That makes sigmoid a poor state activation but a natural gate: a number between 0 and 1 "
                "is a fraction to let through. The LSTM and GRU lessons use it exactly so.",
            ),
            "Switch the same input between tanh and sigmoid on the full page and compare the legend's range.",
            Live("heatmaps", {"cell": "rnn", "act": "sigmoid", "input": "hello world", "t": 10}),
            ("σ(z) = 1 / (1 + e^−z) ∈ (0, 1),  σ(0) = 0.5",),
        ),
        Step(
            "ReLU: no ceiling",
            (
                "ReLU(z) = max(0, z) passes a positive sum unchanged and replaces a negative one by 0. Units "
                "that are switched off sit at exactly zero; the others are not bounded, so when W_hh keeps "
                "amplifying the state it can grow from one step to the next.",
                "Here the input is a rising series of numbers. Read the values in the table: a ReLU state "
                "has no upper limit, which is one reason RNNs with ReLU need careful initialisation.",
            ),
            "Make the numbers larger (e.g. add 10, 20) on the full page and see how far the state goes.",
            Live(
                "unrolled",
                {
                    "cell": "rnn",
                    "act": "relu",
                    "mode": "numbers",
                    "input": "0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4",
                    "t": 7,
                    "hidden": 6,
                },
            ),
            ("ReLU(z) = max(0, z) ∈ [0, ∞)",),
        ),
    ),
)

SHAPES = Lesson(
    "shapes",
    "The four shapes: one-to-one to many-to-many",
    "The same recurrent cell serves different tasks depending on how many inputs it reads and at which "
    "steps its outputs count. These steps use small models trained on each task.",
    (
        Step(
            "One-to-one",
            (
                "One input, one output, no sequence: this trained RNN reads a single 2-D point and says "
                "whether its two coordinates have the same sign. With a single timestep the recurrent "
                "weights never act, so this is the classic feed-forward classifier.",
            ),
            "Pick other sample points above the picture: does the answer always match the signs of the two "
            "numbers?",
            Live(preset="points", sample=1),
        ),
        Step(
            "One-to-many: generation",
            (
                "Give the network a single note and let it continue: each note it plays is fed back as the "
                "next input. This LSTM learnt five short tunes, and the first note is enough to pick which "
                "one to play.",
                "Generating music or text works this way: one seed, then the network's own outputs drive "
                "it forward.",
            ),
            "Step along the timeline: is each input the output of the column before it?",
            Live(preset="melody", sample=0),
        ),
        Step(
            "Many-to-one: sentiment",
            (
                "A whole phrase goes in, one word per step, and only the last step's output is read: "
                "positive or negative. The earlier steps produce outputs too, but the task ignores them "
                "(shown as ·), so everything the classifier needs must be in the final hidden state.",
                "The phrase is the notes' own example, “When it rains, look for rainbows.”",
            ),
            "The frame starts at the last step, where the verdict is read. Then pick the sample “When it "
            "rains, look for trouble.” above the picture: one word differs, and so does the verdict.",
            Live(preset="sentiment", sample=0, t=7),
        ),
        Step(
            "Many-to-many: time series",
            (
                "Here an output counts at every step: a GRU reads a noisy wave one value at a time and "
                "forecasts the next value. Inputs and outputs are aligned, one prediction per reading, "
                "which is also how next-character models and taggers work.",
                "Translation is many-to-many too, but the lengths differ and the words do not line up; that "
                "needs the encoder-decoder of a later lesson.",
            ),
            "Compare each output with the next column's input: how close is the forecast once the "
            "network has seen a full period?",
            Live(preset="sine", sample=0, t=20),
        ),
    ),
)

LESSONS = (MEMORY, UNROLLED, ACTIVATIONS, SHAPES)
