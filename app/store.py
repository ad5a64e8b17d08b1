"""Stored models (uploaded or trained) in one SQLite file, addressed by the hash of their content.

    id = sha256( canonical JSON of the config  ||  for each tensor, by name: name, dtype, shape, raw bytes )

so the same weights and configuration always get the same id, on any replica, and storing twice is a no-op.
Each operation opens its own connection (cheap for SQLite), which makes the store safe to share between
threads and between worker processes; WAL lets readers run while a writer commits, and the busy timeout
makes concurrent writers wait instead of failing. Tensors are kept as an .npz blob (no pickle).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.sqlite_file import SQLiteFile
from core.config import NetworkConfig
from core.params import Params

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    meta TEXT NOT NULL,
    weights BLOB NOT NULL,
    created REAL NOT NULL
)
"""


@dataclass
class StoredModel:
    id: str
    config: NetworkConfig
    params: Params
    meta: dict[str, Any]
    created: float


def content_id(config: NetworkConfig, params: Params) -> str:
    """sha256 over the canonical config JSON and every tensor (name, dtype, shape, little-endian bytes)."""
    digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(params):
        array = np.ascontiguousarray(params[name])
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        digest.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _pack(params: Params) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **params)
    return buffer.getvalue()


def _unpack(blob: bytes) -> Params:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


class ModelStore(SQLiteFile):
    schema = (SCHEMA,)

    def put(self, config: NetworkConfig, params: Params, meta: dict[str, Any] | None = None) -> str:
        """Store a model and return its content id; an identical model already stored keeps its first meta."""
        model_id = content_id(config, params)
        row = (model_id, json.dumps(config.to_dict()), json.dumps(meta or {}), _pack(params), time.time())
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO models (id, config, meta, weights, created) VALUES (?, ?, ?, ?, ?)",
                row,
            )
        return model_id

    def get(self, model_id: str) -> StoredModel | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT config, meta, weights, created FROM models WHERE id = ?", (model_id,)
            ).fetchone()
        if row is None:
            return None
        config, meta, blob, created = row
        return StoredModel(
            model_id, NetworkConfig.from_dict(json.loads(config)), _unpack(blob), json.loads(meta), created
        )

    def describe(self, model_id: str) -> dict[str, Any] | None:
        """Config and meta of a stored model without reading its weights."""
        with self._connect() as db:
            row = db.execute(
                "SELECT config, meta, created, length(weights) FROM models WHERE id = ?", (model_id,)
            ).fetchone()
        if row is None:
            return None
        return {
            "id": model_id,
            "config": json.loads(row[0]),
            "meta": json.loads(row[1]),
            "created": row[2],
            "weights_bytes": row[3],
        }

    def count(self) -> int:
        """Number of stored models; also the readiness probe (it fails if the file is unreadable)."""
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM models").fetchone()[0])
