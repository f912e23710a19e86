"""Media in and out for the animatic: the one H.264/AAC writer, source readers and YUV frames.

Everything that touches PyAV's codecs and libswscale lives here, so the picture format is set in
one place: the stream tags the encoder writes (BT.709, limited range, 24 fps, 48 kHz stereo) sit
next to the RGB-to-YUV conversion and the resizes that must match them. The other animatic modules
only hand this one frames and samples.

One encoder, ``encode``, writes every kind: H.264 (x264 ultrafast, 2 threads) + AAC stereo
48 kHz, 24 fps constant frame rate, atomically, with fixed settings so the same frames always give
a byte-identical file.

A YUV image here is one uint8 array of shape (h * 3 // 2, w): the Y plane followed by the U and
V planes, flattened. That is the layout PyAV's ``yuv420p`` ndarray conversions use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from itertools import chain
from pathlib import Path

import av
import numpy as np
from PIL import Image

from ..errors import GrokreelError, MediaError

__all__ = [
    "FPS",
    "RATE",
    "SAMPLES_PER_FRAME",
    "check_size",
    "crop",
    "encode",
    "even",
    "frame_count",
    "paste",
    "planes",
    "read_audio",
    "scale",
    "source_frames",
    "yuv",
]

FPS = 24
RATE = 48_000
SAMPLES_PER_FRAME = RATE // FPS
_BT709 = 1  # AVCOL_PRI_BT709 == AVCOL_TRC_BT709 == AVCOL_SPC_BT709
_LIMITED = 1  # AVCOL_RANGE_MPEG
_SCALE = av.video.reformatter.Interpolation.BILINEAR
_Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


# ---------------------------------------------------------------- encoder


def encode(
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


#: Keyframes where crossfades of 0.5 s and 1 s end, as the cut's normalized clips have: a cut
#: resumes copying a linked clip right after such a transition (see grokreel/cut/normalize.py).
KEYFRAME_INDEXES = frozenset({FPS // 2, FPS})


def _video_frame(image: np.ndarray, index: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
    frame.pts, frame.time_base = index, Fraction(1, FPS)
    if index in KEYFRAME_INDEXES:
        frame.pict_type = av.video.frame.PictureType.I
    frame.colorspace, frame.color_range = _BT709, _LIMITED
    return frame


def _audio_frame(audio: np.ndarray, index: int) -> av.AudioFrame:
    """The 2000 samples under video frame ``index``; silence past the end of ``audio``."""
    chunk = np.zeros((2, SAMPLES_PER_FRAME), np.float32)
    part = audio[:, index * SAMPLES_PER_FRAME : (index + 1) * SAMPLES_PER_FRAME]
    chunk[:, : part.shape[1]] = part
    frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
    frame.sample_rate, frame.pts = RATE, index * SAMPLES_PER_FRAME
    frame.time_base = Fraction(1, RATE)
    return frame


# ---------------------------------------------------------------- YUV helpers


def planes(image: np.ndarray) -> _Planes:
    """Views of the Y, U and V planes of a flat YUV image (writes go through)."""
    height, width = image.shape[0] * 2 // 3, image.shape[1]
    flat, luma, chroma = image.reshape(-1), width * height, width * height // 4
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma :].reshape(height // 2, width // 2),
    )


def crop(image: np.ndarray, x: int, y: int, width: int, height: int) -> np.ndarray:
    """A new YUV image cut out of ``image`` at even (x, y)."""
    out = np.empty((height * 3 // 2, width), np.uint8)
    for k, (dst, src) in enumerate(zip(planes(out), planes(image), strict=True)):
        s = 1 if k == 0 else 2
        dst[...] = src[y // s : (y + height) // s, x // s : (x + width) // s]
    return out


def paste(image: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Overwrite ``image`` with ``patch`` at even (x, y); opaque, so no per-frame blending."""
    for k, (dst, src) in enumerate(zip(planes(image), planes(patch), strict=True)):
        s = 1 if k == 0 else 2
        dst[y // s : y // s + src.shape[0], x // s : x // s + src.shape[1]] = src


def scale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
    return frame.reformat(width, height, interpolation=_SCALE, threads=1).to_ndarray()


def yuv(picture: Image.Image) -> np.ndarray:
    """Convert once from RGB to BT.709 limited-range YUV 4:2:0 (libswscale, single thread)."""
    frame = av.VideoFrame.from_image(picture.convert("RGB"))
    bt709 = {"dst_colorspace": _BT709, "dst_color_range": _LIMITED}
    return frame.reformat(format="yuv420p", interpolation=_SCALE, threads=1, **bt709).to_ndarray()


def even(value: float, least: int = 2) -> int:
    """Round to an even number (4:2:0 chroma is subsampled 2x2); sizes are at least 2."""
    return max(least, int(round(value / 2)) * 2)


# ---------------------------------------------------------------- sources (edit, extend)


def source_frames(path: Path, count: int, width: int, height: int) -> Iterator[np.ndarray]:
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
    factor = max(width / frame.width, height / frame.height)
    sw, sh = max(width, even(frame.width * factor)), max(height, even(frame.height * factor))
    image = frame.reformat(sw, sh, "yuv420p", interpolation=_SCALE, threads=1).to_ndarray()
    return crop(image, (sw - width) // 4 * 2, (sh - height) // 4 * 2, width, height)


def read_audio(path: Path, count: int) -> np.ndarray:
    """The source's audio as 48 kHz stereo float, cut or padded with silence to ``count`` frames."""
    want, have = count * SAMPLES_PER_FRAME, 0
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


# ---------------------------------------------------------------- checks


def check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise MediaError(f"frame size {width}x{height} must be positive and even (H.264 4:2:0)")


def frame_count(duration: float) -> int:
    count = round(duration * FPS)
    if count < 1:
        raise MediaError(f"duration {duration} s is shorter than one frame at {FPS} fps")
    return count
