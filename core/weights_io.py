"""Weights in and out: ``.npz`` and ``.safetensors`` files keyed by PyTorch state_dict names.

A model trained in PyTorch is exported with its own state_dict names, for example

    safetensors.torch.save_file(model.state_dict(), "model.safetensors")
    np.savez("model.npz", **{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})

and loads here in three steps: :func:`load_weights` reads the file (path, bytes or file object) into plain
arrays, :func:`infer_config` reads the network's shape off the tensors, and :func:`params_for_config` renames
them to our parameter names (core.params) and checks every shape:

    weight_ih_l{k}[_reverse]   (G*H, I_k)     G = 1 (rnn), 4 (lstm: i, f, g, o), 3 (gru: r, z, n)
    weight_hh_l{k}[_reverse]   (G*H, H)       so H = columns and G = rows / H
    bias_ih_l{k}, bias_hh_l{k} (G*H,)
    embedding.weight           (V, I)          from a module named embedding / embed / emb
    output.weight, output.bias (O, D*H), (O,)  from a module named output / fc / linear / out / head / decoder

Recurrent tensors may sit under one module prefix (``rnn.``, ``lstm.``, ``encoder.gru.``), which is stripped.
A module built with ``bias=False`` has no bias tensors; its biases load as zeros, which is what it computes.
Only NumPy arrays are ever read: npz members are opened with ``allow_pickle=False`` and pickled checkpoints
(``torch.save``) are refused, because unpickling a file can run arbitrary code.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
import safetensors.numpy

from core.config import NetworkConfig
from core.params import Params, cast_params, parameter_shapes

FORMATS: tuple[str, ...] = ("npz", "safetensors")
Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

OUTPUT_MODULES = ("output", "fc", "linear", "out", "head", "decoder")
EMBEDDING_MODULES = ("embedding", "embed", "emb")
CELL_FOR_GATE_BLOCKS = {1: "rnn", 4: "lstm", 3: "gru"}
_RECURRENT = re.compile(
    r"^(?P<prefix>(?:.+\.)?)(?P<name>(?:weight|bias)_(?:ih|hh)_l(?P<layer>\d+)(?:_reverse)?)$"
)
#: nn.LSTM(proj_size=P) adds weight_hr_l{k}: h_t = W_hr (o_t * tanh(c_t)), a cell Unrolled does not have.
_PROJECTION = re.compile(r"^(?:.+\.)?weight_hr_l\d+(?:_reverse)?$")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_MAGIC = b"\x80"


class WeightsError(ValueError):
    """Weights that cannot be read or do not fit the network; the message names every offending tensor."""


# ------------------------------------------------------------------------------------------------------------
# Reading and writing files


def load_weights(source: Source, format: str | None = None, bounds: ReadBounds | None = None
                 ) -> dict[str, np.ndarray]:
    """Read every tensor of an .npz or .safetensors file (a path, the raw bytes, or a binary file object).

    The format is recognised from the content (a zip of .npy members, or an 8-byte header length followed by a
    JSON header); ``format`` only asserts what the content must be. Every tensor must be a finite float array.
    What the file's headers claim (member count, sizes, shapes) is checked against ``bounds`` before any tensor
    is read, so a small file cannot make the reader allocate or decompress more than the bounds allow.
    """
    if format is not None:
        _check_format_name(format)
    data = _read_bytes(source)
    found = sniff_format(data)
    if found is None:
        raise WeightsError(_describe_unknown(data))
    if format is not None and found != format:
        raise WeightsError(f"expected a {format} file, but the content is a {found} file")
    read = _read_npz if found == "npz" else _read_safetensors
    tensors = read(data, bounds or DEFAULT_BOUNDS)
    if not tensors:
        raise WeightsError(f"the {found} file holds no tensors")
    check_tensors(tensors)
    return tensors


def weights_to_bytes(params: Mapping[str, np.ndarray], format: str) -> bytes:
    """Serialise ``params`` as an .npz or .safetensors file, in memory, keeping each tensor's dtype."""
    _check_format_name(format)
    arrays = {name: np.ascontiguousarray(value) for name, value in params.items()}
    check_tensors(arrays)
    if format == "safetensors":
        return safetensors.numpy.save(arrays)
    # The archive np.savez writes, built by hand so that no tensor name can clash with savez's own arguments.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, value, allow_pickle=False)
    return buffer.getvalue()


