"""Parity with PyTorch through the HTTP API, for models we did not build ourselves.

Random nn.RNN (tanh, relu) / nn.LSTM / nn.GRU modules with an nn.Linear head sit in a container module, so their
state_dict names carry prefixes (``rnn.weight_ih_l0``, ``fc.weight``) as a real checkpoint's would. Their weights
reach the server inline, as an uploaded .npz and as an uploaded .safetensors file; every returned h, c and gate
is compared with the gates core.cells.reference computes from the torch weights (PyTorch's documented equations):

    rnn:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    lstm: [i, f, g, o] = [σ, σ, tanh, σ](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  c_t = f c_{t-1} + i g,
          h_t = o tanh(c_t)
    gru:  r, z = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z}),
          n = tanh(W_in x_t + b_in + r (W_hn h_{t-1} + b_hn)),  h_t = (1 - z) n + z h_{t-1}

whose top-layer h and final states are in turn checked against torch's own forward; y and probs against
fc(output) and its softmax; /gradients' parameter gradients against torch autograd for cross-entropy and MSE.
Replies are asked for 12 significant digits, so the comparison tolerance is a few units in the 12th digit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from core.cells import reference as ref

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

pytestmark = pytest.mark.torch

PRECISION = 12
RTOL, ATOL = 2e-11, 1e-14
GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o", "c", "h"), "gru": ("r", "z", "n", "h")}
# (seed, cell, nonlinearity, input_size, hidden_size, num_layers, bidirectional, output_size, steps)
CASES = [
    (0, "rnn", "tanh", 3, 4, 1, False, 3, 5),
    (1, "rnn", "relu", 2, 5, 2, True, 2, 4),
    (2, "lstm", "tanh", 4, 3, 1, True, 3, 6),
    (3, "lstm", "tanh", 2, 4, 3, False, 2, 3),
    (4, "gru", "tanh", 3, 3, 2, False, 4, 5),
    (5, "gru", "tanh", 1, 2, 3, True, 2, 4),
    (6, "rnn", "tanh", 5, 2, 3, True, 3, 2),
    (7, "lstm", "tanh", 1, 5, 2, True, 2, 7),
    (8, "gru", "tanh", 4, 6, 1, False, 3, 3),
    (9, "rnn", "relu", 3, 3, 1, False, 2, 6),
]


class Net(torch.nn.Module):
    """A recurrent module and a linear head, named like a typical PyTorch model (prefixes rnn. and fc.)."""

    def __init__(self, cell: str, nonlinearity: str, input_size: int, hidden: int, layers: int,
                 bidirectional: bool, output_size: int, bias: bool = True) -> None:
        super().__init__()
        kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        self.rnn = module(input_size, hidden, layers, bidirectional=bidirectional, bias=bias, **kwargs)
        self.fc = torch.nn.Linear(hidden * (2 if bidirectional else 1), output_size)

    def forward(self, x, state):  # noqa: ANN001, ANN201 (torch tensors)
        out, final = self.rnn(x, state)
        return out, final, self.fc(out)


def build(case: tuple, bias: bool = True) -> tuple[Net, dict]:
    """The torch model (float64) and the random inputs and initial states of one case."""
    seed, cell, nonlin, isz, hid, layers, bidir, osz, steps = case
    torch.manual_seed(seed)
    net = Net(cell, nonlin, isz, hid, layers, bidir, osz, bias).double()
    rng = np.random.default_rng(seed)
    rows = layers * (2 if bidir else 1)
    data = {
        "x": rng.normal(size=(steps, isz)),
        "h0": rng.normal(scale=0.5, size=(rows, hid)),
        "c0": rng.normal(scale=0.5, size=(rows, hid)) if cell == "lstm" else None,
    }
    return net, data


def torch_state(net: Net, data: dict):  # noqa: ANN201 (torch tensors)
    h0 = torch.tensor(data["h0"])[:, None, :]
    return (h0, torch.tensor(data["c0"])[:, None, :]) if data["c0"] is not None else h0


def numpy_state_dict(net: Net) -> dict[str, np.ndarray]:
    return {name: t.detach().numpy().copy() for name, t in net.state_dict().items()}


def hand_gates(cell: str, nonlin: str, sd: dict, layers: int, bidir: bool, data: dict) -> dict:
    """Every gate, c and h per (layer, direction), from the torch weights by core.cells.reference's plain cells."""
    directions = ("forward", "reverse") if bidir else ("forward",)
    xs, out = list(data["x"]), {}
    for layer in range(layers):
        outputs = []
        for d, direction in enumerate(directions):
            sfx = f"_l{layer}" + ("_reverse" if direction == "reverse" else "")
            w_ih, w_hh = sd[f"rnn.weight_ih{sfx}"], sd[f"rnn.weight_hh{sfx}"]
            zeros = np.zeros(w_ih.shape[0])  # bias=False: no bias tensors
            b_ih, b_hh = sd.get(f"rnn.bias_ih{sfx}", zeros), sd.get(f"rnn.bias_hh{sfx}", zeros)
            row = layer * len(directions) + d
            c0 = data["c0"][row] if data["c0"] is not None else None
            steps = ref.run_sequence(cell, xs, data["h0"][row], c0, w_ih, w_hh, b_ih, b_hh, nonlin,
                                     reverse=direction == "reverse")
            out[(layer, direction)] = {name: np.array([step[name] for step in steps]) for name in GATES[cell]}
            outputs.append(out[(layer, direction)]["h"])
        xs = list(np.concatenate(outputs, axis=1))
    return out


