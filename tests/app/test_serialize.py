"""Rounding to significant digits, vectorised, agrees with Python's own %g formatting."""

from __future__ import annotations

import numpy as np
import pytest

from app.serialize import BLOCK, dumps, round_significant, round_together


@pytest.mark.parametrize("digits", [1, 2, 4, 8, 12])
def test_matches_formatting_for_ordinary_magnitudes(digits: int) -> None:
    rng = np.random.default_rng(digits)
    x = rng.standard_normal(20_000) * 10.0 ** rng.integers(-10, 10, 20_000)
    rounded = round_significant(x, digits)
    reference = np.array([float(f"{v:.{digits}g}") for v in x])
    # x * 10^k is itself rounded, so a value within ~1e-16 of a tie may round the other way: one unit in the
    # last digit, and rare.
    differ = rounded != reference
    assert differ.mean() < 1e-3
    unit = 10.0 ** (np.floor(np.log10(np.abs(x[differ]))) - digits + 1)
    assert np.all(np.abs(rounded[differ] - reference[differ]) <= unit * (1 + 1e-9))


@pytest.mark.parametrize("digits", [1, 4, 12])
def test_extreme_magnitudes_match_formatting_too(digits: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 10, 5000) * 10.0 ** rng.integers(-323, 308, 5000)
    x = x[np.isfinite(x) & (x != 0)]
    reference = np.array([float(f"{v:.{digits}g}") for v in x])
    np.testing.assert_array_equal(round_significant(x, digits), reference)


def test_special_values_and_shape() -> None:
    x = np.array([[0.0, -0.0, np.nan], [np.inf, -np.inf, 5e-324]])
    rounded = round_significant(x, 3)
    assert rounded.shape == (2, 3)
    np.testing.assert_array_equal(rounded[0, :2], [0.0, 0.0])
    assert np.isnan(rounded[0, 2]) and np.isinf(rounded[1, :2]).all()
    assert rounded[1, 2] == 5e-324
    assert round_significant(np.array([9.9996]), 4)[0] == 10.0
    assert round_significant(np.array([1000.0, 999.95]), 4).tolist() == [1000.0, 1000.0]


def test_non_finite_numbers_serialise_as_null() -> None:
    assert dumps({"a": np.array([1.5, np.nan, np.inf])}) == b'{"a":[1.5,null,null]}'


def test_rounding_together_equals_rounding_each_across_blocks() -> None:
    rng = np.random.default_rng(5)
    # Over BLOCK numbers, so several blocks; one block holds a huge and a tiny value (the exact fallback).
    arrays = [rng.standard_normal((50, 64)), rng.standard_normal((3 * BLOCK // 64, 64)) * 1e3, None]
    arrays[1][2, 3], arrays[1][-1, -1] = 1e300, -5e-320
    arrays[0][0, :3] = [0.0, np.nan, -np.inf]
    together = round_together(arrays, 4)
    assert together[2] is None
    for got, given in zip(together[:2], arrays[:2], strict=True):
        assert got is not None and given is not None
        assert got.shape == given.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, round_significant(given, 4))
        reference = np.array([float(f"{v:.4g}") for v in given.ravel()]).reshape(given.shape)
        differ = (got != reference) & ~np.isnan(reference)
        assert differ.mean() < 1e-3  # ties within ~1e-16 may round the other way (see above)
