"""The Task interface: a small learning problem generated in code, with a default model and a metric.

A task knows how to

* draw a minibatch from its own distribution: ``sample_batch(rng, batch_size) -> Batch`` (every draw comes
  from the numpy Generator it is given, so a seed fixes the data);
* propose a small default model: ``default_config() -> NetworkConfig`` (or any config object the adapter
  accepts, e.g. a Seq2Seq configuration) and ``init_params(config, seed)``;
* build a model *adapter*: ``adapter(config)`` returns an object with

      loss_and_gradients(params, batch) -> (loss: float, grads: dict[str, ndarray], metrics: dict[str, float])
      evaluate(params, batch) -> metrics: dict[str, float]         (forward pass only)

  where ``grads`` is keyed exactly like ``params``. The training loop (core.train) sees only the adapter, so a
  recurrent network (:class:`NetworkAdapter` below) and an encoder-decoder model train with the same loop;
* say which metric matters: ``metric`` (a key of the metrics dict), ``goal`` ('max' or 'min') and ``target``
  (the value a trained default model should reach; training may stop early there);
* show itself: ``samples()`` returns a few :class:`Sample` inputs for the front end, ``vocab`` (a
  :class:`Vocab`) turns token ids into text for token tasks.

Metrics reported by :class:`NetworkAdapter`:

    accuracy = (1/N) sum over counted positions [argmax_k y_{t,b,k} == target_{t,b}]   (cross-entropy tasks)
    mse      = (1/(N O)) sum over counted positions ||y_{t,b} - target_{t,b}||^2          (regression tasks)

Counted positions are those the loss counts: every real step (``where='all'``), the last real step
(``'last'``), or an explicit (T, B) boolean ``Batch.weights`` mask (e.g. only the recall steps of
copy-memory).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from core import bptt, losses
from core.config import NetworkConfig
from core.network import forward
from core.params import Params
from core.params import init_params as init_network_params
from core.trace import Trace


@dataclass
class Batch:
    """A minibatch, batch second like PyTorch: inputs (T, B, I) floats or (T, B) token ids.

    targets: (T, B) class ids for cross-entropy, (T, B, O) floats for MSE. lengths: (B,) real lengths of
    padded sequences, or None when all are full. weights: (T, B) bool, the positions the loss counts, or None
    to let the adapter's ``where`` decide. extra: anything a non-standard adapter needs (e.g. decoder inputs
    for Seq2Seq).
    """

    inputs: np.ndarray
    targets: np.ndarray
    lengths: np.ndarray | None = None
    weights: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(np.asarray(self.inputs).shape[1])


@dataclass(frozen=True)
class Sample:
    """One ready-made input for the front end: a label, the model input (T,) tokens or (T, I) floats, and
    text."""

    label: str
    inputs: np.ndarray
    text: str = ""
    target: Any = None


class Vocab:
    """Token <-> id. ``joiner`` glues decoded tokens into text: '' for characters, ' ' for words.

    A vocabulary for typed text may also fold case (``fold_case``: a token that is not one of ``tokens`` is
    read as the token equal to it in lower case, "she" as "She" and "THE" as "the") and name an ``unknown``
    token (one of ``tokens``) that every other token is read as; without one, a token outside the vocabulary
    is an error.
    """

    def __init__(
        self,
        tokens: list[str] | tuple[str, ...],
        joiner: str = "",
        *,
        fold_case: bool = False,
        unknown: str | None = None,
    ) -> None:
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")
        if unknown is not None and unknown not in tokens:
            raise ValueError(f"the unknown token {unknown!r} is not one of the tokens")
        self.tokens = tuple(tokens)
        self.joiner = joiner
        self.fold_case = fold_case
        self.unknown = unknown
        self.index = {tok: i for i, tok in enumerate(self.tokens)}
        self.lowered: dict[str, str] = {}  # lower case -> the first token that is it in lower case
        for tok in self.tokens:
            self.lowered.setdefault(tok.lower(), tok)

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        """A text's tokens: its characters when the joiner is '', its words otherwise."""
        return list(text) if self.joiner == "" else text.split(self.joiner)

    def fold(self, token: str) -> str:
        """The token as this vocabulary reads it: itself when it is a token; else, if it folds case, the token
        equal to it in lower case; else the unknown token (unchanged when there is no unknown token)."""
        if token in self.index:
            return token
        if self.fold_case and token.lower() in self.lowered:
            return self.lowered[token.lower()]
        return token if self.unknown is None else self.unknown

    def encode(self, items: str | list[str]) -> np.ndarray:
        """Ids of a text (split into characters when the joiner is '', into words otherwise) or a token
        list, each token folded first (see :meth:`fold`)."""
        if isinstance(items, str):
            items = self.split(items)
        items = [self.fold(tok) for tok in items]
        unknown = sorted({tok for tok in items if tok not in self.index})
        if unknown:
            raise ValueError(f"not in the vocabulary: {unknown}")
        return np.array([self.index[tok] for tok in items], dtype=np.int64)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        return self.joiner.join(self.tokens[int(i)] for i in np.asarray(ids).reshape(-1))

    def to_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {"tokens": list(self.tokens), "joiner": self.joiner}
        if self.fold_case:
            described["fold_case"] = True
        if self.unknown is not None:
            described["unknown"] = self.unknown
        return described

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocab:
        return cls(
            list(d["tokens"]),
            d.get("joiner", ""),
            fold_case=bool(d.get("fold_case", False)),
            unknown=d.get("unknown"),
        )


