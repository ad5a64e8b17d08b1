"""Weights files whose headers claim more than they may: refused from the headers, in bounded memory and time.

Each case is one an outside audit found (a 1.8 KB bzip2 member unpacking to 2 GiB, a deflate member unpacking to
4 GiB, a .npy header claiming 10^12 elements, 100,000 tiny members) or a random malformed file (hypothesis)."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.weights_io import ReadBounds, WeightsError, load_weights, weights_to_bytes

MiB = 1024 * 1024


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def zeros_member(archive: zipfile.ZipFile, name: str, count: int, method: int) -> None:
    """A .npy of ``count`` float64 zeros, streamed into the archive so the test never holds it whole."""
    info = zipfile.ZipInfo(name)
    info.compress_type = method
    chunk = bytes(8 * 1024 * 1024)
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(npy_header((count,)))
        left = 8 * count
        while left:
            member.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))


def bomb(count: int, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        zeros_member(archive, "weight_ih_l0.npy", count, method)
    return buffer.getvalue()


def measured(call):
    """(the exception ``call`` raised, peak traced memory in bytes, CPU seconds)."""
    tracemalloc.start()
    started = time.process_time()
    try:
        call()
    except WeightsError as exc:
        raised = exc
    else:
        raised = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak, time.process_time() - started


def test_a_bzip2_member_is_refused_unread():
    data = bomb(4 * MiB, zipfile.ZIP_BZIP2)  # 32 MiB of zeros in a few hundred bytes
    assert len(data) < 4096
    raised, peak, _ = measured(lambda: load_weights(data))
    assert raised is not None and "bzip2" in str(raised) and "np.savez" in str(raised)
    assert peak < 2 * MiB


def test_a_deflate_member_over_the_bound_is_refused_from_its_declared_size():
    data = bomb(16 * MiB, zipfile.ZIP_DEFLATED)  # 128 MiB unpacked from ~130 KB
    raised, peak, _ = measured(lambda: load_weights(data, bounds=ReadBounds(max_bytes=8 * MiB)))
    assert raised is not None and "unpack to" in str(raised) and "limit" in str(raised)
    assert peak < 4 * MiB


def test_a_member_whose_declared_size_lies_is_read_only_up_to_it():
    """The central directory says 1 KB; the deflate stream holds 8 MiB: reading stops at the declared size."""
    data = bytearray(bomb(MiB, zipfile.ZIP_DEFLATED))
    real = 8 * MiB + len(npy_header((MiB,)))
    patched = 0
    for offset in range(len(data) - 4):  # the local and central headers hold the size as a u32: shrink both
        if struct.unpack_from("<I", data, offset)[0] == real:
            struct.pack_into("<I", data, offset, 1024)
            patched += 1
    assert patched == 2
    raised, peak, _ = measured(lambda: load_weights(bytes(data)))
    assert raised is not None and "'weight_ih_l0' is damaged: Bad CRC-32" in str(raised)
    assert peak < 16 * MiB


def test_a_header_claiming_a_trillion_numbers_is_refused_before_allocating():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("weight_ih_l0.npy", npy_header((10**12,)))
    raised, peak, _ = measured(lambda: load_weights(buffer.getvalue()))
    assert raised is not None and "claims shape (1000000000000,)" in str(raised)
    assert peak < MiB


def test_a_truncated_member_says_truncated():
    whole = io.BytesIO()
    np.save(whole, np.ones(100))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("weight_ih_l0.npy", whole.getvalue()[:-80])
    with pytest.raises(WeightsError, match="'weight_ih_l0' is truncated: its header declares shape"):
        load_weights(buffer.getvalue())


def test_a_hundred_thousand_members_are_refused_by_count():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for k in range(100_000):
            archive.writestr(f"t{k}.npy", b"")
    raised, _, seconds = measured(lambda: load_weights(buffer.getvalue()))
    assert raised is not None and "100000 arrays, over the limit of 1024" in str(raised)
    assert seconds < 5  # a bound, not a benchmark: reading each member used to take 5-6 s


def safetensors_file(header: object, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00\x00\x00\x00\x00\x00\x00{}", "header says it is 128 bytes long"),
        (safetensors_file({"w": {"dtype": "F64", "shape": [10**9], "data_offsets": [0, 16]}}, bytes(16)),
         "has shape \\[1000000000\\] \\(8000000000 bytes as F64\\) but data_offsets span 16 bytes"),
        (safetensors_file({"w": {"dtype": "F64", "shape": [2**40], "data_offsets": [0, 8 * 2**40]}}),
         "outside its 0 data bytes"),
        (safetensors_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                           "v": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)),
         "overlap"),
        (safetensors_file({"w": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, bytes(8)),
         "needs a shape of non-negative integers"),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00{oops", "not valid JSON"),
    ],
    ids=["length-looks-like-pickle", "shape-over-span", "offsets-past-the-end", "overlap", "shape-type", "json"],
)
def test_safetensors_headers_are_checked_before_reading(data, message):
    raised, peak, _ = measured(lambda: load_weights(data))
    assert raised is not None and "pickle" not in str(raised)
    assert pytest.raises(WeightsError, load_weights, data).match(message)
    assert peak < MiB


def test_safetensors_over_the_tensor_count_are_refused():
    header = {f"t{k}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for k in range(2000)}
    with pytest.raises(WeightsError, match="2000 tensors, over the limit of 1024"):
        load_weights(safetensors_file(header))


VALID = {"weight_ih_l0": np.arange(12.0).reshape(4, 3), "bias_ih_l0": np.ones(4, np.float32)}


@st.composite
def damaged(draw, fmt: str) -> bytes:
    """A valid file with some bytes overwritten, cut short or inserted."""
    data = bytearray(weights_to_bytes(VALID, fmt))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["set", "cut", "insert"]))
        if action == "set":
            data[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[where:]
            if not data:
                break
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def bounded_load(data: bytes) -> None:
    raised, peak, seconds = measured(lambda: load_weights(data))
    if raised is None:  # a change that keeps the file valid (e.g. a byte of a value) may load
        return
    assert str(raised)
    assert peak < 8 * MiB and seconds < 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(damaged("npz"), damaged("safetensors")))
def test_damaged_files_fail_cleanly_in_bounded_memory(data):
    bounded_load(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    header=st.dictionaries(
        st.text(max_size=12),
        st.fixed_dictionaries({"dtype": st.sampled_from(["F16", "F32", "F64", "BF16", "I64", 3]),
                               "shape": JSON_VALUES, "data_offsets": JSON_VALUES}) | JSON_VALUES,
        max_size=5,
    ),
    body=st.binary(max_size=64),
)
def test_random_safetensors_headers_fail_cleanly(header, body):
    bounded_load(safetensors_file(header, body))


def test_random_zip_bytes_fail_cleanly():
    rng = np.random.default_rng(0)
    for _ in range(200):
        data = b"PK\x03\x04" + rng.bytes(int(rng.integers(0, 300)))
        bounded_load(data)


def test_deflate_members_of_real_weights_still_load():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **VALID)
    loaded = load_weights(buffer.getvalue())
    assert set(loaded) == set(VALID)
    for name, value in VALID.items():
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype and loaded[name].flags.writeable
    fortran = {"w": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    np.testing.assert_array_equal(load_weights(weights_to_bytes(fortran, "npz"))["w"], fortran["w"])
