"""The service layer: plain functions from a validated request to core results, shared by the JSON API, the
HTML front end and the ``unrolled trace`` command.

    request --resolve--> (config, params, encoded input) --core.forward / core.generate--> Trace
            --core.bptt--> loss and gradients

Nothing here knows about HTTP; errors are app.errors exceptions that carry the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from app.errors import ApiError, UnprocessableError
from app.schemas.model import ModelSpec, SeedWeights
from app.schemas.requests import (
    GenerationSpec,
    GradientRequest,
    TextInput,
    TokensInput,
    TraceBatchRequest,
    TraceOptions,
    TraceRequest,
)
from app.services.input_errors import unprocessable
from app.services.interventions import Planned, located, plan
from app.services.limits import Limits, check_run, check_runs, forward_cost
from app.services.resolve import (
    INPUT_LOC,
    EncodedInput,
    Loc,
    ResolvedModel,
    config_for_input,
    resolve,
    tokenize,
)
from app.services.states import initial_states
from app.storage.models import ModelStore
from core import bptt, losses
from core.bptt import Gradients
from core.cells import kernel_for
from core.config import NetworkConfig
from core.generate import generate
from core.interventions import InterventionError
from core.network import InputError, forward
from core.trace import Trace


@dataclass
class TraceResult:
    trace: Trace
    model: ResolvedModel
    input: EncodedInput
    quantities: tuple[str, ...]  # the recorded quantities the reply includes, in the cell's order
    precision: int
    original: Trace | None = None  # the run without the request's interventions, when it has some


@dataclass
class GradientResult:
    run: TraceResult
    loss: float
    loss_name: str
    gradients: Gradients
    jacobian_norms: list[list[np.ndarray]] | None


def quantity_names(config: NetworkConfig) -> tuple[str, ...]:
    """Every quantity a layer records for this cell, e.g. LSTM: i_pre .. o_pre, i .. o, c, tanh_c, h, h_prev,
    c_prev (read off a one-step record so the list always matches core)."""
    return _quantity_names(config.cell, config.nonlinearity, config.has_cell_state)


@cache
def _quantity_names(cell: str, nonlinearity: str, has_cell_state: bool) -> tuple[str, ...]:
    kernel = kernel_for(cell, nonlinearity)
    names = list(kernel.quantities(kernel.allocate(1, 1, 1, np.dtype(np.float64))))
    names.append("h_prev")
    if has_cell_state:
        names.append("c_prev")
    return tuple(names)


#: Quantities a reply holds only when ``include`` names them: pre-activations (``pre``, ``*_pre``), GRU's
#: W_hn h_{t-1} + b_hn (``hn``), tanh(c_t), and h_{t-1}, c_{t-1} (h and c shifted one step, h0/c0 first).
#: They follow from the default ones, so leaving them out halves a default LSTM reply.
ON_REQUEST = frozenset({"pre", "hn", "tanh_c", "h_prev", "c_prev"})


def default_quantities(config: NetworkConfig) -> tuple[str, ...]:
    """What a reply holds without ``include``: every gate activation, the candidate, c and h."""
    return tuple(
        name for name in quantity_names(config) if name not in ON_REQUEST and not name.endswith("_pre")
    )


def select_quantities(config: NetworkConfig, include: list[str] | None) -> tuple[str, ...]:
    if include is None:
        return default_quantities(config)
    available = quantity_names(config)
    unknown = [name for name in include if name not in available]
    if unknown:
        raise UnprocessableError(
            f"unknown quantities {unknown} for a {config.cell} cell; choose from {list(available)}",
            ("body", "include"),
        )
    return tuple(name for name in available if name in include)


def _precision(req: TraceOptions, limits: Limits) -> int:
    if req.precision is None:
        return limits.default_precision
    if req.precision > limits.max_precision:
        raise UnprocessableError(
            f"precision {req.precision} is over the limit of {limits.max_precision} significant digits "
            "(server setting UNROLLED_MAX_PRECISION)",
            ("body", "precision"),
        )
    return req.precision


def _states(req: TraceOptions, config: NetworkConfig) -> tuple[np.ndarray | None, np.ndarray | None]:
    return initial_states(req.h0, req.c0, config)


def seeded_forward_cost(req: TraceRequest | TraceBatchRequest, limits: Limits) -> int | None:
    """Multiply-adds of the request's forward pass when the request alone tells them (seeded weights, no
    generation, one sequence), without drawing the weights or reading the store; else None. Limits are not
    checked here: run_trace checks and reports them (an oversized model just gets a large cost)."""
    if not isinstance(req.weights, SeedWeights) or req.shape == "one_to_many":
        return None
    inp = req.input
    if inp is None or isinstance(req, TraceBatchRequest) and req.inputs is not None:
        return None
    if isinstance(inp, TextInput):
        steps = len(tokenize(inp.text, inp.tokenizer))
    else:
        steps = len(inp.tokens) if isinstance(inp, TokensInput) else len(inp.vectors)
    try:
        config, _ = config_for_input(req.model or ModelSpec(), inp, limits)
    except ApiError:
        return None
    return forward_cost(config, steps)


def run_trace(
    req: TraceRequest, *, store: ModelStore | None = None, limits: Limits | None = None
) -> TraceResult:
    """Run the request's sequence (or generate from its first input) and record every number."""
    limits = limits or Limits()
    model, encoded = resolve(req, store, limits)
    (result,) = run_sequences(req, model, [encoded], [INPUT_LOC], limits)
    return result


