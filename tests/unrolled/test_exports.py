"""The package and the API give the same files for the same model and input: trace.to_json / to_csv / to_npz
against POST /api/v1/trace/export, and Gradients.to_json against POST /api/v1/gradients with d_output."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

import unrolled
from core.config import NetworkConfig
from core.params import init_params

CONFIG = NetworkConfig("gru", input_size=2, hidden_size=3, num_layers=2, bidirectional=True, output_size=2)
SEED = 9
X = np.random.default_rng(9).normal(size=(4, 2))
MODEL = {"cell": "gru", "input_size": 2, "hidden_size": 3, "num_layers": 2, "bidirectional": True, "output_size": 2}


def body(**extra: object) -> dict:
    return {"model": MODEL, "weights": {"source": "seed", "seed": SEED}, "input": {"vectors": X.tolist()}, **extra}


def package_trace() -> unrolled.Trace:
    return unrolled.trace((CONFIG, init_params(CONFIG, SEED)), X)


def api_export(client: TestClient, fmt: str, **extra: object) -> bytes:
    reply = client.post(f"/api/v1/trace/export?format={fmt}", json=body(**extra))
    assert reply.status_code == 200, reply.text
    return reply.content


def without_weights(data: bytes) -> dict:
    payload = json.loads(data)
    payload.pop("weights")  # how the weights were obtained: a seed on the server, a Python object here
    return payload


@pytest.mark.parametrize("precision", [None, 6, 17])
def test_json_is_the_apis(client: TestClient, precision: int | None) -> None:
    extra = {} if precision is None else {"precision": precision}
    assert without_weights(package_trace().to_json(precision)) == without_weights(api_export(client, "json", **extra))


def test_csv_is_byte_for_byte_the_apis(client: TestClient) -> None:
    include = ["h", "z", "n_pre", "h_prev"]
    ours = package_trace().to_csv(precision=8, include=include)
    assert ours == api_export(client, "csv", precision=8, include=include)
    assert b",n_pre," in ours


def test_npz_holds_the_apis_arrays(client: TestClient, tmp_path) -> None:
    path = tmp_path / "trace.npz"
    ours = np.load(io.BytesIO(package_trace().to_npz(path=path)))
    theirs = np.load(io.BytesIO(api_export(client, "npz")))
    assert sorted(ours.files) == sorted(theirs.files)
    for name in theirs.files:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    assert sorted(np.load(path).files) == sorted(theirs.files)


def test_gradients_json_is_the_apis_for_the_same_upstream_gradient(client: TestClient) -> None:
    upstream = np.random.default_rng(10).normal(size=(4, 2))
    ours = unrolled.gradients((CONFIG, init_params(CONFIG, SEED)), X, upstream).to_json(precision=12)
    reply = client.post(
        "/api/v1/gradients",
        json=body(d_output={"of": "y", "values": upstream.tolist()}, precision=12, include_jacobian=False),
    )
    assert reply.status_code == 200, reply.text
    assert without_weights(ours) == without_weights(reply.content)


def test_a_batch_exports_one_sequence_named_by_b() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(5, 3, 2))
    trace = unrolled.trace((CONFIG, init_params(CONFIG, SEED)), x, lengths=[5, 2, 4])
    with pytest.raises(ValueError, match="batch of 3 sequences: pick one with b="):
        trace.to_csv()
    alone = unrolled.trace((CONFIG, init_params(CONFIG, SEED)), x[:2, 1])
    second = json.loads(trace.to_json(17, b=1))
    assert second["steps"] == 2
    np.testing.assert_allclose(second["output"]["y"], alone.logits[:, 0], rtol=1e-13, atol=1e-15)


def test_export_options_are_checked() -> None:
    trace = package_trace()
    with pytest.raises(ValueError, match="between 1 and 17"):
        trace.to_json(18)
    with pytest.raises(TypeError, match="precision must be an integer"):
        trace.to_csv(2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"include= names unknown quantities \['f'\]"):
        trace.to_json(include=["f"])  # a GRU has no forget gate
