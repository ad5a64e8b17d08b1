"""LTI 1.3 end to end: the tool (the real app, in-process) against an LMS made of the ``lti1p3platform``
package on a loopback port (tests/app/lti_platform.py). The tool fetches the LMS's JWKS, gets AGS tokens and
posts scores over real HTTP; the LMS checks the tool's signed deep-linking reply and client assertion."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from app import cli
from app.lti import ags, platform_keys
from app.lti.errors import LtiError
from app.main import create_app
from app.settings import Settings
from app.web import exercises
from tests.app.lti_platform import TEACHER, LaunchSpec, TestLms, rsa_pem, running_lms

TOOL = "http://testserver"


@pytest.fixture(scope="module")
def lms() -> Iterator[TestLms]:
    with running_lms(TOOL) as lms:
        yield lms


@pytest.fixture
def tool(lms: TestLms, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The tool with the LMS registered through the CLI, and the LMS holding the tool's keyset."""
    monkeypatch.setenv("UNROLLED_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("UNROLLED_DB", raising=False)
    if settings.database_url:  # the CLI registers the platform in the server's database, whichever it is
        monkeypatch.setenv("UNROLLED_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("UNROLLED_DATABASE_URL", raising=False)
    assert cli.main(["lti", "add-platform", *lms.tool_platform_args()]) == 0
    client = TestClient(create_app(settings))
    lms.tool_jwks = client.get("/lti/jwks").json()
    lms.scores.clear()
    lms.score_failures = 0
    monkeypatch.setattr(ags, "RETRY_PAUSES_S", (0.01, 0.01, 0.01))
    return client


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the (first) form on an HTML page."""
    action = unescape(re.search(r'<form[^>]*action="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }
    return action, fields


def authorize(tool: TestClient, lms: TestLms, hint: str, spec: LaunchSpec) -> dict[str, str]:
    """Login initiation at the tool, then the LMS's authorization answer: the id_token form to post."""
    lms.launches[hint] = spec
    login = tool.get(lms.login_url(hint), follow_redirects=False)
    assert login.status_code == 302, login.text
    auth = login.headers["location"]
    query = parse_qs(urlsplit(auth).query)
    assert auth.startswith(f"{lms.base}/authorize?")
    assert query["response_mode"] == ["form_post"] and query["prompt"] == ["none"]
    assert query["redirect_uri"] == [f"{TOOL}/lti/launch"] and query["lti_message_hint"] == [hint]
    answer = httpx.get(auth)
    assert answer.status_code == 200, answer.text
    action, fields = form_fields(answer.text)
    assert action == f"{TOOL}/lti/launch"
    return fields


def launch(tool: TestClient, lms: TestLms, hint: str, spec: LaunchSpec):  # noqa: ANN201
    return tool.post("/lti/launch", data=authorize(tool, lms, hint, spec), follow_redirects=False)


def frame_ancestors(response: httpx.Response) -> str:
    return re.search(r"frame-ancestors ([^;]*)", response.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]


# --- launch into a view -----------------------------------------------------------------------------------


def test_a_resource_link_launch_opens_its_view_framed_by_the_lms(tool: TestClient, lms: TestLms) -> None:
    reply = launch(tool, lms, "view", LaunchSpec(custom={"unrolled_url": "/?cell=gru&input=hello&t=3"}))
    assert reply.status_code == 303
    location = reply.headers["location"]
    assert location.startswith("/embed?cell=gru&input=hello&t=3&lti_launch=")
    assert lms.base in frame_ancestors(reply)
    page = tool.get(location)
    assert page.status_code == 200
    assert "GRU" in page.text
    assert lms.base in frame_ancestors(page) and "x-frame-options" not in page.headers
    assert "set-cookie" not in reply.headers and "set-cookie" not in page.headers  # state is in the URL


def test_a_lesson_step_launch_opens_the_step(tool: TestClient, lms: TestLms) -> None:
    reply = launch(tool, lms, "step", LaunchSpec(custom={"unrolled_url": "/lessons/memory/2"}))
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/embed/lessons/memory/2?lti_launch=")
    assert tool.get(reply.headers["location"]).status_code == 200


def test_a_link_naming_no_page_of_ours_is_refused(tool: TestClient, lms: TestLms) -> None:
    reply = launch(tool, lms, "elsewhere", LaunchSpec(custom={"unrolled_url": "https://evil.example/"}))
    assert reply.status_code == 422
    assert "not a path on this server" in unescape(reply.text)


def test_pages_not_launched_keep_their_own_framing_rules(tool: TestClient, lms: TestLms) -> None:
    full = tool.get("/")
    assert frame_ancestors(full) == "'none'"


# --- refusals ---------------------------------------------------------------------------------------------

REFUSALS = {
    "bad signature": (LaunchSpec(forge_signature=True), 401, "signature does not match"),
    "wrong audience": (LaunchSpec(audience="another-tool"), 401, "wrong audience"),
    "expired token": (LaunchSpec(expires_in=-300), 401, "has expired"),
    "unknown deployment": (LaunchSpec(deployment_id="deployment-9"), 403, "deployment 'deployment-9'"),
    "unregistered issuer": (LaunchSpec(issuer="https://lms.elsewhere.example"), 403, "is not registered"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_a_spoiled_launch_is_refused_with_a_page(tool: TestClient, lms: TestLms, case: str) -> None:
    spec, status, reason = REFUSALS[case]
    reply = launch(tool, lms, case.replace(" ", "-"), spec)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("text/html")
    assert reason in unescape(reply.text)
    assert "location" not in reply.headers


def test_a_replayed_launch_is_refused(tool: TestClient, lms: TestLms) -> None:
    fields = authorize(tool, lms, "replay", LaunchSpec())
    assert tool.post("/lti/launch", data=fields, follow_redirects=False).status_code == 303
    again = tool.post("/lti/launch", data=fields, follow_redirects=False)
    assert again.status_code == 400
    assert "was used already" in unescape(again.text)


def test_an_old_token_through_a_new_login_fails_on_its_nonce(tool: TestClient, lms: TestLms) -> None:
    first = authorize(tool, lms, "nonce-1", LaunchSpec())
    second = authorize(tool, lms, "nonce-2", LaunchSpec())
    mixed = {"id_token": first["id_token"], "state": second["state"]}
    reply = tool.post("/lti/launch", data=mixed, follow_redirects=False)
    assert reply.status_code == 401
    assert "nonce" in reply.text


def test_a_login_from_an_unregistered_issuer_is_refused(tool: TestClient) -> None:
    reply = tool.get("/lti/login?iss=https://nobody.example&login_hint=u&target_link_uri=x")
    assert reply.status_code == 403
    assert "is not registered" in unescape(reply.text)


def test_a_launch_without_a_token_or_state_is_refused(tool: TestClient) -> None:
    assert tool.post("/lti/launch", data={"state": "made-up", "id_token": "x.y.z"}).status_code == 400
    assert tool.post("/lti/launch", data={}).status_code == 400


def test_a_platform_key_rotation_is_picked_up(
    tool: TestClient, lms: TestLms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform_keys, "JWKS_COOLDOWN_S", 0)  # the rotation comes right after the first fetch
    assert launch(tool, lms, "before", LaunchSpec()).status_code == 303
    old = lms.private_pem
    try:
        lms.private_pem = rsa_pem()  # a new kid: the tool's cached JWKS does not hold it
        assert launch(tool, lms, "after", LaunchSpec()).status_code == 303
    finally:
        lms.private_pem = old


# --- deep linking -----------------------------------------------------------------------------------------


def deep_link_picker(tool: TestClient, lms: TestLms, data: str | None = "opaque-42") -> tuple[str, str]:
    reply = launch(tool, lms, "pick", LaunchSpec(kind="deep_link", roles=(TEACHER,), deep_link_data=data))
    assert reply.status_code == 200, reply.text
    _, fields = form_fields(reply.text)
    return reply.text, fields["launch"]


def return_to_lms(tool: TestClient, lms: TestLms, form: dict[str, str]) -> httpx.Response:
    reply = tool.post("/lti/deep-link", data=form)
    assert reply.status_code == 200, reply.text
    action, fields = form_fields(reply.text)
    assert action == f"{lms.base}/deep-link-return"
    assert f"form-action 'self' {lms.base}" in reply.headers["content-security-policy"]
    return httpx.post(action, data=fields)


def test_deep_linking_round_trip(tool: TestClient, lms: TestLms) -> None:
    page, launch_id = deep_link_picker(tool, lms)
    assert "Inside the cell" in page and "/embed/lessons/memory/1" in page  # views and lesson steps
    back = return_to_lms(
        tool, lms, {"launch": launch_id, "choice": "/lessons/memory/1", "title": "Gates", "graded": "1"}
    )
    assert back.status_code == 200 and "Added: Gates" in back.text
    (item,) = lms.deep_link_items[-1]
    assert item["type"] == "ltiResourceLink" and item["url"] == f"{TOOL}/lti/launch"
    assert item["custom"] == {"unrolled_url": "/lessons/memory/1"}
    assert "lineItem" not in item  # a lesson step has no score, so no gradebook column
    claims = lms.deep_link_claims[-1]
    assert claims["aud"] == lms.issuer
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-42"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-1"
    kid = jwt.get_unverified_header(lms.last_deep_link_jwt)["kid"]
    assert kid in {k["kid"] for k in tool.get("/lti/jwks").json()["keys"]}


def test_deep_linking_cancel_returns_no_items(tool: TestClient, lms: TestLms) -> None:
    _, launch_id = deep_link_picker(tool, lms, data="keep-me")
    back = return_to_lms(tool, lms, {"launch": launch_id, "action": "cancel"})
    assert back.status_code == 200
    assert lms.deep_link_items[-1] == []
    assert lms.deep_link_claims[-1]["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "keep-me"


def test_the_picker_previews_without_javascript(tool: TestClient, lms: TestLms) -> None:
    _, launch_id = deep_link_picker(tool, lms)
    page = tool.get(f"/lti/picker/{launch_id}", params={"choice": "/heatmaps", "title": "Heat"})
    assert page.status_code == 200
    assert 'src="/embed/heatmaps"' in page.text and 'value="Heat"' in page.text


def test_the_picker_refuses_a_resource_link_launch_and_an_unknown_choice(
    tool: TestClient, lms: TestLms
) -> None:
    reply = launch(tool, lms, "plain", LaunchSpec())
    launch_id = parse_qs(urlsplit(reply.headers["location"]).query)["lti_launch"][0]
    assert tool.get(f"/lti/picker/{launch_id}").status_code == 400
    _, dl_launch = deep_link_picker(tool, lms)
    assert tool.post("/lti/deep-link", data={"launch": dl_launch, "choice": "/admin"}).status_code == 422


def test_a_graded_exercise_set_asks_for_a_column_out_of_its_questions(tool: TestClient, lms: TestLms) -> None:
    _, launch_id = deep_link_picker(tool, lms)
    choice = {"launch": launch_id, "choice": "/exercises?seed=2", "title": "Predict", "graded": "1"}
    assert return_to_lms(tool, lms, choice).status_code == 200
    (item,) = lms.deep_link_items[-1]
    assert item["custom"] == {"unrolled_url": "/exercises?seed=2"}
    assert item["lineItem"] == {"scoreMaximum": float(len(exercises.build(2).questions)), "label": "Predict"}


def test_a_rotated_tool_key_signs_and_both_stay_published(tool: TestClient, lms: TestLms) -> None:
    old = {k["kid"] for k in tool.get("/lti/jwks").json()["keys"]}
    assert cli.main(["lti", "rotate-key"]) == 0
    keys = tool.get("/lti/jwks").json()["keys"]
    assert old < {k["kid"] for k in keys} and all(k["alg"] == "RS256" and "d" not in k for k in keys)
    lms.tool_jwks = {"keys": keys}
    _, launch_id = deep_link_picker(tool, lms)
    assert return_to_lms(tool, lms, {"launch": launch_id, "choice": "/cell"}).status_code == 200
    signer = jwt.get_unverified_header(lms.last_deep_link_jwt)["kid"]
    assert signer not in old
    (old_kid,) = old
    assert cli.main(["lti", "retire-key", "--", old_kid]) == 0
    assert {k["kid"] for k in tool.get("/lti/jwks").json()["keys"]} == {signer}
    assert cli.main(["lti", "retire-key", "--", signer]) == 2  # the signing key cannot be retired


# --- scores (AGS) -----------------------------------------------------------------------------------------


def graded_launch(tool: TestClient, lms: TestLms, hint: str, line_item: bool = True, seed: int = 2) -> str:
    custom = {"unrolled_url": f"/exercises?seed={seed}"}
    reply = launch(tool, lms, hint, LaunchSpec(custom=custom, line_item=line_item))
    assert reply.status_code == 303
    location = reply.headers["location"]
    assert location.startswith(f"/embed/exercises?seed={seed}&lti_launch=")
    return parse_qs(urlsplit(location).query)["lti_launch"][0]


def finish_set(tool: TestClient, launch_id: str, right: int, seed: int = 2) -> str:
    """Answer every question of set ``seed`` in the launched page, the first ``right`` of them correctly (the
    answers come from the set's own traces); the finished page's text."""
    answers = {}
    for n, q in enumerate(exercises.build(seed).questions):
        answers[f"a{q.number}"] = q.answer if n < right else (q.answer + 1) % len(q.choices)
    page = tool.get("/embed/exercises", params={"seed": seed, **answers, "lti_launch": launch_id})
    assert page.status_code == 200 and f"Score: {right} of {exercises.COUNT}." in page.text
    return page.text


def test_a_finished_exercise_set_posts_its_server_computed_score_once(tool: TestClient, lms: TestLms) -> None:
    launch_id = graded_launch(tool, lms, "graded")
    page = tool.get("/embed/exercises", params={"seed": 2, "a1": 0, "lti_launch": launch_id}).text
    assert "gradebook" not in page and lms.scores == []  # an unfinished set posts nothing
    assert "Sent to the course&#39;s gradebook: 3 of 7." in finish_set(tool, launch_id, 3)
    assert "3 of 7" in finish_set(tool, launch_id, 3)  # a reload
    again = finish_set(tool, launch_id, 5)  # other answers to the same set: still the first attempt's score
    assert "first finished attempt at this set went to the course&#39;s gradebook: 3 of 7" in again
    (score,) = lms.scores
    assert score["line_item"] == "graded" and score["userId"] == "student-1"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (3, 7)
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"


def test_two_launches_of_one_set_are_two_attempts(tool: TestClient, lms: TestLms) -> None:
    first, second = graded_launch(tool, lms, "class-a"), graded_launch(tool, lms, "class-b")
    finish_set(tool, first, 1)
    assert "Sent to the course&#39;s gradebook: 4 of 7." in finish_set(tool, second, 4)
    assert [s["scoreGiven"] for s in lms.scores] == [1, 4]


def test_a_score_cannot_be_posted_from_the_browser(tool: TestClient, lms: TestLms) -> None:
    launch_id = graded_launch(tool, lms, "forger")
    forged = tool.post("/lti/score", json={"launch": launch_id, "attempt": "a", "score": 5, "max": 5})
    assert forged.status_code in (404, 405)
    assert lms.scores == []


def test_a_transient_failure_is_retried(tool: TestClient, lms: TestLms) -> None:
    launch_id = graded_launch(tool, lms, "flaky")
    lms.score_failures = 2
    assert "Sent to the course&#39;s gradebook: 2 of 7." in finish_set(tool, launch_id, 2)
    assert len(lms.scores) == 1


def test_a_failure_that_lasts_is_reported_on_the_page(tool: TestClient, lms: TestLms) -> None:
    launch_id = graded_launch(tool, lms, "down")
    lms.score_failures = 10
    page = finish_set(tool, launch_id, 2)
    assert "The gradebook did not take the score" in page and "503" in page
    assert lms.scores == []
    lms.score_failures = 0


def test_without_a_line_item_the_score_stays_on_the_page(tool: TestClient, lms: TestLms) -> None:
    launch_id = graded_launch(tool, lms, "ungraded", line_item=False)
    assert "no gradebook column, so the score stays on this page" in finish_set(tool, launch_id, 2)
    assert lms.scores == []


def test_an_unknown_launch_is_named_on_the_page(tool: TestClient) -> None:
    assert "This launch is unknown" in finish_set(tool, "nope", 1)


@pytest.mark.parametrize(("score", "maximum"), [(5, 4), (-1, 4), (1, 0), (float("nan"), 4), (1, float("inf"))])
def test_bad_scores_are_refused_before_anything_is_posted(
    tool: TestClient, lms: TestLms, score: float, maximum: float
) -> None:
    launch_id = graded_launch(tool, lms, "bad")
    lti = tool.app.state.lti  # type: ignore[attr-defined]
    with pytest.raises(LtiError) as refused:
        ags.submit_score(lti.store, lti.keys, launch_id, "a", score, maximum)
    assert refused.value.status == 422
    assert lms.scores == []


# --- registration and the admin page ----------------------------------------------------------------------


def test_the_admin_page_lists_the_tools_urls_and_platforms(tool: TestClient, lms: TestLms) -> None:
    page = tool.get("/lti")
    assert page.status_code == 200
    for url in ("/lti/login", "/lti/launch", "/lti/jwks", "/lti/register"):
        assert f"{TOOL}{url}" in page.text
    assert lms.issuer in page.text


def test_dynamic_registration_is_off_by_default(tool: TestClient, lms: TestLms) -> None:
    reply = tool.get("/lti/register", params={"openid_configuration": f"{lms.base}/.well-known/openid"})
    assert reply.status_code == 403


def test_dynamic_registration_registers_the_platform(
    tool: TestClient, lms: TestLms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool.app.state.lti, "dynamic_registration", True)
    query = {"openid_configuration": f"{lms.base}/.well-known/openid-configuration"}
    refused = tool.get("/lti/register", params={**query, "registration_token": "wrong"})
    assert refused.status_code == 502
    done = tool.get("/lti/register", params={**query, "registration_token": "one-time-token"})
    assert done.status_code == 200 and "dynamic-client" in done.text
    sent = lms.registrations[-1]
    assert sent["initiate_login_uri"] == f"{TOOL}/lti/login" and sent["jwks_uri"] == f"{TOOL}/lti/jwks"
    assert sent["redirect_uris"] == [f"{TOOL}/lti/launch"]
    platform = tool.app.state.lti.store.find_platform(lms.issuer, "dynamic-client")
    assert platform is not None and platform.deployment_ids == ("dyn-1",)
    assert platform.jwks_url == f"{lms.base}/jwks"
