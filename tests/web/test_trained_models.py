"""Stepping through a trained model: the Training view's model choices, the simulator on a stored model
(?model=<id>), its embed, and the server's configured limits on every simulator page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient
from training_runs import train

from app.main import create_app
from app.services.limits import Limits
from app.settings import Settings
from app.web.state import BadInputError, parse, parse_vectors

MODEL_ID = "ab" * 32


def make_client(tmp: Path, **limits: int) -> TestClient:
    settings = Settings(data_dir=tmp, rate_limit_per_minute=0, limits=Limits(max_train_steps=50, **limits))
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def adding_rnn(client: TestClient) -> tuple[str, dict]:
    return train(client, {"task": "adding", "steps": "5", "cell": "rnn", "hidden": "6", "layers": "2"})


def test_the_model_id_is_part_of_the_view_state() -> None:
    state, errors = parse({"model": MODEL_ID, "preset": "sentiment"})
    assert errors == [] and state.model == MODEL_ID and state.preset == "" and state.trained
    assert parse(dict(parse_qsl(state.query())))[0] == state
    assert state.model_key()[:2] == ("model", MODEL_ID)
    state, errors = parse({"model": "not-an-id"})
    assert state.model == "" and errors == ["A stored model's id is 64 hexadecimal characters (0-9, a-f)."]


def test_vectors_are_read_step_by_step() -> None:
    assert parse_vectors("0.5 1; 0.25, 0;", 2) == [[0.5, 1.0], [0.25, 0.0]]
    assert parse_vectors("1, 2", 1) == [[1.0], [2.0]]
    with pytest.raises(BadInputError, match="Timestep 1 holds 3 numbers"):
        parse_vectors("1 0; 1 0 1", 2)


def test_the_training_form_offers_the_model_and_runs_what_was_chosen(client, adding_rnn) -> None:
    form = client.get("/train", params={"task": "adding"}).text
    assert '<option value="lstm" selected>' in form and 'id="t-layers"' in form
    assert 'max="512"' in form  # the server's configured hidden-size limit
    assert 'id="t-layers"' not in client.get("/train", params={"task": "reverse"}).text  # Seq2Seq: no layers
    job, status = adding_rnn
    assert status["state"] == "done" and status["model"] == {"cell": "rnn", "hidden_size": 6, "num_layers": 2}
    live = client.get("/train/live", params={"job": job}).text
    assert f'href="/?model={status["result_id"]}"' in live
    page = client.get("/train", params={"job": job, "task": "adding", "cell": "rnn", "hidden": "6"}).text
    assert "Model: RNN, hidden size 6, 2 layers." in page
    assert '<option value="rnn" selected>' in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"task": "adding", "cell": "elman"}, "Cell must be one of rnn, lstm, gru."),
        ({"task": "adding", "hidden": "513"}, "Hidden size must be a whole number from 1 to 512."),
        ({"task": "adding", "layers": "0"}, "Layers must be a whole number from 1 to 4."),
        ({"task": "reverse", "layers": "2"}, "num_layers cannot be changed for task"),
    ],
)
def test_a_model_the_server_refuses_is_explained(client, form, message) -> None:
    page = client.post("/train", data=form)
    assert page.status_code == 422 and message in page.text


def test_the_simulator_steps_through_the_stored_model(client, adding_rnn) -> None:
    model = adding_rnn[1]["result_id"]
    page = client.get("/", params={"model": model})
    assert page.status_code == 200
    assert 'class="alerts" role="alert"></div>' in page.text  # no message
    assert f'name="model" value="{model}"' in page.text and "adding (trained)" in page.text
    assert "Type 2 numbers per timestep" in page.text
    assert re.search(r'id="f-input"[^>]*value="[0-9. ]+(; [0-9. ]+){9}"', page.text)  # a sample of its task
    assert "hidden size 6, 2 layers" in page.text
    typed = client.get("/cell", params={"model": model, "input": "0.5 1; 0.2 0; 0.3 1", "t": "2"})
    assert typed.status_code == 200 and "step 2 of 2" in typed.text
    wrong = client.get("/", params={"model": model, "input": "hello"})
    assert "“hello” is not a number" in wrong.text


def test_a_stored_token_model_takes_its_vocabulary(client) -> None:
    _, status = train(client, {"task": "copy", "steps": "3", "cell": "gru", "hidden": "5"})
    page = client.get("/heatmaps", params={"model": status["result_id"]}).text
    assert 'class="alerts" role="alert"></div>' in page
    assert '<span class="vocab">_ a b c d &gt;</span>' in page


def test_the_stored_model_page_embeds_and_other_views_say_what_they_use(client, adding_rnn) -> None:
    model = adding_rnn[1]["result_id"]
    embed = client.get("/embed", params={"model": model})
    assert embed.status_code == 200 and "Trained model “adding (trained)”" in embed.text
    assert 'class="share"' in client.get("/", params={"model": model}).text
    gradients = client.get("/gradients", params={"model": model}).text
    assert "so the stored model is not used here" in gradients
    missing = client.get("/", params={"model": "0" * 64}).text
    assert "There is no stored model “000000000000…” on this server." in missing


def test_the_seq2seq_and_training_pages_have_the_share_panel(client) -> None:
    page = client.get("/seq2seq", params={"preset": "reverse"}).text
    assert 'class="share"' in page and "/embed/seq2seq?preset=reverse" in page
    training = client.get("/train", params={"task": "sine"}).text
    assert 'class="share"' in training and "/embed/train?task=sine" in training


def test_simulator_pages_use_the_configured_limits(tmp_path: Path) -> None:
    small = make_client(tmp_path, max_hidden_size=4, max_steps=5)
    page = small.get("/", params={"hidden": "8"}).text
    assert "UNROLLED_MAX_HIDDEN_SIZE" in page and 'id="f-hidden"' in page and 'max="4"' in page
    assert "UNROLLED_MAX_STEPS" in small.get("/", params={"hidden": "3", "input": "abcdefgh"}).text
    narrow = make_client(tmp_path / "narrow", max_hidden_size=4)
    seq = narrow.get("/seq2seq", params={"weights": "random", "hidden": "8"}).text
    assert "hidden_size is 8, over the limit of 4 (server setting UNROLLED_MAX_HIDDEN_SIZE)" in seq
    assert 'id="s-hidden"' in seq and 'max="4"' in seq
    assert "over the limit" in small.get("/gradients", params={"hidden": "3", "input": "abcdefgh"}).text
    train = small.post("/train", data={"task": "adding", "hidden": "8"})
    assert train.status_code == 422 and "Hidden size must be a whole number from 1 to 4." in train.text
    assert "UNROLLED_MAX_HIDDEN_SIZE" not in make_client(tmp_path / "b").get("/", params={"hidden": "8"}).text


def test_a_jobs_model_is_rebuilt_from_its_request_when_another_worker_runs_it() -> None:
    from app.services.training import Job
    from app.web.training import job_config, model_summary

    job = Job("a" * 32, "adding", {"lag": 12}, {}, trainer=None, model={"cell": "gru", "hidden_size": 5})
    assert model_summary(job_config(job)) == "GRU, hidden size 5, 1 layer"
    seq2seq = Job("b" * 32, "reverse", {}, {}, trainer=None)
    assert model_summary(job_config(seq2seq)) == "encoder-decoder, GRU, hidden size 32, 1 layer"
