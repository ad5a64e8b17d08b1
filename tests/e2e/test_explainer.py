"""The explainer in a real browser, as a student uses it: the overview, a cell opened in place and closed again,
sub-steps walked with their keys, play by steps and by sub-steps, reload, keyboard only, axe at every sub-step
of every cell, reduced motion and 320 px."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from typeset import as_shown

pytestmark = pytest.mark.e2e

SUBSTEPS = {"lstm": 6, "gru": 4, "rnn": 3}


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def shown(page) -> tuple[int, int]:
    """(t, sub-step) the page shows: the timeline's step and the current sub-step of the open cell."""
    t = int(page.get_attribute("#sim", "data-t"))
    current = page.locator("#cellview .substeps li[aria-current=step]")
    return t, int(current.get_attribute("data-s")) if current.count() else 0


def current_cell(page) -> int:
    return int(page.get_attribute("#cellview .cellview", "data-t"))


def test_type_step_open_in_place_walk_sub_steps_close_and_reload(server, page, until, screenshot, axe):
    page.goto(server + "/?preset=&cell=lstm&input=hello")
    page.fill("#f-input", "a cats")
    page.press("#f-input", "Enter")
    until(page, "document.getElementById('sim').dataset.steps === '6'")
    page.evaluate("document.activeElement.blur()")  # out of the input box: keys now drive the timeline
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert int(page.get_attribute("#sim", "data-t")) == 2
    # Choose the column: the cell opens in place (no new page), the overview gives way, focus moves in.
    url_before = page.url
    page.click("svg.unrolled g.col[data-t='2'] rect.box.cell")
    page.wait_for_selector("#detail:not([hidden])")
    assert page.locator("#overview").is_hidden()
    assert page.url.startswith(url_before.split("?")[0]) and query(page)["panel"] == ["cell"]
    until(page, "document.activeElement && document.activeElement.id === 'detail-h'")
    assert current_cell(page) == 2 and shown(page) == (2, 6)  # the whole step: its last sub-step
    # '.' from the last sub-step goes on to the next step's first; ',' comes back.
    page.keyboard.press(".")
    until(page, "document.querySelector('#cellview .cellview').dataset.t === '3'")
    assert shown(page) == (3, 1) and query(page)["s"] == ["1"] and query(page)["t"] == ["3"]
    page.keyboard.press(".")
    page.keyboard.press(".")
    assert shown(page) == (3, 3)
    assert "sub-now" in page.get_attribute(".celldiagram g.substep[data-s='3']", "class")
    assert page.get_attribute(".celldiagram g.substep[data-s='3']", "aria-current") == "step"
    assert "sub-todo" in page.get_attribute(".celldiagram g.substep[data-s='4']", "class")
    assert "sub-done" in page.get_attribute(".celldiagram g.substep[data-s='2']", "class")
    narration = page.locator("#cellview .substeps li[aria-current=step]")
    assert "Candidate" in narration.inner_text() and narration.locator(".say").is_visible()
    screenshot(page, "explainer-lstm-substep3", full_page=False)
    assert axe(page) == []
    page.keyboard.press(",")
    assert shown(page) == (3, 2)
    # Reload: the same step, sub-step and open cell.
    page.reload()
    page.wait_for_selector("#detail:not([hidden])")
    assert shown(page) == (3, 2) and current_cell(page) == 3
    # Esc zooms back out; focus returns to the column of the current step.
    page.keyboard.press("Escape")
    page.wait_for_selector("#overview:not([hidden])")
    assert page.locator("#detail").is_hidden() and "panel" not in query(page)
    until(page, "document.activeElement && document.activeElement.matches('rect.hl[data-t=\"3\"]')")
    assert page.errors_seen == []


def test_keyboard_only_opens_and_closes_a_cell_from_its_column(server, page, until):
    page.goto(server + "/?preset=&cell=gru&input=abcdef&t=1")
    column = page.locator("svg.unrolled rect.hl[data-t='1']")
    assert column.get_attribute("tabindex") == "0"  # roving: only the current column is a tab stop
    assert page.locator("svg.unrolled rect.hl[tabindex='0']").count() == 1
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('rect.hl')"):
            break
    assert page.evaluate("document.activeElement.dataset.t") == "1"
    page.keyboard.press("ArrowRight")  # the focus follows the step
    assert page.evaluate("document.activeElement.dataset.t") == "2"
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden])")
    assert current_cell(page) == 2
    # Every part of the drawing says its value on focus, and the readout shows it.
    page.focus(".celldiagram .op[data-key=z]")
    label = page.get_attribute(".celldiagram .op[data-key=z]", "aria-label")
    assert label.startswith("update gate z_t[0] = σ(") and page.inner_text("#cellview .readout") == as_shown(label)
    page.get_by_role("button", name="← Back to the network").click()
    page.wait_for_selector("#overview:not([hidden])")
    until(page, "document.activeElement && document.activeElement.matches('rect.hl[data-t=\"2\"]')")


