"""Real-browser tests: a live uvicorn server of app.main:create_app in a subprocess (liveserver.py), Debian's
Chromium via Playwright. The server is stopped by its PID; screenshots go to tests/e2e/screenshots/ (git-ignored)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# liveserver.py (shared with bench/bench_browser.py) is imported by name, whatever pytest's import mode.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from liveserver import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

pytestmark = pytest.mark.e2e

SCREENSHOTS = HERE / "screenshots"
AXE = HERE / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[str]:
    with live_server(str(tmp_path_factory.mktemp("data"))) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.dialogs_seen = dialogs
    p.errors_seen = errors
    yield p
    context.close()


def run_axe(page) -> list[dict]:
    """WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    # evaluate() runs through DevTools, so the page's CSP (script-src 'self') stays on and untouched.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values:"
        " ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return result


def shot(page, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def axe():
    return run_axe


@pytest.fixture
def screenshot():
    return shot


def wait_until(page, expression: str, timeout_ms: int = 5000) -> None:
    """Poll a JS expression until it is truthy. (wait_for_function evaluates strings with eval, which the
    page's CSP rightly forbids; evaluate() goes through DevTools instead.)"""
    waited = 0
    while not page.evaluate(expression):
        if waited >= timeout_ms:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(20)
        waited += 20


@pytest.fixture
def until():
    return wait_until
