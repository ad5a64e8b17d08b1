"""``import unrolled`` stays light: no PyTorch unless a torch object is passed, no web framework ever.

Each check runs in a fresh interpreter, where sys.modules shows exactly what the package imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "fastapi", "starlette", "uvicorn", "pydantic", "jinja2")


def imported_after(code: str) -> dict[str, bool]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


NUMPY_TRACE = """
import numpy as np, unrolled
from core.config import NetworkConfig
from core.params import init_params
config = NetworkConfig("lstm", input_size=2, hidden_size=3, output_size=2)
model = (config, init_params(config, seed=0))
x = np.ones((4, 2))
unrolled.gradients(model, x, np.ones((4, 2)))
trace = unrolled.trace(model, x)
"""


def test_importing_the_package_imports_neither_torch_nor_the_web_stack() -> None:
    assert not any(imported_after("import unrolled").values())


def test_tracing_numpy_arrays_never_imports_torch() -> None:
    assert not any(imported_after(NUMPY_TRACE).values())


def test_exports_import_the_serialisers_but_not_fastapi_or_torch() -> None:
    seen = imported_after(NUMPY_TRACE + "trace.to_json(); trace.to_csv(); trace.to_npz()")
    assert not seen["torch"] and not seen["fastapi"] and not seen["starlette"]


def test_the_page_needs_no_web_framework() -> None:
    seen = imported_after(NUMPY_TRACE + "trace.show(open_browser=False)")
    assert seen["jinja2"] and not seen["fastapi"] and not seen["starlette"] and not seen["torch"]


@pytest.mark.torch
def test_a_torch_module_is_read_with_the_torch_already_imported() -> None:
    pytest.importorskip("torch")
    seen = imported_after("import torch, unrolled\nunrolled.trace(torch.nn.GRU(2, 3), torch.zeros(4, 2))")
    assert seen["torch"] and not seen["fastapi"]
