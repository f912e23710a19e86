"""Text in any script: measured and drawn run by run, each run in a font that has its glyphs.

``fonts`` picks the font of each character; this module loads those fonts (shaped by raqm when
Pillow has it, so Arabic joins and runs right to left) and lines the runs up on one baseline.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont, features

from .. import fonts
from ..errors import MediaError

__all__ = ["Typeface", "typeface"]

_RTL = ("R", "AL")


class Typeface:
    """One size of a font chain: what ``ImageFont`` offers for one font, for many."""

    def __init__(self, size: int, faces: tuple[fonts.Face, ...]):
        self.size, self.faces = size, faces
        self.primary = _load(faces[0], size)
        self.ascent = self.primary.getmetrics()[0]

    def runs(self, text: str) -> list[tuple[ImageFont.FreeTypeFont, str]]:
        """The runs of ``text`` in visual order (reversed on a right-to-left line)."""
        parts = [(_load(face, self.size), run) for face, run in fonts.runs(text, self.faces)]
        return parts[::-1] if _rtl(text) else parts

    def length(self, text: str) -> float:
        """The advance of ``text`` in pixels."""
        return sum(font.getlength(run) for font, run in self.runs(text)) if text else 0.0

    def line_height(self) -> int:
        top, bottom = self.primary.getbbox("Ag")[1::2]
        return int(bottom + max(2, (bottom - top) // 3))

    def bbox(self, text: str) -> tuple[int, int, int, int]:
        """The ink box of ``text`` drawn at (0, 0), as ``ImageFont.getbbox`` gives it."""
        left, top, right, bottom, x = 0, 0, 0, 0, 0.0
        for font, run in self.runs(text):
            box = font.getbbox(run, anchor="ls")
            top = min(top, box[1] + self.ascent)
            bottom, right = max(bottom, box[3] + self.ascent), int(x + box[2])
            x += font.getlength(run)
        return left, top, max(right, int(x)), bottom

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, **kw) -> None:
        """Draw ``text`` with its top-left at ``xy`` (as ``draw.text`` does), run by run."""
        x, y = xy
        for font, run in self.runs(text):
            draw.text((x, y + self.ascent), run, font=font, anchor="ls", **kw)
            x += font.getlength(run)


def typeface(size: int, font: str | Path | None = None) -> Typeface:
    """The font chain at ``size``, led by ``font`` (a storyboard's own) when given."""
    return _typeface(size, str(font) if font else "")


@lru_cache(maxsize=64)
def _typeface(size: int, font: str) -> Typeface:
    return Typeface(size, fonts.chain(font or None))


@lru_cache(maxsize=256)
def _load(face: fonts.Face, size: int) -> ImageFont.FreeTypeFont:
    """One font at one size, shaped with raqm when Pillow has it."""
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    try:
        if face == fonts.BUNDLED:
            font = ImageFont.load_default(size=size)
        else:
            font = ImageFont.truetype(face.path, size, index=face.index, layout_engine=layout)
    except OSError as exc:
        raise MediaError(f"cannot read font {face.path}: {exc}") from None
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow without FreeType: a 10 px bitmap
        raise MediaError("text needs Pillow with FreeType support (pip install --upgrade pillow)")
    return font


def _rtl(text: str) -> bool:
    """Whether the line reads right to left: its first strongly directed character does."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("L", *_RTL):
            return kind in _RTL
    return False
