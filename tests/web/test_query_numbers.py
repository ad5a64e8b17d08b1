"""Every page reads whole numbers from its query the same strict way: a superscript, a non-ASCII digit, a sign or
an underscore is an inline message (or the default), never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.query import whole_number


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), rate_limit_per_minute=0)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.mark.parametrize("raw", ["²", "١٢", "+3", "--1", "1_000", "3.0", "", "9" * 21, "٣"])
def test_only_ascii_digits_are_whole_numbers(raw):
    assert whole_number(raw) is None


def test_whole_numbers_read_as_int():
    assert whole_number(" 42 ") == 42 and whole_number("0") == 0 and whole_number("-1") == -1
    assert whole_number(None) is None


ODD = ["²", "١٢", "1_0", "+1"]


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "seed"), ("/", "t"), ("/", "hidden"), ("/cell", "unit"), ("/heatmaps", "layers"),
        ("/train", "seed"), ("/train", "hidden"), ("/embed/train", "steps"),
        ("/presets/sentiment", "sample"), ("/presets/sentiment", "t"), ("/embed/presets/sentiment", "unit"),
        ("/seq2seq", "seed"), ("/seq2seq", "t"), ("/embed", "seed"),
    ],
)
def test_odd_digits_in_a_page_query_are_never_a_server_error(client, path, name, value):
    reply = client.get(path, params={name: value})
    assert reply.status_code == 200, (path, name, value, reply.status_code)
    assert "text/html" in reply.headers["content-type"]


def test_the_simulator_says_what_was_wrong(client):
    page = client.get("/", params={"seed": "²"}).text
    assert "Seed must be a whole number, got “²”." in page
