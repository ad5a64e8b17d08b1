"""/api/docs in Chromium: axe-clean at desktop width and at 320 px (no sideways scroll), and the table of
contents of it and of /api/recipes is reached and followed with the keyboard alone."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("width", [1280, 320])
def test_reference_is_axe_clean_and_fits(page, server, axe, width) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}/api/docs")
    assert axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.errors_seen == []


@pytest.mark.parametrize("path", ["/api/docs", "/api/recipes"])
def test_contents_by_keyboard(page, server, path) -> None:
    """Both reference pages share the contents list (.ref-toc): Tab reaches it, Enter follows a link."""
    page.goto(f"{server}{path}")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.ref-toc') !== null"):
            break
    href = page.evaluate("document.activeElement.getAttribute('href')")
    assert href and href.startswith("#")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == href
    assert page.evaluate(f"document.querySelector('{href}') !== null")
