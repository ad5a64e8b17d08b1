"""Optimizers and gradient clipping, with the same update rules as torch.optim.

Parameters and gradients are dicts of arrays keyed alike; ``step`` updates the parameter arrays in place.

SGD with momentum mu, dampening tau, weight decay lambda (torch.optim.SGD):

    g <- g + lambda p
    b <- g                              on the first step
    b <- mu b + (1 - tau) g             afterwards
    g <- g + mu b  (Nesterov)  or  g <- b
    p <- p - lr g

Adam (torch.optim.Adam, L2 weight decay added to the gradient):

    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
    p <- p - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

Clipping by global norm (torch.nn.utils.clip_grad_norm_): with n = sqrt(sum of all squared gradient entries),
every gradient is scaled by min(1, max_norm / (n + 1e-6)). It runs between BPTT and the update, never inside
BPTT.
"""

from __future__ import annotations

import math

import numpy as np

Arrays = dict[str, np.ndarray]

OPTIMIZERS = ("sgd", "adam")


def global_norm(grads: Arrays) -> float:
    return math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))


def clip_by_global_norm(grads: Arrays, max_norm: float) -> tuple[Arrays, float]:
    """Scale all gradients together so their global norm is at most ``max_norm``; returns (grads, norm
    before)."""
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = global_norm(grads)
    scale = min(1.0, max_norm / (norm + 1e-6))
    if scale < 1.0:
        grads = {k: g * scale for k, g in grads.items()}
    return grads, norm


class SGD:
    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr <= 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("SGD needs lr > 0, momentum >= 0 and weight_decay >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and zero dampening")
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.buffers: Arrays = {}

    def step(self, params: Arrays, grads: Arrays) -> None:
        for name, g in grads.items():
            p = params[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                buf = self.buffers.get(name)
                if buf is None:
                    buf = self.buffers[name] = np.array(g, dtype=p.dtype)
                else:
                    buf *= self.momentum
                    buf += (1.0 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * g


class Adam:
    def __init__(
        self,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if lr <= 0 or eps < 0 or weight_decay < 0 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError("Adam needs lr > 0, eps >= 0, weight_decay >= 0 and betas in [0, 1)")
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0
        self.m: Arrays = {}
        self.v: Arrays = {}

    def step(self, params: Arrays, grads: Arrays) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1.0 - beta1**self.t)
        root_correction2 = math.sqrt(1.0 - beta2**self.t)
        for name, g in grads.items():
            p = params[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if name not in self.m:
                self.m[name] = np.zeros_like(p)
                self.v[name] = np.zeros_like(p)
            m, v = self.m[name], self.v[name]
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += (1.0 - beta2) * (g * g)
            p -= step_size * m / (np.sqrt(v) / root_correction2 + self.eps)


def make_optimizer(name: str, lr: float, momentum: float = 0.9, weight_decay: float = 0.0) -> SGD | Adam:
    """'sgd' (with ``momentum``) or 'adam' (default betas)."""
    if name == "sgd":
        return SGD(lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return Adam(lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZERS}")
