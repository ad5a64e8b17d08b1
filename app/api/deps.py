"""What routes need from the running app, kept on ``app.state``: settings, the model store, the reply cache.

The getters are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, which would
cost every computing request three extra thread hops (and three turns at the pool's limiter) just to read
attributes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.http.cache import ResponseCache
from app.settings import Settings
from app.storage.models import ModelStore


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> ModelStore:
    return request.app.state.store


async def get_cache(request: Request) -> ResponseCache:
    return request.app.state.cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ModelStore, Depends(get_store)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]
