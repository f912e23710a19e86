"""Titles (on a card or over a clip) and burned-in captions, drawn with Pillow.

The font is the scalable one Pillow ships (``ImageFont.load_default(size=…)``), so a film looks the
same on every machine and no system font is assumed. Sizes follow the frame height, so a title takes
the same share of a 480p draft and a 1080p film.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from PIL import Image, ImageColor, ImageDraw, ImageFont

from ..errors import MediaError

__all__ = ["Style", "overlay_image", "parse_colour"]

Style = Literal["title", "caption"]
RGB = tuple[int, int, int]


def parse_colour(value: str) -> RGB:
    """`#rrggbb`, `#rgb` or a CSS colour name, as an RGB triple."""
    try:
        return ImageColor.getrgb(value)[:3]  # type: ignore[return-value]
    except ValueError:
        raise MediaError(f"unknown colour {value!r}: use #rrggbb or a name like black") from None


def overlay_image(text: str, style: Style, width: int, height: int, colour: str) -> Image.Image:
    """Transparent frame with ``text``: a title centred, or a caption on a band near the bottom."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if not text.strip():
        return image
    font = _font(max(8, height // (9 if style == "title" else 20)))
    lines = _wrap(text, font, int(width * (0.86 if style == "title" else 0.9)))
    draw = ImageDraw.Draw(image)
    spacing = font.size // 4
    box = draw.multiline_textbbox(
        (0, 0), "\n".join(lines), font=font, spacing=spacing, align="center"
    )
    text_w, text_h = box[2] - box[0], box[3] - box[1]
    x = (width - text_w) // 2 - box[0]
    if style == "title":
        y = (height - text_h) // 2 - box[1]
    else:
        y = height - height // 14 - text_h - box[1]
        pad = font.size // 3
        draw.rectangle(
            (x + box[0] - pad, y + box[1] - pad, x + box[2] + pad, y + box[3] + pad),
            fill=(0, 0, 0, 150),
        )
    stroke = max(1, font.size // 16) if style == "title" else 0
    draw.multiline_text(
        (x, y),
        "\n".join(lines),
        font=font,
        fill=parse_colour(colour) + (255,),
        spacing=spacing,
        align="center",
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 200),
    )
    return image


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow without FreeType: a 10 px bitmap
        raise MediaError("titles need Pillow with FreeType support (pip install --upgrade pillow)")
    return font


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; the author's own line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines
