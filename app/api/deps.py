"""What routes need from the running app: settings and the model store, kept on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.cache import ResponseCache
from app.settings import Settings
from app.store import ModelStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> ModelStore:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ModelStore, Depends(get_store)]


def get_cache(request: Request) -> ResponseCache:
    return request.app.state.cache


CacheDep = Annotated[ResponseCache, Depends(get_cache)]
