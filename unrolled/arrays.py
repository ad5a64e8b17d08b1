"""Plain NumPy arrays from whatever a caller holds: arrays, nested lists, or PyTorch tensors.

PyTorch is never imported here. A tensor can only exist once its library has been imported, so an object is
checked against ``torch.Tensor`` only when ``torch`` is already in ``sys.modules``; without it nothing is a
tensor, and nothing pays for importing PyTorch.

>>> as_array([[1, 2], [3, 4]], "x").shape
(2, 2)
>>> time_major(np.zeros((2, 5, 3)), batch_first=True, batched_ndim=3).shape
(5, 2, 3)
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def torch_if_loaded() -> Any:
    """The torch module when something has imported it already, else None (never imports it)."""
    return sys.modules.get("torch")


def is_tensor(value: object) -> bool:
    torch = torch_if_loaded()
    return torch is not None and isinstance(value, torch.Tensor)


def is_torch_module(value: object) -> bool:
    torch = torch_if_loaded()
    return torch is not None and isinstance(value, torch.nn.Module)


def as_array(value: object, name: str) -> np.ndarray:
    """``value`` as a NumPy array: a tensor is detached and copied to the CPU first (a float32 tensor stays
    float32 here; the network casts it to its own dtype). TypeError, naming ``name``, for anything else that
    does not read as numbers."""
    if is_tensor(value):
        tensor: Any = value
        return np.asarray(tensor.detach().cpu().numpy())
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, str | bytes | dict) or value is None:
        raise TypeError(f"{name} must be a NumPy array, a torch tensor or nested lists of numbers, "
                        f"got {type(value).__name__}")
    try:
        array: np.ndarray | None = np.asarray(value)
    except (TypeError, ValueError):  # NumPy 2 refuses ragged lists outright
        array = None
    if array is None or array.dtype == object:
        raise TypeError(f"{name} does not read as an array of numbers (rows of different lengths?)")
    return array


def optional_array(value: object, name: str) -> np.ndarray | None:
    return None if value is None else as_array(value, name)


def time_major(array: np.ndarray, *, batch_first: bool, batched_ndim: int) -> np.ndarray:
    """(T, B, ...) from (B, T, ...) when the caller's module reads batch-first and the array has a batch axis
    (``batched_ndim`` dimensions: 3 for vectors, 2 for tokens); otherwise unchanged."""
    if batch_first and array.ndim == batched_ndim:
        return np.swapaxes(array, 0, 1)
    return array
