"""Take the screenshots the README shows (docs/screenshots/), from a live server in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py

The first screen at 1440 x 900 and at 320 px wide, the rolled cell, each cell's sub-steps inside the opened cell,
and a lesson step. Motion is reduced so every picture shows a sub-step's finished state.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # the live-server helper shared with the browser tests
from liveserver import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SENTENCE = "the cat sat on the mat"
CELLS = {
    "lstm": ("preset=english&input=the+cat+sat&t=5", 6),
    "gru": ("preset=&cell=gru&hidden=6&input=the+cat&t=4", 4),
    "rnn": ("preset=&cell=rnn&hidden=6&input=the+cat&t=4", 3),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, live_server(data) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        wide = browser.new_context(viewport={"width": 1440, "height": 900}, reduced_motion="reduce")
        page = wide.new_page()
        page.goto(f"{base}/?input={SENTENCE.replace(' ', '+')}&t=7")
        page.screenshot(path=str(OUT / "first-screen.png"))
        page.goto(f"{base}/?input={SENTENCE.replace(' ', '+')}&rolled=1")
        page.locator("#rolled").screenshot(path=str(OUT / "rolled.png"))
        for cell, (query, count) in CELLS.items():
            for s in range(1, count + 1):
                page.goto(f"{base}/?{query}&panel=cell&s={s}")
                page.wait_for_selector("#detail:not([hidden])")
                page.locator("#cellview .cv-body").screenshot(path=str(OUT / f"{cell}-substep-{s}.png"))
        page.goto(f"{base}/lessons/lstm/2")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "lesson-lstm-forget-gate.png"))
        narrow = browser.new_context(viewport={"width": 320, "height": 720}, reduced_motion="reduce")
        small = narrow.new_page()
        small.goto(f"{base}/?input={SENTENCE.replace(' ', '+')}&t=3")
        small.screenshot(path=str(OUT / "first-screen-320.png"))
        browser.close()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
