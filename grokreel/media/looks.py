"""Edit looks that follow the words of the edit prompt, as per-plane lookup tables (and a blur).

"grade it blue" pulls the picture's colour toward blue; "black and white" drops the colour;
"sepia", "night", "warm", "cold" and "blur" do what they say, and several words combine in the
order written. A prompt with none of these words gets a gentle seeded tint, so the draft still
shows that an edit happened without pretending to know what it did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import ImageColor

from .encode import planes, scale

__all__ = ["Look", "apply", "look"]

_MONO = re.compile(r"\b(black[ -]and[ -]white|b ?& ?w|monochrome|gr[ae]yscale|desaturated?)\b")
_WORDS = {"sepia", "night", "warm", "warmer", "cold", "colder", "cool", "cooler", "blur", "blurry"}
_SKIP = {"white", "black", "tan", "linen", "snow", "bisque"}  # CSS names that are not grades
_SEPIA, _NIGHT = (112, 66, 20), (40, 60, 140)


@dataclass(frozen=True)
class Look:
    """Y, U, V tables (3×256) and how much to blur (0: none; else a downscale factor)."""

    lut: np.ndarray
    blur: int = 0


def look(prompt: str, rng: np.random.Generator) -> Look:
    """The look that ``prompt``'s words ask for, else a gentle one drawn from ``rng``."""
    text = prompt.lower()
    steps = [(m.start(), "mono") for m in _MONO.finditer(text)]
    for m in re.finditer(r"[a-z]+", _MONO.sub(" ", text)):
        word = m.group()
        if word in _WORDS or (word in ImageColor.colormap and word not in _SKIP):
            steps.append((m.start(), word))
    lut, blur = _identity(), 0
    for _, word in sorted(steps):
        if word.startswith("blur"):
            blur = 8
        else:
            lut = _then(lut, _table(word))
    if not steps:
        lut = _gentle(rng)
    return Look(np.clip(lut, 16, 240).astype(np.uint8), blur)


def apply(frame: np.ndarray, chosen: Look) -> np.ndarray:
    """``chosen`` on one YUV frame: the tables, then the blur (a down-and-up scale)."""
    for plane, table in zip(planes(frame), chosen.lut, strict=True):
        plane[...] = np.take(table, plane)
    if chosen.blur:
        height, width = frame.shape[0] * 2 // 3, frame.shape[1]
        small = scale(
            frame, max(2, width // chosen.blur // 2 * 2), max(2, height // chosen.blur // 2 * 2)
        )
        frame[...] = scale(small, width, height)
    return frame


def _identity() -> np.ndarray:
    return np.tile(np.arange(256, dtype=np.float64), (3, 1))


def _then(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two tables applied one after the other, as one."""
    index = np.clip(np.round(first), 0, 255).astype(int)
    return np.stack([second[k][index[k]] for k in range(3)])


def _table(word: str) -> np.ndarray:
    i = np.arange(256, dtype=np.float64)
    if word == "mono":
        return np.stack([i, np.full(256, 128.0), np.full(256, 128.0)])
    if word == "sepia":
        return _toward(_SEPIA, chroma=1.0, luma=0.1)
    if word == "night":
        blue = _toward(_NIGHT, chroma=0.5, luma=0.0)
        return np.stack([16 + (i - 16) * 0.45, blue[1], blue[2]])
    if word.startswith("warm"):
        return np.stack([i, i - 14, i + 14])
    if word.startswith(("cold", "cool")):
        return np.stack([i, i + 14, i - 12])
    return _toward(ImageColor.getrgb(word)[:3], chroma=0.6, luma=0.2)


def _toward(rgb: tuple[int, ...], *, chroma: float, luma: float) -> np.ndarray:
    """Tables that pull colour (``chroma`` of the way) and brightness toward ``rgb``."""
    y, u, v = _yuv(rgb)
    i = np.arange(256, dtype=np.float64)
    return np.stack(
        [
            i + (y - i) * luma,
            128 + (i - 128) * (1 - chroma) + (u - 128) * chroma,
            128 + (i - 128) * (1 - chroma) + (v - 128) * chroma,
        ]
    )


def _yuv(rgb: tuple[int, ...]) -> tuple[float, float, float]:
    """BT.709 limited-range Y, U, V of an RGB colour."""
    r, g, b = (c / 255 for c in rgb[:3])
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748


def _gentle(rng: np.random.Generator) -> np.ndarray:
    """A soft seeded tint with a little contrast: visible, but never a different picture."""
    hue, i = rng.random() * 2 * np.pi, np.arange(256, dtype=np.float64)
    y = 128 + (i - 128) * 1.1
    u, v = (128 + (i - 128) * 0.85 + 14 * f(hue) for f in (np.cos, np.sin))
    return np.stack([y, u, v])
