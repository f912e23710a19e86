"""Offline animatic renderer: draft clips that show a shot's structure and timing without the API.

This module is the public face: the five ``render_*`` kinds and how each one is shot (the camera
move, the overlays, the sound). Pictures are drawn in ``drawing``; frames are read, converted and
written in ``encode``.

Speed comes from doing the expensive work once. Each kind draws its picture once with Pillow,
converts it once to YUV 4:2:0 (BT.709, limited range), then makes motion per frame by slicing a
moving camera window out of those planes (with one cheap libswscale resize when the camera
zooms) and pasting small precomputed patches (card, caption, time code) on top.

One encoder, ``encode.encode``, writes every kind: H.264 (x264 ultrafast, 2 threads) + AAC stereo
48 kHz, 24 fps constant frame rate, atomically. Colours, motion and the tone are seeded by
sha256(seed, prompt), so the same arguments always give byte-identical files. A change here (or in
``drawing``, ``looks``, ``encode``) that alters a draft's picture or sound must bump
``ANIMATIC_ENGINE`` in ``backends/animatic.py``, or cached drafts keep the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MediaError
from .drawing import (
    Overlay,
    backdrop,
    board,
    caption,
    card,
    clear_band,
    colour,
    framed,
    load_image,
    stamp,
)
from .encode import (
    FPS,
    RATE,
    SAMPLES_PER_FRAME,
    check_size,
    crop,
    encode,
    even,
    frame_count,
    paste,
    read_audio,
    scale,
    source_frames,
    yuv,
)
from .looks import apply, look
from .probe import probe

__all__ = [
    "FPS",
    "render_edit",
    "render_extend",
    "render_image",
    "render_references",
    "render_text",
]

_PUSH = 1.1  # an image shot's push: the window keeps 1/1.1 of the picture, near its middle


# ---------------------------------------------------------------- public API


def render_text(
    dest: Path,
    *,
    prompt: str,
    width: int,
    height: int,
    duration: float,
    seed: str,
    font: Path | None = None,
) -> None:
    """A title card with the prompt over a seeded colour field panning corner to corner.

    ``font`` (every kind's): the storyboard's own, leading the chain its text is drawn with."""
    check_size(width, height)
    rng = _rng(seed, prompt)
    canvas = yuv(backdrop(rng, even(width * 1.5), even(height * 1.5)))
    title = card(prompt, width, height, colour(rng), font)
    _shot(dest, canvas, _Move.across(rng, (1.0, 1.0)), title, width, height, duration, rng)


def render_image(
    dest: Path,
    *,
    prompt: str,
    image: Path,
    width: int,
    height: int,
    duration: float,
    seed: str,
    chained: bool = False,
    font: Path | None = None,
) -> None:
    """A gentle push in or pull out over the whole of ``image`` (never cropped): the window
    always holds the middle 86% of the picture. ``chained``: the image is a frame of another
    animatic shot, so its time code and caption strip are cut off first."""
    check_size(width, height)
    picture, rng = load_image(image), _rng(seed, prompt)
    if chained:
        top, bottom = clear_band(picture.width, picture.height, font)
        picture = picture.crop((0, top, picture.width, bottom))
    canvas = yuv(framed(picture, width, height))
    x, y = 0.25 + 0.5 * rng.random(2)
    push = _Move(start=(0.5, 0.5, 1.0), end=(x, y, _PUSH))
    move = push if rng.random() < 0.5 else _Move(push.end, push.start)
    _shot(dest, canvas, move, caption(prompt, width, height, font), width, height, duration, rng)


def render_references(
    dest: Path,
    *,
    prompt: str,
    images: list[Path],
    width: int,
    height: int,
    duration: float,
    seed: str,
    font: Path | None = None,
) -> None:
    """The reference images in a row or grid, labelled @Image1..N, drifting slowly."""
    check_size(width, height)
    if not images:
        raise MediaError(f"{dest}: a reference shot needs at least one image")
    pictures, rng = [load_image(path) for path in images], _rng(seed, prompt)
    field = backdrop(rng, even(width * 1.1), even(height * 1.1))
    canvas = yuv(board(pictures, field, width, height, font))
    move = _Move.across(rng, (1.0, 1.0), reach=0.8)  # stays inside the board's margins
    _shot(dest, canvas, move, caption(prompt, width, height, font), width, height, duration, rng)


def render_edit(
    dest: Path,
    *,
    prompt: str,
    source: Path,
    width: int,
    height: int,
    max_duration: float,
    seed: str,
    font: Path | None = None,
) -> None:
    """The source cut to ``max_duration`` under the look its words ask for, with an EDIT banner.

    Keeps the source's audio when it has some, else a tone."""
    check_size(width, height)
    info, rng = probe(source), _rng(seed, prompt)
    count = frame_count(min(info.video_duration, max_duration))
    chosen, banner = look(prompt, rng), caption(f"EDIT: {prompt}", width, height, font)
    frames = (
        _finish(apply(frame, chosen), [banner], i, count)
        for i, frame in enumerate(source_frames(source, count, width, height))
    )
    audio = read_audio(source, count) if info.has_audio else _tone(rng, count)
    encode(dest, width, height, frames, audio)


def render_extend(
    dest: Path,
    *,
    prompt: str,
    source: Path,
    duration: float,
    seed: str,
    chained: bool = False,
    font: Path | None = None,
) -> None:
    """The whole source, then ``duration`` s pushing in on its last frame, captioned EXTEND.

    ``chained``: the source is another animatic shot, so the push keeps inside the rows its
    time code and caption leave clear, and they do not show under the new ones.
    Audio: the source's then a tone, continuous (a tone throughout if the source is silent)."""
    info, rng = probe(source), _rng(seed, prompt)
    width, height = info.width, info.height
    check_size(width, height)
    head, tail = frame_count(info.video_duration), frame_count(duration)
    banner = caption(f"EXTEND: {prompt}", width, height, font)
    band = clear_band(width, height, font) if chained else (0, height)
    frames = _then_push(source_frames(source, head, width, height), rng, band, banner, tail)
    if info.has_audio:
        audio = np.concatenate([read_audio(source, head), _tone(rng, tail)], axis=1)
    else:
        audio = _tone(rng, head + tail)
    encode(dest, width, height, frames, audio)


def _shot(
    dest: Path,
    canvas: np.ndarray,
    move: _Move,
    overlay: Overlay,
    width: int,
    height: int,
    duration: float,
    rng: np.random.Generator,
) -> None:
    """Film ``move`` over ``canvas`` with one fixed overlay and a seeded tone (generated kinds)."""
    count = frame_count(duration)
    frames = _camera_frames(canvas, move, [overlay], width, height, count)
    encode(dest, width, height, frames, _tone(rng, count))


def _then_push(
    frames: Iterator[np.ndarray],
    rng: np.random.Generator,
    band: tuple[int, int],
    banner: Overlay,
    tail: int,
) -> Iterator[np.ndarray]:
    """``frames`` untouched, then ``tail`` frames pushing in on the rows ``band`` of the last."""
    head, last = 0, None
    for last in frames:
        head += 1
        yield last
    if last is None:
        raise MediaError("the source has no decodable video frames to extend")
    height, width = last.shape[0] * 2 // 3, last.shape[1]
    top, bottom = band
    canvas = crop(last, 0, top, width, bottom - top)
    zoom = height / (bottom - top)  # the window's height is the band's at the start
    move = _Move(start=(0.5, 0.5, zoom), end=(rng.random(), rng.random(), zoom * 1.15))
    yield from _camera_frames(canvas, move, [banner], width, height, tail, first=head)


# ---------------------------------------------------------------- camera


@dataclass(frozen=True)
class _Move:
    """A camera move: (x, y, zoom) at start and end; x, y in 0..1 of the room left to pan in."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]

    @classmethod
    def across(
        cls, rng: np.random.Generator, zoom: tuple[float, float], reach: float = 1.0
    ) -> _Move:
        """From a seeded corner towards the opposite one (``reach`` of the way from the centre),
        so the motion is always visible."""
        x, y = 0.5 + reach * ((rng.random(2) < 0.5) - 0.5)
        return cls(start=(x, y, zoom[0]), end=(1 - x, 1 - y, zoom[1]))

    def at(self, t: float) -> tuple[float, float, float]:
        ease = t * t * (3 - 2 * t)
        x, y, z = (a + (b - a) * ease for a, b in zip(self.start, self.end, strict=True))
        return x, y, z


def _shoot(canvas: np.ndarray, move: _Move, t: float, width: int, height: int) -> np.ndarray:
    """One camera frame: a crop of the canvas, resized only when the camera is zoomed in."""
    fx, fy, zoom = move.at(t)
    room_h, room_w = canvas.shape[0] * 2 // 3, canvas.shape[1]
    win_w, win_h = min(even(width / zoom), room_w), min(even(height / zoom), room_h)
    x, y = int(fx * (room_w - win_w)) // 2 * 2, int(fy * (room_h - win_h)) // 2 * 2
    window = crop(canvas, x, y, win_w, win_h)
    return window if (win_w, win_h) == (width, height) else scale(window, width, height)


def _camera_frames(
    canvas: np.ndarray,
    move: _Move,
    overlays: list[Overlay],
    width: int,
    height: int,
    count: int,
    first: int = 0,
) -> Iterator[np.ndarray]:
    """``count`` frames of ``move`` over ``canvas``; ``first`` offsets the time code."""
    for i in range(count):
        frame = _shoot(canvas, move, i / max(count - 1, 1), width, height)
        yield _finish(frame, overlays, first + i, first + count)


def _finish(frame: np.ndarray, overlays: list[Overlay], index: int, total: int) -> np.ndarray:
    """Paste the fixed overlays and the time code of frame ``index``."""
    for patch, x, y in overlays:
        paste(frame, patch, x, y)
    stamp(frame, index, total)
    return frame


# ---------------------------------------------------------------- seed and sound


def _rng(seed: str, prompt: str) -> np.random.Generator:
    """A private generator from sha256(seed, prompt): never the global random state."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _tone(rng: np.random.Generator, count: int) -> np.ndarray:
    """A soft seeded chord for ``count`` frames, slightly detuned left/right, faded in and out."""
    t = np.arange(count * SAMPLES_PER_FRAME) / RATE
    root = 110 * 2 ** (int(rng.integers(0, 12)) / 12)
    third = 3 if rng.random() < 0.5 else 4
    swell = 0.75 + 0.25 * np.sin(2 * np.pi * 0.25 * t + rng.random() * 2 * np.pi)
    fade = np.minimum(1, np.minimum(t, t[-1] - t) / 0.03)
    channels = []
    for detune in (0.999, 1.001):
        notes = [root * 2 ** (s / 12) * detune for s in (0, third, 7, 12)]
        channels.append(sum(np.sin(2 * np.pi * f * t) for f in notes) / len(notes))
    return (0.2 * np.stack(channels) * swell * fade).astype(np.float32)
