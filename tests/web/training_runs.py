"""Runs started from the Training form, for the view tests (imported by name: pytest puts this directory on
sys.path)."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient


def job_of(location: str) -> str:
    """The job id in the URL the form redirects to."""
    found = re.search(r"job=([0-9a-f]{32})", location)
    assert found is not None, location
    return found.group(1)


def wait_for_end(client: TestClient, job: str, bound_s: float = 60.0) -> dict:
    """Poll the job's status until it stops running (the bound only keeps a broken run from hanging)."""
    deadline = time.monotonic() + bound_s
    while True:
        status = client.get(f"/api/v1/training/{job}").json()
        if status["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def train(client: TestClient, form: dict) -> tuple[str, dict]:
    """Start a run from the Training form; its job id and final status."""
    start = client.post("/train", data=form, follow_redirects=False)
    assert start.status_code == 303, start.text
    job = job_of(start.headers["location"])
    status = wait_for_end(client, job)
    assert status["state"] not in ("queued", "running"), "the run did not finish within 60 s"
    return job, status
