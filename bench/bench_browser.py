"""Browser benchmark of the simulator page: key press -> updated view, and bytes on first load.

    .venv/bin/python bench/bench_browser.py [--rounds 60]

Starts a live server (app.main:create_app) and Debian's Chromium, then measures
  * step latency: from dispatching an ArrowRight keydown to the second animation frame after it (the frame
    that shows the new step has been styled, laid out and painted), median and 90th percentile of many steps;
  * gate-view step latency: the same with the gate dialog open, where the cell view is fetched from the server
    (until the new fragment is in the DOM, then the next frame);
  * first-load weight: bytes on the wire (compressed bodies + headers) for the page and everything it loads.
Writes bench/results/browser.md. Timings depend on the machine; they are recorded, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # the live-server helper shared with the browser tests
from liveserver import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

STEP_JS = """async () => {
  const t0 = performance.now();
  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""

CELL_STEP_JS = """async () => {
  const host = document.getElementById('cellview');
  const t0 = performance.now();
  const swapped = new Promise(r => new MutationObserver((_, o) => { o.disconnect(); r(); })
      .observe(host, {childList: true}));
  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
  await swapped;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""


def steps(page, script: str, rounds: int) -> list[float]:
    """Step forward ``rounds`` times through a 40-step sequence, wrapping to the start at the end."""
    times = []
    for _ in range(rounds):
        if page.evaluate("Number(document.getElementById('sim').dataset.t)") >= 38:
            page.keyboard.press("Home")
            page.wait_for_timeout(50)
        times.append(page.evaluate(script))
    return times


def summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    median = statistics.median(times)
    return f"median {median:.1f} ms, p90 {q[-1]:.1f} ms, max {max(times):.1f} ms (n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    url_path = "/?input=" + "the+quick+brown+fox+jumps+over+the+lazy+d"[:40]
    with tempfile.TemporaryDirectory() as data_dir, live_server(data_dir) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        responses = []
        page.on("requestfinished", lambda req: responses.append(req))
        page.goto(base + "/")
        page.wait_for_load_state("networkidle")
        loaded = []
        for req in responses:
            sizes = req.sizes()
            resp = req.response()
            encoding = resp.headers.get("content-encoding", "identity") if resp else "?"
            loaded.append(
                (
                    req.url.replace(base, ""),
                    sizes["responseBodySize"],
                    sizes["responseHeadersSize"],
                    encoding,
                )
            )
        total = sum(body + head for _, body, head, _ in loaded)

        page.goto(base + url_path)
        page.wait_for_load_state("networkidle")
        page.evaluate(STEP_JS)  # warm up
        plain = steps(page, STEP_JS, args.rounds)

        page.click("#open-cell")
        page.wait_for_selector("#cell-dialog[open]")
        page.wait_for_load_state("networkidle")
        with_cell = steps(page, CELL_STEP_JS, args.rounds)
        browser_version = browser.version
        browser.close()

    lines = [
        "# Browser benchmark: the simulator page",
        "",
        f"Recorded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `.venv/bin/python bench/bench_browser.py "
        f"--rounds {args.rounds}` on {platform.machine()} ({os.cpu_count()} CPUs), "
        f"Chromium {browser_version} "
        "headless, server on localhost (uvicorn, one worker). Shared machine: figures are indicative.",
        "",
        "## Key press to updated view (default LSTM, hidden 8, 40-character input)",
        "",
        "Measured in the page from dispatching an ArrowRight keydown to the second animation frame after it.",
        "",
        f"* unrolled network (class switch, no request): **{summary(plain)}** (target <= 50 ms)",
        "* with the gate dialog open (cell view fetched per step, neighbouring steps fetched ahead): "
        f"**{summary(with_cell)}**",
        "",
        "## First load of `/` (default LSTM)",
        "",
        "Bytes on the wire: response bodies as transferred (gzip where the server compresses) plus headers.",
        "",
        "| resource | body bytes | header bytes | encoding |",
        "|---|---:|---:|---|",
        *[f"| `{u}` | {b} | {h} | {e} |" for u, b, h, e in loaded],
        f"| **total** | | | **{total} bytes = {total / 1024:.1f} KiB** (budget 150 KB) |",
        "",
    ]
    out = ROOT / "bench" / "results" / "browser.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