def test_play_runs_through_sub_steps_and_pauses(server, page, until):
    page.goto(server + "/?preset=&cell=rnn&input=abc&panel=cell")
    page.wait_for_selector("#detail:not([hidden])")
    page.select_option("#play-mode", "substeps")
    page.select_option("#speed", "8")
    page.get_by_role("button", name="▶ Play").click()  # at the very end: starts again from (0, 1)
    until(page, "document.getElementById('sim').dataset.t === '1'")
    page.get_by_role("button", name="‖ Pause").click()
    t, s = shown(page)
    page.wait_for_timeout(400)
    assert shown(page) == (t, s) and t == 1
    page.keyboard.press("Space")
    until(page, "document.querySelector('.player .play').textContent.includes('Play')", timeout_ms=8000)
    assert shown(page) == (2, 3)  # stopped by itself at the last sub-step of the last step


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_axe_finds_nothing_at_any_sub_step(server, page, cell, axe, screenshot):
    page.goto(server + f"/?preset=&cell={cell}&input=hi&t=1&panel=cell&s=1")
    page.wait_for_selector("#detail:not([hidden])")
    for s in range(1, SUBSTEPS[cell] + 1):
        assert shown(page) == (1, s)
        assert axe(page) == [], f"{cell} sub-step {s}"
        screenshot(page, f"cell-{cell}-s{s}", full_page=False)
        page.keyboard.press(".")
    assert shown(page) == (1, SUBSTEPS[cell])  # the last step's last sub-step: '.' stays


def test_reduced_motion_gets_the_same_states_without_motion(server, browser):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(server + "/?preset=&input=abc&t=1&panel=cell&s=2")
    page.wait_for_selector("#detail:not([hidden])")
    page.keyboard.press(".")
    assert shown(page) == (1, 3)
    assert page.evaluate("document.getAnimations().length") == 0
    flow = page.locator(".celldiagram g.substep[data-s='3'] .flow").first
    assert flow.evaluate("el => getComputedStyle(el).strokeDashoffset") in ("0", "0px")
    page.keyboard.press("Escape")
    page.wait_for_selector("#overview:not([hidden])")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.getAnimations().length") == 0
    context.close()


def test_with_motion_the_sub_step_traces_its_path_and_the_state_travels(server, page, until):
    page.goto(server + "/?preset=&input=abc&t=1&panel=cell&s=1")
    page.wait_for_selector("#detail:not([hidden])")
    page.keyboard.press(".")
    names = page.evaluate("document.getAnimations().map(a => a.animationName)")
    assert "trace" in names and "appear" in names
    page.keyboard.press("Escape")
    page.wait_for_selector("#overview:not([hidden])")
    page.keyboard.press("ArrowRight")
    assert "travel" in page.evaluate("document.getAnimations().map(a => a.animationName)")


def test_the_rolled_cell_unrolls_into_columns_and_the_url_keeps_it(server, page, until, axe, screenshot):
    page.goto(server + "/?preset=&cell=rnn&input=abcdef&rolled=1")
    assert page.locator("#rolled").is_visible() and page.locator("#unrolled-picture").is_hidden()
    assert page.get_attribute("#show-rolled", "aria-pressed") == "true"
    screenshot(page, "explainer-rolled", full_page=False)
    assert axe(page) == []
    page.click("#show-unrolled")
    assert page.locator("#unrolled-picture").is_visible() and page.locator("#rolled").is_hidden()
    assert "rolled" not in query(page)
    # Every column slides out of the first one (a Web Animation per column), then stays in its place.
    assert page.evaluate("document.getAnimations().length") >= 6
    page.click("#show-rolled")
    assert query(page)["rolled"] == ["1"]
    page.reload()
    assert page.locator("#rolled").is_visible()


def test_the_no_loop_row_is_the_same_cell_without_its_memory(server, page):
    page.goto(server + "/?preset=chars&input=the%20river")
    row = page.locator("svg.unrolled .boxtext.noloop")
    assert row.count() == 9
    # At t=0 both start from a zero state, so the twin guesses exactly what the network guesses.
    first = row.nth(0).text_content()
    assert not first.startswith("≠")
    assert first == page.locator("svg.unrolled g.col[data-t='0'] .guess.best").text_content()
    assert page.locator("svg.unrolled .box.noloop.differs").count() >= 1  # later, memory changes the guess


def test_download_the_picture_as_svg_and_png_at_the_current_step(server, page, tmp_path):
    import struct
    import xml.etree.ElementTree as ET

    page.goto(server + "/?preset=&cell=lstm&hidden=4&input=abcd")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # the links follow the step
    with page.expect_download() as svg_download:
        page.click(".overview .downloads a:text('SVG')")
    svg_path = tmp_path / "picture.svg"
    svg_download.value.save_as(svg_path)
    assert svg_download.value.suggested_filename == "unrolled-unrolled-t2.svg"
    root = ET.parse(svg_path).getroot()
    assert root.find(".//{http://www.w3.org/2000/svg}title") is not None  # the picture keeps its title
    assert any("step 2" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))
    with page.expect_download() as png_download:
        page.click(".overview .downloads a:text('PNG')")
    png_path = tmp_path / "picture.png"
    png_download.value.save_as(png_path)
    data = png_path.read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and width == round(2 * float(root.get("width")))
    # The opened cell downloads its own drawing at the current sub-step.
    page.click("#open-cell")
    page.wait_for_selector("#detail:not([hidden])")
    page.keyboard.press(",")
    with page.expect_download() as cell_download:
        page.click("#detail .downloads a:text('SVG')")
    assert cell_download.value.suggested_filename == "unrolled-cell-t2-s5.svg"


