"""Embedding in a real browser: a course page on another origin (another port on 127.0.0.1) frames /embed.

The app runs with that origin on its embed allowlist (UNROLLED_EMBED_ANCESTORS); a second origin is not on
it, and Chromium must refuse to render the frame there (CSP frame-ancestors). The course pages are served by a
tiny http.server and record every message their frame posts, as an LMS page would.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from liveserver import free_port, live_server

pytestmark = pytest.mark.e2e

PARENT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Course page</title></head>
<body><h1>Week 4: recurrent networks</h1>
<iframe id="sim" src="{src}" title="Unrolled simulator" width="900" height="300"></iframe>
<script>
window.received = [];
window.addEventListener('message', function (e) {{
  window.received.push({{origin: e.origin, data: e.data}});
}});
</script></body></html>"""


class CoursePages:
    """An http.server on its own port whose page /frame?src=URL frames URL and records its messages."""

    def __init__(self) -> None:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                src = parse_qs(urlparse(self.path).query).get("src", ["about:blank"])[0]
                body = PARENT.format(src=src.replace('"', "&quot;")).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        pages.url = lambda src: f"{self.origin}/frame?src={urllib.request.quote(src, safe='')}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def course() -> Iterator[CoursePages]:
    pages = CoursePages()
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def stranger() -> Iterator[CoursePages]:
    """A course page on an origin the app does not allow."""
    pages = CoursePages()
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, course: CoursePages) -> Iterator[str]:
    """The app with ``course``'s origin on the embed allowlist (the e2e conftest's server has none)."""
    data_dir = str(tmp_path_factory.mktemp("embed-data"))
    with live_server(data_dir, UNROLLED_EMBED_ANCESTORS=course.origin) as base:
        yield base


def framed(page, until, timeout_ms: int = 10000):
    """The frame of the course page once its document has loaded (Playwright reaches any origin)."""
    until(page, "document.getElementById('sim') !== null", timeout_ms)
    handle = page.wait_for_selector("iframe#sim")
    frame = handle.content_frame()
    frame.wait_for_load_state("load")
    return frame


def heights(page, origin: str) -> list[int]:
    return page.evaluate(
        "o => window.received.filter(m => m.origin === o && m.data && m.data.subject === 'lti.frameResize')"
        ".map(m => m.data.height)",
        origin,
    )


def test_an_allowed_course_page_frames_the_embed_steps_by_keyboard_and_gets_its_height(
    app_server, course, page, until, screenshot
):
    src = f"{app_server}/embed?cell=gru&input=hello&hidden=6&t=1"
    page.goto(course.url(src))
    frame = framed(page, until)
    assert frame.url == src
    assert int(frame.get_attribute("#sim", "data-t")) == 1
    assert frame.locator("#model").count() == 0  # minimal chrome
    opener = frame.locator("a.embed-open")
    assert opener.get_attribute("target") == "_blank" and opener.get_attribute("rel") == "noopener"
    assert opener.get_attribute("href") == "/?cell=gru&input=hello&hidden=6&t=1"

    # The parent hears the height on load...
    until(page, f"window.received.some(m => m.origin === '{app_server}')")
    first = heights(page, app_server)
    assert first and first[-1] > 300
    # ...and again when the content grows (ResizeObserver): open the numbers table.
    frame.locator("details.numbers summary").first.click()
    until(page, f"window.received.filter(m => m.origin === '{app_server}').length > {len(first)}")
    assert heights(page, app_server)[-1] > first[-1]

    # Keyboard inside the frame: Tab reaches the player, Enter and the arrow keys step.
    frame.locator("#step-label").click()  # a quiet spot: keys now go to the frame
    page.keyboard.press("ArrowRight")
    assert int(frame.get_attribute("#sim", "data-t")) == 2
    next_button = frame.get_by_role("button", name="Next ›").first
    for _ in range(40):  # from the timeline output onwards, round to the player again
        page.keyboard.press("Tab")
        if frame.evaluate("document.activeElement.textContent.trim()") == "Next ›":
            break
    assert frame.evaluate("document.activeElement.textContent.trim()") == "Next ›"
    page.keyboard.press("Enter")
    assert int(frame.get_attribute("#sim", "data-t")) == 3
    assert next_button.is_visible()
    assert "t=3" in frame.url and opener.get_attribute("href").endswith("t=3")  # the link follows the step
    # No cookies and no storage are needed or made.
    assert frame.evaluate("document.cookie") == ""
    assert frame.evaluate("(() => { try { return localStorage.length; } catch (e) { return 0; } })()") == 0
    screenshot(page, "embed-in-course-page")
    assert page.errors_seen == []


