"""``unrolled trace`` writes json, csv and npz through the same service code as the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

from app.cli import enough_file_descriptors, main


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(lstm_request(precision=6)))
    return path


def test_trace_json_equals_the_api(
    request_file: Path, tmp_path: Path, client: TestClient, monkeypatch
) -> None:
    monkeypatch.setenv("UNROLLED_DATA_DIR", str(tmp_path / "cli-data"))
    out = tmp_path / "trace.json"
    assert main(["trace", str(request_file), "--format", "json", "-o", str(out)]) == 0
    api = client.post("/api/v1/trace", json=json.loads(request_file.read_text())).json()
    assert json.loads(out.read_text()) == api


def test_trace_csv_and_npz(request_file: Path, tmp_path: Path) -> None:
    csv_path, npz_path = tmp_path / "t.csv", tmp_path / "t.npz"
    assert main(["trace", str(request_file), "--format", "csv", "-o", str(csv_path)]) == 0
    assert csv_path.read_text().startswith("t,layer,direction,quantity,unit,value\n")
    assert main(["trace", str(request_file), "--format", "npz", "-o", str(npz_path)]) == 0
    with np.load(npz_path, allow_pickle=False) as npz:
        assert npz["layer0/forward/h"].shape == (4, 3)


def test_bad_requests_exit_2_with_a_message(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"input": {"text": "ab"}, "model": {"hidden_size": 9999}}))
    assert main(["trace", str(bad)]) == 2
    assert "hidden_size" in capsys.readouterr().err
    bad.write_text('{"input": 1}')
    assert main(["trace", str(bad)]) == 2


def test_the_console_script_runs_as_a_process(request_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    script = Path(sys.executable).parent / "unrolled"
    done = subprocess.run(
        [str(script), "trace", str(request_file), "--format", "csv", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().count("\n") > 10


@contextmanager
def serving(tmp_path: Path, **env: str) -> Iterator[str]:
    """``unrolled serve`` as a process on a free loopback port with ``env`` settings; its base URL once /ready
    answers; stopped by PID on exit."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "UNROLLED_DATA_DIR": str(tmp_path / "serve-data"), "UNROLLED_RATE_LIMIT": "0", **env}
    script = Path(sys.executable).parent / "unrolled"
    server = subprocess.Popen([str(script), "serve", "--port", str(port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/ready", timeout=2) as response:
                    assert json.loads(response.read())["status"] == "ready"
                    assert response.headers["x-frame-options"] == "DENY"
                    break
            except OSError:
                assert time.monotonic() < deadline, "unrolled serve did not answer within 60 s"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_starts_uvicorn_on_loopback(tmp_path: Path) -> None:
    with serving(tmp_path):
        assert (tmp_path / "serve-data" / "models.sqlite3").is_file()


def statuses(base: str, forwarded_for: list[str]) -> list[int]:
    import urllib.error
    import urllib.request

    codes = []
    for address in forwarded_for:
        request = urllib.request.Request(f"{base}/api/v1/limits", headers={"X-Forwarded-For": address})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                codes.append(response.status)
        except urllib.error.HTTPError as refused:
            refused.close()
            codes.append(refused.code)
    return codes


def test_a_local_client_cannot_spoof_its_rate_limit_bucket(tmp_path: Path) -> None:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: by default no proxy is trusted, so
    a new forged address per request still spends the connection's own bucket."""
    spoofed = [f"203.0.113.{k}" for k in range(4)]
    with serving(tmp_path, UNROLLED_RATE_LIMIT="6", UNROLLED_RATE_BURST="2") as base:
        assert statuses(base, spoofed) == [200, 200, 429, 429]
    with serving(tmp_path, UNROLLED_RATE_LIMIT="6", UNROLLED_RATE_BURST="2",
                 UNROLLED_TRUSTED_PROXIES="127.0.0.1") as base:
        assert statuses(base, spoofed) == [200, 200, 200, 200]  # a trusted proxy names each client


def test_serve_raises_the_open_files_limit_to_fit_its_connections() -> None:
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the hard limit ({hard}) leaves no room to test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        enough_file_descriptors(1500)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 1756  # the connections and room for files
        enough_file_descriptors(10)  # never lowered
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 1756
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def raw_reply(base: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``request`` over a plain socket; the reply's status line, headers and body."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, body


def assert_strict_headers(headers: dict[str, str]) -> None:
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]


def test_the_servers_own_replies_carry_the_security_headers(tmp_path: Path) -> None:
    """uvicorn answers an unparsable request, and one over its connection limit, without asking the app."""
    with serving(tmp_path) as base:
        status, headers, body = raw_reply(base, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        assert status.startswith("HTTP/1.1 400")
        assert_strict_headers(headers)
        assert json.loads(body)["detail"].startswith("The HTTP request cannot be read")


HEALTH = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"


def test_a_worker_out_of_connection_slots_says_so_with_the_security_headers(tmp_path: Path) -> None:
    """With one connection slot, the request's own connection fills it: uvicorn's 503 for every request."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "UNROLLED_DATA_DIR": str(tmp_path / "d"), "UNROLLED_CONCURRENCY": "1"}
    script = Path(sys.executable).parent / "unrolled"
    server = subprocess.Popen([str(script), "serve", "--port", str(port), "--log-level", "error"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = raw_reply(f"http://127.0.0.1:{port}", HEALTH)
                break
            except OSError:
                assert time.monotonic() < deadline, "unrolled serve did not answer within 60 s"
                time.sleep(0.2)
        assert status.startswith("HTTP/1.1 503") and headers["retry-after"] == "1"
        assert_strict_headers(headers)
        assert "limit of open connections" in json.loads(body)["detail"]
    finally:
        server.terminate()
        server.wait(timeout=30)
