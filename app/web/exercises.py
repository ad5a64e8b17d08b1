"""Predict-then-reveal exercises, generated from real traces of trained models.

A set of exercises is a pure function of its seed: the seed picks a sentence, and for each question a step, a
unit and a kind. Every answer is read off a trace (nothing is typed in by hand), so the same seed always asks
the same questions with the same answers, and the server can score a student's answers itself: a score is never
taken from the browser. Five questions are about one number of one step of the trained English character LSTM
reading the sentence:

    gate    will the gate g_t[j] (forget f, input i or output o) be above 0.5?   g_t[j] = σ(W_g [h_{t-1}, x_t] + b_g)
    memory  will the cell state of unit j grow, c_t[j] > c_{t-1}[j]?            c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    next    which character does the model guess next, after reading x_0..x_t?  argmax softmax(W_y h_t + b_y)

and two compare or decode with other trained models, so that a course's gradebook counts them too:

    keeps   which of two cells trained on the adding problem keeps its first marked number longer,
            the larger ||dy_T / dx_t*|| (app.web.keeps_question)
    write   which word does the trained encoder-decoder write next, argmax_w p_k(w) (app.web.decoder_question)

Each question knows where its answer shows: a view URL at that step, sub-step and part of the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from app.web import seq2seq
from app.web.cell_diagram import fmt
from app.web.decoder_question import write_question
from app.web.keeps_question import keeps_question
from app.web.question import Question
from app.web.seq2seq_state import Seq2SeqState
from app.web.simulation import Simulation, show_char, simulate
from app.web.state import ViewState

PRESET = "english"
MAX_SEED = 2**32 - 1
SENTENCES = (
    "the cat sat on the mat",
    "hello world, this is a test",
    "a network reads one letter at a time",
    "return the number of items in a list",
    "the quick brown fox jumps over the dog",
    "memory flows along the top line",
)
ON_THE_SENTENCE = ("next", "gate", "memory", "gate", "next")  # asked of the English LSTM reading the sentence
COMPARING = ("keeps", "write")  # asked of other trained models
KINDS = ON_THE_SENTENCE + COMPARING
COUNT = len(KINDS)
EVIDENCE = "adding"  # the evidence set of the keeps question (app.web.evidence)
PAIRS = (("rnn", "lstm"), ("rnn", "gru"), ("lstm", "gru"))  # the cells it may compare
SEQUENCES = 1000  # it picks one of the task's first SEQUENCES sequences
TRANSLATOR = "translation"  # the encoder-decoder preset of the write question
GATES = {  # gate: (its name, the cell view's sub-step that computes it)
    "f": ("forget gate", 1),
    "i": ("input gate", 2),
    "o": ("output gate", 5),
}
CLEAR_MARGIN = 0.12  # a gate question only asks about values at least this far from 0.5: no coin flips
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class ExerciseSet:
    seed: int
    sentence: str
    questions: tuple[Question, ...]


def read_so_far(sim: Simulation, t: int) -> str:
    """The input up to and including step t, as the student typed it."""
    return sim.state.input[: t + 1]  # one character per step


def cell_view(sim: Simulation, t: int, unit: int, s: int, hl: str) -> str:
    state = ViewState(preset=sim.state.preset, input=sim.state.input, t=t, unit=unit, s=s, hl=hl)
    return "/cell?" + state.query()


def gate_question(n: int, sim: Simulation, rng: np.random.Generator) -> Question:
    gate = str(rng.choice(list(GATES)))
    values = sim.trace.layers[0][0].quantities()[gate][:, 0, :]
    clear = np.argwhere(np.abs(values[1:] - 0.5) >= CLEAR_MARGIN) + (1, 0)  # from t = 1: h_{t-1} is not zero
    t, j = (int(v) for v in clear[rng.integers(len(clear))])
    return gate_question_at(n, sim, gate, t, j)


def clearest_gate_unit(sim: Simulation, gate: str, t: int) -> int:
    """The unit whose gate value at step t is farthest from 0.5: the question least like a coin flip."""
    values = sim.trace.layers[0][0].quantities()[gate][t, 0, :]
    return int(np.argmax(np.abs(values - 0.5)))


def gate_question_at(n: int, sim: Simulation, gate: str, t: int, j: int) -> Question:
    """Will gate[j] be above 0.5 at step t?"""
    q = sim.trace.layers[0][0].quantities()
    name, s = GATES[gate]
    v, pre = float(q[gate][t, 0, j]), float(q[f"{gate}_pre"][t, 0, j])
    above = v > 0.5
    meaning = {
        "f": f"the cell keeps {v:.0%} of its old memory c_{{t-1}}[{j}]",
        "i": f"{v:.0%} of the candidate g_t[{j}] is written into the memory",
        "o": f"{v:.0%} of tanh(c_t[{j}]) is shown as h_t[{j}]",
    }[gate]
    return Question(
        n,
        "gate",
        f"At step {t} the model reads “{show_char(sim.labels[t])}” (after “{read_so_far(sim, t - 1)}”). "
        f"Will the {name} of unit {j}, {gate}_t[{j}], be above 0.5?",
        YES_NO,
        0 if above else 1,
        f"{gate}_t[{j}] = σ({fmt(pre)}) = {fmt(v)}: its weighted sum is {'positive' if pre > 0 else 'negative'}, "
        f"so σ is {'above' if above else 'below'} 0.5, and {meaning}.",
        cell_view(sim, t, j, s, gate),
        f"the {name} of unit {j} at step {t}",
    )


def memory_question(n: int, sim: Simulation, rng: np.random.Generator) -> Question:
    q = sim.trace.layers[0][0].quantities()
    c, c_prev = q["c"][:, 0, :], q["c_prev"][:, 0, :]
    clear = np.argwhere(np.abs(c[1:] - c_prev[1:]) >= 0.1) + (1, 0)
    t, j = (int(v) for v in clear[rng.integers(len(clear))])
    return memory_question_at(n, sim, t, j)


def clearest_memory_unit(sim: Simulation, t: int) -> int:
    """The unit whose cell state changes most at step t."""
    q = sim.trace.layers[0][0].quantities()
    return int(np.argmax(np.abs(q["c"][t, 0, :] - q["c_prev"][t, 0, :])))


def memory_question_at(n: int, sim: Simulation, t: int, j: int) -> Question:
    """Will unit j's cell state grow at step t?"""
    q = sim.trace.layers[0][0].quantities()
    c, c_prev = q["c"][:, 0, :], q["c_prev"][:, 0, :]
    f, i, g = (float(q[k][t, 0, j]) for k in ("f", "i", "g"))
    new, old = float(c[t, j]), float(c_prev[t, j])
    grows = new > old
    return Question(
        n,
        "memory",
        f"At step {t} the model reads “{show_char(sim.labels[t])}”. Unit {j}'s memory holds c_{{t-1}}[{j}] = "
        f"{fmt(old)}. Will it grow, c_t[{j}] > c_{{t-1}}[{j}]?",
        YES_NO,
        0 if grows else 1,
        f"c_t[{j}] = f × c_{{t-1}} + i × g = {fmt(f)} × {fmt(old)} + {fmt(i)} × {fmt(g)} = {fmt(new)}, "
        f"{'more' if grows else 'less'} than {fmt(old)}: the forget gate kept {f:.0%} of the old memory and "
        f"the input gate let in {i:.0%} of a candidate of {fmt(g)}.",
        cell_view(sim, t, j, 4, "add_c"),
        f"the cell update of unit {j} at step {t}",
    )


