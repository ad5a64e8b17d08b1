"""The questions that compare trained models, recomputed here without the code that builds them: "which cell
keeps the marker longer?" on the adding problem's trained RNN, LSTM and GRU (by central differences of the final
answer with respect to the marked input), and "which word does the decoder write next?" (by the API's own trace
of the same request)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS
from app.lessons.model import Live, Step
from app.main import create_app
from app.settings import Settings
from app.web import evidence, lesson_questions, seq2seq
from app.web.decoder_question import write_question
from app.web.keeps_question import SAME, keeps_question, sci
from app.web.seq2seq_state import Seq2SeqState
from core.evidence import SETS
from core.influence import influence_norms
from core.network import forward
from core.presets import load_preset
from core.tasks import get_task

ASKING = {step.predict: step for lesson in LESSONS for step in lesson.steps if step.predict}


def the_sequence(seed: int) -> np.ndarray:
    adding = SETS["adding"]
    batch = get_task(adding.task, **adding.options).sample_batch(np.random.default_rng(seed), 1)
    return batch.inputs[:, 0].astype(np.float64)


def moved_answer(cell: str, x: np.ndarray, t: int, eps: float = 1e-3) -> float:
    """||dy_T/dx_t|| by central differences on the shipped preset."""
    preset = load_preset(f"adding-{cell}")

    def y(inputs: np.ndarray) -> float:
        return float(forward(preset.params, preset.config, inputs, shape=preset.meta["shape"]).logits[-1, 0, 0])

    grads = []
    for i in range(x.shape[1]):
        up, down = x.copy(), x.copy()
        up[t, i] += eps
        down[t, i] -= eps
        grads.append((y(up) - y(down)) / (2 * eps))
    return float(np.linalg.norm(grads))


@pytest.mark.parametrize("seed", [0, 3, 6])
@pytest.mark.parametrize("cells", [("rnn", "lstm"), ("rnn", "lstm", "gru")])
def test_the_keeper_is_the_model_whose_answer_moves_with_the_marked_input(seed, cells) -> None:
    q = keeps_question("adding", seed, cells)
    x = the_sequence(seed)
    t = int(np.flatnonzero(x[:, 1] == 1.0)[0])
    moved = [moved_answer(c, x, t) for c in cells]
    ranked = sorted(moved, reverse=True)
    expected = int(np.argmax(moved)) if ranked[0] >= SAME * ranked[1] else len(cells)
    assert q.answer == expected and len(q.choices) == len(cells) + 1
    assert f"step {t}" in q.prompt and f"seed={seed}" * bool(seed) in q.reveal and f"t={t}" in q.reveal
    for c, by_hand in zip(cells, moved, strict=True):
        preset = load_preset(f"adding-{c}")
        exact = float(influence_norms(preset.params, preset.config, x, shape=preset.meta["shape"])[t])
        assert sci(exact) in q.why  # the why quotes the trace's numbers
        if by_hand > 1e-2:  # the tiny ones are below what a difference of floats resolves
            assert exact == pytest.approx(by_hand, rel=1e-2)


def test_the_trained_lstm_keeps_the_marker_the_rnn_does_not() -> None:
    q = lesson_questions.question(ASKING["keeps:rnn,lstm"])
    assert q is not None and q.choices[q.answer] == "the LSTM"
    assert "the LSTM kept it" in q.why


def test_the_trained_gru_keeps_it_about_as_well_as_the_lstm() -> None:
    q = lesson_questions.question(ASKING["keeps:lstm,gru"])
    assert q is not None and q.choices[q.answer] == "both about the same (within 10×)"
    assert "neither kept it clearly longer" in q.why


def test_the_keeps_question_is_a_function_of_its_seed() -> None:
    first = keeps_question("adding", 3, ("rnn", "lstm"))
    evidence._build.cache_clear()
    assert keeps_question("adding", 3, ("rnn", "lstm")) == first
    assert keeps_question("adding", 0, ("rnn", "lstm")).prompt != first.prompt  # another sequence, another step


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("d"), rate_limit_per_minute=0)))


@pytest.mark.parametrize("t", [5, 6, 8, 9])
def test_the_decoder_writes_the_apis_likeliest_word(client, t) -> None:
    state = Seq2SeqState(input="She sees the dog .", t=t)
    q = write_question(state)
    body = seq2seq.api_request(state, seq2seq.preset_meta("translation"))
    reply = client.post("/api/v1/seq2seq/trace", json=body).json()
    k = t - len(reply["source"]["tokens"])
    probs = np.asarray(reply["output"]["probs"], dtype=float).reshape(-1, len(reply["config"]["tgt_vocab"]))
    likeliest = reply["config"]["tgt_vocab"][int(np.argmax(probs[k]))]
    assert q.choices[q.answer] == seq2seq.SPECIAL.get(likeliest, likeliest)
    assert len(set(q.choices)) == 4
    written = [seq2seq.SPECIAL.get(w, w) for w in reply["output"]["labels"][:k]]
    assert (f"written “{' '.join(written)}”" if k else "written nothing yet") in q.prompt
    assert write_question(state) == q  # the same choices in the same order every time


def test_the_lesson_asks_the_decoder_question_at_a_decoder_step() -> None:
    q = lesson_questions.question(ASKING["write"])
    assert q is not None and q.choices[q.answer] == "chien"
    with pytest.raises(ValueError, match="encoder step"):
        write_question(Seq2SeqState(input="She sees the dog .", t=2))


@pytest.mark.parametrize(
    ("live", "predict", "message"),
    [
        (Live("gradients", {"evidence": "adding"}), "keeps:rnn,rnn", "different cells"),
        (Live("gradients", {"evidence": "adding"}), "keeps:rnn", "different cells"),
        (Live("gradients", {"evidence": "adding"}), "keeps:rnn,tcn", "different cells"),
        (Live("gradients", {"cell": "rnn"}), "keeps:rnn,lstm", "evidence set"),
        (Live("seq2seq", {"weights": "random"}), "write", "trained encoder-decoder"),
        (Live("seq2seq", {"decode": "beam"}), "write", "decoding greedily"),
        (Live("cell", {"preset": "english", "input": "ab"}), "write", "trained encoder-decoder"),
    ],
)
def test_a_comparison_needs_the_models_it_compares(live, predict, message) -> None:
    with pytest.raises(ValueError, match=message):
        Step("x", ("text",), "try", live, predict=predict)
