"""Stored models: upload a weights file, read a model's config, download its weights.

Ids are content hashes (64 hex digits) and act as capability links: there is deliberately no listing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.deps import SettingsDep, StoreDep
from app.api.docs import COMMON, errors
from app.errors import NotFoundError, UnprocessableError
from app.http.responses import JSONBytes
from app.schemas.responses import StoredModelInfo
from app.services.uploads import import_model, parse_upload_config

router = APIRouter(prefix="/models", tags=["models"], responses=COMMON)

UPLOAD_CONFIG_HELP = (
    "JSON object: cell, nonlinearity, output_activation, input_encoding, dtype, vocab, output_labels, name, "
    "tokenizer (chars or words: how typed text splits into vocab); for an encoder-decoder (tensors named as "
    "GET /models/{id}/weights gives them): cell, nonlinearity, dtype, name, tokenizer, vocab (source tokens), "
    "target_vocab, max_length"
)
ModelId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="content hash of the model")]


@router.post(
    "",
    status_code=201,
    summary="Upload an .npz or .safetensors file with PyTorch state_dict names",
    response_class=JSONBytes,
    responses={201: {"model": StoredModelInfo}, **errors(400, 413, 422)},
)
async def upload(
    file: Annotated[UploadFile, File(description=".npz or .safetensors weights")],
    settings: SettingsDep,
    store: StoreDep,
    config: Annotated[str | None, Form(description=UPLOAD_CONFIG_HELP)] = None,
) -> Response:
    options = parse_upload_config(config)
    data = await file.read()
    if not data:
        raise UnprocessableError("the uploaded file is empty", ("body", "file"))
    info = await run_in_threadpool(import_model, data, options, store, settings.limits)
    return JSONBytes(info, status_code=201)


@router.get(
    "/{model_id}",
    summary="A stored model's configuration and labels",
    response_class=JSONBytes,
    responses={200: {"model": StoredModelInfo}, **errors(404, 422)},
)
def describe(model_id: ModelId, store: StoreDep) -> Response:
    info = store.describe(model_id)
    if info is None:
        raise NotFoundError(f"no stored model with id {model_id!r}")
    return JSONBytes(info)


@router.get(
    "/{model_id}/weights",
    summary="Download a stored model's weights",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The weights file"},
        **errors(404, 422),
    },
)
def weights(model_id: ModelId, store: StoreDep, format: Literal["npz", "safetensors"] = "npz") -> Response:
    from core.weights_io import weights_to_bytes

    stored = store.get(model_id)
    if stored is None:
        raise NotFoundError(f"no stored model with id {model_id!r}")
    return Response(
        weights_to_bytes(stored.params, format),
        media_type="application/octet-stream",
        headers={"content-disposition": f'attachment; filename="{model_id[:12]}.{format}"'},
    )
