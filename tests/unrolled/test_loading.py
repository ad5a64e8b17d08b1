"""unrolled.load and the argument checks of unrolled.trace / unrolled.gradients, without PyTorch: state_dicts of
arrays, weights files within the server's upload bounds, (NetworkConfig, params) pairs, and clear errors."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import unrolled
from core.config import NetworkConfig
from core.network import forward
from core.params import init_params
from core.weights_io import ReadBounds, save_weights

LSTM = NetworkConfig("lstm", input_size=2, hidden_size=3, num_layers=2, bidirectional=True, output_size=2)
RELU = NetworkConfig("rnn", input_size=2, hidden_size=4, nonlinearity="relu", output_size=1)
X = np.random.default_rng(0).normal(size=(5, 2))


def prefixed(config: NetworkConfig, seed: int) -> dict[str, np.ndarray]:
    """A state_dict as a PyTorch model with submodules ``rnn`` and ``fc`` saves it."""
    params = init_params(config, seed)
    return {(f"fc.{k[7:]}" if k.startswith("output.") else f"rnn.{k}"): v for k, v in params.items()}


def test_a_state_dict_with_module_prefixes_traces_like_the_core() -> None:
    trace = unrolled.trace(prefixed(LSTM, 1), X)
    expected = forward(init_params(LSTM, 1), LSTM, X)
    np.testing.assert_array_equal(trace.logits, expected.logits)
    assert trace.config == LSTM
    assert isinstance(trace, unrolled.Trace) and trace.model is not None


def test_gradients_can_be_keyed_like_the_state_dict_they_came_from() -> None:
    tensors = prefixed(LSTM, 1)
    grads = unrolled.gradients(tensors, X, np.ones((5, 2)))
    assert "output.weight" in grads.params and "rnn.weight_hh_l1_reverse" not in grads.params
    named = grads.by_source_name()
    assert set(named) == set(tensors)
    np.testing.assert_array_equal(named["fc.weight"], grads.params["output.weight"])
    np.testing.assert_array_equal(named["rnn.bias_ih_l0"], grads.params["bias_ih_l0"])


def test_a_model_is_read_once_and_takes_no_more_reading_options() -> None:
    model = unrolled.load(init_params(LSTM, 0))
    assert unrolled.load(model) is model
    np.testing.assert_array_equal(unrolled.trace(model, X).top, forward(init_params(LSTM, 0), LSTM, X).top)
    with pytest.raises(TypeError, match=r"dtype, vocab= describe how to read a model"):
        unrolled.trace(model, X, dtype="float32", vocab=["a"])


def test_a_config_and_params_pair_runs_as_given() -> None:
    params = init_params(RELU, 2)
    trace = unrolled.trace((RELU, params), X)
    np.testing.assert_array_equal(trace.top, forward(params, RELU, X).top)
    with pytest.raises(ValueError, match="disagrees with the config's 'relu'"):
        unrolled.load((RELU, params), nonlinearity="tanh")
    with pytest.raises(ValueError, match="dtype"):
        unrolled.load((RELU, params), dtype="float32")
    with pytest.raises(ValueError, match="missing tensor 'weight_hh_l0'"):
        unrolled.load((RELU, {k: v for k, v in params.items() if k != "weight_hh_l0"}))
    with pytest.raises(TypeError, match="mapping of names to arrays"):
        unrolled.load((RELU, [1, 2]))


def test_a_bare_rnn_state_dict_needs_its_nonlinearity_named() -> None:
    tensors = init_params(RELU, 3)
    with pytest.raises(ValueError, match=r"pass nonlinearity='tanh' or 'relu'"):
        unrolled.trace(tensors, X)
    relu = unrolled.trace(tensors, X, nonlinearity="relu")
    tanh = unrolled.trace(tensors, X, nonlinearity="tanh")
    np.testing.assert_array_equal(relu.top, forward(tensors, RELU, X).top)
    assert not np.allclose(relu.top, tanh.top)  # the choice matters: it is never guessed


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_weights_files_are_read_by_the_servers_reader(tmp_path, suffix: str) -> None:
    path = tmp_path / f"model{suffix}"
    save_weights(prefixed(LSTM, 4), path)
    trace = unrolled.trace(path, X)
    np.testing.assert_array_equal(trace.logits, forward(init_params(LSTM, 4), LSTM, X).logits)
    assert trace.model is not None and trace.model.source == {"source": "file", "name": path.name}
    assert unrolled.trace(str(path), X).config == LSTM


def test_files_over_the_bounds_are_refused(tmp_path) -> None:
    path = tmp_path / "model.npz"
    save_weights(init_params(LSTM, 5), path)
    with pytest.raises(ValueError, match="over the limit of 100 bytes"):
        unrolled.load(path, bounds=ReadBounds(max_bytes=100))
    with pytest.raises(ValueError, match="over the limit of 3 tensors"):
        unrolled.load(path, bounds=ReadBounds(max_tensors=3))


def test_a_file_larger_than_the_bounds_is_refused_before_it_is_read(tmp_path, monkeypatch) -> None:
    import unrolled.files as files

    path = tmp_path / "huge.npz"
    path.write_bytes(b"PK\x03\x04" + bytes(2048))
    monkeypatch.setattr(files, "HEADER_ROOM", 0)
    monkeypatch.setattr(files, "load_weights", lambda *a, **k: pytest.fail("the file was read"))
    with pytest.raises(ValueError, match=r"huge.npz is 2052 bytes, over the limit of 1024"):
        unrolled.load(path, bounds=ReadBounds(max_bytes=1024))


def test_the_default_bounds_are_the_servers_upload_bounds() -> None:
    from app.services.limits import Limits
    from unrolled.files import upload_bounds

    assert upload_bounds() == ReadBounds(Limits().max_upload_tensors, Limits().max_upload_tensor_bytes)


def test_unreadable_files_say_why(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no weights file"):
        unrolled.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="neither an .npz archive"):
        unrolled.load(junk)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.pkl", b"\x80\x04")
    pickled = tmp_path / "ckpt.npz"
    pickled.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="not .npy"):
        unrolled.load(pickled)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (42, "cannot read a network from a int"),
        (object(), "cannot read a network from a object"),
        ([1, 2, 3], "cannot read a network from a list"),
    ],
)
def test_objects_that_are_no_model_are_a_type_error(model, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        unrolled.trace(model, X)


def test_head_and_embedding_need_torch_modules() -> None:
    with pytest.raises(TypeError, match="head= and embedding= take PyTorch modules"):
        unrolled.load(init_params(LSTM, 0), head=object())


def test_inputs_of_the_wrong_shape_say_the_shape_expected() -> None:
    model = (LSTM, init_params(LSTM, 0))
    with pytest.raises(ValueError, match=r"shape \(T, 2\) or \(T, B, 2\), got \(5, 3\)"):
        unrolled.trace(model, np.zeros((5, 3)))
    one_sequence = r"h0 must have shape \(4, 1, 3\).* or \(4, 3\) for one sequence, got \(2, 3\)"
    with pytest.raises(ValueError, match=one_sequence):
        unrolled.trace(model, X, h0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="lengths must hold 2 integers"):
        unrolled.trace(model, np.zeros((5, 2, 2)), lengths=[5, 9])
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        unrolled.trace(model, "hello")
    with pytest.raises(TypeError, match="rows of different lengths"):
        unrolled.trace(model, [[1.0, 2.0], [3.0]])


def test_upstream_gradients_of_the_wrong_shape_or_kind_are_refused() -> None:
    model = (LSTM, init_params(LSTM, 0))
    with pytest.raises(ValueError, match=r"d_output must have shape \(5, 2\) or \(5, 1, 2\).*of='y'"):
        unrolled.gradients(model, X, np.ones((5, 6)))
    assert unrolled.gradients(model, X, np.ones((5, 6)), of="h").of == "h"  # 2 directions x 3 units
    with pytest.raises(ValueError, match="of= must be one of"):
        unrolled.gradients(model, X, np.ones((5, 2)), of="c")
    with pytest.raises(ValueError, match="finite real numbers"):
        unrolled.gradients(model, X, np.full((5, 2), np.nan))
    headless = NetworkConfig("gru", input_size=2, hidden_size=3)
    with pytest.raises(ValueError, match="of='y' needs an output layer"):
        unrolled.gradients((headless, init_params(headless, 0)), X, np.ones((5, 1)), of="y")


def test_gradients_of_a_batch_sum_the_gradients_of_each_sequence() -> None:
    model = (LSTM, init_params(LSTM, 6))
    rng = np.random.default_rng(6)
    x, upstream = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    whole = unrolled.gradients(model, x, upstream)
    parts = [unrolled.gradients(model, x[:, b], upstream[:, b]) for b in range(3)]
    for name, grad in whole.params.items():
        np.testing.assert_allclose(grad, sum(p.params[name] for p in parts), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(whole.d_inputs[:, 1], parts[1].d_inputs[:, 0], rtol=1e-12, atol=1e-14)
    assert whole.value == pytest.approx(sum(p.value for p in parts), rel=1e-12)


def test_labels_must_fit_the_model() -> None:
    config = NetworkConfig("gru", input_size=3, hidden_size=2, input_encoding="embedding", vocab_size=3,
                           output_size=2)
    params = init_params(config, 0)
    model = unrolled.load((config, params), vocab=["a", "b", "c"], output_labels=["no", "yes"])
    assert model.vocab == ["a", "b", "c"]
    with pytest.raises(ValueError, match="vocab= has 2 tokens but the model reads 3 tokens"):
        unrolled.load((config, params), vocab=["a", "b"])
    with pytest.raises(ValueError, match="output_labels= has 1 labels"):
        unrolled.load((config, params), output_labels=["x"])
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 2\]"):
        unrolled.trace(model, np.array([0, 3]))
