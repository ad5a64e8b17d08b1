"""Slides: how long a slide's SVG, its PNG and the unrolled view's animated PNG take to make, per view.

    .venv/bin/python bench/bench_slides.py          # bench/results/slides.md + slides.json
    .venv/bin/python bench/bench_slides.py --quick  # one repeat, prints only

Each case is one GET through the app in-process (TestClient, no heavy-work lane: the drawing runs in this
process, so the CPU time is the drawing's). Timings are the median of the repeats, wall clock and the
process's CPU time (time.process_time: the app runs on TestClient's own thread, so all threads count).
The size is the reply's bytes, the pixels the PNG's (or frames x the APNG's) width x height.
"""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402

CASES = [
    ("unrolled, default (22 steps)", "/export/unrolled.svg?t=3"),
    ("unrolled PNG, default", "/export/unrolled.png?t=3"),
    ("heatmaps PNG, default", "/export/heatmaps.png?t=3"),
    ("gradients PNG, random", "/export/gradients.png?t=3"),
    ("compare PNG, random", "/export/compare.png?t=3"),
    ("whatif PNG, default", "/export/whatif.png?t=3"),
    ("seq2seq PNG, default", "/export/seq2seq.png?t=3"),
    ("APNG, GRU 3 units, 'abcd' (4 frames)", "/export/unrolled.apng?preset=&cell=gru&hidden=3&input=abcd"),
    ("APNG, default (22 frames)", "/export/unrolled.apng"),
]


def pixels(data: bytes) -> int:
    image = Image.open(io.BytesIO(data))
    if image.format != "PNG":
        return 0
    return image.width * image.height * getattr(image, "n_frames", 1)


def main(quick: bool) -> None:
    repeats = 1 if quick else 3
    client = TestClient(
        create_app(Settings(data_dir=Path(tempfile.mkdtemp()), rate_limit_per_minute=0, heavy_processes=0))
    )
    rows = []
    load_start = os.getloadavg()
    for name, url in CASES:
        client.get(url)  # warm the page caches: the first request also runs the model
        wall, cpu = [], []
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            r = client.get(url)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            assert r.status_code == 200, (url, r.status_code, r.text[:200])
        px = pixels(r.content) if not url.split("?")[0].endswith(".svg") else 0
        rows.append({"case": name, "url": url, "wall_s": statistics.median(wall), "cpu_s": statistics.median(cpu),
                     "bytes": len(r.content), "pixels": px})
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "loadavg_start": load_start, "loadavg_end": os.getloadavg(), "repeats": repeats}
    lines = ["# Slides: time to make each download", "",
             f"Median of {repeats} run(s), in-process (no heavy-work lane). Load average {load_start[0]:.1f} at "
             f"the start, {env['loadavg_end'][0]:.1f} at the end, {env['cpus']} CPUs.", "",
             "| case | wall s | CPU s | bytes | pixels |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['case']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['bytes']:,} | {r['pixels']:,} |"
              for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not quick:
        out = ROOT / "bench" / "results"
        (out / "slides.md").write_text(text)
        (out / "slides.json").write_text(json.dumps({"env": env, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main("--quick" in sys.argv)
