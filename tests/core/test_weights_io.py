"""Weights in and out: round trips, PyTorch state_dicts, name mapping, config inference and every refusal."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import safetensors.numpy

from core.config import ConfigError, NetworkConfig
from core.network import forward
from core.params import init_params, parameter_shapes
from core.weights_io import (
    WeightsError,
    canonical_names,
    infer_config,
    load_weights,
    params_for_config,
    save_weights,
    weights_to_bytes,
)

LSTM_TOKENS = NetworkConfig(cell="lstm", input_size=3, hidden_size=5, num_layers=2, output_size=7,
                            input_encoding="embedding", vocab_size=7)


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """An .npz written by NumPy directly, bypassing save_weights' own checks."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def assert_same_tensors(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert sorted(got) == sorted(want)  # safetensors keeps its own order, not the state_dict's
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


# --- round trips --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["npz", "safetensors"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_file_round_trip_keeps_names_values_and_dtype(tmp_path, format, dtype):
    config = NetworkConfig(**{**LSTM_TOKENS.to_dict(), "dtype": dtype, "bidirectional": True})
    params = init_params(config, seed=3)
    path = tmp_path / f"model.{format}"
    save_weights(params, path)
    assert_same_tensors(load_weights(path), params)
    assert_same_tensors(load_weights(str(path), format=format), params)


@pytest.mark.parametrize("format", ["npz", "safetensors"])
def test_bytes_and_file_object_round_trip(format):
    params = init_params(LSTM_TOKENS, seed=4)
    data = weights_to_bytes(params, format)
    assert_same_tensors(load_weights(data), params)
    assert_same_tensors(load_weights(bytearray(data)), params)
    assert_same_tensors(load_weights(io.BytesIO(data), format=format), params)
    buffer = io.BytesIO()
    save_weights(params, buffer, format)
    assert buffer.getvalue() == data


def test_loaded_weights_run_the_same_network():
    params = init_params(LSTM_TOKENS, seed=5)
    loaded = params_for_config(load_weights(weights_to_bytes(params, "safetensors")), LSTM_TOKENS)
    tokens = np.array([[1, 4], [6, 0], [2, 2]])
    np.testing.assert_array_equal(forward(loaded, LSTM_TOKENS, tokens).logits,
                                  forward(params, LSTM_TOKENS, tokens).logits)


def test_saving_needs_a_known_format(tmp_path):
    params = init_params(LSTM_TOKENS, seed=0)
    with pytest.raises(WeightsError, match=r"cannot tell the format from .*model\.pt"):
        save_weights(params, tmp_path / "model.pt")
    with pytest.raises(WeightsError, match="say which format to write to a buffer"):
        save_weights(params, io.BytesIO())
    with pytest.raises(WeightsError, match=r"format must be one of \('npz', 'safetensors'\), got 'pt'"):
        weights_to_bytes(params, "pt")


def test_saving_refuses_what_loading_would_refuse():
    with pytest.raises(WeightsError, match="'w' holds 1 non-finite value"):
        weights_to_bytes({"w": np.array([1.0, np.nan])}, "npz")


# --- float32 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["npz", "safetensors"])
def test_float32_file_loads_into_either_dtype(format):
    config32 = NetworkConfig(**{**LSTM_TOKENS.to_dict(), "dtype": "float32"})
    params32 = init_params(config32, seed=6)
    tensors = load_weights(weights_to_bytes(params32, format))
    assert all(t.dtype == np.float32 for t in tensors.values())

    as32 = params_for_config(tensors, config32)
    as64 = params_for_config(tensors, LSTM_TOKENS)
    for name in parameter_shapes(LSTM_TOKENS):
        assert as32[name].dtype == np.float32 and as64[name].dtype == np.float64
        np.testing.assert_array_equal(as64[name], params32[name].astype(np.float64))
    tokens = np.array([0, 5, 3, 3])
    trace32 = forward(as32, config32, tokens)
    trace64 = forward(as64, LSTM_TOKENS, tokens)
    assert trace32.logits.dtype == np.float32
    np.testing.assert_allclose(trace32.logits, trace64.logits, atol=1e-5)


def test_float16_tensors_are_accepted_and_widened():
    config = NetworkConfig(cell="gru", input_size=2, hidden_size=3, output_size=2)
    params16 = {k: v.astype(np.float16) for k, v in init_params(config, seed=1).items()}
    loaded = params_for_config(load_weights(weights_to_bytes(params16, "safetensors")), config)
    np.testing.assert_array_equal(loaded["weight_hh_l0"], params16["weight_hh_l0"].astype(np.float64))