def next_question(n: int, sim: Simulation, rng: np.random.Generator) -> Question:
    return next_question_at(n, sim, int(rng.integers(1, sim.steps - 1)), rng)


def next_question_at(n: int, sim: Simulation, t: int, rng: np.random.Generator) -> Question:
    """Which character does the model guess after step t? (``rng`` picks the unlikely fourth choice and the
    order of the choices.)"""
    best = sim.top_outputs(t, 3)
    shown = [label for label, _ in best]
    # A fourth choice from the half of the alphabet the model finds least likely here, so the choices are not
    # just its own top three.
    labels = sim.output_labels or ()
    assert sim.trace.probs is not None  # a character model: softmax outputs
    probs = sim.trace.probs[t, 0]
    unlikely = [labels[k] for k in np.argsort(probs)[: len(labels) // 2] if labels[k].isalpha()]
    choices = [*shown, str(rng.choice(unlikely))]
    order = rng.permutation(len(choices))
    labelled = tuple(show_char(choices[k]) for k in order)
    odds = ", ".join(f"“{show_char(label)}” {p:.0%}" for label, p in best)
    return Question(
        n,
        "next",
        f"The model has read “{read_so_far(sim, t)}”. Which character does it guess comes next?",
        labelled,
        int(np.flatnonzero(order == 0)[0]),
        f"Its top guesses after “{read_so_far(sim, t)}” are {odds}: the output layer turns h_{t} into a "
        f"probability for every character, and “{show_char(shown[0])}” gets the most.",
        "/?" + ViewState(preset=sim.state.preset, input=sim.state.input, t=t).query(),
        f"the guesses at step {t}",
    )


BUILDERS = {"gate": gate_question, "memory": memory_question, "next": next_question}


def keeps(n: int, rng: np.random.Generator) -> Question:
    """Which of a pair of trained cells keeps the marker of one adding-problem sequence longer?"""
    cells = PAIRS[int(rng.integers(len(PAIRS)))]
    q = keeps_question(EVIDENCE, int(rng.integers(SEQUENCES)), cells)
    task = (
        "An RNN, an LSTM and a GRU were trained on the adding problem: each reads a sequence of numbers, two of "
        "them marked, and must answer the sum of the marked two at the last step. "
    )
    return replace(q, number=n, prompt=task + q.prompt)


def write(n: int, rng: np.random.Generator) -> Question:
    """Which word does the trained encoder-decoder write next, at one of its steps before the last (the last
    writes the end mark), on one of its task's sample sentences?"""
    sources = seq2seq.examples(seq2seq.preset_meta(TRANSLATOR))
    state = Seq2SeqState(preset=TRANSLATOR, input=sources[int(rng.integers(len(sources)))])
    run = seq2seq.build(state)
    k = int(rng.integers(max(1, len(run.decoder) - 1)))
    q = write_question(replace(state, t=len(run.encoder) + k))
    return replace(
        q, number=n, prompt=f"A trained encoder-decoder ({run.title}): {q.prompt[0].lower()}{q.prompt[1:]}"
    )


@lru_cache(maxsize=64)
def build(seed: int) -> ExerciseSet:
    """The exercise set of ``seed``: always the same sentence, questions and answers."""
    rng = np.random.default_rng(seed)
    sentence = SENTENCES[int(rng.integers(len(SENTENCES)))]
    sim = simulate(ViewState(preset=PRESET, input=sentence))
    on_sentence = [BUILDERS[kind](n, sim, rng) for n, kind in enumerate(ON_THE_SENTENCE, 1)]
    first = len(on_sentence) + 1
    comparing = [keeps(first, rng), write(first + 1, rng)]
    return ExerciseSet(seed, sentence, (*on_sentence, *comparing))


def score(exercises: ExerciseSet, answers: dict[int, int]) -> int:
    """How many of the answered questions are right (answers: question number -> choice index)."""
    return sum(1 for q in exercises.questions if q.check(answers.get(q.number)))
