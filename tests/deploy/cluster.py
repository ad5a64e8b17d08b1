"""Real parts on loopback for the multi-replica tests and bench/bench_replicas.py: ``unrolled serve`` replicas
sharing one store, and nginx in front of them with deploy/nginx.conf, each started here and stopped by PID.

Imported by name (``from cluster import ...``): tests/deploy/conftest.py and the benchmark put this directory
on sys.path.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen, timeout_s: float = 30.0, status: int = 200) -> None:
    """Until ``url`` answers ``status`` (or the process exits, or the time is up: RuntimeError)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == status:
                    return
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == status:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer {status} within {timeout_s:.0f} s")
        time.sleep(0.2)


class Replica:
    """One ``unrolled serve`` process on a loopback port; ``env`` holds its settings (the shared store's)."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Replica:
        unrolled = Path(sys.executable).with_name("unrolled")
        self.proc = subprocess.Popen(
            [str(unrolled), "serve", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT,
            # The console script puts its own directory first on sys.path, not the cwd: without this a
            # checkout other than the one the virtualenv installed (a git worktree) would serve the installed one.
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
                 **self.env},
        )
        wait_for(self.url + "/api/v1/ready", self.proc)
        return self

    def kill(self) -> None:
        """kill -9: no shutdown, no last write."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def replica_env(data_dir: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """Settings for replicas sharing one store: the SQLite file in ``data_dir`` (replicas on one machine may
    share it) or the database at ``database_url``; proxy headers trusted from loopback only (nginx's address)."""
    env = {"UNROLLED_DATA_DIR": str(data_dir), "UNROLLED_TRUSTED_PROXIES": "127.0.0.1", **settings}
    if database_url:
        env["UNROLLED_DATABASE_URL"] = database_url
    return env


@contextmanager
def nginx(upstream_ports: list[int], workdir: Path, rate_limit: bool = True) -> Iterator[str]:
    """deploy/nginx.conf serving on a free port in front of ``upstream_ports``; yields its base URL. Without
    ``rate_limit`` its limit_req lines are left out (a benchmark's one client is far over any person's rate)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tmp").mkdir(exist_ok=True)
    port = free_port()
    config = (DEPLOY / "nginx.conf").read_text()
    assert "listen 8080;" in config, "deploy/nginx.conf must listen on 8080 (the tests move it to a free port)"
    config = config.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    if not rate_limit:
        config = re.sub(r"^\s*limit_req .*\n", "", config, flags=re.M)
    (workdir / "nginx.conf").write_text(config)
    (workdir / "upstream-servers.conf").write_text(
        "".join(f"server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n" for p in upstream_ports)
    )
    proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", "nginx.conf"], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/v1/ready", proc)
        yield url
    finally:
        proc.terminate()  # SIGTERM: nginx's fast shutdown, master and workers
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