def close(actual: object, expected: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=RTOL, atol=ATOL)


def request_body(case: tuple, data: dict, weights: dict) -> dict:
    body: dict = {
        "weights": weights,
        "input": {"vectors": data["x"].tolist()},
        "h0": data["h0"].tolist(),
        "precision": PRECISION,
        "include": list(GATES[case[1]]),
    }
    if data["c0"] is not None:
        body["c0"] = data["c0"].tolist()
    return body


def upload(client: TestClient, sd: dict, fmt: str, case: tuple) -> str:
    """Store the state_dict as an .npz or .safetensors file; the id of the stored model."""
    if fmt == "npz":
        buffer = io.BytesIO()
        np.savez(buffer, **sd)
        data = buffer.getvalue()
    else:
        data = safetensors_torch.save({k: torch.from_numpy(v) for k, v in sd.items()})
    config = json.dumps({"nonlinearity": case[2], "output_activation": "softmax"})
    reply = client.post("/api/v1/models", files={"file": (f"model.{fmt}", data)}, data={"config": config})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


WEIGHT_SOURCES: dict[str, Callable[[TestClient, dict, tuple], dict]] = {
    "inline": lambda client, sd, case: {"source": "inline", "tensors": {k: v.tolist() for k, v in sd.items()}},
    "npz": lambda client, sd, case: {"source": "stored", "id": upload(client, sd, "npz", case)},
    "safetensors": lambda client, sd, case: {"source": "stored", "id": upload(client, sd, "safetensors", case)},
}


@pytest.mark.parametrize("source", sorted(WEIGHT_SOURCES))
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}-{c[2]}-L{c[5]}{'-bi' if c[6] else ''}-s{c[0]}")
def test_trace_matches_torch(client: TestClient, case: tuple, source: str) -> None:
    check_trace_matches_torch(client, case, source, bias=True)


@pytest.mark.parametrize("source", sorted(WEIGHT_SOURCES))
@pytest.mark.parametrize("case", CASES[1:9:3], ids=lambda c: f"{c[1]}-L{c[5]}{'-bi' if c[6] else ''}-no-bias")
def test_a_module_built_without_biases_matches_torch(client: TestClient, case: tuple, source: str) -> None:
    check_trace_matches_torch(client, case, source, bias=False)