def test_a_value_inside_a_dark_block_is_written_in_the_ink_chosen_for_it(server, page):
    page.goto(server + "/?preset=&cell=lstm&input=abc&t=1&panel=cell")
    page.wait_for_selector("#detail:not([hidden])")
    texts = page.locator(".celldiagram .op.block text[fill]").all()  # each block's symbol and value
    assert len(texts) >= 8
    as_css = (
        "el => { const d = document.createElement('div'); d.style.color = el.getAttribute('fill');"
        " document.body.append(d); const v = getComputedStyle(d).color; d.remove(); return v; }"
    )
    for text in texts:
        assert text.evaluate("el => getComputedStyle(el).fill") == text.evaluate(as_css)


# The centre of unit j's square in the grid `nth` of column t, in page coordinates.
SQUARE_CENTRE = """([t, nth, j]) => {
  const grid = document.querySelectorAll(`svg.unrolled g.col[data-t="${t}"] g.grid`)[nth];
  const d = grid.dataset, per = +d.perRow, pitch = +d.pitch, half = +d.size / 2;
  const p = new DOMPoint(+d.x + (j % per) * pitch + half, +d.y + Math.floor(j / per) * pitch + half)
    .matrixTransform(grid.ownerSVGElement.getScreenCTM());
  return [p.x, p.y];
}"""


def test_pointing_at_a_square_reads_its_value_and_choosing_it_opens_that_unit(server, page, until):
    page.goto(server + "/?preset=&cell=lstm&hidden=12&layers=2&input=abc")
    table = page.locator("#un-numbers tbody tr").nth(1).locator("td")
    # Layer 1 is the lower row; its h is the third grid of a column (layer 2's h and c come first).
    x, y = page.evaluate(SQUARE_CENTRE, [1, 2, 9])
    page.mouse.move(x, y)
    listed = table.nth(3).text_content().split(", ")[9]  # td: input, h and c of layer 2, h of layer 1
    until(page, "document.getElementById('un-readout').textContent.includes('[9] at t=1')")
    assert page.inner_text("#un-readout") == f"h (layer 1)[9] at t=1: {listed}"
    # The c of layer 2 at unit 4: a different row and quantity.
    x, y = page.evaluate(SQUARE_CENTRE, [1, 1, 4])
    page.mouse.move(x, y)
    assert page.inner_text("#un-readout") == f"c (layer 2)[4] at t=1: {table.nth(2).text_content().split(', ')[4]}"
    # Choosing the square opens its cell on that unit and layer, and outlines the unit across the picture.
    page.mouse.click(x, y)
    page.wait_for_selector("#detail:not([hidden])")
    assert query(page)["unit"] == ["4"] and query(page)["layer"] == ["1"] and query(page)["t"] == ["1"]
    assert page.input_value("#cv-unit") == "4" and page.input_value("#cv-where") == "1:0"
    until(page, "document.querySelector('.cv-where').textContent.includes('j = 4')")
    assert "layer 2" in page.inner_text(".cv-where")
    assert page.locator("svg.unrolled rect.selmark:not(.off)").count() == 3 * 2 * 2  # h and c, 2 layers, 3 steps
    marked = page.locator("svg.unrolled g.col[data-t='0'] rect.selmark").first
    assert [marked.get_attribute("x"), marked.get_attribute("y")] == page.evaluate(
        """() => { const d = document.querySelector('svg.unrolled g.col[data-t="0"] g.grid').dataset;
                   return [String(+d.x + 4 * +d.pitch), String(+d.y)]; }"""
    )


IN_SIGHT = """(t) => {
  const a = document.querySelector(`#overview rect.hl[data-t="${t}"]`).getBoundingClientRect();
  const b = document.querySelector('#overview .scroller').getBoundingClientRect();
  return a.left >= b.left && a.right <= b.right;
}"""


def test_the_current_column_stays_in_sight_of_the_sideways_scrolling_picture(server, browser, until):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(server + "/?input=the+cat+sat+on+the+mat&t=15")
    until(page, "document.querySelector('#overview .scroller').scrollLeft > 0")
    assert page.evaluate(IN_SIGHT, 15)
    page.locator("#step-label").click()
    page.keyboard.press("Home")
    until(page, f"({IN_SIGHT})(0)")
    page.keyboard.press("End")
    until(page, f"({IN_SIGHT})(21)")
    context.close()
