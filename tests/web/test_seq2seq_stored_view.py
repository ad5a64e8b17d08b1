"""The Seq2Seq view on a stored model: a finished Reverse run opens at /seq2seq?model=<id> with its own
vocabulary, its task's examples and the numbers core.seq2seq gives for its stored weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from training_runs import train

from app.main import create_app
from app.services.limits import Limits
from app.settings import Settings
from app.web import seq2seq
from app.web.seq2seq_state import Seq2SeqState, parse
from core.config import NetworkConfig
from core.params import init_params
from core.seq2seq import greedy_decode
from core.tasks import get_task


def make_client(tmp: Path) -> TestClient:
    settings = Settings(data_dir=tmp, rate_limit_per_minute=0, limits=Limits(max_train_steps=50))
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def reverse_run(client: TestClient) -> tuple[str, str]:
    """A short Reverse run started from the Training form: its job id and stored model id."""
    job, status = train(client, {"task": "reverse", "steps": "5", "cell": "lstm", "hidden": "8"})
    assert status["state"] == "done", status["error"]
    return job, status["result_id"]


def test_the_model_id_is_part_of_the_seq2seq_state() -> None:
    state = Seq2SeqState(model="cd" * 32, input="abc", t=2)
    assert parse(dict(pair.split("=") for pair in state.query().split("&")), ("reverse",)) == (state, [])
    assert state.model_key() != Seq2SeqState(input="abc").model_key()
    bad, errors = parse({"model": "nope"}, ("reverse",))
    assert bad.model == "" and errors == ["Model must be a stored model's id (64 hexadecimal digits)."]


def test_the_training_page_links_the_run_to_the_seq2seq_view(client, reverse_run) -> None:
    job, model_id = reverse_run
    live = client.get(f"/train/live?task=reverse&job={job}").text
    assert f'href="/seq2seq?model={model_id}" id="t-step-through"' in live
    assert "in the Seq2Seq view" in live


def test_the_view_model_runs_the_stored_weights(client, reverse_run) -> None:
    _, model_id = reverse_run
    store = client.app.state.store
    view = seq2seq.build(Seq2SeqState(model=model_id), store=store)
    task = get_task("reverse")
    assert view.vocab == tuple(task.vocab.tokens[1:]) and view.tokenizer == "chars"
    assert "".join(view.source) == task.samples()[0].text  # the task's first example stands in
    assert (view.cell, view.hidden, view.title) == ("lstm", 8, "reverse (trained)")
    stored = store.get(model_id)
    trace = greedy_decode(stored.params, stored.config, task.vocab.encode(view.source_text),
                          max_length=stored.config.max_length, top_k=seq2seq.TOP_K)
    T = int(trace.output_lengths[0])
    assert [d.output for d in view.decoder] == [
        seq2seq.shown(task.target_vocab.tokens[k]) for k in trace.tokens[:T, 0]
    ]
    np.testing.assert_allclose([d.probability for d in view.decoder],
                               [trace.probs[k, 0, trace.tokens[k, 0]] for k in range(T)], rtol=1e-12)
    random = seq2seq.build(Seq2SeqState(model=model_id, weights="random", hidden=5), store=store)
    assert random.vocab == view.vocab and random.hidden == 5


def test_the_page_shows_the_stored_model_and_its_tasks_examples(client, reverse_run) -> None:
    _, model_id = reverse_run
    page = client.get(f"/seq2seq?model={model_id}&input=abcd").text
    assert f'<input type="hidden" name="model" value="{model_id}">' in page
    assert "stored model “reverse (trained)”" in page
    assert 'name="preset"' not in page  # the stored model replaces the task choice
    example = get_task("reverse").samples()[1].text
    assert f"/seq2seq?model={model_id}&amp;input={example}" in page
    assert 'class="s2x-source">abcd<' in page


def test_a_missing_or_single_network_model_is_explained(client, reverse_run) -> None:
    _, model_id = reverse_run
    missing = client.get("/seq2seq?model=" + "0" * 64).text
    assert "There is no stored model “000000000000…” on this server." in missing
    config = NetworkConfig(cell="rnn", input_size=1, hidden_size=2)
    network_id = client.app.state.store.put(config, init_params(config, 0), {})
    network = client.get(f"/seq2seq?model={network_id}").text
    assert "is a single network, not an encoder-decoder" in network
    simulator = client.get(f"/?model={model_id}").text
    assert "is an encoder-decoder: step through it in the Seq2Seq view" in simulator
