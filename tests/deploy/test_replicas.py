"""Two replicas sharing one store (SQLite, then PostgreSQL) behind nginx (deploy/nginx.conf), all real
processes on loopback: what one replica stores or starts, the other serves, follows and stops; a replica killed
mid-job does not leave the job stuck; concurrent uploads through the proxy are stored once; restarts lose
nothing."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from cluster import Replica

from core.config import NetworkConfig
from core.params import init_params
from core.weights_io import weights_to_bytes

pytestmark = __import__("pytest").mark.deploy

CONFIG = NetworkConfig(cell="gru", input_size=3, hidden_size=4, output_size=3, output_activation="softmax",
                       input_encoding="onehot", vocab_size=3)
FORM = {"config": json.dumps({"output_activation": "softmax", "input_encoding": "onehot", "vocab": ["x", "y", "z"]})}
LONG_RUN = {"task": "chars", "settings": {"steps": 5000, "seed": 1, "eval_every": 5000}}


def model_file(seed: int) -> bytes:
    params = init_params(CONFIG, seed)
    return weights_to_bytes({("rnn." + k if not k.startswith("output.") else "fc." + k[7:]): v
                             for k, v in params.items()}, "npz")


def upload(base: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/models", files={"file": ("m.npz", data)}, data=FORM, timeout=30)


def trace(base: str, model_id: str) -> dict:
    body = {"weights": {"source": "stored", "id": model_id}, "input": {"text": "xyzzy"}, "precision": 17}
    reply = httpx.post(f"{base}/api/v1/trace", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def status(base: str, job_id: str) -> dict:
    return httpx.get(f"{base}/api/v1/training/{job_id}", timeout=10).json()


def wait_for_state(base: str, job_id: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while (now := status(base, job_id))["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job_id} still running after {timeout_s} s: {now}"
        time.sleep(0.25)
    return now


def test_a_model_uploaded_on_one_replica_is_read_and_traced_on_the_other(cluster) -> None:
    proxy, (a, b) = cluster
    stored = upload(a.url, model_file(1))
    assert stored.status_code == 201, stored.text
    model_id = stored.json()["id"]
    assert httpx.get(f"{b.url}/api/v1/models/{model_id}").json() == stored.json()
    assert httpx.get(f"{proxy}/api/v1/models/{model_id}").json() == stored.json()
    direct, proxied = trace(b.url, model_id), trace(proxy, model_id)
    assert direct == proxied and np.array(direct["output"]["probs"]).shape == (5, 3)


def test_training_started_on_one_replica_is_streamed_and_cancelled_through_the_other(cluster) -> None:
    proxy, (a, b) = cluster
    job = httpx.post(f"{a.url}/api/v1/training", json=LONG_RUN, timeout=10)
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    events: list[str] = []
    # Through the proxy: events arrive while the run goes on (nginx passes them unbuffered), so the first
    # progress event is read long before the run could end.
    with httpx.stream("GET", f"{proxy}/api/v1/training/{job_id}/events", timeout=30) as stream:
        started = time.monotonic()
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line[7:])
            if "progress" in events:
                break
        assert time.monotonic() - started < 20
    assert httpx.post(f"{b.url}/api/v1/training/{job_id}/cancel", timeout=10).status_code == 202
    final = wait_for_state(a.url, job_id, timeout_s=30)
    assert final["state"] == "done" and final["last"]["reason"] == "stopped" and final["steps_done"] < 5000
    seen_elsewhere = status(b.url, job_id)
    assert seen_elsewhere["state"] == "done" and seen_elsewhere["result_id"] == final["result_id"]
    assert httpx.get(f"{b.url}/api/v1/models/{final['result_id']}").status_code == 200


def test_twenty_concurrent_uploads_across_replicas_are_stored_once_with_identical_bytes(cluster) -> None:
    proxy, (a, b) = cluster
    data = model_file(2)
    targets = [proxy, a.url, b.url, proxy] * 5
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda base: upload(base, data), targets))
    assert all(r.status_code == 201 for r in replies), [r.text for r in replies if r.status_code != 201]
    ids = {r.json()["id"] for r in replies}
    assert len(ids) == 1
    model_id = ids.pop()
    weights = {httpx.get(f"{base}/api/v1/models/{model_id}/weights?format=npz").content for base in (a.url, b.url)}
    assert len(weights) == 1 and httpx.get(f"{proxy}/api/v1/models/{model_id}/weights?format=npz").content in weights


def test_a_job_whose_replica_is_killed_is_failed_within_the_heartbeat_window_and_restarts_lose_nothing(
    cluster, tmp_path
) -> None:
    proxy, (a, b) = cluster
    model_id = upload(b.url, model_file(3)).json()["id"]
    doomed = Replica(a.env).start()  # a third replica of the same store, to be killed mid-run
    try:
        job_id = httpx.post(f"{doomed.url}/api/v1/training", json=LONG_RUN, timeout=10).json()["id"]
        deadline = time.monotonic() + 20
        while status(b.url, job_id)["steps_done"] == 0:
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.2)
        doomed.kill()
        killed_at = time.monotonic()
        final = wait_for_state(b.url, job_id, timeout_s=60)
        assert final["state"] == "failed" and "stopped before it finished" in final["error"]
        assert time.monotonic() - killed_at < 45  # LOST_AFTER_SECONDS (30 s) and a poll
    finally:
        doomed.stop()
    # Both replicas restarted: the stored models and the jobs' records are all still there.
    for replica in (a, b):
        replica.stop()
        replica.start()
    assert httpx.get(f"{a.url}/api/v1/models/{model_id}").status_code == 200
    assert status(b.url, job_id)["state"] == "failed"
    assert trace(proxy, model_id)["input"]["labels"] == list("xyzzy")


def test_a_job_started_on_a_full_replica_runs_on_another_and_the_limit_counts_every_replica(cluster) -> None:
    proxy, (a, b) = cluster
    full = Replica({**a.env, "UNROLLED_TRAINING_THREADS": "1"}).start()  # one slot; the default limit of 2 jobs
    try:
        first = httpx.post(f"{full.url}/api/v1/training", json=LONG_RUN, timeout=10).json()
        second = httpx.post(f"{full.url}/api/v1/training", json=LONG_RUN, timeout=10).json()
        assert first["state"] == "running" and second["state"] == "queued", (first, second)  # no slot left here
        deadline = time.monotonic() + 20
        while status(full.url, second["id"])["steps_done"] == 0:  # claimed and run by a or b
            assert time.monotonic() < deadline, "the queued job was not run by another replica"
            time.sleep(0.2)
        for base in (a.url, b.url, proxy):  # each of them has free slots, but the store holds 2 jobs
            refused = httpx.post(f"{base}/api/v1/training", json=LONG_RUN, timeout=10)
            assert refused.status_code == 429 and refused.headers["retry-after"] == "5", refused.text
        for job in (first, second):
            assert httpx.post(f"{proxy}/api/v1/training/{job['id']}/cancel", timeout=10).status_code == 202
        for job in (first, second):
            assert wait_for_state(proxy, job["id"], timeout_s=30)["last"]["reason"] == "stopped"
    finally:
        full.stop()


def test_the_proxy_rate_limits_each_client_whatever_forwarded_for_it_sends(cluster) -> None:
    """The global limit is nginx's (limit_req, 600 a minute with bursts of 120, keyed on the connection's
    address): a client sending a new X-Forwarded-For each time still meets it. Last in this file: it uses up
    loopback's bucket for a few seconds."""
    proxy, _ = cluster
    with httpx.Client(base_url=proxy, timeout=10) as client:
        codes = [client.get("/api/v1/health", headers={"X-Forwarded-For": f"203.0.113.{k % 250}"}).status_code
                 for k in range(200)]
    assert codes[:100].count(200) == 100 and 429 in codes[120:]
