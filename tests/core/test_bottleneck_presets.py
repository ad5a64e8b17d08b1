"""The bottleneck pair (core.bottleneck): the sentences task trained with and without attention at the same size.
Every figure is computed here from the shipped presets and compared with their metadata and with
bench/results/bottleneck.json; nothing is typed in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core import bottleneck
from core.presets import load_preset
from core.tasks import get_task

BENCH = Path(__file__).resolve().parents[2] / "bench" / "results" / "bottleneck.json"
PRESETS = {name: load_preset(name) for name in bottleneck.MEMBERS}
ATTENDING, PLAIN = (PRESETS[n] for n in ("sentences-attention", "sentences-no-attention"))


@pytest.fixture(scope="module")
def task():
    return get_task(bottleneck.TASK, **bottleneck.OPTIONS)


def test_the_two_share_task_size_recipe_and_seed_and_differ_in_attention_only():
    a, b = ATTENDING.config.to_dict(), PLAIN.config.to_dict()
    assert {k for k in a if a[k] != b[k]} == {"attention"}
    assert (a["attention"], b["attention"]) == ("dot", "none")
    assert ATTENDING.meta["settings"] == PLAIN.meta["settings"]
    assert ATTENDING.meta["task"] == PLAIN.meta["task"] == bottleneck.TASK
    assert [p.meta["evidence"]["counter_example"] for p in (ATTENDING, PLAIN)] == [False, True]


@pytest.mark.parametrize("name", list(bottleneck.MEMBERS))
def test_the_metadata_accuracy_by_length_is_what_the_preset_scores(name, task):
    preset = PRESETS[name]
    bands = bottleneck.by_length(preset.params, preset.config, task)
    assert [b.to_dict() for b in bands] == preset.meta["by_length"]


@pytest.mark.parametrize("name", list(bottleneck.MEMBERS))
def test_the_presets_reproduce_the_bench_figures_approximately(name, task):
    """The bench measured 500 other sentences per band; the metadata's 400 agree with it within sampling."""
    bench = json.loads(BENCH.read_text())["presets"][name]["bands"]
    for measured, benched in zip(PRESETS[name].meta["by_length"], bench, strict=True):
        assert (measured["lo"], measured["hi"]) == (benched["lo"], benched["hi"])
        assert measured["sequence_accuracy"] == pytest.approx(benched["sequence_accuracy"], abs=0.08)
        assert measured["word_accuracy"] == pytest.approx(benched["word_accuracy"], abs=0.05)


def test_attention_beats_no_attention_on_long_sentences(task):
    """On fresh sentences of another seed: the longer the sentence, the worse the model without attention,
    while the model with attention keeps translating."""
    with_a = bottleneck.by_length(ATTENDING.params, ATTENDING.config, task, seed=99, per_band=60)
    without = bottleneck.by_length(PLAIN.params, PLAIN.config, task, seed=99, per_band=60)
    long_a, long_plain = with_a[-1], without[-1]
    assert (long_a.lo, long_a.hi) == (15, 19)
    assert long_a.sequence_accuracy >= 0.9 > 0.1 >= long_plain.sequence_accuracy
    assert long_a.word_accuracy - long_plain.word_accuracy > 0.4
    words = [b.word_accuracy for b in without]
    assert words == sorted(words, reverse=True) and words[0] - words[-1] > 0.3  # it falls with length
    assert all(b.sequence_accuracy >= 0.9 for b in with_a)


def test_fresh_pairs_fill_every_band(task):
    pairs = bottleneck.fresh_pairs(task, 5, 3)
    lengths = sorted(len(src) for src, _ in pairs)
    for lo, hi in bottleneck.BANDS:
        assert sum(lo <= n <= hi for n in lengths) == 3
    again = bottleneck.fresh_pairs(task, 5, 3)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(pairs, again, strict=True))
