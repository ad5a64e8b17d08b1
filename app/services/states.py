"""Initial states from a request, checked in the caller's terms.

A request's ``h0`` (and an LSTM's ``c0``) is a list of rows, one per layer and direction in PyTorch's order
(layer 0 forward, layer 0 reverse, layer 1 forward, ...), each of hidden_size numbers: a (layers * directions)
x H matrix. core takes it as (layers * directions, batch, H); the batch dimension is ours, so no message here
mentions it.
"""

from __future__ import annotations

import numpy as np

from app.errors import UnprocessableError
from core.config import NetworkConfig


def _row_names(config: NetworkConfig) -> str:
    directions = ("forward", "reverse")[: config.num_directions]
    names = [f"layer {k} {d}" for k in range(config.num_layers) for d in directions]
    return ", ".join(names)


def initial_state(rows: list[list[float]], name: str, config: NetworkConfig) -> np.ndarray:
    """``rows`` as a (layers * directions, H) array, or a 422 at ``name`` (or the row at fault)."""
    count, width = config.num_layers * config.num_directions, config.hidden_size
    expected = (
        f"{name} holds one row per layer and direction ({count}: {_row_names(config)}) of hidden_size = "
        f"{width} numbers"
    )
    if len(rows) != count:
        raise UnprocessableError(
            f"{expected}; got {len(rows)} row{'s' if len(rows) != 1 else ''}", ("body", name)
        )
    for k, row in enumerate(rows):
        if len(row) != width:
            raise UnprocessableError(f"{expected}; row {k} has {len(row)}", ("body", name, k))
    with np.errstate(over="ignore"):
        values = np.array(rows, dtype=config.np_dtype)
    if not np.isfinite(values).all():
        raise UnprocessableError(f"{name} holds numbers too large for {config.dtype}", ("body", name))
    return values


def initial_states(
    h0: list[list[float]] | None, c0: list[list[float]] | None, config: NetworkConfig
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The request's h0 and c0 for a network of ``config`` (None: zeros)."""
    if c0 is not None and not config.has_cell_state:
        raise UnprocessableError(
            f"c0 is the initial cell state of an LSTM; this model is a {config.cell.upper()}, which has none: "
            "leave c0 out",
            ("body", "c0"),
        )
    return (
        None if h0 is None else initial_state(h0, "h0", config),
        None if c0 is None else initial_state(c0, "c0", config),
    )
