"""Optimizers and clipping against torch.optim / clip_grad_norm_, and a whole training run against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from core.optim import SGD, Adam, clip_by_global_norm, global_norm, make_optimizer
from core.tasks import get_task
from core.train import Trainer, TrainSettings


def random_problem(seed: int) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(6)]
    return params, grads


def run_ours(opt, params, grads):
    params = {k: v.copy() for k, v in params.items()}
    for g in grads:
        opt.step(params, g)
    return params


def run_torch(make, params, grads):
    import torch

    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = make(list(tensors.values()))
    for g in grads:
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k])
        opt.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ],
)
def test_sgd_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    params, grads = random_problem(1)
    ours = run_ours(SGD(**kwargs), params, grads)
    theirs = run_torch(lambda ps: torch.optim.SGD(ps, **kwargs), params, grads)
    for k in params:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.01},
        {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-6},
        {"lr": 0.02, "weight_decay": 0.1},
    ],
)
def test_adam_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    params, grads = random_problem(2)
    ours = run_ours(Adam(**kwargs), params, grads)
    theirs = run_torch(lambda ps: torch.optim.Adam(ps, **kwargs), params, grads)
    for k in params:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clipping_matches_torch(max_norm):
    torch = pytest.importorskip("torch")
    _, grads = random_problem(3)
    g = grads[0]
    clipped, norm = clip_by_global_norm(g, max_norm)
    tensors = [torch.tensor(v, requires_grad=True) for v in g.values()]
    for t, v in zip(tensors, g.values(), strict=True):
        t.grad = torch.tensor(v)
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    assert norm == pytest.approx(float(torch_norm), rel=1e-14)
    for t, v in zip(tensors, clipped.values(), strict=True):
        np.testing.assert_allclose(v, t.grad.numpy(), rtol=0, atol=1e-15)
    assert global_norm(clipped) <= max_norm + 1e-9


def test_clipping_leaves_small_gradients_alone_and_does_not_mutate():
    g = {"w": np.array([3.0, 4.0])}
    same, norm = clip_by_global_norm(g, 10.0)
    assert norm == 5.0 and same["w"] is g["w"]
    scaled, _ = clip_by_global_norm(g, 1.0)
    np.testing.assert_allclose(scaled["w"], [0.6, 0.8], atol=1e-6)
    np.testing.assert_array_equal(g["w"], [3.0, 4.0])


def test_bad_optimizer_settings_are_refused():
    with pytest.raises(ValueError):
        make_optimizer("rmsprop", 0.1)
    with pytest.raises(ValueError):
        SGD(lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        Adam(lr=0.1, betas=(1.0, 0.9))
    with pytest.raises(ValueError):
        clip_by_global_norm({"w": np.ones(2)}, 0.0)


@pytest.mark.torch
def test_training_steps_match_pytorch():
    """Eight steps of GRU + Linear, masked MSE, clipping and Adam on the sine task, redone in PyTorch."""
    torch = pytest.importorskip("torch")
    task = get_task("sine", length=12, warmup=3)
    settings = TrainSettings(
        steps=8, batch_size=4, lr=0.05, clip_norm=0.05, seed=5, eval_every=100, eval_size=2
    )
    trainer = Trainer(task, settings)
    config = trainer.config
    start = {k: v.copy() for k, v in trainer.params.items()}
    for _ in trainer.run():
        pass

    gru = torch.nn.GRU(1, config.hidden_size, dtype=torch.float64)
    head = torch.nn.Linear(config.hidden_size, 1, dtype=torch.float64)
    with torch.no_grad():
        for name, p in gru.named_parameters():
            p.copy_(torch.tensor(start[name]))
        head.weight.copy_(torch.tensor(start["output.weight"]))
        head.bias.copy_(torch.tensor(start["output.bias"]))
    modules = list(gru.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(modules, lr=settings.lr)
    rng = np.random.default_rng(settings.seed)
    for _ in range(settings.steps):
        batch = task.sample_batch(rng, settings.batch_size)
        out, _ = gru(torch.tensor(batch.inputs))
        pred = head(out)
        mask = torch.tensor(batch.weights)
        loss = torch.nn.functional.mse_loss(pred[mask], torch.tensor(batch.targets)[mask])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(modules, settings.clip_norm)
        opt.step()
    for name, p in gru.named_parameters():
        np.testing.assert_allclose(trainer.params[name], p.detach().numpy(), rtol=0, atol=1e-11)
    np.testing.assert_allclose(
        trainer.params["output.weight"], head.weight.detach().numpy(), rtol=0, atol=1e-11
    )