def save_weights(params: Mapping[str, np.ndarray], destination: str | os.PathLike[str] | BinaryIO,
                 format: str | None = None) -> None:
    """Write ``params`` to a path (format from ``format`` or the suffix) or to a writable binary buffer."""
    if format is None:
        if not isinstance(destination, str | os.PathLike):
            raise WeightsError(f"say which format to write to a buffer: one of {FORMATS}")
        format = Path(destination).suffix.lstrip(".").lower()
        if format not in FORMATS:
            raise WeightsError(f"cannot tell the format from {os.fspath(destination)!r}: use a .npz or "
                               f".safetensors suffix, or pass format")
    data = weights_to_bytes(params, format)
    if isinstance(destination, str | os.PathLike):
        Path(destination).write_bytes(data)
    else:
        destination.write(data)


def sniff_format(data: bytes) -> str | None:
    """'npz' for a zip archive, 'safetensors' for what opens like a safetensors file, else None."""
    if data[:4] in _ZIP_MAGIC:
        return "npz"
    if _looks_like_safetensors(data) and not data.startswith(_NPY_MAGIC):
        return "safetensors"
    return None


def check_tensors(tensors: Mapping[str, Any]) -> None:
    """Raise WeightsError naming every tensor that is not a finite, real floating-point array."""
    problems = []
    for name, value in tensors.items():
        if not isinstance(value, np.ndarray):
            problems.append(f"tensor {name!r} is a {type(value).__name__}, not an array")
        elif not np.issubdtype(value.dtype, np.floating):
            problems.append(f"tensor {name!r} has dtype {value.dtype}; weights must be floating-point")
        elif not np.isfinite(value).all():
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            problems.append(f"tensor {name!r} holds {bad} non-finite value(s) (not-a-number or infinite)")
    if problems:
        raise WeightsError("; ".join(problems))


def _check_format_name(format: str) -> None:
    if format not in FORMATS:
        raise WeightsError(f"format must be one of {FORMATS}, got {format!r}")


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes()
    if hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, bytes | bytearray):
            raise WeightsError("the file object must be opened in binary mode")
        return bytes(data)
    raise WeightsError(f"cannot read weights from a {type(source).__name__}: "
                       f"give a path, bytes or a binary file")


def _describe_unknown(data: bytes) -> str:
    if not data:
        return "the file is empty"
    if data.startswith(_NPY_MAGIC):
        return "this is a single .npy array, not a state_dict: save all tensors by name with np.savez"
    if data.startswith(_PICKLE_MAGIC):
        return ("this looks like a pickled checkpoint (torch.save); pickles can run code, so they are "
                "refused: save the state_dict with safetensors.torch.save_file or np.savez")
    return "the content is neither an .npz archive (zip of .npy arrays) nor a .safetensors file"


@dataclass(frozen=True)
class ReadBounds:
    """How much a weights file may make the reader hold, checked from its headers before any data is read.

    A zip member's declared size, a .npy header's shape and a safetensors header's offsets all come from the
    file itself, so a 2 KB archive can claim gigabytes: each claim is checked against these bounds first, and
    reading stops at the declared size whatever the compressed stream holds."""

    max_tensors: int = 1024
    max_bytes: int = 256 * 1024 * 1024  # of tensor data, all tensors together, as stored (uncompressed)


