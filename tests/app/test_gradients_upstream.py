"""POST /gradients with ``d_output``: the gradients of a loss of the caller's own, and dL/dx beside them.

For a random R, L = sum(out * R) with out the top layer's output h (``of: "h"``) or the head's y (``of: "y"``).
Random PyTorch modules (nn.RNN / nn.LSTM / nn.GRU, stacked, bidirectional, with or without an nn.Linear head)
reach the server as inline tensors; every parameter gradient, dL/dx, dL/dh0 and the reported surrogate loss
are compared with torch autograd of (out * R).sum(). Replies are asked for 12 significant digits.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from core import bptt
from core.config import NetworkConfig
from core.network import forward
from core.params import init_params

PRECISION = 12
RTOL, ATOL = 2e-11, 1e-13
MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
# (seed, cell, input_size, hidden_size, num_layers, bidirectional, output_size or None, steps, of)
CASES = [
    (0, "rnn", 3, 4, 1, False, 3, 5, "y"),
    (1, "rnn", 2, 3, 2, True, None, 4, "h"),
    (2, "lstm", 2, 3, 1, True, 2, 6, "h"),
    (3, "lstm", 3, 2, 3, False, None, 3, "h"),
    (4, "lstm", 1, 4, 2, True, 3, 4, "y"),
    (5, "gru", 3, 3, 2, False, 2, 5, "y"),
    (6, "gru", 2, 2, 1, True, None, 4, "h"),
    (7, "gru", 4, 3, 3, True, 2, 3, "h"),
]


def case_id(case: tuple) -> str:
    seed, cell, _, _, layers, bidir, osz, _, of = case
    return f"{cell}-L{layers}{'-bi' if bidir else ''}{'-head' if osz else ''}-of_{of}-s{seed}"


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_of_sum_output_times_r_match_autograd(client: TestClient, case: tuple) -> None:
    torch = pytest.importorskip("torch")
    seed, cell, isz, hid, layers, bidir, osz, steps, of = case
    torch.manual_seed(seed)
    rnn = getattr(torch.nn, MODULES[cell])(isz, hid, layers, bidirectional=bidir).double()
    head = torch.nn.Linear(hid * (2 if bidir else 1), osz).double() if osz else None
    rng = np.random.default_rng(seed)
    rows = layers * (2 if bidir else 1)
    x = torch.tensor(rng.normal(size=(steps, 1, isz)), requires_grad=True)
    h0 = torch.tensor(rng.normal(scale=0.5, size=(rows, 1, hid)), requires_grad=True)
    c0 = torch.tensor(rng.normal(scale=0.5, size=(rows, 1, hid)), requires_grad=True)
    top, _ = rnn(x, (h0, c0) if cell == "lstm" else h0)
    out = top if of == "h" else head(top)
    upstream = rng.normal(size=tuple(out.shape))
    value = (out * torch.from_numpy(upstream)).sum()
    value.backward()

    tensors = {name: p.detach().numpy().tolist() for name, p in rnn.named_parameters()}
    if head is not None:
        tensors["output.weight"] = head.weight.detach().numpy().tolist()
        tensors["output.bias"] = head.bias.detach().numpy().tolist()
    model = {
        "cell": cell,
        "input_size": isz,
        "hidden_size": hid,
        "num_layers": layers,
        "bidirectional": bidir,
    }
    if osz:
        model["output_size"] = osz
    body = {
        "model": model,
        "weights": {"source": "inline", "tensors": tensors},
        "input": {"vectors": x.detach().numpy()[:, 0].tolist()},
        "h0": h0.detach().numpy()[:, 0].tolist(),
        "d_output": {"of": of, "values": upstream[:, 0].tolist()},
        "precision": PRECISION,
        "include_jacobian": False,
    }
    if cell == "lstm":
        body["c0"] = c0.detach().numpy()[:, 0].tolist()
    reply = client.post("/api/v1/gradients", json=body)
    assert reply.status_code == 200, reply.text
    data = reply.json()

    def close(actual: object, expected: np.ndarray) -> None:
        np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=RTOL, atol=ATOL)

    assert data["loss_name"] == "d_output"
    close(data["loss"], np.array(value.item()))
    for name, p in rnn.named_parameters():
        close(data["params"][name]["grad"], p.grad.numpy())
    if head is not None:
        expected_w = np.zeros((osz, top.shape[-1])) if of == "h" else head.weight.grad.numpy()
        close(data["params"]["output.weight"]["grad"], expected_w)
    assert data["d_input"]["wrt"] == "x"
    dx = x.grad.numpy()[:, 0]
    close(data["d_input"]["values"], dx)
    close(data["d_input"]["norm"], np.linalg.norm(dx, axis=-1))
    close(data["d_h0"], h0.grad.numpy()[:, 0])
    if cell == "lstm":
        close(data["d_c0"], c0.grad.numpy()[:, 0])
    else:
        assert data["d_c0"] is None


def token_body(**overrides: object) -> dict:
    out: dict = {
        "model": {"cell": "lstm", "hidden_size": 3, "output_size": 3, "vocab": ["a", "b", "c"]},
        "weights": {"source": "seed", "seed": 2},
        "input": {"text": "abcab"},
        "precision": 12,
    }
    out.update(overrides)
    return out


def core_run(encoding: str):
    config = NetworkConfig(
        cell="lstm", input_size=3, hidden_size=3, output_size=3, input_encoding=encoding, vocab_size=3
    )
    params = init_params(config, 2)
    return params, config


@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_token_inputs_get_the_gradient_of_what_layer_0_reads(client: TestClient, encoding: str) -> None:
    upstream = np.random.default_rng(3).normal(size=(5, 3))
    model = {"cell": "lstm", "hidden_size": 3, "output_size": 3, "vocab": ["a", "b", "c"]}
    if encoding == "embedding":
        model["input_encoding"] = "embedding"
    reply = client.post(
        "/api/v1/gradients",
        json=token_body(model=model, d_output={"of": "y", "values": upstream.tolist()}),
    )
    assert reply.status_code == 200, reply.text
    data = reply.json()
    params, config = core_run(encoding)
    trace = forward(params, config, np.array([0, 1, 2, 0, 1]))
    value, grads = bptt.backward_from_output(params, trace, upstream[:, None, :], "y")
    assert data["d_input"]["wrt"] == encoding
    np.testing.assert_allclose(data["d_input"]["values"], grads.d_inputs[:, 0], rtol=1e-11, atol=1e-14)
    assert data["loss"] == pytest.approx(value, rel=1e-11)
    if encoding == "embedding":
        # The embedding table's gradient is the rows' gradients summed per token.
        summed = np.zeros((3, 3))
        np.add.at(summed, [0, 1, 2, 0, 1], np.array(data["d_input"]["values"]))
        np.testing.assert_allclose(data["params"]["embedding.weight"]["grad"], summed, rtol=1e-10, atol=1e-13)


def test_a_named_loss_returns_dl_dx_too(client: TestClient) -> None:
    reply = client.post("/api/v1/gradients", json=token_body(targets=[1, 2, 0, 1, 2]))
    assert reply.status_code == 200, reply.text
    data = reply.json()
    params, config = core_run("onehot")
    targets = np.array([1, 2, 0, 1, 2])[:, None]
    loss, _, grads = bptt.loss_and_gradients(params, config, np.array([0, 1, 2, 0, 1]), targets)
    assert data["loss_name"] == "cross_entropy"
    assert data["loss"] == pytest.approx(loss, rel=1e-11)
    np.testing.assert_allclose(data["d_input"]["values"], grads.d_inputs[:, 0], rtol=1e-11, atol=1e-14)


def test_a_single_row_belongs_to_the_last_step_of_a_many_to_one_network(client: TestClient) -> None:
    base = token_body(shape="many_to_one", include_jacobian=False)
    one = client.post(
        "/api/v1/gradients", json={**base, "d_output": {"of": "y", "values": [[1.0, -2.0, 0.5]]}}
    )
    padded = [[0.0, 0.0, 0.0]] * 4 + [[1.0, -2.0, 0.5]]
    full = client.post("/api/v1/gradients", json={**base, "d_output": {"of": "y", "values": padded}})
    assert one.status_code == full.status_code == 200, one.text
    assert one.json()["params"] == full.json()["params"]
    assert one.json()["d_input"] == full.json()["d_input"]


UPSTREAM = {"of": "h", "values": [[0.1, 0.2, 0.3]] * 5}
BAD_REQUESTS = {
    "too few rows": (
        {"d_output": {"of": "h", "values": [[0.1, 0.2, 0.3]] * 4}},
        ["body", "d_output", "values"],
        "holds 4 rows, expected 5 (one per timestep)",
    ),
    "rows too wide": (
        {"d_output": {"of": "h", "values": [[0.1, 0.2, 0.3, 0.4]] * 5}},
        ["body", "d_output", "values"],
        "hidden_size = 3 numbers",
    ),
    "ragged rows": (
        {"d_output": {"of": "y", "values": [[0.1, 0.2, 0.3]] * 4 + [[0.1]]}},
        ["body", "d_output", "values"],
        "output_size = 3 numbers (dL/dy_t), got rows of [1, 3]",
    ),
    "both a loss and d_output": (
        {"d_output": UPSTREAM, "targets": [1, 2, 0, 1, 2]},
        ["body", "targets"],
        "not both",
    ),
    "where with d_output": ({"d_output": UPSTREAM, "where": "last"}, ["body", "where"], "not both"),
    "neither": ({}, ["body", "targets"], "give targets"),
    "y without an output layer": (
        {
            "model": {"cell": "gru", "hidden_size": 3, "vocab": ["a", "b", "c"]},
            "d_output": {"of": "y", "values": [[0.1, 0.2, 0.3]] * 5},
        },
        ["body", "d_output", "of"],
        "needs an output layer",
    ),
    "a named loss without an output layer": (
        {"model": {"cell": "gru", "hidden_size": 3, "vocab": ["a", "b", "c"]}, "targets": [0, 1, 2, 0, 1]},
        ["body", "model", "output_size"],
        "d_output of 'h'",
    ),
    "an unknown output": ({"d_output": {"of": "c", "values": [[0.1]]}}, ["body", "d_output", "of"], "'h'"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_upstream_gradients_get_a_422_naming_the_field(client: TestClient, name: str) -> None:
    overrides, loc, message = BAD_REQUESTS[name]
    reply = client.post("/api/v1/gradients", json=token_body(**overrides))
    assert reply.status_code == 422, reply.text
    (detail,) = reply.json()["detail"]
    assert detail["loc"] == loc
    assert message in detail["msg"]


def test_a_bidirectional_network_names_both_directions_in_the_message(client: TestClient) -> None:
    model = {"cell": "rnn", "hidden_size": 2, "bidirectional": True, "vocab": ["a", "b", "c"]}
    reply = client.post(
        "/api/v1/gradients", json=token_body(model=model, d_output={"of": "h", "values": [[1.0, 2.0]] * 5})
    )
    assert reply.status_code == 422
    assert "2 x hidden_size = 4 numbers" in reply.json()["detail"][0]["msg"]
    assert "forward then reverse" in reply.json()["detail"][0]["msg"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_upstream_gradients_are_refused(client: TestClient, number: str) -> None:
    raw = (
        '{"model": {"cell": "rnn", "hidden_size": 2}, "input": {"vectors": [[1.0], [2.0]]},'
        f' "d_output": {{"of": "h", "values": [[0.5, {number}], [1.0, 1.0]]}}}}'
    )
    reply = client.post("/api/v1/gradients", content=raw, headers={"content-type": "application/json"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["loc"][:4] == ["body", "d_output", "values", 0]
