"""Lessons in a real browser: every lesson walked from its first step to its last by keyboard, each step's
live state rendered in its frame, no WCAG 2.1 AA violation (axe-core, on the page and inside the frame), the
Embed panel, and reflow to 320 px."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from app.http.security import embed_url
from app.lessons import LESSONS
from app.web import lesson_questions

pytestmark = pytest.mark.e2e

AXE_TAGS = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']"


def axe_here(target, axe_source: str) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations in one document (a page or a frame); frames get their own run."""
    if not target.evaluate("typeof axe !== 'undefined'"):
        target.evaluate(axe_source + "\n;undefined")
    return target.evaluate(
        "async () => (await axe.run(document, {iframes: false, runOnly: {type: 'tag', values: "
        + AXE_TAGS
        + "}})).violations.map(v => ({id: v.id, help: v.help,"
        + " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )


@pytest.fixture(scope="module")
def axe_source() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text()


def live_frame(page):
    handle = page.wait_for_selector("iframe.live")
    frame = handle.content_frame()
    frame.wait_for_load_state("load")
    frame.wait_for_selector("#sim")
    return frame


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_walk_every_lesson_by_keyboard_with_no_axe_violations(
    server, page, lesson, axe_source, until, screenshot
):
    page.goto(f"{server}/lessons")
    page.get_by_role("link", name=lesson.title, exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{lesson.step_url(1)}")
    for n, step in enumerate(lesson.steps, start=1):
        assert page.locator("h2#step-h").inner_text() == step.title
        assert page.locator(".lesson-where").inner_text().endswith(f"step {n} of {len(lesson.steps)}")
        asked = lesson_questions.question(step)
        if asked is not None:  # predict first, by keyboard: the picture appears once the answer is committed
            assert page.locator("iframe.live").count() == 0
            assert axe_here(page, axe_source) == [], (lesson.slug, n, "question")
            page.locator("#predict input[type=radio]").first.focus()
            page.keyboard.press("ArrowDown")  # radio groups move the choice with the arrow keys
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            page.wait_for_url("**answer=1*")
            verdict = "right." if asked.answer == 1 else "not this time."
            assert verdict in page.locator("#predict .ex-verdict").inner_text()
        frame = live_frame(page)
        assert frame.url.endswith(embed_url(asked.reveal) if asked else step.live.embed_url)
        assert frame.locator(".alerts").inner_text().strip() == ""
        # The parent resized the frame to the height the embed reported.
        until(page, "Number(document.querySelector('iframe.live').getAttribute('height')) !== 760")
        assert axe_here(page, axe_source) == [], (lesson.slug, n, "page")
        assert axe_here(frame, axe_source) == [], (lesson.slug, n, "frame")
        if n == 1:
            screenshot(page, f"lesson-{lesson.slug}")
        if n < len(lesson.steps):
            page.get_by_role("link", name="Next step ›").focus()
            page.keyboard.press("Enter")
            page.wait_for_url(f"**{lesson.step_url(n + 1)}")
    # The last step leads on to the next lesson, or back to the course.
    after = page.locator(".step-next")
    k = LESSONS.index(lesson)
    expected = LESSONS[k + 1].step_url(1) if k + 1 < len(LESSONS) else "/lessons"
    assert after.get_attribute("href") == expected
    # And back: the previous-step links walk to the start.
    for n in range(len(lesson.steps), 1, -1):
        page.get_by_role("link", name="‹ Previous step").click()
        page.wait_for_url(f"**{lesson.step_url(n - 1)}")
    assert page.errors_seen == []


def test_stepping_inside_a_lesson_frame_by_keyboard(server, page, until):
    lesson = LESSONS[0]
    page.goto(server + lesson.step_url(1))
    frame = live_frame(page)
    start = int(frame.get_attribute("#sim", "data-t"))
    frame.locator("#step-label").click()  # a quiet spot: keys now go to the frame
    page.keyboard.press("ArrowRight")
    assert int(frame.get_attribute("#sim", "data-t")) == start + 1
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert int(frame.get_attribute("#sim", "data-t")) == start - 1
    # A trained model's frame: stepping back also fetches the gate view of the new step.
    page.goto(server + "/lessons/lstm-vs-rnn/4")
    frame = live_frame(page)
    assert frame.get_attribute("#cellview .cellview", "data-t") == "18"
    frame.locator("#step-label").click()  # a quiet spot: keys now go to the frame
    page.keyboard.press("ArrowLeft")
    until(frame, "document.querySelector('#cellview .cellview').dataset.t === '17'")
    assert "t=17" in frame.url


def test_index_and_embedded_lesson_have_no_axe_violations(server, page, axe_source):
    page.goto(server + "/lessons")
    assert page.locator(".lesson-index > li").count() == len(LESSONS)
    assert axe_here(page, axe_source) == []
    page.goto(server + "/embed/lessons/gru/2")
    assert page.locator(".embed-bar a").get_attribute("target") == "_blank"
    assert page.locator("header.top").count() == 0
    live_frame(page)
    assert axe_here(page, axe_source) == []


def test_the_embed_panel_gives_the_current_state_and_copies_it(
    server, browser, axe_source, screenshot, until
):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server + "/?cell=gru&input=hello")
    page.locator("body").press("ArrowRight")
    page.locator("body").press("ArrowRight")
    until(page, "new URL(location.href).searchParams.get('t') === '2'")  # changed after the page was served
    summary = page.locator("details.share summary")
    summary.focus()
    page.keyboard.press("Enter")
    snippet = page.locator("#share-snippet").input_value()
    src = html.unescape(snippet.split('src="', 1)[1].split('"', 1)[0])  # the snippet is HTML: &amp; in src
    assert urlparse(src).path == "/embed"
    assert parse_qs(urlparse(src).query) == {"cell": ["gru"], "input": ["hello"], "t": ["2"]}
    assert 'title="' in snippet and "<iframe" in snippet
    assert page.locator("#share-link").input_value() == page.url
    assert page.locator("#share-snippet").get_attribute("readonly") is not None
    page.get_by_role("button", name="Copy embed code").click()
    # The status is written when the clipboard write settles, after the click returns: wait for it.
    expect(page.locator(".share-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    screenshot(page, "embed-panel", full_page=False)
    assert axe_here(page, axe_source) == []
    # The embed it names shows that state.
    page.goto(src)
    assert page.get_attribute("#sim", "data-t") == "2"
    context.close()


def test_a_lesson_page_reflows_to_320_px(server, browser, screenshot):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(server + "/lessons/lstm/3")
    live_frame(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "lesson-320")
    context.close()