def run_sequences(
    req: TraceOptions, model: ResolvedModel, inputs: list[EncodedInput], locs: list[Loc], limits: Limits
) -> list[TraceResult]:
    """Trace each encoded input on its own through ``model`` (or generate from it), every limit counted on
    the sum over the inputs. One at a time, not as one padded batch: the numbers of each are bit for bit
    those it gets alone (a batched matrix product may sum in another order)."""
    quantities = select_quantities(model.config, req.include)
    precision = _precision(req, limits)
    h0, c0 = _states(req, model.config)
    planned = _planned(req, model, limits)
    if req.shape == "one_to_many":
        options = req.generation or GenerationSpec()
        for encoded, loc in zip(inputs, locs, strict=True):
            if encoded.steps != 1:
                raise UnprocessableError(
                    f"shape 'one_to_many' reads exactly one first input, got {encoded.steps} timesteps", loc
                )
        steps_loc = ("body", "generation", "steps")
        check_runs(
            limits, model.config, [options.steps] * len(inputs), len(quantities), [steps_loc] * len(inputs)
        )
        stop = _stop_token(options, model)
        traces = [_generate(model, encoded, options, stop, h0, c0) for encoded in inputs]
    else:
        if req.generation is not None:
            raise UnprocessableError(
                "generation options apply to shape 'one_to_many' only", ("body", "generation")
            )
        steps = [encoded.steps for encoded in inputs]
        # A what-if reply also carries the run without the interventions: both count against the limits.
        runs = 2 if planned.interventions else 1
        check_runs(limits, model.config, steps * runs, len(quantities), list(locs) * runs)
        traces = [_forward(req, model, encoded, h0, c0, planned) for encoded in inputs]
        if planned.interventions:
            originals = [_forward(req, model, encoded, h0, c0) for encoded in inputs]
            return [
                TraceResult(trace, model, encoded, quantities, precision, original)
                for trace, encoded, original in zip(traces, inputs, originals, strict=True)
            ]
    return [
        TraceResult(trace, model, encoded, quantities, precision)
        for trace, encoded in zip(traces, inputs, strict=True)
    ]


