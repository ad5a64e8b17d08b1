"""Words a trained encoder-decoder cannot read or write: an unknown source word for a vocabulary without an
unknown-word token gets a message beside the source field (not a silent drop, not a 500), and the unknown-word
token in the decoder's output is marked and explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web import seq2seq
from app.web.seq2seq_state import Seq2SeqState


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    data = Path(tmp_path_factory.mktemp("data"))
    return TestClient(create_app(Settings(data_dir=data, rate_limit_per_minute=0)))


def test_an_unknown_word_without_an_unknown_token_is_named_beside_the_source(client) -> None:
    meta = seq2seq.preset_meta("translation")
    assert "unknown" not in meta["vocab"]  # the shipped translation vocabulary has no unknown-word token
    assert seq2seq.unknown_words("i AM a zebra Zebra zebra", meta) == ["zebra", "Zebra"]  # "i" folds to "I"
    with pytest.raises(seq2seq.UnknownWordsError, match="“zebra”"):
        seq2seq.build(Seq2SeqState(input="I am a zebra"))
    reply = client.get("/seq2seq", params={"input": "I am a zebra"})
    assert reply.status_code == 200
    page = reply.text
    assert 'aria-invalid="true" aria-describedby="s-input-error"' in page
    assert '<p id="s-input-error" class="field-error" role="alert">This word is not in the model' in page
    assert "no unknown-word token" in page and "tokens not in the vocabulary" not in page


def test_a_vocabulary_with_an_unknown_token_reads_the_word_as_it() -> None:
    meta = seq2seq.preset_meta("sentences-attention")
    assert seq2seq.unknown_words("the dog sees a zebra", meta) == []
    view = seq2seq.build(Seq2SeqState(preset="sentences-attention", input="the dog sees a zebra"))
    assert [e.typed for e in view.encoder if e.unknown] == ["zebra"]


def test_the_unknown_token_in_the_output_is_marked_and_explained(client) -> None:
    query = {"preset": "sentences-attention", "input": "the dog sees a zebra"}
    view = seq2seq.build(Seq2SeqState(**query))
    assert view.writes_unknown and "UNK" in [d.output for d in view.decoder]
    page = client.get("/seq2seq", params=query).text
    marked = '<span class="unk" title="The unknown-word token: it stands for a word'
    # The output line, the decoder column that writes it and the one fed it, both steps' narration, the attention
    # row, and the reference and the output in the comparison with and without attention.
    assert page.count(marked) == 8
    assert "The output holds the unknown-word token" in page
    assert "&lt;unk&gt;" not in page  # never the raw token
    plain = client.get("/seq2seq", params={"input": "She sees the dog ."}).text
    assert "The output holds the unknown-word token" not in plain
