"""Grab one frame of a video as a PNG: the first, the last (to seed the next shot) or one at a time.

PNG because a grabbed frame seeds a generation and JPEG would add loss. "last" seeks about one
second before the end of the *video stream* (not the container, whose end may be the audio's) and
decodes to the end, which is 10-20x cheaper than decoding the whole clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
from PIL import Image

from ..errors import MediaError

__all__ = ["frame_image", "grab_frame"]


def grab_frame(video: Path, dest: Path, at: str | float) -> None:
    """Write the frame of ``video`` at ``at`` ("first", "last" or seconds) to ``dest`` as PNG."""
    partial = dest.with_suffix(".partial.png")
    try:
        image = frame_image(video, at)
        dest.parent.mkdir(parents=True, exist_ok=True)
        image.save(partial, format="PNG")
        os.replace(partial, dest)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MediaError(f"cannot grab a frame of {video}: {exc}") from exc


def frame_image(video: Path, at: str | float) -> Image.Image:
    """The frame of ``video`` at ``at`` as an RGB image, for a caller that does not need the
    PNG (thumbnails: encoding and decoding a full-size PNG was most of their time)."""
    try:
        with av.open(str(video)) as container:
            if not container.streams.video:
                raise MediaError(f"{video}: no video stream")
            return _pick(container, container.streams.video[0], video, at).to_image()
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot grab a frame of {video}: {exc}") from exc


def _pick(
    container: av.container.InputContainer, stream: av.VideoStream, video: Path, at: str | float
) -> av.VideoFrame:
    """Route ``at`` to the cheapest way of reaching that frame."""
    if at == "first":
        return _last_until(container, stream, video, 0.0, start=0.0)
    end = _video_end(container, stream)
    if at == "last":
        return _last_until(container, stream, video, end, start=max(0.0, end - 1.0))
    seconds = _seconds(at)
    if not 0 <= seconds <= end:
        raise MediaError(f"{video}: no frame at {seconds:g} s, the clip is {end:.3f} s long")
    return _last_until(container, stream, video, seconds, start=seconds)


def _seconds(at: str | float) -> float:
    try:
        return float(at)
    except (TypeError, ValueError):
        raise MediaError(f'frame position must be "first", "last" or seconds, not {at!r}') from None


def _video_end(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    """The video stream's own length in seconds (the container's may be the audio's)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return (container.duration or 0) / 1_000_000


def _last_until(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    video: Path,
    until: float,
    *,
    start: float,
) -> av.VideoFrame:
    """The last frame shown at or before ``until`` seconds, decoding from a keyframe before
    ``start``; the first frame if none is that early."""
    origin = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    if start > 0 and stream.time_base is not None:
        container.seek(int((origin + start) / stream.time_base), stream=stream, backward=True)
    found: av.VideoFrame | None = None
    for frame in container.decode(stream):
        if found is not None and frame.time is not None and frame.time - origin > until + 1e-6:
            break
        found = frame
    if found is None:
        raise MediaError(f"{video}: no video frame could be decoded")
    return found