def test_values_too_large_for_float32_are_refused():
    config = NetworkConfig(cell="rnn", input_size=1, hidden_size=2, dtype="float32")
    params = init_params(NetworkConfig(cell="rnn", input_size=1, hidden_size=2), seed=0)
    params["weight_hh_l0"][0, 0] = 1e300
    with pytest.raises(WeightsError, match=r"'weight_hh_l0' hold values too large for float32"):
        params_for_config(params, config)


# --- name mapping -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", ["output", "fc", "linear", "out", "head", "decoder"])
@pytest.mark.parametrize("embed", ["embedding", "embed", "emb"])
def test_head_and_embedding_module_names_map_to_ours(head, embed):
    params = init_params(LSTM_TOKENS, seed=7)
    theirs = {}
    for name, value in params.items():
        if name.startswith("output."):
            theirs[f"model.{head}.{name.split('.')[1]}"] = value
        elif name == "embedding.weight":
            theirs[f"{embed}.weight"] = value
        else:
            theirs[f"encoder.lstm.{name}"] = value
    mapped = params_for_config(theirs, LSTM_TOKENS)
    assert_same_tensors(mapped, params)
    assert canonical_names(theirs)["output.weight"] == f"model.{head}.weight"


def test_recurrent_tensors_must_share_one_prefix():
    params = init_params(NetworkConfig(cell="gru", input_size=2, hidden_size=3), seed=0)
    theirs = {("a." if "ih" in name else "b.") + name: value for name, value in params.items()}
    with pytest.raises(WeightsError, match=r"different module prefixes \('a\.', 'b\.'\)"):
        params_for_config(theirs, NetworkConfig(cell="gru", input_size=2, hidden_size=3))


def test_two_candidates_for_one_tensor_are_refused():
    config = NetworkConfig(cell="rnn", input_size=2, hidden_size=3, output_size=2)
    params = init_params(config, seed=0)
    params["fc.weight"] = params["output.weight"]
    with pytest.raises(WeightsError, match=r"'output.weight' and 'fc.weight' both look like 'output.weight'"):
        params_for_config(params, config)


# --- shape and content errors -------------------------------------------------------------------------------


def test_missing_extra_and_misshaped_tensors_are_all_named():
    config = NetworkConfig(cell="lstm", input_size=2, hidden_size=5, output_size=3)
    theirs = {f"lstm.{k}" if "_l0" in k else k: v for k, v in init_params(config, seed=0).items()}
    del theirs["lstm.bias_hh_l0"]
    theirs["lstm.weight_hh_l0"] = np.zeros((20, 4))
    theirs["dropout.p"] = np.zeros(3)
    with pytest.raises(WeightsError) as err:
        params_for_config(theirs, config)
    message = str(err.value)
    assert "do not fit the lstm network (input_size=2, hidden_size=5, num_layers=1" in message
    assert "missing tensor 'bias_hh_l0' (expected shape (20,))" in message
    assert ("tensor 'lstm.weight_hh_l0' (read as 'weight_hh_l0') has shape (20, 4), expected (20, 5)"
            in message)
    assert "unexpected tensor 'dropout.p' with shape (3,)" in message


def test_a_second_layer_the_config_lacks_is_unexpected():
    config = NetworkConfig(cell="rnn", input_size=2, hidden_size=3)
    two_layers = init_params(NetworkConfig(cell="rnn", input_size=2, hidden_size=3, num_layers=2), seed=0)
    with pytest.raises(WeightsError, match=r"unexpected tensor 'weight_ih_l1' with shape \(3, 3\)"):
        params_for_config(two_layers, config)


@pytest.mark.parametrize("format", ["npz", "safetensors"])
def test_non_finite_values_are_refused_on_load(format):
    arrays = {"w": np.array([[0.0, np.inf], [np.nan, 1.0]]), "b": np.zeros(2)}
    data = npz_bytes(**arrays) if format == "npz" else safetensors.numpy.save(arrays)
    with pytest.raises(WeightsError, match=r"tensor 'w' holds 2 non-finite value\(s\) \(not-a-number or infinite\)"):
        load_weights(data)


