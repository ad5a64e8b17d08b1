"""Toy English -> French translation with an encoder-decoder, word by word.

The phrase pairs below were written for Unrolled: short sentences built from a few subjects, verbs and nouns,
so that the same English word maps to different French words depending on its neighbours ("They are watching"
-> "Ils regardent", "She is watching" -> "Elle regarde"; "I am tired" -> "Je suis fatigué" but "I am cold" ->
"J'ai froid"). Source and target have different lengths and word orders, which is exactly what an aligned
many-to-many network cannot do and an encoder-decoder can.

The set is small enough to learn by heart in seconds; the metric is greedy sequence accuracy over every pair
(does the model, decoding on its own, write the whole French sentence and stop?).
"""

from __future__ import annotations

import numpy as np

from core.seq2seq.adapter import END, PAD, START, Seq2SeqTask
from core.seq2seq.config import Seq2SeqConfig
from core.tasks.base import Batch, Sample, Vocab

PAIRS = (
    ("I am a student", "Je suis étudiant"),
    ("She is a student", "Elle est étudiante"),
    ("We are students", "Nous sommes étudiants"),
    ("He is a teacher", "Il est professeur"),
    ("They are watching .", "Ils regardent ."),
    ("They are reading .", "Ils lisent ."),
    ("They are eating .", "Ils mangent ."),
    ("They are playing .", "Ils jouent ."),
    ("She is watching .", "Elle regarde ."),
    ("She is singing .", "Elle chante ."),
    ("He is reading .", "Il lit ."),
    ("He is sleeping .", "Il dort ."),
    ("We are eating .", "Nous mangeons ."),
    ("We are running .", "Nous courons ."),
    ("The children are playing .", "Les enfants jouent ."),
    ("I am tired .", "Je suis fatigué ."),
    ("She is tired .", "Elle est fatiguée ."),
    ("We are tired .", "Nous sommes fatigués ."),
    ("I am late .", "Je suis en retard ."),
    ("You are late .", "Tu es en retard ."),
    ("You are kind .", "Tu es gentil ."),
    ("I am cold .", "J'ai froid ."),
    ("We are cold .", "Nous avons froid ."),
    ("He is hungry .", "Il a faim ."),
    ("They are hungry .", "Ils ont faim ."),
    ("It is cold .", "Il fait froid ."),
    ("It is hot .", "Il fait chaud ."),
    ("It is raining .", "Il pleut ."),
    ("I see the cat .", "Je vois le chat ."),
    ("She sees the dog .", "Elle voit le chien ."),
    ("We see the sea .", "Nous voyons la mer ."),
    ("I like the music .", "J'aime la musique ."),
    ("He likes the book .", "Il aime le livre ."),
    ("They like the garden .", "Ils aiment le jardin ."),
    ("I have a dog .", "J'ai un chien ."),
    ("She has a cat .", "Elle a un chat ."),
    ("He has a book .", "Il a un livre ."),
    ("We have a house .", "Nous avons une maison ."),
    ("The cat is black .", "Le chat est noir ."),
    ("The dog is small .", "Le chien est petit ."),
    ("The house is big .", "La maison est grande ."),
    ("The book is red .", "Le livre est rouge ."),
    ("The sea is blue .", "La mer est bleue ."),
    ("Where is the cat ?", "Où est le chat ?"),
    ("Where is the station ?", "Où est la gare ?"),
    ("I am going home .", "Je rentre à la maison ."),
    ("Good morning .", "Bonjour ."),
    ("Good night .", "Bonne nuit ."),
    ("Thank you .", "Merci ."),
    ("See you tomorrow .", "À demain ."),
)


class TranslationTask(Seq2SeqTask):
    name = "translation"
    title = "Translate English to French"
    description = ("Encoder-decoder: read a short English sentence word by word, then write its French "
                   "translation one word at a time, feeding each word back in, until the end token.")
    target = 1.0
    teacher_forcing = 1.0
    default_training = {"steps": 300, "batch_size": 16, "lr": 0.01, "eval_every": 20, "eval_size": len(PAIRS)}

    def __init__(self) -> None:
        self.pairs = PAIRS
        source_words = sorted({w for en, _ in PAIRS for w in en.split(" ")})
        target_words = sorted({w for _, fr in PAIRS for w in fr.split(" ")})
        self.vocab = Vocab([PAD, *source_words], joiner=" ", fold_case=True)
        self.target_vocab = Vocab([PAD, START, END, *target_words], joiner=" ", fold_case=True)
        self.encoded = [(self.vocab.encode(en), self.target_vocab.encode(fr)) for en, fr in PAIRS]

    def default_config(self) -> Seq2SeqConfig:
        return Seq2SeqConfig(cell="gru", src_vocab_size=len(self.vocab),
                             tgt_vocab_size=len(self.target_vocab),
                             embedding_size=16, hidden_size=32, attention="dot", max_length=10)

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        picks = rng.integers(0, len(self.encoded), batch_size)
        return self.make_batch([self.encoded[i] for i in picks], int(rng.integers(2**31)))

    def eval_batch(self, rng: np.random.Generator, size: int) -> Batch:
        """Every pair once: the phrase set is the whole language of this task."""
        return self.make_batch(self.encoded, 0)

    def reference(self, text: str) -> str | None:
        """The French of one of the phrase pairs (spaces and case aside), None for any other sentence."""
        wanted = " ".join(text.split()).lower()
        return next((fr for en, fr in self.pairs if en.lower() == wanted), None)

    def samples(self) -> list[Sample]:
        picks = ["They are watching .", "I am a student", "She sees the dog .", "It is raining ."]
        lookup = dict(PAIRS)
        return [self.sample(en, lookup[en]) for en in picks]
