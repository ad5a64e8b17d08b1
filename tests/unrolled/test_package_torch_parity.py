"""unrolled.trace and unrolled.gradients on PyTorch modules, against PyTorch itself (float64, 1e-10).

Each case draws a random nn.RNN (tanh or relu) / nn.LSTM / nn.GRU in one of four layouts (one layer, stacked,
bidirectional, both), with or without an nn.Linear head (and, separately, without biases), and a random
batch; the trace must give PyTorch's outputs, h_n, c_n and y, and the gradients of sum(out * R) for a random
R must be autograd's, every parameter and dL/dx.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import unrolled  # noqa: E402

pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-10, "atol": 1e-12}
KINDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
#: (num_layers, bidirectional) by case seed: one layer, stacked and bidirectional, stacked one-way, two-way alone
LAYOUTS = [(1, False), (2, True), (3, False), (1, True)]


def random_modules(kind: str, seed: int, head: bool, bias: bool = True):
    rng = np.random.default_rng([11, KINDS.index(kind), seed, head, bias])
    torch.manual_seed(int(rng.integers(2**31)))
    isz, hid = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    layers, bidir = LAYOUTS[seed % len(LAYOUTS)]
    cell = kind.split("-")[0]
    kwargs = {"num_layers": layers, "bidirectional": bidir, "bias": bias}
    if cell == "rnn":
        kwargs["nonlinearity"] = kind.split("-")[1]
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](isz, hid, **kwargs).double()
    linear = torch.nn.Linear(hid * (2 if bidir else 1), int(rng.integers(1, 5)), bias=bias).double() if head else None
    steps, batch = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    x = torch.tensor(rng.normal(size=(steps, batch, isz)), requires_grad=True)
    return rnn, linear, x, rng


CASES = [(kind, seed, head) for kind in KINDS for seed in range(len(LAYOUTS)) for head in (False, True)]


def case_id(case: tuple) -> str:
    kind, seed, head = case
    return f"{kind}-s{seed}{'-head' if head else ''}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trace_gives_pytorchs_outputs_and_states(case: tuple) -> None:
    kind, seed, head = case
    rnn, linear, x, _ = random_modules(kind, seed, head)
    out, state = rnn(x)
    h_n, c_n = state if isinstance(state, tuple) else (state, None)

    trace = unrolled.trace(rnn, x, head=linear)

    np.testing.assert_allclose(trace.top, out.detach().numpy(), **TOL, err_msg="output")
    np.testing.assert_allclose(trace.h_n, h_n.detach().numpy(), **TOL, err_msg="h_n")
    if c_n is not None:
        np.testing.assert_allclose(trace.c_n, c_n.detach().numpy(), **TOL, err_msg="c_n")
    if linear is not None:
        np.testing.assert_allclose(trace.logits, linear(out).detach().numpy(), **TOL, err_msg="y")
    else:
        assert trace.logits is None
    assert trace.config.nonlinearity == (kind.split("-")[1] if kind.startswith("rnn") else "tanh")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_of_any_loss_are_autograds(case: tuple) -> None:
    kind, seed, head = case
    rnn, linear, x, rng = random_modules(kind, seed, head)
    out, _ = rnn(x)
    y = out if linear is None else linear(out)
    upstream = rng.normal(size=tuple(y.shape))
    value = (y * torch.from_numpy(upstream)).sum()
    value.backward()

    grads = unrolled.gradients((rnn, linear) if linear is not None else rnn, x.detach(), upstream)

    assert grads.of == ("y" if linear is not None else "h")
    assert grads.value == pytest.approx(float(value.detach()), rel=1e-10, abs=1e-12)
    for name, parameter in rnn.named_parameters():
        np.testing.assert_allclose(grads.params[name], parameter.grad.numpy(), **TOL, err_msg=f"d{name}")
    if linear is not None:
        np.testing.assert_allclose(grads.params["output.weight"], linear.weight.grad.numpy(), **TOL)
        np.testing.assert_allclose(grads.params["output.bias"], linear.bias.grad.numpy(), **TOL)
    np.testing.assert_allclose(grads.d_inputs, x.grad.numpy(), **TOL, err_msg="dL/dx")
    norms = grads.dh_norms(0)
    assert len(norms) == rnn.num_layers and all(n.shape == (x.shape[0],) for row in norms for n in row)


@pytest.mark.parametrize("kind", KINDS)
def test_bias_free_modules_and_initial_states(kind: str) -> None:
    rnn, linear, x, rng = random_modules(kind, 7, head=True, bias=False)
    rows = rnn.num_layers * (2 if rnn.bidirectional else 1)
    h0 = torch.tensor(rng.normal(size=(rows, x.shape[1], rnn.hidden_size)), requires_grad=True)
    c0 = torch.tensor(rng.normal(size=h0.shape), requires_grad=True)
    out, _ = rnn(x, (h0, c0) if kind == "lstm" else h0)
    y = linear(out)
    upstream = rng.normal(size=tuple(out.shape))
    (out * torch.from_numpy(upstream)).sum().backward()

    states = {"h0": h0, "c0": c0} if kind == "lstm" else {"h0": h0}
    trace = unrolled.trace(rnn, x, head=linear, **states)
    np.testing.assert_allclose(trace.logits, y.detach().numpy(), **TOL)
    grads = unrolled.gradients(rnn, x, upstream, of="h", head=linear, **states)
    np.testing.assert_allclose(grads.dh0, h0.grad.numpy(), **TOL, err_msg="dL/dh0")
    if kind == "lstm":
        np.testing.assert_allclose(grads.dc0, c0.grad.numpy(), **TOL, err_msg="dL/dc0")
    np.testing.assert_allclose(grads.d_inputs, x.grad.numpy(), **TOL)


def test_batch_first_modules_read_batch_first_inputs() -> None:
    torch.manual_seed(3)
    gru = torch.nn.GRU(2, 3, batch_first=True, bidirectional=True).double()
    x = torch.randn(4, 5, 2, dtype=torch.float64)  # (B, T, I)
    out, h_n = gru(x)
    trace = unrolled.trace(gru, x)
    assert trace.inputs.shape == (5, 4, 2)  # the trace is time-major
    np.testing.assert_allclose(trace.top, out.detach().numpy().swapaxes(0, 1), **TOL)
    np.testing.assert_allclose(trace.h_n, h_n.detach().numpy(), **TOL)


def test_padded_batches_match_packed_sequences() -> None:
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    torch.manual_seed(4)
    lstm = torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = torch.randn(6, 3, 2, dtype=torch.float64)
    lengths = [6, 2, 4]
    packed, (h_n, c_n) = lstm(pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False))
    out, _ = pad_packed_sequence(packed, total_length=6)

    trace = unrolled.trace(lstm, x, lengths=lengths)
    real = trace.mask
    np.testing.assert_allclose(trace.top[real], out.detach().numpy()[real], **TOL)
    np.testing.assert_allclose(trace.h_n, h_n.detach().numpy(), **TOL)
    np.testing.assert_allclose(trace.c_n, c_n.detach().numpy(), **TOL)


def test_embedding_models_take_token_tensors_and_give_the_embedding_gradient() -> None:
    torch.manual_seed(5)
    embedding = torch.nn.Embedding(6, 3).double()
    rnn = torch.nn.RNN(3, 4, nonlinearity="relu").double()
    head = torch.nn.Linear(4, 6).double()
    tokens = torch.tensor([[1, 0], [5, 2], [3, 3]])
    vectors = embedding(tokens)
    vectors.retain_grad()
    out, _ = rnn(vectors)
    y = head(out)
    upstream = np.random.default_rng(5).normal(size=tuple(y.shape))
    (y * torch.from_numpy(upstream)).sum().backward()

    trace = unrolled.trace((embedding, rnn, head), tokens)
    np.testing.assert_allclose(trace.logits, y.detach().numpy(), **TOL)
    assert trace.tokens is not None and trace.tokens.tolist() == tokens.tolist()
    grads = unrolled.gradients((embedding, rnn, head), tokens, upstream)
    np.testing.assert_allclose(grads.params["embedding.weight"], embedding.weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(grads.d_inputs, vectors.grad.numpy(), **TOL, err_msg="dL/d(embedding rows)")


def test_a_float32_module_is_traced_in_float64_or_float32_on_request() -> None:
    torch.manual_seed(6)
    lstm = torch.nn.LSTM(2, 3)
    x = torch.randn(4, 2)
    out, _ = lstm(x.unsqueeze(1))
    exact = unrolled.trace(lstm, x)
    single = unrolled.trace(lstm, x, dtype="float32")
    assert exact.top.dtype == np.float64 and single.top.dtype == np.float32
    np.testing.assert_allclose(single.top, out.detach().numpy(), rtol=1e-5, atol=1e-6)
    # float64 of the same float32 weights and inputs: closer to the exact values than float32 gets
    reference = torch.nn.LSTM(2, 3).double()
    reference.load_state_dict({k: v.double() for k, v in lstm.state_dict().items()})
    exact_out, _ = reference(x.double().unsqueeze(1))
    np.testing.assert_allclose(exact.top, exact_out.detach().numpy(), **TOL)


def test_a_module_knows_its_nonlinearity_and_refuses_a_contradicting_one() -> None:
    rnn = torch.nn.RNN(2, 3, nonlinearity="relu")
    assert unrolled.load(rnn).config.nonlinearity == "relu"
    with pytest.raises(ValueError, match="disagrees with the module's own 'relu'"):
        unrolled.load(rnn, nonlinearity="tanh")
    with pytest.raises(ValueError, match="nonlinearity= applies to a vanilla nn.RNN only"):
        unrolled.load(torch.nn.GRU(2, 3), nonlinearity="relu")


def test_modules_unrolled_cannot_trace_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="proj_size"):
        unrolled.load(torch.nn.LSTM(2, 4, proj_size=2))
    with pytest.raises(TypeError, match="cannot trace a Conv1d"):
        unrolled.load(torch.nn.Conv1d(2, 3, 1))

    class Tagger(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed, self.rnn, self.fc = torch.nn.Embedding(5, 2), torch.nn.GRU(2, 3), torch.nn.Linear(3, 5)

    with pytest.raises(TypeError, match=r"pass its parts .* e\.g\. \(model\.embed, model\.rnn, model\.fc\)"):
        unrolled.load(Tagger())
    with pytest.raises(TypeError, match="head= must be an nn.Linear"):
        unrolled.load(torch.nn.GRU(2, 3), head=torch.nn.GRU(3, 3))
    with pytest.raises(TypeError, match="one recurrent module"):
        unrolled.load((torch.nn.GRU(2, 3), torch.nn.GRU(3, 3)))
    with pytest.raises(ValueError, match=r"output\.weight"):  # a head whose width is not the RNN's output
        unrolled.load(torch.nn.GRU(2, 3), head=torch.nn.Linear(5, 1))


def test_state_dict_of_tensors_and_pt_files(tmp_path) -> None:
    torch.manual_seed(8)
    rnn = torch.nn.RNN(2, 3, nonlinearity="relu", num_layers=2).double()
    x = torch.randn(4, 2, dtype=torch.float64)
    expected, _ = rnn(x.unsqueeze(1))
    state_dict = rnn.state_dict()
    with pytest.raises(ValueError, match="nonlinearity="):
        unrolled.trace(state_dict, x)
    np.testing.assert_allclose(unrolled.trace(state_dict, x, nonlinearity="relu").top, expected.detach().numpy(), **TOL)

    path = tmp_path / "rnn.pt"
    torch.save(state_dict, path)
    with pytest.raises(ValueError, match="nonlinearity="):
        unrolled.load(path)
    np.testing.assert_allclose(unrolled.trace(path, x, nonlinearity="relu").top, expected.detach().numpy(), **TOL)

    whole = tmp_path / "model.pt"
    torch.save(rnn, whole)  # a pickled module, not a state_dict: refused by the weights-only loader
    with pytest.raises(ValueError, match="weights only"):
        unrolled.load(whole, nonlinearity="relu")


def test_what_a_state_dict_cannot_show_is_refused_or_warned_about() -> None:
    with pytest.raises(ValueError, match="max_norm"):
        unrolled.load((torch.nn.Embedding(4, 2, max_norm=1.0), torch.nn.GRU(2, 3)))
    lstm = torch.nn.LSTM(2, 3, num_layers=2, dropout=0.5)
    with pytest.warns(UserWarning, match=r"dropout=0.5: Unrolled traces it without dropout, as model.eval\(\)"):
        unrolled.load(lstm)
    lstm.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unrolled.load(lstm)  # no warning in eval mode