DEFAULT_BOUNDS = ReadBounds()
#: Zip compression methods np.savez and np.savez_compressed write; bzip2 and lzma are refused unread.
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
#: What zipfile raises on a damaged archive or member, or on a feature np.savez never writes (encryption, a
#: newer zip version): all of them mean the upload is not a readable .npz.
_ZIP_FAILURES = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError, NotImplementedError)
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", **_ZIP_METHODS}
_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _read_npz(data: bytes, bounds: ReadBounds = DEFAULT_BOUNDS) -> dict[str, np.ndarray]:
    """Every member of an .npz archive as an array, within ``bounds``: the member count, each member's
    compression method and declared size, and each .npy header's dtype and shape are checked before the
    member's data is read, and no member is read past the size its header declares."""
    entries = _zip_entry_count(data)
    if entries is not None and entries > bounds.max_tensors:  # before zipfile parses every entry
        raise WeightsError(f"the archive holds {entries} arrays, over the limit of {bounds.max_tensors} "
                           "tensors in one model file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_FAILURES as exc:
        raise WeightsError(f"the zip archive is damaged: {exc}") from exc
    with archive:
        members = archive.infolist()
        _check_npz_members(members, bounds)
        tensors: dict[str, np.ndarray] = {}
        refused: list[str] = []  # every tensor of the wrong dtype is named, not just the first
        budget = bounds.max_bytes
        for info in members:
            name = info.filename.removesuffix(".npy")
            try:
                with archive.open(info) as stream:
                    shape, fortran_order, dtype = _npy_header(stream, name)
                    if dtype.hasobject:
                        refused.append(f"tensor {name!r} cannot be read without unpickling (dtype {dtype}); "
                                       "weights must be plain floating-point arrays")
                        continue
                    if dtype.kind != "f":
                        refused.append(f"tensor {name!r} has dtype {dtype}; weights must be floating-point")
                        continue
                    tensors[name] = _read_npy_data(stream, name, shape, fortran_order, dtype, budget)
            except WeightsError:
                raise
            except _ZIP_FAILURES as exc:
                raise WeightsError(f"tensor {name!r} is damaged: {exc}") from exc
            budget -= tensors[name].nbytes
    if refused:
        raise WeightsError("; ".join(refused))
    return tensors


def _zip_entry_count(data: bytes) -> int | None:
    """How many entries a zip's end-of-central-directory record declares (None where there is none to read).

    The record (signature PK 5 6) sits in the last 64 KiB + 22 bytes and holds the count as a u16 at
    offset 10; 0xFFFF there means the count is in the zip64 record, which the zip64 locator (PK 6 7, 20
    bytes before it) points to, as a u64 at offset 32."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        record = int.from_bytes(data[locator + 8 : locator + 16], "little")
        if data[record : record + 4] == b"PK\x06\x06" and record + 40 <= len(data):
            return int.from_bytes(data[record + 32 : record + 40], "little")
    return count


def _check_npz_members(members: list[zipfile.ZipInfo], bounds: ReadBounds) -> None:
    names = [m.filename for m in members]
    foreign = [n for n in names if not n.endswith(".npy")]
    if foreign:
        hint = (" (a torch.save checkpoint: save the state_dict with safetensors.torch.save_file or np.savez)"
                if any(n.endswith(".pkl") for n in foreign) else "")
        raise WeightsError(f"a zip archive that is not an .npz: members {foreign[:5]} are not .npy "
                           f"arrays{hint}")
    if len(members) > bounds.max_tensors:
        raise WeightsError(f"the archive holds {len(members)} arrays, over the limit of {bounds.max_tensors} "
                           "tensors in one model file")
    if len(set(names)) != len(names):
        raise WeightsError("the archive holds two members with the same name")
    odd = [f"{m.filename!r} ({_METHOD_NAMES.get(m.compress_type, m.compress_type)})"
           for m in members if m.compress_type not in _ZIP_METHODS]
    if odd:
        raise WeightsError(f"members {', '.join(odd[:5])} use a compression method np.load does not write; "
                           "save with np.savez or np.savez_compressed (stored or deflate)")
    declared = sum(m.file_size for m in members)
    if declared > bounds.max_bytes:
        raise WeightsError(f"the archive's arrays unpack to {declared} bytes, over the limit of "
                           f"{bounds.max_bytes} bytes of weights in one file")


def _npy_header(stream: IO[bytes], name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) from the header at the start of a .npy stream (at most 64 KiB read)."""
    try:
        version = np.lib.format.read_magic(stream)
    except ValueError as exc:
        raise WeightsError(f"tensor {name!r} is not a .npy array: {exc}") from exc
    reader = _NPY_HEADER_READERS.get(version)
    if reader is None:
        raise WeightsError(f"tensor {name!r} uses .npy format version {version}; save it with np.save")
    try:
        return reader(stream)
    except ValueError as exc:
        raise WeightsError(f"tensor {name!r} has a damaged .npy header: {exc}") from exc


def _read_npy_data(stream: IO[bytes], name: str, shape: tuple[int, ...], fortran_order: bool, dtype: np.dtype,
                   budget: int) -> np.ndarray:
    """Exactly the bytes the header declares, into an array allocated only once the size is within budget."""
    count = math.prod(shape)
    if count * dtype.itemsize > budget:
        raise WeightsError(f"tensor {name!r} claims shape {shape} ({count * dtype.itemsize} bytes), over what "
                           "is left of the limit on weights in one file")
    flat = np.empty(count, dtype)
    view = memoryview(flat.view(np.uint8))  # type: ignore[arg-type]  # ndarray is a buffer
    got = 0
    while got < view.nbytes:
        chunk = stream.read(min(view.nbytes - got, 1 << 20))
        view[got : got + len(chunk)] = chunk
        got += len(chunk)
        if not chunk:
            raise WeightsError(f"tensor {name!r} is truncated: its header declares shape {shape} "
                               f"({view.nbytes} bytes) but the member holds {got}")
    if stream.read(1):
        raise WeightsError(f"tensor {name!r} holds more data than its header's shape {shape} declares")
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _looks_like_safetensors(data: bytes) -> bool:
    """A safetensors file opens with its header's length (u64, little-endian) and then the header's '{'."""
    return len(data) >= 10 and data[8:9] == b"{"


#: The itemsize of each float dtype code; every other code is refused by name.
_SAFETENSORS_ITEMSIZE = {"F16": 2, "F32": 4, "F64": 8}


def _safetensors_entries(
    data: bytes, bounds: ReadBounds
) -> tuple[int, dict[str, tuple[str, tuple[int, ...], int, int]]]:
    """(where the byte buffer starts, {name: (dtype, shape, begin, end)}) from a safetensors header, every claim
    checked against the file's length and ``bounds`` before a tensor is read:
    header = u64 N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}}, offsets into the bytes
    after the header, and end - begin = prod(shape) * itemsize(dtype)."""
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise WeightsError(f"the safetensors file is damaged: its header says it is {size} bytes long, but "
                           f"the file has only {len(data) - 8} bytes after the length (truncated?)")
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"the safetensors header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise WeightsError("the safetensors header must be a JSON object of tensors")
    header.pop("__metadata__", None)
    if len(header) > bounds.max_tensors:
        raise WeightsError(f"the file holds {len(header)} tensors, over the limit of {bounds.max_tensors}")
    start, buffer = 8 + size, len(data) - 8 - size
    entries, problems = {}, []
    for name, entry in header.items():
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if dtype not in _SAFETENSORS_ITEMSIZE:
            problems.append(f"tensor {name!r} is stored as {dtype}; weights must be F16, F32 or F64 "
                            "(convert with model.float() or model.double() before saving)")
            continue
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
                and isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
            problems.append(f"tensor {name!r} needs a shape of non-negative integers and two integer "
                            "data_offsets")
            continue
        begin, end = offsets
        nbytes = math.prod(shape) * _SAFETENSORS_ITEMSIZE[dtype]
        if not 0 <= begin <= end <= buffer:
            problems.append(f"the safetensors file is damaged: tensor {name!r} has data_offsets {offsets} "
                            f"outside its {buffer} data bytes (truncated?)")
        elif end - begin != nbytes:
            problems.append(f"tensor {name!r} has shape {shape} ({nbytes} bytes as {dtype}) but data_offsets "
                            f"span {end - begin} bytes")
        else:
            entries[name] = (dtype, tuple(shape), begin, end)
    if problems:
        raise WeightsError("; ".join(problems))
    spans = sorted((begin, end, name) for name, (_, _, begin, end) in entries.items())
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:], strict=False):
        if begin < end:
            raise WeightsError(f"tensors {first!r} and {second!r} overlap in the data bytes")
    total = sum(end - begin for begin, end, _ in spans)
    if total > bounds.max_bytes:
        raise WeightsError(f"the tensors hold {total} bytes, over the limit of {bounds.max_bytes} bytes of "
                           "weights in one file")
    return start, entries


