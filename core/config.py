"""The configuration of a recurrent network: what cell, how big, how inputs come in and outputs go out.

A network reads x_1..x_T (float vectors, or tokens turned into vectors by one-hot or a learned embedding),
runs ``num_layers`` stacked recurrent layers (each optionally bidirectional), and maps the top layer's hidden
state to an output y_t = W_hy h_t + b_y (identity or softmax). Names and shapes follow PyTorch so a state_dict
loads unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from core.activations import NONLINEARITIES

CellName = Literal["rnn", "lstm", "gru"]
CELLS: tuple[str, ...] = ("rnn", "lstm", "gru")
INPUT_ENCODINGS: tuple[str, ...] = ("vector", "onehot", "embedding")
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("identity", "softmax")
DTYPES: tuple[str, ...] = ("float64", "float32")

#: How many H-sized chunks the cell's stacked weight matrices hold, in PyTorch's order.
GATES: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}


class ConfigError(ValueError):
    """A configuration that cannot describe a network; the message names the field."""


@dataclass(frozen=True)
class NetworkConfig:
    cell: str = "lstm"
    input_size: int = 1
    hidden_size: int = 8
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"
    output_size: int | None = None
    output_activation: str = "identity"
    input_encoding: str = "vector"
    vocab_size: int | None = None
    dtype: str = "float64"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise ConfigError(msg)

        need(self.cell in CELLS, f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("input_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            need(
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                f"{name} must be a positive integer, got {value!r}",
            )
        need(
            self.nonlinearity in NONLINEARITIES,
            f"nonlinearity must be one of {NONLINEARITIES}, got {self.nonlinearity!r}",
        )
        need(
            self.cell == "rnn" or self.nonlinearity == "tanh",
            "nonlinearity applies to the vanilla RNN only; LSTM and GRU use fixed sigmoid/tanh gates",
        )
        need(
            self.output_activation in OUTPUT_ACTIVATIONS,
            f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {self.output_activation!r}",
        )
        need(
            self.output_size is None or (isinstance(self.output_size, int) and self.output_size >= 1),
            f"output_size must be a positive integer or None, got {self.output_size!r}",
        )
        need(
            self.input_encoding in INPUT_ENCODINGS,
            f"input_encoding must be one of {INPUT_ENCODINGS}, got {self.input_encoding!r}",
        )
        need(self.dtype in DTYPES, f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.input_encoding == "vector":
            need(
                self.vocab_size is None, "vocab_size is only used with input_encoding 'onehot' or 'embedding'"
            )
        else:
            need(
                isinstance(self.vocab_size, int) and self.vocab_size >= 1,
                f"input_encoding {self.input_encoding!r} needs a positive vocab_size",
            )
        if self.input_encoding == "onehot":
            need(
                self.input_size == self.vocab_size,
                f"one-hot inputs need input_size == vocab_size ({self.input_size} != {self.vocab_size})",
            )

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.cell]

    @property
    def has_cell_state(self) -> bool:
        return self.cell == "lstm"

    @property
    def top_size(self) -> int:
        """Width of the top layer's output: H, or 2H when bidirectional (forward then reverse)."""
        return self.hidden_size * self.num_directions

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.top_size

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetworkConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "extra"}
        unknown = sorted(set(d) - set(known) - {"extra"})
        if unknown:
            raise ConfigError(f"unknown configuration fields: {', '.join(unknown)}")
        return cls(**known)
