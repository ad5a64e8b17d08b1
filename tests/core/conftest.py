"""Shared fixtures for the core tests.

The helper modules next to this file (netcases, numgrad, torch_reference) are imported by name, so this
directory goes on sys.path whatever import mode pytest runs in.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture
def strict_floats() -> Iterator[None]:
    """Any floating-point overflow, invalid operation or division by zero, and any warning, fails the test.

    Underflow stays allowed: exp(-2e4) rounding to 0 is the right answer, not an error.
    """
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield
