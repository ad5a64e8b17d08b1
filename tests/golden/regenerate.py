"""Golden traces: fixed (configuration, seed, input) cases with every recorded number stored in tests/golden/.

tests/core/test_golden_traces.py reruns each case and requires the stored numbers back to 1e-12, so any change
to what the core computes (initialisation order, gate equations, padding, output layer) shows up as a diff.
When such a change is intended, rewrite the files and commit them with it:

    .venv/bin/python tests/golden/regenerate.py

Each file is a compressed .npz holding the configuration (as JSON), the inputs, h0/c0 and lengths, every
quantity of every layer and direction under ``l{layer}d{direction}/{name}`` (pre-activations, gates,
candidate, c, h; h_prev/c_prev are left out as they are h and c shifted), and the logits and probabilities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import NetworkConfig
from core.network import forward
from core.params import init_params

GOLDEN_DIR = Path(__file__).resolve().parent
DERIVED = ("h_prev", "c_prev")


@dataclass(frozen=True)
class GoldenCase:
    name: str
    config: NetworkConfig
    seed: int
    steps: int
    batch: int
    lengths: tuple[int, ...] | None = None
    initial_state: bool = False

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.npz"


CASES = (
    GoldenCase("rnn_tanh", NetworkConfig(cell="rnn", input_size=3, hidden_size=5, output_size=2),
               seed=11, steps=8, batch=2),
    GoldenCase("lstm_2layer",
               NetworkConfig(cell="lstm", input_size=3, hidden_size=4, num_layers=2, output_size=3),
               seed=12, steps=7, batch=2, initial_state=True),
    GoldenCase("gru_bidirectional", NetworkConfig(cell="gru", input_size=2, hidden_size=4, bidirectional=True,
                                                  output_size=2),
               seed=13, steps=6, batch=3, lengths=(6, 3, 5)),
    GoldenCase("lstm_token_embedding_softmax",
               NetworkConfig(cell="lstm", input_size=4, hidden_size=5, output_size=6,
                             output_activation="softmax", input_encoding="embedding", vocab_size=6),
               seed=14, steps=9, batch=1),
)


def case_inputs(case: GoldenCase) -> dict[str, np.ndarray]:
    """The inputs (and h0/c0) of a case, from their own generator so they do not depend on init order."""
    config = case.config
    rng = np.random.default_rng(1000 + case.seed)
    if config.input_encoding == "vector":
        inputs = rng.standard_normal((case.steps, case.batch, config.input_size))
    else:
        assert config.vocab_size is not None
        inputs = rng.integers(0, config.vocab_size, (case.steps, case.batch))
    arrays = {"inputs": inputs}
    if case.initial_state:
        shape = (config.num_layers * config.num_directions, case.batch, config.hidden_size)
        arrays["h0"] = rng.standard_normal(shape)
        if config.has_cell_state:
            arrays["c0"] = rng.standard_normal(shape)
    if case.lengths is not None:
        arrays["lengths"] = np.array(case.lengths)
    return arrays


def golden_arrays(case: GoldenCase) -> dict[str, np.ndarray]:
    """Run the case with the current code and collect every number a golden file holds."""
    arrays = case_inputs(case)
    trace = forward(init_params(case.config, case.seed), case.config, arrays["inputs"], h0=arrays.get("h0"),
                    c0=arrays.get("c0"), lengths=arrays.get("lengths"))
    arrays["config_json"] = np.array(json.dumps(case.config.to_dict(), sort_keys=True))
    for layer, row in enumerate(trace.layers):
        for d, lt in enumerate(row):
            for name, value in lt.quantities().items():
                if name not in DERIVED:
                    arrays[f"l{layer}d{d}/{name}"] = value
    if trace.logits is not None:
        arrays["logits"] = trace.logits
    if trace.probs is not None:
        arrays["probs"] = trace.probs
    return arrays


def main() -> None:
    for case in CASES:
        np.savez_compressed(case.path, **golden_arrays(case))
        print(f"wrote {case.path.name} ({case.path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
