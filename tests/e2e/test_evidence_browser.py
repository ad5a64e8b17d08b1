"""The trained views in Chromium: the gradients and compare pages on the adding-problem trio pass axe, step
with the keyboard, change sequence by the form, and switch to random weights and back."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path, charts", [("/gradients", 2), ("/compare", 1)])
def test_trained_views_have_labelled_charts_tables_and_no_axe_violations(
    server, page, axe, screenshot, path, charts
):
    page.goto(server + path + "?evidence=adding")
    assert page.locator("svg.gradchart").count() == charts
    assert page.locator("svg.ev-influence").count() == 1
    for svg in page.locator("svg[role=img]").all():
        title_id = svg.get_attribute("aria-labelledby")
        assert title_id and page.locator(f"#{title_id}").count() == 1
    assert page.locator("details.numbers table").count() >= charts + 1
    assert page.locator(".ev-choice a[aria-current=page]").inner_text() == "trained on the adding problem"
    screenshot(page, f"evidence{path.replace('/', '-')}")
    assert axe(page) == []
    assert page.errors_seen == []


def test_stepping_the_trained_gradients_marks_the_step_in_the_charts(server, page, until):
    page.goto(server + "/gradients?evidence=adding")
    assert page.get_attribute("#sim", "data-steps") == "40"
    page.locator("#step-label").click()  # a quiet spot: keys now go to the page
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    until(page, "document.getElementById('sim').dataset.t === '2'")
    assert page.locator("svg.ev-influence rect.ev-bar.is-current").count() == 3
    assert page.locator("svg.ev-influence rect.ev-bar.is-current").first.get_attribute("data-t") == "2"


def test_the_sequence_number_and_the_weights_choice(server, page, until, axe):
    page.goto(server + "/gradients?evidence=adding")
    first = page.locator(".ev-outputs li").first.inner_text()
    page.fill("#f-seed", "3")
    page.click("#f-run")
    until(page, "location.search.includes('seed=3')")
    until(page, f"document.querySelector('.ev-outputs li').innerText !== {first!r}")
    page.click("text=random, from the seed (untrained)")
    until(page, "!location.search.includes('evidence')")
    assert page.locator("svg.ev-influence").count() == 0
    assert page.locator("svg.gradchart").count() == 1 and page.locator("#f-input").is_visible()
    assert axe(page) == []
    page.click("text=trained on the adding problem")
    until(page, "location.search.includes('evidence=adding')")
    assert page.locator("svg.ev-influence").count() == 1
