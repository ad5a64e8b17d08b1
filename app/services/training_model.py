"""Which model a training run trains: the task's default, with the cell and sizes a person chose.

    model = {}                                        -> task.default_config()
    model = {cell: 'rnn', hidden_size: 32}            -> task.config_with(cell='rnn', hidden_size=32)

Networks take ``cell``, ``hidden_size`` and ``num_layers``; encoder-decoder tasks take ``cell`` and
``hidden_size`` (the encoder's; the decoder follows it). Every value is checked against the server's limits
before a thread starts, and each refusal is a 422 whose ``loc`` names the field under ("body", "model").
"""

from __future__ import annotations

from typing import Any

from app.errors import UnprocessableError
from app.services.limits import Limits, check_config
from core.config import NetworkConfig

NETWORK_FIELDS = ("cell", "hidden_size", "num_layers")
SEQ2SEQ_FIELDS = ("cell", "hidden_size")
LOC = ("body", "model")


def model_config(task: Any, model: dict[str, Any], limits: Limits) -> Any:
    """The config to train: the task's default with ``model``'s fields changed, within ``limits``."""
    changes = {name: value for name, value in model.items() if value is not None}
    default = task.default_config()
    network = isinstance(default, NetworkConfig)
    allowed = NETWORK_FIELDS if network else SEQ2SEQ_FIELDS
    for name in changes:
        if name not in allowed:
            kind = "a recurrent network" if network else "an encoder-decoder"
            raise UnprocessableError(
                f"{name} cannot be changed for task {task.name!r} ({kind}); choose from {', '.join(allowed)}",
                (*LOC, name),
            )
    hidden = changes.get("hidden_size")
    if hidden is not None and hidden > limits.max_hidden_size:
        raise UnprocessableError(
            f"hidden_size is {hidden}, over the limit of {limits.max_hidden_size} "
            "(server setting UNROLLED_MAX_HIDDEN_SIZE)",
            (*LOC, "hidden_size"),
        )
    try:
        config = task.config_with(**changes) if changes else default
    except ValueError as exc:  # the config's own check, e.g. an unknown cell
        raise UnprocessableError(str(exc), LOC) from None
    if network:
        check_config(limits, config, LOC)
    return config
