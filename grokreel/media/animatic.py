"""Offline animatic renderer: draft clips that show a shot's structure and timing without the API.

Speed comes from doing the expensive work once. Each kind draws its picture once with Pillow,
converts it once to YUV 4:2:0 (BT.709, limited range), then makes motion per frame by slicing a
moving camera window out of those planes (with one cheap libswscale resize when the camera
zooms) and pasting small precomputed patches (card, caption, time code) on top.

One encoder, ``_encode``, writes every kind: H.264 (x264 ultrafast, 2 threads) + AAC stereo
48 kHz, 24 fps constant frame rate, atomically. Colours, motion and the tone are seeded by
sha256(seed, prompt), so the same arguments always give byte-identical files.

A YUV image here is one uint8 array of shape (h * 3 // 2, w): the Y plane followed by the U and
V planes, flattened. That is the layout PyAV's ``yuv420p`` ndarray conversions use.
"""

from __future__ import annotations

import hashlib
import math
import os
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from ..errors import GrokreelError, MediaError
from .probe import probe

__all__ = [
    "FPS",
    "render_edit",
    "render_extend",
    "render_image",
    "render_references",
    "render_text",
]

FPS = 24
RATE = 48_000
_SAMPLES_PER_FRAME = RATE // FPS
_BT709 = 1  # AVCOL_PRI_BT709 == AVCOL_TRC_BT709 == AVCOL_SPC_BT709
_LIMITED = 1  # AVCOL_RANGE_MPEG
_SCALE = av.video.reformatter.Interpolation.BILINEAR
_RGB = tuple[int, int, int]
_Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_Overlay = tuple[np.ndarray, int, int]  # an opaque YUV patch and its even (x, y) in the frame


# ---------------------------------------------------------------- public API


def render_text(
    dest: Path, *, prompt: str, width: int, height: int, duration: float, seed: str
) -> None:
    """A title card with the prompt over a seeded colour field panning corner to corner."""
    _check_size(width, height)
    rng = _rng(seed, prompt)
    canvas = _yuv(_backdrop(rng, _even(width * 1.5), _even(height * 1.5)))
    card = _card(prompt, width, height, _colour(rng))
    _shot(dest, canvas, _Move.across(rng, (1.0, 1.0)), card, width, height, duration, rng)


def render_image(
    dest: Path, *, prompt: str, image: Path, width: int, height: int, duration: float, seed: str
) -> None:
    """A pan with a slow push in or pull out over ``image`` cover-fitted to the frame."""
    _check_size(width, height)
    picture, rng = _load_image(image), _rng(seed, prompt)
    room = _even(width * 1.2), _even(height * 1.2)
    canvas = _yuv(ImageOps.fit(picture, room, Image.Resampling.BILINEAR))
    move = _Move.across(rng, (1.0, 1.12) if rng.random() < 0.5 else (1.12, 1.0))
    _shot(dest, canvas, move, _caption(prompt, width, height), width, height, duration, rng)


def render_references(
    dest: Path,
    *,
    prompt: str,
    images: list[Path],
    width: int,
    height: int,
    duration: float,
    seed: str,
) -> None:
    """The reference images in a row or grid, labelled @Image1..N, drifting slowly."""
    _check_size(width, height)
    if not images:
        raise MediaError(f"{dest}: a reference shot needs at least one image")
    pictures, rng = [_load_image(path) for path in images], _rng(seed, prompt)
    backdrop = _backdrop(rng, _even(width * 1.1), _even(height * 1.1))
    canvas = _yuv(_board(pictures, backdrop, width, height))
    move = _Move.across(rng, (1.0, 1.0), reach=0.8)  # stays inside the board's margins
    _shot(dest, canvas, move, _caption(prompt, width, height), width, height, duration, rng)


