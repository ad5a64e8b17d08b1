"""The whole HTML front end as one router: the static files and every page module's routes, in the order their
paths must be tried. The page modules do not include one another; this is the one place that knows them all.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.http.static_files import PrecompressedStaticFiles
from app.web import (
    docs_routes,
    embed,
    exercise_routes,
    lessons,
    picture_routes,
    routes,
    seq2seq_routes,
    training,
)
from app.web.templating import ROOT

router = APIRouter(include_in_schema=False)
router.mount("/static", PrecompressedStaticFiles(directory=ROOT / "static"), name="static")
router.include_router(routes.router)  # the network views: /, /cell, /heatmaps, /gradients, /compare, /whatif
# Before embed's /embed/{view}: /embed/train, /embed/lessons/... and /embed/presets/... are pages of their own.
router.include_router(training.router)  # /train: training runs with live curves
router.include_router(lessons.router)  # lessons and trained-model pages
router.include_router(embed.router)  # /embed and /embed/<view>: every view in an iframe
router.include_router(seq2seq_routes.router)  # /seq2seq: the encoder-decoder view
router.include_router(exercise_routes.router)  # /exercises: predict-then-reveal questions, scored here
router.include_router(docs_routes.router)  # /api/docs: the API reference from the OpenAPI schema
router.include_router(picture_routes.router)  # weight images and the pictures as slides (SVG, PNG)
