"""A played sequence as one animated PNG: the unrolled view's slide at every step, t = 0 .. T-1, one frame each.

APNG (not GIF) because the pictures' colour scales have more than GIF's 256 colours once anti-aliased, and
every browser and slide tool that opens a PNG shows its first frame at least. resvg draws each frame's SVG
(the slide the SVG download gives at that step; in the heavy-work lane, see app.web.picture_routes); Pillow
assembles them, storing each frame after the first
as the region that changed from the one before (only the current step's highlight and the caption move).

The size is bounded before anything is drawn: frames x width x height (at ANIMATION_ZOOM) must stay within
MAX_ANIMATION_PIXELS, since every frame is held in memory while the file is written (3 bytes a pixel)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

FRAME_MS = 900  # long enough to read a step's caption
ANIMATION_ZOOM = 1.0
MAX_ANIMATION_PIXELS = 64_000_000  # ~190 MB of frames at 3 bytes a pixel


def frame_pixels(frames: int, width: float, height: float) -> int:
    """Pixels the animation holds: frames x (width x height at ANIMATION_ZOOM)."""
    return frames * round(width * ANIMATION_ZOOM) * round(height * ANIMATION_ZOOM)


def fits(frames: int, width: float, height: float) -> bool:
    return frame_pixels(frames, width, height) <= MAX_ANIMATION_PIXELS


def too_large_message(frames: int, width: float, height: float) -> str:
    return (
        f"This sequence is too long to animate: {frames} frames of {width * ANIMATION_ZOOM:.0f} x "
        f"{height * ANIMATION_ZOOM:.0f} pixels is {frame_pixels(frames, width, height):,} pixels, over the limit of "
        f"{MAX_ANIMATION_PIXELS:,}. Type a shorter input, or download one step as a PNG or SVG."
    )


def apng(pngs: Sequence[bytes], frame_ms: int = FRAME_MS) -> bytes:
    """The frames (PNG files of one size) as one looping animated PNG."""
    frames = [Image.open(io.BytesIO(data)).convert("RGB") for data in pngs]
    size = (max(f.width for f in frames), max(f.height for f in frames))
    if any(f.size != size for f in frames):  # not expected (a slide's size does not depend on t); be safe
        frames = [pad(f, size) for f in frames]
    out = io.BytesIO()
    frames[0].save(
        out, format="PNG", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0, default_image=False
    )
    return out.getvalue()


def pad(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``frame`` on a white canvas of ``size`` (top left), so every frame has the first one's size."""
    canvas = Image.new("RGB", size, (255, 255, 255))
    canvas.paste(frame, (0, 0))
    return canvas
