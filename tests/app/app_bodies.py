"""Request bodies shared by the app tests."""

from __future__ import annotations


def lstm_request(**overrides: object) -> dict:
    body: dict = {
        "model": {"cell": "lstm", "hidden_size": 3, "output_size": 2},
        "weights": {"source": "seed", "seed": 1},
        "input": {"vectors": [[0.5, -1.0], [0.25, 0.0], [1.5, 2.0], [-0.75, 0.1]]},
    }
    body.update(overrides)
    return body