def test_non_float_npz_tensors_are_refused():
    data = npz_bytes(w=np.arange(6).reshape(2, 3), flag=np.array([True]), z=np.zeros(2, np.complex128))
    with pytest.raises(WeightsError) as err:
        load_weights(data)
    for part in ("'w' has dtype int64", "'flag' has dtype bool", "'z' has dtype complex128"):
        assert part in str(err.value)


def safetensors_with_dtype(dtype: str, itemsize: int) -> bytes:
    header = json.dumps({"w": {"dtype": dtype, "shape": [2], "data_offsets": [0, 2 * itemsize]}}).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + bytes(2 * itemsize)


@pytest.mark.parametrize(("dtype", "itemsize"), [("I64", 8), ("BF16", 2), ("U8", 1)])
def test_non_float_safetensors_are_refused_by_name(dtype, itemsize):
    with pytest.raises(WeightsError, match=rf"'w' is stored as {dtype}; weights must be F16, F32 or F64"):
        load_weights(safetensors_with_dtype(dtype, itemsize))


def test_a_well_formed_float_header_still_loads():
    tensors = load_weights(safetensors_with_dtype("F32", 4))
    np.testing.assert_array_equal(tensors["w"], np.zeros(2, np.float32))


def test_object_arrays_are_never_unpickled():
    data = npz_bytes(w=np.array([1.0, None], dtype=object))
    with pytest.raises(WeightsError, match="tensor 'w' cannot be read without unpickling"):
        load_weights(data)


def torch_like_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        archive.writestr("archive/version", "3")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, these are not weights", "neither an .npz archive"),
        (pickle.dumps({"w": [1.0]}), "pickled checkpoint"),
        (b"\x93NUMPY" + b"\x01\x00" + b"{}", "single .npy array"),
        (torch_like_zip(), "not an .npz.*torch.save checkpoint"),
        (b"PK\x03\x04" + b"\x00" * 40, "zip archive is damaged"),
        (weights_to_bytes({"w": np.ones(4)}, "safetensors")[:-8], "safetensors file is damaged"),
    ],
    ids=["empty", "text", "pickle", "npy", "torch-zip", "bad-zip", "truncated-safetensors"],
)
def test_files_that_are_not_weights_are_refused(data, message):
    with pytest.raises(WeightsError, match=message):
        load_weights(data)


def test_single_npy_file_is_recognised(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(3))
    with pytest.raises(WeightsError, match="single .npy array, not a state_dict"):
        load_weights(tmp_path / "w.npy")


def test_empty_archive_is_refused():
    with pytest.raises(WeightsError, match="the npz file holds no tensors"):
        load_weights(npz_bytes())


def test_format_argument_must_match_the_content():
    data = weights_to_bytes({"w": np.ones(2)}, "npz")
    with pytest.raises(WeightsError, match="expected a safetensors file, but the content is a npz file"):
        load_weights(data, format="safetensors")
    with pytest.raises(WeightsError, match="format must be one of"):
        load_weights(data, format="pth")


def test_text_mode_files_and_other_objects_are_refused():
    with pytest.raises(WeightsError, match="opened in binary mode"):
        load_weights(io.StringIO("weights"))
    with pytest.raises(WeightsError, match="cannot read weights from a int"):
        load_weights(42)


def test_params_for_config_checks_tensor_contents_too():
    config = NetworkConfig(cell="rnn", input_size=1, hidden_size=2)
    params = init_params(config, seed=0)
    params["bias_ih_l0"] = np.array([1, 2])
    with pytest.raises(WeightsError, match="'bias_ih_l0' has dtype int64"):
        params_for_config(params, config)


# --- inferring the configuration ----------------------------------------------------------------------------

INFER_CASES = [
    NetworkConfig(cell="rnn", input_size=3, hidden_size=4, nonlinearity="relu", output_size=2),
    NetworkConfig(cell="rnn", input_size=4, hidden_size=4, num_layers=3, bidirectional=True),
    NetworkConfig(cell="lstm", input_size=1, hidden_size=1, output_size=1),
    NetworkConfig(cell="lstm", input_size=6, hidden_size=3, num_layers=2, bidirectional=True, output_size=5,
                  input_encoding="embedding", vocab_size=9, output_activation="softmax"),
    NetworkConfig(cell="gru", input_size=3, hidden_size=3, output_size=4, input_encoding="onehot",
                  vocab_size=3),
    NetworkConfig(cell="gru", input_size=2, hidden_size=12, num_layers=2, dtype="float32"),
]


