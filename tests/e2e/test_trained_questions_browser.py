"""The questions that compare trained models, in Chromium: answered with the keyboard only, the verdict, the why
and the picture that shows the answer appear, the picture's numbers are the ones the why quotes, and axe-core
finds no WCAG 2.1 AA violation before or after; at 320 px the question still reads without sideways scrolling."""

from __future__ import annotations

import pytest
from typeset import as_shown

from app.http.security import embed_url
from app.lessons import LESSONS
from app.web import lesson_questions
from app.web.keeps_question import sci
from tests.e2e.test_lessons_walk import axe_here, live_frame

pytestmark = pytest.mark.e2e

STEPS = {step.predict: (lesson, n) for lesson in LESSONS for n, step in enumerate(lesson.steps, 1) if step.predict}


@pytest.fixture(scope="module")
def axe_source() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text()


def answer_by_keyboard(page, choice: int) -> None:
    """Focus the first choice, move to ``choice`` with the arrow keys, commit with Tab and Enter."""
    page.locator("#predict input[type=radio]").first.focus()
    page.keyboard.press("Space")
    for _ in range(choice):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**answer={choice}*")


def test_which_cell_keeps_the_marker_answered_by_keyboard(server, page, axe_source) -> None:
    lesson, n = STEPS["keeps:rnn,lstm"]
    q = lesson_questions.question(lesson.steps[n - 1])
    assert q is not None
    page.goto(server + lesson.step_url(n))
    assert page.locator("iframe.live").count() == 0  # the picture would give it away
    assert page.locator("#predict legend").inner_text().endswith(as_shown(q.prompt))
    assert axe_here(page, axe_source) == []
    page.screenshot(path="/tmp/ex/keeps-asking.png", full_page=True)
    answer_by_keyboard(page, q.answer)
    assert "right." in page.locator("#predict .ex-verdict").inner_text()
    why = page.locator("#predict .ex-why").inner_text()
    assert why == as_shown(q.why) and "the LSTM kept it" in why
    frame = live_frame(page)
    assert frame.url.endswith(embed_url(q.reveal))
    # The picture's table at the asked step holds the numbers the why quotes: RNN, LSTM, GRU columns.
    table = frame.locator("table").filter(has=frame.locator("caption", has_text="Influence of the input"))
    row = table.locator("tr.is-current")
    assert row.locator("th").text_content() == q.reveal.split("t=")[1].split("&")[0]
    cells = [float(v) for v in row.locator("td").all_text_contents()[1:]]
    assert sci(cells[0]) in why and sci(cells[1]) in why and cells[1] > 1e6 * cells[0]
    assert axe_here(page, axe_source) == [] and axe_here(frame, axe_source) == []
    page.screenshot(path="/tmp/ex/keeps-revealed.png", full_page=True)
    assert page.errors_seen == []


def test_which_word_the_decoder_writes_a_wrong_answer_shows_the_right_one(server, page, axe_source) -> None:
    lesson, n = STEPS["write"]
    q = lesson_questions.question(lesson.steps[n - 1])
    assert q is not None
    page.goto(server + lesson.step_url(n))
    wrong = (q.answer + 1) % len(q.choices)
    answer_by_keyboard(page, wrong)
    verdict = page.locator("#predict .ex-verdict").inner_text()
    assert "not this time." in verdict and f"The answer is “{q.choices[q.answer]}”." in verdict
    frame = live_frame(page)
    assert frame.url.endswith(embed_url(q.reveal))
    assert axe_here(page, axe_source) == [] and axe_here(frame, axe_source) == []
    assert page.errors_seen == []


def test_the_question_reflows_at_320_px(server, browser) -> None:
    lesson, n = STEPS["keeps:rnn,lstm"]
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(server + lesson.step_url(n))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path="/tmp/ex/keeps-320.png", full_page=True)
    context.close()
