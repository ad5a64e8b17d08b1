"""Built-in tasks: their data is what it claims to be, their models fit it, and they are deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from core.network import forward
from core.tasks import TASKS, get_task, list_tasks
from core.tasks.base import Vocab
from core.tasks.continuation import continue_tokens
from core.tasks.melody import MelodyTask
from core.tasks.sentiment import POSITIVE, SentimentTask, words

OWN_TASKS = ["chars", "english", "sentiment", "sine", "adding", "copy", "points", "melody"]


@pytest.mark.parametrize("name", OWN_TASKS)
def test_every_task_trains_one_step_deterministically(name):
    task = get_task(name)
    config = task.default_config()
    params = task.init_params(config, 0)
    adapter = task.adapter(config)
    a = task.sample_batch(np.random.default_rng(9), 4)
    b = task.sample_batch(np.random.default_rng(9), 4)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    loss, grads, metrics = adapter.loss_and_gradients(params, a)
    assert (
        np.isfinite(loss)
        and metrics["loss"] == loss
        and task.metric in {**metrics, **adapter.evaluate(params, a)}
    )
    assert set(grads) == set(params)
    assert all(g.shape == params[k].shape and np.isfinite(g).all() for k, g in grads.items())
    assert task.describe()["name"] == name
    assert task.samples(), "the front end needs sample inputs"


def test_registry():
    assert set(OWN_TASKS) <= set(TASKS)
    assert {d["name"] for d in list_tasks()} == set(TASKS)
    assert get_task("adding", lag=30).options() == {"lag": 30}
    with pytest.raises(KeyError, match="unknown task"):
        get_task("weather")


def test_vocab_round_trip_and_unknown_tokens():
    chars = Vocab(list("abc "))
    assert chars.decode(chars.encode("a cab")) == "a cab"
    words_vocab = Vocab(["hello", "world"], joiner=" ")
    np.testing.assert_array_equal(words_vocab.encode("world hello"), [1, 0])
    assert Vocab.from_dict(words_vocab.to_dict()).tokens == words_vocab.tokens
    with pytest.raises(ValueError, match="not in the vocabulary"):
        chars.encode("abd")
    with pytest.raises(ValueError):
        Vocab(["a", "a"])


def test_a_vocabulary_can_fold_case_and_read_other_tokens_as_its_unknown_token():
    words_vocab = Vocab(["<unk>", "good", "day"], joiner=" ", fold_case=True, unknown="<unk>")
    np.testing.assert_array_equal(words_vocab.encode("Good DAY Sunshine"), [1, 2, 0])
    assert words_vocab.fold("Good") == "good" and words_vocab.fold("sunshine") == "<unk>"
    again = Vocab.from_dict(words_vocab.to_dict())
    assert (again.fold_case, again.unknown) == (True, "<unk>")
    folding_only = Vocab(list("ab"), fold_case=True)
    np.testing.assert_array_equal(folding_only.encode("AbA"), [0, 1, 0])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        folding_only.encode("abc")
    assert Vocab(list("ab")).to_dict() == {"tokens": ["a", "b"], "joiner": ""}  # plain vocabularies unchanged
    with pytest.raises(ValueError, match="unknown token"):
        Vocab(list("ab"), unknown="?")


def test_sentiment_reads_unknown_words_and_learns_them_from_word_dropout():
    task = SentimentTask()
    assert task.vocab.unknown == "<unk>" and task.vocab.fold_case
    np.testing.assert_array_equal(task.vocab.encode("Look for UNICORNS"), task.vocab.encode("look for <unk>"))
    batch = task.sample_batch(np.random.default_rng(0), 200)
    real = batch.inputs != task.vocab.index["<pad>"]
    dropped = (batch.inputs == task.vocab.index["<unk>"]).sum() / real.sum()
    assert 0.05 < dropped < 0.15  # about UNK_RATE of the words
    held_out = task.eval_batch(np.random.default_rng(0), 1)
    assert not (held_out.inputs == task.vocab.index["<unk>"]).any()  # measured on the phrases as written


def test_sentiment_phrases_from_the_lecture_are_positive_and_batches_are_padded():
    task = SentimentTask()
    for phrase in ("When it rains, look for rainbows.", "When it's dark, look for stars."):
        assert phrase in POSITIVE
    assert words("When it's dark, look for stars.") == [
        "when",
        "it's",
        "dark",
        ",",
        "look",
        "for",
        "stars",
        ".",
    ]
    batch = task.batch_of(np.array([0, 30]))
    lengths = batch.lengths
    assert batch.inputs.shape[0] == lengths.max()
    short = int(np.argmin(lengths))
    assert (batch.inputs[lengths[short] :, short] == 0).all()  # <pad>
    assert task.vocab.decode(batch.inputs[: lengths[0], 0]) == " ".join(words(POSITIVE[0]))
    assert batch.targets[lengths[0] - 1, 0] == 1 and batch.targets[lengths[1] - 1, 1] == 0
    assert len(task.eval_batch(np.random.default_rng(0), 5).lengths) == len(task.phrases)


def test_adding_problem_targets_are_the_sum_of_the_two_marked_values():
    task = get_task("adding", lag=12)
    batch = task.sample_batch(np.random.default_rng(0), 50)
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    assert batch.inputs.shape == (12, 50, 2)
    assert (markers.sum(0) == 2).all()
    assert (markers[:6].sum(0) == 1).all() and (markers[6:].sum(0) == 1).all()
    np.testing.assert_allclose(batch.targets[-1, :, 0], (values * markers).sum(0))
    assert ((values >= 0) & (values < 1)).all()


def test_copy_memory_recalls_the_shown_symbols_after_the_lag():
    task = get_task("copy", lag=7, symbols=3, alphabet=5)
    batch = task.sample_batch(np.random.default_rng(1), 20)
    K, recall = 3, 3 + 7
    assert batch.inputs.shape == (task.length, 20) == (13, 20)
    np.testing.assert_array_equal(batch.targets[recall:], batch.inputs[:K])
    assert (batch.inputs[:K] >= 1).all() and (batch.inputs[:K] <= 5).all()
    assert (batch.inputs[recall - 1] == task.vocab.index[">"]).all()
    assert (batch.inputs[K : recall - 1] == 0).all() and (batch.inputs[recall:] == 0).all()
    np.testing.assert_array_equal(batch.weights.any(1), np.arange(13) >= recall)


def test_sine_series_scores_only_after_the_warmup_and_targets_are_the_next_input():
    task = get_task("sine", length=20, warmup=5)
    batch = task.sample_batch(np.random.default_rng(2), 3)
    np.testing.assert_array_equal(batch.targets[:-1], batch.inputs[1:])
    assert not batch.weights[:5].any() and batch.weights[5:].all()


def test_one_to_one_points_never_train_the_recurrent_weights():
    task = get_task("points")
    config = task.default_config()
    params = task.init_params(config, 1)
    batch = task.sample_batch(np.random.default_rng(3), 16)
    assert batch.inputs.shape == (1, 16, 2)
    np.testing.assert_array_equal(batch.targets[0], batch.inputs[0, :, 0] * batch.inputs[0, :, 1] > 0)
    _, grads, _ = task.adapter(config).loss_and_gradients(params, batch)
    assert not grads["weight_hh_l0"].any()
    assert grads["weight_ih_l0"].any()


def test_next_character_windows_follow_the_text():
    task = get_task("chars", window=10)
    batch = task.sample_batch(np.random.default_rng(4), 2)
    for b in range(2):
        window = task.vocab.decode(batch.inputs[:, b]) + task.vocab.decode(batch.targets[-1:, b])
        assert window in task.text
    np.testing.assert_array_equal(batch.targets[:-1], batch.inputs[1:])


def test_continuation_hands_the_prompt_state_to_generation():
    task = get_task("chars")
    config = task.default_config()
    params = task.init_params(config, 2)
    prompt = task.vocab.encode("the mill")
    new, trace = continue_tokens(params, config, prompt, 5)
    assert new.shape == (5,)
    expected_first = int(np.argmax(forward(params, config, prompt).logits[-1, 0]))
    assert new[0] == expected_first
    a = task.continue_text(params, config, "the ", 20, sample=True, temperature=0.7, seed=3)
    b = task.continue_text(params, config, "the ", 20, sample=True, temperature=0.7, seed=3)
    assert a == b and len(a) == 20
    shout = task.continue_text(params, config, "The Mill", 5)
    assert shout == task.continue_text(params, config, "the mill", 5)
    with pytest.raises(ValueError):
        continue_tokens(params, config, np.array([], np.int64), 3)


def test_melodies_open_on_distinct_notes_and_generation_is_scored_free_running():
    task = MelodyTask()
    firsts = task.tunes[:, 0]
    assert len(set(firsts.tolist())) == len(firsts)
    config = task.default_config()
    params = task.init_params(config, 0)
    metrics = task.adapter(config).evaluate(params, task.eval_batch(np.random.default_rng(0), 5))
    assert 0.0 <= metrics["generated"] < 0.5  # an untrained network does not know the tunes
    assert len(task.play(params, config, "E4", 6).split()) == 6
