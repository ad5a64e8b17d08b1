"""Pages draw within a budget: a model too large to draw is a message saying what to use instead."""

from __future__ import annotations


def test_a_model_too_large_to_draw_gets_a_message_not_megabytes_of_html(make_client) -> None:
    import time

    from core.config import NetworkConfig
    from core.params import init_params
    from core.weights_io import weights_to_bytes

    config = NetworkConfig(cell="lstm", input_size=1, hidden_size=128, num_layers=4, bidirectional=True,
                           output_size=1, dtype="float32")
    client = make_client()
    upload = client.post("/api/v1/models", files={"file": ("big.npz", weights_to_bytes(init_params(config, 0), "npz"))})
    assert upload.status_code == 201, upload.text
    started = time.process_time()
    page = client.get("/", params={"model": upload.json()["id"], "input": " ".join(["0.5"] * 40)})
    assert page.status_code == 200
    assert "This model is too large to draw" in page.text and "POST /api/v1/trace" in page.text
    assert len(page.content) < 200_000
    assert time.process_time() - started < 5  # a bound, not a benchmark: drawing it took 3.5 s and 35 MB
    short = client.get("/", params={"model": upload.json()["id"], "input": "0.5 0.25"})
    assert short.status_code == 200 and "too large to draw" not in short.text  # a short input still draws
