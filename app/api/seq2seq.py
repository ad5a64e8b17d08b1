"""POST /seq2seq/trace: an encoder-decoder run: every number of the encoder, context, decoder, attention."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import CacheDep, SettingsDep, StoreDep
from app.api.docs import BODY_ERRORS, errors
from app.api.replies import cached_json
from app.http.cache import request_key
from app.http.responses import JSONBytes
from app.schemas.responses import Seq2SeqResponse
from app.schemas.seq2seq import Seq2SeqRequest
from app.services.seq2seq import run_seq2seq
from app.wire.seq2seq_payload import seq2seq_payload
from app.wire.serialize import dumps

router = APIRouter(prefix="/seq2seq", tags=["seq2seq"], responses={**BODY_ERRORS, **errors(404)})


@router.post(
    "/trace",
    summary="Encode a source sentence and decode it: greedy, beam search or teacher forcing",
    response_class=JSONBytes,
    responses={200: {"model": Seq2SeqResponse}},
)
def seq2seq_trace(
    request: Request, req: Seq2SeqRequest, settings: SettingsDep, cache: CacheDep, store: StoreDep
) -> Response:
    # a stored model's id is the hash of its weights, so the request alone still decides the reply
    return cached_json(
        request,
        settings,
        cache,
        request_key("seq2seq", req),
        lambda: dumps(seq2seq_payload(run_seq2seq(req, limits=settings.limits, store=store))),
    )
