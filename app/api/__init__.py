"""The JSON API under /api/v1: one router per resource, mounted by app.main."""

from fastapi import APIRouter

from app.api import gradients, meta, models, seq2seq, trace, training

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX)
for module in (meta, trace, gradients, seq2seq, models, training):
    router.include_router(module.router)
