"""The current code reproduces the stored golden traces (tests/golden/*.npz) to 1e-12.

The cases and the way their numbers are collected live in tests/golden/regenerate.py, which also rewrites the
files when a change to the numbers is intended.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

GOLDEN_SCRIPT = Path(__file__).resolve().parents[1] / "golden" / "regenerate.py"
MAX_FILE_BYTES = 50_000


def load_golden_module():
    spec = importlib.util.spec_from_file_location("golden_regenerate", GOLDEN_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script is executing
    spec.loader.exec_module(module)
    return module


golden = load_golden_module()


@pytest.mark.parametrize("case", golden.CASES, ids=lambda c: c.name)
def test_current_code_reproduces_golden_trace(case) -> None:
    assert case.path.exists(), f"{case.path.name} is missing; run .venv/bin/python tests/golden/regenerate.py"
    with np.load(case.path, allow_pickle=False) as stored_file:
        stored = dict(stored_file)
    computed = golden.golden_arrays(case)

    assert json.loads(str(stored["config_json"])) == case.config.to_dict(), "the case's configuration changed"
    assert sorted(stored) == sorted(computed), "the set of recorded quantities changed"
    for key, expected in stored.items():
        if key == "config_json":
            continue
        actual = computed[key]
        assert actual.shape == expected.shape, key
        if np.issubdtype(expected.dtype, np.integer):
            np.testing.assert_array_equal(actual, expected, err_msg=key)
        else:
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("case", golden.CASES, ids=lambda c: c.name)
def test_golden_files_stay_small_and_hold_every_gate(case) -> None:
    assert case.path.stat().st_size < MAX_FILE_BYTES
    with np.load(case.path, allow_pickle=False) as stored:
        keys = set(stored.files)
    config = case.config
    for layer in range(config.num_layers):
        for d in range(config.num_directions):
            expected = {"h"} | ({"c"} if config.has_cell_state else set())
            if config.cell != "rnn":
                expected |= set(config.gates) | {f"{g}_pre" for g in config.gates}
            assert {f"l{layer}d{d}/{name}" for name in expected} <= keys
    assert "logits" in keys
    assert ("probs" in keys) == (config.output_activation == "softmax")
