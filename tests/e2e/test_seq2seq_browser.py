"""The Seq2Seq view in Chromium: the lesson sentences by URL, stepping the encoder and decoder by keyboard,
shown tokens and probabilities equal to core.seq2seq, the attention table, beam search, a11y, reflow."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from core import presets
from core.seq2seq import greedy_decode

pytestmark = pytest.mark.e2e


def core_run(text: str):
    preset = presets.load_preset("translation")
    tokens = preset.meta["vocab"]["tokens"]
    trace = greedy_decode(preset.params, preset.config, np.array([tokens.index(w) for w in text.split()]))
    return trace, preset.meta["target_vocab"]["tokens"]


def current_t(page) -> int:
    return int(page.get_attribute("#sim", "data-t"))


def test_step_through_the_lesson_translation_by_keyboard(server, page, axe, screenshot):
    page.goto(server + "/seq2seq?input=They+are+watching+.")
    trace, tgt = core_run("They are watching .")
    S, T = 4, int(trace.output_lengths[0])
    assert page.inner_text(".s2x-output") == "Ils regardent ."
    assert page.locator("table.s2x thead th").count() == S + 1 + T
    page.locator("body").press("End")
    assert current_t(page) == S + T - 1
    page.keyboard.press("Home")
    for t in range(1, S + T):
        page.keyboard.press("ArrowRight")
        assert current_t(page) == t
        if t >= S:  # a decoder step: its panel shows core's top-k tokens and probabilities
            k = t - S
            panel = page.locator(f".s2x-now[data-t='{t}']")
            assert panel.is_visible()
            rows = panel.locator("table.topk tbody tr")
            names = {"<start>": "START", "<end>": "END"}
            for r in range(rows.count()):
                token = names.get(tgt[int(trace.topk_tokens[k, 0, r])], tgt[int(trace.topk_tokens[k, 0, r])])
                assert rows.nth(r).locator("th").inner_text().split(" (written)")[0] == token
                assert rows.nth(r).locator(".p").inner_text() == f"{trace.topk_probs[k, 0, r] * 100:.1f}%"
            assert (
                page.locator(f"svg.attmap g.arow[data-t='{t}']").get_attribute("class").endswith("is-current")
            )
    assert parse_qs(urlparse(page.url).query)["t"] == [str(S + T - 1)]
    fed = page.locator("table.s2x td.fed").all_inner_texts()
    assert fed[0] == "START" and fed[1:] == ["Ils", "regardent", "."]
    assert page.locator("table.attn-table tbody tr").count() == T
    screenshot(page, "seq2seq-translation")
    assert axe(page) == []
    assert page.errors_seen == []


def test_encoder_steps_one_token_at_a_time(server, page):
    page.goto(server + "/seq2seq?input=I+am+a+student")
    assert current_t(page) == 0
    assert page.locator(".s2x-now[data-t='0']").is_visible()
    assert "reads I" in page.inner_text(".s2x-now[data-t='0']")
    assert "is-future" in page.get_attribute("table.s2x td.ctx", "class")
    for t, word in enumerate(["am", "a", "student"], start=1):
        page.get_by_role("button", name="Next ›").click()
        assert current_t(page) == t
        assert f"reads {word}" in page.inner_text(f".s2x-now[data-t='{t}']")
    assert "is-current" in page.get_attribute("table.s2x td.ctx", "class")  # the context is handed over now
    # On a narrow window the last decoder column scrolls into sight inside the step table.
    inside = (
        "(() => { const c = document.querySelector('table.s2x thead th.is-current').getBoundingClientRect();"
        " const s = document.querySelector('table.s2x').closest('.scroller').getBoundingClientRect();"
        " return c.left >= s.left && c.right <= s.right; })()"
    )
    page.set_viewport_size({"width": 700, "height": 900})
    page.keyboard.press("Home")
    page.keyboard.press("End")
    assert page.evaluate(inside)
    assert page.inner_text(".s2x-output") == "Je suis étudiant"


def test_beam_search_and_form_changes(server, page, axe):
    page.goto(server + "/seq2seq?input=I+am+a+student&t=5")
    page.select_option("#s-decode", "beam")
    page.wait_for_selector(".s2x-now.is-current table.beam")
    assert parse_qs(urlparse(page.url).query)["decode"] == ["beam"]
    assert page.locator(".s2x-now.is-current table.beam tbody tr").count() == 6  # 2 x width candidates
    page.select_option("#s-weights", "random")
    page.wait_for_selector("#s-cell:not([disabled])")
    assert "Untrained" in page.inner_text(".s2x-result")
    assert axe(page) == []
    assert page.errors_seen == []


@pytest.mark.parametrize("url", ["/seq2seq?preset=reverse&input=abcdefg&t=9", "/seq2seq?decode=beam&t=6"])
def test_narrow_screen_has_no_horizontal_scroll(server, browser, url, screenshot):
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(server + url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "seq2seq-320-" + ("reverse" if "reverse" in url else "beam"))
    context.close()


def test_the_share_panel_names_the_seq2seq_embed(server, page, axe, screenshot):
    page.goto(server + "/seq2seq?preset=reverse")
    page.locator("body").press("ArrowRight")
    page.locator("details.share summary").click()
    snippet = page.locator("#share-snippet").input_value()
    src = urlparse(snippet.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&"))
    assert src.path == "/embed/seq2seq"
    assert parse_qs(src.query)["preset"] == ["reverse"]
    assert page.locator("#share-link").input_value() == page.url
    screenshot(page, "seq2seq-share-panel", full_page=False)
    assert axe(page) == []
    page.goto(f"{server}{src.path}?{src.query}")
    assert page.locator("main .share").count() == 0  # an embed has no panel of its own
    assert page.locator("[data-t]").count() > 0
    assert page.errors_seen == []


def test_unknown_words_in_and_out_are_explained(server, browser, axe):
    """A word the translation vocabulary cannot read is named beside the source field (the field is marked
    invalid and described by the message); an output UNK is drawn marked and the page says what it is."""
    for width in (1280, 320):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto(server + "/seq2seq?input=I+am+a+zebra")
        field = page.locator("#s-input")
        assert field.get_attribute("aria-invalid") == "true"
        message = page.locator("#" + field.get_attribute("aria-describedby"))
        assert "“zebra”" in message.inner_text() and "no unknown-word token" in message.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert axe(page) == []
        page.goto(server + "/seq2seq?preset=sentences-attention&input=the+dog+sees+a+zebra&t=10")
        out = page.locator(".s2x-output .unk")
        assert out.inner_text() == "UNK" and "unknown-word token" in out.get_attribute("title")
        assert "The output holds the unknown-word token" in page.locator(".unk-note").last.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert axe(page) == []
        context.close()