def _planned(req: TraceOptions, model: ResolvedModel, limits: Limits) -> Planned:
    """The request's interventions for core; 422 where they cannot apply (generation has no fixed steps)."""
    if req.interventions and req.shape == "one_to_many":
        raise UnprocessableError(
            "interventions change a run over a given sequence; shape 'one_to_many' generates its own",
            ("body", "interventions"),
        )
    return plan(req.interventions, model.config, model.vocab, limits)


def _forward(
    req: TraceOptions,
    model: ResolvedModel,
    encoded: EncodedInput,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    planned: Planned | None = None,
) -> Trace:
    interventions = planned.interventions if planned else ()
    try:
        return forward(
            model.params, model.config, encoded.values, h0=h0, c0=c0, shape=req.shape, interventions=interventions
        )
    except InterventionError as exc:
        assert planned is not None
        raise located(exc, planned) from None
    except (InputError, ValueError) as exc:
        raise unprocessable(exc) from None


def _stop_token(options: GenerationSpec, model: ResolvedModel) -> int | None:
    stop = options.stop_token
    if isinstance(stop, str):
        if model.vocab is None or stop not in model.vocab:
            raise UnprocessableError(
                f"stop_token {stop!r} is not a token of the vocabulary", ("body", "generation", "stop_token")
            )
        return model.vocab.index(stop)
    return stop


def _generate(
    model: ResolvedModel,
    encoded: EncodedInput,
    options: GenerationSpec,
    stop: int | None,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
) -> Trace:
    first = encoded.values[0]
    try:
        return generate(
            model.params,
            model.config,
            int(first) if first.ndim == 0 else first,
            options.steps,
            feedback=options.feedback,
            temperature=options.temperature,
            sample=options.sample,
            seed=options.seed,
            h0=h0,
            c0=c0,
            stop_token=stop,
        )
    except (InputError, ValueError) as exc:
        raise unprocessable(exc) from None


def _targets(req: GradientRequest, trace: Trace, loss: str) -> np.ndarray:
    """(T, 1) class ids or (T, 1, O) rows; a single target is placed at the last step."""
    assert req.targets is not None
    T = trace.num_steps
    given = len(req.targets)
    if given not in _row_counts(req, T):
        raise UnprocessableError(
            f"targets holds {given} entries, expected {_rows_expected(req, T)}", ("body", "targets")
        )
    first = req.targets[0]
    out: np.ndarray
    if loss == "cross_entropy":
        if not isinstance(first, int):
            raise UnprocessableError(
                "cross_entropy needs targets as class ids (integers)", ("body", "targets")
            )
        out = np.zeros((T, 1), np.int64)
    else:
        if not isinstance(first, list):
            raise UnprocessableError("mse needs targets as rows of output_size numbers", ("body", "targets"))
        widths = {len(row) for row in req.targets}  # type: ignore[arg-type]
        if widths != {trace.config.output_size}:
            raise UnprocessableError(
                f"every target row must hold output_size = {trace.config.output_size} numbers",
                ("body", "targets"),
            )
        out = np.zeros((T, 1, trace.config.output_size or 0))
    values = np.array(req.targets)
    if given == T:
        out[:, 0] = values
    else:
        out[T - 1, 0] = values[0]
    return out


def _last_only(req: GradientRequest) -> bool:
    return req.where == "last" or (req.where is None and req.shape in ("many_to_one", "one_to_one"))


def _row_counts(req: GradientRequest, steps: int) -> tuple[int, ...]:
    """How many rows targets or d_output may hold: one per timestep, or one when only the last step counts."""
    return (1, steps) if _last_only(req) else (steps,)


def _rows_expected(req: GradientRequest, steps: int) -> str:
    return f"1 or {steps}" if _last_only(req) else f"{steps} (one per timestep)"


