"""The animatic's pictures: backdrops, reference boards, text cards, captions and the time code.

This is the only animatic module that draws. Each picture is drawn once with Pillow and converted
once to YUV (``encode.yuv``), so the per-frame work elsewhere is slicing and pasting. Text (the
prompt, captions, labels) uses the font chain titles and captions use (``typeset``): the
storyboard's own font when it names one, passed down by the caller, then Pillow's bundled font,
then the first installed font that has a character; only the time code is always Pillow's.
Colours come from the caller's seeded generator, so the same arguments always draw the same
pixels.
"""

from __future__ import annotations

import math
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from ..errors import MediaError
from .encode import FPS, even, planes, yuv
from .typeset import Typeface, typeface

__all__ = [
    "Overlay",
    "backdrop",
    "board",
    "caption",
    "card",
    "clear_band",
    "colour",
    "framed",
    "load_image",
    "stamp",
]

_RGB = tuple[int, int, int]
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Overlay = tuple[np.ndarray, int, int]  # an opaque YUV patch and its even (x, y) in the frame


# ---------------------------------------------------------------- pictures


def colour(rng: np.random.Generator, low: int = 40, high: int = 230) -> _RGB:
    r, g, b = rng.integers(low, high, 3).tolist()
    return r, g, b


def backdrop(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A seeded gradient with soft blobs, drawn at 1/4 size and scaled up (cheap and smooth)."""
    sw, sh = max(width // 4, 8), max(height // 4, 8)
    gx, gy = np.meshgrid(np.linspace(0, 1, sw), np.linspace(0, 1, sh))
    angle = rng.random()
    ramp = (gx * angle + gy * (1 - angle))[..., None]
    low, high = np.array(colour(rng, 20, 140)), np.array(colour(rng, 90, 240))
    picture = Image.fromarray((low + (high - low) * ramp).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(5, 10))):
        cx, cy, r = rng.random() * sw, rng.random() * sh, (0.05 + 0.15 * rng.random()) * sw
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour(rng))
    picture = picture.filter(ImageFilter.GaussianBlur(max(1.0, sw / 160)))
    return picture.resize((width, height), Image.Resampling.BILINEAR)


def board(
    pictures: list[Image.Image],
    canvas: Image.Image,
    width: int,
    height: int,
    font: Path | None = None,
) -> Image.Image:
    """Reference images in a grid (more columns for wider frames) labelled @ImageN, on the
    frame-sized middle of ``canvas``, clear of the time code and the caption strip."""
    n = len(pictures)
    cols = min(n, math.ceil(math.sqrt(n * width / height)))
    rows = math.ceil(n / cols)
    left, top = (canvas.width - width) // 2 + width // 25, (canvas.height - height) // 2
    cell_w, cell_h = (width - 2 * (width // 25)) // cols, (height * 7 // 10) // rows
    face, draw = typeface(max(12, height // 30), font), ImageDraw.Draw(canvas)
    for k, picture in enumerate(pictures):
        fitted = ImageOps.contain(picture, (max(1, cell_w - 12), max(1, cell_h - 12)))
        x = left + (k % cols) * cell_w + (cell_w - fitted.width) // 2
        y = top + height // 10 + (k // cols) * cell_h + (cell_h - fitted.height) // 2
        canvas.paste(fitted, (x, y))
        label = f"@Image{k + 1}"
        ink = face.bbox(label)  # drawn at (x + 4, y + 4) on a box 4 px past it (3 px up and down)
        box = (x + ink[0], y + ink[1] + 1, x + ink[2] + 8, y + ink[3] + 7)
        draw.rectangle(box, fill=(16, 16, 16))
        face.draw(draw, (x + 4, y + 4), label, fill=(255, 255, 255))
    return canvas


def framed(picture: Image.Image, width: int, height: int) -> Image.Image:
    """The whole ``picture`` contained in the frame, over a blurred cover-fit of itself: nothing
    of it is cropped, whatever its shape."""
    fill = ImageOps.fit(picture, (width, height), Image.Resampling.BILINEAR)
    canvas = fill.filter(ImageFilter.GaussianBlur(max(2, height // 24)))
    whole = ImageOps.contain(picture, (width, height), Image.Resampling.BILINEAR)
    canvas.paste(whole, ((width - whole.width) // 2, (height - whole.height) // 2))
    return canvas


def clear_band(width: int, height: int, font: Path | None = None) -> tuple[int, int]:
    """Rows (top, bottom) of a frame that the time code above and a two-line caption strip
    below never cover: what a chained shot may reuse of an animatic frame. ``font``: the one its
    caption was drawn in (the storyboard's, so the same for every shot)."""
    size = max(11, height // 32)
    top = even(size / 2) + even(typeface(size).line_height() + size // 3)
    strip = max(12, height // 28)
    lines = typeface(strip, font).line_height() * 2 + strip // 2
    bottom = height - min(even(lines), even(height / 3))
    return even(top), even(bottom, 0)


def load_image(path: Path) -> Image.Image:
    """Read an image upright in RGB; a missing or unreadable file is a MediaError."""
    try:
        with Image.open(path) as picture:
            return ImageOps.exif_transpose(picture).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"cannot read image {path}: {exc}") from exc


# ---------------------------------------------------------------- text patches


@lru_cache(maxsize=32)
def _font(size: int) -> _Font:
    """Pillow's bundled scalable font: no system fonts needed."""
    return ImageFont.load_default(size=size)


def _fit(
    text: str, size: int, width: int, max_lines: int, font: Path | None
) -> tuple[Typeface, list[str]]:
    """The largest type (down to half ``size``) that fits ``text`` in ``max_lines`` lines of
    ``width`` pixels, else the smallest with the rest cut to "...". Wraps by the text's own
    average glyph width: close enough for a caption, and no per-word measuring."""
    for step in range(size, max(11, size // 2) - 1, -1):
        face = typeface(step, font)
        chars = max(4, int(0.95 * width * len(text) / max(1.0, face.length(text))))
        lines = textwrap.wrap(text, chars) or [""]
        if len(lines) <= max_lines:
            return face, lines
    return face, textwrap.wrap(text, chars, max_lines=max_lines, placeholder="...")


def _text_box(
    lines: list[str],
    face: Typeface,
    size: tuple[int, int],
    *,
    fill: _RGB,
    border: _RGB | None = None,
) -> Image.Image:
    """White lines of text on an opaque box; centred when there is a border (the card)."""
    box = Image.new("RGB", size, fill)
    draw = ImageDraw.Draw(box)
    step = face.line_height()
    if border:
        width = max(2, size[1] // 60)
        draw.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=border, width=width)
    y = (size[1] - step * len(lines)) // 2
    for line in lines:
        x = (size[0] - face.length(line)) // 2 if border else step // 3
        face.draw(draw, (x, y), line, fill=(245, 245, 245))
        y += step
    return box


def card(prompt: str, width: int, height: int, accent: _RGB, font: Path | None = None) -> Overlay:
    """The prompt wrapped on an opaque card in the middle of the frame (overlay, x, y)."""
    card_w, pad = even(width * 0.72), max(8, width // 40)
    face, lines = _fit(prompt, max(12, height // 16), card_w - 2 * pad, 6, font)
    card_h = min(even(face.line_height() * len(lines) + 2 * pad), even(height * 0.8))
    picture = _text_box(lines, face, (card_w, card_h), fill=(18, 18, 24), border=accent)
    return yuv(picture), even((width - card_w) / 2, 0), even((height - card_h) / 2, 0)


def caption(text: str, width: int, height: int, font: Path | None = None) -> Overlay:
    """A full-width strip of up to two lines at the bottom of the frame (overlay, x, y)."""
    size = max(12, height // 28)
    face, lines = _fit(text, size, width - size, 2, font)
    strip_h = min(even(face.line_height() * len(lines) + size // 2), even(height / 3))
    picture = _text_box(lines, face, (width, strip_h), fill=(12, 12, 12))
    return yuv(picture), 0, height - strip_h


def stamp(frame: np.ndarray, index: int, total: int) -> None:
    """Burn a time code and frame counter into the top-right corner, for checking timing."""
    y_plane, u_plane, v_plane = planes(frame)
    height, width = y_plane.shape
    size = max(11, height // 32)
    font, (seconds, frame_no) = _font(size), divmod(index, FPS)
    text = f"{seconds // 60:02d}:{seconds % 60:02d}:{frame_no:02d}  {index + 1}/{total}"
    box_w = even(font.getlength(f"00:00:00  {total}/{total}") + size)
    box_h = even(typeface(size).line_height() + size // 3)
    x, y = width - box_w - even(size / 2), even(size / 2)
    if x < 0 or y + box_h > height:
        return
    patch = Image.new("L", (box_w, box_h), 16)
    ImageDraw.Draw(patch).text((size // 2, size // 6), text, font=font, fill=235)
    y_plane[y : y + box_h, x : x + box_w] = np.asarray(patch)
    u_plane[y // 2 : (y + box_h) // 2, x // 2 : (x + box_w) // 2] = 128
    v_plane[y // 2 : (y + box_h) // 2, x // 2 : (x + box_w) // 2] = 128
