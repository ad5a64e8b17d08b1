"""One-to-one: classify a single input, the case where a recurrent network is just a feed-forward network.

A point (x_1, x_2) drawn uniformly from the square [-1, 1]^2 belongs to class 1 when x_1 x_2 > 0 (the XOR
pattern: top-right and bottom-left quadrants) and to class 0 otherwise. The network reads it as a sequence of
one step, so with h_0 = 0 the recurrence never acts:

    h_1 = tanh(W_ih x + b_ih + W_hh 0 + b_hh),   p = softmax(W_hy h_1 + b_y)

which is exactly a one-hidden-layer perceptron: W_hh gets no gradient. No straight line separates the classes,
so the hidden layer is needed; a recurrent network earns its loop only when there is a sequence to read.
"""

from __future__ import annotations

import numpy as np

from core.config import NetworkConfig
from core.tasks.base import Batch, NetworkAdapter, Sample, Task

LABELS = ("different signs", "same sign")


class PointsTask(Task):
    name = "points"
    title = "Classify single points (one-to-one)"
    description = (
        "One-to-one: a single 2-D point in, a class out (same or different signs of x1 and x2). A "
        "sequence of length one never uses the recurrent weights, so the RNN is a feed-forward network."
    )
    shape = "one_to_one"
    metric = "accuracy"
    goal = "max"
    target = 0.95
    output_labels = LABELS
    default_training = {"steps": 1000, "batch_size": 32, "lr": 0.03, "eval_every": 25, "eval_size": 512}

    def default_config(self) -> NetworkConfig:
        return NetworkConfig(
            cell="rnn", input_size=2, hidden_size=8, output_size=2, output_activation="softmax"
        )

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "cross_entropy", where="last", shape="one_to_one")

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        points = rng.uniform(-1.0, 1.0, (1, batch_size, 2))
        labels = (points[..., 0] * points[..., 1] > 0).astype(np.int64)
        return Batch(points, labels)

    def samples(self) -> list[Sample]:
        corners = [(0.6, 0.7), (-0.5, 0.8), (-0.7, -0.4), (0.3, -0.9), (0.05, 0.9)]
        return [
            Sample(f"({x:+.2f}, {y:+.2f})", np.array([[x, y]]), target=LABELS[int(x * y > 0)])
            for x, y in corners
        ]
