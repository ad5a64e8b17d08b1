"""The Seq2Seq story in Chromium, keyboard only: the long sentence without attention, teacher forcing toggled on
(the decoder then reads the reference, and the free-running row shows the difference), a decoder step's GRU cell
opened and walked by sub-step, closed again with Esc; axe-clean at every stage, and it reflows at 320 px."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

import pytest

from app.lessons.seq2seq import LONG
from core.tasks import get_task

pytestmark = pytest.mark.e2e


def query(page) -> dict:
    return parse_qs(urlparse(page.url).query)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_teacher_forcing_and_a_decoder_cell_by_keyboard(server, page, axe, screenshot, until):
    page.goto(server + "/seq2seq?preset=sentences-no-attention&input=" + quote(LONG))
    assert axe(page) == []
    free = page.inner_text(".s2x-output")
    reference = get_task("sentences").reference(LONG)
    assert free != reference
    assert page.locator(".bottleneck li.ok .bn-out").inner_text() == reference  # with attention: right

    tab_to(page, "#s-tf")
    page.keyboard.press("Space")  # the form swaps itself in through htmx
    until(page, "document.querySelector('.tf-compare') !== null")
    assert query(page)["tf"] == ["1"]
    assert page.locator("#s-tf").is_checked()
    fed = page.locator("table.s2x td.fed").all_inner_texts()
    assert fed == ["START", *reference.split()]
    free_row = page.locator("table.s2x tr.free-row td.out").all_inner_texts()
    assert " ".join(w.split("\n")[0].split(" ≠")[0] for w in free_row).startswith(" ".join(free.split()[:4]))
    assert axe(page) == []
    screenshot(page, "seq2seq-teacher-forcing")

    # To a decoder step on the timeline slider, then open its cell from the button.
    tab_to(page, "#scrub")
    page.keyboard.press("Home")
    S = len(LONG.split())
    for _ in range(S + 2):
        page.keyboard.press("ArrowRight")
    assert page.get_attribute("#sim", "data-t") == str(S + 2)
    tab_to(page, "#open-cell")
    assert "decoder step 3" in page.locator("#open-cell").inner_text()
    page.keyboard.press("Enter")
    until(page, "!document.getElementById('detail').hidden")
    until(page, "document.querySelector('#cellview .cv-where') !== null")
    assert "in the decoder (its step 3 of" in page.inner_text("#cellview .cv-where")
    assert page.evaluate("document.activeElement.id") == "detail-h"
    assert query(page)["panel"] == ["cell"]
    assert page.locator("#cellview .celldiagram").count() == 1
    page.keyboard.press(",")  # back one sub-step: the candidate (GRU sub-step 3 of 4)
    assert query(page)["s"] == ["3"]
    page.keyboard.press("ArrowRight")  # the next decoder step's cell is fetched in place
    until(page, "document.querySelector('#cellview .cv-where').textContent.includes('its step 4 of')")
    assert axe(page) == []
    screenshot(page, "seq2seq-decoder-cell")
    page.keyboard.press("Escape")
    until(page, "document.getElementById('detail').hidden")
    assert "panel" not in query(page)
    assert page.errors_seen == []


def test_the_story_reflows_at_320_px(server, browser, axe):
    context = browser.new_context(viewport={"width": 320, "height": 700})
    page = context.new_page()
    page.goto(server + "/seq2seq?preset=sentences-attention&tf=1&input=" + quote("The Zebra sees a dog"))
    assert page.locator(".s2x td.tok:not(.fed) .unk").count() == 1  # the source word read as UNK
    assert page.locator(".s2x td.out .unk").count() >= 1  # the reference's UNK, written where it is fed it
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert axe(page) == []
    context.close()
