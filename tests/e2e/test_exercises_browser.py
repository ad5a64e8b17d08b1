"""Exercises in a real browser, by keyboard alone: choose, commit, see the answer revealed on the picture."""

from __future__ import annotations

import pytest
from typeset import as_shown

from app.web import exercises

pytestmark = pytest.mark.e2e


def test_commit_an_answer_by_keyboard_and_see_it_revealed(server, page, axe):
    ex = exercises.build(5)
    first = ex.questions[0]
    page.goto(server + "/exercises?seed=5")
    assert axe(page) == []
    page.locator("#q1 input[type=radio]").first.focus()
    for _ in range(first.answer):
        page.keyboard.press("ArrowRight")  # radios in a group move with the arrows
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the group's "Commit my answer" button
    page.wait_for_url("**a1=*")
    assert "You said" in page.inner_text("#q1") and "right." in page.inner_text("#q1 .ex-verdict")
    assert as_shown(first.why) in page.inner_text("#q1")
    frame = page.frame_locator("#q1 iframe")
    frame.locator("#sim").wait_for()
    assert f"1 of {exercises.COUNT} answered, 1 right." in page.inner_text(".ex-progress")
    assert axe(page) == []
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth <= 320")
    assert page.errors_seen == []


def commit_by_keyboard(page, q) -> None:
    """Choose ``q``'s right answer with the arrow keys and commit it with Enter."""
    page.locator(f"#q{q.number} input[type=radio]").first.focus()
    for _ in range(q.answer):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**a{q.number}=*")


def test_the_comparison_questions_reveal_their_own_models(server, page, axe):
    ex = exercises.build(5)
    keeps, write = ex.questions[-2:]
    assert (keeps.kind, write.kind) == ("keeps", "write")
    page.goto(server + "/exercises?seed=5")
    commit_by_keyboard(page, keeps)
    commit_by_keyboard(page, write)
    for q, expected in ((keeps, "‖∂y"), (write, write.choices[write.answer])):
        assert "right." in page.inner_text(f"#q{q.number} .ex-verdict") and as_shown(q.why) in page.inner_text(
            f"#q{q.number}"
        )
        frame = page.frame_locator(f"#q{q.number} iframe")
        frame.locator("main").wait_for()
        assert expected in frame.locator("main").inner_text()
    assert f"2 of {exercises.COUNT} answered, 2 right." in page.inner_text(".ex-progress")
    assert axe(page) == []
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth <= 320")
    assert page.errors_seen == []
