"""Titles (on a card or over a clip) and burned-in captions, drawn with Pillow.

The font is the scalable one Pillow ships (``ImageFont.load_default(size=…)``), so Latin text looks
the same on every machine; characters it lacks (Japanese, Arabic…) come from the storyboard's own
``output.font``, else the first installed font that has them (``media.typeset``). Sizes follow
the frame height, so a title takes the same share of a 480p draft and a 1080p film.
"""

from __future__ import annotations

from typing import Literal

from PIL import Image, ImageColor, ImageDraw

from ..errors import MediaError
from ..media.typeset import Typeface, typeface

__all__ = ["Style", "overlay_image", "parse_colour"]

Style = Literal["title", "caption"]
RGB = tuple[int, int, int]


def parse_colour(value: str) -> RGB:
    """`#rrggbb`, `#rgb` or a CSS colour name, as an RGB triple."""
    try:
        return ImageColor.getrgb(value)[:3]  # type: ignore[return-value]
    except ValueError:
        raise MediaError(f"unknown colour {value!r}: use #rrggbb or a name like black") from None


def overlay_image(
    text: str, style: Style, width: int, height: int, colour: str, font: str | None = None
) -> Image.Image:
    """Transparent frame with ``text``: a title centred, or a caption on a band near the bottom.

    ``font`` (a storyboard's own font file) leads the chain; characters it lacks fall back."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if not text.strip():
        return image
    face = typeface(max(8, height // (9 if style == "title" else 20)), font)
    lines = _wrap(text, face, int(width * (0.86 if style == "title" else 0.9)))
    draw = ImageDraw.Draw(image)
    step = face.line_height() + face.size // 8
    boxes = [face.bbox(line) for line in lines]
    text_h = step * (len(lines) - 1) + boxes[-1][3] - boxes[0][1]
    top = (height - text_h) // 2 if style == "title" else height - height // 14 - text_h
    if style == "caption":
        pad, widest = face.size // 3, max(box[2] - box[0] for box in boxes)
        left = (width - widest) // 2
        draw.rectangle(
            (left - pad, top - pad, left + widest + pad, top + text_h + pad), fill=(0, 0, 0, 150)
        )
    stroke = max(1, face.size // 16) if style == "title" else 0
    fill = parse_colour(colour) + (255,)
    for k, (line, box) in enumerate(zip(lines, boxes, strict=True)):
        x, y = (width - (box[2] - box[0])) // 2 - box[0], top - boxes[0][1] + k * step
        face.draw(draw, (x, y), line, fill=fill, stroke_width=stroke, stroke_fill=(0, 0, 0, 200))
    return image


def _wrap(text: str, face: Typeface, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; the author's own line breaks are kept, and a word
    wider than the line (a sentence of Japanese has no spaces) is broken between characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if not line or face.length(candidate) <= width:
                line = candidate
                continue
            lines.append(line)
            line = word
        while len(line) > 1 and face.length(line) > width:
            cut = _longest(line, face, width)
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


def _longest(line: str, face: Typeface, width: int) -> int:
    """How many leading characters of ``line`` fit in ``width`` (at least one)."""
    cut = 1
    while cut < len(line) and face.length(line[: cut + 1]) <= width:
        cut += 1
    return cut