def token_model_config(vocab: Vocab, cell: str, hidden_size: int) -> NetworkConfig:
    """A network that reads one-hot tokens of ``vocab`` and predicts a softmax over the same vocabulary
    (next character, recalled symbol, next note)."""
    V = len(vocab)
    return NetworkConfig(
        cell=cell,
        input_size=V,
        hidden_size=hidden_size,
        output_size=V,
        output_activation="softmax",
        input_encoding="onehot",
        vocab_size=V,
    )


class Adapter(Protocol):
    """What the training loop needs from a model."""

    def loss_and_gradients(
        self, params: Params, batch: Batch
    ) -> tuple[float, dict[str, np.ndarray], dict[str, float]]: ...

    def evaluate(self, params: Params, batch: Batch) -> dict[str, float]: ...


def accuracy(logits: np.ndarray, targets: np.ndarray, counted: np.ndarray) -> float:
    n = max(int(counted.sum()), 1)
    return float(((logits.argmax(-1) == targets) & counted).sum()) / n


class NetworkAdapter:
    """A core.network model trained with a core.losses loss on the positions ``where`` picks.

    ``shape`` is the network shape passed to core.network.forward ('many_to_many', 'many_to_one',
    'one_to_one').
    """

    def __init__(
        self, config: NetworkConfig, loss: str, where: str = "all", shape: str = "many_to_many"
    ) -> None:
        if config.output_size is None:
            raise ValueError("a trainable network needs an output layer (output_size)")
        if loss not in losses.LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        self.config, self.loss, self.where, self.shape = config, loss, where, shape

    def _forward(self, params: Params, batch: Batch) -> tuple[Trace, np.ndarray, float, np.ndarray]:
        """The trace, the (T, B) positions counted, the loss and dL/dlogits."""
        trace = forward(params, self.config, batch.inputs, lengths=batch.lengths, shape=self.shape)
        counted = (bptt.output_weights(trace, self.where) if batch.weights is None
                   else np.asarray(batch.weights, dtype=bool))
        assert trace.logits is not None
        value, d_logits = losses.compute(
            self.loss, trace.logits, batch.targets, counted, self.config.output_activation == "softmax"
        )
        return trace, counted, value, d_logits

    def _metrics(self, trace: Trace, counted: np.ndarray, batch: Batch, value: float) -> dict[str, float]:
        metrics = {"loss": value}
        if self.loss == "cross_entropy":
            assert trace.logits is not None
            metrics["accuracy"] = accuracy(trace.logits, np.asarray(batch.targets), counted)
        else:
            metrics["mse"] = value
        return metrics

    def loss_and_gradients(
        self, params: Params, batch: Batch
    ) -> tuple[float, dict[str, np.ndarray], dict[str, float]]:
        trace, counted, value, d_logits = self._forward(params, batch)
        grads = bptt.backward(params, trace, d_logits)
        return value, grads.params, self._metrics(trace, counted, batch, value)

    def evaluate(self, params: Params, batch: Batch) -> dict[str, float]:
        trace, counted, value, _ = self._forward(params, batch)
        return self._metrics(trace, counted, batch, value)


class Task(ABC):
    """A built-in learning problem. Subclasses set the class attributes and implement the abstract methods."""

    name: str = ""
    title: str = ""
    description: str = ""
    #: The sequence shape it teaches: many_to_many, many_to_one, one_to_one or one_to_many.
    shape: str = "many_to_many"
    metric: str = "accuracy"
    goal: str = "max"
    target: float = 1.0
    vocab: Vocab | None = None
    #: Names of the output units of a classifier (e.g. sentiment's classes); None when the outputs are the
    #: vocabulary's tokens or numbers.
    output_labels: tuple[str, ...] | None = None
    #: Training settings that make the default model reach the target in seconds on two CPU cores.
    default_training: dict[str, Any] = {}

    def options(self) -> dict[str, Any]:
        """The constructor arguments that define this task instance (e.g. the lag), for metadata."""
        return {}

    @abstractmethod
    def default_config(self) -> Any:
        """A small model that learns the task quickly."""

    def config_with(self, **changes: Any) -> Any:
        """The default model with some fields changed, e.g. ``config_with(cell='rnn', hidden_size=32)`` to
        train a vanilla RNN on a task whose default is an LSTM. The names are the config's own fields (a
        NetworkConfig's or a Seq2SeqConfig's); the config checks the new values (ValueError when it refuses
        them, TypeError for a field it does not have)."""
        return replace(self.default_config(), **changes)

    @abstractmethod
    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """A fresh minibatch drawn with ``rng``."""

    @abstractmethod
    def adapter(self, config: Any) -> Adapter:
        """The object that turns (params, batch) into loss, gradients and metrics for ``config``."""

    def eval_batch(self, rng: np.random.Generator, size: int) -> Batch:
        """The held-out batch a training run measures its metric on; a fresh sample unless a task knows
        better."""
        return self.sample_batch(rng, size)

    def init_params(self, config: Any, seed: int) -> Params:
        return init_network_params(config, seed)

    def samples(self) -> list[Sample]:
        return []

    def met(self, value: float, target: float | None = None) -> bool:
        """Whether a metric value reaches the target (>= for 'max' goals, <= for 'min' goals)."""
        goal = self.target if target is None else target
        return value >= goal if self.goal == "max" else value <= goal

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "shape": self.shape,
            "metric": self.metric,
            "goal": self.goal,
            "target": self.target,
            "options": self.options(),
            "vocab": None if self.vocab is None else self.vocab.to_dict(),
            "output_labels": None if self.output_labels is None else list(self.output_labels),
            "training": dict(self.default_training),
        }
