"""Losses over sequences, each returning the loss and its gradient with respect to the logits y_t.

Only positions where ``weights`` (T, B) is True count; N is their number.

    cross-entropy:  L = -(1/N) sum_{t,b} log softmax(y_{t,b})[target_{t,b}]
                    dL/dy = (softmax(y) - onehot(target)) / N
    MSE:            L = (1/(N O)) sum_{t,b,k} (out_{t,b,k} - target_{t,b,k})^2,   out = y, or softmax(y)
                    dL/dout = 2 (out - target) / (N O), pulled back through the softmax when there is one.

This matches PyTorch's CrossEntropyLoss and MSELoss with reduction='mean' over the counted positions.

A loss of the caller's own is given by its upstream gradient R = dL/dout instead. Its linear surrogate

    linear:         L = sum_{t,b,k} w_{t,b} R_{t,b,k} out_{t,b,k},      dL/dout = w R

has exactly that gradient, so BPTT from it gives the caller's dL/dtheta and dL/dx (and L is the number a
framework reports for sum(out * R)).
"""

from __future__ import annotations

import numpy as np

from core import activations

LOSSES = ("cross_entropy", "mse")


def cross_entropy(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    V = logits.shape[-1]
    targets = np.asarray(targets)
    if targets.shape != logits.shape[:2] or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(
            f"cross-entropy targets must be integer class ids shaped {logits.shape[:2]}, "
            f"got {targets.dtype} {targets.shape}"
        )
    counted = weights.astype(bool)
    if (targets[counted] < 0).any() or (targets[counted] >= V).any():
        raise ValueError(f"cross-entropy targets must lie in [0, {V - 1}]")
    n = max(int(counted.sum()), 1)
    logp = activations.log_softmax(logits)
    safe_targets = np.where(counted, targets, 0)
    picked = np.take_along_axis(logp, safe_targets[..., None], axis=-1)[..., 0]
    loss = -float(picked[counted].sum()) / n
    grad = np.exp(logp)
    np.put_along_axis(
        grad, safe_targets[..., None], np.take_along_axis(grad, safe_targets[..., None], -1) - 1.0, -1
    )
    grad *= counted[..., None] / n
    return loss, grad


def mse(
    logits: np.ndarray, targets: np.ndarray, weights: np.ndarray, softmax_output: bool = False
) -> tuple[float, np.ndarray]:
    targets = np.asarray(targets, dtype=logits.dtype)
    if targets.shape != logits.shape:
        raise ValueError(f"MSE targets must have shape {logits.shape}, got {targets.shape}")
    counted = weights.astype(bool)[..., None]
    n = max(int(counted.sum()), 1) * logits.shape[-1]
    out = activations.softmax(logits) if softmax_output else logits
    diff = np.where(counted, out - targets, 0.0)
    loss = float((diff * diff).sum()) / n
    grad_out = 2.0 * diff / n
    if softmax_output:
        grad_out = out * (grad_out - (grad_out * out).sum(-1, keepdims=True))
    return loss, grad_out


def linear(outputs: np.ndarray, upstream: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """sum(w * R * out) over the counted positions, and its gradient w R with respect to ``outputs``."""
    upstream = np.asarray(upstream, dtype=outputs.dtype)
    if upstream.shape != outputs.shape:
        raise ValueError(f"the upstream gradient must have shape {outputs.shape}, got {upstream.shape}")
    if not np.isfinite(upstream).all():
        raise ValueError("the upstream gradient must be finite")
    grad = np.where(weights.astype(bool)[..., None], upstream, 0.0).astype(outputs.dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        value = float((grad * outputs).sum())
    return value, grad


def compute(
    name: str, logits: np.ndarray, targets: np.ndarray, weights: np.ndarray, softmax_output: bool = False
) -> tuple[float, np.ndarray]:
    if name == "cross_entropy":
        return cross_entropy(logits, targets, weights)
    if name == "mse":
        return mse(logits, targets, weights, softmax_output)
    raise ValueError(f"unknown loss {name!r}; expected one of {LOSSES}")
