"""Element-wise activations, written to stay finite for any finite input.

    sigmoid(z) = 1 / (1 + exp(-z)) = 0.5 * tanh(z / 2) + 0.5
    tanh(z)
    relu(z)    = max(z, 0)
    softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z)

The tanh form of the sigmoid never overflows (np.exp(-z) does for z < -709), which is why every gate in the
cells uses it: pre-activations of |z| = 1e4 give exactly 0 or 1 without a warning.
"""

from __future__ import annotations

import numpy as np

NONLINEARITIES = ("tanh", "sigmoid", "relu")


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """sigmoid(z) = 0.5 * tanh(z / 2) + 0.5, in place when ``out`` is given."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    result: np.ndarray = np.tanh(z, out=out)
    return result


def relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    result: np.ndarray = np.maximum(z, 0.0, out=out)
    return result


def apply(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Apply the nonlinearity called ``name`` (one of NONLINEARITIES)."""
    if name == "tanh":
        return tanh(z, out)
    if name == "sigmoid":
        return sigmoid(z, out)
    if name == "relu":
        return relu(z, out)
    raise ValueError(f"unknown nonlinearity {name!r}; expected one of {NONLINEARITIES}")


def derivative_from_output(name: str, a: np.ndarray) -> np.ndarray:
    """d act(z) / dz expressed through a = act(z), which the trace already holds.

    tanh: 1 - a^2;  sigmoid: a (1 - a);  relu: 1 where a > 0 else 0.
    """
    slope: np.ndarray
    if name == "tanh":
        slope = 1.0 - a * a
        return slope
    if name == "sigmoid":
        slope = a * (1.0 - a)
        return slope
    if name == "relu":
        return (a > 0).astype(a.dtype)
    raise ValueError(f"unknown nonlinearity {name!r}; expected one of {NONLINEARITIES}")


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z) = z - max z - log sum exp(z - max z), stable for large |z|."""
    shifted = z - np.max(z, axis=axis, keepdims=True)
    result: np.ndarray = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return result


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    result: np.ndarray = e / np.sum(e, axis=axis, keepdims=True)
    return result
