"""One network, whatever the caller holds: :func:`load` turns each kind of model into a :class:`Model` (a core
NetworkConfig and its parameters under Unrolled's names, core.params).

=====================================================  =================================================
``model``                                              read as
=====================================================  =================================================
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``                  the module; ``head=nn.Linear``, ``embedding=``
``(rnn, head)``, ``(embedding, rnn)``, ``(e, rnn, h)``  the modules in that order
a state_dict (mapping of names to tensors or arrays)   core.weights_io, as an uploaded file is read
a path to ``.npz``, ``.safetensors``, ``.pt``          unrolled.files, within the server's upload bounds
``(NetworkConfig, params)``                            as given (checked by core.params.check_params)
a :class:`Model`                                       itself
=====================================================  =================================================

A vanilla RNN's nonlinearity is an argument of nn.RNN, not one of its tensors: a module knows it, but a
state_dict or a file of an RNN must be given ``nonlinearity=`` ('tanh', 'relu' or 'sigmoid'); guessing tanh
would make every number of a ReLU RNN wrong. Weights are cast to ``dtype`` (float64 by default, so a float32
PyTorch model is traced exactly in double precision; pass ``dtype='float32'`` to compute in single).

>>> from core.config import NetworkConfig
>>> from core.params import init_params
>>> config = NetworkConfig("rnn", input_size=2, hidden_size=3, nonlinearity="relu")
>>> state_dict = init_params(config, seed=1)
>>> load(state_dict, nonlinearity="relu").config.nonlinearity
'relu'
>>> load(state_dict)
Traceback (most recent call last):
...
ValueError: these tensors are a vanilla RNN, ... pass nonlinearity='tanh' or 'relu' (or 'sigmoid')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.config import NetworkConfig
from core.params import Params, cast_params, check_params
from core.weights_io import ReadBounds, canonical_names, infer_config, params_for_config
from unrolled.arrays import as_array, is_torch_module


@dataclass(frozen=True)
class Model:
    """A network ready to run: its configuration, its parameters (core.params names, cast to its dtype), where
    it came from, and how its module lays out a batch (``batch_first``, as nn.RNN's argument)."""

    config: NetworkConfig
    params: Params = field(repr=False)
    source: dict[str, Any] = field(default_factory=lambda: {"source": "python"})
    batch_first: bool = False
    vocab: list[str] | None = None  # names of the input tokens, shown in exports and pictures
    output_labels: list[str] | None = None  # names of the output units
    #: The caller's own name of each parameter whose name differs from ours, e.g. {"output.weight": "fc.weight",
    #: "weight_ih_l0": "rnn.weight_ih_l0"} for a state_dict saved from a module with submodules rnn and fc.
    source_names: dict[str, str] = field(default_factory=dict)


def load(
    model: Any,
    *,
    head: Any = None,
    embedding: Any = None,
    nonlinearity: str | None = None,
    output_activation: str | None = None,
    input_encoding: str | None = None,
    dtype: str | None = None,
    vocab: list[str] | None = None,
    output_labels: list[str] | None = None,
    bounds: ReadBounds | None = None,
) -> Model:
    """The :class:`Model` of ``model`` (see the table above). ``output_activation='softmax'`` adds
    probabilities p_t = softmax(y_t) to a head's outputs; ``input_encoding='onehot'`` reads token ids as one-hot
    vectors for a network without an embedding. TypeError for an object that is no model, ValueError for
    weights that do not make one (the message names the tensor or the argument)."""
    if isinstance(model, Model):
        given = {"head": head, "embedding": embedding, "nonlinearity": nonlinearity, "dtype": dtype,
                 "output_activation": output_activation, "input_encoding": input_encoding, "vocab": vocab,
                 "output_labels": output_labels, "bounds": bounds}
        options = [name for name, value in given.items() if value is not None]
        if options:
            raise TypeError(f"{', '.join(options)}= describe how to read a model; an unrolled.Model is read "
                            "already: pass them to unrolled.load instead")
        return model
    overrides: dict[str, Any] = {}
    if dtype is not None:
        overrides["dtype"] = dtype
    if output_activation is not None:
        overrides["output_activation"] = output_activation
    if input_encoding is not None:
        overrides["input_encoding"] = input_encoding
    labels = {"vocab": vocab, "output_labels": output_labels}
    modules = _modules_of(model)
    if modules is not None:
        return _from_modules(modules, head, embedding, nonlinearity, overrides, labels)
    if head is not None or embedding is not None:
        raise TypeError("head= and embedding= take PyTorch modules beside a PyTorch recurrent module; "
                        f"the model given is a {type(model).__name__}")
    if isinstance(model, tuple) and len(model) == 2 and isinstance(model[0], NetworkConfig):
        return _from_config(model[0], model[1], nonlinearity, overrides, labels)
    if isinstance(model, str | os.PathLike):
        from unrolled.files import read_weights_file

        tensors = read_weights_file(model, bounds)
        source = {"source": "file", "name": os.path.basename(os.fspath(model))}
        return _from_tensors(tensors, nonlinearity, overrides, labels, source)
    if isinstance(model, Mapping):
        tensors = {str(name): as_array(value, str(name)) for name, value in model.items()}
        return _from_tensors(tensors, nonlinearity, overrides, labels, {"source": "state_dict"})
    raise TypeError(f"cannot read a network from a {type(model).__name__}: give an nn.RNN / nn.LSTM / nn.GRU "
                    "(optionally with head=), a state_dict, a path to a .npz / .safetensors / .pt file, "
                    "a (NetworkConfig, params) pair or an unrolled.Model")


def _modules_of(model: Any) -> list[Any] | None:
    """The PyTorch modules ``model`` is made of (itself, or a tuple / list of modules), else None."""
    if is_torch_module(model):
        return [model]
    if isinstance(model, tuple | list) and model and all(is_torch_module(m) for m in model):
        return list(model)
    return None


def _from_modules(
    modules: list[Any], head: Any, embedding: Any, nonlinearity: str | None,
    overrides: dict[str, Any], labels: dict[str, Any],
) -> Model:
    from unrolled import torch_modules

    emb, recurrent, out = torch_modules.split_modules(modules, head, embedding)
    fields = {**torch_modules.module_fields(recurrent, nonlinearity), **overrides}
    tensors = torch_modules.module_tensors(recurrent, out, emb)
    config = infer_config(tensors, **fields)
    source = torch_modules.describe(recurrent, out, emb)
    return _checked(config, params_for_config(tensors, config), labels, source, bool(recurrent.batch_first))


def _from_tensors(
    tensors: dict[str, np.ndarray], nonlinearity: str | None, overrides: dict[str, Any],
    labels: dict[str, Any], source: dict[str, Any],
) -> Model:
    fields = dict(overrides)
    if nonlinearity is not None:
        fields["nonlinearity"] = nonlinearity
    config = infer_config(tensors, **fields)
    if config.cell == "rnn" and nonlinearity is None:
        raise ValueError(
            "these tensors are a vanilla RNN, whose nonlinearity is not among them (nn.RNN keeps it out of its "
            "state_dict): pass nonlinearity='tanh' or 'relu' (or 'sigmoid')"
        )
    model = _checked(config, params_for_config(tensors, config), labels, source)
    renamed = {ours: theirs for ours, theirs in canonical_names(tensors).items() if ours != theirs}
    return replace(model, source_names=renamed)


def _from_config(
    config: NetworkConfig, params: Any, nonlinearity: str | None, overrides: dict[str, Any],
    labels: dict[str, Any],
) -> Model:
    if nonlinearity is not None and nonlinearity != config.nonlinearity:
        raise ValueError(f"nonlinearity={nonlinearity!r} disagrees with the config's {config.nonlinearity!r}")
    changed = sorted(k for k, v in overrides.items() if getattr(config, k) != v)
    if changed:
        raise ValueError(f"{', '.join(changed)} = ... disagree with the NetworkConfig given: set them on the config")
    if not isinstance(params, Mapping):
        raise TypeError(f"the parameters beside a NetworkConfig must be a mapping of names to arrays, "
                        f"got {type(params).__name__}")
    arrays = {str(name): as_array(value, str(name)) for name, value in params.items()}
    check_params(arrays, config)
    return _checked(config, cast_params(arrays, config), labels, {"source": "python"})


def _checked(
    config: NetworkConfig, params: Params, labels: dict[str, Any], source: dict[str, Any],
    batch_first: bool = False,
) -> Model:
    vocab, output_labels = labels["vocab"], labels["output_labels"]
    if vocab is not None and len(vocab) != config.vocab_size:
        reads = "vectors, not tokens" if config.vocab_size is None else f"{config.vocab_size} tokens"
        raise ValueError(f"vocab= has {len(vocab)} tokens but the model reads {reads}")
    if output_labels is not None and len(output_labels) != config.output_size:
        raise ValueError(f"output_labels= has {len(output_labels)} labels but the model has "
                         f"output_size {config.output_size}")
    return Model(config, params, source, batch_first,
                 None if vocab is None else [str(v) for v in vocab],
                 None if output_labels is None else [str(v) for v in output_labels])
