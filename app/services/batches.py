"""Several sequences in one POST /trace: one network, one trace per sequence, the limits counted on the sum.

    inputs[0..N-1] --resolve_inputs--> (one model, N encoded inputs) --run_sequences--> N TraceResults

Each sequence runs on its own (app.services.trace.run_sequences), so its trace is exactly the one a single request
for it gets; what a batch shares is the model, its weights and options, and the limits: at most max_batch
sequences, each within max_steps, and the compute budget, the reply size and the texts' characters on the
sum over sequences (a batch cannot do more work than one request may).
"""

from __future__ import annotations

from app.errors import LimitExceededError, UnprocessableError
from app.schemas.requests import InputSpec, TextInput, TokensInput, TraceBatchRequest, VectorsInput
from app.services.limits import Limits
from app.services.resolve import INPUT_LOC, Loc, resolve_inputs
from app.services.trace import TraceResult, run_sequences
from app.storage.models import ModelStore

INPUT_FORMS = {VectorsInput: "vectors", TextInput: "text", TokensInput: "tokens"}


def sequences_of(req: TraceBatchRequest) -> tuple[list[InputSpec], list[Loc]]:
    """The request's inputs and where each sits: [input] for a single sequence, else inputs; 422 unless
    exactly one of the two is given."""
    if req.input is not None and req.inputs is not None:
        raise UnprocessableError(
            "give input (one sequence) or inputs (several), not both", ("body", "inputs")
        )
    if req.input is not None:
        return [req.input], [INPUT_LOC]
    if req.inputs is None:
        raise UnprocessableError(
            "give input (one sequence) or inputs (a list of sequences)", ("body", "input")
        )
    return list(req.inputs), [("body", "inputs", k) for k in range(len(req.inputs))]


def check_batch(inputs: list[InputSpec], locs: list[Loc], limits: Limits) -> None:
    """The batch's own limits: its size, one input form, the texts' characters together."""
    if len(inputs) > limits.max_batch:
        raise LimitExceededError(
            f"the batch holds {len(inputs)} sequences, over the limit of {limits.max_batch} "
            "(server setting UNROLLED_MAX_BATCH)",
            ("body", "inputs"),
        )
    first = INPUT_FORMS[type(inputs[0])]
    for inp, loc in zip(inputs, locs, strict=True):
        form = INPUT_FORMS[type(inp)]
        if form != first:
            raise UnprocessableError(
                f"every sequence of a batch must use the same input form: the first gives {first}, "
                f"this one {form}",
                loc,
            )
    chars = sum(len(inp.text) for inp in inputs if isinstance(inp, TextInput))
    if len(inputs) > 1 and chars > limits.max_text_chars:
        raise LimitExceededError(
            f"the texts of the batch have {chars} characters together, over the limit of "
            f"{limits.max_text_chars} (server setting UNROLLED_MAX_TEXT_CHARS)",
            ("body", "inputs"),
        )


def run_batch(
    req: TraceBatchRequest, *, store: ModelStore | None = None, limits: Limits | None = None
) -> list[TraceResult]:
    """One trace per sequence of the request, in order (a single ``input`` gives a list of one)."""
    limits = limits or Limits()
    inputs, locs = sequences_of(req)
    check_batch(inputs, locs, limits)
    model, encoded = resolve_inputs(req, inputs, locs, store, limits)
    return run_sequences(req, model, encoded, locs, limits)
