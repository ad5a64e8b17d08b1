"""``unrolled.trace`` and ``unrolled.gradients``: the core's forward pass and BPTT on the caller's own model.

Inputs are time-major, as PyTorch's recurrent modules read them by default (``batch_first=False``):

    vectors  (T, I) one sequence, or (T, B, I) a batch      tokens  (T,) or (T, B) integer ids
    h0, c0   (L*D, H) or (L*D, B, H)                        lengths (B,) real steps of each padded sequence

A module built with ``batch_first=True`` is read its own way: a batch of vectors is (B, T, I), of tokens
(B, T), and an upstream gradient (B, T, W). The trace itself is always (T, B, ...). Padded sequences (with
``lengths``) run as PyTorch's packed sequences do: past its length a sequence's state is carried unchanged, so a
reverse layer starts at each sequence's own last element.

An upstream gradient R = dL/d(out) of any loss L gives every gradient of L by BPTT (core.bptt):

    of='h':  R_t = dL/dh_t^top, (T, B, D*H) (directions concatenated, forward first)
    of='y':  R_t = dL/dy_t,     (T, B, O)   (y_t = W_hy h_t^top + b_y, before any softmax)

and the value reported is the linear surrogate sum_t <R_t, out_t>, whose gradients are exactly these.

>>> import numpy as np
>>> from core.config import NetworkConfig
>>> from core.params import init_params
>>> config = NetworkConfig("lstm", input_size=2, hidden_size=3, output_size=1)
>>> model = (config, init_params(config, seed=0))
>>> x = np.linspace(-1, 1, 8).reshape(4, 2)
>>> trace(model, x).logits.shape
(4, 1, 1)
>>> g = gradients(model, x, np.ones((4, 1)))
>>> g.d_inputs.shape, sorted(g.params)[:2]
((4, 1, 2), ['bias_hh_l0', 'bias_ih_l0'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core import bptt
from core.bptt import UPSTREAM_OF
from core.network import forward
from unrolled.arrays import as_array, optional_array, time_major
from unrolled.model import Model, load
from unrolled.traced import Trace


def _inputs(model: Model, x: Any) -> np.ndarray:
    values = as_array(x, "x")
    batched = 3 if model.config.input_encoding == "vector" else 2
    return time_major(values, batch_first=model.batch_first, batched_ndim=batched)


def trace(
    model: Any,
    x: Any,
    *,
    h0: Any = None,
    c0: Any = None,
    lengths: Any = None,
    shape: str = "many_to_many",
    **load_options: Any,
) -> Trace:
    """Run ``model`` (anything :func:`unrolled.load` reads; ``load_options`` go to it: ``head=``,
    ``nonlinearity=``, ``dtype=``, ...) over ``x`` and record every number: each layer and direction's gates,
    candidate, states and pre-activations, the top layer's output and y_t. ``shape`` says where outputs are
    read ('many_to_many', 'many_to_one': each sequence's last real step, 'one_to_one')."""
    net = load(model, **load_options)
    lengths_array = None if lengths is None else as_array(lengths, "lengths")
    recorded = forward(
        net.params,
        net.config,
        _inputs(net, x),
        h0=optional_array(h0, "h0"),
        c0=optional_array(c0, "c0"),
        lengths=lengths_array,
        shape=shape,
    )
    return Trace.of(recorded, net)


@dataclass
class Gradients:
    """Every gradient of a loss L given its upstream gradient, for the traced batch.

    ``params`` are dL/dθ keyed like the model's parameters (core.params names: ``weight_ih_l0``, ...,
    ``output.weight``, ``embedding.weight``), summed over the batch; ``d_inputs`` is dL/dx_t (T, B, I) of the
    vectors layer 0 reads (the input vectors, the one-hot rows, or the embedding rows E[token_t]); ``dh`` and
    ``dc`` are the total dL/dh_t, dL/dc_t (T, B, H) per layer and direction; ``dh0``, ``dc0`` (L*D, B, H)."""

    trace: Trace
    of: str
    value: float  # sum_t <R_t, out_t>
    core: bptt.Gradients

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.core.params

    def by_source_name(self) -> dict[str, np.ndarray]:
        """``params`` keyed by the names of the state_dict or file the model was read from (``rnn.weight_ih_l0``,
        ``fc.weight``, ...), ready to compare with ``named_parameters()`` of the module that saved it."""
        assert self.trace.model is not None
        names = self.trace.model.source_names
        return {names.get(name, name): grad for name, grad in self.params.items()}

    @property
    def d_inputs(self) -> np.ndarray:
        return self.core.d_inputs

    @property
    def dh(self) -> list[list[np.ndarray]]:
        return self.core.dh

    @property
    def dc(self) -> list[list[np.ndarray | None]]:
        return self.core.dc

    @property
    def dh0(self) -> np.ndarray:
        return self.core.dh0

    @property
    def dc0(self) -> np.ndarray | None:
        return self.core.dc0

    def dh_norms(self, b: int = 0) -> list[list[np.ndarray]]:
        """||dL/dh_t|| over t of sequence ``b``, per layer and direction: vanishing or exploding, made visible."""
        return self.core.dh_norms(b)

    def dc_norms(self, b: int = 0) -> list[list[np.ndarray | None]]:
        return self.core.dc_norms(b)

    def global_norm(self) -> float:
        """sqrt(sum over parameters of ||dL/dθ||^2)."""
        return self.core.global_norm()

    def to_json(self, precision: int | None = None) -> bytes:
        """The JSON ``POST /api/v1/gradients`` gives for the same ``d_output`` (one sequence only)."""
        from unrolled.exports import gradients_json

        assert self.trace.model is not None
        return gradients_json(self.trace, self.trace.model, self.value, self.core, precision)


def gradients(
    model: Any,
    x: Any,
    d_output: Any,
    *,
    of: str | None = None,
    h0: Any = None,
    c0: Any = None,
    lengths: Any = None,
    **load_options: Any,
) -> Gradients:
    """Trace ``model`` over ``x`` (as :func:`trace`) and backpropagate the upstream gradient ``d_output``
    through time: ``of='y'`` (the default when the model has an output layer) for dL/dy_t, (T, O) or
    (T, B, O); ``of='h'`` (the default without one) for dL/dh_t of the top layer, (T, D*H) or (T, B, D*H)."""
    traced = trace(model, x, h0=h0, c0=c0, lengths=lengths, **load_options)
    net = traced.model
    assert net is not None
    config = net.config
    which = of if of is not None else ("y" if config.output_size is not None else "h")
    if which not in UPSTREAM_OF:
        raise ValueError(f"of= must be one of {UPSTREAM_OF}, got {which!r}")
    if which == "y" and config.output_size is None:
        raise ValueError("of='y' needs an output layer (a head); give dL/dh_t with of='h'")
    width = config.output_size if which == "y" else config.top_size
    upstream = time_major(as_array(d_output, "d_output"), batch_first=net.batch_first, batched_ndim=3)
    if upstream.ndim == 2:
        upstream = upstream[:, None, :]
    expected = (traced.num_steps, traced.batch_size, width)
    if upstream.shape != expected:
        what = "dL/dy_t: T x output_size" if which == "y" else "dL/dh_t of the top layer: T x directions*hidden"
        raise ValueError(f"d_output must have shape {expected[0::2]} or {expected} ({what}, of={which!r}), "
                         f"got {upstream.shape}")
    if upstream.dtype.kind not in "iuf" or not np.isfinite(upstream).all():
        raise ValueError("d_output must hold finite real numbers")
    with np.errstate(over="ignore", invalid="ignore"):
        value, grads = bptt.backward_from_output(net.params, traced, upstream.astype(config.np_dtype), which)
    return Gradients(traced, which, float(value), grads)
