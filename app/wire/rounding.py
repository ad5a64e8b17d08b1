"""Float64 arrays rounded to p significant digits, correctly and vectorised.

Each finite x becomes the double nearest to D, the decimal x rounded to p significant digits (ties to even,
on the exact binary value of x): exactly ``float(f"{x:.{p-1}e}")``. At p = 17 that is x itself (17
significant digits identify every float64), so the reply's shortest repr reads back as the value computed.

With e = floor(log10 |x|) and k = p - 1 - e, D = r * 10^-k where r = round(x * 10^k) is an integer below
10^p. Each step below is exact or one correctly rounded operation:

1. e from the binary exponent b of x (|x| in [2^(b-1), 2^b)): floor((b-1) log10 2), plus one where |x| is at
   least the smallest double >= 10^(e+1) (compared against exact thresholds, not the nearest doubles to the
   powers, which may lie below them).
2. hi = fl(x * 10^k) (k >= 0) or fl(x / 10^j) (j = -k > 0), with 10^k exact for k <= 22, and r = rint(hi).
   The exact v = x 10^k differs from hi by err, |err| <= ulp(hi)/2. That can change the rounding only where
   hi is exactly halfway between integers (err says which side v is on), or where ulp(hi) >= 1, i.e.
   hi >= 2^52 (p = 16 only). For those few numbers err is found exactly: by Dekker's product
   (x * 10^k = hi + err, both halves split into 26 bits), or from the remainder x - hi 10^j, which is a
   float64 (x - fl(hi 10^j) by Sterbenz, less the low half of the product), with err = remainder / 10^j.
   Then r moves one unit towards v where |v - r| > 1/2, or = 1/2 with r odd.
3. y = r / 10^k or r * 10^j, one correctly rounded operation on exact operands: the double nearest D.

Numbers with |k| > 22 (|x| < 10^(p-23) or |x| >= 10^(p+22); rare in a trace) have no exact power of ten
and are rounded by Python's formatting instead. At p = 16, an r that is an odd integer above 2^53 is not a
float64: step 3 is then done on Python integers, whose division rounds correctly. Zeros and non-finite
numbers come out as they went in.

Cost (bench/results/rounding.md): within ~10% of the plain rint(x 10^k) / 10^k at p <= 15; free at p = 17;
several times more at p = 16, where a third of the numbers need step 2's exact product.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from app.schemas.common import MAX_PRECISION

#: Significant digits that identify every float64: rounding to this many (or more) changes nothing.
EXACT_DIGITS = MAX_PRECISION
#: 10^k is exactly representable in float64 for k <= 22 (5^22 < 2^53).
MAX_EXACT_POWER = 22
#: Numbers rounded per pass: the temporaries of a block (~10 arrays of 64 KiB at most) stay in the CPU cache
#: and under malloc's mmap threshold, so they are neither fetched from memory nor page-faulted in anew.
BLOCK = 8192

_OFFSET = 400  # index offset of the tables below, by decimal exponent or by k


def _smallest_double_at_least(n: int) -> float:
    """The smallest float64 >= 10^n (exact comparison), for thresholds of floor(log10 |x|)."""
    nearest = float(f"1e{n}")
    if nearest == np.inf:  # 10^n beyond the largest double
        return nearest
    exact = Fraction(10) ** n
    return float(np.nextafter(nearest, np.inf)) if Fraction(nearest) < exact else nearest


#: THRESHOLDS[n + _OFFSET]: |x| >= 10^n exactly iff |x| >= this double.
THRESHOLDS = np.array([_smallest_double_at_least(n) for n in range(-_OFFSET, _OFFSET)])
#: By binary exponent b (frexp: |x| in [2^(b-1), 2^b); index b + _EXPONENT_OFFSET): -floor((b-1) log10 2),
#: and the threshold of the decade above, so k = digits - 1 + _K_BASE - (|x| >= _THRESHOLD_BY_EXPONENT).
_EXPONENT_OFFSET = 1100
_DECADE = (np.arange(-_EXPONENT_OFFSET, _EXPONENT_OFFSET) - 1) * 78913 >> 18  # exact for |b| < 2^11
_K_BASE = -_DECADE
_THRESHOLD_BY_EXPONENT = THRESHOLDS[np.clip(_DECADE + 1 + _OFFSET, 0, 2 * _OFFSET - 1)]
EXACT_POWERS = 10.0 ** np.arange(MAX_EXACT_POWER + 1)
_K = np.arange(-_OFFSET, _OFFSET)
#: By k (index k + _OFFSET): MULTIPLIER = 10^k for k >= 0, DIVISOR = 10^-k for k < 0, else 1; capped at
#: 10^22 (beyond it numbers go through Python's formatting).
MULTIPLIER = np.where(_K >= 0, 10.0 ** np.minimum(np.abs(_K), MAX_EXACT_POWER), 1.0)
DIVISOR = np.where(_K < 0, 10.0 ** np.minimum(np.abs(_K), MAX_EXACT_POWER), 1.0)
_TWO_52 = 2.0**52
_TWO_53 = 2.0**53
_SPLITTER = 2.0**27 + 1.0  # Veltkamp: splits a double into two halves of 26 significant bits


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """A float64 copy of ``values`` rounded to ``digits`` significant digits (non-finite values unchanged)."""
    a = np.array(values, dtype=np.float64)
    round_in_place(a.reshape(-1), digits)
    return a


def round_together(arrays: list[np.ndarray | None], digits: int) -> list[np.ndarray | None]:
    """Float64 copies of ``arrays`` rounded to ``digits`` significant digits: C-contiguous views of one
    buffer, rounded in one pass (None stays None)."""
    present = [a for a in arrays if a is not None]
    buffer = np.empty(sum(a.size for a in present))
    out: list[np.ndarray | None] = []
    start = 0
    for a in arrays:
        if a is None:
            out.append(None)
            continue
        view = buffer[start : start + a.size].reshape(a.shape)
        view[...] = a
        out.append(view)
        start += a.size
    round_in_place(buffer, digits)
    return out


def round_in_place(flat: np.ndarray, digits: int) -> None:
    """Round the 1-D float64 array ``flat`` to ``digits`` significant digits, in place."""
    if digits >= EXACT_DIGITS:
        return
    with np.errstate(invalid="ignore"):  # inf - inf in _correct's gap: such numbers are left as they are
        for start in range(0, flat.size, BLOCK):
            _round_block(flat[start : start + BLOCK], digits)


def _round_block(x: np.ndarray, digits: int) -> None:
    # Zeros and non-finite numbers have binary exponent 0, hence k = digits or digits - 1: they take the
    # common path, and 0 * 10^k, inf * 10^k and NaN come back unchanged.
    scratch, binary_exponent = np.frexp(x)
    binary_exponent += _EXPONENT_OFFSET
    k = _K_BASE.take(binary_exponent)
    np.abs(x, out=scratch)
    k -= scratch >= _THRESHOLD_BY_EXPONENT.take(binary_exponent)
    k += digits - 1
    if k.min() >= 0 and k.max() <= MAX_EXACT_POWER:  # every number of an ordinary trace
        multiplier = EXACT_POWERS.take(k)
        hi = np.multiply(x, multiplier, out=scratch)
        r = np.rint(hi)
        odd, odd_r = _correct(r, hi, x, multiplier, None, digits)
        np.divide(r, multiplier, out=x)
    else:
        multiplier, divisor = MULTIPLIER[k + _OFFSET], DIVISOR[k + _OFFSET]
        hi = x * multiplier / divisor  # one of the two factors is 1: a single rounding
        outside = np.flatnonzero(np.abs(k) > MAX_EXACT_POWER)
        hi[outside] = 0.0  # no exact power of ten: these are formatted instead
        r = np.rint(hi)
        odd, odd_r = _correct(r, hi, x, multiplier, divisor, digits)
        formatted = [float(f"{v:.{digits - 1}e}") for v in x[outside].tolist()]
        x[:] = r * divisor / multiplier
        x[outside] = formatted
    if odd.size:
        x[odd] = _exact_ratio(odd_r, k[odd])


#: 10^n as Python integers, for the exact quotients of ``_exact_ratio``.
_INTEGER_POWERS = np.array([10**n for n in range(MAX_EXACT_POWER + 1)], dtype=object)


def _exact_ratio(r: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The doubles nearest r * 10^-k for int64 r (|k| <= 22): Python's integer division and int-to-float
    conversion round correctly (ties to even), and these are few."""
    numerators = r.astype(object)
    up = k < 0
    out = np.empty(r.shape)
    out[~up] = (numerators[~up] / _INTEGER_POWERS[k[~up]]).astype(np.float64)
    out[up] = (numerators[up] * _INTEGER_POWERS[-k[up]]).astype(np.float64)
    return out


