"""Stored models (uploaded or trained), addressed by the hash of their content.

    id = sha256( canonical JSON of the config  ||  for each tensor, by name: name, dtype, shape, raw bytes )

so the same weights and configuration always get the same id, on any replica, and storing twice is a no-op.
A row's ``kind`` says what the config describes: "network" (core.config.NetworkConfig, run by the trace API)
or "seq2seq" (core.seq2seq.Seq2SeqConfig, run by the Seq2Seq API). Files written before the column existed
hold networks only; migration 2 (app.storage.migrations) adds the column with that default, so old databases
stay readable. The table lives in whichever app.storage back-end the server uses; every method is one
transaction, so the store is safe to share between threads, worker processes and replicas. Tensors are kept
as an .npz blob (no pickle).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.storage.database import Database
from core.config import NetworkConfig
from core.params import Params
from core.seq2seq.config import Seq2SeqConfig

KINDS: dict[str, type[NetworkConfig] | type[Seq2SeqConfig]] = {"network": NetworkConfig, "seq2seq": Seq2SeqConfig}

@dataclass
class StoredModel:
    id: str
    config: NetworkConfig | Seq2SeqConfig
    params: Params
    meta: dict[str, Any]
    created: float

    @property
    def kind(self) -> str:
        return kind_of(self.config)


def kind_of(config: NetworkConfig | Seq2SeqConfig) -> str:
    return "seq2seq" if isinstance(config, Seq2SeqConfig) else "network"


def content_id(config: NetworkConfig | Seq2SeqConfig, params: Params) -> str:
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


class ModelStore:
    """The ``models`` table of ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def check_writable(self) -> None:
        """For /ready: raise StoreUnavailableError unless a write would succeed now."""
        self.db.check_writable()

    def put(
        self, config: NetworkConfig | Seq2SeqConfig, params: Params, meta: dict[str, Any] | None = None
    ) -> str:
        """Store a model and return its content id; an identical model already stored keeps its first meta."""
        model_id = content_id(config, params)
        row = (
            model_id,
            json.dumps(config.to_dict()),
            json.dumps(meta or {}),
            _pack(params),
            time.time(),
            kind_of(config),
        )
        with self.db.connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO models (id, config, meta, weights, created, kind) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
        return model_id

    def get(self, model_id: str) -> StoredModel | None:
        with self.db.connect() as db:
            row = db.execute(
                "SELECT config, meta, weights, created, kind FROM models WHERE id = ?", (model_id,)
            ).fetchone()
        if row is None:
            return None
        config, meta, blob, created, kind = row
        return StoredModel(
            model_id, KINDS[kind].from_dict(json.loads(config)), _unpack(blob), json.loads(meta), created
        )

    def describe(self, model_id: str) -> dict[str, Any] | None:
        """Kind, config and meta of a stored model without reading its weights."""
        with self.db.connect() as db:
            row = db.execute(
                "SELECT config, meta, created, length(weights), kind FROM models WHERE id = ?", (model_id,)
            ).fetchone()
        if row is None:
            return None
        return {
            "id": model_id,
            "kind": row[4],
            "config": json.loads(row[0]),
            "meta": json.loads(row[1]),
            "created": row[2],
            "weights_bytes": row[3],
        }

    def count(self) -> int:
        """Number of stored models; also the readiness probe (it fails if the store is unreadable)."""
        with self.db.connect() as db:
            return int(db.execute("SELECT count(*) FROM models").fetchone()[0])
