"""Which cell keeps the marker longer? A predict-then-reveal question on an evidence set's trained cells
(core.evidence: RNN, LSTM and GRU taught one long-dependency task by one recipe), read off the influence row
of the gradients view (app.web.evidence). For the task's sequence number ``seed`` and t* its first marked step,

    v_m = ||dy_T / dx_t*||_F        for each asked model m (exact, by BPTT: core.influence)

is how much model m's final answer moves when the first marked input moves: the model with the largest v_m is
the one that kept it until the end. When the two largest are within a factor SAME of each other neither kept
it clearly longer, and that is the answer. The why adds each model's reach, the number of final steps whose
influence stays at least REACH times the model's largest,

    reach_m = max { k : v_m,t >= REACH * max_s v_m,s  for every t >= T - k },

which is how far back the answer still looks. Nothing is typed in: the question is a pure function of
(set, seed, cells), so the same seed always asks the same question with the same answer.
"""

from __future__ import annotations

import math

from app.web import evidence
from app.web.question import Question
from app.web.state import ViewState
from core.evidence import CELL_NAMES

SAME = 10.0
REACH = 1e-3


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(v: float) -> str:
    """A norm as a person reads it: 1.6, 0.042, or 5.3 × 10⁻¹⁷ for the tiny and huge ones."""
    if v == 0 or 0.01 <= abs(v) < 1000:
        return f"{v:.2g}"
    exp = math.floor(math.log10(abs(v)))
    return f"{v / 10**exp:.2g} × 10{str(exp).translate(SUPERSCRIPT)}"


def reach(values: list[float]) -> int:
    """How many final steps keep at least REACH of the model's largest influence, without a gap."""
    floor = REACH * max(values)
    k = 0
    while k < len(values) and values[-1 - k] >= floor:
        k += 1
    return k


def keeps_question(name: str, seed: int, cells: tuple[str, ...]) -> Question:
    """The question on set ``name``'s sequence ``seed`` between the trained ``cells`` (2 or 3 of them)."""
    found = evidence.build(name, seed)
    members = {m.cell: m for m in found.members}
    asked = [members[c] for c in cells]
    t = found.marked[0]
    last = len(asked[0].influence) - 1
    values = [m.influence[t] for m in asked]
    ranked = sorted(range(len(asked)), key=lambda k: values[k], reverse=True)
    best, second = ranked[0], ranked[1]
    clear = values[best] >= SAME * values[second]
    names = [CELL_NAMES[c] for c in cells]
    same = f"{'both' if len(cells) == 2 else 'the top two'} about the same (within {SAME:g}×)"
    listed = ", ".join(f"{sci(v)} for the {n}" for n, v in zip(names, values, strict=True))
    if clear:
        verdict = (
            f"the {names[best]}'s answer moves {sci(values[best] / values[second])} times more than the "
            f"{names[second]}'s when that number moves, so the {names[best]} kept it."
        )
    else:
        verdict = (
            f"the {names[best]} and the {names[second]} are within {SAME:g}× of each other, so neither kept "
            "it clearly longer than the other."
        )
    reaches = ", ".join(f"{reach(m.influence)} in the {n}" for n, m in zip(names, asked, strict=True))
    return Question(
        1,
        "keeps",
        f"In sequence {seed} the first marked number arrives at step {t}, and the answer is read at step {last}. "
        f"Which trained cell keeps it longer: whose final answer moves more when x_{t} moves, "
        f"‖∂y_T/∂x_{t}‖?",
        (*(f"the {n}" for n in names), same),
        best if clear else len(cells),
        f"At t = {t}, ‖∂y_T/∂x_{t}‖ is {listed}: {verdict} Counting back from the last step, the influence "
        f"stays above 1/{1 / REACH:g} of its largest for the last {reaches} (of {last + 1} steps).",
        "/gradients?" + ViewState(evidence=name, seed=seed, t=t).query(),
        f"the influence row at the first marked step, t = {t}",
    )
