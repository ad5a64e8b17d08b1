"""Central differences and the error measure every gradient check uses.

    dL/dw_i ~ (L(w + eps e_i) - L(w - eps e_i)) / (2 eps)        error O(eps^2) + O(roundoff / eps)

    rel(num, ana) = ||num - ana|| / max(||num|| + ||ana||, tiny)

The relative error is taken over a whole tensor rather than entry by entry: entries that are nearly zero would
otherwise turn roundoff into huge ratios, while a per-tensor norm still flags any entry that is off by a
noticeable fraction of the tensor's size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPS = 1e-6
TOLERANCE = 1e-6


def central_difference(f: Callable[[], float], array: np.ndarray, eps: float = EPS) -> np.ndarray:
    """dL/d(array) by nudging each entry of ``array`` in place (and restoring it); ``f`` reads the array."""
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        plus = f()
        array[index] = original - eps
        minus = f()
        array[index] = original
        grad[index] = (plus - minus) / (2.0 * eps)
    return grad


def relative_error(numerical: np.ndarray, analytic: np.ndarray) -> float:
    numerical = np.asarray(numerical, dtype=np.float64)
    analytic = np.asarray(analytic, dtype=np.float64)
    scale = np.linalg.norm(numerical) + np.linalg.norm(analytic)
    return float(np.linalg.norm(numerical - analytic) / max(scale, np.finfo(np.float64).tiny))


def assert_gradient_matches(name: str, numerical: np.ndarray, analytic: np.ndarray,
                            tolerance: float = TOLERANCE) -> None:
    """Fail, naming the tensor, when the gradients disagree or are both zero (that would prove nothing)."""
    assert numerical.shape == analytic.shape, f"{name}: shapes {numerical.shape} vs {analytic.shape}"
    assert np.linalg.norm(analytic) > 0, f"{name}: analytic gradient is identically zero"
    error = relative_error(numerical, analytic)
    assert error < tolerance, f"{name}: relative error {error:.3e} >= {tolerance:.0e}"
