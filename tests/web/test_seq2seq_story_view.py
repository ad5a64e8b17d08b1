"""The Seq2Seq story on the page: the teacher-forcing toggle against free running, the cell view of an encoder or
decoder step, unknown and case-folded words, and the bottleneck side by side, all from core's numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.lessons.seq2seq import ATTENTION, LONG
from app.main import create_app
from app.web import bottleneck_view, seq2seq, seq2seq_cell
from app.web.seq2seq_state import Seq2SeqState, parse
from core import presets
from core.seq2seq import forward, greedy_decode
from core.tasks import get_task

PLAIN, ATTENDING = "sentences-no-attention", "sentences-attention"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def ids(preset, text: str, side: str = "vocab") -> np.ndarray:
    tokens = preset.meta[side]["tokens"]
    return np.array([tokens.index(w) for w in text.split()])


def test_teacher_forcing_is_in_the_url_state():
    state = Seq2SeqState(preset=PLAIN, input=LONG, tf=True, ref="le chien dort", panel="cell", unit=3, s=2, t=20)
    query = state.query()
    assert "tf=1" in query and "panel=cell" in query and "unit=3" in query
    assert parse(dict(re.findall(r"([^&=]+)=([^&]*)", query.replace("+", " "))), (PLAIN,))[0] == state
    back, errors = parse({"tf": "maybe", "unit": "99", "s": "0"}, (PLAIN,))
    assert back.tf is False and back.unit is None and back.s is None and len(errors) == 3
    assert state.model_key() != Seq2SeqState(preset=PLAIN, input=LONG).model_key()


def test_teacher_forcing_feeds_the_reference_and_shows_the_free_run_beside_it():
    preset = presets.load_preset(PLAIN)
    reference = get_task("sentences").reference(LONG)
    view = seq2seq.build(Seq2SeqState(preset=PLAIN, input=LONG, tf=True))
    assert view.reference == reference
    words = reference.split()
    assert [d.fed for d in view.decoder] == ["START", *words]  # the reference's previous word, every step
    assert [d.wanted for d in view.decoder] == [*words, "END"]
    core = forward(preset.params, preset.config, ids(preset, LONG.lower()),
                   np.append(ids(preset, reference, "target_vocab"), 2))
    tgt = preset.meta["target_vocab"]["tokens"]
    assert [d.output for d in view.decoder] == [seq2seq.shown(tgt[int(i)]) for i in core.tokens[:, 0]]
    free = greedy_decode(preset.params, preset.config, ids(preset, LONG.lower()))
    free_words = [seq2seq.shown(tgt[i]) for i in free.output_ids()]
    assert [d.free for d in view.decoder] == free_words[: len(view.decoder)]
    # The difference: fed the reference it gets more words right than running free on this long sentence.
    assert view.forced_right > view.free_right
    assert view.forced_right == sum(d.output == w for d, w in zip(view.decoder, [*words, "END"], strict=True))


def test_the_toggle_on_the_page(client):
    off = client.get("/seq2seq", params={"preset": PLAIN, "input": LONG})
    on = client.get("/seq2seq", params={"preset": PLAIN, "input": LONG, "tf": "1"}, headers={"HX-Request": "true"})
    assert 'id="s-tf" name="tf" type="checkbox" value="1" aria' in off.text and 'class="tf-compare"' not in off.text
    assert 'value="1" checked' in on.text and 'class="tf-compare"' in on.text
    assert 'class="free-row"' in on.text and "the reference's previous word: teacher forcing" in on.text
    assert "tf=1" in on.headers["HX-Push-Url"]
    # A sentence whose reference the task does not know asks for one, and takes a typed one.
    unknown = client.get("/seq2seq", params={"input": "I am a teacher", "tf": "1"})
    assert unknown.status_code == 200 and "type it in the Reference field" in unknown.text
    typed = client.get("/seq2seq", params={"input": "I am a teacher", "tf": "1", "ref": "Je suis professeur"})
    assert 'class="tf-ref">Je suis professeur<' in typed.text


@pytest.mark.parametrize(("t", "part", "k"), [(1, "encoder", 1), (4, "decoder", 0), (6, "decoder", 2)])
def test_cell_view_of_an_encoder_or_decoder_step_has_cores_numbers(t, part, k):
    text = "the red car sleeps"  # 4 encoder steps, then the decoder's
    view = seq2seq.build(Seq2SeqState(preset=ATTENDING, input=text, t=t, unit=5, panel="cell"))
    cv = seq2seq_cell.build(view)
    assert cv.where.startswith(f"in the {part} (its step {k + 1} of ")
    assert (cv.t, cv.unit, cv.cell) == (k, 5, "gru")
    result = view.result
    trace = result.trace.encoder if part == "encoder" else result.trace.decoder
    q = trace.layers[0][0].quantities()
    vectors = {v.key: [x.value for x in v.values] for v in cv.vectors}
    for name in ("r", "z", "n", "h"):
        np.testing.assert_allclose(vectors[name], q[name][k, 0], rtol=1e-12)
    expected = view.source[k] if part == "encoder" else view.decoder[k].fed
    assert cv.token == expected
    assert cv.weights_path == "/fragment/seq2seq/weights.png" and cv.whatif_href == ""


def test_cell_view_on_the_page_and_its_fragment_and_weights(client):
    page = client.get("/seq2seq", params={"preset": ATTENDING, "input": LONG, "t": "20", "panel": "cell"})
    assert page.status_code == 200
    assert re.search(r'<section id="overview"[^>]*hidden', page.text)
    assert 'id="cellview" class="cellview-host" data-src="/fragment/seq2seq/cell"' in page.text
    assert "in the decoder (its step 3 of 19)" in page.text
    fragment = client.get("/fragment/seq2seq/cell", params={"preset": ATTENDING, "input": LONG, "t": "2"})
    assert "in the encoder (its step 3 of 18)" in fragment.text and "What if" not in fragment.text
    png = client.get("/fragment/seq2seq/weights.png", params={"preset": ATTENDING, "input": LONG, "which": "hh"})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get("/fragment/seq2seq/weights.png", params={"which": "x"}).status_code == 422
    closed = client.get("/seq2seq", params={"preset": ATTENDING, "input": LONG})
    assert re.search(r'<section id="detail"[^>]*hidden', closed.text) and 'id="open-cell"' in closed.text


def test_unknown_words_are_marked_and_case_is_folded(client):
    view = seq2seq.build(Seq2SeqState(preset=ATTENDING, input="The Zebra sees a dog"))
    assert [e.token for e in view.encoder] == ["the", "UNK", "sees", "a", "dog"]
    assert [e.typed for e in view.encoder] == ["", "Zebra", "", "", ""]
    assert view.output == seq2seq.build(Seq2SeqState(preset=ATTENDING, input="the purple sees a dog")).output
    page = client.get("/seq2seq", params={"preset": ATTENDING, "input": "The Zebra sees a dog"})
    assert page.status_code == 200 and 'class="unk"' in page.text and "“Zebra”" in page.text
    lower = seq2seq.build(Seq2SeqState(input="i am a student"))  # the translation preset folds case too
    assert lower.output == "Je suis étudiant"
    body = seq2seq.api_request(Seq2SeqState(preset=ATTENDING, input="THE Zebra sleeps"),
                               seq2seq.preset_meta(ATTENDING))
    reply = client.post("/api/v1/seq2seq/trace", json=body).json()
    assert reply["source"]["labels"] == ["the", "<unk>", "sleeps"]
    assert reply["source"]["typed"] == ["THE", "Zebra", "sleeps"]
    assert reply["source"]["unknown"] == [False, True, False]
    no_unk = client.post("/api/v1/seq2seq/trace", json={"weights": {"source": "preset", "name": "translation"},
                                                        "source": {"text": "I am a zebra", "tokenizer": "words"}})
    assert no_unk.status_code == 422 and "zebra" in no_unk.text  # a model without an unknown token says so


def test_bottleneck_side_by_side_on_the_sentences_presets(client):
    view = seq2seq.build(Seq2SeqState(preset=PLAIN, input=LONG))
    b = bottleneck_view.comparison(view, None, None)
    assert b is not None and b.length == 18
    assert [r.here for r in b.rows] == [False, False, False, True]
    attending, plain = b.written
    assert attending.attention and attending.right is True and attending.output == b.reference
    assert not plain.attention and plain.right is False and plain.shown
    meta = presets.load_preset(PLAIN).meta["by_length"]
    assert [r.sentences[1] for r in b.rows] == [m["sequence_accuracy"] for m in meta]
    page = client.get("/seq2seq", params={"preset": PLAIN, "input": LONG})
    assert 'class="bn-table"' in page.text and "(this sentence)" in page.text
    assert f"preset={ATTENDING}" in page.text
    assert bottleneck_view.comparison(seq2seq.build(Seq2SeqState()), None, None) is None


def test_the_lessons_bottleneck_claim_holds():
    """Lesson 10 says the model without attention goes wrong from the fifth word of LONG on."""
    step = next(s for s in ATTENTION.steps if s.title == "The bottleneck, measured")
    assert "from the fifth word on" in " ".join(step.text)
    plain = seq2seq.build(Seq2SeqState(preset=PLAIN, input=LONG)).output.split()
    right = get_task("sentences").reference(LONG).split()
    first_wrong = next(i for i, (a, b) in enumerate(zip(plain, right, strict=False)) if a != b)
    assert first_wrong == 4
    assert seq2seq.build(Seq2SeqState(preset=ATTENDING, input=LONG)).output.split() == right
