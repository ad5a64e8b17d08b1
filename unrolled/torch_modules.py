"""PyTorch modules as Unrolled networks: an nn.RNN / nn.LSTM / nn.GRU, optionally with an nn.Embedding before it
and an nn.Linear head after it, computing

    x_t = E[token_t] (embedding) or x_t,   h_t = cell(x_t, h_{t-1}),   y_t = W_hy h_t^top + b_y (head).

The modules' tensors are renamed to Unrolled's parameter names (the recurrent module's own state_dict names,
``embedding.weight``, ``output.weight`` and ``output.bias``) and read by the same code as an uploaded file
(core.weights_io), so shapes, bias-free modules and LSTM projections are checked in one place. What a
state_dict does not hold is read off the module itself: its cell (``mode``), an RNN's ``nonlinearity``, and
``batch_first``. Only called once the caller has passed a torch object, so torch is already imported.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from unrolled.arrays import as_array

#: nn.RNNBase.mode -> Unrolled's cell name (nn.RNN's mode is 'RNN_TANH' or 'RNN_RELU').
CELL_OF_MODE = {"RNN_TANH": "rnn", "RNN_RELU": "rnn", "LSTM": "lstm", "GRU": "gru"}


def split_modules(
    modules: Sequence[Any], head: Any = None, embedding: Any = None
) -> tuple[Any, Any, Any]:
    """(embedding, recurrent module, head) from a sequence of modules, each kind at most once, in the order
    embedding -> recurrent -> head, plus the ``head=`` and ``embedding=`` arguments."""
    import torch.nn as nn

    recurrent = None
    for module in modules:
        if isinstance(module, nn.RNNBase):
            if recurrent is not None:
                raise TypeError("give one recurrent module (nn.RNN, nn.LSTM or nn.GRU), not several")
            recurrent = module
        elif isinstance(module, nn.Embedding):
            if embedding is not None or recurrent is not None:
                raise TypeError("the nn.Embedding comes first, once: (embedding, rnn) or (embedding, rnn, head)")
            embedding = module
        elif isinstance(module, nn.Linear):
            if head is not None or recurrent is None:
                raise TypeError("the nn.Linear head comes after the recurrent module, once: (rnn, head)")
            head = module
        else:
            raise TypeError(f"cannot trace a {type(module).__name__}: give an nn.RNN, nn.LSTM or nn.GRU, "
                            "optionally with an nn.Embedding before it and an nn.Linear head after it"
                            + _parts_hint(module))
    if recurrent is None:
        raise TypeError("no recurrent module among the modules given: include an nn.RNN, nn.LSTM or nn.GRU")
    for name, module, kind in (("head", head, nn.Linear), ("embedding", embedding, nn.Embedding)):
        if module is not None and not isinstance(module, kind):
            raise TypeError(f"{name}= must be an nn.{kind.__name__}, got {type(module).__name__}")
    if embedding is not None and embedding.max_norm is not None:
        raise ValueError("an nn.Embedding built with max_norm rescales its rows as it reads them, which a "
                         "state_dict cannot show: build it without max_norm")
    if recurrent.training and recurrent.dropout and recurrent.num_layers > 1:
        warnings.warn(f"the {type(recurrent).__name__} is in training mode with dropout={recurrent.dropout}: "
                      "Unrolled traces it without dropout, as model.eval() runs it", stacklevel=4)
    return embedding, recurrent, head


def _parts_hint(module: Any) -> str:
    """For a model of the caller's own that holds a recurrent module: how to pass its parts. Its forward() is
    code Unrolled cannot read, so the parts are named by the caller rather than guessed."""
    import torch.nn as nn

    if not any(isinstance(child, nn.RNNBase) for child in module.children()):
        return ""
    kinds = (nn.Embedding, nn.RNNBase, nn.Linear)
    parts = [name for name, child in module.named_children() if isinstance(child, kinds)]
    shown = ", ".join(f"model.{name}" for name in parts)
    return f"; for a model of your own, pass its parts in the order its forward() uses them, e.g. ({shown})"


def module_tensors(recurrent: Any, head: Any, embedding: Any) -> dict[str, np.ndarray]:
    """Every tensor of the modules under the names core.weights_io reads (a state_dict of their own)."""
    tensors = {name: as_array(value, name) for name, value in recurrent.state_dict().items()}
    if head is not None:
        tensors.update({f"output.{name}": as_array(value, name) for name, value in head.state_dict().items()})
    if embedding is not None:
        tensors["embedding.weight"] = as_array(embedding.weight, "embedding.weight")
    return tensors


def module_fields(recurrent: Any, nonlinearity: str | None) -> dict[str, Any]:
    """Config fields the recurrent module knows but its tensors do not: the cell and an RNN's nonlinearity.
    A ``nonlinearity`` given beside a module must agree with the module's own."""
    if getattr(recurrent, "proj_size", 0):
        raise ValueError("an nn.LSTM built with proj_size has a projection Unrolled's LSTM does not have: "
                         "build it without proj_size")
    cell = CELL_OF_MODE[recurrent.mode]
    fields: dict[str, Any] = {"cell": cell}
    if cell == "rnn":
        own = recurrent.nonlinearity
        if nonlinearity is not None and nonlinearity != own:
            raise ValueError(f"nonlinearity={nonlinearity!r} disagrees with the module's own {own!r}; leave it out")
        fields["nonlinearity"] = own
    elif nonlinearity is not None:
        raise ValueError(f"nonlinearity= applies to a vanilla nn.RNN only, not to an nn.{recurrent.mode}")
    return fields


def describe(recurrent: Any, head: Any, embedding: Any) -> dict[str, Any]:
    """What the weights came from, for the trace's ``weights`` section."""
    parts = [type(m).__name__ for m in (embedding, recurrent, head) if m is not None]
    return {"source": "python", "modules": parts}