def render_edit(
    dest: Path,
    *,
    prompt: str,
    source: Path,
    width: int,
    height: int,
    max_duration: float,
    seed: str,
) -> None:
    """The source cut to ``max_duration`` under a seeded colour transform, with an EDIT banner.

    Keeps the source's audio when it has some, else a tone."""
    _check_size(width, height)
    info, rng = probe(source), _rng(seed, prompt)
    count = _frame_count(min(info.video_duration, max_duration))
    lut, banner = _look(rng), _caption(f"EDIT: {prompt}", width, height)
    frames = (
        _finish(_apply_lut(frame, lut), [banner], i, count)
        for i, frame in enumerate(_source_frames(source, count, width, height))
    )
    audio = _read_audio(source, count) if info.has_audio else _tone(rng, count)
    _encode(dest, width, height, frames, audio)


def render_extend(dest: Path, *, prompt: str, source: Path, duration: float, seed: str) -> None:
    """The whole source, then ``duration`` s pushing in on its last frame, captioned EXTEND.

    Audio: the source's then a tone, continuous (a tone throughout if the source is silent)."""
    info, rng = probe(source), _rng(seed, prompt)
    width, height = info.width, info.height
    _check_size(width, height)
    head, tail = _frame_count(info.video_duration), _frame_count(duration)
    caption = _caption(f"EXTEND: {prompt}", width, height)
    move = _Move(start=(0.5, 0.5, 1.0), end=(rng.random(), rng.random(), 1.15))
    frames = _then_push(_source_frames(source, head, width, height), move, caption, tail)
    if info.has_audio:
        audio = np.concatenate([_read_audio(source, head), _tone(rng, tail)], axis=1)
    else:
        audio = _tone(rng, head + tail)
    _encode(dest, width, height, frames, audio)


def _shot(
    dest: Path,
    canvas: np.ndarray,
    move: _Move,
    overlay: _Overlay,
    width: int,
    height: int,
    duration: float,
    rng: np.random.Generator,
) -> None:
    """Film ``move`` over ``canvas`` with one fixed overlay and a seeded tone (generated kinds)."""
    count = _frame_count(duration)
    frames = _camera_frames(canvas, move, [overlay], width, height, count)
    _encode(dest, width, height, frames, _tone(rng, count))


def _then_push(
    frames: Iterator[np.ndarray], move: _Move, caption: _Overlay, tail: int
) -> Iterator[np.ndarray]:
    """``frames`` untouched, then ``tail`` frames of ``move`` over the last of them."""
    head, last = 0, None
    for last in frames:
        head += 1
        yield last
    if last is None:
        raise MediaError("the source has no decodable video frames to extend")
    height, width = last.shape[0] * 2 // 3, last.shape[1]
    yield from _camera_frames(last, move, [caption], width, height, tail, first=head)


# ---------------------------------------------------------------- encoder


def _encode(
    dest: Path, width: int, height: int, frames: Iterable[np.ndarray], audio: np.ndarray
) -> None:
    """Encode YUV frames plus their audio into ``dest`` atomically; any failure is a MediaError.

    Audio is muxed per video frame (2000 samples each) so the file is interleaved as it is written.
    """
    partial = dest.with_suffix(".partial.mp4")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(partial), "w", format="mp4") as out:
            video, sound = _add_streams(out, width, height)
            count = 0
            for count, frame in enumerate(frames, 1):
                out.mux(video.encode(_video_frame(frame, count - 1)))
                out.mux(sound.encode(_audio_frame(audio, count - 1)))
            if count == 0:
                raise MediaError(f"{dest}: no frames to encode")
            out.mux(video.encode(None))
            out.mux(sound.encode(None))
        os.replace(partial, dest)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, GrokreelError) or not isinstance(exc, Exception):
            raise
        raise MediaError(f"cannot render {dest}: {exc}") from exc


