"""Many-to-many: predict the next character of a short text written for Unrolled; then write on from a prompt.

Training reads windows of the text, x_t = c_t, and scores the prediction of c_{t+1} at every step:

    L = -(1/T) sum_t log softmax(y_t)[c_{t+1}]

After training the same network generates (one-to-many): it reads a prompt, then feeds its own output back in,
greedily or by sampling with a temperature (see core.tasks.continuation).
"""

from __future__ import annotations

import numpy as np

from core.config import NetworkConfig
from core.params import Params
from core.tasks.base import Batch, NetworkAdapter, Sample, Task, Vocab, token_model_config
from core.tasks.continuation import continue_tokens

TEXT = (
    "the river runs past the mill and the mill turns slowly. "
    "the miller sings to the river and the river hums along. "
    "in the morning the baker takes the flour from the mill. "
    "in the evening the baker brings bread to the miller. "
    "when the rain comes the river runs fast and the mill turns fast. "
    "when the sun comes the river runs slow and the mill turns slow. "
    "the children run to the river to look for stones. "
    "the stones are round and grey and cold from the water. "
    "the miller counts the sacks of flour and the baker counts the loaves. "
    "one sack, two sacks, three sacks of flour. "
    "one loaf, two loaves, three loaves of bread. "
    "and the river runs on past the mill, slowly, slowly, to the sea."
)


class NextCharTask(Task):
    name = "chars"
    vocab: Vocab
    title = "Next character"
    description = (
        "Many-to-many: read a short text one character at a time and predict the next one; then "
        "continue a prompt by feeding the network's own output back in (one-to-many)."
    )
    shape = "many_to_many"
    metric = "accuracy"
    goal = "max"
    target = 0.9
    default_training = {"steps": 1500, "batch_size": 16, "lr": 0.01, "eval_every": 50, "eval_size": 64}

    def __init__(self, window: int = 32) -> None:
        if not 2 <= window < len(TEXT):
            raise ValueError(f"window must lie in [2, {len(TEXT) - 1}]")
        self.window = window
        self.text = TEXT
        self.vocab = Vocab(sorted(set(TEXT)))
        self.ids = self.vocab.encode(TEXT)

    def options(self) -> dict[str, int]:
        return {"window": self.window}

    def default_config(self) -> NetworkConfig:
        return token_model_config(self.vocab, "gru", 40)

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "cross_entropy")

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        starts = rng.integers(0, len(self.ids) - self.window, batch_size)
        windows = self.ids[starts[None, :] + np.arange(self.window + 1)[:, None]]  # (window + 1, B)
        return Batch(windows[:-1], windows[1:])

    def continue_text(
        self,
        params: Params,
        config: NetworkConfig,
        prompt: str,
        steps: int = 60,
        *,
        temperature: float = 1.0,
        sample: bool = False,
        seed: int | None = None,
    ) -> str:
        """The network's continuation of ``prompt`` (lower-cased; characters of the text's alphabet)."""
        new, _ = continue_tokens(
            params,
            config,
            self.vocab.encode(prompt.lower()),
            steps,
            temperature=temperature,
            sample=sample,
            seed=seed,
        )
        return self.vocab.decode(new)

    def samples(self) -> list[Sample]:
        prompts = ("the river ", "when the rain ", "one sack, ", "the baker ")
        return [Sample(p, self.vocab.encode(p), p) for p in prompts]