def _upstream(req: GradientRequest, trace: Trace) -> np.ndarray:
    """d_output.values as the (T, 1, width) array core.bptt.backward_from_output reads, checked in the
    caller's terms; a single row belongs to the last step."""
    assert req.d_output is not None
    config, T = trace.config, trace.num_steps
    loc = ("body", "d_output", "values")
    rows = req.d_output.values
    if req.d_output.of == "h":
        width = config.top_size
        what = f"hidden_size = {config.hidden_size} numbers (dL/dh_t of the top layer)"
        if config.num_directions == 2:
            what = f"2 x hidden_size = {width} numbers (dL/dh_t of the top layer, forward then reverse direction)"
    else:
        if config.output_size is None:
            raise UnprocessableError(
                "d_output of 'y' needs an output layer: set model.output_size, or give d_output of 'h'",
                ("body", "d_output", "of"),
            )
        width = config.output_size
        what = f"output_size = {width} numbers (dL/dy_t)"
    if len(rows) not in _row_counts(req, T):
        raise UnprocessableError(
            f"d_output.values holds {len(rows)} rows, expected {_rows_expected(req, T)}", loc
        )
    widths = sorted({len(row) for row in rows})
    if widths != [width]:
        raise UnprocessableError(f"every row of d_output.values must hold {what}, got rows of {widths}", loc)
    out = np.zeros((T, 1, width))
    values = np.array(rows, dtype=np.float64)
    if len(rows) == T:
        out[:, 0] = values
    else:
        out[T - 1, 0] = values[0]
    return out


def _objective(req: GradientRequest) -> str:
    """Which loss a gradient request differentiates: its named loss, or 'd_output'; 422 unless exactly one."""
    if req.d_output is not None:
        for name in ("targets", "loss", "where"):
            if getattr(req, name) is not None:
                raise UnprocessableError(
                    f"give either a named loss (targets, loss, where) or d_output, not both; {name} is set",
                    ("body", name),
                )
        return "d_output"
    if req.targets is None:
        raise UnprocessableError(
            "give targets (for a named loss) or d_output (the upstream gradient of a loss of your own)",
            ("body", "targets"),
        )
    return req.loss or "cross_entropy"


def run_gradients(
    req: GradientRequest, *, store: ModelStore | None = None, limits: Limits | None = None
) -> GradientResult:
    """Forward pass, loss (named, or the caller's through d_output), BPTT and (optionally) the state
    Jacobian norms ||dh_T/dh_t||."""
    limits = limits or Limits()
    objective = _objective(req)
    if req.shape == "one_to_many":
        raise UnprocessableError(
            "gradients are computed for many_to_many, many_to_one and one_to_one", ("body", "shape")
        )
    model, encoded = resolve(req, store, limits)
    if objective != "d_output" and model.config.output_size is None:
        raise UnprocessableError(
            "a named loss needs an output layer: set model.output_size (or give d_output of 'h')",
            ("body", "model", "output_size"),
        )
    precision = _precision(req, limits)
    check_run(limits, model.config, encoded.steps, 4, gradients=True, jacobian=req.include_jacobian)
    h0, c0 = _states(req, model.config)
    trace = _forward(req, model, encoded, h0, c0, _planned(req, model, limits))
    if objective == "d_output":
        assert req.d_output is not None
        upstream = _upstream(req, trace)
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads = bptt.backward_from_output(model.params, trace, upstream, req.d_output.of)
    else:
        targets = _targets(req, trace, objective)
        assert trace.logits is not None
        try:
            loss, d_logits = losses.compute(
                objective,
                trace.logits,
                targets,
                bptt.output_weights(trace, req.where),
                model.config.output_activation == "softmax",
            )
        except ValueError as exc:
            raise UnprocessableError(str(exc), ("body", "targets")) from None
        with np.errstate(over="ignore", invalid="ignore"):
            grads = bptt.backward(model.params, trace, d_logits)
    with np.errstate(over="ignore", invalid="ignore"):
        jac = bptt.state_jacobian_norms(model.params, trace) if req.include_jacobian else None
    run = TraceResult(trace, model, encoded, (), precision)
    return GradientResult(run, loss, objective, grads, jac)
