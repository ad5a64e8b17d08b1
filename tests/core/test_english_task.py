"""The English next-character task: its corpus is the same in every process, holds only its vocabulary,
and its training and held-out windows never share a block."""

from __future__ import annotations

import ast
import hashlib
import os
import string
import subprocess
import sys

import numpy as np
import pytest

from core.tasks import get_task
from core.tasks.english import (
    ALPHABET,
    BLOCK,
    HELD_OUT_EVERY,
    MODULES,
    UNKNOWN,
    VOCAB,
    _public_defs,
    corpus,
    docstrings,
    prose,
    source_path,
)

DIGEST = "import hashlib; from core.tasks.english import corpus; print(hashlib.sha256(corpus().encode()).hexdigest())"


def test_the_corpus_is_the_same_in_fresh_processes_whatever_the_hash_seed():
    here = hashlib.sha256(corpus().encode()).hexdigest()
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", DIGEST], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here


def test_the_corpus_comes_from_the_sources_not_from_what_a_program_changed(monkeypatch):
    import inspect

    before = corpus()
    corpus.cache_clear()
    monkeypatch.setattr(inspect, "getfile", lambda obj: "wrapped")  # as some libraries do
    try:
        assert corpus() == before
    finally:
        corpus.cache_clear()
    assert source_path("json").name == "__init__.py" and source_path("email.message").name == "message.py"
    docs = docstrings("textwrap")
    assert docs[0].startswith("Text wrapping and filling.")  # the module's own docstring first
    # Only what the module defines unconditionally: a definition inside `if` or `try` may be platform-bound.
    code = "def b(): 'B'\nif X:\n    def a(): 'A'\nclass C:\n    'C'\n    def m(self): 'M'\ndef _p(): 'P'\n"
    assert [node.name for node in _public_defs(ast.parse(code).body)] == ["C", "b"]


def test_the_corpus_is_folded_prose_in_the_vocabulary():
    text = corpus()
    assert 200_000 < len(text) < 1_000_000  # a few hundred KB
    assert set(text) <= set(ALPHABET) and UNKNOWN in text
    assert text == text.lower() and "  " not in text and text == text.strip()
    assert text.count(UNKNOWN) / len(text) < 0.03  # mostly English, not code
    assert text.count(" the ") > 1000
    assert list(MODULES) == sorted(MODULES)


def test_the_vocabulary_and_the_unknown_token():
    assert set(string.ascii_lowercase + string.digits + " .,;:'\"!?()-") | {UNKNOWN} == set(ALPHABET)
    assert len(ALPHABET) == len(set(ALPHABET)) == len(VOCAB)
    assert UNKNOWN == "\u25a1" and not UNKNOWN.isascii()
    assert VOCAB.to_dict()["fold_case"] is True and VOCAB.to_dict()["unknown"] == UNKNOWN
    # One token per typed character: case folded, anything else the unknown token (also characters whose
    # lower case is two characters, such as the dotted capital I).
    typed = "Hello, World € \u0130!"
    assert VOCAB.decode(VOCAB.encode(typed)) == "hello, world □ □!"
    assert len(VOCAB.encode(typed)) == len(typed)


def test_code_lines_are_not_prose():
    doc = "Sum the numbers.\n\n    total = sum(xs)\n>>> add(1, 2)\n3\n...   more\nReturn\tthe  total."
    assert prose(doc) == "Sum the numbers. 3 Return the total."


def test_training_and_held_out_windows_lie_in_different_blocks():
    task = get_task("english", window=20)
    train, held = task._starts
    assert len(held) > 1000 and len(train) > 8 * len(held)
    for starts, want in ((train, False), (held, True)):
        for edge in (starts, starts + task.window):
            assert ((edge // BLOCK) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1).all() == want
            assert ((edge // BLOCK) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1).any() == want
    batch = task.eval_batch(np.random.default_rng(0), 8)
    assert batch.inputs.shape == batch.targets.shape == (20, 8)
    np.testing.assert_array_equal(batch.inputs[1:], batch.targets[:-1])  # the target is the next character


def test_samples_fit_the_page_and_options_are_checked():
    samples = get_task("english").samples()
    assert samples and all(len(s.text) <= 40 and VOCAB.decode(s.inputs) == s.text for s in samples)
    with pytest.raises(ValueError):
        get_task("english", window=1)
    with pytest.raises(ValueError):
        get_task("english", hidden=0)
