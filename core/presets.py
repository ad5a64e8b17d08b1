"""Ready-trained small models shipped with Unrolled, one per built-in task (``presets/`` at the repository
root).

Each preset is two files written by ``scripts/train_presets.py``:

    presets/<name>.npz    the weights, keyed by parameter name, stored as float32 (small files)
    presets/<name>.json   metadata: task and its options, model kind and configuration, vocabulary,
                          the training recipe (settings, seed), steps run, stop reason, training
                          seconds, and the metrics the saved weights score on the held-out batch

``load_preset(name)`` returns the weights cast to the configuration's dtype (float64 by default), so a preset
runs exactly like a freshly built model. Only plain arrays are read (``allow_pickle=False``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import NetworkConfig
from core.params import Params
from core.seq2seq.config import Seq2SeqConfig

PRESETS_DIR = Path(__file__).resolve().parent.parent / "presets"
CONFIG_KINDS: dict[str, Any] = {"network": NetworkConfig, "seq2seq": Seq2SeqConfig}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass
class Preset:
    name: str
    config: Any  # NetworkConfig, or Seq2SeqConfig when meta['kind'] == 'seq2seq'
    params: Params
    meta: dict[str, Any]


def config_kind(config: Any) -> str:
    for kind, cls in CONFIG_KINDS.items():
        if isinstance(config, cls):
            return kind
    raise TypeError(f"presets cannot store a {type(config).__name__}")


def _paths(name: str, directory: Path) -> tuple[Path, Path]:
    if not NAME_PATTERN.match(name):
        raise KeyError(f"invalid preset name {name!r}")
    return directory / f"{name}.npz", directory / f"{name}.json"


def list_presets(directory: Path = PRESETS_DIR) -> list[dict[str, Any]]:
    """The metadata of every preset, sorted by name."""
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


def preset_names(directory: Path = PRESETS_DIR) -> list[str]:
    return [path.stem for path in sorted(directory.glob("*.json"))]


def load_preset(name: str, directory: Path = PRESETS_DIR) -> Preset:
    weights_path, meta_path = _paths(name, directory)
    if not meta_path.is_file() or not weights_path.is_file():
        raise KeyError(f"unknown preset {name!r}; known presets: {', '.join(preset_names(directory))}")
    meta = json.loads(meta_path.read_text())
    config = CONFIG_KINDS[meta["kind"]].from_dict(meta["config"])
    dtype = np.dtype(config.dtype)
    with np.load(weights_path, allow_pickle=False) as archive:
        params = {key: archive[key].astype(dtype) for key in archive.files}
    return Preset(name, config, params, meta)


def save_preset(
    name: str, config: Any, params: Params, meta: dict[str, Any], directory: Path = PRESETS_DIR
) -> tuple[Path, Path]:
    """Write ``<name>.npz`` (float32 weights) and ``<name>.json``; ``meta`` gains name, kind and config."""
    weights_path, meta_path = _paths(name, directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    np.savez_compressed(weights_path, **arrays)
    full = {"name": name, "kind": config_kind(config), "config": config.to_dict(), **meta}
    meta_path.write_text(json.dumps(full, indent=2, sort_keys=False) + "\n")
    return weights_path, meta_path


def stored_params(params: Params, config: Any) -> Params:
    """The weights exactly as a saved preset gives them back: rounded to float32, then cast to the config
    dtype."""
    dtype = np.dtype(config.dtype)
    return {k: np.asarray(v, dtype=np.float32).astype(dtype) for k, v in params.items()}


def loss_curve(losses: list[float], window: int) -> dict[str, Any]:
    """The training loss subsampled for a chart: the mean minibatch loss over each ``window`` steps,

        loss_k = (1/w) sum_{s = (k-1)w+1}^{kw} L_s,      at step k*w (the last window may be shorter),

    rounded to 6 significant digits so the metadata stays small."""
    if window < 1:
        raise ValueError("the curve's window must be at least one step")
    steps, means = [], []
    for start in range(0, len(losses), window):
        chunk = losses[start : start + window]
        steps.append(start + len(chunk))
        means.append(float(f"{sum(chunk) / len(chunk):.6g}"))
    return {"window": window, "steps": steps, "loss": means}


def parameter_count(params: Params) -> int:
    return int(sum(np.asarray(v).size for v in params.values()))


def build_preset(
    task_name: str,
    task_options: dict[str, Any],
    settings: dict[str, Any],
    model: dict[str, Any] | None = None,
    curve_window: int | None = None,
) -> tuple[Any, Params, dict[str, Any]]:
    """Train a task's default model with the given settings (the recipe), and describe the result.

    ``model`` changes fields of the task's default configuration (e.g. ``{"cell": "rnn", "hidden_size": 32}``);
    with ``curve_window`` the metadata keeps the training loss curve (:func:`loss_curve`) and the held-out
    metric at every evaluation. Returns (config, params, meta); meta['metrics'] are measured on the held-out
    batch with the weights as they will be stored (float32), so a loaded preset scores exactly that.
    """
    from core.tasks import get_task  # the task registry imports every task module; only needed here
    from core.train import Trainer, TrainSettings

    task = get_task(task_name, **task_options)
    config = task.config_with(**model) if model else None
    trainer = Trainer(task, TrainSettings.for_task(task, **settings), config=config)
    losses: list[float] = []
    held_out: dict[str, list[float]] = {"steps": [], task.metric: []}
    final = None
    for final in trainer.run():
        if math.isfinite(final.loss):  # a diverged run's last report carries the non-finite loss
            losses.append(final.loss)
        if final.eval is not None:
            held_out["steps"].append(final.step)
            held_out[task.metric].append(float(f"{final.eval[task.metric]:.6g}"))
    assert final is not None
    stored = stored_params(trainer.params, trainer.config)
    described = task.describe()  # title, description, shape, metric, goal, vocab (+ target_vocab, Seq2Seq)
    meta = {
        "task": task.name,
        "task_options": task.options(),
        **{k: v for k, v in described.items() if k not in ("name", "options")},
        "target": trainer.target,
        "seed": trainer.settings.seed,
        "settings": trainer.settings.to_dict(),
        "steps": final.step,
        "stop_reason": final.reason,
        "training_seconds": round(final.elapsed, 3),
        "metrics": trainer.adapter.evaluate(stored, trainer.held_out),
    }
    if model:
        meta["model_changes"] = dict(model)
    if curve_window is not None:
        meta["parameters"] = parameter_count(stored)
        meta["curve"] = {**loss_curve(losses, curve_window), "held_out": held_out}
    return trainer.config, trainer.params, meta
