"""Server settings, read once from ``UNROLLED_*`` environment variables (see app/README.md for the list).

Every field has a safe default: loopback only, CORS off, rate limit on, framing only from our own origin.
Tests build a :class:`Settings` directly instead of touching the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.services.limits import Limits


class SettingsError(ValueError):
    """An environment variable that cannot be read as its setting; the message names the variable."""


def default_data_dir(env: Mapping[str, str]) -> Path:
    """$XDG_DATA_HOME/unrolled, else ~/.local/share/unrolled, else ./data when there is no home directory."""
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "unrolled"
    home = Path(env.get("HOME", "")) if env.get("HOME") else None
    return home / ".local" / "share" / "unrolled" if home else Path("data")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    db_path: Path | None = None  # None: data_dir / models.sqlite3
    # A PostgreSQL server instead of the SQLite file (app.storage.postgres), e.g. postgresql://user:pw@host/db; the
    # connections each process may hold, and the seconds a request waits for one before it is a 503.
    database_url: str = ""
    database_pool: int = 4
    database_wait: int = 5
    max_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 32 * 1024 * 1024
    rate_limit_per_minute: int = 600  # 0 turns the limiter off
    rate_limit_burst: int = 120
    threads: int = 2  # threads per worker for sync routes (AnyIO default: 40); more only fight for the GIL
    # training runs at once in one worker process (its slots; app.services.training): a job started where none
    # is free waits in the store's queue for a worker of any replica that has one
    training_threads: int = 2
    # a seeded /trace whose forward pass needs at most this many multiply-adds runs on the event loop, not in
    # the thread pool (0: never); see app/api/trace.py. 2e6 (an LSTM with T=50, H=64) holds the loop for about
    # a millisecond, less than the thread hop it saves costs in CPU under load.
    inline_compute: int = 2_000_000
    # Heavy work (app.http.heavy_lane): a run over heavy_compute multiply-adds or heavy_numbers recorded numbers (each
    # rounded and formatted: an audit measured 3.8 s for a CSV of 2 million) is computed in one of heavy_processes
    # child processes (0: in the worker itself, as every lighter one), at a lower CPU priority, with at most
    # heavy_queue more waiting (beyond: 503 + Retry-After) and heavy_cpu_seconds of CPU each (beyond: 422).
    heavy_processes: int = 1
    heavy_queue: int = 4
    heavy_compute: int = 50_000_000
    heavy_numbers: int = 250_000
    heavy_cpu_seconds: int = 30
    access_log: bool = False  # one log line per request costs ~10% of a small request's CPU
    # uvicorn limit_concurrency: beyond this many open connections (or requests in progress) every new request
    # gets 503. uvicorn counts idle keep-alive connections too, so a limit below the number of clients turns
    # away nearly every request of every client (measured: 512 keep-alive clients against 256 got 99.9% 503s);
    # each connection holds at most one request, so a high limit still bounds the queue.
    concurrency_limit: int = 2048
    cors_origins: tuple[str, ...] = ()
    embed_frame_ancestors: tuple[str, ...] = ("'self'",)
    # Addresses (or CIDR ranges) of the reverse proxies whose X-Forwarded-For / -Proto headers are believed. Empty:
    # none, so the client address is the connection's and no client can pick its own rate-limit bucket.
    trusted_proxies: tuple[str, ...] = ()
    cache_bytes: int = 64 * 1024 * 1024  # rendered replies kept per worker; 0 turns the cache off
    # Replies from this size are compressed as Accept-Encoding asks (app.http.compression), at each coder's
    # fastest level that keeps most of the saving (bench/results/server.md): on a 170 kB trace reply gzip
    # (ISA-L, levels 0-3) 1 costs ~0.35 ms, zstd -12 ~0.39 ms, brotli 0 ~0.42 ms.
    compress_min_bytes: int = 1000
    zstd_level: int = -12
    brotli_quality: int = 0
    gzip_level: int = 1
    limits: Limits = field(default_factory=Limits)

    @property
    def database(self) -> Path:
        """The SQLite file (used unless database_url names a server)."""
        return self.db_path if self.db_path is not None else self.data_dir / "models.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = cls(data_dir=default_data_dir(env))
        changes: dict[str, Any] = {}  # each value parsed to its field's type by _parse
        for f in fields(cls):
            if f.name == "limits":
                continue
            var = f"UNROLLED_{ENV_NAMES.get(f.name, f.name.upper())}"
            if var in env:
                changes[f.name] = _parse(var, env[var], getattr(base, f.name), f.name)
        limits = Limits.from_env(env)
        return replace(base, limits=limits, **changes)


#: Environment names that differ from the upper-cased field name.
ENV_NAMES = {
    "db_path": "DB",
    "rate_limit_per_minute": "RATE_LIMIT",
    "rate_limit_burst": "RATE_BURST",
    "concurrency_limit": "CONCURRENCY",
    "embed_frame_ancestors": "EMBED_ANCESTORS",
}


#: The levels each compressor takes, lowest and highest. zstd goes to 22, but levels above 19 need far more
#: memory; its negative levels trade size for speed (down to -131072, but below -100 nothing is compressed
#: any more). gzip is ISA-L's igzip, whose levels are 0 to 3.
LEVELS = {"gzip_level": (0, 3), "brotli_quality": (0, 11), "zstd_level": (-100, 19)}

#: Settings that cannot be zero.
POSITIVE = (
    "port",
    "workers",
    "max_body_bytes",
    "max_upload_bytes",
    "threads",
    "training_threads",
    "concurrency_limit",
    "heavy_compute",
    "heavy_numbers",
    "heavy_cpu_seconds",
    "database_pool",
    "database_wait",
)


def _parse(var: str, raw: str, current: object, name: str) -> object:
    if name in ("data_dir", "db_path"):
        return Path(raw).expanduser()
    if name == "database_url" and raw and not raw.startswith(("postgresql://", "postgres://")):
        raise SettingsError(f"{var} must be a postgresql:// URL, got {raw.split('://')[0]!r}://...")
    if isinstance(current, tuple):
        return tuple(part.strip() for part in raw.replace(" ", ",").split(",") if part.strip())
    if isinstance(current, bool):
        if raw.strip().lower() not in ("0", "1", "true", "false", "yes", "no"):
            raise SettingsError(f"{var} must be 0 or 1, got {raw!r}")
        return raw.strip().lower() in ("1", "true", "yes")
    if isinstance(current, int):
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{var} must be an integer, got {raw!r}") from None
        levels = LEVELS.get(name)
        if levels is not None:
            if not levels[0] <= value <= levels[1]:
                raise SettingsError(f"{var} must be a level from {levels[0]} to {levels[1]}, got {raw!r}")
            return value
        if value < 0 or (name in POSITIVE and value == 0):
            raise SettingsError(f"{var} must be a positive integer, got {raw!r}")
        return value
    return raw
