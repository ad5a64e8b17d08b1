"""/api/recipes in Chromium: axe-clean at desktop width and at 320 px (the code blocks wrap, nothing scrolls
sideways), and the footer link of another page leads there by keyboard (its contents list: see
test_api_docs_browser)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("width", [1280, 320])
def test_recipes_are_axe_clean_and_fit(page, server, axe, width) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}/api/recipes")
    assert page.locator("pre.recipe-code").count() >= 8
    assert axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('pre.recipe-code')].map(p => p.scrollWidth - p.clientWidth))"
    )
    assert widest <= 1  # no code block needs a scroll of its own
    # Lines and indentation survive the wrapping (innerText follows the CSS white-space rules).
    first = page.locator("pre.recipe-code").first.inner_text()
    assert first.startswith("import io\nimport json\n\nimport httpx\n")
    assert "\n        super().__init__()\n" in page.locator("pre.recipe-code").nth(1).inner_text()
    assert page.errors_seen == []


def test_footer_link_by_keyboard(page, server) -> None:
    page.goto(f"{server}/lessons")
    for _ in range(3):  # backwards from the top of the page: the footer's last links come first
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "/api/recipes":
            break
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/api/recipes"
    page.keyboard.press("Enter")
    page.wait_for_url("**/api/recipes")
    assert page.locator("h1").inner_text() == "Recipes"