def test_a_lesson_step_embeds_in_the_course_page_with_its_live_frame_nested(app_server, course, page, until):
    page.goto(course.url(f"{app_server}/embed/lessons/encoder-decoder/3"))
    frame = framed(page, until)
    assert frame.locator("h2#step-h").inner_text() == "Decoding “They are watching .” from START"
    inner = frame.wait_for_selector("iframe.live").content_frame()
    inner.wait_for_load_state("load")
    inner.wait_for_selector("#sim")  # framed twice: by the lesson (our origin) inside the course page
    assert inner.get_attribute("#sim", "data-t") == "4"  # the first decoder step: START in, "Ils" out
    assert "Ils" in inner.locator("#sim").inner_text()
    frame.get_by_role("link", name="Next step ›").click()
    frame.wait_for_url("**/embed/lessons/encoder-decoder/4")


def test_a_course_page_on_another_origin_is_refused(app_server, stranger, page, until):
    src = f"{app_server}/embed?cell=gru&input=hello"
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(stranger.url(src))
    until(page, "document.getElementById('sim') !== null")
    page.wait_for_timeout(1000)
    frame = page.wait_for_selector("iframe#sim").content_frame()
    assert frame.locator("#sim").count() == 0  # nothing of the embed was rendered
    assert frame.url != src or frame.evaluate("document.body === null || document.body.innerText === ''")
    assert heights(page, app_server) == []  # no embed script ran
    assert any("frame-ancestors" in m for m in messages), messages


def test_a_course_page_trains_a_model_in_the_frame_and_steps_through_it_there(
    app_server, course, page, until, axe, screenshot
):
    page.goto(course.url(f"{app_server}/embed/train?task=sentiment&steps=30"))
    frame = framed(page, until)
    assert frame.locator("header.embed-bar").count() == 1 and frame.locator("nav").count() == 0
    assert axe(frame) == []
    frame.get_by_role("button", name="Start training").click()
    # The form posted inside the frame and its redirect stayed under /embed, so the frame still renders.
    frame.wait_for_url("**/embed/train?*job=*")
    frame.wait_for_selector("#training[data-state='done']", timeout=60000)
    step_through = frame.locator("#t-step-through")
    step_through.wait_for(timeout=10000)
    assert step_through.get_attribute("href").startswith("/embed?model=")
    assert "Finished after" in frame.locator("#train-status").inner_text()
    assert axe(frame) == []
    screenshot(page, "embed-training-in-course-page")
    step_through.click()
    frame.wait_for_url("**/embed?model=*")
    frame.wait_for_selector("#sim")  # the trained model, stepped through in the same frame
    assert page.errors_seen == []


def test_downloads_work_inside_a_framed_embed_on_another_origin(app_server, course, page, until, tmp_path):
    """The slide links of an embed are same-origin with the frame, so a click in the course page's frame
    downloads the file (no sandbox, no CSP in the way), SVG and PNG alike."""
    import struct
    import xml.etree.ElementTree as ET

    for view, stem in (("gradients", "unrolled-gradients-t1"), ("whatif", "unrolled-whatif-t1")):
        page.goto(course.url(f"{app_server}/embed/{view}?preset=&cell=lstm&hidden=3&input=abcd&t=1"))
        frame = framed(page, until)
        with page.expect_download() as svg:
            frame.locator(".downloads a", has_text="SVG").click()
        assert svg.value.suggested_filename == f"{stem}.svg"
        svg.value.save_as(tmp_path / "f.svg")
        root = ET.parse(tmp_path / "f.svg").getroot()
        assert root.find(".//{http://www.w3.org/2000/svg}desc") is not None
        with page.expect_download() as png:
            frame.locator(".downloads a", has_text="PNG").click()
        png.value.save_as(tmp_path / "f.png")
        data = (tmp_path / "f.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24])[0] == round(2 * float(root.get("width")))
