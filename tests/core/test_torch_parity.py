"""Parity with PyTorch: forward outputs, final states, the loss and every gradient, on seeded random networks.

For each cell, 15 cases draw their sizes at random (input and hidden size, 1-3 layers, one or two directions,
batch, length), their input encoding, objective and loss positions, and whether the batch is padded (packed in
PyTorch) and whether h0/c0 are given. float64 must agree to 1e-10; float32 to about 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from netcases import OBJECTIVES, Case, make_case  # noqa: E402
from torch_reference import run_torch  # noqa: E402

from core.bptt import loss_and_gradients  # noqa: E402

pytestmark = pytest.mark.torch

CELLS = ["rnn", "lstm", "gru"]
CASES_PER_CELL = 15
TOLERANCES = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-4, "atol": 2e-6}}


def random_case(cell: str, seed: int, dtype: str) -> Case:
    rng = np.random.default_rng([7, CELLS.index(cell), seed])
    steps = int(rng.integers(1, 8))
    return make_case(
        cell,
        # PyTorch's nn.RNN has tanh and relu only; the sigmoid RNN is covered by the gradient checks.
        nonlinearity=str(rng.choice(["tanh", "relu"])) if cell == "rnn" else "tanh",
        num_layers=int(rng.integers(1, 4)),
        bidirectional=bool(rng.integers(2)),
        encoding=str(rng.choice(["vector", "onehot", "embedding"])),
        objective=str(rng.choice(list(OBJECTIVES))),
        where=str(rng.choice(["all", "last"])),
        steps=steps,
        batch=int(rng.integers(1, 5)),
        hidden=int(rng.integers(1, 7)),
        input_size=int(rng.integers(1, 6)),
        vocab=int(rng.integers(2, 7)),
        output=int(rng.integers(2, 6)),
        padded=bool(rng.integers(2)),
        initial_state=bool(rng.integers(2)),
        seed=seed,
        dtype=dtype,
    )


def final_states(trace) -> tuple[np.ndarray, np.ndarray | None]:
    """(L*D, B, H) h_n and c_n in PyTorch's layer-major, direction-minor order."""
    states = [lt.final_state() for row in trace.layers for lt in row]
    h_n = np.stack([h for h, _ in states])
    c_n = np.stack([c for _, c in states]) if trace.config.has_cell_state else None
    return h_n, c_n


def check_parity(case: Case) -> None:
    tol = TOLERANCES[case.config.dtype]
    loss, trace, grads = loss_and_gradients(case.params, case.config, case.inputs, case.targets,
                                            **case.loss_kwargs())
    ref = run_torch(case)

    assert loss == pytest.approx(ref.loss, rel=tol["rtol"], abs=tol["atol"])
    real = trace.mask  # PyTorch pads the outputs of ended sequences with zeros; core carries the state over
    np.testing.assert_allclose(trace.top[real], ref.top[real], **tol, err_msg="top-layer outputs")
    np.testing.assert_allclose(trace.logits[real], ref.logits[real], **tol, err_msg="logits")
    h_n, c_n = final_states(trace)
    np.testing.assert_allclose(h_n, ref.h_n, **tol, err_msg="h_n")
    if c_n is not None:
        np.testing.assert_allclose(c_n, ref.c_n, **tol, err_msg="c_n")

    assert set(grads.params) == set(ref.grads) == set(case.params)
    for name, grad in grads.params.items():
        np.testing.assert_allclose(grad, ref.grads[name], **tol, err_msg=f"d{name}")
    np.testing.assert_allclose(grads.d_inputs, ref.d_inputs, **tol, err_msg="d_inputs")
    if ref.dh0 is not None:
        np.testing.assert_allclose(grads.dh0, ref.dh0, **tol, err_msg="dh0")
    if ref.dc0 is not None:
        np.testing.assert_allclose(grads.dc0, ref.dc0, **tol, err_msg="dc0")


@pytest.mark.parametrize("seed", range(CASES_PER_CELL))
@pytest.mark.parametrize("cell", CELLS)
def test_float64_matches_pytorch(cell: str, seed: int) -> None:
    check_parity(random_case(cell, seed, "float64"))


@pytest.mark.parametrize("seed", range(CASES_PER_CELL))
@pytest.mark.parametrize("cell", CELLS)
def test_float32_matches_pytorch(cell: str, seed: int) -> None:
    case = random_case(cell, seed, "float32")
    assert all(p.dtype == np.float32 for p in case.params.values())
    check_parity(case)
    assert case.run().top.dtype == np.float32, "a float32 network computes in float32"


def test_random_cases_cover_every_option() -> None:
    """The 15 draws per cell must actually exercise what the module docstring promises."""
    cases = [random_case(cell, seed, "float64") for cell in CELLS for seed in range(CASES_PER_CELL)]
    configs = [c.config for c in cases]
    assert {c.num_layers for c in configs} == {1, 2, 3}
    assert {c.bidirectional for c in configs} == {False, True}
    assert {c.input_encoding for c in configs} == {"vector", "onehot", "embedding"}
    assert {(c.loss, c.config.output_activation) for c in cases} == set(OBJECTIVES.values())
    assert {c.where for c in cases} == {"all", "last"}
    assert {c.lengths is None for c in cases} == {False, True}
    assert {c.h0 is None for c in cases} == {False, True}
    assert {c.config.nonlinearity for c in cases if c.config.cell == "rnn"} == {"tanh", "relu"}
    for cell in CELLS:
        assert any(c.lengths is not None and c.h0 is not None for c in cases if c.config.cell == cell)
