"""A JSON response serialised by orjson (NumPy arrays included), bypassing FastAPI's jsonable_encoder."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JSONBytes(JSONResponse):
    """Takes a dict (rendered by orjson) or bytes already rendered by app.wire.serialize.dumps."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
