"""Size limits and the compute budget every request is checked against before any number is computed.

The cost of a forward pass is counted in multiply-adds. Layer l of width H with G gate chunks (1 RNN, 3 GRU,
4 LSTM), reading inputs of width I_l, over T steps and D directions:

    forward   = sum_l D * T * G*H * (I_l + H)  +  T * O * D*H   (input, recurrent and output GEMMs)
    gradients = 3 * forward                                     (BPTT: about twice the forward pass)
    jacobian  = sum_l D * T * G*H * H * H                       (H cotangent rows carried back per step)

A batch of sequences is charged the sum of its sequences' costs and reply sizes (each sequence is also held to
max_steps), so the compute budget and the reply size bound a request, however it is split into sequences.

A response holds T * H numbers per recorded quantity, layer and direction (a gradient reply T * I more, for
dL/dx_t); ``max_numbers`` bounds that so a single reply stays a few megabytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields, replace

from app.errors import LimitExceededError
from app.schemas.common import MAX_PRECISION
from core.config import NetworkConfig


@dataclass(frozen=True)
class Limits:
    max_steps: int = 1000
    max_batch: int = 64  # sequences in one POST /trace
    max_hidden_size: int = 512
    max_layers: int = 4
    max_input_size: int = 1024
    max_vocab_size: int = 2000
    max_output_size: int = 2000
    max_text_chars: int = 20_000
    max_compute: int = 400_000_000
    max_numbers: int = 2_000_000
    max_train_steps: int = 5000
    max_train_seconds: int = 120
    max_training_jobs: int = 2  # queued or running at once, over all workers and replicas
    # What an uploaded weights file may unpack to (its headers are checked against these before any tensor is
    # read): real weights barely compress, so this is a few times the upload size, and it covers the largest
    # model the size limits above allow in float32.
    max_upload_tensors: int = 1024
    max_upload_tensor_bytes: int = 128 * 1024 * 1024
    default_precision: int = 4
    max_interventions: int = 64  # what-if changes in one request
    max_precision: int = MAX_PRECISION  # 17 digits give every float64 exactly (app.wire.rounding)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """Each field from UNROLLED_<FIELD NAME IN CAPITALS>, e.g. UNROLLED_MAX_STEPS."""
        env = os.environ if env is None else env
        changes: dict[str, int] = {}
        for f in fields(cls):
            var = f"UNROLLED_{f.name.upper()}"
            if var in env:
                try:
                    value = int(env[var])
                except ValueError:
                    raise ValueError(f"{var} must be an integer, got {env[var]!r}") from None
                if value < 1:
                    raise ValueError(f"{var} must be a positive integer, got {value}")
                changes[f.name] = value
        limits = replace(cls(), **changes)
        if limits.max_precision > MAX_PRECISION:
            raise ValueError(
                f"UNROLLED_MAX_PRECISION must be at most {MAX_PRECISION} (17 significant digits already give "
                f"every float64 exactly), got {limits.max_precision}"
            )
        if limits.default_precision > limits.max_precision:
            raise ValueError(
                f"UNROLLED_DEFAULT_PRECISION ({limits.default_precision}) is over UNROLLED_MAX_PRECISION "
                f"({limits.max_precision})"
            )
        return limits

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Offload:
    """When a run is heavy: more multiply-adds than ``compute``, or more recorded numbers than ``numbers`` (each
    one rounded and written out: a reply of two million numbers costs seconds whatever its compute)."""

    compute: int
    numbers: int

    def wants(self, cost: int, numbers: int) -> bool:
        return cost > self.compute or numbers > self.numbers


#: Set by a route (app.api.replies.computed_json) to its server's heavy-work thresholds: a run that meets every
#: limit but is heavy is not computed where it was asked for; check_runs raises OffloadRequested and the route
#: hands the request to app.http.heavy_lane's processes. None: compute here.
OFFLOAD_ABOVE: ContextVar[Offload | None] = ContextVar("offload_above", default=None)


class OffloadRequested(Exception):  # noqa: N818 (a signal to the route, not an error)
    def __init__(self, cost: int) -> None:
        super().__init__(cost)
        self.cost = cost


def forward_cost(config: NetworkConfig, steps: int) -> int:
    G, H, D = len(config.gates), config.hidden_size, config.num_directions
    recurrent = sum(
        D * steps * G * H * (config.layer_input_size(layer) + H) for layer in range(config.num_layers)
    )
    return recurrent + steps * (config.output_size or 0) * config.top_size


def jacobian_cost(config: NetworkConfig, steps: int) -> int:
    G, H, D = len(config.gates), config.hidden_size, config.num_directions
    return config.num_layers * D * steps * G * H * H * H


def _over(value: int, limit: int, what: str, loc: tuple[str | int, ...], env: str) -> None:
    if value > limit:
        raise LimitExceededError(
            f"{what} is {value}, over the limit of {limit} (server setting UNROLLED_{env})", loc
        )


def check_config(
    limits: Limits, config: NetworkConfig, model_loc: tuple[str | int, ...] = ("body", "model")
) -> None:
    """Every size of the configuration within its limit; the error names the field."""
    _over(
        config.hidden_size,
        limits.max_hidden_size,
        "hidden_size",
        (*model_loc, "hidden_size"),
        "MAX_HIDDEN_SIZE",
    )
    _over(config.num_layers, limits.max_layers, "num_layers", (*model_loc, "num_layers"), "MAX_LAYERS")
    if config.vocab_size is not None:
        _over(config.vocab_size, limits.max_vocab_size, "vocab size", (*model_loc, "vocab"), "MAX_VOCAB_SIZE")
    _over(
        config.input_size, limits.max_input_size, "input_size", (*model_loc, "input_size"), "MAX_INPUT_SIZE"
    )
    if config.output_size is not None:
        _over(
            config.output_size,
            limits.max_output_size,
            "output_size",
            (*model_loc, "output_size"),
            "MAX_OUTPUT_SIZE",
        )


def check_run(
    limits: Limits,
    config: NetworkConfig,
    steps: int,
    quantities: int,
    *,
    gradients: bool = False,
    jacobian: bool = False,
    steps_loc: tuple[str | int, ...] = ("body", "input"),
) -> None:
    """Sequence length, compute budget and response size of one run within their limits."""
    check_runs(limits, config, [steps], quantities, [steps_loc], gradients=gradients, jacobian=jacobian)


def check_runs(
    limits: Limits,
    config: NetworkConfig,
    steps: Sequence[int],
    quantities: int,
    steps_locs: Sequence[tuple[str | int, ...]],
    *,
    gradients: bool = False,
    jacobian: bool = False,
) -> None:
    """Runs of one network over several sequences (``steps`` timesteps each), counted together: each
    sequence within max_steps, the compute budget and the response size on the sum over sequences."""
    check_config(limits, config)
    for n, loc in zip(steps, steps_locs, strict=True):
        _over(n, limits.max_steps, "the number of timesteps", loc, "MAX_STEPS")
    cost = sum(forward_cost(config, n) for n in steps) * (3 if gradients else 1)
    if jacobian:
        cost += sum(jacobian_cost(config, n) for n in steps)
    if cost > limits.max_compute:
        hint = " (or set include_jacobian to false)" if jacobian else ""
        what = "this run needs" if len(steps) == 1 else f"these {len(steps)} sequences need, together,"
        shorter = "a shorter input" if len(steps) == 1 else "fewer or shorter sequences"
        raise LimitExceededError(
            f"compute budget: {what} about {cost} multiply-adds (T x H x (I + H) x gates x layers x "
            f"directions), over the limit of {limits.max_compute} (server setting UNROLLED_MAX_COMPUTE); "
            f"use {shorter} or a smaller model{hint}",
            ("body",),
        )
    total = sum(steps)
    numbers = total * config.hidden_size * quantities * config.num_layers * config.num_directions
    if gradients:
        numbers += total * config.input_size  # dL/dx_t, one row per step
    _over(
        numbers,
        limits.max_numbers,
        "the number of values in the response",
        ("body", "include"),
        "MAX_NUMBERS",
    )
    offload = OFFLOAD_ABOVE.get()
    if offload is not None and offload.wants(cost, numbers):
        raise OffloadRequested(cost)
