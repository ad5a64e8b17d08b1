"""The Seq2Seq view-model and page: URL state, numbers equal to core.seq2seq on the presets, beam candidates,
random weights, errors."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web import seq2seq
from app.web.seq2seq_state import Seq2SeqState, parse
from core import presets
from core.seq2seq import beam_decode, greedy_decode

PRESETS = ("reverse", "translation")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def encode(preset, text: str) -> np.ndarray:
    words = text.split() if preset.meta["vocab"].get("joiner") == " " else list(text)
    tokens = preset.meta["vocab"]["tokens"]
    return np.array([tokens.index(w) for w in words])


def test_state_round_trips_and_reports_bad_values():
    state = Seq2SeqState(
        preset="reverse",
        weights="random",
        cell="lstm",
        hidden=8,
        attn="none",
        seed=4,
        input="abc",
        decode="beam",
        width=2,
        t=3,
    )
    assert parse(dict(parse_qs_items(state.query())), PRESETS) == (state, [])
    assert Seq2SeqState().query() == ""
    bad, errors = parse({"preset": "nope", "width": "99", "t": "x", "decode": "sample"}, PRESETS)
    assert bad == Seq2SeqState()
    assert len(errors) == 4


def parse_qs_items(query: str):
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def test_lesson_sentence_is_encoded_then_decoded_with_core_numbers():
    view = seq2seq.build(Seq2SeqState(input="They are watching ."))
    preset = presets.load_preset("translation")
    trace = greedy_decode(preset.params, preset.config, encode(preset, "They are watching ."))
    tgt = preset.meta["target_vocab"]["tokens"]
    assert view.source == ("They", "are", "watching", ".")
    assert view.output == "Ils regardent ."
    assert view.finished
    assert view.steps == 4 + int(trace.output_lengths[0])
    assert [d.fed for d in view.decoder][0] == "START"
    assert view.decoder[-1].output == "END"
    for k, column in enumerate(view.decoder):
        assert column.t == 4 + k
        assert [c.token for c in column.top] == [seq2seq.shown(tgt[i]) for i in trace.topk_tokens[k, 0]]
        assert [c.probability for c in column.top] == pytest.approx(
            trace.topk_probs[k, 0].tolist(), abs=1e-12
        )
        assert column.attention == pytest.approx(trace.attention_matrix()[k].tolist(), abs=1e-12)
    assert view.heatmap is not None and len(view.heatmap.rows) == len(view.decoder)
    assert (
        view.step_labels[0].startswith("step 0 of") and "encoder step 1 reads “They”" in view.step_labels[0]
    )


def test_empty_source_is_the_tasks_first_sample_and_step_is_clamped():
    view = seq2seq.build(Seq2SeqState(preset="reverse", t=79))
    assert view.state.input == "abc"
    assert view.output == "cba"
    assert view.state.t == view.steps - 1


def test_beam_search_candidates_come_from_core():
    view = seq2seq.build(Seq2SeqState(input="I am a student", decode="beam", width=2))
    preset = presets.load_preset("translation")
    trace = beam_decode(preset.params, preset.config, encode(preset, "I am a student"), width=2)
    search = trace.beams[0]
    assert len(view.beam) == len(search.steps)
    for rows, step in zip(view.beam, search.steps, strict=True):
        assert [r.fate for r in rows] == step.fates
        assert [r.score for r in rows] == pytest.approx(step.scores.tolist())
        assert sum(r.fate == "kept" for r in rows) <= 2
    assert view.output == "Je suis étudiant"


def test_random_weights_follow_the_chosen_cell_and_attention():
    view = seq2seq.build(Seq2SeqState(weights="random", cell="lstm", hidden=6, attn="none", seed=3))
    assert (view.cell, view.hidden, view.attention) == ("lstm", 6, "none")
    assert view.heatmap is None
    assert all(d.attention == () for d in view.decoder)
    assert all(len(d.state) == 6 for d in view.decoder)
    other = seq2seq.build(Seq2SeqState(weights="random", cell="lstm", hidden=6, attn="none", seed=4))
    assert [d.state for d in view.decoder] != [d.state for d in other.decoder]


def test_unknown_words_are_reported():
    with pytest.raises(seq2seq.Seq2SeqInputError, match="not in the model's vocabulary"):
        seq2seq.build(Seq2SeqState(input="I am a zebra"))
    with pytest.raises(seq2seq.Seq2SeqInputError, match="at most 40 tokens"):
        seq2seq.build(Seq2SeqState(preset="reverse", input="ab" * 21))


def test_page_shows_the_run_and_matches_the_api(client):
    page = client.get("/seq2seq", params={"input": "I am a student", "t": "5"})
    assert page.status_code == 200
    assert 'class="s2x-output">Je suis étudiant<' in page.text
    assert 'data-t="5"' in page.text and 'class="attn-table"' in page.text
    state = Seq2SeqState(input="I am a student", decode="beam", width=2)
    body = seq2seq.api_request(state, seq2seq.preset_meta("translation"))
    api = client.post("/api/v1/seq2seq/trace", json=body)
    assert api.status_code == 200, api.text
    reply, view = api.json(), seq2seq.build(state)
    assert reply["mode"] == "beam"
    assert reply["decoder"]["fed_labels"][0] == "<start>"
    assert [seq2seq.shown(w) for w in reply["output"]["labels"]] == [d.output for d in view.decoder]
    assert reply["output"]["text"] == view.output
    probs = [[c.probability for c in d.top] for d in view.decoder]
    np.testing.assert_allclose(reply["output"]["topk_probs"], probs, rtol=1e-3)


def test_page_keeps_working_with_bad_input(client):
    page = client.get("/seq2seq", params={"input": "zebra", "width": "0"})
    assert page.status_code == 200
    assert "not in the model&#39;s vocabulary" in page.text and "Beam width must be between" in page.text
    pushed = client.get("/seq2seq", params={"decode": "beam"}, headers={"HX-Request": "true"})
    assert pushed.headers["HX-Push-Url"] == "/seq2seq?decode=beam"
