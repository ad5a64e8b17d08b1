"""LTI 1.3 in Chromium: a course page of the test LMS (tests/app/lti_platform.py, on its own loopback port, so
another origin) frames the activity; the frame goes through login initiation, the LMS's authorization and the
launch post to the view, with no cookie. The deep-linking picker is driven with the keyboard and checked with
axe-core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from liveserver import live_server

from app import cli
from tests.app.lti_platform import TEACHER, LaunchSpec, TestLms, running_lms

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tool_and_lms(tmp_path_factory, monkeypatch_module) -> Iterator[tuple[str, TestLms]]:
    data = str(tmp_path_factory.mktemp("lti-data"))
    with live_server(data) as tool, running_lms(tool) as lms:
        monkeypatch_module.setenv("UNROLLED_DATA_DIR", data)
        monkeypatch_module.delenv("UNROLLED_DB", raising=False)
        assert cli.main(["lti", "add-platform", *lms.tool_platform_args()]) == 0
        yield tool, lms


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def activity_frame(page, tool: str, path: str):  # noqa: ANN201
    """The course page's activity frame once it shows ``path`` of the tool."""
    for _ in range(250):
        frame = next((f for f in page.frames if f.url.startswith(tool + path)), None)
        if frame is not None:
            frame.wait_for_load_state()
            return frame
        page.wait_for_timeout(20)
    raise AssertionError(f"the frame never reached {path}: {[f.url for f in page.frames]}")


def test_a_launch_opens_the_view_inside_the_lms_frame(page, tool_and_lms, axe) -> None:
    tool, lms = tool_and_lms
    lms.launches["framed"] = LaunchSpec(custom={"unrolled_url": "/cell?cell=gru&input=hi&t=1"})
    page.goto(f"{lms.base}/course/framed")
    frame = activity_frame(page, tool, "/embed/cell?cell=gru&input=hi&t=1&lti_launch=")
    assert frame.locator("main").is_visible()
    assert "GRU" in frame.locator("body").inner_text()
    assert page.context.cookies() == []  # nothing needed a cookie, in either origin
    assert page.errors_seen == []
    assert axe(frame) == []


def test_the_picker_works_with_the_keyboard(page, tool_and_lms, axe) -> None:
    tool, lms = tool_and_lms
    lms.launches["pick"] = LaunchSpec(kind="deep_link", roles=(TEACHER,), deep_link_data="d-1")
    page.goto(f"{lms.base}/course/pick")
    frame = activity_frame(page, tool, "/lti/launch")
    assert axe(frame) == []
    first = frame.locator('input[name="choice"]').first
    first.focus()
    page.keyboard.press("ArrowDown")  # the next view: "Inside the cell"
    assert frame.locator('input[name="choice"]:checked').get_attribute("value") == "/cell"
    preview = frame.locator("#preview-frame")
    assert preview.get_attribute("src") == "/embed/cell"
    assert frame.locator("#item-title").input_value() == "Inside the cell"
    frame.locator('button[value="add"]').focus()
    page.keyboard.press("Enter")
    for _ in range(250):
        if lms.deep_link_items:
            break
        page.wait_for_timeout(20)
    (item,) = lms.deep_link_items[-1]
    assert item["custom"] == {"unrolled_url": "/cell"} and item["title"] == "Inside the cell"
    assert lms.deep_link_claims[-1]["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "d-1"
    assert page.errors_seen == []