def _add_streams(
    out: av.container.OutputContainer, width: int, height: int
) -> tuple[av.VideoStream, av.AudioStream]:
    """H.264 + AAC with fixed settings: fixed threads keep x264's output byte-identical."""
    video = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "23"})
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    ctx = video.codec_context
    ctx.time_base, ctx.thread_count, ctx.gop_size = Fraction(1, FPS), 2, 2 * FPS
    ctx.color_primaries = ctx.color_trc = ctx.colorspace = _BT709
    ctx.color_range = _LIMITED
    sound = out.add_stream("aac", rate=RATE, layout="stereo")
    return video, sound


def _video_frame(image: np.ndarray, index: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
    frame.pts, frame.time_base = index, Fraction(1, FPS)
    frame.colorspace, frame.color_range = _BT709, _LIMITED
    return frame


def _audio_frame(audio: np.ndarray, index: int) -> av.AudioFrame:
    """The 2000 samples under video frame ``index``; silence past the end of ``audio``."""
    chunk = np.zeros((2, _SAMPLES_PER_FRAME), np.float32)
    part = audio[:, index * _SAMPLES_PER_FRAME : (index + 1) * _SAMPLES_PER_FRAME]
    chunk[:, : part.shape[1]] = part
    frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
    frame.sample_rate, frame.pts = RATE, index * _SAMPLES_PER_FRAME
    frame.time_base = Fraction(1, RATE)
    return frame


# ---------------------------------------------------------------- YUV helpers


def _planes(image: np.ndarray) -> _Planes:
    """Views of the Y, U and V planes of a flat YUV image (writes go through)."""
    height, width = image.shape[0] * 2 // 3, image.shape[1]
    flat, luma, chroma = image.reshape(-1), width * height, width * height // 4
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma :].reshape(height // 2, width // 2),
    )


