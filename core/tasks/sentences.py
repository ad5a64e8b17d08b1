"""Translate made-up English sentences of 3 to 19 words into a French-like target, word by word.

The sentences come from a small grammar over a fixed vocabulary (no data is downloaded):

    sentence  = NP verb [NP] (prep NP)*     an intransitive verb takes no object, a transitive one does
    NP        = det [adj] noun              det: the, a

and translate by three rules, so the target is a deterministic function of the source (:func:`translate`):

* every word has one French word, except the determiner, whose form depends on the gender of the noun that
  follows it (the -> le / la, a -> un / une): the decoder must look *ahead* in the source to write it;
* an adjective goes after its noun ("the red car" -> "la voiture rouge"): the order changes locally;
* a word outside the vocabulary is written as the unknown token, in the place it would take.

Lengths grow with the number of prepositional phrases (0 to ``max_phrases``, drawn uniformly), so one task has
short and long sentences with the same vocabulary. That is what shows the fixed context vector's bottleneck:
without attention the decoder must rebuild the whole sentence from the encoder's final state s_0 = h_S,
which holds the same number of values for 3 words as for 19; with attention, decoder step t reads a mix
sum_j a_tj h_j of every encoder state (``bench/bench_bottleneck.py`` measures both by source length).

Vocabularies fold case (typed "The" is read as "the") and name an unknown token, ``<unk>``; in training an
adjective is replaced by it with probability ``unknown_rate`` on both sides, so the models learn to carry it
through. Every draw comes from the Generator passed in, so a seed fixes the data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from core.seq2seq.adapter import END, PAD, START, Seq2SeqTask
from core.seq2seq.config import Seq2SeqConfig
from core.tasks.base import Batch, Sample, Vocab

UNKNOWN = "<unk>"
#: noun -> (French noun, feminine?)
NOUNS = {
    "dog": ("chien", False), "cat": ("chat", False), "bird": ("oiseau", False), "book": ("livre", False),
    "tree": ("arbre", False), "garden": ("jardin", False), "house": ("maison", True),
    "car": ("voiture", True), "table": ("table", True), "door": ("porte", True),
}
ADJECTIVES = {"red": "rouge", "yellow": "jaune", "fast": "rapide", "quiet": "calme", "sad": "triste",
              "young": "jeune"}
TRANSITIVE = {"sees": "voit", "likes": "aime", "follows": "suit", "finds": "trouve"}
INTRANSITIVE = {"sleeps": "dort", "waits": "attend"}
PREPOSITIONS = {"with": "avec", "under": "sous", "behind": "derrière"}
DETERMINERS = {"the": ("le", "la"), "a": ("un", "une")}  # (masculine, feminine)
PLAIN = {**ADJECTIVES, **TRANSITIVE, **INTRANSITIVE, **PREPOSITIONS, **{n: f for n, (f, _) in NOUNS.items()}}
MIN_LENGTH = 3


def translate(words: list[str]) -> list[str]:
    """The target of a (lower-case) source word list, by the three rules of the module docstring.

    A determiner takes the gender of the first noun after it (masculine when none follows); a run of
    adjectives moves behind the noun that ends it (a run not ended by a noun stays where it is)."""
    out: list[str] = []
    pending: list[str] = []  # adjectives (or unknown words in their place) waiting for their noun
    for j, word in enumerate(words):
        if word in DETERMINERS:
            noun = next((w for w in words[j + 1:] if w in NOUNS), None)
            out.append(DETERMINERS[word][noun is not None and NOUNS[noun][1]])
        elif word in NOUNS:
            out += [NOUNS[word][0], *pending]
            pending = []
        elif word in ADJECTIVES or word not in PLAIN:
            pending.append(ADJECTIVES.get(word, UNKNOWN))
        else:
            out += [*pending, PLAIN[word]]
            pending = []
    return out + pending


class SentencesTask(Seq2SeqTask):
    name = "sentences"
    title = "Translate sentences of growing length"
    description = ("Encoder-decoder: translate made-up English sentences of 3 to 19 words into French-like "
                   "words, the determiner agreeing with its noun and the adjective moved after it. Long "
                   "sentences show what a single context vector cannot hold.")
    target = 0.9
    teacher_forcing = 1.0
    default_training = {"steps": 2500, "batch_size": 32, "lr": 0.005, "eval_every": 250, "eval_size": 256}

    def __init__(self, max_phrases: int = 3, adjective_rate: float = 0.5, unknown_rate: float = 0.05) -> None:
        if not 0 <= max_phrases <= 5:
            raise ValueError("max_phrases must be between 0 and 5")
        if not 0.0 <= adjective_rate <= 1.0 or not 0.0 <= unknown_rate <= 1.0:
            raise ValueError("adjective_rate and unknown_rate must be probabilities")
        self.max_phrases, self.adjective_rate, self.unknown_rate = max_phrases, adjective_rate, unknown_rate
        source = sorted({*PLAIN, *DETERMINERS})
        target = sorted({*PLAIN.values(), *(f for pair in DETERMINERS.values() for f in pair)})
        self.vocab = Vocab([PAD, UNKNOWN, *source], joiner=" ", fold_case=True, unknown=UNKNOWN)
        self.target_vocab = Vocab([PAD, START, END, UNKNOWN, *target], joiner=" ", fold_case=True,
                                  unknown=UNKNOWN)

    @property
    def max_length(self) -> int:
        """Words in the longest sentence: det adj noun verb det adj noun, then 4 per phrase."""
        return 7 + 4 * self.max_phrases

    def options(self) -> dict[str, float]:
        return {"max_phrases": self.max_phrases, "adjective_rate": self.adjective_rate,
                "unknown_rate": self.unknown_rate}

    def default_config(self) -> Seq2SeqConfig:
        return Seq2SeqConfig(cell="gru", src_vocab_size=len(self.vocab), tgt_vocab_size=len(self.target_vocab),
                             embedding_size=16, hidden_size=32, attention="dot", max_length=self.max_length + 1)

    def _pick(self, rng: np.random.Generator, words: Mapping[str, object]) -> str:
        keys = sorted(words)
        return keys[int(rng.integers(len(keys)))]

    def _phrase(self, rng: np.random.Generator) -> list[str]:
        words = [self._pick(rng, DETERMINERS)]
        if rng.random() < self.adjective_rate:
            words.append(UNKNOWN if rng.random() < self.unknown_rate else self._pick(rng, ADJECTIVES))
        return [*words, self._pick(rng, NOUNS)]

    def sentence(self, rng: np.random.Generator, phrases: int | None = None) -> list[str]:
        """One source sentence; ``phrases`` prepositional phrases (drawn in [0, max_phrases] when None)."""
        count = int(rng.integers(self.max_phrases + 1)) if phrases is None else phrases
        words = self._phrase(rng)
        if rng.random() < 0.25:
            words.append(self._pick(rng, INTRANSITIVE))
        else:
            words += [self._pick(rng, TRANSITIVE), *self._phrase(rng)]
        for _ in range(count):
            words += [self._pick(rng, PREPOSITIONS), *self._phrase(rng)]
        return words

    def pair(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.vocab.encode(words), self.target_vocab.encode(translate(words))

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        pairs = [self.pair(self.sentence(rng)) for _ in range(batch_size)]
        return self.make_batch(pairs, int(rng.integers(2**31)))

    def eval_batch(self, rng: np.random.Generator, size: int) -> Batch:
        """As many sentences with each number of phrases (so every length is measured), in that order."""
        counts = [i * (self.max_phrases + 1) // size for i in range(size)]
        return self.make_batch([self.pair(self.sentence(rng, c)) for c in counts], 0)

    def reference(self, text: str) -> str:
        """The translation of a typed sentence: each word folded to the vocabulary's, then :func:`translate`."""
        return " ".join(translate([self.vocab.fold(w) for w in text.split()]))

    def samples(self) -> list[Sample]:
        picks = ["The dog sleeps", "A young cat sees the red car",
                 "The sad dog finds a book under the table with a yellow bird",
                 "A quiet bird follows the fast car behind a red house with the young dog under a tree"]
        return [self.sample(text, self.reference(text)) for text in picks]
