"""An in-memory LRU of rendered responses, bounded in bytes, one per worker process.

A trace is a pure function of its validated request: seeded weights are drawn from the seed, presets ship
with the installation, stored models are addressed by the hash of their content. So the rendered bytes can be
kept under

    key = sha256(endpoint, extra (t, format), canonical JSON of the validated request)

and a permalink opened by a whole class is computed once. Nothing per-user is stored; errors are not cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from pydantic import BaseModel


def request_key(endpoint: str, request: BaseModel, extra: str = "") -> str:
    canonical = request.model_dump_json(exclude_defaults=False)
    return hashlib.sha256(f"{endpoint}\0{extra}\0{canonical}".encode()).hexdigest()


class ResponseCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()  # routes run in a thread pool

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes // 4:  # one huge reply must not flush everything else
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self.entries[key] = value
            self.size += len(value)
            while self.size > self.max_bytes:
                _, evicted = self.entries.popitem(last=False)
                self.size -= len(evicted)

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The cached bytes for ``key`` (and True), or ``render()``'s, stored on the way out (and False)."""
        if self.max_bytes <= 0:
            return render(), False
        value = self.get(key)
        if value is not None:
            return value, True
        value = render()
        self.put(key, value)
        return value, False
