"""The translation and reversal tasks: data, samples, and a few hundred training steps that clearly help."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.seq2seq import beam_decode, greedy_decode
from core.seq2seq.adapter import END, Seq2SeqAdapter
from core.tasks import get_task
from core.tasks.reverse import ReverseTask
from core.tasks.translation import PAIRS, TranslationTask
from core.train import TrainSettings, train


def held_out(task, result):
    return [p.eval for p in result.history if p.eval is not None]


def untrained(task, config, settings):
    """The held-out metrics of the initial weights, on the batch the trainer evaluates on."""
    batch = task.eval_batch(np.random.default_rng([settings.seed, 1]), settings.eval_size)
    return task.adapter(config).evaluate(task.init_params(config, settings.seed), batch)


def test_translation_data():
    task = get_task("translation")
    assert isinstance(task, TranslationTask)
    pairs = dict(PAIRS)
    assert pairs["They are watching ."] == "Ils regardent ."
    assert "I am a student" in pairs
    assert len(set(pairs)) == len(PAIRS)
    batch = task.sample_batch(np.random.default_rng(0), 8)
    T, B = batch.targets.shape
    assert B == 8 and batch.inputs.shape[1] == 8
    for b in range(B):
        source = task.vocab.decode(batch.inputs[: batch.lengths[b], b])
        target_ids = [i for i in batch.targets[:, b] if i != 0]
        assert target_ids[-1] == task.target_vocab.index[END]
        assert task.target_vocab.decode(target_ids[:-1]) == pairs[source]
    texts = [s.text for s in task.samples()]
    assert "They are watching ." in texts and "I am a student" in texts
    assert task.describe()["model"] == "seq2seq"


def test_reverse_data():
    task = ReverseTask(letters=5, min_length=2, max_length=6)
    batch = task.sample_batch(np.random.default_rng(1), 16)
    assert batch.lengths.min() >= 2 and batch.lengths.max() <= 6
    for b in range(16):
        source = task.vocab.decode(batch.inputs[: batch.lengths[b], b])
        target = task.target_vocab.decode(batch.targets[: batch.lengths[b], b])
        assert target == source[::-1]
        assert batch.targets[batch.lengths[b], b] == task.target_vocab.index[END]
    for sample in task.samples():
        assert sample.target == sample.text[::-1]
    with pytest.raises(ValueError):
        ReverseTask(letters=1)


def test_the_adapter_is_deterministic():
    task = TranslationTask()
    config = task.default_config()
    params = task.init_params(config, 0)
    batch = task.sample_batch(np.random.default_rng(2), 6)
    adapter = Seq2SeqAdapter(config, teacher_forcing=0.5)
    a, b = adapter.loss_and_gradients(params, batch), adapter.loss_and_gradients(params, batch)
    assert a[0] == b[0] and all(np.array_equal(a[1][k], b[1][k]) for k in a[1])
    assert list(a[1]) == list(params)


def test_translation_learns_the_phrase_set():
    task = TranslationTask()
    settings = TrainSettings.for_task(task, steps=200, stop_at_target=False)
    first = untrained(task, task.default_config(), settings)
    result = train(task, settings)
    last = held_out(task, result)[-1]
    assert first["sequence_accuracy"] == 0.0
    assert last["sequence_accuracy"] >= 0.9
    assert last["loss"] < first["loss"] / 5
    config = result.config
    for source in ["They are watching .", "I am a student"]:
        ids = task.vocab.encode(source)
        wanted = task.target_vocab.encode(dict(PAIRS)[source]).tolist() + [task.target_vocab.index[END]]
        assert greedy_decode(result.params, config, ids).output_ids(0) == wanted
        assert beam_decode(result.params, config, ids, width=3).output_ids(0) == wanted


def test_reversal_learns_and_attends_back_to_front():
    task = ReverseTask()
    settings = TrainSettings.for_task(task, steps=300, stop_at_target=False, eval_every=100, eval_size=100)
    before = untrained(task, task.default_config(), settings)
    result = train(task, settings)
    assert before["sequence_accuracy"] < 0.05
    assert held_out(task, result)[-1]["sequence_accuracy"] >= 0.9
    text = "hbdfga"
    trace = greedy_decode(result.params, result.config, task.vocab.encode(text))
    assert task.target_vocab.decode(trace.output_ids(0)[:-1]) == text[::-1]
    looks_at = trace.attention_matrix(0)[: len(text)].argmax(axis=1)
    assert (looks_at == np.arange(len(text))[::-1]).mean() >= 0.8


def test_translation_without_attention_trains_too():
    """The textbook model, where the context vector is all the decoder gets, also learns the phrase set."""
    task = TranslationTask()
    config = replace(task.default_config(), attention="none")
    settings = TrainSettings.for_task(task, steps=200, stop_at_target=False)
    before = untrained(task, config, settings)
    evals = held_out(task, train(task, settings, config=config))
    assert before["sequence_accuracy"] == 0.0
    assert evals[-1]["sequence_accuracy"] >= 0.7