def _read_safetensors(data: bytes, bounds: ReadBounds = DEFAULT_BOUNDS) -> dict[str, np.ndarray]:
    start, entries = _safetensors_entries(data, bounds)
    return {
        name: np.frombuffer(data, f"<f{_SAFETENSORS_ITEMSIZE[dtype]}", math.prod(shape), start + begin)
        .reshape(shape).copy()
        for name, (dtype, shape, begin, _) in entries.items()
    }


# ------------------------------------------------------------------------------------------------------------
# Mapping a state_dict onto a network


def canonical_names(names: list[str] | Mapping[str, Any]) -> dict[str, str]:
    """Our parameter name for each tensor name that has one, as {ours: theirs}; other names map to themselves.

    Recurrent names lose their module prefix, which must be the same for all of them; the output layer's and
    the embedding's weights are recognised by the name of the module that holds them.
    """
    mapping: dict[str, str] = {}
    prefixes = set()
    for original in names:
        match = _RECURRENT.match(original)
        if match:
            prefixes.add(match["prefix"])
            ours = match["name"]
        else:
            ours = _head_name(original)
        if ours in mapping:
            raise WeightsError(f"tensors {mapping[ours]!r} and {original!r} both look like {ours!r}; "
                               f"keep only one of them")
        mapping[ours] = original
    if len(prefixes) > 1:
        shown = ", ".join(repr(p) for p in sorted(prefixes))
        raise WeightsError(f"recurrent tensors sit under different module prefixes ({shown}); "
                           f"load one recurrent module at a time")
    return mapping


