"""Which font draws each character: a storyboard's own, Pillow's bundled one, then the system's.

Text is drawn per run of characters with the first font of the chain that has their glyphs, so a
Japanese title or an Arabic caption comes out in a font that covers it instead of as boxes. System
fonts are found through fontconfig (``fc-list``, whose charsets answer coverage without opening a
font), else at the usual Noto and DejaVu paths. Only checking the storyboard's own font file
imports Pillow, and only for characters beyond ASCII, so compiling stays free of media libraries.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["BUNDLED", "Face", "chain", "covers", "missing", "neutral", "runs", "system_faces"]


@dataclass(frozen=True)
class Face:
    """A font file (and face index, for .ttc collections); the empty path is Pillow's own font."""

    path: str = ""
    index: int = 0
    ranges: tuple[tuple[int, int], ...] | None = None  # from fontconfig; None: ask the font


BUNDLED = Face()
_KNOWN = (  # where Debian/Ubuntu and Fedora put them, for a machine without fc-list
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
)
_NEUTRAL = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Mc", "Me"))


def chain(font: str | Path | None = None) -> tuple[Face, ...]:
    """The fonts tried, in order: ``font`` (a storyboard's own), Pillow's, then the system's."""
    own = (Face(str(font)),) if font else ()
    return (*own, BUNDLED, *system_faces())


def neutral(char: str) -> bool:
    """Spaces, marks and controls: they follow the run they are in, and never force a font."""
    return unicodedata.category(char) in _NEUTRAL


def covers(face: Face, char: str) -> bool:
    """Whether ``face`` has a glyph for ``char``."""
    if face.ranges is not None:
        code = ord(char)
        k = bisect.bisect_right(face.ranges, (code, 0x10FFFF)) - 1
        return k >= 0 and face.ranges[k][0] <= code <= face.ranges[k][1]
    if face == BUNDLED:  # Pillow ships Aileron subset to ASCII: the rest falls through
        return char.isascii()
    return _drawn(face, char)


def missing(text: str, font: str | Path | None = None) -> str:
    """The distinct characters of ``text`` that no font of the chain covers, in order."""
    if text.isascii():
        return ""
    faces = chain(font)
    seen: dict[str, None] = {}
    for char in text:
        if char not in seen and not neutral(char) and not any(covers(f, char) for f in faces):
            seen[char] = None
    return "".join(seen)


def runs(text: str, faces: tuple[Face, ...]) -> list[tuple[Face, str]]:
    """``text`` cut into runs of one font each: the first that covers each character (the
    first font when none does); neutral characters stay in the run around them."""
    out: list[tuple[Face, str]] = []
    for char in text:
        face = out[-1][0] if out else faces[0]
        if not neutral(char) and not covers(face, char):
            face = next((f for f in faces if covers(f, char)), faces[0])
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


@lru_cache(maxsize=1)
def system_faces() -> tuple[Face, ...]:
    """Installed fonts, plain styles and Noto/DejaVu first, each with its charset when known."""
    faces = _fontconfig() or tuple(Face(p) for p in _KNOWN if Path(p).is_file())
    return tuple(sorted(faces, key=_preference))


def _preference(face: Face) -> tuple[int, int, str, int]:
    name = Path(face.path).name.lower()
    styled = any(s in name for s in ("bold", "italic", "oblique", "light", "thin", "black"))
    styled = styled or any(s in name for s in ("mono", "condensed", "serif", "ui-"))
    family = 0 if name.startswith(("notosans", "dejavusans")) else 1
    return int(styled), family, face.path, face.index


def _fontconfig() -> tuple[Face, ...]:
    """Every font fontconfig knows, with its charset, from one ``fc-list`` call."""
    if not shutil.which("fc-list"):
        return ()
    try:
        listing = subprocess.run(
            ["fc-list", "--format", "%{file}\t%{index}\t%{style}\t%{charset}\n"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    faces = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0].lower().endswith((".ttf", ".otf", ".ttc")):
            faces.append(Face(parts[0], int(parts[1] or 0), _ranges(parts[3])))
    return tuple(faces)


def _ranges(charset: str) -> tuple[tuple[int, int], ...]:
    """fontconfig's ``20-7e a0-17f 192`` as sorted (first, last) code points."""
    out = []
    for item in charset.split():
        first, _, last = item.partition("-")
        out.append((int(first, 16), int(last or first, 16)))
    return tuple(sorted(out))


@lru_cache(maxsize=4096)
def _drawn(face: Face, char: str) -> bool:
    """Draw ``char`` and the font's missing-glyph box: a glyph that differs from the box is real."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype(face.path, 32, index=face.index)
    except OSError:
        return False

    def picture(c: str) -> bytes:
        image = Image.new("L", (96, 96))
        ImageDraw.Draw(image).text((16, 16), c, font=font, fill=255)
        return image.tobytes()

    drawn = picture(char)
    return any(drawn) and drawn != picture("\U0010fffd")
