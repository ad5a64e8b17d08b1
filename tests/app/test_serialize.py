"""Rounding to significant digits is exact: the double nearest the correctly rounded decimal, which is
Python's ``float(f"{x:.{p-1}e}")``; at precision 17 every float64 comes back as itself."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.limits import Limits
from app.wire.rounding import BLOCK, EXACT_DIGITS, round_significant, round_together
from app.wire.serialize import dumps


def formula(values: np.ndarray, digits: int) -> np.ndarray:
    """The definition: Python's formatting of each exact value to ``digits`` significant digits, read back."""
    return np.array([float(f"{v:.{digits - 1}e}") for v in values.tolist()])


def varied_doubles(n: int, seed: int) -> np.ndarray:
    """Finite float64s of every kind: random bit patterns (every exponent, subnormals), trace-like values
    (|x| < 10), exact ties of binary fractions, long integers, neighbours of powers of ten, zeros."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False).view(np.float64)
    subnormal = rng.integers(1, 2**52, n // 20, dtype=np.uint64).view(np.float64)
    gates = np.tanh(rng.standard_normal(n) * 3)
    ties = rng.integers(-(10**6), 10**6, n // 4) / 2.0 ** rng.integers(0, 12, n // 4)
    integers = rng.integers(1, 2**53, n // 4).astype(np.float64) * 10.0 ** rng.integers(-20, 5, n // 4)
    powers = np.array([float(f"1e{k}") for k in range(-40, 40)])
    near_powers = np.concatenate([powers, np.nextafter(powers, 0), np.nextafter(powers, np.inf)])
    values = np.concatenate([bits, subnormal, gates, ties, integers, near_powers, [0.0, -0.0, 5e-324]])
    values = values[np.isfinite(values)]
    return np.concatenate([values, -values])


@pytest.mark.parametrize("digits", range(1, EXACT_DIGITS + 1))
def test_every_precision_matches_the_formula(digits: int) -> None:
    x = varied_doubles(6000, digits)
    rounded = round_significant(x, digits)
    expected = formula(x, digits)
    np.testing.assert_array_equal(rounded, expected)
    assert np.array_equal(np.signbit(rounded), np.signbit(expected))  # -0.0 stays -0.0


def test_precision_16_near_two_to_the_53() -> None:
    """At p = 16, x 10^k above 2^53 has a unit in the last place of 2: r may be an odd integer no double holds."""
    rng = np.random.default_rng(16)
    x = rng.uniform(0.9, 1.0, 20_000) * 10.0 ** rng.integers(-7, 7, 20_000)
    np.testing.assert_array_equal(round_significant(x, 16), formula(x, 16))


def test_the_double_rounding_of_rint_is_gone() -> None:
    # rint(x * 10^k) / 10^k gave -0.37759809084932894 here (issue #13); 17 digits are the value itself.
    x = -0.377598090849329
    assert round_significant(np.array([x]), 17)[0] == x
    assert round_significant(np.array([x]), 15)[0] == float(f"{x:.14e}")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50),
    st.integers(1, EXACT_DIGITS),
)
def test_any_finite_floats_match_the_formula(values: list[float], digits: int) -> None:
    x = np.array(values)
    np.testing.assert_array_equal(round_significant(x, digits), formula(x, digits))


def test_special_values_and_shape() -> None:
    x = np.array([[0.0, -0.0, np.nan], [np.inf, -np.inf, 5e-324]])
    for digits in (3, 16):
        rounded = round_significant(x, digits)
        assert rounded.shape == (2, 3)
        np.testing.assert_array_equal(rounded[0, :2], [0.0, 0.0])
        assert np.signbit(rounded[0, 1])
        assert np.isnan(rounded[0, 2]) and rounded[1, 0] == np.inf and rounded[1, 1] == -np.inf
        assert rounded[1, 2] == 5e-324
    assert round_significant(np.array([9.9996]), 4)[0] == 10.0
    assert round_significant(np.array([1000.0, 999.95]), 4).tolist() == [1000.0, 1000.0]


def test_non_finite_numbers_serialise_as_null() -> None:
    assert dumps({"a": np.array([1.5, np.nan, np.inf])}) == b'{"a":[1.5,null,null]}'


def test_rounding_together_equals_rounding_each_across_blocks() -> None:
    rng = np.random.default_rng(5)
    # Over BLOCK numbers, so several blocks; one block holds a huge and a tiny value (the formatted fallback).
    arrays = [rng.standard_normal((50, 64)), rng.standard_normal((3 * BLOCK // 64, 64)) * 1e3, None]
    arrays[1][2, 3], arrays[1][-1, -1] = 1e300, -5e-320
    arrays[0][0, :3] = [0.0, np.nan, -np.inf]
    together = round_together(arrays, 4)
    assert together[2] is None
    for got, given_ in zip(together[:2], arrays[:2], strict=True):
        assert got is not None and given_ is not None
        assert got.shape == given_.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, round_significant(given_, 4))
        reference = formula(given_.ravel(), 4).reshape(given_.shape)
        np.testing.assert_array_equal(got, reference)


# ------------------------------------------------------------------------------------------------------------
# Through the API: the reply's numbers, parsed as JSON, are the formula's


def _echo_request(values: np.ndarray, precision: int) -> dict:
    """A trace whose reply echoes ``values`` as input.x: T rows of 1000 numbers into a 1-unit RNN."""
    rows = values.reshape(-1, 1000)
    return {
        "model": {"cell": "rnn", "hidden_size": 1, "nonlinearity": "tanh"},
        "weights": {"source": "seed", "seed": 0},
        "input": {"vectors": rows.tolist()},
        "precision": precision,
    }


@pytest.fixture
def big_client(make_client: Callable[..., TestClient]) -> TestClient:
    """Bodies of 10^5 numbers in repr form are ~2.5 MB: over the default 2 MiB body limit."""
    return make_client(max_body_bytes=8 * 1024 * 1024, cache_bytes=0)


def _echoed(client: TestClient, values: np.ndarray, precision: int) -> np.ndarray:
    # json.dumps writes repr(float): the shortest string that reads back as the same double.
    r = client.post(
        "/api/v1/trace",
        content=json.dumps(_echo_request(values, precision)),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    return np.array(json.loads(r.content)["input"]["x"], dtype=np.float64).ravel()


def test_precision_17_round_trips_100000_float64s_through_the_api(big_client: TestClient) -> None:
    rng = np.random.default_rng(17)
    values = varied_doubles(60_000, 17)
    values = rng.permutation(values)[:100_000]
    assert values.size == 100_000
    got = _echoed(big_client, values, 17)
    np.testing.assert_array_equal(got, values)
    assert np.array_equal(np.signbit(got), np.signbit(values))


def test_every_precision_through_the_api_matches_the_formula(big_client: TestClient) -> None:
    values = np.random.default_rng(3).permutation(varied_doubles(3000, 3))[:4000]
    for precision in range(1, EXACT_DIGITS + 1):
        np.testing.assert_array_equal(_echoed(big_client, values, precision), formula(values, precision))


def test_the_limits_the_schema_and_the_rounding_agree_on_the_maximum(client: TestClient) -> None:
    limits = client.get("/api/v1/limits").json()
    assert limits["max_precision"] == EXACT_DIGITS == Limits().max_precision
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("TraceRequest", "Seq2SeqRequest"):
        assert schema[name]["properties"]["precision"]["anyOf"][0]["maximum"] == EXACT_DIGITS
    body = _echo_request(np.zeros(1000), EXACT_DIGITS + 1)
    r = client.post("/api/v1/trace", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "precision"]
