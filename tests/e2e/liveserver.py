"""A live uvicorn server of app.main:create_app in a child process, and the Chromium to point at it: shared by
the browser tests and the browser benchmark.

Imported by name (``from liveserver import live_server``): tests/e2e/conftest.py puts this directory on sys.path,
and bench/bench_browser.py does the same, so pytest and the plain benchmark script share one copy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"  # Debian's build; Playwright drives it instead of downloading its own
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    """Run in the server child before exec: Linux sends it SIGTERM if the parent dies (e.g. a test run killed by
    a timeout before teardown), so no server is left behind."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@contextmanager
def live_server(data_dir: str, **env: str) -> Iterator[str]:
    """Serve the app on a free loopback port with its data in ``data_dir`` and the rate limit off; yield the base
    URL once a static file answers, and stop the server (by its PID) on exit. ``env`` adds settings, e.g.
    ``UNROLLED_EMBED_ANCESTORS``."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "UNROLLED_DATA_DIR": data_dir, "UNROLLED_RATE_LIMIT": "0", **env},
        preexec_fn=die_with_parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/static/js/sim.js", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the live server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
