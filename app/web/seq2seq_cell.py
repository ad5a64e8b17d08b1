"""The cell view of one Seq2Seq step: the simulator's canonical cell (app.web.cellview, the same drawing,
sub-steps and vectors the ``/`` page opens with panel=cell), inside the encoder or the decoder.

The Seq2Seq timeline runs over the encoder's S steps, then the decoder's: timeline step t < S is encoder step
t (its cell reads the embedding of source word t + 1), and t >= S is decoder step k = t - S (its cell reads the
embedding of the token it was fed: START, then its previous output, or the reference's previous word under
teacher forcing). Each side is an ordinary recurrent network with its own weights (the encoder_* and decoder_*
tensors of the model, under core.network's names), so the view is built from a
:class:`~app.web.simulation.Simulation` of that side, at that side's own step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from app.web import cellview
from app.web.cellview import CellView
from app.web.seq2seq import Seq2SeqView
from app.web.simulation import Simulation
from app.web.state import ViewState
from core.seq2seq.params import side


@dataclass(frozen=True)
class Where:
    part: str  # 'encoder' or 'decoder'
    k: int  # the step within that part, from 0
    steps: int  # how many steps that part has
    token: str  # what the cell reads at that step

    @property
    def words(self) -> str:
        return f"{self.part} (its step {self.k + 1} of {self.steps})"


def where(view: Seq2SeqView, t: int) -> Where:
    S = len(view.encoder)
    if t < S:
        return Where("encoder", t, S, view.encoder[t].token)
    k = min(t - S, len(view.decoder) - 1)
    return Where("decoder", k, len(view.decoder), view.decoder[k].fed)


def onward(view: Seq2SeqView, at: Where) -> str:
    """Where this step's top state goes next, in words (the cell view's last sub-step says it)."""
    if at.part == "encoder":
        last = at.k == at.steps - 1
        memory = " and into the memory attention reads" if view.attention != "none" else ""
        handed = " As the last encoder state, it is also the context vector: the decoder's first state." \
            if last else ""
        return f"h_t goes on to the next encoder step{memory}.{handed}"
    through = "through attention over the encoder's states " if view.attention != "none" else ""
    return (f"s_t goes on to the next decoder step, and {through}to the output layer, which wrote "
            f"“{view.decoder[at.k].output}” here.")


def simulation(view: Seq2SeqView) -> tuple[Simulation, Where]:
    """The encoder or decoder of ``view``'s model as a Simulation at the view's step, with the unit and
    sub-step from the view's state."""
    result, state = view.result, view.state
    at = where(view, state.t)
    config = result.config.encoder_config() if at.part == "encoder" else result.config.decoder_config()
    trace = result.trace.encoder if at.part == "encoder" else result.trace.decoder
    labels = tuple(e.token for e in view.encoder) if at.part == "encoder" else tuple(d.fed for d in view.decoder)
    unit = state.unit if state.unit is not None and state.unit < config.hidden_size else None
    shown = ViewState(t=at.k, s=state.s, unit=unit, preset="")
    sim = Simulation(
        shown,
        config,
        side(result.params, at.part),
        trace,
        labels,
        None,
        np.asarray(trace.tokens[: len(labels), 0]) if trace.tokens is not None else np.zeros(0, np.int64),
        onward=onward(view, at),
    )
    return sim, at


def build(view: Seq2SeqView) -> CellView:
    """The cell view of the view's current step; its weight images come from /fragment/seq2seq/weights.png."""
    sim, at = simulation(view)
    query = view.state.query(s=None, panel="")
    links = cellview.Links("/fragment/seq2seq/weights.png", query)
    cv = cellview.build(sim, links)
    layered = ", layer 1" if sim.config.num_layers > 1 else ""
    return replace(cv, where=f"in the {at.words}{layered}")