def _head_name(name: str) -> str:
    module, _, leaf = name.rpartition(".")
    last = module.rpartition(".")[2]
    if last in OUTPUT_MODULES and leaf in ("weight", "bias"):
        return f"output.{leaf}"
    if last in EMBEDDING_MODULES and leaf == "weight":
        return "embedding.weight"
    return name


def params_for_config(tensors: Mapping[str, np.ndarray], config: NetworkConfig) -> Params:
    """Rename a state_dict to our parameter names, check each tensor against ``config``, cast to its dtype."""
    check_tensors(tensors)
    mapping = canonical_names(tensors)
    renamed = {ours: tensors[theirs] for ours, theirs in mapping.items()}

    def label(ours: str) -> str:
        theirs = mapping.get(ours, ours)
        return repr(ours) if theirs == ours else f"{theirs!r} (read as {ours!r})"

    expected = parameter_shapes(config)
    renamed.update(_zero_biases_of_bias_free_modules(renamed, expected, config))
    problems = shape_problems(renamed, expected, label)
    if problems:
        raise WeightsError(f"the weights do not fit the {config.cell} network "
                           f"{_describe_config(config)}: " + "; ".join(problems))
    return cast_finite(lambda: cast_params({name: renamed[name] for name in expected}, config), config.dtype,
                       label)


def cast_finite(cast: Callable[[], Params], dtype: str, label: Callable[[str], str]) -> Params:
    """``cast()``'s tensors, refusing by name (``label``) every one with values too large for ``dtype``."""
    with np.errstate(over="ignore"):  # overflow is reported below, by tensor name
        params = cast()
    overflow = [label(name) for name, value in params.items() if not np.isfinite(value).all()]
    if overflow:
        raise WeightsError(f"tensor(s) {', '.join(overflow)} hold values too large for {dtype}")
    return params


def cell_of(name: str, shape: tuple[int, ...]) -> str:
    """The cell whose weight_hh ``name`` has ``shape`` (G*H, H): G = rows / H is 1 (rnn), 4 (lstm), 3 (gru)."""
    rows, hidden = shape
    cell = CELL_FOR_GATE_BLOCKS.get(rows // hidden) if hidden and rows % hidden == 0 else None
    if cell is None:
        raise WeightsError(f"{name!r} has shape {shape}: its rows must be 1, 3 or 4 times its columns (the "
                           "hidden size) for an RNN, GRU or LSTM")
    return cell


def shape_problems(
    tensors: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]], label: Callable[[str], str]
) -> list[str]:
    """Every missing, mis-shaped and unexpected tensor, each named by ``label`` and with the shapes."""
    problems = []
    for name, shape in expected.items():
        if name not in tensors:
            problems.append(f"missing tensor {name!r} (expected shape {shape})")
        elif tensors[name].shape != shape:
            problems.append(f"tensor {label(name)} has shape {tensors[name].shape}, expected {shape}")
    problems += [f"unexpected tensor {label(name)} with shape {tensors[name].shape}"
                 for name in tensors if name not in expected]
    return problems


