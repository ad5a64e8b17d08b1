"""The what-if page in Chromium: choose a change by keyboard, see the ghost and the changed guesses, reload
keeps it (the URL holds it), axe finds nothing, 320 px works; the cell view's "What if…?" leads there."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_what_if_chosen_by_keyboard_survives_a_reload(server, page, axe, screenshot) -> None:
    page.goto(f"{server}/whatif")
    assert page.locator(".series.ghost polyline").count() == 2  # h and c of the LSTM
    assert page.locator(".series.intervened polyline").count() == 2
    assert page.locator(".changed-mark").count() >= 1  # the default forgets everything mid-sentence
    assert axe(page) == []

    # Keyboard only: step 11, the cell state c, unit 0, value 0, then Enter on the button.
    page.focus("#w-step")
    page.keyboard.press("Home")
    for _ in range(11):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # the target
    page.keyboard.type("cell state")  # a select picks the option typed
    page.keyboard.press("Tab")  # the unit
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")  # unit 0 (the first option is every unit)
    page.keyboard.press("Tab")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    page.wait_for_url("**iv=c0@11=0")
    now = page.locator(".whatif-now").inner_text()
    assert "c_11[0] := 0" in now
    assert page.locator(".iv-mark").count() == 2
    screenshot(page, "whatif-c0")

    page.reload()
    assert "c_11[0] := 0" in page.locator(".whatif-now").inner_text()
    assert page.locator("#w-step").input_value() == "11"
    assert page.locator("#w-target").input_value() == "c"
    assert axe(page) == []
    assert page.errors_seen == []


def test_a_forgotten_memory_changes_the_guesses_and_fits_320_px(server, browser, axe, screenshot) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(f"{server}/whatif?iv=f@6=0")
    changed = page.locator("tr.changed")
    assert changed.count() >= 1
    assert (
        "◆ changed" in changed.first.text_content()
    )  # the word is hidden on a phone, not from screen readers
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # The step readout and the outputs table fit the phone's width whole; only the charts scroll sideways.
    for table in (".whatif-values", ".whatif-outputs"):
        box = page.locator(table).first.evaluate(
            "t => [t.closest('.scroller') ?? t.parentElement].map(b => b.scrollWidth - b.clientWidth)[0]"
        )
        assert box <= 1, f"{table} overflows its box by {box} px"
    assert axe(page) == []
    screenshot(page, "whatif-320")
    context.close()


def test_the_embed_keeps_the_what_if(server, page, axe) -> None:
    page.goto(f"{server}/embed/whatif?iv=f@6=0")
    assert page.locator(".changed-mark").count() >= 1
    page.select_option("#w-step", "3")
    page.click("button:has-text('Run the what-if')")
    page.wait_for_url(lambda url: url.endswith("/embed/whatif?iv=f@3=0"))
    assert "f_3 := 0" in page.locator(".whatif-now").inner_text()
    assert axe(page) == []


def test_the_cell_view_leads_to_its_what_if(server, page) -> None:
    page.goto(f"{server}/cell?t=4&unit=2")
    page.click("a.whatif-link")
    page.wait_for_url(lambda url: url.endswith("/whatif?iv=f2@4=0"))
    assert "f_4[2] := 0" in page.locator(".whatif-now").inner_text()


def values_shown(page) -> dict[str, tuple[float, float]]:
    """The current step's readout: {'h_7[3]': (original, what-if), ...}."""
    rows = page.locator(".whatif-step.is-current tr[data-name]")
    return {
        rows.nth(k).get_attribute("data-name"): (
            float(rows.nth(k).locator("td.orig").inner_text()),
            float(rows.nth(k).locator("td.new").inner_text()),
        )
        for k in range(rows.count())
    }


def test_stepping_by_keyboard_shows_both_runs_numbers_at_each_step(server, page, axe, screenshot) -> None:
    """The shared player on /whatif: → and ← move t (kept in the URL), and the readout of the current step
    shows h_t[j] and c_t[j] of the ghost and of the what-if as the API's trace of the same request gives them."""
    from app.web.simulation import api_request, simulate
    from app.web.state import ViewState

    page.goto(f"{server}/whatif?iv=f@6=0&t=4")
    body = api_request(simulate(ViewState()).state)
    clamp = {"kind": "clamp", "t": 6, "gate": "f", "value": 0.0}
    runs = {
        name: page.request.post(f"{server}/api/v1/trace", data=extra | body).json()["layers"][0]["quantities"]
        for name, extra in (("original", {}), ("what-if", {"interventions": [clamp]}))
    }
    assert page.locator("#scrub").input_value() == "4"
    page.locator("#step-label").click()  # a quiet spot: the arrow keys now go to the player
    seen = []
    for t, key in [(5, "ArrowRight"), (6, "ArrowRight"), (7, "ArrowRight"), (6, "ArrowLeft")]:
        page.keyboard.press(key)
        assert page.locator("#sim").get_attribute("data-t") == str(t)
        assert f"t={t}" in page.url
        assert page.locator("#ws-h .cur-t").inner_text() == str(t)
        shown = values_shown(page)
        assert (
            sorted(shown) == sorted(n for n in shown if n.endswith("]") and f"_{t}[" in n) and len(shown) == 2
        )
        for name, (original, intervened) in shown.items():
            key_, j = name.split("_")[0], int(name.split("[")[1].rstrip("]"))
            for got, run in ((original, "original"), (intervened, "what-if")):
                want = runs[run][key_][t][j]
                assert abs(got - want) <= 1e-4 + 1e-3 * abs(want), (name, run, got, want)
        seen.append(shown)
    assert seen[0] != seen[2]  # the numbers change as the step moves
    before, after = (next(v for n, v in s.items() if n.startswith("c_")) for s in (seen[0], seen[2]))
    assert before[0] == before[1] and after[0] != after[1]  # the ghost and the what-if part at the change
    assert page.locator(".whatif-step.is-current .iv-here").count() == 1  # back at step 6, where f is clamped
    assert page.locator(".whatif-outputs tr.is-current th").inner_text() == "6"
    assert axe(page) == []
    page.screenshot(path="/tmp/ex/whatif-step.png", full_page=True)
    page.reload()  # the URL kept the step
    assert page.locator("#sim").get_attribute("data-t") == "6"
    assert page.errors_seen == []
