"""Time series: forecast a noisy seasonal series one step ahead (many-to-many regression, MSE).

Each sequence is a season plus a harmonic, with its own amplitude, period and phase, observed with noise:

    s_t = A (sin(2 pi t / P + phi) + 0.3 sin(4 pi t / P + psi)) + noise_t,   noise_t ~ N(0, sigma^2)

The network reads s_1..s_t and predicts y_t ~ s_{t+1}. The first ``warmup`` steps are not scored: a forecaster
needs to see part of a cycle before it can know the period and phase. The noise sets a floor: even the true
clean value has an expected squared error of sigma^2.
"""

from __future__ import annotations

import numpy as np

from core.config import NetworkConfig
from core.tasks.base import Batch, NetworkAdapter, Sample, Task


class SineForecastTask(Task):
    name = "sine"
    title = "Forecast a noisy seasonal series"
    description = (
        "Time series: read a noisy wave one value at a time and predict the next value. Every sequence "
        "has its own amplitude, period and phase; the first steps are not scored."
    )
    shape = "many_to_many"
    metric = "mse"
    goal = "min"
    target = 0.01
    default_training = {"steps": 1500, "batch_size": 32, "lr": 0.01, "eval_every": 50, "eval_size": 256}

    def __init__(
        self,
        length: int = 40,
        noise: float = 0.05,
        warmup: int = 8,
        periods: tuple[float, float] = (8.0, 16.0),
    ) -> None:
        if not 0 <= warmup < length - 1:
            raise ValueError("warmup must leave at least one scored step")
        self.length, self.noise, self.warmup, self.periods = length, noise, warmup, periods

    def options(self) -> dict[str, object]:
        return {
            "length": self.length,
            "noise": self.noise,
            "warmup": self.warmup,
            "periods": list(self.periods),
        }

    def series(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """(length + 1, B) noisy values."""
        t = np.arange(self.length + 1)[:, None]
        amplitude = rng.uniform(0.5, 1.0, batch_size)
        period = rng.uniform(*self.periods, batch_size)
        phase, phase2 = rng.uniform(0, 2 * np.pi, (2, batch_size))
        clean = amplitude * (
            np.sin(2 * np.pi * t / period + phase) + 0.3 * np.sin(4 * np.pi * t / period + phase2)
        )
        noisy: np.ndarray = clean + self.noise * rng.standard_normal(clean.shape)
        return noisy

    def default_config(self) -> NetworkConfig:
        return NetworkConfig(cell="gru", input_size=1, hidden_size=16, output_size=1)

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "mse")

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        s = self.series(rng, batch_size)
        weights = np.zeros((self.length, batch_size), dtype=bool)
        weights[self.warmup :] = True
        return Batch(s[:-1, :, None], s[1:, :, None], weights=weights)

    def samples(self) -> list[Sample]:
        rng = np.random.default_rng(7)
        out = []
        for i in range(3):
            s = self.series(rng, 1)[:, 0]
            out.append(Sample(f"wave {i + 1}", s[:-1, None], target=s[1:, None]))
        return out
