"""What the server offers: health, readiness, cells, activations, tasks, presets and limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import SettingsDep, StoreDep
from app.api.docs import COMMON
from app.errors import StoreUnavailableError
from app.http.responses import JSONBytes
from app.services.trace import default_quantities, quantity_names
from core import activations
from core.config import GATES, OUTPUT_ACTIVATIONS, NetworkConfig
from core.presets import list_presets
from core.tasks import list_tasks

router = APIRouter(tags=["meta"], responses=COMMON)

CELL_EQUATIONS = {
    "rnn": ["h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)"],
    "lstm": [
        "i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)",
        "f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)",
        "g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)",
        "o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)",
        "c_t = f_t * c_{t-1} + i_t * g_t",
        "h_t = o_t * tanh(c_t)",
    ],
    "gru": [
        "r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)",
        "z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)",
        "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))",
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}",
    ],
}


# HEAD too (left out of the schema, where it would repeat GET): uptime monitors and load balancers probe with it.
@router.head("/health", include_in_schema=False)
@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    # On the event loop, not in the thread pool: a liveness probe must not wait behind long traces there.
    return {"status": "ok"}


@router.head("/ready", include_in_schema=False)
@router.get(
    "/ready",
    summary="Readiness: the model store can be read and written",
    responses={503: {"description": "The model store cannot be read or written."}},
)
def ready(store: StoreDep) -> JSONBytes:
    try:
        store.check_writable()  # a read-only store answers reads, but uploads and training would fail
        models = store.count()
    except Exception as exc:  # any failure of the store means "not ready", never a 500
        return JSONBytes({"status": "unavailable", "detail": f"model store: {exc}"}, status_code=503,
                         headers=StoreUnavailableError.headers)
    return JSONBytes({"status": "ready", "stored_models": models})


@router.get("/cells", summary="Recurrent cells, their gates, equations and recorded quantities")
def cells() -> list[dict[str, Any]]:
    out = []
    for cell, gates in GATES.items():
        config = NetworkConfig(cell=cell)
        out.append(
            {
                "name": cell,
                "gates": list(gates),
                "has_cell_state": config.has_cell_state,
                "equations": CELL_EQUATIONS[cell],
                "quantities": list(quantity_names(config)),
                "default_quantities": list(default_quantities(config)),
                "nonlinearities": list(activations.NONLINEARITIES) if cell == "rnn" else ["tanh"],
            }
        )
    return out


@router.get("/activations", summary="Nonlinearities of the vanilla RNN and output activations")
def list_activations() -> dict[str, list[str]]:
    return {
        "nonlinearities": list(activations.NONLINEARITIES),
        "output_activations": list(OUTPUT_ACTIVATIONS),
    }


@router.get("/tasks", summary="Built-in training tasks with their default options")
def tasks() -> JSONBytes:
    return JSONBytes(list_tasks())


@router.get(
    "/presets",
    summary="Ready-made trained models: task, configuration, vocabulary, metrics",
)
def presets() -> JSONBytes:
    return JSONBytes(list_presets())


@router.get("/limits", summary="Size limits, compute budget and body limits of this server")
def limits(settings: SettingsDep) -> dict[str, Any]:
    return {
        **settings.limits.as_dict(),
        "max_body_bytes": settings.max_body_bytes,
        "max_upload_bytes": settings.max_upload_bytes,
        "rate_limit_per_minute": settings.rate_limit_per_minute,
        "rate_limit_burst": settings.rate_limit_burst,
    }
