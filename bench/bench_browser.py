"""Browser benchmark of the simulator page: key press -> DOM change and -> next frame, long tasks while
playing, and bytes on first load.

    .venv/bin/python bench/bench_browser.py [--rounds 60]

Starts a live server (app.main:create_app) and Debian's Chromium, then measures
  * key press to DOM change: from dispatching a keydown (ArrowRight for a step, '.' for a sub-step) to the first
    mutation of the view (a MutationObserver callback), and to the next animation frame after that change;
    in the overview, in the opened cell (a step swaps in the next step's fragment, fetched ahead), and for
    sub-steps inside the cell (a class switch, no request);
  * long tasks (PerformanceObserver 'longtask', over 50 ms) during 10 s of play at 8 steps/s, by whole steps in
    the overview and by sub-steps in the opened cell;
  * first-load weight: bytes on the wire (compressed bodies + headers) for `/` and everything it loads.
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

# [ms to the first DOM mutation under `target`, ms to the animation frame after it]
KEY_JS = """async ([key, target, subtree]) => {
  const root = document.querySelector(target);
  let changed = 0;
  const seen = new Promise(r => new MutationObserver((_, o) => { changed = performance.now(); o.disconnect(); r(); })
      .observe(root, {childList: true, attributes: true, subtree: subtree}));
  const t0 = performance.now();
  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: key, bubbles: true}));
  await seen;
  await new Promise(r => requestAnimationFrame(r));
  return [changed - t0, performance.now() - t0];
}"""

LONG_TASKS_JS = """async (ms) => {
  const tasks = [];
  const observer = new PerformanceObserver(list => { for (const e of list.getEntries()) tasks.push(e.duration); });
  observer.observe({type: 'longtask', buffered: false});
  document.querySelector('[data-step="play"]').click();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await new Promise(r => setTimeout(r, 200));
    if (document.querySelector('.player .play').textContent.includes('Play')) {  // at the end: again
      document.querySelector('[data-step="play"]').click();
    }
  }
  document.querySelector('[data-step="play"]').click();
  observer.disconnect();
  return tasks;
}"""


PACE_MS = 150  # between presses: a student stepping quickly presses about 6-7 keys a second


def presses(page, key: str, target: str, rounds: int, subtree: bool = True) -> list[tuple[float, float]]:
    """Press ``key`` ``rounds`` times through a 40-step sequence, PACE_MS apart, back to the start (Home) at
    the end. The pause is what lets the page fetch the next step's cell ahead, as it does for a person."""
    times = []
    for _ in range(rounds):
        page.wait_for_timeout(PACE_MS)
        if page.evaluate("Number(document.getElementById('sim').dataset.t)") >= 38:
            page.keyboard.press("Home")
            page.wait_for_timeout(80)
        times.append(tuple(page.evaluate(KEY_JS, [key, target, subtree])))
    return times


def summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    median = statistics.median(times)
    return f"median {median:.1f} ms, p90 {q[-1]:.1f} ms, max {max(times):.1f} ms (n={len(times)})"


def row(name: str, pairs: list[tuple[float, float]]) -> str:
    return f"| {name} | {summary([a for a, _ in pairs])} | {summary([b for _, b in pairs])} |"


def long_tasks(tasks: list[float]) -> str:
    return f"{len(tasks)} long tasks" + (f", longest {max(tasks):.0f} ms" if tasks else "")


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
        page.evaluate(KEY_JS, ["ArrowRight", "#overview", True])  # warm up
        overview = presses(page, "ArrowRight", "#overview", args.rounds)
        page.keyboard.press("Home")
        overview_play = page.evaluate(LONG_TASKS_JS, 10_000)

        page.keyboard.press("Home")
        page.click("#open-cell")
        page.wait_for_selector("#detail:not([hidden])")
        page.wait_for_load_state("networkidle")
        cell_steps = presses(page, "ArrowRight", "#cellview", args.rounds)
        page.keyboard.press("Home")
        page.wait_for_load_state("networkidle")
        sub_steps = presses(page, ".", "#cellview", args.rounds)
        page.select_option("#play-mode", "substeps")
        page.keyboard.press("Home")
        cell_play = page.evaluate(LONG_TASKS_JS, 10_000)
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
        f"## Key press to updated view (`{url_path}`, the default model, 40 characters)",
        "",
        "From dispatching the keydown in the page to the first DOM mutation of the view, and to the animation "
        f"frame after it, presses {PACE_MS} ms apart. Targets: DOM change within one frame (16 ms) for steps and "
        "sub-steps.",
        "",
        "| key press | to DOM change | to the next frame |",
        "|---|---|---|",
        row("→ step, overview (class switch, no request)", overview),
        row("→ step, cell open (fragment fetched ahead, swapped in)", cell_steps),
        row(". sub-step, cell open (class switch, no request)", sub_steps),
        "",
        "## Long tasks during 10 s of play at 2 steps/s (the default speed)",
        "",
        f"* whole steps in the overview: **{long_tasks(overview_play)}** (target: none over 50 ms)",
        f"* sub-steps in the opened cell: **{long_tasks(cell_play)}**",
        "",
        "## First load of `/` (the default model)",
        "",
        "Bytes on the wire: response bodies as transferred (compressed where the server compresses) plus "
        "headers.",
        "",
        "| resource | body bytes | header bytes | encoding |",
        "|---|---:|---:|---|",
        *[f"| `{u}` | {b} | {h} | {e} |" for u, b, h, e in loaded],
        f"| **total** | | | **{total} bytes = {total / 1024:.1f} KiB** (budget 80 KB) |",
        "",
    ]
    out = ROOT / "bench" / "results" / "browser.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
