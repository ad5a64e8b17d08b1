"""POST /gradients: loss, BPTT gradient norms over time, the state Jacobian norms, parameter gradients and
dL/dx, of a named loss or of any loss given by its upstream gradient ``d_output``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import CacheDep, SettingsDep, StoreDep
from app.api.docs import BODY_ERRORS, errors
from app.api.replies import computed_json
from app.http.cache import request_key
from app.http.responses import JSONBytes
from app.schemas.requests import GradientRequest
from app.schemas.responses import GradientResponse
from app.services.limits import Limits
from app.services.trace import run_gradients
from app.storage.models import ModelStore
from app.wire.serialize import dumps, gradients_payload

router = APIRouter(tags=["gradients"], responses={**BODY_ERRORS, **errors(404)})


@router.post(
    "/gradients",
    summary="Backpropagation through time: dL/dh_t over time, parameter gradients and dL/dx",
    description="Differentiates a named loss (`targets`, `loss`) or a loss of your own given by its upstream "
    "gradient `d_output` (`of`: `h`, the top layer's output, or `y`, the output layer's; one row per step). "
    "With `d_output` the gradients are those of your loss, and `loss` is sum_t <d_output_t, out_t>. Every "
    "reply holds dL/dx_t (`d_input`: of the input vectors, the one-hot rows or the embedding rows used) and "
    "dL/dh0, dL/dc0.",
    response_class=JSONBytes,
    responses={200: {"model": GradientResponse}},
)
async def gradients(
    request: Request, req: GradientRequest, settings: SettingsDep, store: StoreDep, cache: CacheDep
) -> Response:
    render = lambda: gradients_body(req, store, settings.limits)  # noqa: E731
    return await computed_json(request, settings, cache, request_key("gradients", req), render, "gradients")


def gradients_body(req: GradientRequest, store: ModelStore | None, limits: Limits) -> bytes:
    return dumps(gradients_payload(run_gradients(req, store=store, limits=limits)))
