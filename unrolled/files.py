"""Weights files: .npz and .safetensors through the server's own reader (core.weights_io.load_weights, with
the upload bounds of app.services.limits.Limits), and PyTorch's .pt / .pth state_dicts through ``torch.load`` with
``weights_only=True`` (PyTorch's restricted unpickler: tensors and containers only, no code).

Every file is checked against the bounds before it is read: a file larger than the tensor bytes allowed (plus
room for its headers) is refused unread, and the readers check each header's claims before reading data.

>>> from core.config import NetworkConfig
>>> from core.params import init_params
>>> from core.weights_io import save_weights
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "gru.npz")
>>> save_weights(init_params(NetworkConfig("gru", input_size=2, hidden_size=3), seed=0), path)
>>> sorted(read_weights_file(path))[:2]
['bias_hh_l0', 'bias_ih_l0']
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.weights_io import ReadBounds, WeightsError, check_tensors, load_weights
from unrolled.arrays import as_array

#: Suffixes read by torch.load; everything else goes to the .npz / .safetensors reader, which tells them
#: apart by their content.
TORCH_SUFFIXES = (".pt", ".pth")
#: A file may exceed its tensors' bytes by this much (zip and .npy headers, a safetensors JSON header).
HEADER_ROOM = 16 * 1024 * 1024


def upload_bounds() -> ReadBounds:
    """The bounds the server puts on an uploaded model file (app.services.limits.Limits' defaults)."""
    from app.services.limits import Limits

    limits = Limits()
    return ReadBounds(max_tensors=limits.max_upload_tensors, max_bytes=limits.max_upload_tensor_bytes)


def read_weights_file(path: str | os.PathLike[str], bounds: ReadBounds | None = None) -> dict[str, np.ndarray]:
    """Every tensor of the file at ``path``, by its state_dict name, within ``bounds`` (the server's upload
    bounds by default). ValueError (core.weights_io.WeightsError) for a file over the bounds or unreadable."""
    bounds = bounds or upload_bounds()
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no weights file at {os.fspath(path)!r}")
    size = file.stat().st_size
    if size > bounds.max_bytes + HEADER_ROOM:
        raise WeightsError(f"{file.name} is {size} bytes, over the limit of {bounds.max_bytes} bytes of weights "
                           "in one file (pass bounds=core.weights_io.ReadBounds(...) to allow more)")
    if file.suffix.lower() in TORCH_SUFFIXES:
        return _read_torch_file(file, bounds)
    return load_weights(file, bounds=bounds)


def _read_torch_file(file: Path, bounds: ReadBounds) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise WeightsError(f"{file.name} is a PyTorch file: reading it needs torch installed (or save the "
                           "state_dict with np.savez or safetensors instead)") from None
    try:
        loaded = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, ... for what it refuses
        raise WeightsError(f"torch.load could not read {file.name} as weights only: {exc}") from None
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise WeightsError(f"{file.name} holds a {type(loaded).__name__}, not a state_dict: save "
                           "model.state_dict() rather than the model")
    if len(loaded) > bounds.max_tensors:
        raise WeightsError(f"{file.name} holds {len(loaded)} tensors, over the limit of {bounds.max_tensors}")
    tensors = {name: as_array(value, name) for name, value in loaded.items()}
    total = sum(t.nbytes for t in tensors.values())
    if total > bounds.max_bytes:
        raise WeightsError(f"{file.name} holds {total} bytes of tensors, over the limit of {bounds.max_bytes}")
    check_tensors(tensors)
    return tensors