@pytest.mark.parametrize("config", INFER_CASES, ids=lambda c: f"{c.cell}-{c.input_encoding}-{c.num_layers}")
def test_infer_config_reads_every_cell_off_the_shapes(config):
    params = {f"net.rnn.{k}" if "_l" in k else k: v for k, v in init_params(config, seed=2).items()}
    overrides = {"nonlinearity": config.nonlinearity, "output_activation": config.output_activation,
                 "dtype": config.dtype}
    if config.input_encoding == "onehot":
        overrides["input_encoding"] = "onehot"
    assert infer_config(params, **overrides) == config


def test_infer_config_without_overrides_uses_the_defaults():
    params = init_params(INFER_CASES[0], seed=0)
    inferred = infer_config(params)
    assert inferred.nonlinearity == "tanh"
    assert (inferred.output_activation, inferred.dtype) == ("identity", "float64")


def test_overrides_replace_inferred_fields_and_the_check_then_fails():
    params = init_params(LSTM_TOKENS, seed=0)
    config = infer_config(params, input_encoding="vector")
    assert config.vocab_size is None
    with pytest.raises(WeightsError, match=r"unexpected tensor 'embedding.weight' with shape \(7, 3\)"):
        params_for_config(params, config)


def test_infer_config_refuses_unknown_overrides():
    with pytest.raises(ConfigError, match="unknown configuration fields: colour"):
        infer_config(init_params(LSTM_TOKENS, seed=0), colour="red")


def test_infer_config_needs_recurrent_tensors():
    with pytest.raises(WeightsError, match=r"needs 2-D tensors 'weight_ih_l0' and 'weight_hh_l0'.*'fc.bias'"):
        infer_config({"fc.weight": np.ones((2, 3)), "fc.bias": np.ones(2)})


def test_infer_config_refuses_an_impossible_gate_count():
    tensors = {"weight_ih_l0": np.ones((6, 2)), "weight_hh_l0": np.ones((6, 3))}
    with pytest.raises(WeightsError, match=r"'weight_hh_l0' has shape \(6, 3\): its rows must be 1, 3 or 4"):
        infer_config(tensors)


# --- state_dicts saved from PyTorch -------------------------------------------------------------------------


