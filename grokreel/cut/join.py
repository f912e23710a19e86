"""Join the film's segments by stream copy, with its sound rebuilt alongside: one ffmpeg run.

The picture goes through the concat demuxer with ``-c:v copy``; the script declares only the video
track (``exact_stream_id``), so the clips' own sound neither shifts the start (AAC priming) nor
ends an entry early at its outpoint. Entry boundaries sit on exact microseconds of the frame grid,
so timestamps never drift. The sound arrives as raw samples on ffmpeg's stdin and is encoded once.
ffmpeg opens one entry at a time: memory does not grow with the number of clips.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MediaError
from ..media.probe import probe
from .encoding import AUDIO_ARGS, AUDIO_RATE, FilmFormat, feed_ffmpeg

__all__ = ["Segment", "join", "verify"]


@dataclass(frozen=True)
class Segment:
    """Frames [first, first + count) of a file whose video is in the film's encoding."""

    path: Path
    stream_id: int
    first: int
    count: int
    frames: int  # the file's length: an outpoint is written only when the segment ends early


def join(
    segments: list[Segment], audio: Iterable[np.ndarray], dest: Path, fmt: FilmFormat, workdir: Path
) -> None:
    """Write ``dest``: the segments' picture copied, ``audio`` (float32 stereo) encoded as AAC."""
    listing = workdir / "film.ffconcat"
    listing.write_text(listing_text(segments, fmt))
    pcm = ["-f", "f32le", "-ar", str(AUDIO_RATE), "-ch_layout", "stereo", "-i", "pipe:0"]
    concat = ["-f", "concat", "-safe", "0", "-auto_convert", "0", "-i", str(listing)]
    feed_ffmpeg(
        [*concat, *pcm, "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *AUDIO_ARGS, str(dest)],
        _interleaved(audio),
        "join the film",
    )


def listing_text(segments: list[Segment], fmt: FilmFormat) -> str:
    """The ffconcat script: the one video track, then each segment's in and out points and exact
    duration."""
    ids = {seg.stream_id for seg in segments}
    if len(ids) != 1:
        raise MediaError(f"the film's segments keep their video in different tracks ({ids})")
    lines, at = ["ffconcat version 1.0", "stream", f"exact_stream_id {ids.pop()}"], 0
    for seg in segments:
        lines.append(f"file {_quote(seg.path)}")
        if seg.first:
            lines.append(f"inpoint {_us(seg.first, fmt.fps) / 1e6:.6f}")
        if seg.first + seg.count < seg.frames:  # between the last frame kept and the next
            lines.append(f"outpoint {(seg.first + seg.count - 0.5) / fmt.fps:.6f}")
        duration = _us(at + seg.count, fmt.fps) - _us(at, fmt.fps)
        lines.append(f"duration {duration / 1e6:.6f}")
        at += seg.count
    return "\n".join(lines) + "\n"


def _us(frame: int, fps: int) -> int:
    """Microseconds to a frame of the grid, rounded once (never accumulated)."""
    return (frame * 1_000_000 + fps // 2) // fps


def _quote(path: Path) -> str:
    return "'" + str(Path(path).resolve()).replace("'", "'\\''") + "'"


def _interleaved(audio: Iterable[np.ndarray]) -> Iterator[bytes]:
    for block in audio:
        yield np.ascontiguousarray(block.T, dtype="<f4").tobytes()


def verify(path: Path, frames: int, fmt: FilmFormat) -> None:
    """Catch a wrong film before it is stored: size, frame count, streams, sound length."""
    info = probe(path)
    problems = []
    if (info.width, info.height) != (fmt.width, fmt.height):
        problems.append(f"size {info.width}×{info.height}, expected {fmt.width}×{fmt.height}")
    if info.num_frames != frames:
        problems.append(f"{info.num_frames} frames, expected {frames}")
    if (info.video_codec, info.pix_fmt, info.audio_codec) != ("h264", "yuv420p", "aac"):
        problems.append(f"streams {info.video_codec}/{info.pix_fmt}/{info.audio_codec}")
    if info.audio_duration is None or abs(info.audio_duration - frames / fmt.fps) > 0.05:
        problems.append(f"audio {info.audio_duration} s against video {frames / fmt.fps:.3f} s")
    if problems:
        raise MediaError(f"the cut came out wrong: {'; '.join(problems)}")