def check_trace_matches_torch(client: TestClient, case: tuple, source: str, bias: bool) -> None:
    cell, nonlin, layers, bidir = case[1], case[2], case[5], case[6]
    net, data = build(case, bias)
    sd = numpy_state_dict(net)
    assert any(".bias_ih" in name for name in sd) == bias
    with torch.no_grad():
        out, final, y = net(torch.tensor(data["x"])[:, None, :], torch_state(net, data))
    expected = hand_gates(cell, nonlin, sd, layers, bidir, data)

    # A stored model keeps the nonlinearity and softmax given at upload; inline tensors need the model named.
    body = request_body(case, data, WEIGHT_SOURCES[source](client, sd, case))
    if source == "inline":
        body["model"] = {"cell": cell, "nonlinearity": nonlin, "input_size": case[3], "hidden_size": case[4],
                         "num_layers": layers, "bidirectional": bidir, "output_size": case[7],
                         "output_activation": "softmax"}
    reply = client.post("/api/v1/trace", json=body)
    assert reply.status_code == 200, reply.text
    assert b"NaN" not in reply.content and b"Infinity" not in reply.content
    payload = reply.json()
    assert payload["precision"] == PRECISION

    returned = {(entry["layer"], entry["direction"]): entry["quantities"] for entry in payload["layers"]}
    assert set(returned) == set(expected)
    for key, gates in expected.items():
        assert set(returned[key]) == set(gates), key
        for name, value in gates.items():
            close(returned[key][name], value)

    # The hand-computed states agree with torch's forward: top-layer outputs and every final state.
    directions = ("forward", "reverse") if bidir else ("forward",)
    top = np.concatenate([expected[(layers - 1, d)]["h"] for d in directions], axis=1)
    np.testing.assert_allclose(top, out[:, 0, :].numpy(), rtol=1e-12, atol=1e-14)
    h_n = final[0] if cell == "lstm" else final
    for row in range(layers * len(directions)):
        layer, direction = divmod(row, len(directions))
        h_seq = expected[(layer, directions[direction])]["h"]
        last = h_seq[-1] if direction == 0 else h_seq[0]
        np.testing.assert_allclose(last, h_n[row, 0].numpy(), rtol=1e-12, atol=1e-14)

    close(payload["output"]["y"], y[:, 0, :].numpy())
    close(payload["output"]["probs"], torch.softmax(y[:, 0, :], dim=-1).numpy())


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: f"{c[1]}-L{c[5]}{'-bi' if c[6] else ''}")
def test_parameter_gradients_match_autograd(client: TestClient, case: tuple, loss: str) -> None:
    cell, nonlin, layers, bidir, osz, steps = case[1], case[2], case[5], case[6], case[7], case[8]
    net, data = build(case)
    sd = numpy_state_dict(net)
    rng = np.random.default_rng(100 + case[0])
    classes = rng.integers(0, osz, size=steps)
    vectors = rng.normal(size=(steps, osz))

    _, _, y = net(torch.tensor(data["x"])[:, None, :], torch_state(net, data))
    if loss == "cross_entropy":
        value = torch.nn.functional.cross_entropy(y[:, 0, :], torch.tensor(classes))
        targets: list = classes.tolist()
    else:
        value = torch.nn.functional.mse_loss(y[:, 0, :], torch.tensor(vectors))
        targets = vectors.tolist()
    value.backward()

    body = request_body(case, data, WEIGHT_SOURCES["inline"](client, sd, case))
    body.pop("include")
    body["model"] = {"cell": cell, "nonlinearity": nonlin, "input_size": case[3], "hidden_size": case[4],
                     "num_layers": layers, "bidirectional": bidir, "output_size": osz}
    body.update(targets=targets, loss=loss, include_jacobian=False)
    reply = client.post("/api/v1/gradients", json=body)
    assert reply.status_code == 200, reply.text
    payload = reply.json()
    close(payload["loss"], np.array(value.item()))
    grads = payload["params"]
    for name, param in net.named_parameters():
        ours = name.removeprefix("rnn.").replace("fc.", "output.")
        close(grads[ours]["grad"], param.grad.numpy())