def torch_model(cell: str, *, vocab: int | None, input_size: int, hidden: int, layers: int,
                bidirectional: bool, output: int, nonlinearity: str = "tanh", bias: bool = True,
                output_bias: bool = True):
    """A PyTorch module: an embedding (or none), a recurrent layer nested under 'encoder.', a Linear head."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, input_size) if vocab else None
            self.encoder = nn.Module()
            kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
            rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.encoder.add_module(cell, rnn_class(input_size, hidden, layers, bidirectional=bidirectional,
                                                    bias=bias, **kwargs))
            self.fc = nn.Linear(hidden * (2 if bidirectional else 1), output, bias=output_bias)

        def forward(self, inputs):
            x = self.embed(inputs) if self.embed is not None else inputs
            top, _ = getattr(self.encoder, cell)(x)
            return self.fc(top)

    torch.manual_seed(0)
    return Net()


def state_dict_file(model, tmp_path, format: str):
    pytest.importorskip("torch")
    from safetensors.torch import save_file

    path = tmp_path / f"model.{format}"
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if format == "safetensors":
        save_file(state, str(path))
    else:
        np.savez(path, **{k: v.numpy() for k, v in state.items()})
    return path


TORCH_CASES = [
    ("lstm", 11, 4, 6, 2, False, "tanh"),
    ("gru", 11, 4, 6, 1, True, "tanh"),
    ("rnn", 11, 4, 6, 2, True, "relu"),
    ("lstm", None, 3, 5, 1, True, "tanh"),
    ("gru", None, 3, 5, 3, False, "tanh"),
    ("rnn", None, 3, 5, 1, False, "tanh"),
]


@pytest.mark.torch
@pytest.mark.parametrize("format", ["npz", "safetensors"])
@pytest.mark.parametrize(("cell", "vocab", "inp", "hidden", "layers", "bidir", "nonlin"), TORCH_CASES)
def test_pytorch_state_dict_gives_pytorch_outputs(tmp_path, format, cell, vocab, inp, hidden, layers, bidir,
                                                   nonlin):
    torch = pytest.importorskip("torch")
    model = torch_model(cell, vocab=vocab, input_size=inp, hidden=hidden, layers=layers, bidirectional=bidir,
                        output=vocab or 2, nonlinearity=nonlin).double()
    path = state_dict_file(model, tmp_path, format)

    tensors = load_weights(path)
    config = infer_config(tensors, nonlinearity=nonlin)
    assert (config.cell, config.num_layers, config.bidirectional, config.hidden_size) == (cell, layers, bidir,
                                                                                          hidden)
    assert config.vocab_size == vocab and config.output_size == (vocab or 2)
    params = params_for_config(tensors, config)

    rng = np.random.default_rng(0)
    inputs = rng.integers(0, vocab, (7, 3)) if vocab else rng.standard_normal((7, 3, inp))
    with torch.no_grad():
        expected = model(torch.from_numpy(inputs)).numpy()
    np.testing.assert_allclose(forward(params, config, inputs).logits, expected, rtol=0, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize(("cell", "bias", "output_bias"),
                         [("lstm", False, True), ("gru", False, False), ("rnn", True, False)])
def test_modules_built_without_biases_give_pytorch_outputs(tmp_path, cell, bias, output_bias):
    torch = pytest.importorskip("torch")
    model = torch_model(cell, vocab=None, input_size=3, hidden=4, layers=2, bidirectional=True, output=2,
                        bias=bias, output_bias=output_bias).double()
    tensors = load_weights(state_dict_file(model, tmp_path, "safetensors"))
    assert any("bias_ih" in name for name in tensors) == bias and ("fc.bias" in tensors) == output_bias
    config = infer_config(tensors)
    params = params_for_config(tensors, config)
    assert all(not params[name].any() for name in params if name.startswith("bias_") and not bias)

    inputs = np.random.default_rng(2).standard_normal((6, 2, 3))
    with torch.no_grad():
        expected = model(torch.from_numpy(inputs)).numpy()
    np.testing.assert_allclose(forward(params, config, inputs).logits, expected, rtol=0, atol=1e-12)


def test_a_module_with_only_some_biases_is_incomplete():
    config = NetworkConfig(cell="gru", input_size=2, hidden_size=3)
    tensors = dict(init_params(config, seed=0))
    del tensors["bias_hh_l0"]
    with pytest.raises(WeightsError, match="missing tensor 'bias_hh_l0'"):
        params_for_config(tensors, config)


@pytest.mark.torch
def test_an_lstm_with_projections_is_refused_by_name(tmp_path):
    torch = pytest.importorskip("torch")
    lstm = torch.nn.LSTM(3, 8, num_layers=2, proj_size=2)
    tensors = {k: v.detach().numpy() for k, v in lstm.state_dict().items()}
    with pytest.raises(WeightsError, match="'weight_hr_l0'.*proj_size.*not supported"):
        infer_config(tensors)


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_pytorch_float32_model_loads_in_both_precisions(tmp_path, cell):
    torch = pytest.importorskip("torch")
    model = torch_model(cell, vocab=9, input_size=4, hidden=5, layers=2, bidirectional=False, output=9)
    path = state_dict_file(model, tmp_path, "safetensors")
    tokens = np.random.default_rng(1).integers(0, 9, (6, 2))
    with torch.no_grad():
        expected32 = model(torch.from_numpy(tokens)).numpy()
        expected64 = model.double()(torch.from_numpy(tokens)).numpy()

    tensors = load_weights(path)
    config32 = infer_config(tensors, dtype="float32")
    logits32 = forward(params_for_config(tensors, config32), config32, tokens).logits
    assert logits32.dtype == np.float32
    np.testing.assert_allclose(logits32, expected32, rtol=0, atol=1e-5)
    config64 = infer_config(tensors)
    np.testing.assert_allclose(forward(params_for_config(tensors, config64), config64, tokens).logits,
                               expected64, rtol=0, atol=1e-12)


@pytest.mark.torch
def test_a_real_torch_save_checkpoint_is_refused():
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    torch.save(torch.nn.LSTM(2, 3).state_dict(), buffer)
    with pytest.raises(WeightsError, match="torch.save checkpoint"):
        load_weights(buffer.getvalue())


def test_npz_tensor_names_may_be_any_string():
    arrays = {"file": np.ones(2), "allow_pickle": np.zeros(3), "a/b.c": np.full(1, 2.0)}
    data = weights_to_bytes(arrays, "npz")
    assert_same_tensors(load_weights(data), arrays)
    assert_same_tensors(dict(np.load(io.BytesIO(data), allow_pickle=False)), arrays)
