"""Settings and limits from UNROLLED_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError


def test_defaults_are_safe() -> None:
    s = Settings.from_env({"HOME": "/home/u"})
    assert (s.host, s.port, s.workers) == ("127.0.0.1", 8000, 1)
    assert s.cors_origins == () and s.embed_frame_ancestors == ("'self'",)
    assert s.database == Path("/home/u/.local/share/unrolled/models.sqlite3")
    assert Settings.from_env({}).data_dir == Path("data")


def test_every_setting_reads_its_variable() -> None:
    env = {
        "UNROLLED_HOST": "0.0.0.0",
        "UNROLLED_PORT": "9000",
        "UNROLLED_WORKERS": "4",
        "UNROLLED_DATA_DIR": "/srv/unrolled",
        "UNROLLED_DB": "/tmp/x.sqlite3",
        "UNROLLED_MAX_BODY_BYTES": "1000",
        "UNROLLED_MAX_UPLOAD_BYTES": "5000",
        "UNROLLED_RATE_LIMIT": "0",
        "UNROLLED_RATE_BURST": "5",
        "UNROLLED_CONCURRENCY": "32",
        "UNROLLED_CORS_ORIGINS": "https://a.example, https://b.example",
        "UNROLLED_EMBED_ANCESTORS": "'self' https://lms.example",
        "UNROLLED_COMPRESS_MIN_BYTES": "500",
        "UNROLLED_GZIP_LEVEL": "2",
        "UNROLLED_ZSTD_LEVEL": "-5",
        "UNROLLED_BROTLI_QUALITY": "4",
        "UNROLLED_THREADS": "3",
        "UNROLLED_CACHE_BYTES": "0",
        "UNROLLED_MAX_STEPS": "50",
        "UNROLLED_MAX_COMPUTE": "1000",
        "UNROLLED_DATABASE_URL": "postgresql://u:pw@db:5432/unrolled",
        "UNROLLED_DATABASE_POOL": "8",
        "UNROLLED_DATABASE_WAIT": "2",
    }
    s = Settings.from_env(env)
    assert (s.host, s.port, s.workers) == ("0.0.0.0", 9000, 4)
    assert s.data_dir == Path("/srv/unrolled") and s.database == Path("/tmp/x.sqlite3")
    assert (s.max_body_bytes, s.max_upload_bytes, s.rate_limit_per_minute, s.rate_limit_burst) == (
        1000,
        5000,
        0,
        5,
    )
    assert s.concurrency_limit == 32
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.embed_frame_ancestors == ("'self'", "https://lms.example")
    assert (s.compress_min_bytes, s.gzip_level, s.threads, s.cache_bytes) == (500, 2, 3, 0)
    assert (s.zstd_level, s.brotli_quality) == (-5, 4)
    assert (s.limits.max_steps, s.limits.max_compute) == (50, 1000)
    assert (s.database_url, s.database_pool, s.database_wait) == ("postgresql://u:pw@db:5432/unrolled", 8, 2)


@pytest.mark.parametrize(
    "env",
    [
        {"UNROLLED_PORT": "eighty"},
        {"UNROLLED_PORT": "0"},
        {"UNROLLED_RATE_LIMIT": "-1"},
        {"UNROLLED_MAX_STEPS": "0"},
        {"UNROLLED_THREADS": "0"},
        {"UNROLLED_GZIP_LEVEL": "4"},
        {"UNROLLED_GZIP_LEVEL": "-1"},
        {"UNROLLED_BROTLI_QUALITY": "-1"},
        {"UNROLLED_ZSTD_LEVEL": "-101"},
        {"UNROLLED_BROTLI_QUALITY": "12"},
        {"UNROLLED_ZSTD_LEVEL": "20"},
        {"UNROLLED_MAX_PRECISION": "18"},
        {"UNROLLED_DEFAULT_PRECISION": "9", "UNROLLED_MAX_PRECISION": "8"},
        {"UNROLLED_DATABASE_URL": "mysql://db/unrolled"},
        {"UNROLLED_DATABASE_POOL": "0"},
        {"UNROLLED_DATABASE_WAIT": "0"},
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises((SettingsError, ValueError), match=next(iter(env))):
        Settings.from_env(env)
