"""The sentences task (core.tasks.sentences): a seed fixes the data, the translation rules by hand-worked
cases, lengths, case folding and the unknown token."""

from __future__ import annotations

import numpy as np
import pytest

from core.tasks import get_task
from core.tasks.base import Vocab
from core.tasks.sentences import MIN_LENGTH, UNKNOWN, translate


@pytest.fixture(scope="module")
def task():
    return get_task("sentences")


def test_the_same_seed_draws_the_same_batches_and_another_seed_others(task):
    a = task.sample_batch(np.random.default_rng(7), 16)
    b = task.sample_batch(np.random.default_rng(7), 16)
    c = task.sample_batch(np.random.default_rng(8), 16)
    for x, y in ((a.inputs, b.inputs), (a.targets, b.targets), (a.lengths, b.lengths)):
        np.testing.assert_array_equal(x, y)
    assert a.extra == b.extra
    assert not np.array_equal(a.inputs, c.inputs) or not np.array_equal(a.targets, c.targets)
    held = task.eval_batch(np.random.default_rng([0, 1]), 64)
    again = get_task("sentences").eval_batch(np.random.default_rng([0, 1]), 64)
    np.testing.assert_array_equal(held.inputs, again.inputs)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("the dog sleeps", "le chien dort"),
        ("the red car sees a dog", "la voiture rouge voit un chien"),
        ("a young cat finds the door under a table", "un chat jeune trouve la porte sous une table"),
        ("the quiet bird waits behind the house", "le oiseau calme attend derrière la maison"),
        ("the zebra sees a red", "le <unk> voit un rouge"),  # no noun after: masculine, adjective stays
        ("a purple car sleeps", "une voiture <unk> dort"),  # an unknown word takes an adjective's place
    ],
)
def test_translation_rules_by_hand(source, target):
    assert " ".join(translate(source.split())) == target


def test_lengths_span_short_to_long_and_every_word_is_known(task):
    rng = np.random.default_rng(3)
    sentences = [task.sentence(rng) for _ in range(400)]
    lengths = {len(s) for s in sentences}
    assert min(lengths) == MIN_LENGTH and max(lengths) <= task.max_length
    assert max(lengths) >= task.max_length - 2
    for words in sentences:
        source, target = task.pair(words)
        assert len(target) == len(words)  # one target word per source word, reordered
        assert task.vocab.decode(source).split() == words
    held = task.eval_batch(np.random.default_rng(0), 40)
    assert min(held.lengths) <= 6 and max(held.lengths) >= 15  # no phrase to three phrases, all held out


def test_typed_text_folds_case_and_unknown_words_become_the_unknown_token(task):
    assert task.vocab.fold("The") == "the" and task.vocab.fold("zebra") == UNKNOWN
    assert task.reference("The Red CAR sleeps") == "la voiture rouge dort"
    assert task.reference("The purple car sleeps") == "la voiture <unk> dort"
    np.testing.assert_array_equal(task.vocab.encode("The DOG sleeps"), task.vocab.encode("the dog sleeps"))


def test_folding_reads_a_word_as_the_token_equal_to_it_in_lower_case():
    vocab = Vocab(["<pad>", "I", "She", "am"], joiner=" ", fold_case=True)
    assert [vocab.fold(w) for w in ("i", "SHE", "am", "Am")] == ["I", "She", "am", "am"]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("i am a zebra")
    assert get_task("translation").reference("i AM a student") == "Je suis étudiant"
    assert get_task("translation").reference("I am a zebra") is None


def test_options_are_checked():
    with pytest.raises(ValueError, match="max_phrases"):
        get_task("sentences", max_phrases=9)
    with pytest.raises(ValueError, match="probabilities"):
        get_task("sentences", unknown_rate=2.0)
