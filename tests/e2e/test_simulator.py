"""The simulator in a real browser: every view, stepping, playing, scrubbing, URLs, XSS, a11y, reflow (the cell
opened in place and its sub-steps: test_explainer.py)."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest

from app.web.simulation import api_request
from app.web.state import ViewState

pytestmark = pytest.mark.e2e

VIEWS = {
    "unrolled": "/?t=4",
    "cell": "/cell?t=4",
    "heatmaps": "/heatmaps?t=3&unit=2",
    "gradients": "/gradients?t=2",
    "compare": "/compare?t=3",
    "bidirectional-gru": "/?cell=gru&bi=1&layers=2&t=2&hidden=6",
    "numbers-rnn": "/?cell=rnn&act=relu&mode=numbers&input=0.5,-1,2,0,1.5&t=2",
}


def sim_t(page) -> int:
    return int(page.get_attribute("#sim", "data-t"))


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


@pytest.mark.parametrize("name", list(VIEWS))
def test_every_view_renders_without_errors_or_axe_violations(server, page, name, axe, screenshot):
    page.goto(server + VIEWS[name])
    assert page.locator("svg[role=img], svg[role=group]").count() >= 1
    for svg in page.locator("svg[role=img], svg[role=group]").all():
        assert svg.get_attribute("aria-labelledby") or svg.get_attribute("aria-label")
    assert page.locator("details.numbers table").count() >= 1
    screenshot(page, name)
    assert axe(page) == []
    assert page.errors_seen == []


def test_step_by_keyboard_and_buttons_updates_view_and_url(server, page):
    page.goto(server + "/?preset=&input=hello+world")
    assert sim_t(page) == 0
    page.locator("body").press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert sim_t(page) == 3
    assert query(page)["t"] == ["3"]
    assert "is-current" in page.get_attribute("svg.unrolled g.col[data-t='3']", "class")
    assert "is-future" in page.get_attribute("svg.unrolled g.col[data-t='4']", "class")
    assert "is-past" in page.get_attribute("svg.unrolled g.col[data-t='2']", "class")
    assert page.input_value("#scrub") == "3"
    page.get_by_role("button", name="‹ Back").first.click()
    assert sim_t(page) == 2
    page.get_by_role("button", name="Next ›").first.click()
    assert sim_t(page) == 3
    page.keyboard.press("End")
    assert sim_t(page) == 10
    page.keyboard.press("Home")
    assert sim_t(page) == 0
    page.get_by_role("button", name="Last »").click()
    assert sim_t(page) == 10
    page.get_by_role("button", name="« First").click()
    assert sim_t(page) == 0
    page.click("svg.unrolled g.col[data-t='5'] text.boxtext.input")
    assert sim_t(page) == 5


def test_play_pause_scrub_and_quiet_when_paused(server, page, until):
    page.goto(server + "/?input=abcdefghij")
    page.select_option("#speed", "8")
    page.get_by_role("button", name="▶ Play").click()
    until(page, "Number(document.getElementById('sim').dataset.t) >= 3")
    page.get_by_role("button", name="‖ Pause").click()
    paused_at = sim_t(page)
    page.wait_for_timeout(500)
    assert sim_t(page) == paused_at
    # Space toggles play too; playing to the end stops by itself.
    page.keyboard.press("Space")
    until(page, "Number(document.getElementById('sim').dataset.t) === 9")
    page.wait_for_timeout(300)
    assert page.get_by_role("button", name="▶ Play").count() == 1
    # Scrub: the slider is a real range input.
    page.locator("#scrub").fill("4")
    assert sim_t(page) == 4
    page.focus("#scrub")
    page.keyboard.press("ArrowLeft")
    assert sim_t(page) == 3
    assert page.get_attribute("#scrub", "aria-valuetext") == "step 3 of 9, input “d”"


def test_changing_the_input_runs_the_new_sequence_and_pushes_the_url(server, page, until):
    page.goto(server + "/?preset=")
    page.fill("#f-input", "abc")
    page.press("#f-input", "Enter")
    until(page, "document.getElementById('sim').dataset.steps === '3'")
    assert query(page)["input"] == ["abc"]
    page.click("#model .settings summary")  # the model's settings fold away by default
    page.select_option("#f-cell", "gru")
    until(page, "new URL(location.href).searchParams.get('cell') === 'gru'")
    assert "GRU" in page.text_content("svg.unrolled title")
    assert query(page) == {"cell": ["gru"], "input": ["abc"]}  # the canonical URL: defaults left out
    page.go_back()
    until(page, "new URL(location.href).searchParams.get('cell') === null")
    until(page, "document.querySelector('svg.unrolled title').textContent.includes('LSTM')")


def test_reload_and_shared_link_restore_the_same_view(server, browser, page):
    page.goto(server + "/?cell=gru&hidden=5&seed=7&input=recur&unit=1")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    url = page.url
    assert query(page)["t"] == ["2"]
    table = page.text_content("details.numbers table")
    page.reload()
    assert sim_t(page) == 2
    assert page.text_content("details.numbers table") == table
    other = browser.new_context().new_page()
    other.goto(url)
    assert int(other.get_attribute("#sim", "data-t")) == 2
    assert other.input_value("#f-cell") == "gru"
    assert other.text_content("details.numbers table") == table
    assert other.locator("rect.selmark:not(.off)").count() == 5  # unit 1 outlined in every column
    other.context.close()


def test_numbers_on_the_page_match_the_json_api(server, page):
    state = ViewState(cell="lstm", hidden=4, input="hey", seed=3)
    page.goto(f"{server}/?{state.query()}")
    body = json.dumps(api_request(state)).encode()
    req = urllib.request.Request(
        server + "/api/v1/trace", data=body, headers={"content-type": "application/json"}
    )
    api = json.loads(urllib.request.urlopen(req).read())
    h_api = api["layers"][0]["quantities"]["h"]
    c_api = api["layers"][0]["quantities"]["c"]
    rows = page.locator("details.numbers table tbody tr")
    for t in range(3):
        cells = rows.nth(t).locator("td")
        h_page = [float(v) for v in cells.nth(1).text_content().split(",")]
        c_page = [float(v) for v in cells.nth(2).text_content().split(",")]
        assert h_page == pytest.approx(h_api[t], abs=1.5e-3)
        assert c_page == pytest.approx(c_api[t], abs=1.5e-3)
    # The cell view's forget gate equals the API's f at the step shown, in its table and in its drawing.
    page.goto(f"{server}/cell?{state.query(t=1, unit=2)}")
    row = page.locator("#cellview table tbody tr[data-key=f]")  # the row of f_t
    f_api = api["layers"][0]["quantities"]["f"][1]
    assert [float(v) for v in row.locator("td").all_text_contents()] == pytest.approx(f_api, abs=1.5e-3)
    drawn = page.get_attribute(".celldiagram .op[data-key=f]", "aria-label")
    assert drawn.endswith(f"= {f_api[2]:.3f}")


def test_gate_view_unit_and_layer_pickers_update_view_and_url(server, page, until):
    page.goto(server + "/cell?layers=2&bi=1&t=1")
    page.select_option("#cv-unit", "3")
    until(page, "document.querySelector('.cv-where').textContent.includes('j = 3')")
    assert query(page)["unit"] == ["3"]
    page.select_option("#cv-where", "1:1")
    until(page, "document.querySelector('.cv-where').textContent.includes('layer 2, right to left')")
    assert query(page)["layer"] == ["1"] and query(page)["dir"] == ["1"]
    page.reload()
    assert "layer 2, right to left" in page.text_content(".cv-where")
    assert page.input_value("#cv-unit") == "3"
    page.goto(server + "/?t=1&panel=cell&preset=&input=hello+world")
    page.select_option("#cv-unit", "5")
    until(page, "document.querySelectorAll('rect.selmark:not(.off)').length === 22")  # h and c of 11 columns


XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.mark.parametrize("payload", XSS)
def test_typed_markup_is_shown_as_text_and_never_runs(server, page, payload, until):
    page.goto(server + "/")
    page.fill("#f-input", payload)
    page.press("#f-input", "Enter")
    until(page, f"document.getElementById('sim').dataset.steps === '{len(payload)}'")
    assert page.input_value("#f-input") == payload
    page.goto(server + "/heatmaps?" + ViewState(input=payload, unit=0).query())
    page.goto(server + "/?" + ViewState(input=payload, mode="numbers").query())
    assert page.locator("[role=alert]").inner_text().strip() != ""
    assert payload in page.input_value("#f-input")
    assert page.locator("img[src=x]").count() == 0
    assert page.dialogs_seen == []


@pytest.mark.parametrize(
    "url, message",
    [
        ("/?input=", "Type some text"),
        ("/?input=" + "a" * 41, "At most 40"),
        ("/?hidden=999", "Hidden size must be between 1 and 32"),
        ("/?mode=numbers&input=1,two", "is not a number"),
        ("/?cell=transformer", "Cell must be one of"),
    ],
)
def test_bad_input_gives_an_inline_alert_and_the_page_still_works(server, page, url, message, axe):
    page.goto(server + url)
    assert message in page.locator("[role=alert]").inner_text()
    assert page.locator("#f-input").is_visible()
    assert axe(page) == []


def test_reduced_motion_has_no_animation(server, browser, axe):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(server + "/?t=3")
    duration = page.evaluate(
        "getComputedStyle(document.querySelector('svg.unrolled g.col')).transitionDuration"
    )
    assert duration == "0s"
    page.keyboard.press("ArrowRight")
    assert int(page.get_attribute("#sim", "data-t")) == 4
    assert axe(page) == []
    context.close()


@pytest.mark.parametrize(
    "name", ["unrolled", "cell", "heatmaps", "gradients", "compare", "bidirectional-gru"]
)
def test_reflows_to_320_px_without_sideways_page_scroll(server, browser, name, screenshot):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(server + VIEWS[name])
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, f"{name}-320")
    if name == "unrolled":
        page.click("#open-cell")
        page.wait_for_selector("#detail:not([hidden])")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert page.evaluate(
            "document.getElementById('detail').scrollWidth <= document.getElementById('detail').clientWidth + 1"
        )
        screenshot(page, f"{name}-320-cell")
    context.close()


def test_a_trained_preset_runs_from_the_form_and_fixes_the_model(server, page, axe, until, screenshot):
    page.goto(server + "/?input=the+river")
    page.focus("#f-preset")
    page.select_option("#f-preset", "chars")
    until(page, "new URL(location.href).searchParams.get('preset') === 'chars'")
    until(page, "document.querySelector('svg.unrolled title').textContent.includes('GRU')")
    assert page.is_disabled("#f-cell") and page.is_disabled("#f-hidden")
    assert page.evaluate("document.activeElement.id") == "f-preset"  # focus survives the swap
    assert "Next character" in page.text_content("#preset-note")
    screenshot(page, "preset-chars")
    assert axe(page) == []
    # A word the preset's vocabulary does not hold is read as its unknown-word token; examples to pick from.
    page.goto(server + "/?preset=sentiment&input=a+splendid+film")
    assert page.locator("[role=alert]").inner_text().strip() == ""
    assert "<unk>" in page.text_content("svg.unrolled")
    page.get_by_role("link", name="negative").first.click()
    page.wait_for_load_state()
    assert page.locator("[role=alert]").inner_text().strip() == ""
    assert page.locator("svg.unrolled").count() == 1