def _zero_biases_of_bias_free_modules(
    renamed: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]], config: NetworkConfig
) -> Params:
    """Zero biases for modules built with ``bias=False``, which have no bias tensors: the recurrent module's
    (when none of its bias_ih / bias_hh tensors is there) and the output layer's (when it has a weight but no
    bias). A module with only some of its biases stays incomplete, and is reported as such."""
    recurrent = [name for name in expected if name.startswith("bias_")]
    missing = [] if any(name in renamed for name in recurrent) else recurrent
    if "output.weight" in renamed and "output.bias" in expected and "output.bias" not in renamed:
        missing.append("output.bias")
    return {name: np.zeros(expected[name], config.np_dtype) for name in missing}


def _describe_config(config: NetworkConfig) -> str:
    parts = [f"input_size={config.input_size}", f"hidden_size={config.hidden_size}",
             f"num_layers={config.num_layers}", f"bidirectional={config.bidirectional}"]
    if config.vocab_size is not None:
        parts.append(f"vocab_size={config.vocab_size}")
    parts.append(f"output_size={config.output_size}")
    return "(" + ", ".join(parts) + ")"


def infer_config(tensors: Mapping[str, np.ndarray], **overrides: Any) -> NetworkConfig:
    """Read a NetworkConfig off the tensors' shapes; ``overrides`` set (or replace) any field.

    weight_hh_l0 is (G*H, H): H is its column count and G = rows / H picks the cell (1 rnn, 4 lstm, 3 gru).
    input_size is weight_ih_l0's column count, num_layers the highest l{k} + 1, bidirectional whether any
    name ends in _reverse; an embedding gives input_encoding='embedding' with vocab_size = its rows, an output
    layer gives output_size = its rows. Fields the tensors cannot show (nonlinearity, output_activation,
    dtype, one-hot inputs) come from ``overrides``. The tensors are not checked here: params_for_config is.
    """
    projections = sorted(name for name in tensors if _PROJECTION.match(name))
    if projections:
        raise WeightsError(f"{projections[0]!r} is the projection of an nn.LSTM built with proj_size: LSTMs with "
                           "projections are not supported (build the LSTM without proj_size)")
    mapping = canonical_names(tensors)
    shapes = {ours: tuple(tensors[theirs].shape) for ours, theirs in mapping.items()}
    w_ih, w_hh = shapes.get("weight_ih_l0"), shapes.get("weight_hh_l0")
    if w_ih is None or w_hh is None or len(w_ih) != 2 or len(w_hh) != 2:
        raise WeightsError("cannot infer the network: it needs 2-D tensors 'weight_ih_l0' and 'weight_hh_l0' "
                           f"(with or without a module prefix); found {sorted(tensors)}")
    layers = [int(m["layer"]) for m in map(_RECURRENT.match, mapping) if m]
    fields: dict[str, Any] = {
        "cell": cell_of(mapping["weight_hh_l0"], w_hh),
        "input_size": w_ih[1],
        "hidden_size": w_hh[1],
        "num_layers": max(layers) + 1,
        "bidirectional": any(name.endswith("_reverse") for name in mapping),
    }
    if "embedding.weight" in shapes:
        fields.update(input_encoding="embedding", vocab_size=shapes["embedding.weight"][0])
    if "output.weight" in shapes:
        fields["output_size"] = shapes["output.weight"][0]
    fields.update(overrides)
    if "vocab_size" not in overrides:
        if fields.get("input_encoding") == "onehot":
            fields["vocab_size"] = fields["input_size"]
        elif fields.get("input_encoding", "vector") == "vector":
            fields.pop("vocab_size", None)
    return NetworkConfig.from_dict(fields)