def _correct(
    r: np.ndarray,
    hi: np.ndarray,
    x: np.ndarray,
    multiplier: np.ndarray,
    divisor: np.ndarray | None,
    digits: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Move r = rint(hi) by one where hi's own rounding hid the side of 1/2 that v = x 10^k lies on. Where
    the corrected r is not a float64 (an odd integer above 2^53, p = 16 only), r keeps an even neighbour:
    return those indices and their exact r as int64."""
    gap = hi - r
    np.abs(gap, out=gap)
    if digits < 16 and gap.max() < 0.5:  # no tie to look at (a NaN in gap says nothing: look)
        return np.empty(0, np.intp), np.empty(0, np.int64)
    doubtful = gap == 0.5
    if digits >= 16:
        doubtful |= (np.abs(hi) >= _TWO_52) & np.isfinite(hi)
    near = np.flatnonzero(doubtful)
    if near.size == 0:
        return near, np.empty(0, np.int64)
    hi_n, r_n, x_n = hi[near], r[near], x[near]
    if divisor is None:
        sign, above, tie = _product_error(x_n, multiplier[near], hi_n)
    else:
        sign, above, tie = _error_sides(x_n, multiplier[near], divisor[near], hi_n)
    r_is_odd = (r_n.astype(np.int64) & 1).astype(bool)  # r < 10^17: an exact int64
    step = sign * (((hi_n - r_n) * sign == 0.5) | above | (tie & r_is_odd))
    moved = step != 0
    r[near[moved]] = r_n[moved] + step[moved]
    unrepresentable = moved & (np.abs(r_n) >= _TWO_53)
    exact_r = r_n[unrepresentable].astype(np.int64) + step[unrepresentable].astype(np.int64)
    return near[unrepresentable], exact_r


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a = high + low exactly, each with at most 26 significant bits (Veltkamp)."""
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


def _product_low(a: np.ndarray, b: np.ndarray, product: np.ndarray) -> np.ndarray:
    """a * b - fl(a * b), exactly (Dekker), for ``product`` = fl(a * b) without overflow or underflow."""
    ah, al = _split(a)
    bh, bl = _split(b)
    return ((ah * bh - product) + ah * bl + al * bh) + al * bl


def _product_error(
    x: np.ndarray, power: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For v = x * power = hi + err: sign(err), |err| > 1/2, |err| == 1/2."""
    err = _product_low(x, power, hi)
    size = np.abs(err)
    return np.sign(err), size > 0.5, size == 0.5


def _error_sides(
    x: np.ndarray, multiplier: np.ndarray, divisor: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_product_error`` where some numbers were divided: v = x / divisor = hi + remainder / divisor."""
    sign, above, tie = np.zeros_like(hi), np.zeros(hi.shape, bool), np.zeros(hi.shape, bool)
    divided = divisor != 1.0
    times = ~divided
    sign[times], above[times], tie[times] = _product_error(x[times], multiplier[times], hi[times])
    if divided.any():
        xd, dd, hd = x[divided], divisor[divided], hi[divided]
        remainder = (xd - hd * dd) - _product_low(hd, dd, hd * dd)
        twice = 2.0 * np.abs(remainder)
        sign[divided], above[divided], tie[divided] = np.sign(remainder), twice > dd, twice == dd
    return sign, above, tie
