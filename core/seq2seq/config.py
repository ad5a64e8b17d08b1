"""The configuration of an encoder-decoder (Seq2Seq) model.

The encoder is a recurrent network of any cell (stacked ``num_layers`` deep, optionally bidirectional) reading
the embedded source tokens. The decoder is the same cell kind, unidirectional and as deep, reading the
embedded token it was fed (START first, then the previous output or, under teacher forcing, the previous
target token).

Sizes: E = embedding_size (source and target embeddings alike), H = encoder hidden size, D = 1 or 2
directions, K = D*H the width of one encoder output (the attention memory), H_dec = decoder hidden size (K by
default, so that the encoder's final state can be handed over unchanged). A bridge is learned exactly
when K != H_dec.

Target vocabulary ids ``pad_id``, ``start_id`` and ``end_id`` are reserved (0, 1, 2 by default); the source
vocabulary reserves ``pad_id`` only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.activations import NONLINEARITIES
from core.config import CELLS, DTYPES, ConfigError, NetworkConfig

ATTENTIONS: tuple[str, ...] = ("none", "additive", "dot", "general")


@dataclass(frozen=True)
class Seq2SeqConfig:
    cell: str = "gru"
    src_vocab_size: int = 8
    tgt_vocab_size: int = 8
    embedding_size: int = 16
    hidden_size: int = 32
    decoder_hidden_size: int | None = None  # None: D * hidden_size
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"
    attention: str = "none"
    attention_size: int | None = None  # additive attention only; None: the decoder hidden size
    pad_id: int = 0
    start_id: int = 1
    end_id: int = 2
    max_length: int = 20
    dtype: str = "float64"

    def __post_init__(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise ConfigError(msg)

        def positive(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value >= 1

        need(self.cell in CELLS, f"cell must be one of {CELLS}, got {self.cell!r}")
        need(self.nonlinearity in NONLINEARITIES,
             f"nonlinearity must be one of {NONLINEARITIES}, got {self.nonlinearity!r}")
        need(self.cell == "rnn" or self.nonlinearity == "tanh", "nonlinearity applies to the RNN cell only")
        for name in ("src_vocab_size", "tgt_vocab_size", "embedding_size", "hidden_size", "num_layers",
                     "max_length"):
            value = getattr(self, name)
            need(positive(value), f"{name} must be a positive integer, got {value!r}")
        for name in ("decoder_hidden_size", "attention_size"):
            value = getattr(self, name)
            need(value is None or positive(value),
                 f"{name} must be a positive integer or None, got {value!r}")
        need(self.attention in ATTENTIONS, f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        need(self.attention == "additive" or self.attention_size is None,
             "attention_size applies to additive attention only")
        need(self.attention != "dot" or self.memory_size == self.dec_hidden,
             f"dot attention needs decoder_hidden_size == encoder output width {self.memory_size}"
             f" (got {self.dec_hidden}); use 'general' to learn a map between them")
        need(self.dtype in DTYPES, f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        special = (self.pad_id, self.start_id, self.end_id)
        need(len(set(special)) == 3, "pad_id, start_id and end_id must differ")
        need(all(isinstance(i, int) and 0 <= i < self.tgt_vocab_size for i in special),
             f"pad_id, start_id and end_id must be target ids in [0, {self.tgt_vocab_size - 1}]")
        need(0 <= self.pad_id < self.src_vocab_size, "pad_id must be a source id too")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def memory_size(self) -> int:
        """K: width of one encoder output h_j (forward and reverse states concatenated)."""
        return self.hidden_size * self.num_directions

    @property
    def dec_hidden(self) -> int:
        return self.decoder_hidden_size if self.decoder_hidden_size is not None else self.memory_size

    @property
    def has_bridge(self) -> bool:
        return self.memory_size != self.dec_hidden

    @property
    def has_cell_state(self) -> bool:
        return self.cell == "lstm"

    @property
    def attention_width(self) -> int:
        return self.attention_size if self.attention_size is not None else self.dec_hidden

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def encoder_config(self) -> NetworkConfig:
        """The encoder as a core.network model: embedded source tokens in, no output layer."""
        return NetworkConfig(cell=self.cell, input_size=self.embedding_size, hidden_size=self.hidden_size,
                             num_layers=self.num_layers, bidirectional=self.bidirectional,
                             nonlinearity=self.nonlinearity, input_encoding="embedding",
                             vocab_size=self.src_vocab_size, dtype=self.dtype)

    def decoder_config(self) -> NetworkConfig:
        """The decoder's recurrent part (its output layer and attention live in core.seq2seq)."""
        return NetworkConfig(cell=self.cell, input_size=self.embedding_size, hidden_size=self.dec_hidden,
                             num_layers=self.num_layers, nonlinearity=self.nonlinearity,
                             input_encoding="embedding", vocab_size=self.tgt_vocab_size, dtype=self.dtype)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Seq2SeqConfig:
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown Seq2Seq configuration fields: {', '.join(unknown)}")
        return cls(**d)
