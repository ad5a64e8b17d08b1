"""Task.config_with: the task's default model with some fields changed, checked by the config itself."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from core.tasks import get_task
from core.train import Trainer, TrainSettings


def test_config_with_changes_only_the_named_fields() -> None:
    task = get_task("copy")
    default = task.default_config()
    rnn = task.config_with(cell="rnn", hidden_size=7, num_layers=2)
    assert (rnn.cell, rnn.hidden_size, rnn.num_layers) == ("rnn", 7, 2)
    assert rnn.vocab_size == default.vocab_size and rnn.output_size == default.output_size
    assert task.default_config() == default  # the default is not changed


def test_config_with_on_an_encoder_decoder_task() -> None:
    task = get_task("reverse")
    config = task.config_with(cell="lstm", hidden_size=10)
    assert (config.cell, config.hidden_size) == ("lstm", 10)
    assert config.attention == task.default_config().attention


def test_config_with_refuses_what_the_config_refuses() -> None:
    task = get_task("adding")
    with pytest.raises(ConfigError):
        task.config_with(cell="transformer")
    with pytest.raises(TypeError):
        task.config_with(dropout=0.1)


def test_a_changed_model_trains_with_its_own_shapes() -> None:
    task = get_task("adding")
    config = task.config_with(cell="gru", hidden_size=5)
    trainer = Trainer(task, TrainSettings.for_task(task, steps=2), config)
    assert trainer.params["weight_hh_l0"].shape == (3 * 5, 5)
    assert trainer.run_to_end().step == 2