def _crop(image: np.ndarray, x: int, y: int, width: int, height: int) -> np.ndarray:
    """A new YUV image cut out of ``image`` at even (x, y)."""
    out = np.empty((height * 3 // 2, width), np.uint8)
    for k, (dst, src) in enumerate(zip(_planes(out), _planes(image), strict=True)):
        s = 1 if k == 0 else 2
        dst[...] = src[y // s : (y + height) // s, x // s : (x + width) // s]
    return out


def _paste(image: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Overwrite ``image`` with ``patch`` at even (x, y); opaque, so no per-frame blending."""
    for k, (dst, src) in enumerate(zip(_planes(image), _planes(patch), strict=True)):
        s = 1 if k == 0 else 2
        dst[y // s : y // s + src.shape[0], x // s : x // s + src.shape[1]] = src


def _scale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
    return frame.reformat(width, height, interpolation=_SCALE, threads=1).to_ndarray()


def _yuv(picture: Image.Image) -> np.ndarray:
    """Convert once from RGB to BT.709 limited-range YUV 4:2:0 (libswscale, single thread)."""
    frame = av.VideoFrame.from_image(picture.convert("RGB"))
    bt709 = {"dst_colorspace": _BT709, "dst_color_range": _LIMITED}
    return frame.reformat(format="yuv420p", interpolation=_SCALE, threads=1, **bt709).to_ndarray()


def _even(value: float, least: int = 2) -> int:
    """Round to an even number (4:2:0 chroma is subsampled 2x2); sizes are at least 2."""
    return max(least, int(round(value / 2)) * 2)


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
    win_w, win_h = min(_even(width / zoom), room_w), min(_even(height / zoom), room_h)
    x, y = int(fx * (room_w - win_w)) // 2 * 2, int(fy * (room_h - win_h)) // 2 * 2
    window = _crop(canvas, x, y, win_w, win_h)
    return window if (win_w, win_h) == (width, height) else _scale(window, width, height)


def _camera_frames(
    canvas: np.ndarray,
    move: _Move,
    overlays: list[_Overlay],
    width: int,
    height: int,
    count: int,
    first: int = 0,
) -> Iterator[np.ndarray]:
    """``count`` frames of ``move`` over ``canvas``; ``first`` offsets the time code."""
    for i in range(count):
        frame = _shoot(canvas, move, i / max(count - 1, 1), width, height)
        yield _finish(frame, overlays, first + i, first + count)


def _finish(frame: np.ndarray, overlays: list[_Overlay], index: int, total: int) -> np.ndarray:
    """Paste the fixed overlays and the time code of frame ``index``."""
    for patch, x, y in overlays:
        _paste(frame, patch, x, y)
    _stamp(frame, index, total)
    return frame


# ---------------------------------------------------------------- pictures


def _rng(seed: str, prompt: str) -> np.random.Generator:
    """A private generator from sha256(seed, prompt): never the global random state."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _colour(rng: np.random.Generator, low: int = 40, high: int = 230) -> _RGB:
    r, g, b = rng.integers(low, high, 3).tolist()
    return r, g, b


def _backdrop(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A seeded gradient with soft blobs, drawn at 1/4 size and scaled up (cheap and smooth)."""
    sw, sh = max(width // 4, 8), max(height // 4, 8)
    gx, gy = np.meshgrid(np.linspace(0, 1, sw), np.linspace(0, 1, sh))
    angle = rng.random()
    ramp = (gx * angle + gy * (1 - angle))[..., None]
    low, high = np.array(_colour(rng, 20, 140)), np.array(_colour(rng, 90, 240))
    picture = Image.fromarray((low + (high - low) * ramp).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(5, 10))):
        cx, cy, r = rng.random() * sw, rng.random() * sh, (0.05 + 0.15 * rng.random()) * sw
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_colour(rng))
    picture = picture.filter(ImageFilter.GaussianBlur(max(1.0, sw / 160)))
    return picture.resize((width, height), Image.Resampling.BILINEAR)


def _board(
    pictures: list[Image.Image], canvas: Image.Image, width: int, height: int
) -> Image.Image:
    """Reference images in a grid (more columns for wider frames) labelled @ImageN, on the
    frame-sized middle of ``canvas``, clear of the time code and the caption strip."""
    n = len(pictures)
    cols = min(n, math.ceil(math.sqrt(n * width / height)))
    rows = math.ceil(n / cols)
    left, top = (canvas.width - width) // 2 + width // 25, (canvas.height - height) // 2
    cell_w, cell_h = (width - 2 * (width // 25)) // cols, (height * 7 // 10) // rows
    font, draw = _font(max(12, height // 30)), ImageDraw.Draw(canvas)
    for k, picture in enumerate(pictures):
        fitted = ImageOps.contain(picture, (max(1, cell_w - 12), max(1, cell_h - 12)))
        x = left + (k % cols) * cell_w + (cell_w - fitted.width) // 2
        y = top + height // 10 + (k // cols) * cell_h + (cell_h - fitted.height) // 2
        canvas.paste(fitted, (x, y))
        box = draw.textbbox((x + 4, y + 4), f"@Image{k + 1}", font=font)
        draw.rectangle((box[0] - 4, box[1] - 3, box[2] + 4, box[3] + 3), fill=(16, 16, 16))
        draw.text((x + 4, y + 4), f"@Image{k + 1}", font=font, fill=(255, 255, 255))
    return canvas


def _load_image(path: Path) -> Image.Image:
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


def _fit(text: str, size: int, width: int, max_lines: int) -> tuple[_Font, list[str]]:
    """The largest font (down to half ``size``) that fits ``text`` in ``max_lines`` lines of
    ``width`` pixels, else the smallest with the rest cut to "...". Wraps by the text's own
    average glyph width: close enough for a caption, and no per-word measuring."""
    for step in range(size, max(11, size // 2) - 1, -1):
        font = _font(step)
        chars = max(4, int(0.95 * width * len(text) / max(1.0, font.getlength(text))))
        lines = textwrap.wrap(text, chars) or [""]
        if len(lines) <= max_lines:
            return font, lines
    return font, textwrap.wrap(text, chars, max_lines=max_lines, placeholder="...")


def _text_box(
    lines: list[str], font: _Font, size: tuple[int, int], *, fill: _RGB, border: _RGB | None = None
) -> Image.Image:
    """White lines of text on an opaque box; centred when there is a border (the card)."""
    box = Image.new("RGB", size, fill)
    draw = ImageDraw.Draw(box)
    step = _line_height(font)
    if border:
        width = max(2, size[1] // 60)
        draw.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=border, width=width)
    y = (size[1] - step * len(lines)) // 2
    for line in lines:
        x = (size[0] - font.getlength(line)) // 2 if border else step // 3
        draw.text((x, y), line, font=font, fill=(245, 245, 245))
        y += step
    return box


def _line_height(font: _Font) -> int:
    top, bottom = font.getbbox("Ag")[1::2]
    return int(bottom + max(2, (bottom - top) // 3))


def _card(prompt: str, width: int, height: int, accent: _RGB) -> _Overlay:
    """The prompt wrapped on an opaque card in the middle of the frame (overlay, x, y)."""
    card_w, pad = _even(width * 0.72), max(8, width // 40)
    font, lines = _fit(prompt, max(12, height // 16), card_w - 2 * pad, 6)
    card_h = min(_even(_line_height(font) * len(lines) + 2 * pad), _even(height * 0.8))
    picture = _text_box(lines, font, (card_w, card_h), fill=(18, 18, 24), border=accent)
    return _yuv(picture), _even((width - card_w) / 2, 0), _even((height - card_h) / 2, 0)


def _caption(text: str, width: int, height: int) -> _Overlay:
    """A full-width strip of up to two lines at the bottom of the frame (overlay, x, y)."""
    size = max(12, height // 28)
    font, lines = _fit(text, size, width - size, 2)
    strip_h = min(_even(_line_height(font) * len(lines) + size // 2), _even(height / 3))
    picture = _text_box(lines, font, (width, strip_h), fill=(12, 12, 12))
    return _yuv(picture), 0, height - strip_h


def _stamp(frame: np.ndarray, index: int, total: int) -> None:
    """Burn a time code and frame counter into the top-right corner, for checking timing."""
    y_plane, u_plane, v_plane = _planes(frame)
    height, width = y_plane.shape
    size = max(11, height // 32)
    font, (seconds, frame_no) = _font(size), divmod(index, FPS)
    text = f"{seconds // 60:02d}:{seconds % 60:02d}:{frame_no:02d}  {index + 1}/{total}"
    box_w = _even(font.getlength(f"00:00:00  {total}/{total}") + size)
    box_h = _even(_line_height(font) + size // 3)
    x, y = width - box_w - _even(size / 2), _even(size / 2)
    if x < 0 or y + box_h > height:
        return
    patch = Image.new("L", (box_w, box_h), 16)
    ImageDraw.Draw(patch).text((size // 2, size // 6), text, font=font, fill=235)
    y_plane[y : y + box_h, x : x + box_w] = np.asarray(patch)
    u_plane[y // 2 : (y + box_h) // 2, x // 2 : (x + box_w) // 2] = 128
    v_plane[y // 2 : (y + box_h) // 2, x // 2 : (x + box_w) // 2] = 128


# ---------------------------------------------------------------- sources (edit, extend)


def _look(rng: np.random.Generator) -> np.ndarray:
    """A seeded edit look as Y, U, V lookup tables: negative, posterize or dark colour tint."""
    i = np.arange(256, dtype=np.float64)
    kind = int(rng.integers(3))
    if kind == 0:
        y, u, v = 251 - i, 256 - i, 256 - i
    elif kind == 1:
        y = 16 + np.round((i - 16) / 219 * 3) / 3 * 219
        u = v = 128 + np.round((i - 128) / 16) * 32
    else:
        hue = rng.random() * 2 * np.pi
        y = 16 + (i - 16) * 0.65
        u, v = (128 + (i - 128) * 0.2 + 56 * f(hue) for f in (np.cos, np.sin))
    return np.clip(np.stack([y, u, v]), 16, 240).astype(np.uint8)


def _apply_lut(frame: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Per-plane table lookups: a full-frame colour transform in ~2 ms at 720p."""
    for plane, table in zip(_planes(frame), lut, strict=True):
        plane[...] = np.take(table, plane)  # 2x faster than table[plane]
    return frame


def _source_frames(path: Path, count: int, width: int, height: int) -> Iterator[np.ndarray]:
    """``count`` frames of ``path`` at 24 fps CFR (the latest frame shown at each tick), covering
    width x height; the last frame is held if the source runs short."""
    try:
        with av.open(str(path)) as src:
            held, out, start = None, 0, None
            for frame in src.decode(video=0):
                t = frame.time if frame.time is not None else out / FPS
                start = t if start is None else start
                while held is not None and out < count and (out + 0.5) / FPS < t - start:
                    yield held.copy()
                    out += 1
                if out >= count:
                    return
                held = _cover(frame, width, height)
            for _ in range(out, count if held is not None else 0):
                yield held.copy()
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot decode video {path}: {exc}") from exc


def _cover(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """Scale ``frame`` to cover width x height (keeping its aspect) and crop the centre."""
    scale = max(width / frame.width, height / frame.height)
    sw, sh = max(width, _even(frame.width * scale)), max(height, _even(frame.height * scale))
    image = frame.reformat(sw, sh, "yuv420p", interpolation=_SCALE, threads=1).to_ndarray()
    return _crop(image, (sw - width) // 4 * 2, (sh - height) // 4 * 2, width, height)


def _read_audio(path: Path, count: int) -> np.ndarray:
    """The source's audio as 48 kHz stereo float, cut or padded with silence to ``count`` frames."""
    want, have = count * _SAMPLES_PER_FRAME, 0
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
    chunks = [np.zeros((2, 0), np.float32)]
    try:
        with av.open(str(path)) as src:
            for frame in chain(src.decode(audio=0), [None]):  # None flushes the resampler
                got = [f.to_ndarray() for f in resampler.resample(frame)]
                chunks, have = chunks + got, have + sum(c.shape[1] for c in got)
                if have >= want:
                    break
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot decode audio of {path}: {exc}") from exc
    audio = np.concatenate(chunks, axis=1)[:, :want]
    return np.pad(audio, ((0, 0), (0, want - audio.shape[1]))).astype(np.float32)


# ---------------------------------------------------------------- sound and checks


def _tone(rng: np.random.Generator, count: int) -> np.ndarray:
    """A soft seeded chord for ``count`` frames, slightly detuned left/right, faded in and out."""
    t = np.arange(count * _SAMPLES_PER_FRAME) / RATE
    root = 110 * 2 ** (int(rng.integers(0, 12)) / 12)
    third = 3 if rng.random() < 0.5 else 4
    swell = 0.75 + 0.25 * np.sin(2 * np.pi * 0.25 * t + rng.random() * 2 * np.pi)
    fade = np.minimum(1, np.minimum(t, t[-1] - t) / 0.03)
    channels = []
    for detune in (0.999, 1.001):
        notes = [root * 2 ** (s / 12) * detune for s in (0, third, 7, 12)]
        channels.append(sum(np.sin(2 * np.pi * f * t) for f in notes) / len(notes))
    return (0.2 * np.stack(channels) * swell * fade).astype(np.float32)


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise MediaError(f"frame size {width}x{height} must be positive and even (H.264 4:2:0)")


def _frame_count(duration: float) -> int:
    count = round(duration * FPS)
    if count < 1:
        raise MediaError(f"duration {duration} s is shorter than one frame at {FPS} fps")
    return count
